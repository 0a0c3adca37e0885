"""Daily stress dynamics (MODEL.md section 3), vectorized over regime x path.

The loop runs over days only; every operation inside acts on (R, P) arrays. Channels, in order
within a day: margins react to yesterday's volatility and today's funding stress; funds cut
positions (volatility targeting, margin calls, leverage cap) at a bounded pace; funds that still
cannot meet margin fail and their collateral is dumped (bilateral) or auctioned (CCP); the Fed
buys by rule or schedule; dealers, value buyers and slow-moving investors absorb the net sales,
and dealer utilization sets the dislocation; prices move, funds take the losses, volatility feeds
back, depth follows volatility and utilization.
"""

from dataclasses import dataclass

import numpy as np

from engine.calibration import Calibration
from engine.calm import CalmState
from engine.draws import Draws
from engine.scenario import EXOGENOUS_SECTORS, ShockPaths
from engine.transmission import (
    BOOKS,
    RegimeParams,
    capped_funding_stress,
    margin_rates,
    required_per_dollar,
)

SECTORS: tuple[str, ...] = (
    "rv_funds",
    "dealers",
    "foreign_official",
    "foreign_private",
    "mutual_funds",
    "value_buyers",
    "fed",
    "treasury",
)

SERIES: dict[str, str] = {
    "yield_10y_change_bp": "10y yield change from day 0 (bp)",
    "fundamental_10y_change_bp": "Fundamental part of the 10y change (bp)",
    "dislocation_bp": "Cash cheapening beyond fundamentals (bp)",
    "market_depth_usd_mn": "Top-3-level 10y order-book depth ($mn)",
    "dealer_utilization_pct": "Dealer balance-sheet utilization (%)",
    "basis_widening_bp": "Cash-futures basis widening (bp)",
    "swap_spread_30y_bp": "30y swap spread (bp)",
    "fund_leverage_x": "RV fund leverage (position / equity, x)",
    "fund_equity_usd_bn": "RV fund equity ($bn)",
    "rv_positions_usd_bn": "RV positions ($bn)",
    "forced_sales_usd_bn": "RV net cash sales incl. liquidations ($bn/day)",
    "margin_calls_usd_bn": "Margin calls: new margin plus mark-to-market losses ($bn/day)",
    "fed_purchases_usd_bn": "Fed purchases ($bn/day)",
    "volatility_bp_per_day": "10y yield volatility (bp/day)",
}


@dataclass(frozen=True)
class StressOutput:
    """Daily arrays (R, P, T+1) keyed by series name, plus per-book sales and sector flows."""

    series: dict[str, np.ndarray]
    sales_by_book_usd_bn: dict[str, np.ndarray]  # (R, P) cumulative net cash sales
    net_purchases_usd_bn: dict[str, np.ndarray]  # (R, P, T+1) daily net purchases by sector
    broken: np.ndarray  # (R, P) bool


def _rolling_rms(changes: np.ndarray, window: int) -> np.ndarray:
    """Causal rolling root-mean-square over the last `window` days (axis -1)."""
    squared = np.cumsum(changes**2, axis=-1)
    n = changes.shape[-1]
    lagged = np.zeros_like(squared)
    if n > window:
        lagged[..., window:] = squared[..., :-window]
    counts = np.minimum(np.arange(1, n + 1), window)
    return np.sqrt((squared - lagged) / counts)


