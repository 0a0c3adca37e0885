"""The economics of each rule, pure functions tested one at a time (MODEL.md section 4, model v2)."""

import numpy as np
import pytest

from engine.calibration import load_calibration
from engine.calm import calm_equilibrium, calm_margins
from engine.channels.clearing import odds, solve_utilization
from engine.channels.deleverage import cap_sales
from engine.draws import draw
from engine.dynamics import run_inputs
from engine.scenario import load_scenario, shock_paths
from engine.state import StressState
from engine.transmission import (
    BOOKS,
    GROSS_NOTIONAL_PER_DOLLAR,
    capped_funding_stress,
    ccp_var_margin,
    dealer_capacity,
    dealer_rule_requirement,
    margin_rates,
    netting_capacity_gain,
    regime_parameters,
    relief_capacity_gain,
)
from policy import get_preset, with_changes

SCENARIO = load_scenario("foreign_selloff_2026")
CAL = load_calibration("2025")
DRAWS = draw(SCENARIO, CAL, paths=50, days=10, seed=3)
SIGMA0 = (CAL["calm_volatility_bp_per_day"], CAL["calm_long_volatility_bp_per_day"])
LOOKBACK = (
    CAL["ccp_lookback_volatility_intermediate_bp_per_day"],
    CAL["ccp_lookback_volatility_long_bp_per_day"],
)
BOOK = {b: i for i, b in enumerate(BOOKS)}


def params(*regimes):
    return regime_parameters(list(regimes), CAL, DRAWS, days=10)


def margins(rp, vol_ratio: float = 1.0, funds_stress_bp: float = 0.0) -> np.ndarray:
    """(3, R, P) margins when the risk models see `vol_ratio` x calm volatility in both segments."""
    risk_vol = (vol_ratio * SIGMA0[0], vol_ratio * SIGMA0[1])
    return margin_rates(rp, CAL, DRAWS, (vol_ratio, vol_ratio), risk_vol, funds_stress_bp)


# --- dealer capacity -----------------------------------------------------------------------------


def test_relief_gain_grows_with_buffer_cut_and_exclusion():
    g = np.array([0.6])
    none = relief_capacity_gain(False, 2.0, 1.0, 5.0, g)
    buffer = relief_capacity_gain(True, 1.0, 0.0, 5.0, g)
    deeper = relief_capacity_gain(True, 2.0, 0.0, 5.0, g)
    floored = relief_capacity_gain(True, 3.0, 0.0, 5.0, g)
    excluded = relief_capacity_gain(True, 1.0, 1.0, 5.0, g)
    assert none[0] == 0.0
    assert 0.0 < buffer[0] < deeper[0]
    # A 1pp cut of a 5% requirement frees a quarter of the leverage-ratio-bound capacity.
    assert buffer[0] == pytest.approx(5.0 / 4.0 - 1.0)
    # The requirement never falls below the 3% SLR minimum.
    assert floored[0] == pytest.approx(deeper[0]) == pytest.approx(5.0 / 3.0 - 1.0)
    assert excluded[0] == pytest.approx(buffer[0] + 0.6)


def test_netting_gain_only_for_newly_cleared_trades():
    gain = np.array([0.4])
    assert netting_capacity_gain(False, 1.0, 1.0, 0.2, 0.25, gain)[0] == 0.0
    assert netting_capacity_gain(True, 0.2, 0.25, 0.2, 0.25, gain)[0] == 0.0
    assert netting_capacity_gain(True, 0.1, 0.1, 0.2, 0.25, gain)[0] == 0.0, "less clearing than today frees nothing"
    full = netting_capacity_gain(True, 1.0, 1.0, 0.2, 0.25, gain)[0]
    assert full == pytest.approx(0.4 * 0.5 * (0.8 + 0.75))


def test_dealer_capacity_splits_into_a_balance_sheet_part_and_a_var_part():
    base, w = np.array([100.0]), np.array([0.4])
    assert dealer_capacity(base, w, np.array([0.0]), 1.0)[0] == pytest.approx(100.0)
    # Relief or netting enlarge only the leverage-ratio-bound part ...
    assert dealer_capacity(base, w, np.array([0.5]), 1.0)[0] == pytest.approx(100.0 * (0.4 * 1.5 + 0.6))
    # ... and the VaR-bound part holds a fixed VaR, so it shrinks as 1/volatility.
    assert dealer_capacity(base, w, np.array([0.0]), 2.0)[0] == pytest.approx(100.0 * (0.4 + 0.6 / 2.0))
    assert dealer_capacity(base, w, np.array([0.5]), 2.0)[0] == pytest.approx(100.0 * (0.4 * 1.5 + 0.6 / 2.0))


