"""Scenario and calibration data: every figure has a unit, a range and a source; calendars hold."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import engine
from engine.calibration import load_calibration
from engine.scenario import SCENARIO_DIR, load_scenario, scenario_names, shock_paths

SCENARIOS = scenario_names()


def test_bundled_scenarios():
    assert {"march_2020", "april_2025", "foreign_selloff_2026", "weak_auction_term_premium"} <= set(SCENARIOS)
    kinds = {load_scenario(n).kind for n in SCENARIOS}
    assert kinds == {"historical", "forward"}


@pytest.mark.parametrize("era", ["2020", "2025"])
def test_every_calibrated_value_has_unit_range_and_source(era):
    for value in load_calibration(era).values.values():
        assert value.unit and value.source and len(value.source) > 15, value.name
        assert value.low <= value.value <= value.high, value.name
        assert np.isfinite([value.low, value.value, value.high]).all(), value.name


def test_tuned_parameters_say_what_they_were_tuned_to_and_only_march_2020():
    tuned = [v for era in ("2020", "2025") for v in load_calibration(era).values.values() if v.tuned_to]
    assert len(tuned) >= 6
    for value in tuned:
        assert "March 2020" in value.tuned_to, value.name


@pytest.mark.parametrize(("name", "day0"), [("march_2020", dt.date(2020, 3, 9)), ("april_2025", dt.date(2025, 4, 4))])
def test_historical_calendars_start_at_the_last_calm_close(name, day0):
    sc = load_scenario(name)
    paths = shock_paths(sc, sc.default_days)
    assert paths.dates[0].date() == day0
    assert len(paths.dates) == sc.default_days + 1
    assert paths.observed_move_bp is not None and paths.observed_move_bp[0] == 0.0
    assert all(0 <= e.day <= sc.default_days for e in sc.events)


def test_march_2020_observed_path_matches_fred():
    sc = load_scenario("march_2020")
    paths = shock_paths(sc, 10)
    assert paths.observed_move_bp[paths.dates.get_loc(pd.Timestamp("2020-03-18"))] == pytest.approx(64.0)


def test_funding_stress_spike_of_march_2020_is_in_the_data():
    paths = shock_paths(load_scenario("march_2020"), 10)
    day = paths.dates.get_loc(pd.Timestamp("2020-03-17"))
    assert paths.funding_stress_bp[day] > 30.0
    april = shock_paths(load_scenario("april_2025"), 10)
    assert april.funding_stress_bp.max() < 10.0


@pytest.mark.parametrize("name", SCENARIOS)
def test_flows_sum_to_the_documented_totals(name):
    sc = load_scenario(name)
    paths = shock_paths(sc, engine.scenario.MAX_DAYS)
    for sector, series in paths.flows_usd_bn.items():
        expected = sum(f.total_usd_bn for f in sc.flows if f.sector == sector)
        assert series.sum() == pytest.approx(expected), sector
    assert all(len(f.source) > 10 for f in sc.flows)


def test_forward_scenario_treasury_supply_enters_as_sales():
    r = engine.simulate("weak_auction_term_premium", paths=50)
    assert r.net_purchases_usd_bn["treasury"].sum(axis=-1).mean() < -100.0


def test_status_quo_backstop_does_not_fire_in_april_2025_at_the_median():
    r = engine.simulate("april_2025", ["status_quo"], paths=1000)
    assert r.summary()["status_quo"]["fed_purchases_usd_bn"]["p50"] == 0.0


def test_history_files_name_their_sources():
    for path in (SCENARIO_DIR / "history").glob("*.csv"):
        header = path.read_text().splitlines()[:4]
        assert any("FRED" in line for line in header), path.name
