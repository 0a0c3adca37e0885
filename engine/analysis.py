"""Policy analyses on top of `engine.simulate`, each returning a tidy pandas frame (or a dict of them).

    frontier(points)                         Pareto-efficient regimes: calm cost against a stress outcome
    tornado(scenario, regime, metric)        one-at-a-time swings of every lever and uncertain assumption
    attribution(scenario, regime, baseline)  exact Shapley split of a regime's difference over its channels
    amplification(scenario, regime)          the shock itself vs market-structure amplification (a waterfall)
    robustness(scenario, a, b, metric)       does "A beats B" hold across paths and the assumption space?
    expected_cost(result, ...)               dysfunction and breakdown risk per year against the calm cost
    stress_test_grid(regime)                 one regime and the baseline across every shipped scenario

Every comparison is paired: regimes of one `simulate` call see the same draws, and a regime's result
does not depend on the others in the call, so a difference is taken path by path. Runs with other
`assumptions` keep the same seed; only the re-centred values' own draws move (triangular draws use
one uniform per path whatever the mode), so those differences are paired too.

Probability-type outcomes (`dysfunction_probability_pct`, `broken_market_probability_pct`, the
exceedances) are analysed on each path's indicator (0 or 100): their centre is the mean (the
difference of shares), not the median, which of a 0/100 variable says little. Pure: no UI.
"""

import itertools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from engine.api import simulate
from engine.errors import InputError
from engine.metrics import EXCEEDANCES, METRICS, PROBABILITY_METRICS
from engine.regimes import resolve_regime
from engine.result import Result
from engine.run import assumption_ranges, resolve_scenario
from engine.scenario import Scenario, scenario_names
from engine.study import ONE_AT_A_TIME, Study, one_at_a_time_plan
from policy import PolicyRegime, lever_specs, regime_value, with_changes
from policy.run_settings import BatchPaths, Seed

__all__ = [
    "DEFAULT_CHANNELS",
    "HEADLINE_METRICS",
    "amplification",
    "attribution",
    "expected_cost",
    "frontier",
    "latin_hypercube",
    "per_path",
    "robustness",
    "shapley_values",
    "stress_test_grid",
    "tornado",
]

RegimeLike = str | Path | PolicyRegime
ScenarioLike = str | Path | Scenario

STRESS_OUTCOME = "peak_10y_yield_change_bp"
CALM_COST = "calm_yield_cost_bp"
# The headline numbers of the stress-test grid (MODEL.md section 5, plus the two probabilities).
HEADLINE_METRICS: tuple[str, ...] = (
    "peak_10y_yield_change_bp",
    "trough_market_depth_usd_mn",
    "forced_sales_usd_bn",
    "peak_dealer_utilization_pct",
    "dysfunction_probability_pct",
    "broken_market_probability_pct",
    "calm_interest_cost_usd_bn_per_year",
)
# Outcomes where a larger number is the better one (used when a caller does not say).
HIGHER_IS_BETTER: frozenset[str] = frozenset({"trough_market_depth_usd_mn", "min_swap_spread_30y_bp"})

# Attribution channels: a name and the regime parts (a whole group, or a lever's dot path) it covers.
# A whole group is copied with everything in it, including non-lever data such as a historical Fed
# purchase schedule, so "Fed backstop" moves the schedule together with the rule.
DEFAULT_CHANNELS: dict[str, tuple[str, ...]] = {
    "clearing rule": ("clearing",),
    "dealer rule": ("dealer_rule",),
    "leverage cap": ("leverage_cap",),
    "SLR relief": ("leverage_ratio_relief",),
    "standing repo": ("standing_repo",),
    "Fed backstop": ("fed_backstop",),
    "futures margin": ("futures_margin",),
    "foreign demand": ("foreign_demand",),
}
# 2^6 = 64 coalitions in one run stays fast (0.3 s at 500 paths on march_2020); 2^8 would be 256 regimes.
MAX_CHANNELS = 6
MAX_CORNER_ASSUMPTIONS = 4