def test_solve_utilization_clears_the_segment():
    capacity = np.array([100.0, 100.0, 250.0, 250.0])
    slope = np.array([5.0, 50.0, 5.0, 50.0])
    previous = np.zeros(4)
    for rhs in (0.0, 1e-9, 10.0, 61.0, 150.0, 1e4):
        u = solve_utilization(capacity, np.full(4, rhs), slope)
        assert np.all((u >= 0.0) & (u < 1.0))
        np.testing.assert_allclose(capacity * u + slope * odds(u), rhs, rtol=1e-9, atol=1e-9)
        assert np.all(u >= previous), "more to absorb never lowers utilization"
        previous = u
    assert np.all(solve_utilization(capacity, np.zeros(4), slope) == 0.0)


# --- funding -------------------------------------------------------------------------------------


def test_srf_caps_funding_stress_for_dealers_and_only_with_access_for_funds():
    sq = get_preset("status_quo")
    access = with_changes(sq, {"standing_repo.funds_access": True}, name="access")
    off = with_changes(sq, {"standing_repo.enabled": False}, name="off")
    small = with_changes(sq, {"standing_repo.daily_limit_usd_bn": 250.0}, name="small")
    rp = params(sq, access, off, small)
    dealers, funds = capped_funding_stress(50.0, rp)
    spread = sq.standing_repo.rate_spread_bp
    assert dealers[0, 0] == pytest.approx(spread) and funds[0, 0] == pytest.approx(50.0)
    assert funds[1, 0] == pytest.approx(spread)
    assert dealers[2, 0] == pytest.approx(50.0)
    # A limit covering half the need removes half the stress above the SRF rate.
    coverage = 250.0 / CAL["srf_need_usd_bn"]
    assert dealers[3, 0] == pytest.approx(50.0 - coverage * (50.0 - spread))
    below = capped_funding_stress(spread / 2, rp)[0]
    assert np.allclose(below, spread / 2)


# --- margins -------------------------------------------------------------------------------------


def test_ccp_var_margin_is_ficc_style_and_sits_at_its_look_back_in_calm():
    damping = np.array([0.0, 0.5, 1.0])
    z, mpor = CAL["ccp_var_confidence_z"], CAL["ccp_margin_period_days"]
    assert z == pytest.approx(2.326) and mpor == 3.0
    look_back = ccp_var_margin(CAL, 5.2, 4.0, 6.5, damping)
    np.testing.assert_allclose(look_back, z * np.sqrt(mpor) * 6.5 * 5.2 / 1e4)
    stressed = ccp_var_margin(CAL, 5.2, 16.5, 6.5, damping)
    np.testing.assert_allclose(stressed, z * np.sqrt(mpor) * (6.5 + (1.0 - damping) * 10.0) * 5.2 / 1e4)
    assert stressed[0] > stressed[1] > stressed[2] == pytest.approx(look_back[2])
    assert ccp_var_margin(CAL, 12.0, 4.0, 6.5, damping)[0] > look_back[0], "longer duration, higher margin"


def test_clearing_replaces_bilateral_haircuts_with_the_ccp_var_margin():
    sq, cl = get_preset("status_quo"), get_preset("clearing_rule")
    assert cl.clearing.haircut_floor_pct == 0.0, "the SEC rule sets no haircut floor"
    rp = params(sq, cl)
    calm = margins(rp)
    for book in BOOKS:
        assert np.all(calm[BOOK[book], 1] > calm[BOOK[book], 0]), book
    # In calm markets the cleared margin is the VaR margin at its look-back volatility.
    share = cl.clearing.repo_cleared_share_pct / 100
    base = CAL["baseline_cleared_repo_share"]
    bilateral = CAL["bilateral_haircut_pct"] / 100
    var = ccp_var_margin(CAL, CAL["duration_other_years"], SIGMA0[0], LOOKBACK[0], 0.25)
    expected = (share - base) * (var - bilateral)
    np.testing.assert_allclose(calm[BOOK["other"], 1] - calm[BOOK["other"], 0], expected, rtol=1e-9)


def test_a_haircut_floor_binds_only_above_the_var_margin():
    cl = get_preset("clearing_rule")
    low = with_changes(cl, {"clearing.haircut_floor_pct": 0.25}, name="low")
    high = with_changes(cl, {"clearing.haircut_floor_pct": 10.0}, name="high")
    calm = margins(params(cl, low, high))
    share = cl.clearing.repo_cleared_share_pct / 100
    for book in BOOKS:
        seg = 1 if book == "swap_spread" else 0
        var = ccp_var_margin(CAL, CAL[f"duration_{book}_years"], SIGMA0[seg], LOOKBACK[seg], 0.25)
        assert var > 0.0025, "a 0.25% floor sits below every book's VaR margin"
        np.testing.assert_allclose(calm[BOOK[book], 1], calm[BOOK[book], 0], err_msg=book)
        np.testing.assert_allclose(calm[BOOK[book], 2] - calm[BOOK[book], 0], share * (0.10 - var), rtol=1e-9, err_msg=book)


