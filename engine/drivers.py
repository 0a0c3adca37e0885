"""Which calibrated assumptions drive a headline number ("What drives this?").

One at a time: each assumption of the scenario (`assumption_ranges`) is set to the low and to the
high end of its documented range, the others kept as given, and the run is repeated with the same
seed. Common random numbers make every effect a paired comparison with the run as given, so 200
paths rank well (March 2020: 7 or 8 of the top 8 as with 1,000 paths; close swings may swap).
The measure is the median of the metric for one regime or, with a baseline, the median over paths
of the path-by-path difference regime - baseline.

For a sampled assumption the engine draws it per path from triangular(low, value, high); setting it
to a range end moves the most likely value (the mode) there, as in `engine.sensitivity`, so its
effect is that of re-centring the assumption, smaller than fixing every path at the end.

Cost: two runs per assumption plus one (about 120 for a historical scenario), each with only the
regimes the measure needs (the one measured and the baseline) in one call. The first run is
`simulate` itself, which validates the inputs; the others go through `_Runner`, the same pipeline
as `simulate` minus what does not change between settings: the scenario's daily shock paths (for
a historical episode, read from its history files: about half the cost of a 200-path run) are built
once, and no `Result` is assembled. tests/test_drivers.py checks it against `simulate` number for
number. Every assumption runs at the full path count: at 200 paths the compiled day loop is a small
part of a run's fixed cost, so screening with fewer paths (or Morris-style elementary effects)
would save little and add noise to the ranking.
"""

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from engine.api import simulate
from engine.calm import calm_equilibrium
from engine.draws import draw
from engine.dynamics import run_stress
from engine.errors import InputError
from engine.functioning import breakdown_days, dysfunction_days
from engine.metrics import METRICS, compute_metrics
from engine.regimes import resolve_regime
from engine.run import assumption_ranges, resolve_scenario, with_assumptions
from engine.scenario import Scenario, ShockPaths, shock_paths
from engine.transmission import regime_parameters
from policy import PolicyRegime

# The headline numbers of the comparison page, in its order; any other summary metric works too.
HEADLINE_METRICS: tuple[str, ...] = (
    "peak_10y_yield_change_bp",
    "trough_market_depth_usd_mn",
    "dysfunction_probability_pct",
    "broken_market_probability_pct",
    "forced_sales_usd_bn",
    "fed_purchases_usd_bn",
    "calm_yield_cost_bp",
    "calm_interest_cost_usd_bn_per_year",
)
STATUS_TEXT: dict[str, str] = {
    "V": "verified in its source",
    "V2": "secondary source",
    "U": "unverified placeholder",
}
COLUMNS: tuple[str, ...] = (
    "name", "label", "status", "status_text", "unit", "value", "low", "high",
    "effect_low", "effect_high", "swing", "source", "tuned_to",
)

RegimeLike = str | Path | PolicyRegime


def _measure(
    metrics: Mapping[str, np.ndarray], names: Sequence[str], metric: str, regime: str, baseline: str | None
) -> float:
    """Median of the metric (or of the paired difference regime - baseline) over paths."""
    values = metrics[metric]
    own = values[list(names).index(regime)]
    if baseline is None:
        return float(np.median(own))
    return float(np.median(own - values[list(names).index(baseline)]))


class _Runner:
    """`simulate`'s metrics for many assumption settings of one scenario, regimes and draws.

    Inputs are those of a `simulate` call that already validated them; the day loop, draws and
    everything that depends on the calibration run afresh for each setting, only the shock paths
    (which depend on the scenario alone) are reused.
    """

    def __init__(self, sc: Scenario, regimes: Sequence[PolicyRegime], paths: int, seed: int, shock_scale: float):
        self.sc, self.regimes = sc, list(regimes)
        self.paths, self.seed, self.shock_scale = paths, seed, float(shock_scale)
        self.days = sc.default_days
        self._shocks: dict[str, ShockPaths] = {}

    def metrics(self, assumptions: Mapping[str, float]) -> dict[str, np.ndarray]:
        sc, cal = with_assumptions(self.sc, assumptions)
        key = sc.model_dump_json()  # the fundamental share re-centres the scenario itself
        if key not in self._shocks:
            self._shocks[key] = shock_paths(sc, self.days)
        draws = draw(sc, cal, self.paths, self.days, self.seed)
        rp = regime_parameters(self.regimes, cal, draws, self.days)
        calm = calm_equilibrium(rp, cal, draws)
        stress = run_stress(rp, cal, draws, calm, self._shocks[key], self.shock_scale, self.days)
        return compute_metrics(calm, stress, dysfunction_days(stress.series, cal), breakdown_days(stress.series, cal))


