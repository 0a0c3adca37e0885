"""The Python API: a few verbs that return frames (like pyfrbus, with tests).

    from engine import simulate
    result = simulate("march_2020", ["as_of_march_2020", "clearing_rule"], paths=1000, seed=0)
    result.summary_frame(); result.series_frame(); result.holdings_frame()
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, overload

from engine.calm import calm_equilibrium
from engine.draws import draw
from engine.dynamics import Backend, run_stress, run_stress_summary
from engine.functioning import breakdown_days, dysfunction_days
from engine.metrics import compute_metrics, summary_metrics
from engine.result import Result, SummaryResult
from engine.run import Run, assumption_ranges, build_run
from engine.scenario import Scenario, shock_paths
from engine.transmission import regime_parameters
from engine.version import MODEL_VERSION
from policy import PolicyRegime
from policy.run_settings import RunMode


def assumption_bounds(scenario: str | Scenario) -> dict[str, tuple[float, float, str]]:
    """{name: (low, high, unit)} of the re-centrable assumptions, the form URL decoding checks."""
    return {name: (v.low, v.high, v.unit) for name, v in assumption_ranges(scenario).items()}


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
    run = build_run(scenario, regimes, paths=paths, seed=seed, shock_scale=shock_scale, days=days,
                    assumptions=assumptions, fundamental_mode=fundamental_mode, kernel=kernel,
                    histories=histories, mode=mode)
    return execute(run)


def execute(run: Run) -> Result | SummaryResult:
    """Run a validated `Run` (`engine.run.build_run`): what `simulate` does after checking its inputs."""
    s = run.settings
    paths, days, seed, shock_scale, histories, kernel = s.paths, s.days, s.seed, s.shock_scale, s.histories, run.kernel
    chosen = list(run.regimes)
    sc, cal = run.calibrated()
    draws = draw(sc, cal, paths, days, seed)
    shocks = shock_paths(sc, days)
    rp = regime_parameters(chosen, cal, draws, days)
    calm = calm_equilibrium(rp, cal, draws)
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
