"""Economic invariants of the engine: accounting identities, no-shock neutrality, common random
numbers, monotone policy effects, the lever matrix, the result contract and input errors.

Small path counts keep this fast; the assertions are about structure, not calibrated levels, so
they hold while the calibration moves.
"""

import itertools
import json
import math
from functools import cache
from typing import Any

import numpy as np
import pytest

import engine
import policy
from engine.calibration import load_calibration
from engine.dynamics import SECTORS, SERIES
from engine.transmission import BOOKS, GROSS_NOTIONAL_PER_DOLLAR

SCENARIOS = engine.scenario_names()
PRESETS = policy.preset_names()
SQ = policy.get_preset("status_quo")
PATHS = 120
TOL = 1e-9


@cache
def run(scenario: str, regimes: tuple[Any, ...], paths: int = PATHS, seed: int = 7, **kw: Any) -> engine.Result:
    return engine.simulate(scenario, list(regimes), paths=paths, seed=seed, **kw)


def variant(changes: dict[str, Any], name: str, base: policy.PolicyRegime = SQ) -> policy.PolicyRegime:
    return policy.with_changes(base, changes, name=name)


def metric(result: engine.Result, name: str, regime: str) -> np.ndarray:
    return result.metrics[name][result.regime_index(regime)]


def med(result: engine.Result, name: str, regime: str) -> float:
    return float(np.median(metric(result, name, regime)))


def assert_non_increasing(values: list[float], what: str, tol: float = 1e-9) -> None:
    for a, b in itertools.pairwise(values):
        assert b <= a + tol, f"{what} rose: {values}"


def assert_non_decreasing(values: list[float], what: str, tol: float = 1e-9) -> None:
    assert_non_increasing([-v for v in values], what, tol)


# --- accounting ----------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("shock_scale", [1.0, 2.5])
def test_holdings_are_conserved_every_day(scenario: str, shock_scale: float) -> None:
    r = run(scenario, tuple(PRESETS), shock_scale=shock_scale)
    assert set(r.net_purchases_usd_bn) == set(SECTORS)
    total = sum(r.net_purchases_usd_bn[s] for s in SECTORS)
    assert total.shape == (len(PRESETS), PATHS, r.days + 1)
    scale = max(1.0, max(float(np.abs(r.net_purchases_usd_bn[s]).max()) for s in SECTORS))
    assert np.abs(total).max() <= 1e-9 * scale, "sectors' net purchases must sum to zero each day"
    for s in SECTORS:
        assert np.all(r.net_purchases_usd_bn[s][..., 0] == 0), f"{s} trades on day 0"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_sector_flows_match_the_reported_series(scenario: str) -> None:
    r = run(scenario, tuple(PRESETS))
    np.testing.assert_allclose(r.net_purchases_usd_bn["fed"], r.series["fed_purchases_usd_bn"], atol=1e-9)
    np.testing.assert_allclose(r.net_purchases_usd_bn["rv_funds"], -r.series["forced_sales_usd_bn"], atol=1e-9)
    np.testing.assert_allclose(r.metrics["fed_purchases_usd_bn"], r.series["fed_purchases_usd_bn"].sum(-1))
    np.testing.assert_allclose(r.metrics["forced_sales_usd_bn"], r.series["forced_sales_usd_bn"].sum(-1))
    assert np.all(r.net_purchases_usd_bn["fed"] >= -TOL), "the Fed never sells in the window"
    for s in ("foreign_official", "foreign_private", "mutual_funds", "treasury"):
        assert np.all(r.net_purchases_usd_bn[s] <= TOL), f"{s} is a seller in the shock"
    by_book = sum(r.sales_by_book_usd_bn[b] for b in BOOKS)
    assert np.all(by_book <= r.metrics["forced_sales_usd_bn"] + 1e-6), "book sales exceed total RV sales"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_fund_balance_sheet_adds_up(scenario: str) -> None:
    r = run(scenario, tuple(PRESETS))
    equity = r.series["fund_equity_usd_bn"]
    positions = r.series["rv_positions_usd_bn"]
    leverage = r.series["fund_leverage_x"]
    assert np.isfinite(equity).all() and np.isfinite(positions).all() and np.isfinite(leverage).all()
    assert np.all(positions >= -TOL), "negative RV positions"
    assert np.all(equity[..., 0] > 0), "funds start with equity"
    # Leverage is gross notional / net assets (Form PF): both legs of every hedged book count.
    assert set(GROSS_NOTIONAL_PER_DOLLAR.values()) == {2.0}
    solvent = equity > 1e-9
    np.testing.assert_allclose(leverage[solvent], 2.0 * positions[solvent] / equity[solvent], rtol=1e-9)
    assert np.all(leverage[~solvent] == 0)
    np.testing.assert_allclose(r.metrics["calm_gross_leverage_x"], leverage[..., 0])
    np.testing.assert_allclose(r.metrics["rv_positions_usd_bn"], positions[..., 0])
    for name, values in r.series.items():
        assert np.isfinite(values).all(), f"{name} has non-finite values"
    for name in ("dealer_utilization_pct", "dealer_long_utilization_pct"):
        util = r.series[name]
        assert np.all((util >= 0) & (util < 100)), f"{name} outside [0, 100)"
    assert np.all(r.series["market_depth_usd_mn"] > 0)
    assert np.all(r.series["volatility_bp_per_day"] > 0)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_peaks_and_troughs_are_measured_against_day_0(scenario: str) -> None:
    r = run(scenario, tuple(PRESETS))
    assert np.all(r.series["yield_10y_change_bp"][..., 0] == 0)
    assert np.all(r.metrics["peak_10y_yield_change_bp"] >= 0)
    assert np.all(r.metrics["trough_market_depth_usd_mn"] <= r.series["market_depth_usd_mn"][..., 0] + TOL)
    np.testing.assert_allclose(
        r.series["yield_10y_change_bp"],
        r.series["fundamental_10y_change_bp"] + r.series["dislocation_bp"],
        atol=1e-9,
    )
    broken = r.metrics["broken_market_probability_pct"]
    np.testing.assert_allclose(broken, 100 * r.broken.mean(axis=1, keepdims=True) * np.ones_like(broken))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_dysfunction_and_breakdown_are_classifications_of_the_priced_paths(scenario: str) -> None:
    r = run(scenario, tuple(PRESETS))
    cal = load_calibration(engine.load_scenario(scenario).era)
    s = r.series
    wide = s["dislocation_bp"] >= cal["dysfunction_dislocation_bp"]
    full = s["dealer_utilization_pct"] >= 100 * cal["dysfunction_utilization"]
    np.testing.assert_array_equal(r.dysfunction, wide & full)
    extreme = s["dislocation_bp"] >= cal["breakdown_dislocation_bp"]
    empty = s["market_depth_usd_mn"] < cal["breakdown_depth_usd_mn"]
    beyond = extreme | empty
    two_days = np.zeros_like(beyond)
    two_days[..., 1:] = beyond[..., 1:] & beyond[..., :-1]  # a breakdown holds two trading days running
    np.testing.assert_array_equal(r.breakdown, two_days)
    np.testing.assert_array_equal(r.broken, r.breakdown.any(axis=-1))
    assert r.dysfunction.shape == r.breakdown.shape == (len(PRESETS), PATHS, r.days + 1)
    assert not r.dysfunction[..., 0].any() and not r.breakdown[..., 0].any(), "day 0 is calm"
    dysfunction = r.metrics["dysfunction_probability_pct"]
    share = 100 * r.dysfunction.any(axis=-1).mean(axis=1, keepdims=True)
    np.testing.assert_allclose(dysfunction, share * np.ones_like(dysfunction))
    np.testing.assert_array_equal(r.metrics["dysfunction_days"], r.dysfunction.sum(axis=-1))
    frame = r.functioning_frame()
    assert list(frame.columns) == ["regime", "day", "date", "dysfunction_share_pct", "breakdown_share_pct"]
    assert len(frame) == len(PRESETS) * (r.days + 1)
    first = frame[frame["regime"] == PRESETS[0]]
    np.testing.assert_allclose(first["dysfunction_share_pct"], 100 * r.dysfunction[0].mean(axis=0))
    np.testing.assert_allclose(first["breakdown_share_pct"], 100 * r.breakdown[0].mean(axis=0))