class _Run(BaseModel):
    """The run settings every analysis takes, validated as the engine's (paths and seed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    paths: BatchPaths
    seed: Seed


def _run_settings(paths: int, seed: int) -> _Run:
    try:
        return _Run(paths=paths, seed=seed)
    except ValueError as err:
        raise InputError(f"run settings: {err}") from None


# ---------------------------------------------------------------- per-path helpers


def _is_probability(metric: str) -> bool:
    return metric in PROBABILITY_METRICS or metric in EXCEEDANCES


def _check_metric(metric: str) -> None:
    if metric not in METRICS and metric not in EXCEEDANCES:
        allowed = ", ".join([*METRICS, *EXCEEDANCES])
        raise InputError(f"metric: {metric!r} unknown; allowed: {allowed}")


def per_path(result: Result, metric: str, regime: int | str) -> np.ndarray:
    """(P,) the metric of one regime on every path; 0/100 indicators for probability-type outcomes."""
    i = result.regime_index(regime) if isinstance(regime, str) else regime
    if _is_probability(metric):
        return 100.0 * result.indicator(metric)[i].astype(float)
    return np.asarray(result.metrics[metric][i], dtype=float)


def _centre(values: np.ndarray, metric: str) -> float:
    """The summary of a per-path array: the mean for probability indicators, else the median."""
    return float(values.mean() if _is_probability(metric) else np.median(values))


def _bands(values: np.ndarray, prefix: str = "") -> dict[str, float]:
    p5, p50, p95 = np.percentile(values, (5.0, 50.0, 95.0))
    return {f"{prefix}p5": float(p5), f"{prefix}p50": float(p50), f"{prefix}p95": float(p95), f"{prefix}mean": float(values.mean())}


def _named(regime: PolicyRegime, name: str) -> PolicyRegime:
    return regime.model_copy(update={"name": name})


# ---------------------------------------------------------------- 1. frontier


def frontier(
    points: pd.DataFrame,
    cost: str = CALM_COST,
    outcome: str = STRESS_OUTCOME,
    *,
    stat: str = "p50",
    outcome_lower_is_better: bool | None = None,
) -> pd.DataFrame:
    """Mark the Pareto-efficient regimes: lower calm cost and a better stress outcome are preferred.

    `points` is either wide (one row per regime, a `regime` column and one column per metric, e.g.
    `calm_yield_cost_bp` and `peak_10y_yield_change_bp` holding each regime's median) or long, the
    sweep's format (`engine.sweep.run_study`: columns `regime`, `metric` and the statistic's column,
    one row per regime and metric, of one scenario; `stat` names that column, `p50` by default).
    `outcome_lower_is_better` defaults by metric (trough depth and the lowest swap spread are better
    high).

    Returns regime, cost, outcome, `efficient` and `dominated_by` (one regime that is at least as
    good on both and strictly better on one; missing (None/NA) if efficient), sorted by cost. Ties:
    regimes with equal cost and outcome do not dominate each other, so all of them are efficient if
    one is.
    """
    if "regime" not in points.columns:
        raise InputError("frontier: points need a 'regime' column")
    if "metric" in points.columns:
        if stat not in points.columns:
            raise InputError(f"frontier: a long frame needs a {stat!r} column (columns regime, metric, {stat})")
        if "scenario" in points.columns and points["scenario"].nunique() > 1:
            raise InputError("frontier: the points cover several scenarios; pass one scenario's rows")
        if points.duplicated(["regime", "metric"]).any():
            raise InputError("frontier: a regime has two rows for one metric (one point per regime, please)")
        wide = points.pivot(index="regime", columns="metric", values=stat).reset_index()
    else:
        wide = points
    missing = [c for c in (cost, outcome) if c not in wide.columns]
    if missing:
        raise InputError(f"frontier: no column {missing[0]!r}; columns: {', '.join(map(str, wide.columns))}")
    if wide["regime"].duplicated().any():
        raise InputError("frontier: each regime needs exactly one row")
    lower = outcome not in HIGHER_IS_BETTER if outcome_lower_is_better is None else outcome_lower_is_better
    c = wide[cost].to_numpy(dtype=float)
    o = wide[outcome].to_numpy(dtype=float)
    if not (np.isfinite(c).all() and np.isfinite(o).all()):
        raise InputError("frontier: cost and outcome must be finite numbers")
    bad = o if lower else -o  # "badness": lower is better on both axes from here on
    # j dominates i: no worse on both and strictly better on one (an n x n comparison; n is small).
    weak = (c[None, :] <= c[:, None]) & (bad[None, :] <= bad[:, None])
    strict = (c[None, :] < c[:, None]) | (bad[None, :] < bad[:, None])
    dominates = weak & strict  # [i, j]: j dominates i
    names = wide["regime"].astype(str).to_numpy()
    dominated_by = [str(names[np.flatnonzero(row)[0]]) if row.any() else None for row in dominates]
    out = pd.DataFrame(
        {
            "regime": names,
            cost: c,
            outcome: o,
            "efficient": ~dominates.any(axis=1),
            "dominated_by": dominated_by,
        }
    )
    return out.sort_values([cost, outcome], ascending=[True, lower], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- 2. tornado


def _lever_settings(spec: Any) -> list[Any]:
    if spec.type == "bool":
        return [False, True]
    if spec.type == "choice":
        return list(spec.choices)
    value = spec.min, spec.max
    return [int(v) for v in value] if spec.type == "int" else [float(v) for v in value]


TORNADO_COLUMNS = ["metric", "kind", "name", "label", "base_setting", "low_setting", "high_setting",
                   "low_effect", "high_effect", "swing", "rank", "note"]


def rank_by_swing(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by swing, largest first (ties keep their order), ranked 1, 2, ... (one ranking rule)."""
    out = frame.sort_values("swing", ascending=False, kind="stable", na_position="last").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def _tornado_table(rows: list[dict[str, Any]], metric: str) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    out["swing"] = (out["high_effect"] - out["low_effect"]).abs()
    out = rank_by_swing(out)
    out.insert(0, "metric", metric)
    return out[TORNADO_COLUMNS]