def test_cleared_margin_rises_with_volatility_unless_damped():
    cl = get_preset("clearing_rule")
    var_only = with_changes(cl, {"clearing.margin_anti_procyclicality_pct": 0.0}, name="var")
    damped = with_changes(var_only, {"clearing.margin_anti_procyclicality_pct": 100.0}, name="damped")
    rp = params(var_only, damped)
    calm, stressed = margins(rp, 1.0), margins(rp, 3.0)
    # Calm volatility is below the look-back: both margins sit at the look-back level.
    np.testing.assert_allclose(calm[:, 0], calm[:, 1])
    for book in BOOKS:
        rise_var = stressed[BOOK[book], 0] - calm[BOOK[book], 0]
        rise_damped = stressed[BOOK[book], 1] - calm[BOOK[book], 1]
        assert np.all(rise_damped < rise_var), book
    # Fully damped, the cleared repo margin stays flat: what rises is the hedge leg's margin and the
    # bilateral haircut on the uncleared share.
    theta = DRAWS.value("futures_margin_vol_elasticity")
    other_im_rise = CAL["other_book_margin_pct"] / 100 * (3.0**theta - 1)
    bilateral_rise = (1 - 0.85) * DRAWS.value("bilateral_haircut_vol_pp") / 100 * 2.0
    np.testing.assert_allclose(stressed[BOOK["other"], 1] - calm[BOOK["other"], 1], other_im_rise + bilateral_rise, rtol=1e-9)


def test_bilateral_haircuts_follow_persistent_funding_stress():
    sq = get_preset("status_quo")
    calm, funded = margins(params(sq)), margins(params(sq), funds_stress_bp=100.0)
    uncleared = 1 - CAL["baseline_cleared_repo_share"]
    rise = uncleared * CAL["bilateral_haircut_funding_pp_per_bp"] / 100 * 100.0
    np.testing.assert_allclose(funded - calm, rise)


def test_cross_margining_lowers_basis_margin_only():
    cl = get_preset("clearing_rule")
    xm = with_changes(cl, {"clearing.cross_margin_offset_pct": 80.0}, name="xm")
    rates = margins(params(cl, xm))
    assert np.all(rates[BOOK["basis"], 1] < rates[BOOK["basis"], 0])
    assert np.allclose(rates[BOOK["swap_spread"], 1], rates[BOOK["swap_spread"], 0])
    assert np.allclose(rates[BOOK["other"], 1], rates[BOOK["other"], 0])


def test_futures_margin_follows_volatility_and_its_damping():
    sq = get_preset("status_quo")
    assert sq.futures_margin.initial_margin_pct == 1.0
    damped = with_changes(sq, {"futures_margin.anti_procyclicality_pct": 100.0}, name="damped")
    rp = params(sq, damped)
    calm, stressed = margins(rp, 1.0)[BOOK["basis"]], margins(rp, 2.0)[BOOK["basis"]]
    assert np.all(stressed[0] > calm[0])
    assert np.all(stressed[1] - calm[1] < stressed[0] - calm[0])
    theta = DRAWS.value("futures_margin_vol_elasticity")
    np.testing.assert_allclose(stressed[0] - stressed[1], 0.01 * (2.0**theta - 1), rtol=1e-9)


def test_dealer_rule_sets_a_net_capital_floor_for_the_covered_share():
    dr = get_preset("dealer_rule")
    rp = params(dr)
    floor = (1 + dr.dealer_rule.extra_buffer_pct / 100) / dr.dealer_rule.net_capital_leverage_limit_x
    small, large = np.full((3, 1, 50), 0.01), np.full((3, 1, 50), 0.2)
    assert np.allclose(dealer_rule_requirement(rp, small, np.ones((3, 1, 50))), floor)
    assert np.allclose(dealer_rule_requirement(rp, large, np.ones((3, 1, 50))), 0.2)
    assert np.allclose(dealer_rule_requirement(rp, small, np.zeros((3, 1, 50))), 0.01)
    half = dealer_rule_requirement(rp, small, np.full((3, 1, 50), 0.5))
    assert np.allclose(half, 0.5 * 0.01 + 0.5 * floor)


# --- calm equity per dollar ----------------------------------------------------------------------