# --- no shock, no move ---------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("name", PRESETS)
def test_no_shock_means_no_move_under_every_preset(scenario: str, name: str) -> None:
    r = run(scenario, tuple(PRESETS), shock_scale=0.0)
    sc = engine.load_scenario(scenario)
    depth0 = load_calibration(sc.era)["calm_depth_usd_mn"]
    i = r.regime_index(name)
    s = {k: v[i] for k, v in r.series.items()}
    assert np.abs(s["yield_10y_change_bp"]).max() <= TOL, f"{name}: yields move with no shock"
    assert np.abs(s["dislocation_bp"]).max() <= TOL, name
    np.testing.assert_allclose(s["market_depth_usd_mn"], depth0, rtol=TOL, err_msg=name)
    assert np.abs(s["forced_sales_usd_bn"]).max() <= TOL, f"{name}: forced sales with no shock"
    assert np.abs(s["fed_purchases_usd_bn"]).max() == 0, f"{name}: Fed buys with no shock"
    assert not r.broken[i].any(), f"{name}: market breaks with no shock"
    assert not r.dysfunction[i].any(), f"{name}: dysfunction with no shock"
    for flat_at_zero in ("basis_widening_bp", "long_dislocation_bp", "yield_30y_change_bp", "dealer_inventory_usd_bn"):
        assert np.abs(s[flat_at_zero]).max() <= TOL, f"{name}: {flat_at_zero} moves with no shock"
    np.testing.assert_allclose(s["swap_spread_30y_bp"], load_calibration(sc.era)["calm_swap_spread_30y_bp"], atol=TOL)
    # Utilization is inventory over capacity: it may fall (never rise) when dated relief adds capacity.
    assert np.all(np.diff(s["dealer_utilization_pct"], axis=-1) <= 1e-9), f"{name}: utilization rises with no shock"
    for flat in ("rv_positions_usd_bn", "fund_equity_usd_bn", "volatility_bp_per_day"):
        day0 = np.broadcast_to(s[flat][:, :1], s[flat].shape)
        np.testing.assert_allclose(s[flat], day0, rtol=TOL, err_msg=f"{name}: {flat} moves with no shock")
    for sector in SECTORS:
        assert np.abs(r.net_purchases_usd_bn[sector][i]).max() <= TOL, f"{name}: {sector} trades"
    summary = r.summary()[name]
    assert summary["broken_market_probability_pct"]["p95"] == 0
    assert summary["peak_10y_yield_change_bp"]["p95"] <= TOL