def exogenous_paths(
    shocks: ShockPaths, draws: Draws, cal: Calibration, shock_scale: float
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Fundamental 10y path (P, T+1), exogenous volatility (P, T+1), sector sales, funding stress."""
    if shocks.observed_move_bp is not None:
        fundamental = draws.fundamental_share[:, None] * shocks.observed_move_bp[None, :]
    else:
        assert shocks.fundamental_points_bp is not None
        fundamental = draws.shock_size[:, None] * shocks.fundamental_points_bp[None, :]
    fundamental = shock_scale * fundamental
    daily_change = np.diff(fundamental, axis=1, prepend=fundamental[:, :1])
    # Exogenous volatility is the larger of the calm level and the fundamental part's own
    # realized volatility (5-day RMS), so neither calm news nor the model's feedback
    # (eta * |change in dislocation|) is counted twice.
    sigma_exog = np.maximum(cal["calm_volatility_bp_per_day"], _rolling_rms(daily_change, 5))
    flows = {
        sector: shock_scale * draws.shock_size[:, None] * draws.flow_noise * shocks.flows_usd_bn[sector]
        for sector in EXOGENOUS_SECTORS
    }
    funding = shock_scale * shocks.funding_stress_bp
    return fundamental, sigma_exog, flows, funding


def _solve_utilization(capacity: np.ndarray, absorb: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """Utilization u solving capacity*u + slope*u/(1-u) = absorb (the smaller root, in [0, 1))."""
    b = capacity + slope + absorb
    disc = np.maximum(b * b - 4.0 * capacity * absorb, 0.0)
    u = (b - np.sqrt(disc)) / (2.0 * capacity)
    return np.clip(u, 0.0, 0.999999)


def run_stress(
    rp: RegimeParams,
    cal: Calibration,
    draws: Draws,
    calm: CalmState,
    shocks: ShockPaths,
    shock_scale: float,
    days: int,
) -> StressOutput:
    """Simulate `days` trading days of stress for every regime and path."""
    n_regimes, n_paths = len(rp.names), draws.shock_size.shape[0]
    shape = (n_regimes, n_paths)
    v = draws.value
    fundamental, sigma_exog, flows, funding = exogenous_paths(shocks, draws, cal, shock_scale)
    sigma0 = cal["calm_volatility_bp_per_day"]
    schedule = shock_scale * rp.fed_schedule

    # Dealers: calm inventory is set by the era's capacity; regimes with more capacity start
    # less utilized.
    base_capacity = cal["dealer_capacity_usd_bn"] * draws.capacity_multiplier
    inventory0 = cal["calm_utilization"] * base_capacity * np.ones(shape)
    capacity_calm = base_capacity * (1.0 + rp.netting_gain)
    slope = v("dislocation_slope_bp")
    value_elasticity = v("value_buyer_elasticity_usd_bn_per_bp_per_tn") * cal["marketable_debt_usd_bn"] / 1000.0
    u_limit = v("utilization_limit")
    relief_active0 = rp.relief_day <= 0
    u0 = inventory0 / (capacity_calm * (1.0 + rp.relief_gain * relief_active0))
    # Books are stacked on a leading axis (basis, swap_spread, other): arrays (3, R, P).
    durations = np.array([cal[f"duration_{b}_years"] for b in BOOKS])[:, None, None]
    net_cash = np.array([1.0, 1.0, cal["other_book_net_cash_share"]])[:, None, None]
    betas = np.stack(
        [
            v("basis_dislocation_beta"),
            v("swap_spread_dislocation_beta"),
            np.full(n_paths, cal["other_dislocation_beta"]),
        ]
    )[:, None, :]

    positions = np.stack([np.broadcast_to(calm.positions[b], shape) for b in BOOKS]).astype(float)
    position0_total = positions.sum(axis=0)
    required0 = np.stack([np.broadcast_to(calm.required_per_dollar[b], shape) for b in BOOKS])
    equity = np.broadcast_to(calm.equity, shape).astype(float)
    cumulative_loss = np.zeros((len(BOOKS), *shape))
    sales_by_book = np.zeros((len(BOOKS), *shape))
    queue_bilateral, queue_ccp = np.zeros(shape), np.zeros(shape)
    absorbed = np.zeros(shape)  # dealers' extra inventory plus value buyers' holdings
    inventory, value_holdings = inventory0.copy(), np.zeros(shape)
    dislocation = np.zeros(shape)
    sigma = np.full(shape, sigma0)
    sigma_smooth = sigma.copy()
    spread_sigma = sigma.copy()
    broken = np.zeros(shape, dtype=bool)
    required_prev = (positions * required0).sum(axis=0)

    t_len = days + 1
    # Histories are time-major (day, regime, path) so each day's write is contiguous.
    out = {name: np.zeros((t_len, *shape)) for name in SERIES}
    flows_out = {s: np.zeros((t_len, *shape)) for s in SECTORS}
    equity_cum = np.zeros((t_len + 1, *shape))  # equity_cum[k] = sum of equity on days < k
    equity0 = equity.copy()
    equity_cum[1] = equity0
    dislocation_hist = np.zeros((t_len, *shape))
    u_ref_hist = np.broadcast_to(u0, (t_len, *shape)).copy()  # calm utilization at policy capacity
    averaged_cap = bool(np.any((rp.cap_on > 0) & (rp.cap_mode == 1)))
    regime_idx = np.arange(n_regimes)
    smooth = cal["volatility_smoothing"]
    vb_slope = value_elasticity * slope
    odds_limit = u_limit / (1.0 - u_limit)
    liquidation_rates = (min(1.0, 1.0 / cal["bilateral_liquidation_days"]), min(1.0, 1.0 / cal["ccp_auction_days"]))

    _record_day(out, 0, fundamental[:, 0], dislocation, u0, sigma, position0_total, equity, 0.0, 0.0, 0.0, 0.0)

    for t in range(1, t_len):
        sigma_ratio = sigma / sigma0
        stress_dealers, stress_funds = capped_funding_stress(funding[t], rp)
        margins = margin_rates(rp, cal, draws, sigma_ratio, stress_funds)
        required = required_per_dollar(rp, np.stack([margins[b] for b in BOOKS]))
        required_total = (positions * required).sum(axis=0)
        total = np.maximum(positions.sum(axis=0), 1e-9)

        # 1. Deleveraging: volatility targeting (partial adjustment on smoothed volatility),
        # margin calls and the leverage cap; the largest need wins, at a bounded daily pace.
        # Hedged RV books carry spread risk, not outright rate risk: funds target the volatility the
        # dislocation adds (sigma0 + eta |change in d|), not the fundamental repricing.
        sigma_smooth = smooth * sigma_smooth + (1.0 - smooth) * spread_sigma
        vol_target = position0_total * (sigma0 / sigma_smooth) ** v("derisking_vol_elasticity")
        vol_sales = v("derisking_speed_per_day") * np.maximum(total - vol_target, 0.0)
        short_of_margin = equity < required_total * (1.0 + v("min_buffer_ratio"))
        target = np.maximum(equity, 0.0) / np.maximum(required_total * (1.0 + v("target_buffer_ratio")), 1e-12)
        margin_sales = np.where(short_of_margin, total * np.clip(1.0 - target, 0.0, 1.0), 0.0)
        cap_sales = total * (1.0 - _cap_scale(rp, equity, total, equity_cum, equity0, t, averaged_cap))
        needed = np.maximum(np.maximum(vol_sales, margin_sales), cap_sales)
        to_sell = np.minimum(needed, v("max_sale_share_per_day") * total)
        # Funds sell first the books whose margins rose most and that lost most.
        stress = np.maximum(required - required0 + cumulative_loss / np.maximum(positions, 1e-9), 0.0) + 0.002
        weights = positions * stress
        sales = np.minimum(positions, to_sell * weights / np.maximum(weights.sum(axis=0), 1e-12))
        positions = positions - sales

        # 2. Funds that still cannot meet margin fail; lenders or the CCP liquidate.
        required_after = (positions * required).sum(axis=0)
        solvent = np.maximum(equity, 0.0) / np.maximum(required_after, 1e-9)
        fail_share = np.where(required_after > 1e-9, np.clip(1.0 - solvent, 0.0, 1.0), 0.0)
        failed_cash = fail_share * (positions * net_cash).sum(axis=0)
        positions = positions * (1.0 - fail_share)
        equity = equity * (1.0 - fail_share)
        queue_bilateral = queue_bilateral + failed_cash * (1.0 - rp.repo_cleared_share)
        queue_ccp = queue_ccp + failed_cash * rp.repo_cleared_share
        liq_bilateral = queue_bilateral * liquidation_rates[0]
        liq_ccp = queue_ccp * liquidation_rates[1]

        # 3. Fed purchases: rule on lagged dislocation, or the historical schedule.
        lag_idx = np.maximum(t - rp.fed_lag_days[:, 0], 0)
        lagged = dislocation_hist[lag_idx, regime_idx]
        rule = np.minimum(rp.fed_max_pace, rp.fed_slope * np.maximum(lagged - rp.fed_threshold_bp, 0.0))
        fed = schedule[:, t][:, None] + rp.fed_rule_on * rule

        # 4. Market clearing: dealers, value buyers and laid-off inventory absorb net sales.
        rv_sales = (sales * net_cash).sum(axis=0)
        exo = {s: flows[s][:, t] for s in EXOGENOUS_SECTORS}
        gross = rv_sales + liq_bilateral + liq_ccp + sum(exo.values())
        layoff = v("dealer_layoff_rate_per_day") * np.maximum(inventory - inventory0, 0.0)
        relief_on = (t >= rp.relief_day).astype(float)
        capacity = capacity_calm * (1.0 + rp.relief_gain * relief_on) * (
            1.0 - cal["funding_capacity_drag_per_bp"] * stress_dealers
        )
        # Dislocation is measured against calm utilization at today's policy capacity, so a rule
        # change alone (e.g. the 1 Apr 2020 exclusion) moves nothing without a shock.
        policy_capacity = capacity_calm * (1.0 + rp.relief_gain * relief_on)
        u_ref = inventory0 / policy_capacity
        odds_ref = u_ref / (1.0 - u_ref)
        u_ref_hist[t] = u_ref
        absorb_max = capacity * u_limit - inventory0 + vb_slope * (odds_limit - odds_ref)
        wanted = absorbed + gross - fed - layoff
        unabsorbed = np.clip(wanted - absorb_max, 0.0, gross)
        executed = np.where(gross > 1e-12, 1.0 - unabsorbed / np.maximum(gross, 1e-12), 1.0)
        broken |= unabsorbed > 1e-9
        # Sales the market could not take stay with their sellers.
        positions = positions + sales * (1.0 - executed)
        sales = sales * executed
        rv_sales = rv_sales * executed
        liq_bilateral, liq_ccp = liq_bilateral * executed, liq_ccp * executed
        queue_bilateral, queue_ccp = queue_bilateral - liq_bilateral, queue_ccp - liq_ccp
        absorbed = absorbed + gross * executed - fed - layoff
        # Fed purchases beyond what dealers and value buyers took on are sold by end investors
        # at calm prices: dealers do not go below their calm inventory.
        sold_to_fed = np.maximum(-absorbed, 0.0)
        absorbed = absorbed + sold_to_fed
        u = _solve_utilization(capacity, absorbed + inventory0 + vb_slope * odds_ref, vb_slope)
        u = np.minimum(u, u_limit)
        broken |= u >= u_limit - 1e-9
        new_inventory = capacity * u
        new_value = absorbed - (new_inventory - inventory0)
        new_dislocation = slope * (u / (1.0 - u) - odds_ref)

        # 5. Prices, losses, volatility feedback.
        change = new_dislocation - dislocation
        losses = positions * betas * change * durations / 1e4
        loss_total = losses.sum(axis=0)
        borrowed = (positions * (1.0 - required)).sum(axis=0)
        funding_cost = borrowed * stress_funds / 1e4 / 360.0
        equity = equity - loss_total - funding_cost
        cumulative_loss = cumulative_loss + losses
        sales_by_book = sales_by_book + sales * net_cash
        spread_sigma = sigma0 + v("volatility_feedback") * np.abs(change)
        sigma = sigma_exog[:, t] + (spread_sigma - sigma0)
        required_now = (positions * required).sum(axis=0)
        margin_calls = np.maximum(required_now - required_prev, 0.0) + np.maximum(loss_total, 0.0)
        required_prev = required_now

        rv_total_sales = rv_sales + liq_bilateral + liq_ccp
        flows_out["rv_funds"][t] = -rv_total_sales
        for s in EXOGENOUS_SECTORS:
            flows_out[s][t] = -exo[s] * executed
        flows_out["fed"][t] = fed
        flows_out["dealers"][t] = new_inventory - inventory
        flows_out["value_buyers"][t] = new_value - value_holdings + layoff - sold_to_fed
        inventory, value_holdings, dislocation = new_inventory, new_value, new_dislocation
        dislocation_hist[t] = dislocation
        total_now = positions.sum(axis=0)
        equity_cum[t + 1] = equity_cum[t] + equity
        _record_day(
            out, t, fundamental[:, t], dislocation, u, sigma, total_now, equity, rv_total_sales, margin_calls, fed,
            cal["basis_funding_beta"] * stress_funds,
        )

    _derive_series(out, cal, v, u_ref_hist)
    sales_by_book = {b: sales_by_book[i] for i, b in enumerate(BOOKS)}
    # Consumers index (regime, path, day): views, no copies.
    series = {k: np.moveaxis(a, 0, -1) for k, a in out.items()}
    flows = {k: np.moveaxis(a, 0, -1) for k, a in flows_out.items()}
    return StressOutput(series, sales_by_book, flows, broken)


def _cap_scale(
    rp: RegimeParams,
    equity: np.ndarray,
    total: np.ndarray,
    equity_cum: np.ndarray,
    equity0: np.ndarray,
    t: int,
    averaged_cap: bool,
) -> np.ndarray:
    """Position scale the leverage cap allows today (1 = no constraint).

    daily: position <= cap x today's equity. averaged: position <= cap x the trailing mean of
    equity over the window (days before day 0 at calm equity), so a loss counts gradually and is
    never paid back. released: no constraint in stress.
    """
    if not np.any(rp.cap_on > 0):
        return np.ones_like(equity)
    safe_equity = np.maximum(equity, 1e-9)
    daily = np.minimum(1.0, rp.cap_x * safe_equity / total)
    averaged = daily
    if averaged_cap:
        window = rp.cap_window_days[:, 0]
        start = np.maximum(t - window + 1, 0)
        regimes = np.arange(len(window))
        previous = equity_cum[t][regimes] - equity_cum[start, regimes]
        missing = np.maximum(window - 1 - (t - start), 0)[:, None]
        mean_equity = (previous + missing * equity0 + safe_equity) / window[:, None]
        averaged = np.minimum(1.0, rp.cap_x * np.maximum(mean_equity, 1e-9) / total)
    scale = np.select([rp.cap_mode == 0, rp.cap_mode == 1], [daily, averaged], default=1.0)
    return np.where(rp.cap_on > 0, scale, 1.0)


def _record_day(out, t, fundamental, dislocation, u, sigma, total, equity, rv_sales, margin_calls, fed, basis_extra) -> None:
    """Store day t of the state; derived series are computed once after the loop."""
    out["fundamental_10y_change_bp"][t] = fundamental
    out["dislocation_bp"][t] = dislocation
    out["dealer_utilization_pct"][t] = u
    out["volatility_bp_per_day"][t] = sigma
    out["rv_positions_usd_bn"][t] = total
    out["fund_equity_usd_bn"][t] = equity
    out["forced_sales_usd_bn"][t] = rv_sales
    out["margin_calls_usd_bn"][t] = margin_calls
    out["fed_purchases_usd_bn"][t] = fed
    out["basis_widening_bp"][t] = basis_extra


def _derive_series(out: dict[str, np.ndarray], cal: Calibration, v, u_ref: np.ndarray) -> None:
    """Prices, depth and leverage from the stored state, vectorized over days."""
    dislocation = out["dislocation_bp"]
    u = out["dealer_utilization_pct"]
    out["yield_10y_change_bp"][:] = out["fundamental_10y_change_bp"] + dislocation
    depth = (
        cal["calm_depth_usd_mn"]
        * (cal["calm_volatility_bp_per_day"] / out["volatility_bp_per_day"]) ** cal["depth_volatility_elasticity"]
        * ((1.0 - u) / (1.0 - u_ref)) ** cal["depth_utilization_exponent"]
    )
    out["market_depth_usd_mn"][:] = np.maximum(depth, cal["depth_floor_usd_mn"])
    out["dealer_utilization_pct"][:] = 100.0 * u
    out["basis_widening_bp"][:] = v("basis_dislocation_beta") * dislocation + out["basis_widening_bp"]
    out["swap_spread_30y_bp"][:] = cal["calm_swap_spread_30y_bp"] - v("swap_spread_dislocation_beta") * dislocation
    equity = out["fund_equity_usd_bn"]
    out["fund_leverage_x"][:] = np.where(equity > 1e-9, out["rv_positions_usd_bn"] / np.maximum(equity, 1e-9), 0.0)