def tornado(
    scenario: ScenarioLike,
    base_regime: RegimeLike,
    metric: str,
    *,
    levers: Sequence[str] | None = None,
    assumptions: Sequence[str] | None = None,
    paths: int = 500,
    seed: int = 0,
) -> pd.DataFrame:
    """One-at-a-time effects on the metric's centre (median; mean of indicators for probabilities).

    Each lever (`policy.lever_specs()`, or the dot paths in `levers`) is set to its minimum and its
    maximum (off/on for switches; every choice for a choice lever, of which the lowest- and highest-
    effect ones are kept), the others at the base regime. All lever settings run in ONE simulate call
    with the base, so each effect is the centre of the path-by-path difference to the base.

    Sub-settings of a rule that is off in the base (e.g. `clearing.*` when `clearing.enabled` is
    false) are evaluated with their rule switched on at both ends, with a note: a sub-setting of an
    off rule does nothing, and its swing within the rule is what a reader asks. Their effects are
    then measured against the base (so they include switching the rule on); the swing (high - low)
    is the sub-setting's own.

    Each assumption of `engine.assumption_ranges(scenario)` (or those named in `assumptions`; pass
    [] for none) is set to its low and high end, one run each, same seed. For a sampled assumption
    this re-centres the mode of its triangular draw (as the assumptions panel does), so its swing is
    smaller than moving the value itself.

    Returns kind (lever/assumption), name, label, base_setting, low_setting, high_setting, low_effect,
    high_effect, swing = |high_effect - low_effect|, rank (1 = largest swing), note; sorted by swing.
    """
    _check_metric(metric)
    run = _run_settings(paths, seed)
    sc = resolve_scenario(scenario)
    base = _named(resolve_regime(base_regime), "base")
    specs = {s.path: s for s in lever_specs()}
    chosen = list(specs) if levers is None else list(levers)
    unknown = [p for p in chosen if p not in specs]
    if unknown:
        raise InputError(f"levers: {unknown[0]!r} unknown; allowed: {', '.join(specs)}")

    regimes: list[PolicyRegime] = [base]
    plan: list[tuple[str, list[tuple[Any, int]], str]] = []  # lever path, [(setting, regime index)], note
    for path in chosen:
        spec = specs[path]
        group = spec.group
        extra: dict[str, Any] = {}
        note = ""
        switch = f"{group}.enabled"
        if spec.field != "enabled" and switch in specs and not regime_value(base, switch):
            extra = {switch: True}
            note = f"evaluated with {switch} on (off in the base regime)"
        entries = []
        for setting in _lever_settings(spec):
            try:
                regime = with_changes(base, {**extra, path: setting}, name=f"t{len(regimes)}")
            except ValueError as err:
                note = f"skipped: {err}"
                entries = []
                break
            entries.append((setting, len(regimes)))
            regimes.append(regime)
        plan.append((path, entries, note))

    result = simulate(sc, regimes, paths=run.paths, seed=run.seed)
    base_values = per_path(result, metric, 0)
    rows: list[dict[str, Any]] = []
    for path, entries, note in plan:
        effects = [(s, _centre(per_path(result, metric, i) - base_values, metric)) for s, i in entries]
        row: dict[str, Any] = {"kind": "lever", "name": path, "label": specs[path].label,
                               "base_setting": regime_value(base, path), "note": note}
        if effects:
            if specs[path].type == "choice":
                low = min(effects, key=lambda e: e[1])
                high = max(effects, key=lambda e: e[1])
            else:
                low, high = effects[0], effects[-1]
            row |= {"low_setting": low[0], "high_setting": high[0], "low_effect": low[1], "high_effect": high[1]}
        else:
            row |= {"low_setting": None, "high_setting": None, "low_effect": math.nan, "high_effect": math.nan}
        rows.append(row)

    ranges = assumption_ranges(sc)
    names = list(ranges) if assumptions is None else list(assumptions)
    unknown = [n for n in names if n not in ranges]
    if unknown:
        raise InputError(f"assumptions: {unknown[0]!r} unknown; allowed: {', '.join(sorted(ranges))}")
    for name in names:
        item = ranges[name]
        effects = []
        for value in (item.low, item.high):
            moved = simulate(sc, [base], paths=run.paths, seed=run.seed, assumptions={name: value})
            effects.append(_centre(per_path(moved, metric, 0) - base_values, metric))
        rows.append(
            {
                "kind": "assumption", "name": name, "label": item.label, "base_setting": item.value,
                "low_setting": item.low, "high_setting": item.high, "low_effect": effects[0], "high_effect": effects[1],
                "note": f"status {item.status}" + ("; sampled: the end re-centres the mode of its draw" if item.sampled else ""),
            }
        )
    return _tornado_table(rows, metric)


def tornado_from_sweep(frame: pd.DataFrame, study: Study, metric: str, *, scenario: str | None = None) -> pd.DataFrame:
    """The `tornado` table from a one-at-a-time study's sweep frame (`engine.sweep.run_study`).

    Each factor's effects are the diff_p50 of its low and high points: the median of the path-by-path
    difference to the base point (for probabilities the difference of shares), the centre `tornado`
    takes, on the same seed and paths. So for the same levers, ranges, seed and paths the effects are
    `tornado`'s (tests/test_study.py), with two differences in what is run, both noted in `note`:
    - a sub-setting of a rule that is off in the base regime is swept as given (it then does nothing),
      where `tornado` switches the rule on at both ends: give a base with the rule on (all_guardrails)
      or the rule's switch as a factor;
    - a lever end is snapped to the lever's step (a study's points are), `tornado` takes the bounds as
      they are (the same values for every lever of `policy.lever_specs()` today).
    For a choice lever the lowest- and highest-effect options are kept, as in `tornado`.
    """
    if study.design != ONE_AT_A_TIME:
        raise InputError(f"study: design {study.design!r}; allowed: one_at_a_time (a tornado)")
    if metric not in study.metrics:
        raise InputError(f"metric: {metric!r} is not a metric of the study; allowed: {', '.join(study.metrics)}")
    names = list(dict.fromkeys(frame["scenario"]))
    chosen = scenario if scenario is not None else (names[0] if len(names) == 1 else None)
    if chosen not in names:
        raise InputError(f"scenario: {scenario!r}; allowed: one of {', '.join(names)}")
    rows_of = frame[(frame["scenario"] == chosen) & (frame["metric"] == metric)].set_index("point")
    effect_of = rows_of["diff_p50"].to_dict()
    base = resolve_regime(study.base)
    specs = {s.path: s for s in lever_specs()}
    ranges = assumption_ranges(resolve_scenario(chosen))
    settings: dict[str, list[tuple[Any, float]]] = {}
    for name, setting, point in one_at_a_time_plan(study):
        settings.setdefault(name, []).append((setting, float(effect_of[point])))
    rows: list[dict[str, Any]] = []
    for factor in study.factors:
        effects = settings[factor.name]
        spec = specs.get(factor.name)
        if spec is None:
            item = ranges[factor.name]
            note = f"status {item.status}" + ("; sampled: the end re-centres the mode of its draw" if item.sampled else "")
            row = {"kind": "assumption", "name": factor.name, "label": item.label, "base_setting": item.value, "note": note}
        else:
            switch = f"{spec.group}.enabled"
            off = spec.field != "enabled" and switch in specs and not regime_value(base, switch)
            note = f"{switch} is off in the base regime: this setting does nothing here" if off else ""
            row = {"kind": "lever", "name": factor.name, "label": spec.label,
                   "base_setting": regime_value(base, factor.name), "note": note}
        if spec is not None and spec.type == "choice":
            low, high = min(effects, key=lambda e: e[1]), max(effects, key=lambda e: e[1])
        else:
            low, high = effects[0], effects[-1]
        row |= {"low_setting": low[0], "high_setting": high[0], "low_effect": low[1], "high_effect": high[1]}
        rows.append(row)
    return _tornado_table(rows, metric)