# --- randomness ----------------------------------------------------------------------------------


def _arrays(r: engine.Result, regime: str) -> dict[str, np.ndarray]:
    i = r.regime_index(regime)
    out = {f"metric:{k}": v[i] for k, v in r.metrics.items()}
    out |= {f"series:{k}": v[i] for k, v in r.series.items()}
    out |= {f"flow:{k}": v[i] for k, v in r.net_purchases_usd_bn.items()}
    out |= {f"book:{k}": v[i] for k, v in r.sales_by_book_usd_bn.items()}
    out["broken"] = r.broken[i]
    out["dysfunction"] = r.dysfunction[i]
    out["breakdown"] = r.breakdown[i]
    return out


def test_same_seed_gives_identical_arrays() -> None:
    a = engine.simulate("foreign_selloff_2026", ["status_quo", "all_guardrails"], paths=80, seed=11)
    b = engine.simulate("foreign_selloff_2026", ["status_quo", "all_guardrails"], paths=80, seed=11)
    for regime in ("status_quo", "all_guardrails"):
        for key, value in _arrays(a, regime).items():
            np.testing.assert_array_equal(value, _arrays(b, regime)[key], err_msg=key)
    assert a.to_dict() == b.to_dict()


def test_different_seeds_differ() -> None:
    a = engine.simulate("march_2020", ["as_of_march_2020"], paths=80, seed=1)
    b = engine.simulate("march_2020", ["as_of_march_2020"], paths=80, seed=2)
    for key in ("metric:peak_10y_yield_change_bp", "metric:rv_positions_usd_bn", "series:market_depth_usd_mn"):
        assert not np.array_equal(_arrays(a, "as_of_march_2020")[key], _arrays(b, "as_of_march_2020")[key]), key


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_common_random_numbers_a_regime_ignores_its_companions(scenario: str) -> None:
    alone = engine.simulate(scenario, ["status_quo"], paths=60, seed=3)
    paired = engine.simulate(scenario, ["clearing_rule", "status_quo"], paths=60, seed=3)
    crowd = engine.simulate(scenario, [*reversed(PRESETS)], paths=60, seed=3)
    for other in (paired, crowd):
        for key, value in _arrays(alone, "status_quo").items():
            np.testing.assert_array_equal(value, _arrays(other, "status_quo")[key], err_msg=key)
    for key, value in _arrays(paired, "clearing_rule").items():
        np.testing.assert_array_equal(value, _arrays(crowd, "clearing_rule")[key], err_msg=key)


def test_a_longer_window_keeps_the_first_days() -> None:
    short = engine.simulate("foreign_selloff_2026", ["status_quo"], paths=50, seed=5, days=20)
    long = engine.simulate("foreign_selloff_2026", ["status_quo"], paths=50, seed=5, days=40)
    for name in SERIES:
        np.testing.assert_array_equal(short.series[name], long.series[name][..., :21], err_msg=name)
    assert list(short.dates) == list(long.dates[:21])


# --- monotone policy effects ---------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["march_2020", "foreign_selloff_2026", "april_2025"])
def test_a_bigger_shock_moves_yields_more_and_thins_depth(scenario: str) -> None:
    scales = [0.0, 0.5, 1.0, 1.5, 2.5, 5.0]
    results = [run(scenario, ("status_quo",), shock_scale=s) for s in scales]
    peaks = [med(r, "peak_10y_yield_change_bp", "status_quo") for r in results]
    troughs = [med(r, "trough_market_depth_usd_mn", "status_quo") for r in results]
    assert_non_decreasing(peaks, "median peak 10y change vs shock scale")
    assert_non_increasing(troughs, "median trough depth vs shock scale")
    assert peaks[-1] > peaks[0] + 10 and troughs[-1] < troughs[0]


FED_PACES = [0.0, 25.0, 75.0, 150.0, 200.0]


def _fed_pace_run(scenario: str) -> engine.Result:
    regs = tuple(variant({"fed_backstop.max_pace_usd_bn_per_day": p}, f"pace {p:g}") for p in FED_PACES)
    return run(scenario, regs, paths=200)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_faster_fed_backstop_does_not_raise_the_median_peak(scenario: str) -> None:
    r = _fed_pace_run(scenario)
    names = [f"pace {p:g}" for p in FED_PACES]
    medians = [med(r, "peak_10y_yield_change_bp", n) for n in names]
    # Monotone up to 1% (the whipsaw below moves a few paths); strictly better at the ends.
    for a, b in itertools.pairwise(medians):
        assert b <= a * 1.01 + 1e-9, f"median peak vs Fed pace rose: {medians}"
    assert np.all(metric(r, "fed_purchases_usd_bn", "pace 0") == 0)
    strongest, none = names[-1], names[0]
    assert metric(r, "peak_10y_yield_change_bp", strongest).mean() <= metric(r, "peak_10y_yield_change_bp", none).mean()
    assert metric(r, "broken_market_probability_pct", strongest)[0] <= metric(r, "broken_market_probability_pct", none)[0], (
        "the strongest backstop must not raise the broken-market share"
    )


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "weak_auction_term_premium"])
def test_a_faster_fed_backstop_does_not_raise_the_peak_on_any_path(scenario: str) -> None:
    peaks = _fed_pace_run(scenario).metrics["peak_10y_yield_change_bp"]
    assert np.all(np.diff(peaks, axis=0) <= 1e-6), "a faster backstop raised the peak on some paths"


