""""What drives this?" (engine.drivers, ui.drivers) against the live engine: no mocks, no fixed numbers."""

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from engine import METRICS, InputError, assumption_ranges, load_scenario, resolve_regime, simulate
from engine.calibration import ERAS, load_calibration
from engine.drivers import COLUMNS, HEADLINE_METRICS, STATUS_TEXT, _measure, _Runner, drivers
from engine.scenario import scenario_names

SCENARIO = "march_2020"
PATHS = 100
DEPTH = "trough_market_depth_usd_mn"


@pytest.fixture(scope="module")
def own() -> str:
    return load_scenario(SCENARIO).regime


@pytest.fixture(scope="module")
def depth(own) -> pd.DataFrame:
    return drivers(SCENARIO, [own], DEPTH, paths=PATHS, seed=0)


@pytest.fixture(scope="module")
def paired(own) -> pd.DataFrame:
    return drivers(SCENARIO, [own, "status_quo"], DEPTH, paths=PATHS, seed=0, baseline="status_quo")


def test_every_assumption_ranked_by_swing(depth):
    assert tuple(depth.columns) == COLUMNS
    assert set(depth["name"]) == set(assumption_ranges(SCENARIO)) and len(depth) == len(assumption_ranges(SCENARIO))
    swing = depth["swing"].to_numpy()
    assert (np.diff(swing) <= 0).all() and (swing >= 0).all()
    spread = np.maximum(np.maximum(depth["effect_low"], depth["effect_high"]), 0) - np.minimum(
        np.minimum(depth["effect_low"], depth["effect_high"]), 0
    )
    np.testing.assert_allclose(swing, spread)
    assert set(depth["status_text"]) <= set(STATUS_TEXT.values())
    assert all(depth["status_text"] == depth["status"].map(STATUS_TEXT))
    assert depth.attrs["runs"] <= 2 * len(depth) + 1 and depth.attrs["metric"] == DEPTH


def test_top_keeps_the_largest(depth, own):
    head = drivers(SCENARIO, [own], DEPTH, paths=PATHS, seed=0, top=5)
    assert list(head["name"]) == list(depth["name"].head(5))


def test_known_drivers_of_depth_rank_high(depth, paired):
    # The level of the trough: the depth formula's volatility exponent first, dealer capacity near the top.
    assert depth["name"].iloc[0] == "depth_volatility_elasticity"
    assert "dealer_capacity_usd_bn" in list(depth["name"].head(5)), list(depth["name"].head(5))
    row = depth.set_index("name").loc["dealer_capacity_usd_bn"]
    assert row["effect_low"] < 0 < row["effect_high"]  # more balance sheet, deeper market
    # What today's rules change against 2020's rules hinges on dealers' balance sheet.
    assert "dealer_capacity_usd_bn" in list(paired["name"].head(3)), list(paired["name"].head(3))


def test_calibrated_value_has_no_effect(depth, own):
    ranges = assumption_ranges(SCENARIO)
    name = "dealer_capacity_usd_bn"
    plain = simulate(SCENARIO, [own], paths=PATHS, seed=0)
    same = simulate(SCENARIO, [own], paths=PATHS, seed=0, assumptions={name: ranges[name].value})
    for metric in HEADLINE_METRICS:
        np.testing.assert_array_equal(plain.metrics[metric], same.metrics[metric])
    # Every assumption given at its calibrated value: the very same table.
    explicit = drivers(SCENARIO, [own], DEPTH, paths=PATHS, seed=0,
                       assumptions={n: v.value for n, v in ranges.items()})
    pd.testing.assert_frame_equal(explicit, depth)
    # An assumption set to its range low: no effect at that end, and the other end measured from there.
    low = ranges[name].low
    moved = drivers(SCENARIO, [own], DEPTH, paths=PATHS, seed=0, assumptions={name: low}).set_index("name")
    assert moved.loc[name, "effect_low"] == 0.0 and moved.loc[name, "value"] == low
    assert moved.loc[name, "effect_high"] > 0


def test_paired_effects_equal_two_simulate_calls(paired, own):
    ranges = assumption_ranges(SCENARIO)
    regimes = [own, "status_quo"]
    base = simulate(SCENARIO, regimes, paths=PATHS, seed=0)
    base_diff = base.paired_difference(DEPTH, own, "status_quo")["p50"]
    assert paired.attrs["base"] == pytest.approx(base_diff, abs=1e-9)
    for name in list(paired["name"].head(3)):
        row = paired.set_index("name").loc[name]
        for end, column in (("low", "effect_low"), ("high", "effect_high")):
            moved = simulate(SCENARIO, regimes, paths=PATHS, seed=0, assumptions={name: getattr(ranges[name], end)})
            direct = moved.paired_difference(DEPTH, own, "status_quo")["p50"] - base_diff
            assert row[column] == pytest.approx(direct, abs=1e-9), (name, end)


