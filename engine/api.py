"""The Python API: a few verbs that return frames (like pyfrbus, with tests).

    from engine import simulate
    result = simulate("march_2020", ["as_of_march_2020", "clearing_rule"], paths=1000, seed=0)
    result.summary_frame(); result.series_frame(); result.holdings_frame()
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, overload

import numpy as np

from engine.calibration import CalibratedValue, Calibration, load_calibration
from engine.calm import calm_equilibrium
from engine.draws import draw
from engine.dynamics import Backend, run_stress, run_stress_summary
from engine.errors import InputError
from engine.functioning import breakdown_days, dysfunction_days
from engine.memory import memory_message
from engine.metrics import compute_metrics, summary_metrics
from engine.regimes import resolve_regime
from engine.result import Result, SummaryResult
from engine.scenario import Scenario, load_scenario, shock_paths, with_fundamental_mode
from engine.transmission import regime_parameters
from engine.version import MODEL_VERSION
from policy import PolicyRegime
from policy.run_settings import MEMORY_BUDGET_MB, RunMode, RunSettings, run_settings

FUNDAMENTAL_SHARE = "fundamental_share"


def resolve_scenario(scenario: str | Path | Scenario) -> Scenario:
    """A Scenario object from a bundled name or a TOML path."""
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def assumption_ranges(scenario: str | Scenario) -> dict[str, CalibratedValue]:
    """Uncertain values a user may re-centre (the assumptions panel): name -> calibrated value."""
    sc = resolve_scenario(scenario)
    cal = load_calibration(sc.era)
    ranges = {v.name: v for v in cal.values.values() if v.low < v.high}
    if sc.fundamental.mode == "observed_share":
        f = sc.fundamental
        ranges[FUNDAMENTAL_SHARE] = CalibratedValue(
            name=FUNDAMENTAL_SHARE, value=f.share, low=f.share_low, high=f.share_high,
            unit="share of the observed 10y move", source=f.source, status="U", sampled=True,
            description="Part of the observed 10y move due to news rather than market structure",
            layer="scenario",
        )
    return ranges


def assumption_bounds(scenario: str | Scenario) -> dict[str, tuple[float, float, str]]:
    """{name: (low, high, unit)} of the re-centrable assumptions, the form URL decoding checks."""
    return {name: (v.low, v.high, v.unit) for name, v in assumption_ranges(scenario).items()}


def _apply_assumptions(sc: Scenario, cal: Calibration, assumptions: Mapping[str, float]) -> tuple[Scenario, Calibration]:
    ranges = assumption_ranges(sc)
    values = dict(cal.values)
    for name, value in assumptions.items():
        if name not in ranges:
            raise InputError(f"assumptions.{name}: unknown; allowed: {', '.join(sorted(ranges))}")
        item = ranges[name]
        if not (np.isfinite(value) and item.low <= value <= item.high):
            raise InputError(f"assumptions.{name}: {value} outside the allowed range {item.low:g} to {item.high:g} ({item.unit})")
        if name == FUNDAMENTAL_SHARE:
            fundamental = sc.fundamental.model_copy(update={"share": float(value)})
            sc = sc.model_copy(update={"fundamental": fundamental})
        else:
            values[name] = item.model_copy(update={"value": float(value)})
    return sc, cal.model_copy(update={"values": values})


def _checked_settings(mode: object, paths: object, days: object, seed: object, shock_scale: object, regimes: int,
                      histories: object, assumptions: object = None, fundamental_mode: object = None) -> RunSettings:
    """The run's settings validated by the one spec, and its memory estimate checked against the budget."""
    if mode not in MEMORY_BUDGET_MB:
        raise InputError(f"mode: {mode!r}; allowed: batch or interactive")
    if not isinstance(histories, bool):
        raise InputError(f"histories: {histories!r}; allowed: True or False")
    try:
        settings = run_settings(mode=mode, paths=paths, days=days, seed=seed, shock_scale=shock_scale,
                                regimes=regimes, histories=histories, assumptions=assumptions or {},
                                fundamental_mode=fundamental_mode)
    except ValueError as err:
        raise InputError(str(err)) from None
    too_big = memory_message(settings.regimes, settings.paths, settings.days, histories=settings.histories,
                             budget_mb=MEMORY_BUDGET_MB[settings.mode], mode=settings.mode)
    if too_big:
        raise InputError(too_big)
    return settings


@overload
def simulate(
    scenario: str | Path | Scenario,
    regimes: Sequence[str | Path | PolicyRegime] | None = None,
    *,
    paths: int = 1000,
    seed: int = 0,
    shock_scale: float = 1.0,
    days: int | None = None,
    assumptions: Mapping[str, float] | None = None,
    fundamental_mode: str | None = None,
    kernel: Backend = "compiled",
    histories: Literal[True] = True,
    mode: RunMode = "batch",
) -> Result: ...