def _regimes(
    regimes: Sequence[RegimeLike], regime: str | None, baseline: RegimeLike | None
) -> tuple[list[PolicyRegime], str, str | None]:
    """The regimes to run (the one measured, then the baseline if any) and their names."""
    chosen = [resolve_regime(r) for r in regimes]
    by_name = {r.name: r for r in chosen}
    base: PolicyRegime | None = None
    if isinstance(baseline, str) and baseline in by_name:
        base = by_name[baseline]
    elif baseline is not None:
        base = resolve_regime(baseline)
    others = [r for r in chosen if base is None or r.name != base.name]
    if regime is None:
        if not others:
            raise InputError("regime: none to measure; give a regime other than the baseline")
        target = others[0]
    elif regime in by_name:
        target = by_name[regime]
    else:
        raise InputError(f"regime: '{regime}' is not among {', '.join(by_name) or 'the regimes given'}")
    if base is not None and target.name == base.name:
        raise InputError(f"baseline: '{base.name}' is the regime measured; a difference needs two regimes")
    run = [target] if base is None else [target, base]
    return run, target.name, None if base is None else base.name


def drivers(
    scenario: str | Path | Scenario,
    regimes: Sequence[RegimeLike],
    metric: str,
    *,
    paths: int = 200,
    seed: int = 0,
    shock_scale: float = 1.0,
    assumptions: Mapping[str, float] | None = None,
    baseline: RegimeLike | None = None,
    top: int | None = None,
    regime: str | None = None,
) -> pd.DataFrame:
    """Each assumption's effect on a headline number at the ends of its range, largest swing first.

    The number is the median of `metric` for `regime` (default: the first of `regimes` that is not
    the baseline) or, with `baseline` (a name among `regimes`, a preset name or a regime), the median
    of the path-by-path difference regime - baseline. Every run uses `seed`, so effects are paired.

    Columns (`COLUMNS`): name, label, status (V / V2 / U), status_text, unit (the assumption's),
    value (the value in use: `assumptions` or the calibrated one), low, high, effect_low and
    effect_high (the number at that end minus the number as given, in the metric's unit; percentage
    points for % metrics), swing (max - min of the number over low end, value and high end, so an
    effect of the same sign at both ends still counts), source, tuned_to. `attrs` holds the metric,
    its unit, the number as given (`base`), the regimes, paths, seed, the number of runs and seconds.
    """
    if metric not in METRICS:
        raise InputError(f"metric: '{metric}' unknown; allowed: {', '.join(METRICS)}")
    if top is not None and not (isinstance(top, int) and top >= 1):
        raise InputError(f"top: {top!r}; allowed: a whole number of at least 1, or None for all")
    started = time.perf_counter()
    sc = resolve_scenario(scenario)
    run_regimes, target, base_name = _regimes(regimes, regime, baseline)
    given = dict(assumptions or {})
    ranges = assumption_ranges(sc)
    names = [r.name for r in run_regimes]
    # The run as given through the public verb: it validates every input once.
    first = simulate(sc, run_regimes, paths=paths, seed=seed, shock_scale=shock_scale, assumptions=given)
    base = _measure(first.metrics, names, metric, target, base_name)
    runner = _Runner(sc, run_regimes, paths, seed, shock_scale)
    runs = 1

    def number(setting: Mapping[str, float]) -> float:
        nonlocal runs
        runs += 1
        return _measure(runner.metrics(setting), names, metric, target, base_name)
    rows = []
    for name, item in ranges.items():
        current = float(given.get(name, item.value))
        # A range end equal to the value in use is the run as given: its effect is exactly zero.
        effect_low = 0.0 if item.low == current else number({**given, name: item.low}) - base
        effect_high = 0.0 if item.high == current else number({**given, name: item.high}) - base
        rows.append(
            {
                "name": name,
                "label": item.label,
                "status": item.status,
                "status_text": STATUS_TEXT[item.status],
                "unit": item.unit,
                "value": current,
                "low": item.low,
                "high": item.high,
                "effect_low": effect_low,
                "effect_high": effect_high,
                "swing": max(effect_low, effect_high, 0.0) - min(effect_low, effect_high, 0.0),
                "source": item.source,
                "tuned_to": item.tuned_to or "",
            }
        )
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame = frame.sort_values(["swing", "name"], ascending=[False, True], kind="stable").reset_index(drop=True)
    if top is not None:
        frame = frame.head(top)
    spec = METRICS[metric]
    frame.attrs.update(
        {
            "metric": metric,
            "metric_label": spec.label,
            "metric_unit": spec.unit,
            "effect_unit": "pp" if spec.unit == "%" else spec.unit,
            "base": base,
            "regime": target,
            "baseline": base_name,
            "scenario": sc.name,
            "paths": paths,
            "seed": seed,
            "shock_scale": float(shock_scale),
            "runs": runs,
            "assumptions": len(ranges),
            "seconds": time.perf_counter() - started,
        }
    )
    return frame