# ---------------------------------------------------------------- 3. attribution (Shapley)


def shapley_values(values: np.ndarray) -> np.ndarray:
    """Exact Shapley values (k, P) from coalition values (2^k, P); row `mask` = the coalition whose
    bit i is set when channel i is in it. Per path they sum to values[-1] - values[0] exactly (up to
    rounding): every marginal contribution is a paired per-path difference."""
    n = values.shape[0]
    k = n.bit_length() - 1
    if n != 1 << k:
        raise ValueError(f"shapley_values: {n} coalitions is not a power of two")
    out = np.zeros((k, *values.shape[1:]))
    weights = [math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)]
    for i in range(k):
        bit = 1 << i
        for mask in range(n):
            if not mask & bit:
                out[i] += weights[mask.bit_count()] * (values[mask | bit] - values[mask])
    return out


def _parts_differ(regime: PolicyRegime, baseline: PolicyRegime, parts: Sequence[str]) -> list[str]:
    """The lever paths (or whole groups with non-lever data) of `parts` where the two regimes differ."""
    a, b = regime.model_dump(), baseline.model_dump()
    differ = []
    for part in parts:
        group, _, field = part.partition(".")
        if field:
            if a[group][field] != b[group][field]:
                differ.append(part)
        else:
            differ.extend(f"{group}.{f}" for f in a[group] if a[group][f] != b[group][f])
    return differ


def _coalition(regime: PolicyRegime, baseline: PolicyRegime, parts: Sequence[str], name: str) -> PolicyRegime:
    """The baseline with `parts` (groups or dot paths) copied from the regime: a validated new copy."""
    data, source = baseline.model_dump(), regime.model_dump()
    for part in parts:
        group, _, field = part.partition(".")
        if field:
            data[group][field] = source[group][field]
        else:
            data[group] = source[group]
    data["name"] = name
    try:
        return PolicyRegime.model_validate(data)
    except ValueError as err:
        raise InputError(f"attribution: coalition {name} is not a valid regime: {err}") from None


