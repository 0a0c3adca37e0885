"""Property tests: random regimes within the lever bounds, random shock scales and random scenario
edits. Bounded example counts keep the file well under 30 s."""

import math
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
import policy
from engine.dynamics import SECTORS
from engine.scenario import SCENARIO_DIR

SPECS = policy.lever_specs()
SQ = policy.get_preset("status_quo")
SCENARIOS = engine.scenario_names()
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


def _lever_value(spec: policy.LeverSpec) -> st.SearchStrategy[Any]:
    if spec.type == "bool":
        return st.booleans()
    if spec.type == "choice":
        return st.sampled_from(spec.choices or ())
    assert spec.min is not None and spec.max is not None
    if spec.type == "int":
        return st.integers(int(spec.min), int(spec.max))
    return st.floats(spec.min, spec.max, allow_nan=False, allow_infinity=False)


@st.composite
def regimes(draw: st.DrawFn, name: str = "random") -> policy.PolicyRegime:
    chosen = draw(st.lists(st.sampled_from(SPECS), unique_by=lambda s: s.path, max_size=len(SPECS)))
    changes = {spec.path: draw(_lever_value(spec)) for spec in chosen}
    if draw(st.booleans()):
        schedule = draw(st.lists(st.floats(0, 200, allow_nan=False), max_size=60))
        changes["fed_backstop.purchase_schedule_usd_bn_per_day"] = tuple(schedule)
    return policy.with_changes(SQ, changes, name=name)


def _check(result: engine.Result) -> None:
    for name, values in result.metrics.items():
        assert np.isfinite(values).all(), name
    for name, values in result.series.items():
        assert np.isfinite(values).all(), name
    total = sum(result.net_purchases_usd_bn[s] for s in SECTORS)
    scale = max(1.0, max(float(np.abs(result.net_purchases_usd_bn[s]).max()) for s in SECTORS))
    assert np.abs(total).max() <= 1e-9 * scale, "holdings not conserved"
    for regime, metrics in result.summary().items():
        for metric, stats in metrics.items():
            assert stats["p5"] <= stats["p50"] <= stats["p95"], (regime, metric, stats)
    for name in ("dealer_utilization_pct", "dealer_long_utilization_pct"):
        util = result.series[name]
        assert np.all((util >= 0) & (util < 100)), name
    assert np.all(result.series["market_depth_usd_mn"] > 0)
    assert np.all(result.series["rv_positions_usd_bn"] >= -1e-9)
    broken = result.metrics["broken_market_probability_pct"]
    assert np.all((broken >= 0) & (broken <= 100))
    np.testing.assert_array_equal(result.broken, result.breakdown.any(axis=-1))
    assert result.dysfunction.dtype == bool and result.dysfunction.shape == result.breakdown.shape