@pytest.mark.xfail(
    strict=True,
    reason="engine doubt (model 2.0): with common random numbers, a faster Fed backstop raises the peak "
    "10y change on a few paths of weak_auction_term_premium (seed 7, 200 paths: 5 paths by up to 0.29bp "
    "from $75bn to $150bn a day, 2 paths by up to 0.11bp from $150bn to $200bn). Fed buying narrows the "
    "dislocation abruptly and the volatility feedback sigma = sigma_exog + eta*|change in dislocation| "
    "treats the narrowing as volatility, so margins rise and funds sell again (the backstop whipsaws).",
)
def test_a_faster_fed_backstop_does_not_raise_the_peak_on_any_path_after_weak_auctions() -> None:
    peaks = _fed_pace_run("weak_auction_term_premium").metrics["peak_10y_yield_change_bp"]
    assert np.all(np.diff(peaks, axis=0) <= 1e-6), "a faster backstop raised the peak on some paths"


def test_a_faster_fed_backstop_does_not_raise_the_breakdown_share_in_march_2020() -> None:
    """Up to twice the 2020 pace, a faster backstop does not raise the breakdown share, and any
    backstop breaks down far less often than none.

    Known limit (methodology): beyond that, a very fast rescue snaps the dislocation back in a day,
    the volatility feedback books the rally as volatility and depth thins for a day or two; at
    $200bn/day the share rises again (1,000 paths, seed 0: 1.3 / 0.7 / 0.4 / 1.1% at 75 / 100 / 150 /
    200, with breakdown requiring two days running). No backstop: above 99%.
    """
    paces = [75.0, 100.0, 150.0]
    regs = tuple(variant({"fed_backstop.max_pace_usd_bn_per_day": p}, f"pace {p:g}") for p in paces)
    r = run("march_2020", (*regs, policy.get_preset("no_fed_backstop")), paths=1000, seed=0)
    shares = [100.0 * float(r.broken[i].mean()) for i in range(len(paces))]
    assert_non_increasing(shares, "breakdown share (%) vs the Fed's maximum pace", tol=0.5)
    assert 100.0 * float(r.broken[-1].mean()) > 10 * max(shares[0], 1.0)