def attribution(
    scenario: ScenarioLike,
    regime: RegimeLike,
    baseline: RegimeLike,
    *,
    channels: Mapping[str, Sequence[str]] | None = None,
    metric: str = STRESS_OUTCOME,
    paths: int = 500,
    seed: int = 0,
) -> pd.DataFrame:
    """How much of the regime's difference from the baseline comes from each channel (exact Shapley).

    A channel is a named set of regime parts: whole groups (`"clearing"`) or lever dot paths
    (`"clearing.enabled"`); default `DEFAULT_CHANNELS`, one per policy group. Only channels where the
    two regimes differ take part; differing parts no channel covers form an `other` channel. At most
    `MAX_CHANNELS` (6) may differ: with more, this refuses (InputError) rather than merge silently;
    pass `channels` that group them. Channels may overlap (they then share what they both switch).

    All 2^k coalitions (the baseline with a subset of channels switched to the regime's settings) run
    in ONE simulate call, so every marginal contribution is a paired per-path difference. Shapley
    value of channel i on each path = sum over coalitions S without i of |S|!(k-|S|-1)!/k! x
    (v(S+i) - v(S)); per path the values sum to the total difference v(all) - v(none) exactly.

    Returns one row per channel (component, kind "channel", parts switched), then "interaction"
    (total minus the sum of one-at-a-time effects) and "total": shapley_p5/p50/p95/mean of the
    per-path values, alone_p5/p50/p95/mean of the one-at-a-time effect (baseline plus that channel
    only). `attrs["efficiency_max_abs_error"]` is the largest per-path |sum of Shapley - total|.
    """
    _check_metric(metric)
    run = _run_settings(paths, seed)
    sc = resolve_scenario(scenario)
    reg, base = resolve_regime(regime), resolve_regime(baseline)
    spec = dict(DEFAULT_CHANNELS if channels is None else channels)
    groups = set(PolicyRegime.model_fields) - {"name", "description"}
    for name, parts in spec.items():
        if not parts:
            raise InputError(f"channels.{name}: empty; name regime groups or lever dot paths")
        for part in parts:
            group, _, field = part.partition(".")
            if group not in groups or (field and field not in type(getattr(base, group)).model_fields):
                raise InputError(f"channels.{name}: {part!r} is not a regime group or lever path")
    active = {name: list(parts) for name, parts in spec.items() if _parts_differ(reg, base, parts)}
    covered = {p for parts in active.values() for p in _parts_differ(reg, base, parts)}
    uncovered = [p for p in _parts_differ(reg, base, sorted(groups)) if p not in covered]
    if uncovered:
        active["other"] = uncovered
    if len(active) > MAX_CHANNELS:
        raise InputError(
            f"attribution: {len(active)} channels differ ({', '.join(active)}); at most {MAX_CHANNELS} "
            "(2^k coalitions run at once): pass channels= that group them"
        )
    names = list(active)
    k = len(names)
    coalitions = [
        _coalition(reg, base, [p for i, n in enumerate(names) if mask >> i & 1 for p in active[n]], f"coalition_{mask}")
        for mask in range(1 << k)
    ]
    result = simulate(sc, coalitions, paths=run.paths, seed=run.seed)
    values = np.stack([per_path(result, metric, m) for m in range(1 << k)])
    total = values[-1] - values[0]
    phi = shapley_values(values)
    alone = np.stack([values[1 << i] - values[0] for i in range(k)]) if k else np.zeros((0, run.paths))
    interaction = total - alone.sum(axis=0)
    rows = []
    for i, name in enumerate(names):
        switched = ", ".join(_parts_differ(reg, base, active[name]))
        rows.append({"component": name, "kind": "channel", "parts": switched}
                    | _bands(phi[i], "shapley_") | _bands(alone[i], "alone_"))
    rows.append({"component": "interaction", "kind": "interaction", "parts": "total - sum of one-at-a-time"}
                | _bands(interaction, "shapley_") | _bands(interaction, "alone_"))
    rows.append({"component": "total", "kind": "total", "parts": "regime - baseline"}
                | _bands(total, "shapley_") | _bands(total, "alone_"))
    out = pd.DataFrame(rows)
    out.insert(0, "metric", metric)
    out.insert(1, "regime", reg.name)
    out.insert(2, "baseline", base.name)
    out.attrs["efficiency_max_abs_error"] = float(np.abs(phi.sum(axis=0) - total).max()) if k else 0.0
    out.attrs["per_path_shapley"] = {name: phi[i] for i, name in enumerate(names)}
    out.attrs["per_path_total"] = total
    return out


# ---------------------------------------------------------------- 4. amplification


AMPLIFICATION_METRICS: tuple[str, ...] = ("peak_10y_yield_change_bp", "trough_market_depth_usd_mn", "forced_sales_usd_bn")
# Assumptions that weaken the margin spiral and the volatility feedback, each set to its low end.
# They are sampled, so the low end re-centres the mode of their triangular draw: weaker, not off.
MARGIN_SPIRAL_ASSUMPTIONS: tuple[str, ...] = (
    "futures_margin_vol_elasticity",
    "swap_margin_vol_elasticity",
    "bilateral_haircut_vol_pp",
)
VOLATILITY_FEEDBACK_ASSUMPTION = "volatility_feedback"


def _margin_damped(regime: PolicyRegime) -> tuple[PolicyRegime, list[str]]:
    """The regime with its margin anti-procyclicality at 100% where a lever exists for it."""
    changes: dict[str, Any] = {"futures_margin.anti_procyclicality_pct": 100.0}
    if regime.clearing.enabled:
        # Without the mandate the voluntarily cleared share keeps FICC's own tools (a fixed 25%),
        # which no lever reaches: switching the mandate on would change far more than margins.
        changes["clearing.margin_anti_procyclicality_pct"] = 100.0
    damped = with_changes(regime, changes, name=f"{regime.name[:30]}_damped")
    return damped, [f"{k}={v:g}" for k, v in changes.items()]


def _without_exogenous_sales(scenario: Scenario) -> Scenario:
    """The scenario with every sector's sales set to 0 (a validated copy); the draws do not depend on
    the flows, so a run of it stays paired with the scenario's own."""
    data = scenario.model_dump()
    data["flows"] = [flow | {"total_usd_bn": 0.0} for flow in data["flows"]]
    return Scenario.model_validate(data)