def test_baseline_may_be_given_apart_and_must_differ(own, paired):
    apart = drivers(SCENARIO, [own], DEPTH, paths=PATHS, seed=0, baseline="status_quo", top=3)
    pd.testing.assert_frame_equal(apart, paired.head(3))
    with pytest.raises(InputError, match="baseline"):
        drivers(SCENARIO, [own], DEPTH, paths=PATHS, seed=0, baseline=own, regime=own)
    with pytest.raises(InputError, match="metric"):
        drivers(SCENARIO, [own], "depth", paths=PATHS)
    with pytest.raises(InputError, match="regime"):
        drivers(SCENARIO, [own], DEPTH, paths=PATHS, regime="nowhere")


def test_every_headline_metric_is_measured(own):
    result = simulate(SCENARIO, [own, "status_quo"], paths=PATHS, seed=0)
    names = result.regime_names
    for metric in HEADLINE_METRICS:
        assert metric in METRICS
        assert _measure(result.metrics, names, metric, own, None) == pytest.approx(result.summary()[own][metric]["p50"])
        assert _measure(result.metrics, names, metric, own, "status_quo") == pytest.approx(
            result.paired_difference(metric, own, "status_quo")["p50"]
        )


@pytest.mark.parametrize("scenario", [SCENARIO, "foreign_selloff_2026"])
def test_runner_gives_what_simulate_gives(scenario):
    """The drivers' runner reuses the shock paths across settings: number for number what simulate returns."""
    sc = load_scenario(scenario)
    regimes = [resolve_regime(r) for r in dict.fromkeys([sc.regime, "status_quo", "clearing_rule"])]
    runner = _Runner(sc, regimes, 60, 7, 1.3)
    ranges = assumption_ranges(sc)
    settings = [{}, {"dealer_capacity_usd_bn": ranges["dealer_capacity_usd_bn"].low}]
    if "fundamental_share" in ranges:  # re-centres the scenario itself, not the calibration
        share, feedback = ranges["fundamental_share"].high, ranges["volatility_feedback"].low
        settings.append({"fundamental_share": share, "volatility_feedback": feedback})
    for setting in settings:
        fast = runner.metrics(setting)
        direct = simulate(sc, regimes, paths=60, seed=7, shock_scale=1.3, assumptions=setting).metrics
        assert fast.keys() == direct.keys()
        for metric, values in direct.items():
            np.testing.assert_array_equal(fast[metric], values, err_msg=f"{scenario} {setting} {metric}")


def test_probability_drivers_on_a_forward_scenario():
    frame = drivers("foreign_selloff_2026", ["status_quo"], "dysfunction_probability_pct", paths=PATHS, seed=0)
    assert frame.attrs["effect_unit"] == "pp" and len(frame) == len(assumption_ranges("foreign_selloff_2026"))
    assert np.isfinite(frame[["effect_low", "effect_high", "swing"]].to_numpy()).all()


def test_time_for_a_click_is_recorded(own):
    """Recorded, never asserted (the machine is shared): about 1.5-2.5 s on a quiet 2-core machine."""
    drivers(SCENARIO, [own], DEPTH, paths=10)  # compile and cache outside the clock
    started = time.perf_counter()
    frame = drivers(SCENARIO, [own, "status_quo"], DEPTH, paths=200, seed=0, baseline="status_quo")
    seconds = time.perf_counter() - started
    assert frame.attrs["runs"] >= 2 and len(frame) > 0
    out = Path(__file__).resolve().parents[1] / "test-results"
    out.mkdir(exist_ok=True)
    (out / "drivers_time.json").write_text(json.dumps({"scenario": SCENARIO, "regimes": 2, "paths": 200,
                                                       "runs": frame.attrs["runs"], "seconds": round(seconds, 2)}))


def test_every_calibrated_value_has_a_human_label():
    for era in ERAS:
        for value in load_calibration(era).values.values():  # type: ignore[arg-type]
            assert value.label.strip(), (era, value.name)
            assert value.label != value.name and "_" not in value.label, (era, value.name, value.label)
    for scenario in scenario_names():
        for name, value in assumption_ranges(scenario).items():
            assert value.label.strip() and value.label != name, (scenario, name)


# ---------------------------------------------------------------- the UI piece


def _drivers_app() -> None:
    from engine import load_scenario
    from ui.drivers import show_drivers

    sc = load_scenario("march_2020")
    show_drivers(sc, [sc.regime, "status_quo"], "trough_market_depth_usd_mn", paths=100, seed=0,
                 shock_scale=1.0, assumptions={}, baseline="status_quo", regime=sc.regime)


def test_show_drivers_renders_a_readable_table(own, paired):
    from briefing.numbers import fmt_value
    from ui.drivers import TOP

    at = AppTest.from_function(_drivers_app, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert len(table) == TOP
    assert list(table["Assumption"]) == list(paired["label"].head(TOP))
    assert list(table["Code name"]) == list(paired["name"].head(TOP))
    assert list(table["At low end"]) == [fmt_value(x, "$mn", signed=True) for x in paired["effect_low"].head(TOP)]
    assert all(table["How sure"].str.match(r"^(V|V2|U) · "))
    for column in ("Value (range)", "At low end", "At high end"):
        assert all(isinstance(x, str) for x in table[column])
    caption = " ".join(c.value for c in at.caption)
    assert "common random numbers" in caption and "100 paths" in caption and "one at a time" in caption
    assert len(at.get("vega_lite_chart")) == 1
