"""The economics of each rule, pure functions tested one at a time (MODEL.md section 4)."""

import numpy as np
import pytest

from engine.calibration import load_calibration
from engine.draws import draw
from engine.scenario import load_scenario
from engine.transmission import (
    capped_funding_stress,
    equity_per_dollar,
    margin_rates,
    netting_capacity_gain,
    regime_parameters,
    relief_capacity_gain,
    required_per_dollar,
)
from policy import get_preset, with_changes

SCENARIO = load_scenario("foreign_selloff_2026")
CAL = load_calibration("2025")
DRAWS = draw(SCENARIO, CAL, paths=50, days=10, seed=3)


def params(*regimes):
    return regime_parameters(list(regimes), CAL, DRAWS, days=10)


def test_relief_gain_grows_with_buffer_cut_and_exclusion():
    w, g = np.array([0.5]), np.array([0.6])
    none = relief_capacity_gain(False, 2.0, 1.0, 5.0, w, g)
    buffer = relief_capacity_gain(True, 1.0, 0.0, 5.0, w, g)
    deeper = relief_capacity_gain(True, 2.0, 0.0, 5.0, w, g)
    excluded = relief_capacity_gain(True, 1.0, 1.0, 5.0, w, g)
    assert none[0] == 0.0
    assert 0.0 < buffer[0] < deeper[0]
    # A 1pp cut of a 5% requirement frees 25% of the SLR-bound part.
    assert buffer[0] == pytest.approx(0.5 * 0.25)
    assert excluded[0] == pytest.approx(buffer[0] + 0.5 * 0.6)


def test_netting_gain_only_for_newly_cleared_trades():
    gain = np.array([0.4])
    assert netting_capacity_gain(False, 1.0, 1.0, 0.2, 0.25, gain)[0] == 0.0
    assert netting_capacity_gain(True, 0.2, 0.25, 0.2, 0.25, gain)[0] == 0.0
    full = netting_capacity_gain(True, 1.0, 1.0, 0.2, 0.25, gain)[0]
    assert full == pytest.approx(0.4 * 0.5 * (0.8 + 0.75))


def test_srf_caps_funding_stress_for_dealers_and_only_with_access_for_funds():
    sq = get_preset("status_quo")
    access = with_changes(sq, {"standing_repo.funds_access": True}, name="access")
    off = with_changes(sq, {"standing_repo.enabled": False}, name="off")
    rp = params(sq, access, off)
    dealers, funds = capped_funding_stress(50.0, rp)
    spread = sq.standing_repo.rate_spread_bp
    assert dealers[0, 0] == pytest.approx(spread) and funds[0, 0] == pytest.approx(50.0)
    assert funds[1, 0] == pytest.approx(spread)
    assert dealers[2, 0] == pytest.approx(50.0)
    below = capped_funding_stress(spread / 2, rp)[0]
    assert np.allclose(below, spread / 2)


def test_clearing_replaces_zero_haircut_repo_with_a_floored_margin():
    sq, cl = get_preset("status_quo"), get_preset("clearing_rule")
    rp = params(sq, cl)
    calm = margin_rates(rp, CAL, DRAWS, 1.0, 0.0)
    for book in ("basis", "swap_spread", "other"):
        assert np.all(calm[book][1] > calm[book][0]), book
    floor = cl.clearing.margin_floor_pct / 100 * cl.clearing.repo_cleared_share_pct / 100
    assert np.all(calm["other"][1] - calm["other"][0] >= floor - 0.01)


def test_cleared_margin_rises_with_volatility_unless_damped():
    cl = get_preset("clearing_rule")
    var_only = with_changes(cl, {"clearing.margin_floor_pct": 0.0, "clearing.margin_anti_procyclicality_pct": 0.0}, name="var")
    damped = with_changes(var_only, {"clearing.margin_anti_procyclicality_pct": 100.0}, name="damped")
    rp = params(var_only, damped)
    calm = margin_rates(rp, CAL, DRAWS, 1.0, 0.0)["other"]
    stressed = margin_rates(rp, CAL, DRAWS, 3.0, 0.0)["other"]
    other_im_rise = CAL["other_book_margin_pct"] / 100 * (3.0 ** DRAWS.value("futures_margin_vol_elasticity") - 1)
    repo_rise_var = stressed[0] - calm[0] - other_im_rise
    repo_rise_damped = stressed[1] - calm[1] - other_im_rise
    assert np.all(repo_rise_var > 0.005)
    assert np.all(repo_rise_damped < repo_rise_var)


def test_cross_margining_lowers_basis_margin_only():
    cl = get_preset("clearing_rule")
    xm = with_changes(cl, {"clearing.cross_margin_offset_pct": 80.0}, name="xm")
    rates = margin_rates(params(cl, xm), CAL, DRAWS, 1.0, 0.0)
    assert np.all(rates["basis"][1] < rates["basis"][0])
    assert np.allclose(rates["swap_spread"][1], rates["swap_spread"][0])


def test_futures_margin_follows_volatility_and_its_damping():
    sq = get_preset("status_quo")
    damped = with_changes(sq, {"futures_margin.anti_procyclicality_pct": 100.0}, name="damped")
    rp = params(sq, damped)
    calm = margin_rates(rp, CAL, DRAWS, 1.0, 0.0)["basis"]
    stressed = margin_rates(rp, CAL, DRAWS, 2.0, 0.0)["basis"]
    assert np.all(stressed[0] > calm[0])
    assert np.all(stressed[1] - calm[1] < stressed[0] - calm[0])


def test_dealer_rule_sets_a_net_capital_floor_for_the_covered_share():
    dr = with_changes(get_preset("dealer_rule"), {"dealer_rule.covered_share_pct": 100.0}, name="all")
    rp = params(dr)
    margin = np.full((1, 50), 0.01)
    floor = (1 + dr.dealer_rule.extra_buffer_pct / 100) / dr.dealer_rule.net_capital_leverage_limit_x
    assert np.allclose(required_per_dollar(rp, margin), floor)
    assert np.allclose(required_per_dollar(rp, np.full((1, 50), 0.2)), 0.2)


def test_leverage_cap_sets_a_floor_on_equity_per_dollar():
    lc = get_preset("leverage_cap")
    rp = params(lc)
    small = equity_per_dollar(rp, np.full((1, 50), 0.01), np.full(50, 1.0))
    assert np.allclose(small, 1 / lc.leverage_cap.max_leverage_x)
    large = equity_per_dollar(rp, np.full((1, 50), 0.2), np.full(50, 1.0))
    assert np.allclose(large, 0.4)


def test_levers_of_a_rule_not_in_force_change_nothing():
    """With the mandate off, its floor, damping and cross-margining have no effect (the UI shows them)."""
    from engine import simulate

    sq = get_preset("status_quo")
    moved = with_changes(
        sq,
        {
            "clearing.margin_floor_pct": 9.0,
            "clearing.margin_anti_procyclicality_pct": 100.0,
            "clearing.cross_margin_offset_pct": 100.0,
            "clearing.repo_cleared_share_pct": 0.0,
            "dealer_rule.net_capital_leverage_limit_x": 5.0,
            "leverage_cap.max_leverage_x": 5.0,
        },
        name="moved",
    )
    r = simulate("foreign_selloff_2026", [sq, moved], paths=40)
    for metric, values in r.metrics.items():
        assert np.array_equal(values[0], values[1]), metric