def amplification(scenario: ScenarioLike, regime: RegimeLike, *, paths: int = 500, seed: int = 0) -> pd.DataFrame:
    """First round vs second round: the shock itself, then market-structure amplification, as a waterfall.

    Steps, cumulative, each a full run on the same seed (paired per path):
      0. shock itself: the fundamental 10y path (the `fundamental_10y_change_bp` series, the part of
         the move not due to market structure); RV forced sales 0; depth at its calm level (day 0):
         without market structure the model has no depth response.
      1. + volatility and funding stress through the market, without exogenous sales (the scenario's
         sector flows set to 0), margins held down: the regime with futures margin
         anti-procyclicality 100% (and the clearing mandate's, if it is in force), the margin
         elasticities (`MARGIN_SPIRAL_ASSUMPTIONS`) and the volatility feedback at their low ends.
      2. + exogenous sales (foreign, mutual-fund, Treasury flows) absorbed by constrained dealers, with
         RV deleveraging in response; margins still held down.
      3. + margin spiral: the regime's own margin settings and the calibrated margin elasticities
         (volatility feedback still at its low end).
      4. + volatility feedback at its calibrated value: the regime as it runs, the full outcome.
    Each row gives the step's level (median over paths), its increment over the previous step
    (p5/p50/p95/mean of the per-path difference; step 0's over the state before the shock: no yield
    change, calm depth, no sales) and `share_of_change_pct`, its mean increment as a share of the
    mean full change from before the shock. A last row per metric gives the whole amplification (full
    outcome - shock itself), which steps 1-4 sum to path by path (so do their means; medians need not).

    What cannot be switched off without changing engine code, and is therefore not separated: RV
    deleveraging from dealer constraints (funds sell into dealers' capacity; no input removes
    either, so steps 1 and 2 carry both), the volatility feedback and the margin response entirely
    (sampled elasticities only move their mode to the low end, and their lows are above 0, except the
    bilateral haircut's), and the margin of the voluntarily cleared repo share (FICC's own tools, no
    lever). Steps 3 and 4 are therefore lower bounds of those channels. The regime's Fed response
    acts in every step (a dampener, not an amplifier).
    """
    run = _run_settings(paths, seed)
    sc = resolve_scenario(scenario)
    reg = resolve_regime(regime)
    ranges = assumption_ranges(sc)
    low = {n: ranges[n].low for n in (*MARGIN_SPIRAL_ASSUMPTIONS, VOLATILITY_FEEDBACK_ASSUMPTION) if n in ranges}
    vol_low = {n: v for n, v in low.items() if n == VOLATILITY_FEEDBACK_ASSUMPTION}
    damped, lever_switches = _margin_damped(reg)
    held_down = "; ".join([*lever_switches, *(f"assumptions.{n}={v:g} (low)" for n, v in low.items())])

    def once(s: Scenario, r: PolicyRegime, assumptions: dict[str, float]) -> Result:
        return simulate(s, [r], paths=run.paths, seed=run.seed, assumptions=assumptions or None)

    full = once(sc, reg, {})
    steps: list[tuple[str, str, Result | None]] = [
        ("shock itself", "fundamental 10y path (series fundamental_10y_change_bp); no forced sales; calm depth", None),
        ("volatility and funding stress (no exogenous sales)", "sector flows set to 0; " + held_down,
         once(_without_exogenous_sales(sc), damped, low)),
        ("exogenous sales into constrained dealers, RV deleveraging", "the scenario's flows; " + held_down,
         once(sc, damped, low)),
        ("margin spiral", "; ".join(["the regime's margin levers", *(f"assumptions.{n}={v:g} (low)" for n, v in vol_low.items())]),
         once(sc, reg, vol_low)),
        ("volatility feedback", "the regime as it runs (calibrated values)", full),
    ]
    calm_depth = full.series["market_depth_usd_mn"][0, :, 0]
    zeros = np.zeros(run.paths)
    # Before the shock: no yield change, calm depth, no sales. The shock itself moves only the yield.
    before = {"peak_10y_yield_change_bp": zeros, "trough_market_depth_usd_mn": calm_depth, "forced_sales_usd_bn": zeros}
    shock = {
        "peak_10y_yield_change_bp": full.series["fundamental_10y_change_bp"][0].max(axis=-1),
        "trough_market_depth_usd_mn": calm_depth,
        "forced_sales_usd_bn": zeros,
    }
    rows = []
    for metric in AMPLIFICATION_METRICS:
        unit = METRICS[metric].unit
        change = float((per_path(full, metric, 0) - before[metric]).mean())

        def share(increment: np.ndarray, change: float = change) -> float:
            return 100.0 * float(increment.mean()) / change + 0.0 if change else math.nan  # + 0.0: no -0

        previous = before[metric]
        for k, (label, switches, res) in enumerate(steps):
            values = shock[metric] if res is None else per_path(res, metric, 0)
            increment = values - previous
            rows.append({"metric": metric, "unit": unit, "step": k, "component": label, "switches": switches,
                         "level_p50": float(np.median(values))} | _bands(increment, "increment_")
                        | {"share_of_change_pct": share(increment)})
            previous = values
        amplified = previous - shock[metric]
        rows.append({"metric": metric, "unit": unit, "step": len(steps), "component": "amplification total",
                     "switches": "full outcome - shock itself", "level_p50": float(np.median(previous))}
                    | _bands(amplified, "increment_") | {"share_of_change_pct": share(amplified)})
    out = pd.DataFrame(rows)
    out.insert(0, "regime", reg.name)
    return out


# ---------------------------------------------------------------- 5. robustness


def latin_hypercube(n: int, dims: int, rng: np.random.Generator) -> np.ndarray:
    """(n, dims) points in [0, 1): one point in each of n equal strata of every dimension."""
    strata = np.stack([rng.permutation(n) for _ in range(dims)], axis=1) if dims else np.zeros((n, 0))
    return (strata + rng.random((n, dims))) / n