RELIEF = [0.0, 0.5, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_more_leverage_ratio_relief_does_not_raise_peak_utilization(scenario: str) -> None:
    # Without the Fed's rule the effect is pathwise. With it, the rule buys less when relief narrows
    # the dislocation and holds the dislocation near its threshold, and utilization moves with the
    # dislocation (calm utilization is the same under every relief setting): the median may then rise
    # by a little (march_2020, seed 7: 94.41% with no buffer cut, 94.50% with a 3pp cut), up to 1%.
    for fed_on in (False, True):
        regs = tuple(
            variant({"leverage_ratio_relief.buffer_reduction_pp": b, "fed_backstop.enabled": fed_on}, f"relief {b:g}")
            for b in RELIEF
        )
        r = run(scenario, regs)
        util = np.stack([metric(r, "peak_dealer_utilization_pct", f"relief {b:g}") for b in RELIEF])
        if not fed_on:
            assert np.all(np.diff(util, axis=0) <= 1e-9), "relief raised peak utilization on a path"
        medians = [float(np.median(u)) for u in util]
        for a, b in itertools.pairwise(medians):
            assert b <= a * 1.01 + 1e-9, f"median peak utilization (fed {fed_on}) rose: {medians}"
        assert medians[-1] <= medians[0] * (1.01 if fed_on else 1.0) + 1e-9


def test_the_treasury_exclusion_only_helps_from_its_effective_day() -> None:
    # effective_day delays the whole relief group, so the base has no buffer cut either.
    off = variant({"fed_backstop.enabled": False, "leverage_ratio_relief.buffer_reduction_pp": 0.0}, "base")
    regs = (
        off,
        variant({"leverage_ratio_relief.treasury_exclusion_pct": 100.0}, "excl now", off),
        variant(
            {"leverage_ratio_relief.treasury_exclusion_pct": 100.0, "leverage_ratio_relief.effective_day": 10},
            "excl day 10",
            off,
        ),
    )
    r = run("march_2020", regs)
    u = r.series["dealer_utilization_pct"]
    base, now, later = (u[r.regime_index(n)] for n in ("base", "excl now", "excl day 10"))
    # Relief already in force is part of the calm market: dealers hold the calm utilization of their
    # larger capacity, so day 0 looks the same; the headroom shows once the shock hits.
    calm = 100 * load_calibration("2020")["calm_utilization"]
    np.testing.assert_allclose(now[:, 0], calm)
    np.testing.assert_allclose(base[:, 0], calm)
    assert np.all(now.max(-1) <= base.max(-1) + 1e-9)
    np.testing.assert_array_equal(later[:, :10], base[:, :10])
    assert np.all(later[:, 10] < base[:, 10]), "capacity added on day 10 lowers utilization that day"
    assert np.all(later.max(-1) <= base.max(-1) + 1e-9)


HAIRCUT_FLOORS = [0.0, 1.0, 2.0, 4.0, 10.0]


@pytest.mark.parametrize("scenario", ["march_2020", "foreign_selloff_2026"])
def test_a_higher_haircut_floor_lowers_calm_positions_and_raises_calm_cost(scenario: str) -> None:
    # Below a book's VaR margin the floor does not bind (no change); above it, it does.
    cleared = variant({"clearing.enabled": True}, "cleared")
    regs = tuple(variant({"clearing.haircut_floor_pct": m}, f"floor {m:g}", cleared) for m in HAIRCUT_FLOORS)
    r = run(scenario, regs)
    pos = np.stack([metric(r, "rv_positions_usd_bn", f"floor {m:g}") for m in HAIRCUT_FLOORS])
    cost = np.stack([metric(r, "calm_yield_cost_bp", f"floor {m:g}") for m in HAIRCUT_FLOORS])
    assert np.all(np.diff(pos, axis=0) <= 1e-9), "a higher floor raised calm positions on a path"
    assert np.all(np.diff(cost, axis=0) >= -1e-12), "a higher floor lowered calm cost on a path"
    assert np.all(pos[-1] < pos[0]) and np.all(cost[-1] > cost[0])


LEVERAGE_CAPS = [100.0, 50.0, 20.0, 12.0, 8.0, 5.0]


@pytest.mark.parametrize("enforcement", ["daily", "averaged", "released"])
def test_a_lower_leverage_cap_lowers_calm_positions(enforcement: str) -> None:
    capped = variant({"leverage_cap.enabled": True, "leverage_cap.enforcement": enforcement}, "capped")
    regs = (SQ, *(variant({"leverage_cap.max_gross_leverage_x": x}, f"cap {x:g}", capped) for x in LEVERAGE_CAPS))
    r = run("foreign_selloff_2026", regs)
    pos = np.stack([metric(r, "rv_positions_usd_bn", n) for n in ["status_quo"] + [f"cap {x:g}" for x in LEVERAGE_CAPS]])
    cost = np.stack([metric(r, "calm_yield_cost_bp", n) for n in ["status_quo"] + [f"cap {x:g}" for x in LEVERAGE_CAPS]])
    assert np.all(np.diff(pos, axis=0) <= 1e-9), "a lower cap raised calm positions on a path"
    assert np.all(np.diff(cost, axis=0) >= -1e-12), "a lower cap lowered calm cost on a path"
    assert np.all(pos[-1] < pos[0]), "a 5x cap must bind"
    # The cap covers 85% of the books (and part of what capped funds give up leaks to uncapped ones),
    # so aggregate calm leverage need not be under the cap, but it falls with the cap.
    names = ["status_quo"] + [f"cap {x:g}" for x in LEVERAGE_CAPS]
    leverage0 = np.stack([metric(r, "calm_gross_leverage_x", n) for n in names])
    assert np.all(np.diff(leverage0, axis=0) <= 1e-9), "a lower cap raised calm leverage on a path"
    assert np.all(leverage0[-1] < leverage0[0])


def _enforcement_run(scenario: str, cap: float) -> engine.Result:
    regs = tuple(
        variant({"leverage_cap.enabled": True, "leverage_cap.max_gross_leverage_x": cap, "leverage_cap.enforcement": e}, e)
        for e in ("daily", "averaged", "released")
    )
    return run(scenario, regs, paths=200)


def _daily_versus_released(scenario: str, cap: float) -> None:
    r = _enforcement_run(scenario, cap)
    daily, released = metric(r, "forced_sales_usd_bn", "daily"), metric(r, "forced_sales_usd_bn", "released")
    np.testing.assert_array_equal(metric(r, "rv_positions_usd_bn", "daily"), metric(r, "rv_positions_usd_bn", "released"))
    # In the first week a daily cap sells at least what a released one does, on every path.
    cumulative = r.series["forced_sales_usd_bn"].cumsum(axis=-1)[..., :6]
    assert np.all(cumulative[r.regime_index("daily")] >= cumulative[r.regime_index("released")] - 1e-9)
    assert np.median(daily) >= np.median(released) - 1e-9, (float(np.median(daily)), float(np.median(released)))
    assert daily.mean() >= released.mean() - 1e-9, (float(daily.mean()), float(released.mean()))


@pytest.mark.parametrize(
    ("scenario", "cap"),
    [("march_2020", 5.0), ("march_2020", 12.0), ("foreign_selloff_2026", 5.0), ("foreign_selloff_2026", 12.0)],
)
def test_daily_enforcement_forces_at_least_the_sales_of_a_released_cap(scenario: str, cap: float) -> None:
    _daily_versus_released(scenario, cap)


@pytest.mark.parametrize("scenario", ["march_2020", "foreign_selloff_2026"])
def test_a_20x_cap_that_barely_binds_changes_total_sales_little_whatever_its_enforcement(scenario: str) -> None:
    """At 20x (binding in calm on about half the paths) daily enforcement front-loads sales that funds'
    liquidity management would make a little later anyway, so over the window it sells about what a
    released cap does (200 paths, seed 7: march_2020 median $79.3bn daily vs $79.5bn released;
    foreign_selloff_2026 179.9 vs 180.1): within 2%. Tighter caps are tested above (daily >= released).
    """
    daily = variant({"leverage_cap.enabled": True, "leverage_cap.max_gross_leverage_x": 20.0,
                     "leverage_cap.enforcement": "daily"}, "daily")
    released = variant({"leverage_cap.enabled": True, "leverage_cap.max_gross_leverage_x": 20.0,
                        "leverage_cap.enforcement": "released"}, "released")
    r = run(scenario, (daily, released))
    a, b = med(r, "forced_sales_usd_bn", "daily"), med(r, "forced_sales_usd_bn", "released")
    assert abs(a - b) <= 0.02 * b


# The leverage_cap preset uses the averaged form as the gentler one (MODEL.md sec. 4).
@pytest.mark.parametrize("cap", [5.0, 8.0])
def test_averaged_enforcement_forces_no_more_sales_than_daily(cap: float) -> None:
    r = _enforcement_run("foreign_selloff_2026", cap)
    daily, averaged = metric(r, "forced_sales_usd_bn", "daily"), metric(r, "forced_sales_usd_bn", "averaged")
    assert np.median(averaged) <= np.median(daily) + 1e-9


def test_a_released_cap_behaves_like_no_cap_in_stress_once_the_book_is_the_same() -> None:
    # With a cap loose enough not to bind in calm, 'released' must be the status quo exactly.
    regs = (
        SQ,
        variant(
            {"leverage_cap.enabled": True, "leverage_cap.max_gross_leverage_x": 100.0, "leverage_cap.enforcement": "released"},
            "released 100",
        ),
    )
    # Equal up to float rounding: the uncovered and covered shares (1 - 0.85) + 0.85 add up to 1 + 1 ulp.
    r = run("foreign_selloff_2026", regs)
    for key, value in _arrays(r, "status_quo").items():
        np.testing.assert_allclose(value, _arrays(r, "released 100")[key], rtol=1e-12, atol=1e-9, err_msg=key)


CALM_COSTS = [m for m in engine.METRICS if m.startswith("calm_") and m != "calm_gross_leverage_x"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_status_quo_has_no_calm_cost(scenario: str) -> None:
    r = run(scenario, tuple(PRESETS))
    assert len(CALM_COSTS) >= 8
    for m in CALM_COSTS:
        assert np.all(metric(r, m, "status_quo") == 0), m
    # The rules as they were and the Fed's backstop leave calm positions alone: no calm cost either.
    for name in ("no_fed_backstop", "as_of_september_2019", "as_of_march_2020", "as_of_april_2025"):
        for m in ("calm_yield_cost_bp", "calm_basis_widening_bp"):
            assert np.all(np.abs(metric(r, m, name)) <= 1e-12), (name, m)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("preset", ["clearing_rule", "dealer_rule", "leverage_cap", "all_guardrails"])
def test_each_guardrail_has_a_non_negative_calm_cost(scenario: str, preset: str) -> None:
    # Tolerance: where the leverage cap does not bind, the costs are about -1e-15 (float rounding of
    # the covered and uncovered shares, 0.15000000000000002 + 0.85), not exactly 0.
    r = run(scenario, tuple(PRESETS))
    for m in CALM_COSTS:
        if m == "calm_swap_spread_change_bp":
            continue
        assert np.all(metric(r, m, preset) >= -1e-12), m
    assert np.all(metric(r, "calm_swap_spread_change_bp", preset) <= 1e-12), "Treasuries never richen against swaps"


@pytest.mark.parametrize("preset", ["clearing_rule", "dealer_rule", "all_guardrails"])
def test_each_guardrail_shrinks_the_calm_book_at_a_calm_cost(preset: str) -> None:
    r = run("foreign_selloff_2026", ("status_quo", preset))
    assert np.all(metric(r, "rv_positions_usd_bn", preset) < metric(r, "rv_positions_usd_bn", "status_quo"))
    assert np.all(metric(r, "calm_yield_cost_bp", preset) > 0)
    interest = metric(r, "calm_interest_cost_usd_bn_per_year", preset)
    assert np.all(metric(r, "calm_first_year_interest_cost_usd_bn", preset) <= interest + 1e-9)
    assert np.all(metric(r, "calm_first_year_interest_cost_usd_bn", preset) > 0)


def test_the_leverage_cap_costs_where_it_binds() -> None:
    r = run("foreign_selloff_2026", ("status_quo", "leverage_cap"))
    sq_leverage = metric(r, "calm_gross_leverage_x", "status_quo")
    shrunk = metric(r, "rv_positions_usd_bn", "leverage_cap") < metric(r, "rv_positions_usd_bn", "status_quo") - 1e-9
    assert np.all(shrunk[sq_leverage > 20.0]), "a book above 20x must shrink under a 20x cap"
    assert np.all(metric(r, "calm_yield_cost_bp", "leverage_cap")[shrunk] > 0)
    assert np.all(np.abs(metric(r, "calm_yield_cost_bp", "leverage_cap")[~shrunk]) <= 1e-12)


def test_all_guardrails_cost_at_least_each_rule_alone() -> None:
    r = run("foreign_selloff_2026", ("clearing_rule", "dealer_rule", "all_guardrails"))
    for alone in ("clearing_rule", "dealer_rule"):
        assert np.all(metric(r, "rv_positions_usd_bn", "all_guardrails") <= metric(r, "rv_positions_usd_bn", alone) + 1e-9)


def test_foreign_demand_shift_moves_calm_cost_the_right_way() -> None:
    shifts = [-1000.0, -200.0, 0.0, 200.0, 1000.0]
    regs = tuple(variant({"foreign_demand.calm_shift_usd_bn": s}, f"shift {s:g}") for s in shifts)
    r = run("foreign_selloff_2026", regs)
    cost = np.stack([metric(r, "calm_yield_cost_bp", f"shift {s:g}") for s in shifts])
    assert np.all(np.diff(cost, axis=0) < 0), "more foreign demand must lower calm yields"
    assert np.all(cost[0] > 0) and np.all(cost[-1] < 0)
    np.testing.assert_array_equal(metric(r, "rv_positions_usd_bn", "shift -1000"), metric(r, "rv_positions_usd_bn", "shift 0"))


def test_fed_backstop_off_means_no_fed_purchases_without_a_schedule() -> None:
    r = run("foreign_selloff_2026", (variant({"fed_backstop.enabled": False}, "no fed"), "as_of_april_2025"))
    assert np.all(r.metrics["fed_purchases_usd_bn"] == 0)


def test_historical_schedule_is_scaled_by_shock_scale() -> None:
    sched = np.array(policy.get_preset("as_of_march_2020").fed_backstop.purchase_schedule_usd_bn_per_day)
    for scale in (0.5, 1.0, 2.0):
        r = run("march_2020", ("as_of_march_2020",), shock_scale=scale)
        fed = r.series["fed_purchases_usd_bn"][0]
        np.testing.assert_allclose(fed[:, 1:], np.broadcast_to(scale * sched[: r.days], fed[:, 1:].shape))


# --- lever matrix (min, default, max of every lever) ---------------------------------------------


def _lever_values(spec: policy.LeverSpec) -> list[Any]:
    if spec.type == "bool":
        return [False, True]
    if spec.type == "choice":
        return list(spec.choices or ())
    cast = int if spec.type == "int" else float
    assert spec.min is not None and spec.max is not None
    return sorted({cast(spec.min), cast(spec.default), cast(spec.max)})


def _matrix() -> list[tuple[str, policy.PolicyRegime]]:
    out = []
    for base_name in ("status_quo", "all_guardrails", "as_of_march_2020"):
        base = policy.get_preset(base_name)
        for spec in policy.lever_specs():
            for value in _lever_values(spec):
                label = f"{base_name}: {spec.path} = {value}"
                out.append((label, policy.with_changes(base, {spec.path: value}, name=f"m{len(out)}")))
    return out


MATRIX = _matrix()


@pytest.mark.parametrize("scenario", ["march_2020", "foreign_selloff_2026"])
def test_every_lever_at_min_default_max_gives_finite_ordered_metrics(scenario: str) -> None:
    r = engine.simulate(scenario, [reg for _, reg in MATRIX], paths=60, seed=2)
    summary = r.summary()
    total = sum(r.net_purchases_usd_bn[s] for s in SECTORS)
    for label, reg in MATRIX:
        i = r.regime_index(reg.name)
        for name, values in r.metrics.items():
            assert np.isfinite(values[i]).all(), f"{label}: {name} not finite"
        for name, values in r.series.items():
            assert np.isfinite(values[i]).all(), f"{label}: series {name} not finite"
        for name, stats in summary[reg.name].items():
            assert stats["p5"] <= stats["p50"] <= stats["p95"], f"{label}: {name} {stats}"
        assert np.abs(total[i]).max() <= 1e-8 * max(1.0, float(np.abs(r.net_purchases_usd_bn["dealers"][i]).max()))
        assert 0 <= summary[reg.name]["broken_market_probability_pct"]["p50"] <= 100


# --- the result contract -------------------------------------------------------------------------


def test_to_dict_has_the_documented_keys() -> None:
    r = engine.simulate("foreign_selloff_2026", ["status_quo", "clearing_rule"], paths=50, seed=4, shock_scale=1.5)
    d = r.to_dict()
    assert set(d) == {
        "schema_version",
        "model_version",
        "scenario",
        "fundamental_mode",
        "seed",
        "paths",
        "days",
        "shock_scale",
        "baseline",
        "regimes",
    }
    assert d["schema_version"] == 3 == engine.result.SCHEMA_VERSION
    assert {2, 3} <= set(engine.result.SCHEMA_CHANGES)
    assert d["model_version"] == "2.0.0"
    assert d["fundamental_mode"] == "points"
    assert d["model_version"] == engine.MODEL_VERSION and d["model_version"]
    assert (d["scenario"], d["seed"], d["paths"], d["days"], d["shock_scale"]) == ("foreign_selloff_2026", 4, 50, 40, 1.5)
    assert list(d["regimes"]) == ["status_quo", "clearing_rule"]
    for name, entry in d["regimes"].items():
        keys = {"summary", "forced_sales_by_book_usd_bn", "net_purchases_usd_bn", "dysfunction_share_by_day_pct",
                "exceedance_pct"}
        assert set(entry) == (keys if name == d["baseline"] else keys | {"differences"})
        assert len(entry["dysfunction_share_by_day_pct"]) == r.days + 1
        assert set(entry["summary"]) == set(engine.METRICS)
        for stats in entry["summary"].values():
            assert list(stats) == ["p5", "p50", "p95"]
            assert all(isinstance(x, float) and math.isfinite(x) for x in stats.values())
        assert set(entry["forced_sales_by_book_usd_bn"]) == {"basis", "swap_spread", "other"}
        sectors = entry["net_purchases_usd_bn"]
        assert set(sectors) == {
            "rv_funds",
            "dealers",
            "foreign_official",
            "foreign_private",
            "mutual_funds",
            "value_buyers",
            "fed",
            "treasury",
        }
        assert abs(sum(sectors.values())) <= 1e-6 * max(1.0, max(abs(v) for v in sectors.values()))
    with_series = r.to_dict(series=True)["regimes"]["status_quo"]
    assert set(with_series["series"]) == set(SERIES)
    assert len(with_series["dates"]) == r.days + 1
    assert len(with_series["series"]["yield_10y_change_bp"]["p50"]) == r.days + 1

    json.dumps(r.to_dict(series=True), allow_nan=False)


def test_frames_are_tidy_and_consistent() -> None:
    r = run("foreign_selloff_2026", ("status_quo", "clearing_rule"))
    summary = r.summary_frame()
    assert list(summary.columns) == ["regime", "metric", "unit", "stat", "value"]
    assert len(summary) == 2 * len(engine.METRICS) * 3
    holdings = r.holdings_frame()
    per_day = holdings.groupby(["regime", "day"])["cumulative_net_purchases_usd_bn"].sum()
    assert per_day.abs().max() <= 1e-6
    series = r.series_frame(["yield_10y_change_bp"])
    assert ((series["p5"] <= series["p50"] + 1e-9) & (series["p50"] <= series["p95"] + 1e-9)).all()


# --- input errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"paths": 0}, "paths"),
        ({"paths": -5}, "paths"),
        ({"paths": 100_001}, "paths"),
        ({"paths": 2.5}, "paths"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**32}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"shock_scale": 6.0}, "shock_scale"),
        ({"shock_scale": -0.1}, "shock_scale"),
        ({"shock_scale": math.nan}, "shock_scale"),
        ({"shock_scale": math.inf}, "shock_scale"),
        ({"days": 0}, "days"),
        ({"days": 251}, "days"),
        ({"days": 10.5}, "days"),
        ({"regimes": ["status_quo", "status_quo"]}, "regime"),
        ({"regimes": ["status_quo", policy.with_changes(SQ, {}, name="status_quo")]}, "regime"),
        ({"regimes": ["no_such_regime"]}, "regime"),
        ({"regimes": ["../../etc/passwd"]}, "regime"),
        ({"scenario": "no_such_scenario"}, "scenario"),
        ({"scenario": "../engine/api"}, "scenario"),
        ({"assumptions": {"no_such_value": 1.0}}, "assumptions.no_such_value"),
        ({"assumptions": {"fundamental_share": 2.0}}, "assumptions.fundamental_share"),
        ({"assumptions": {"fundamental_share": math.nan}}, "assumptions.fundamental_share"),
        ({"assumptions": {"rule_leakage_share": 0.9}}, "assumptions.rule_leakage_share"),
        ({"assumptions": {"fed_lag_deviation_days": -3.0}}, "assumptions.fed_lag_deviation_days"),
        ({"fundamental_mode": "bogus"}, "fundamental_mode"),
    ],
)
def test_bad_api_input_raises_input_error_naming_the_field(kwargs: dict[str, Any], field: str) -> None:
    args = {"scenario": "march_2020", "regimes": ["status_quo"], "paths": 10, **kwargs}
    scenario = args.pop("scenario")
    with pytest.raises(engine.InputError) as info:
        engine.simulate(scenario, **args)
    assert str(info.value).startswith(f"{field}:"), str(info.value)
    assert "allowed" in str(info.value) or "twice" in str(info.value)