def test_status_quo_margins_are_the_baseline_of_the_calm_equilibrium():
    sq = get_preset("status_quo")
    rp = params(sq)
    np.testing.assert_array_equal(calm_margins(rp, CAL, DRAWS), margins(rp))
    calm = calm_equilibrium(rp, CAL, DRAWS)
    desired = np.stack([DRAWS.value(f"rv_{b}_usd_bn") for b in BOOKS])[:, None, :]
    np.testing.assert_allclose(calm.positions, desired, rtol=1e-12)
    assert np.all(calm.buffer_per_dollar > 0)
    np.testing.assert_allclose(calm.equity / calm.positions, calm.required + calm.buffer_per_dollar, rtol=1e-9)


def test_leverage_cap_sets_a_floor_on_the_equity_per_dollar_of_capped_funds():
    lc = with_changes(get_preset("leverage_cap"), {"leverage_cap.max_gross_leverage_x": 5.0}, name="5x")
    loose = with_changes(get_preset("leverage_cap"), {"leverage_cap.max_gross_leverage_x": 100.0}, name="100x")
    calm = calm_equilibrium(params(lc, loose), CAL, DRAWS)
    gross = np.array([GROSS_NOTIONAL_PER_DOLLAR[b] for b in BOOKS])[:, None, None]
    capped_leverage = gross * calm.cap_covered * calm.positions / (calm.cap_equity_share * calm.equity)
    # A 5x cap binds every book (calm leverage is 12-30x): capped funds run exactly 5x.
    np.testing.assert_allclose(capped_leverage[:, 0], 5.0, rtol=1e-9)
    assert np.all(capped_leverage[:, 1] <= 100.0)
    assert np.all(calm.cap_covered[:, 0] < lc.leverage_cap.covered_share_pct / 100), "covered funds shrink their books"


def _cap_inputs(window: int = 4):
    """Run inputs and a calm day-1 state for a binding 5x cap under each enforcement."""
    from engine.dynamics import _initial_state

    sq = get_preset("status_quo")
    regs = [
        with_changes(
            sq,
            {
                "leverage_cap.enabled": True,
                "leverage_cap.max_gross_leverage_x": 5.0,
                "leverage_cap.enforcement": e,
                "leverage_cap.averaging_window_days": window,
            },
            name=e,
        )
        for e in ("daily", "averaged", "released")
    ]
    rp = params(*regs)
    calm = calm_equilibrium(rp, CAL, DRAWS)
    inp, _, _ = run_inputs(rp, CAL, DRAWS, calm, shock_paths(SCENARIO, 10), 1.0)
    state: StressState = _initial_state(inp, calm, 10)
    return inp, state


def test_leverage_cap_sales_by_enforcement():
    inp, state = _cap_inputs(window=4)
    calm = cap_sales(inp, state, 1)
    np.testing.assert_allclose(calm, 0.0, atol=1e-9 * float(np.max(state.positions)), err_msg="in calm capped funds sit at the cap")
    state.equity = 0.5 * state.equity
    sales = cap_sales(inp, state, 1)
    capped = inp.cap_covered * state.positions
    # Daily: marked equity halves, so capped funds sell half their books.
    np.testing.assert_allclose(sales[:, 0], 0.5 * capped[:, 0], rtol=1e-9)
    # Averaged over 4 days (three calm days and today's): equity is 3.5/4 of calm, so 1/8 is sold.
    np.testing.assert_allclose(sales[:, 1], (1 - 3.5 / 4) * capped[:, 1], rtol=1e-9)
    assert np.all(sales[:, 2] == 0.0), "a released cap forces nothing in stress"


def test_levers_of_a_rule_not_in_force_change_nothing():
    """With the mandate off, its floor, damping and cross-margining have no effect (the UI shows them)."""
    from engine import simulate

    sq = get_preset("status_quo")
    moved = with_changes(
        sq,
        {
            "clearing.haircut_floor_pct": 9.0,
            "clearing.margin_anti_procyclicality_pct": 100.0,
            "clearing.cross_margin_offset_pct": 100.0,
            "clearing.repo_cleared_share_pct": 0.0,
            "clearing.cash_cleared_share_pct": 0.0,
            "dealer_rule.net_capital_leverage_limit_x": 5.0,
            "dealer_rule.covered_share_pct": 100.0,
            "leverage_cap.max_gross_leverage_x": 5.0,
            "leverage_cap.covered_share_pct": 100.0,
            "leverage_cap.enforcement": "daily",
        },
        name="moved",
    )
    r = simulate("foreign_selloff_2026", [sq, moved], paths=40)
    for metric, values in r.metrics.items():
        assert np.array_equal(values[0], values[1]), metric