@FAST
@given(scenario=st.sampled_from(SCENARIOS), data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_random_assumptions_within_their_ranges_give_finite_metrics(scenario: str, data: st.DataObject, seed: int) -> None:
    ranges = engine.assumption_ranges(scenario)
    chosen = data.draw(st.lists(st.sampled_from(sorted(ranges)), unique=True, max_size=8))
    assumptions = {n: data.draw(st.floats(ranges[n].low, ranges[n].high, allow_nan=False)) for n in chosen}
    historical = engine.load_scenario(scenario).kind == "historical"
    mode = data.draw(st.sampled_from(["observed_share", "proxy_beta"])) if historical else None
    if mode == "proxy_beta":
        assumptions.pop("fundamental_share", None)
    result = engine.simulate(
        scenario, ["status_quo", "clearing_rule"], paths=30, seed=seed, assumptions=assumptions, fundamental_mode=mode
    )
    _check(result)
    assert np.all(result.metrics["calm_yield_cost_bp"][0] == 0), "the status quo costs nothing, whatever the assumptions"


@FAST
@given(
    regime=regimes(),
    scenario=st.sampled_from(SCENARIOS),
    shock_scale=st.floats(0.0, 5.0, allow_nan=False),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_regimes_give_finite_metrics_and_conserved_holdings(
    regime: policy.PolicyRegime, scenario: str, shock_scale: float, seed: int
) -> None:
    result = engine.simulate(scenario, [regime, "status_quo"], paths=40, seed=seed, shock_scale=shock_scale)
    _check(result)
    alone = engine.simulate(scenario, [regime], paths=40, seed=seed, shock_scale=shock_scale)
    for name, values in alone.metrics.items():
        np.testing.assert_array_equal(values[0], result.metrics[name][0], err_msg=name)


@FAST
@given(regime=regimes(), days=st.integers(1, 60))
def test_random_regimes_round_trip_through_json(regime: policy.PolicyRegime, days: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "regime.json"
        path.write_text(policy.regime_to_json(regime))
        loaded = policy.load_regime_file(path)
        assert loaded == regime
        result = engine.simulate("foreign_selloff_2026", [str(path)], paths=10, seed=1, days=days)
    assert result.days == days and len(result.dates) == days + 1
    _check(result)


@FAST
@given(
    spec=st.sampled_from([s for s in SPECS if s.type in ("float", "int")]),
    data=st.data(),
)
def test_out_of_bounds_lever_values_are_refused(spec: policy.LeverSpec, data: st.DataObject) -> None:
    assert spec.min is not None and spec.max is not None
    width = spec.max - spec.min
    above = data.draw(st.floats(spec.max + 1e-6 * width + 1e-9, spec.max + 10 * width + 1, allow_nan=False))
    below = data.draw(st.floats(spec.min - 10 * width - 1, spec.min - 1e-6 * width - 1e-9, allow_nan=False))
    for bad in (above, below, math.nan):
        value = bad if spec.type == "float" or math.isnan(bad) else math.floor(bad) if bad > spec.max else math.ceil(bad)
        if spec.type == "int" and not math.isnan(value) and spec.min <= value <= spec.max:
            continue
        try:
            policy.with_changes(SQ, {spec.path: value})
        except ValueError as err:
            assert str(err).startswith(f"{spec.path}:"), str(err)
        else:
            raise AssertionError(f"{spec.path}={value!r} accepted")


# --- random scenario edits -----------------------------------------------------------------------

_TOTAL = re.compile(r"^(total_usd_bn\s*=\s*)(\S+)\s*$", re.MULTILINE)


def _edit_scenario(text: str, totals: list[float], shock_size_sd: float, default_days: int) -> str:
    values = iter(totals)
    text = _TOTAL.sub(lambda m: f"{m.group(1)}{next(values)!r}", text)
    text = re.sub(r"^shock_size_sd\s*=.*$", f"shock_size_sd = {shock_size_sd!r}", text, count=1, flags=re.MULTILINE)
    return re.sub(r"^default_days\s*=.*$", f"default_days = {default_days}", text, count=1, flags=re.MULTILINE)


@st.composite
def scenario_edits(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    name = draw(st.sampled_from(SCENARIOS))
    text = (SCENARIO_DIR / f"{name}.toml").read_text()
    n_flows = len(_TOTAL.findall(text))
    total = st.one_of(
        st.floats(0, 5000, allow_nan=False),
        st.floats(-1000, 8000, allow_nan=False),
        st.sampled_from([0.0, 5000.0, -0.001, 5000.001]),
    )
    totals = draw(st.lists(total, min_size=n_flows, max_size=n_flows))
    sd = draw(st.one_of(st.floats(0, 1, allow_nan=False), st.sampled_from([-0.1, 1.5])))
    days = draw(st.one_of(st.integers(1, 250), st.sampled_from([0, 251])))
    edited = _edit_scenario(text, totals, sd, days)
    return name, edited, {"totals": totals, "sd": sd, "days": days}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(edit=scenario_edits(), shock_scale=st.floats(0, 5, allow_nan=False))
def test_edited_scenarios_validate_or_fail_with_input_error(edit: tuple[str, str, dict[str, Any]], shock_scale: float) -> None:
    name, text, params = edit
    valid = all(0 <= t <= 5000 for t in params["totals"]) and 0 <= params["sd"] <= 1 and 1 <= params["days"] <= 250
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"edited_{name}.toml"
        path.write_text(text)
        assert tomllib.loads(text)["name"] == name
        try:
            scenario = engine.load_scenario(path)
        except engine.InputError as err:
            assert not valid, f"a valid edit was refused: {err}"
            message = str(err)
            assert message.startswith(path.name), message
            assert re.search(r"(flows\.\d+\.total_usd_bn|shock_size_sd|default_days): ", message), message
            return
        assert valid, f"an invalid edit was accepted: {params}"
        flows = [f.total_usd_bn for f in scenario.flows]
        assert flows == params["totals"]
        result = engine.simulate(scenario, ["status_quo"], paths=20, seed=3, shock_scale=shock_scale, days=min(params["days"], 60))
    _check(result)
    if shock_scale == 0:
        assert np.abs(result.series["yield_10y_change_bp"]).max() <= 1e-9