def test_bad_regime_file_through_the_api_is_an_input_error(tmp_path: Any) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"name": "bad", "clearing": {"haircut_floor_pct": 50}}')
    with pytest.raises(engine.InputError, match=r"bad\.json: clearing\.haircut_floor_pct: .*allowed: a number from 0 to 10"):
        engine.simulate("march_2020", [str(path)], paths=10)
    good = tmp_path / "good.json"
    good.write_text(policy.regime_to_json(policy.with_changes(SQ, {"clearing.enabled": True}, name="mine")))
    r = engine.simulate("march_2020", [str(good), "status_quo"], paths=10)
    assert r.regime_names == ["mine", "status_quo"]


@pytest.mark.parametrize("days", [1, 2, 3, 4, 5, 250])
def test_every_allowed_window_length_runs(days: int) -> None:
    for scenario in ("march_2020", "foreign_selloff_2026"):
        r = engine.simulate(scenario, ["status_quo"], paths=5, days=days)
        assert r.days == days and len(r.dates) == days + 1
        assert all(np.isfinite(v).all() for v in r.metrics.values())


def test_default_regime_is_the_scenarios_own() -> None:
    for scenario in SCENARIOS:
        r = engine.simulate(scenario, paths=5)
        assert r.regime_names == [engine.load_scenario(scenario).regime]
        assert r.days == engine.load_scenario(scenario).default_days