def robustness(
    scenario: ScenarioLike,
    regime_a: RegimeLike,
    regime_b: RegimeLike,
    metric: str,
    *,
    assumptions: Sequence[str] | None = None,
    corners: bool = True,
    samples: int = 16,
    paths: int = 300,
    seed: int = 0,
    lower_is_better: bool = True,
) -> dict[str, Any]:
    """How robust is "A beats B on `metric`"? Paired across paths and across the assumption space.

    `assumptions`: names from `engine.assumption_ranges(scenario)` (default: all of them). Points:
    the calibrated values ("base"), every corner of the first up to `MAX_CORNER_ASSUMPTIONS` (4)
    named assumptions (2^k runs, the others at their values; name the ones you care about first),
    and a Latin hypercube of `samples` points over all the named ones (numpy, seeded by `seed`).
    Each point is one run of A and B (same draws). A "beats" B at a point when the centre of the
    paired difference A - B (median; mean of indicators for probabilities) is below 0 (above 0 when
    `lower_is_better` is False).

    Returns a dict: `path_share` (share of paths where A beats B at the base point, strictly),
    `base_difference` (the centre of A - B there), `space_share` (share of corner and hypercube points
    where A beats B), `keeps_sign_share` (share where the difference has the base point's sign),
    `corner_share`, `lhs_share` (None when there are no such points) and `points` (a frame: kind,
    the assumption values, difference, a_beats_b).
    """
    _check_metric(metric)
    run = _run_settings(paths, seed)
    if not (isinstance(samples, int) and 0 <= samples <= 1000):
        raise InputError(f"samples: {samples!r}; allowed: a whole number from 0 to 1,000")
    sc = resolve_scenario(scenario)
    a, b = resolve_regime(regime_a), resolve_regime(regime_b)
    if a.name == b.name:
        b = _named(b, f"{b.name[:35]}_b")
    ranges = assumption_ranges(sc)
    names = list(ranges) if assumptions is None else list(assumptions)
    unknown = [n for n in names if n not in ranges]
    if unknown:
        raise InputError(f"assumptions: {unknown[0]!r} unknown; allowed: {', '.join(sorted(ranges))}")
    sign = 1.0 if lower_is_better else -1.0

    def difference(point: dict[str, float]) -> tuple[float, np.ndarray]:
        res = simulate(sc, [a, b], paths=run.paths, seed=run.seed, assumptions=point or None)
        diff = per_path(res, metric, 0) - per_path(res, metric, 1)
        return _centre(diff, metric), diff

    base_diff, base_paths = difference({})
    points: list[tuple[str, dict[str, float]]] = [("base", {})]
    if corners and names:
        corner_names = names[:MAX_CORNER_ASSUMPTIONS]
        for ends in itertools.product((0, 1), repeat=len(corner_names)):
            point = {n: (ranges[n].high if e else ranges[n].low) for n, e in zip(corner_names, ends, strict=True)}
            points.append(("corner", point))
    if samples and names:
        unit = latin_hypercube(samples, len(names), np.random.default_rng([run.seed, 9_2]))
        for row in unit:
            point = {n: float(ranges[n].low + u * (ranges[n].high - ranges[n].low)) for n, u in zip(names, row, strict=True)}
            points.append(("lhs", point))
    records = []
    for kind, point in points:
        centre = base_diff if kind == "base" else difference(point)[0]
        records.append({"kind": kind} | {n: point.get(n, ranges[n].value) for n in names}
                       | {"difference": centre, "a_beats_b": bool(sign * centre < 0.0),
                          "keeps_sign": bool(np.sign(centre) == np.sign(base_diff))})
    frame = pd.DataFrame(records)

    def share(kinds: tuple[str, ...], column: str = "a_beats_b") -> float | None:
        chosen = frame[frame["kind"].isin(kinds)]
        return float(chosen[column].mean()) if len(chosen) else None

    return {
        "metric": metric,
        "regime_a": a.name,
        "regime_b": b.name,
        "lower_is_better": lower_is_better,
        "path_share": float((sign * base_paths < 0.0).mean()),
        "base_difference": base_diff,
        "space_share": share(("corner", "lhs")),
        "keeps_sign_share": share(("corner", "lhs"), "keeps_sign"),
        "corner_share": share(("corner",)),
        "lhs_share": share(("lhs",)),
        "points": frame,
    }


# ---------------------------------------------------------------- 6. expected cost


_COST_COLUMNS = ("calm_interest_cost_usd_bn_per_year", "dysfunction_probability_pct", "broken_market_probability_pct")


def _cost_inputs(result_or_frame: Result | pd.DataFrame) -> pd.DataFrame:
    """regime, the calm cost ($bn/yr), P(dysfunction or breakdown) and P(breakdown) per episode (%)."""
    if isinstance(result_or_frame, Result):
        r = result_or_frame
        stressed = r.dysfunction.any(axis=-1) | r.broken  # a broken-down path counts as dysfunctional too
        return pd.DataFrame(
            {
                "regime": r.regime_names,
                # The mean: an expected cost, and the calm cost varies by path (sampled elasticities).
                "calm_interest_cost_usd_bn_per_year": r.metrics["calm_interest_cost_usd_bn_per_year"].mean(axis=1),
                "dysfunction_probability_pct": 100.0 * stressed.mean(axis=1),
                "broken_market_probability_pct": r.probability("broken_market_probability_pct"),
            }
        )
    frame = result_or_frame
    if {"regime", "metric", "stat", "value"} <= set(frame.columns):  # Result.summary_frame()
        frame = frame[frame["stat"] == "p50"].pivot(index="regime", columns="metric", values="value").reset_index()
    elif {"regime", "metric", "p50"} <= set(frame.columns):  # the sweep's format (engine.sweep.run_study)
        if "scenario" in frame.columns and frame["scenario"].nunique() > 1:
            raise InputError("expected_cost: the frame covers several scenarios; pass one scenario's rows")
        frame = frame.pivot(index="regime", columns="metric", values="p50").reset_index()
    missing = [c for c in ("regime", *_COST_COLUMNS) if c not in frame.columns]
    if missing:
        raise InputError(f"expected_cost: no column {missing[0]!r}; need regime, {', '.join(_COST_COLUMNS)}")
    out = frame[["regime", *_COST_COLUMNS]].copy()
    # Without per-path data, breakdown paths are assumed dysfunctional too: P(either) >= P(breakdown).
    out["dysfunction_probability_pct"] = np.maximum(out["dysfunction_probability_pct"], out["broken_market_probability_pct"])
    return out.reset_index(drop=True)


