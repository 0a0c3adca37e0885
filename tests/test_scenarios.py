"""Scenario and calibration data: every figure has a unit, a range and a source; calendars hold."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import engine
from engine.calibration import ERAS, load_calibration
from engine.scenario import SCENARIO_DIR, load_scenario, scenario_names, shock_paths

SCENARIOS = scenario_names()


def test_bundled_scenarios():
    assert {
        "march_2020",
        "april_2025",
        "foreign_selloff_2026",
        "weak_auction_term_premium",
        "repo_spike_2019",
        "term_premium_2023",
    } <= set(SCENARIOS)
    kinds = {load_scenario(n).kind for n in SCENARIOS}
    assert kinds == {"historical", "forward"}
    assert SCENARIOS[:2] == ["march_2020", "april_2025"], "stress episodes first, by day 0"
    assert SCENARIOS[-2:] == ["repo_spike_2019", "term_premium_2023"], "placebo episodes last"
    assert {n for n in SCENARIOS if load_scenario(n).placebo} == {"repo_spike_2019", "term_premium_2023"}


@pytest.mark.parametrize(
    ("name", "era", "regime"),
    [
        ("repo_spike_2019", "2019", "as_of_september_2019"),
        ("march_2020", "2020", "as_of_march_2020"),
        ("term_premium_2023", "2023", "as_of_april_2025"),
        ("april_2025", "2025", "as_of_april_2025"),
    ],
)
def test_historical_scenarios_run_on_their_era_under_the_rules_of_the_day(name, era, regime):
    sc = load_scenario(name)
    assert (sc.kind, sc.era, sc.regime) == ("historical", era, regime)
    assert sc.fundamental.mode == "observed_share"


@pytest.mark.parametrize("era", ERAS)
def test_every_calibrated_value_has_unit_range_and_source(era):
    for value in load_calibration(era).values.values():
        assert value.unit and value.source and len(value.source) > 15, value.name
        assert value.low <= value.value <= value.high, value.name
        assert np.isfinite([value.low, value.value, value.high]).all(), value.name
        assert value.status in ("V", "V2", "U"), value.name


def test_tuned_parameters_say_what_they_were_tuned_to_and_only_march_2020():
    tuned = [v for era in ERAS for v in load_calibration(era).values.values() if v.tuned_to]
    assert len(tuned) >= 6
    for value in tuned:
        assert "March 2020" in value.tuned_to, value.name


@pytest.mark.parametrize(
    ("name", "day0"),
    [
        ("repo_spike_2019", dt.date(2019, 9, 13)),
        ("march_2020", dt.date(2020, 3, 9)),
        ("term_premium_2023", dt.date(2023, 7, 31)),
        ("april_2025", dt.date(2025, 4, 4)),
    ],
)
def test_historical_calendars_start_at_the_last_calm_close(name, day0):
    sc = load_scenario(name)
    paths = shock_paths(sc, sc.default_days)
    assert paths.dates[0].date() == day0
    assert len(paths.dates) == sc.default_days + 1
    assert paths.observed_move_bp is not None and paths.observed_move_bp.shape == (2, sc.default_days + 1)
    assert np.all(paths.observed_move_bp[:, 0] == 0.0), "10y and 30y moves start at day 0"
    assert all(0 <= e.day <= sc.default_days for e in sc.events)


def test_march_2020_observed_path_matches_fred():
    sc = load_scenario("march_2020")
    paths = shock_paths(sc, 10)
    day = paths.dates.get_loc(pd.Timestamp("2020-03-18"))
    assert paths.observed_move_bp[0, day] == pytest.approx(64.0), "10y: 0.54% on 9 Mar to 1.18% on 18 Mar"


def test_placebo_windows_match_their_descriptions():
    term = shock_paths(load_scenario("term_premium_2023"), 58)
    day = term.dates.get_loc(pd.Timestamp("2023-10-19"))
    assert term.observed_move_bp[0, day] == pytest.approx(101.0), "10y: 3.97% on 31 Jul to 4.98% on 19 Oct"
    # September 2019: the 10y fell through the window (1.90% on 13 Sep to 1.52% on 4 Oct): no selloff.
    repo = shock_paths(load_scenario("repo_spike_2019"), 15)
    assert repo.observed_move_bp[0].max() <= 0.0 and repo.observed_move_bp[0, -1] == pytest.approx(-38.0)


def test_funding_stress_spikes_are_in_the_data():
    paths = shock_paths(load_scenario("march_2020"), 10)
    day = paths.dates.get_loc(pd.Timestamp("2020-03-17"))
    assert paths.funding_stress_bp[day] > 30.0
    april = shock_paths(load_scenario("april_2025"), 10)
    assert april.funding_stress_bp.max() < 10.0
    repo = shock_paths(load_scenario("repo_spike_2019"), 15)
    spike = repo.dates.get_loc(pd.Timestamp("2019-09-17"))
    assert repo.funding_stress_bp.argmax() == spike and repo.funding_stress_bp[spike] > 300.0, "SOFR 5.25% on 17 Sep 2019"
    term = shock_paths(load_scenario("term_premium_2023"), 58)
    assert term.funding_stress_bp.max() < 5.0, "SOFR stayed below IORB in Aug-Oct 2023"


@pytest.mark.parametrize("name", [n for n in SCENARIOS if load_scenario(n).kind == "historical"])
def test_historical_scenarios_have_pre_episode_history_for_the_proxy_beta(name):
    sc = load_scenario(name)
    paths = shock_paths(engine.scenario.with_fundamental_mode(sc, "proxy_beta"), sc.default_days)
    assert paths.proxy_betas is not None and paths.proxy_move_bp is not None and paths.proxy_move_bp[0] == 0.0
    # The 2019 file starts on 2 Jan 2019, so its beta uses 155 days; the others a full 248-250.
    minimum = 150 if name == "repo_spike_2019" else 245
    for beta in paths.proxy_betas:
        assert beta.observations >= minimum and beta.end < pd.Timestamp(sc.day0)
        assert 0.0 < beta.beta < 2.0 and 0.0 < beta.standard_error < beta.beta


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