@overload
def simulate(
    scenario: str | Path | Scenario,
    regimes: Sequence[str | Path | PolicyRegime] | None = None,
    *,
    paths: int = 1000,
    seed: int = 0,
    shock_scale: float = 1.0,
    days: int | None = None,
    assumptions: Mapping[str, float] | None = None,
    fundamental_mode: str | None = None,
    kernel: Backend = "compiled",
    histories: Literal[False],
    mode: RunMode = "batch",
) -> SummaryResult: ...


def simulate(
    scenario: str | Path | Scenario,
    regimes: Sequence[str | Path | PolicyRegime] | None = None,
    *,
    paths: int = 1000,
    seed: int = 0,
    shock_scale: float = 1.0,
    days: int | None = None,
    assumptions: Mapping[str, float] | None = None,
    fundamental_mode: str | None = None,
    kernel: Backend = "compiled",
    histories: bool = True,
    mode: RunMode = "batch",
) -> Result | SummaryResult:
    """Run a scenario under one or more regimes and return the `Result` the CLI prints.

    Without regimes, a historical scenario runs under its as-it-happened regime and a
    forward-looking one under `status_quo`. Every regime sees the same random draws (seeded),
    so results are reproducible and paired across regimes. `assumptions` re-centres uncertain
    calibrated values (see `assumption_ranges`) within their ranges. `fundamental_mode` builds a
    historical scenario's fundamental path another way (`observed_share` or `proxy_beta`, see
    `engine.scenario.Fundamental`); None keeps the scenario file's own `fundamental.mode`.
    `kernel` runs the day loop compiled (numba, the default) or as the numpy reference of
    `engine/channels/`; both give the same numbers to about 1e-11 (tests/test_kernel.py).
    `histories=False` returns a `SummaryResult`: the same metrics, summary, probabilities and
    paired differences, from running peaks, troughs and sums kept inside the kernel, with no daily
    (regime, path, day) arrays (for sweeps and policy maps: less memory, less time).
    `mode` picks the limits of `policy.run_settings` (batch: up to 100,000 paths; interactive, the
    app's: up to 10,000 paths and 4 regimes); a run whose estimated memory exceeds the mode's
    budget is refused before it starts (InputError naming what fits).
    """
    sc = with_fundamental_mode(resolve_scenario(scenario), fundamental_mode)
    chosen = [resolve_regime(r) for r in (regimes or [sc.regime])]
    names = [r.name for r in chosen]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputError(f"regime: name '{duplicates[0]}' appears twice; each regime in a run needs its own name")
    settings = _checked_settings(mode, paths, sc.default_days if days is None else days, seed, shock_scale,
                                 len(chosen), histories, assumptions, fundamental_mode)
    paths, days, seed, shock_scale = settings.paths, settings.days, settings.seed, settings.shock_scale
    cal = load_calibration(sc.era)
    if assumptions:
        sc, cal = _apply_assumptions(sc, cal, assumptions)
    draws = draw(sc, cal, paths, days, seed)
    shocks = shock_paths(sc, days)
    rp = regime_parameters(chosen, cal, draws, days)
    calm = calm_equilibrium(rp, cal, draws)
    if kernel not in ("compiled", "numpy"):
        raise InputError(f"kernel: {kernel!r}; allowed: compiled or numpy")
    if not histories and kernel == "compiled":
        summary = run_stress_summary(rp, cal, draws, calm, shocks, float(shock_scale), days)
        return SummaryResult(
            model_version=MODEL_VERSION,
            scenario=sc,
            regimes=tuple(chosen),
            seed=seed,
            paths=paths,
            days=days,
            shock_scale=float(shock_scale),
            dates=shocks.dates,
            metrics=summary_metrics(calm, summary),
            sales_by_book_usd_bn=summary.sales_by_book_usd_bn,
            dysfunctional=summary.dysfunction_days > 0,
            broken=summary.broken,
        )
    stress = run_stress(rp, cal, draws, calm, shocks, float(shock_scale), days, backend=kernel)
    dysfunction = dysfunction_days(stress.series, cal)
    breakdown = breakdown_days(stress.series, cal)
    result = Result(
        model_version=MODEL_VERSION,
        scenario=sc,
        regimes=tuple(chosen),
        seed=seed,
        paths=paths,
        days=days,
        shock_scale=float(shock_scale),
        dates=shocks.dates,
        metrics=compute_metrics(calm, stress, dysfunction, breakdown),
        series=stress.series,
        sales_by_book_usd_bn=stress.sales_by_book_usd_bn,
        net_purchases_usd_bn=stress.net_purchases_usd_bn,
        dysfunction=dysfunction,
        breakdown=breakdown,
    )
    # The numpy reference keeps its histories; a summary of it is the same numbers, without them.
    return result if histories else SummaryResult.from_result(result)