def expected_cost(
    result_or_frame: Result | pd.DataFrame,
    *,
    episode_probability_per_year: float,
    loss_per_episode_usd_bn: float | None = None,
    breakdown_extra_loss_usd_bn: float = 0.0,
) -> pd.DataFrame:
    """Stress risk per year against the calm-period cost, per regime.

    Inputs and units:
      - `result_or_frame`: a `Result` (exact per-path shares), or a frame with columns regime,
        calm_interest_cost_usd_bn_per_year ($bn a year, vs status-quo rules), dysfunction_probability_pct
        and broken_market_probability_pct (% of paths, given the scenario's shock), wide or as
        `Result.summary_frame()` (its p50 rows are read), or long as the sweep's output (columns regime,
        metric, p50; for the probabilities the sweep's p50 is the share of paths).
      - `episode_probability_per_year` (required, per year, 0 to 1): the chance that a shock like the
        scenario's starts in a given year. No default: ../shared/design/EVIDENCE.md has no count of
        Treasury market dysfunction episodes to derive one from, so the user must state it.
      - `loss_per_episode_usd_bn` ($bn per episode): the loss when an episode turns dysfunctional.
        Without it no loss is computed and the probabilities and the calm cost stay on separate columns.
      - `breakdown_extra_loss_usd_bn` ($bn per episode, default 0): the further loss when it breaks down.

    Formula, per regime (p = per-episode share of paths / 100):
      annual_dysfunction_probability_pct = 100 x f x p(dysfunction or breakdown)
      annual_breakdown_probability_pct   = 100 x f x p(breakdown)
      expected_stress_loss_usd_bn_per_year = f x (p(dysfunction or breakdown) x L + p(breakdown) x L_extra)
      expected_total_cost_usd_bn_per_year  = calm_interest_cost_usd_bn_per_year + expected_stress_loss
    The calm cost is measured against status-quo rules, so compare totals between regimes, not to 0.
    """
    f = float(episode_probability_per_year)
    if not (math.isfinite(f) and 0.0 <= f <= 1.0):
        raise InputError(f"episode_probability_per_year: {episode_probability_per_year!r}; allowed: 0 to 1 per year")
    losses = {"loss_per_episode_usd_bn": loss_per_episode_usd_bn, "breakdown_extra_loss_usd_bn": breakdown_extra_loss_usd_bn}
    for name, value in losses.items():
        if value is not None and not (math.isfinite(value) and value >= 0.0):
            raise InputError(f"{name}: {value!r}; allowed: a number >= 0 ($bn per episode)")
    out = _cost_inputs(result_or_frame)
    out["episode_probability_per_year"] = f
    out["annual_dysfunction_probability_pct"] = f * out["dysfunction_probability_pct"]
    out["annual_breakdown_probability_pct"] = f * out["broken_market_probability_pct"]
    if loss_per_episode_usd_bn is not None:
        out["expected_stress_loss_usd_bn_per_year"] = f * (
            out["dysfunction_probability_pct"] / 100.0 * loss_per_episode_usd_bn
            + out["broken_market_probability_pct"] / 100.0 * breakdown_extra_loss_usd_bn
        )
        out["expected_total_cost_usd_bn_per_year"] = (
            out["calm_interest_cost_usd_bn_per_year"] + out["expected_stress_loss_usd_bn_per_year"]
        )
    return out


# ---------------------------------------------------------------- 7. stress-test grid


def stress_test_grid(
    regime: RegimeLike,
    scenarios: Sequence[ScenarioLike] | None = None,
    *,
    paths: int = 500,
    seed: int = 0,
    baseline: RegimeLike = "status_quo",
    metrics: Sequence[str] = HEADLINE_METRICS,
) -> pd.DataFrame:
    """One regime and the baseline across scenarios (default: every shipped one, `scenario_names()`).

    One run per scenario with both regimes (paired). Returns scenario, metric, unit, regime, baseline,
    regime_p50, baseline_p50 (medians over paths; shares for probabilities) and diff_p5/p50/p95
    (`Result.difference`: paired quantiles, or a bootstrap interval of the difference of shares).
    """
    run = _run_settings(paths, seed)
    for m in metrics:
        if m not in METRICS:  # exceedances have no summary row
            raise InputError(f"metrics: {m!r} unknown; allowed: {', '.join(METRICS)}")
    reg, base = resolve_regime(regime), resolve_regime(baseline)
    same = reg == base
    if not same and reg.name == base.name:
        reg = _named(reg, f"{reg.name[:30]}_regime")
    rows = []
    for scenario in scenario_names() if scenarios is None else scenarios:
        sc = resolve_scenario(scenario)
        result = simulate(sc, [base] if same else [base, reg], paths=run.paths, seed=run.seed)
        summary = result.summary()
        for m in metrics:
            diff = {"p5": 0.0, "p50": 0.0, "p95": 0.0} if same else result.difference(m, reg.name, base.name)
            rows.append(
                {
                    "scenario": sc.name, "metric": m, "unit": METRICS[m].unit,
                    "regime": reg.name, "baseline": base.name,
                    "regime_p50": summary[reg.name if not same else base.name][m]["p50"],
                    "baseline_p50": summary[base.name][m]["p50"],
                    "diff_p5": diff["p5"], "diff_p50": diff["p50"], "diff_p95": diff["p95"],
                }
            )
    return pd.DataFrame(rows)
