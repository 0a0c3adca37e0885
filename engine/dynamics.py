"""Daily stress dynamics (model v2), vectorized over regime x path; the loop runs over days only.

Within a day, in order (one module each in `engine/channels/`): margins react to yesterday's
volatility and today's funding stress; funds deleverage (liquidity management, margin calls,
leverage cap); funds that cannot meet margin fail and their collateral is sold; the Fed buys by
rule or schedule; dealers and value buyers absorb the net sales of each segment at a price; the
basis, the swap spread and the off-the-run spread move, funds take the losses, and volatility
feeds back. Prices, depth and leverage are derived from the stored state after the loop.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from engine.calibration import Calibration
from engine.calm import CalmState
from engine.channels.clearing import capacities, clear_market
from engine.channels.deleverage import deleverage
from engine.channels.failures import fail_and_liquidate
from engine.channels.fed import fed_purchases
from engine.channels.margins import required_per_dollar
from engine.channels.prices import basis_widening, reprice
from engine.draws import Draws
from engine.scenario import EXOGENOUS_SECTORS, ShockPaths
from engine.state import RunInputs, StressState
from engine.transmission import (
    BOOKS,
    GROSS_NOTIONAL_PER_DOLLAR,
    SEGMENTS,
    RegimeParams,
    capped_funding_stress,
    dealer_capacity,
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
    "dislocation_bp": "10y cash cheapening beyond fundamentals (bp)",
    "yield_30y_change_bp": "30y yield change from day 0 (bp)",
    "long_dislocation_bp": "30y cash cheapening against swaps (bp)",
    "market_depth_usd_mn": "Top-3-level 10y order-book depth ($mn)",
    "dealer_utilization_pct": "Dealer balance-sheet utilization, 2-10y (%)",
    "dealer_long_utilization_pct": "Dealer balance-sheet utilization, 10-30y (%)",
    "dealer_inventory_usd_bn": "Dealer Treasury inventory added since day 0 ($bn)",
    "basis_widening_bp": "Cash-futures basis widening (bp of yield)",
    "swap_spread_30y_bp": "30y swap spread (bp)",
    "fund_leverage_x": "RV fund gross leverage (gross notional / net assets, x)",
    "fund_equity_usd_bn": "RV fund equity ($bn)",
    "rv_positions_usd_bn": "RV positions ($bn)",
    "forced_sales_usd_bn": "RV net cash sales incl. liquidations ($bn/day)",
    "margin_calls_usd_bn": "Margin calls: new margin plus mark-to-market losses ($bn/day)",
    "fed_purchases_usd_bn": "Fed purchases ($bn/day)",
    "volatility_bp_per_day": "10y yield volatility (bp/day)",
}

# Recorded each day (time-major); the rest of SERIES is derived after the loop.
_RECORDED = (
    "dislocation_bp",
    "long_dislocation_bp",
    "dealer_utilization_pct",
    "dealer_long_utilization_pct",
    "dealer_inventory_usd_bn",
    "basis_widening_bp",
    "fund_equity_usd_bn",
    "rv_positions_usd_bn",
    "forced_sales_usd_bn",
    "margin_calls_usd_bn",
    "fed_purchases_usd_bn",
    "volatility_bp_per_day",
)
_GROSS = np.array([GROSS_NOTIONAL_PER_DOLLAR[b] for b in BOOKS])[:, None, None]
_NET_CASH_KEYS = {"basis": None, "swap_spread": None, "other": "other_book_net_cash_share"}


@dataclass(frozen=True)
class StressOutput:
    """Daily arrays (R, P, T+1) keyed by series name, plus per-book sales and sector flows."""

    series: dict[str, np.ndarray]
    sales_by_book_usd_bn: dict[str, np.ndarray]  # (R, P) cumulative net cash sales
    net_purchases_usd_bn: dict[str, np.ndarray]  # (R, P, T+1) daily net purchases by sector
    reference_utilization: np.ndarray  # (R, P, T+1) calm 2-10y utilization at the day's policy capacity


@dataclass(frozen=True)
class StressSummary:
    """A summary-only run: per-path numbers (R, P) for every stress metric, no daily history.

    `values` is keyed by the kernel's `SUMMARY_FIELDS` (metric names, plus day-0 positions and
    equity); `dysfunction_days` counts dysfunctional days and `broken` flags a breakdown, with
    the thresholds of `engine/functioning.py`.
    """

    values: dict[str, np.ndarray]
    dysfunction_days: np.ndarray  # (R, P) int
    broken: np.ndarray  # (R, P) bool
    sales_by_book_usd_bn: dict[str, np.ndarray]  # (R, P) cumulative net cash sales


def _rolling_rms(changes: np.ndarray, window: int) -> np.ndarray:
    """Causal rolling root-mean-square over the last `window` days (axis -1)."""
    squared = np.cumsum(changes**2, axis=-1)
    n = changes.shape[-1]
    lagged = np.zeros_like(squared)
    if n > window:
        lagged[..., window:] = squared[..., :-window]
    counts = np.minimum(np.arange(1, n + 1), window)
    return np.sqrt((squared - lagged) / counts)


def _exogenous_volatility(fundamental: np.ndarray, sigma0: np.ndarray, scale: float, window: int) -> np.ndarray:
    """max(sigma0, scale x `_rolling_rms` of the daily changes), the same operations in one buffer.

    Bit-identical to np.maximum(sigma0, scale * _rolling_rms(np.diff(fundamental, prepend=day 0), window)),
    the readable form, but in place: fresh (2, P, T+1) temporaries cost more than the arithmetic.
    """
    out = np.empty(fundamental.shape)
    np.subtract(fundamental[..., :1], fundamental[..., :1], out=out[..., :1])  # the prepended day: 0
    np.subtract(fundamental[..., 1:], fundamental[..., :-1], out=out[..., 1:])
    np.multiply(out, out, out=out)
    np.cumsum(out, axis=-1, out=out)
    n = out.shape[-1]
    if n > window:  # later days first: each reads the running sums `window` days back, not yet changed
        np.subtract(out[..., window:], out[..., :-window].copy(), out=out[..., window:])
    np.divide(out, np.minimum(np.arange(1, n + 1), window), out=out)
    np.sqrt(out, out=out)
    np.multiply(scale, out, out=out)
    return np.maximum(sigma0, out, out=out)


def fundamental_paths(shocks: ShockPaths, draws: Draws, shock_scale: float) -> np.ndarray:
    """(2, P, T+1) fundamental 10y and 30y changes from day 0, bp, after the shock scale."""
    if shocks.mode == "observed_share":
        assert shocks.observed_move_bp is not None
        paths = draws.fundamental_share[None, :, None] * shocks.observed_move_bp[:, None, :]
    elif shocks.mode == "proxy_beta":
        assert shocks.proxy_move_bp is not None and shocks.proxy_betas is not None
        betas = np.stack(
            [b.beta + b.standard_error * draws.proxy_beta_z[:, i] for i, b in enumerate(shocks.proxy_betas)]
        )
        paths = betas[:, :, None] * shocks.proxy_move_bp[None, None, :]
    else:
        assert shocks.fundamental_points_bp is not None
        paths = draws.shock_size[None, :, None] * shocks.fundamental_points_bp[:, None, :]
    # The scenario's own fundamental scale multiplies this path only (1.0 leaves it bit-identical).
    return shock_scale * shocks.fundamental_scale * paths


def _smoothed(series: np.ndarray, halflife_days: float) -> np.ndarray:
    """EWMA along the last axis with the given half-life (day 0 starts the average)."""
    weight = 1.0 - 0.5 ** (1.0 / halflife_days)
    out = np.empty_like(series)
    out[..., 0] = series[..., 0]
    for t in range(1, series.shape[-1]):
        out[..., t] = (1.0 - weight) * out[..., t - 1] + weight * series[..., t]
    return out


def run_inputs(
    rp: RegimeParams,
    cal: Calibration,
    draws: Draws,
    calm: CalmState,
    shocks: ShockPaths,
    shock_scale: float,
) -> tuple[RunInputs, np.ndarray, np.ndarray]:
    """The fixed inputs of a run, and the persistent funding stress dealers and funds face (R, T+1)."""
    n_regimes, n_paths = len(rp.names), draws.shock_size.shape[0]
    shape = (n_regimes, n_paths)
    fundamental = fundamental_paths(shocks, draws, shock_scale)
    sigma0 = np.array([cal["calm_volatility_bp_per_day"], cal["calm_long_volatility_bp_per_day"]])[:, None, None]
    # Exogenous volatility is the larger of the calm level and the fundamental part's own realized
    # volatility (5-day RMS), so neither calm news nor the model's feedback is counted twice.
    # The scenario's volatility scale multiplies the realized part only: calm is calm in any scenario.
    sigma_exogenous = _exogenous_volatility(fundamental, sigma0, shocks.volatility_scale, 5)
    # (shock_scale * size) * noise is the same left-to-right product for every sector: computed once,
    # path-major (C order) so that the kernel's total needs no copy.
    scaled_noise = np.multiply(shock_scale * draws.shock_size[:, None], draws.flow_noise, order="C")
    flows = {sector: scaled_noise * shocks.flows_usd_bn[sector] for sector in EXOGENOUS_SECTORS}
    funding = shock_scale * shocks.funding_stress_bp
    dealers, funds = capped_funding_stress(funding[None, :], rp)
    halflife = cal["funding_stress_halflife_days"]
    capacity = cal["dealer_capacity_usd_bn"] * draws.capacity_multiplier
    long_share = cal["dealer_long_capacity_share"]
    capacity_base = np.stack([capacity * (1.0 - long_share), capacity * long_share])[:, None, :] * np.ones((1, *shape))
    weight = draws.value("slr_binding_weight")
    gains = tuple((1.0 + rp.netting_gain) * (1.0 + rp.relief_gain * on) - 1.0 for on in (0.0, 1.0))
    policy = tuple(dealer_capacity(capacity_base, weight, g, 1.0) for g in gains)
    policy0 = np.where((rp.relief_day <= 0)[None], policy[1], policy[0])
    inventory0 = cal["calm_utilization"] * policy0
    debt = cal["marketable_debt_usd_bn"]
    slope = draws.value("value_buyer_elasticity_usd_bn_per_bp_per_tn") * debt / 1000.0 * draws.value("dislocation_slope_bp")
    value_buyer_slope = np.stack([slope, slope * draws.value("long_value_buyer_depth_ratio")])
    net_cash = np.array([cal[k] if k else 1.0 for k in _NET_CASH_KEYS.values()])[:, None, None]
    capped = [r for r in range(n_regimes) if rp.cap_covered_share[r, 0] > 0 and rp.cap_mode[r, 0] != 2]
    deviation = np.rint(draws.value("fed_lag_deviation_days")).astype(int)
    fed_lag = np.maximum(rp.fed_lag_days + deviation[None, :], 0)
    fed_threshold = np.maximum(rp.fed_threshold_bp + draws.value("fed_threshold_deviation_bp")[None, :], 0.0)
    inputs = RunInputs(
        rp=rp,
        cal=cal,
        draws=draws,
        shape=shape,
        fundamental=fundamental,
        sigma_exogenous=sigma_exogenous,
        sigma0=sigma0,
        flows=flows,
        fed_schedule=shock_scale * rp.fed_schedule,
        positions0=calm.positions,
        equity0=calm.equity,
        dealer_covered=calm.dealer_covered,
        cap_covered=calm.cap_covered,
        cap_equity_share=calm.cap_equity_share,
        capacity_base=capacity_base,
        balance_sheet_weight=weight,
        inventory0=inventory0,
        value_buyer_slope=value_buyer_slope,
        fed_lag=fed_lag,
        fed_threshold=fed_threshold,
        policy_capacity=policy,
        reference_odds=tuple(inventory0 / (p - inventory0) for p in policy),
        balance_sheet_gain=gains,
        inventory0_total=inventory0[0] + inventory0[1],
        balance_sheet_capacity=tuple(p[0] + p[1] for p in policy),
        balance_sheet_reference_odds=tuple(
            (inventory0[0] + inventory0[1]) / (p[0] + p[1] - inventory0[0] - inventory0[1]) for p in policy
        ),
        free_liquidity0=np.maximum(calm.buffer_per_dollar * calm.positions, 1e-12),
        net_cash=net_cash,
        any_dealer_rule=bool(np.any(rp.dealer_covered_share > 0)),
        capped_regimes=capped,
        any_averaged_cap=any(rp.cap_mode[r, 0] == 1 for r in capped),
    )
    return inputs, _smoothed(dealers, halflife), _smoothed(funds, halflife)


def _initial_state(inp: RunInputs, calm: CalmState, days: int) -> StressState:
    shape = inp.shape
    zeros2 = np.zeros((2, *shape))
    equity_cumsum = np.zeros((days + 2, 3, *shape) if inp.any_averaged_cap else (0, 3, *shape))
    if inp.any_averaged_cap:
        equity_cumsum[1] = calm.equity
    sigma = np.broadcast_to(inp.sigma0, (2, *shape)).copy()
    return StressState(
        positions=calm.positions.copy(),
        equity=calm.equity.copy(),
        queue_bilateral=np.zeros((3, *shape)),
        queue_ccp=np.zeros((3, *shape)),
        failures_pending=False,
        absorbed=zeros2.copy(),
        inventory=inp.inventory0.copy(),
        value_holdings=zeros2.copy(),
        dislocation=zeros2.copy(),
        utilization=np.full((2, *shape), inp.cal["calm_utilization"]),
        basis=np.zeros(shape),
        sigma=sigma,
        risk_variance=sigma**2,
        risk_vol=sigma.copy(),
        fed_previous_rule=np.zeros(shape),
        required=calm.required.copy(),
        dislocation_history=np.zeros((days + 1, *shape)),
        equity_cumsum=equity_cumsum,
    )


Backend = Literal["compiled", "numpy"]


def run_stress(
    rp: RegimeParams,
    cal: Calibration,
    draws: Draws,
    calm: CalmState,
    shocks: ShockPaths,
    shock_scale: float,
    days: int,
    backend: Backend = "compiled",
) -> StressOutput:
    """Simulate `days` trading days of stress for every regime and path.

    backend "numpy" runs the channels of `engine/channels/` over (regime, path) arrays, one day at
    a time: the readable reference. "compiled" runs their transcription in `engine/kernel.py`
    (numba), several times faster; `tests/test_kernel.py` checks they agree.
    """
    inp, funding_dealers, funding_funds = run_inputs(rp, cal, draws, calm, shocks, shock_scale)
    if backend == "compiled":
        stress = _run_compiled(inp, calm, funding_dealers, funding_funds, days, histories=True)
        assert isinstance(stress, StressOutput)
        return stress
    state = _initial_state(inp, calm, days)
    shape = inp.shape
    t_len = days + 1
    out = {name: np.zeros((t_len, *shape)) for name in _RECORDED}
    flows_out = {s: np.zeros((t_len, *shape)) for s in SECTORS}
    sales_by_book = np.zeros((3, *shape))
    net_cash = inp.net_cash
    long_flow_share = cal["long_end_share_of_flows"]
    fed_long = cal["fed_long_share"]
    layoff_rate = inp.value("dealer_layoff_rate_per_day")
    _record(out, 0, state, inp, np.zeros((3, *shape)), np.zeros(shape), np.zeros(shape))
    for t in range(1, t_len):
        stress_dealers = funding_dealers[:, t][:, None]
        stress_funds = funding_funds[:, t][:, None]
        required = required_per_dollar(inp, state, stress_funds)
        sales = deleverage(inp, state, required, t)
        liquidated = fail_and_liquidate(inp, state, required)
        rv_sales = sales * net_cash + liquidated  # (3, R, P) net cash sales
        exogenous = {s: inp.flows[s][:, t] for s in EXOGENOUS_SECTORS}
        exo_total = sum(exogenous.values())
        # Basis and other books sell 2-10y cash, the swap-spread book long bonds.
        gross = np.stack(
            [rv_sales[0] + rv_sales[2] + exo_total * (1.0 - long_flow_share), rv_sales[1] + exo_total * long_flow_share]
        )
        layoff = layoff_rate * np.maximum(state.inventory - inp.inventory0, 0.0)
        absorbed = state.absorbed + gross - layoff
        capacity, odds_ref = capacities(inp, state, t, stress_dealers)
        fed = fed_purchases(inp, state, t, absorbed, capacity, odds_ref)
        absorbed = absorbed - fed[None] * np.array([1.0 - fed_long, fed_long])[:, None, None]
        # Fed purchases beyond what dealers and value buyers took on are sold by end investors at
        # calm prices: the market does not trade below its calm holdings.
        sold_to_fed = np.maximum(-absorbed, 0.0)
        absorbed = absorbed + sold_to_fed
        old_dislocation, old_basis = state.dislocation, state.basis
        old_inventory, old_value = state.inventory, state.value_holdings
        clear_market(inp, state, absorbed, capacity, odds_ref)
        state.basis = basis_widening(inp, state, t, stress_funds)
        losses = reprice(inp, state, t, old_dislocation, old_basis, required, stress_funds)
        required_now = required * state.positions
        margin_calls = np.maximum(required_now - state.required * state.positions, 0.0).sum(axis=0) + np.maximum(
            losses, 0.0
        ).sum(axis=0)
        state.required = required
        state.dislocation_history[t] = state.dislocation[0]
        if state.equity_cumsum.shape[0]:
            state.equity_cumsum[t + 1] = state.equity_cumsum[t] + np.maximum(state.equity, 0.0)
        sales_by_book += rv_sales
        flows_out["rv_funds"][t] = -rv_sales.sum(axis=0)
        for s in EXOGENOUS_SECTORS:
            flows_out[s][t] = -exogenous[s]  # broadcast over regimes
        flows_out["fed"][t] = fed
        flows_out["dealers"][t] = (state.inventory - old_inventory).sum(axis=0)
        flows_out["value_buyers"][t] = (state.value_holdings - old_value + layoff - sold_to_fed).sum(axis=0)
        _record(out, t, state, inp, rv_sales, margin_calls, fed)

    reference = _reference_utilization(inp, t_len)
    fundamental = np.moveaxis(inp.fundamental, -1, 1)[:, :, None, :]  # (2, T+1, 1, P): time-major
    series = _derive_series(out, inp, reference, fundamental)
    return StressOutput(
        series={k: np.moveaxis(a, 0, -1) for k, a in series.items()},
        sales_by_book_usd_bn={b: sales_by_book[i] for i, b in enumerate(BOOKS)},
        net_purchases_usd_bn={k: np.moveaxis(a, 0, -1) for k, a in flows_out.items()},
        reference_utilization=np.moveaxis(reference, 0, -1),
    )


def run_stress_summary(
    rp: RegimeParams,
    cal: Calibration,
    draws: Draws,
    calm: CalmState,
    shocks: ShockPaths,
    shock_scale: float,
    days: int,
) -> StressSummary:
    """The compiled loop keeping only running peaks, troughs, sums and flags per path.

    Same inputs and arithmetic as `run_stress(..., backend="compiled")`, but no (R, P, T+1) array
    is stored: memory grows with regimes x paths, not with days, and the metrics need no pass over
    histories (tests/test_fast_engine.py checks they are the full path's numbers).
    """
    inp, funding_dealers, funding_funds = run_inputs(rp, cal, draws, calm, shocks, shock_scale)
    summary = _run_compiled(inp, calm, funding_dealers, funding_funds, days, histories=False)
    assert isinstance(summary, StressSummary)
    return summary


def _run_compiled(
    inp: RunInputs,
    calm: CalmState,
    funding_dealers: np.ndarray,
    funding_funds: np.ndarray,
    days: int,
    histories: bool,
) -> StressOutput | StressSummary:
    """The same loop through the compiled kernel; outputs in the layout the numpy path produces.

    With `histories=False` the lanes kernel (engine/kernel_lanes.py, paths in SIMD lanes) writes only the
    summary rows, bit-identical to `stress_kernel(..., store=False)` (tests/test_kernel.py).
    """
    from engine.kernel import MAX_SUMMED_DAYS, N_SUMMARY, SUMMARY_FIELDS, stress_kernel  # numba only when used

    rp, cal, value = inp.rp, inp.cal, inp.value
    shape = inp.shape
    t_len = days + 1
    if t_len > MAX_SUMMED_DAYS:  # MAX_DAYS keeps every run far below it
        raise ValueError(f"days: {days}; the compiled kernel sums at most {MAX_SUMMED_DAYS - 1} days")
    # An empty array has the histories' type (3-d float64, C order), so both modes share one compiled kernel.
    history_shape = (*shape, t_len) if histories else (0, 0, 0)
    out = {name: np.zeros(history_shape) for name in _RECORDED}
    flow_rv, flow_dealers, flow_value, depth = (np.zeros(history_shape) for _ in range(4))
    sales_by_book = np.zeros((3, *shape))
    summary = np.zeros((N_SUMMARY, *shape))

    def full(a: np.ndarray, target: tuple[int, ...]) -> np.ndarray:
        return np.ascontiguousarray(np.broadcast_to(a, target), dtype=float)

    col = lambda a: np.ascontiguousarray(np.asarray(a, dtype=float)[:, 0])  # noqa: E731 - (R, 1) -> (R,)
    icol = lambda a: np.ascontiguousarray(np.asarray(a)[:, 0].astype(np.int64))  # noqa: E731
    book_shape, segment_shape = (3, *shape), (2, *shape)
    capped = np.zeros(shape[0], dtype=np.int64)
    capped[inp.capped_regimes] = 1
    exogenous_total = sum(inp.flows[s] for s in EXOGENOUS_SECTORS)
    args = (
        days,
        col(rp.repo_cleared_share), col(rp.haircut_floor), col(rp.cross_margin_offset), col(rp.ccp_damping),
        col((1.0 + rp.dealer_extra_buffer) / rp.dealer_leverage_limit_x), col(rp.cap_x), icol(rp.cap_mode),
        icol(rp.cap_window_days), capped, icol(rp.relief_day), col(rp.fed_rule_on), col(rp.fed_slope),
        col(rp.fed_max_pace), col(rp.fed_persistence), col(rp.futures_margin), col(rp.futures_damping),
        np.ascontiguousarray(inp.fed_schedule, dtype=float), np.ascontiguousarray(funding_dealers, dtype=float),
        np.ascontiguousarray(funding_funds, dtype=float),
        np.ascontiguousarray(np.broadcast_to(inp.fed_lag, shape), dtype=np.int64), full(inp.fed_threshold, shape),
        full(inp.balance_sheet_gain[0], shape), full(inp.balance_sheet_gain[1], shape),
        full(inp.balance_sheet_capacity[0], shape), full(inp.balance_sheet_capacity[1], shape),
        full(inp.balance_sheet_reference_odds[0], shape), full(inp.balance_sheet_reference_odds[1], shape),
        full(inp.inventory0_total, shape),
        full(calm.positions, book_shape), full(calm.equity, book_shape), full(calm.required, book_shape),
        full(inp.free_liquidity0, book_shape), full(inp.dealer_covered, book_shape), full(inp.cap_covered, book_shape),
        full(inp.cap_equity_share, book_shape),
        full(inp.capacity_base, segment_shape), full(inp.inventory0, segment_shape),
        full(inp.reference_odds[0], segment_shape), full(inp.reference_odds[1], segment_shape),
        value("liquidity_derisking_elasticity"), value("derisking_speed_per_day"), value("max_sale_share_per_day"),
        value("min_buffer_ratio"), value("target_buffer_ratio"), value("dislocation_slope_bp"),
        value("basis_balance_sheet_slope_bp"), value("long_end_comovement_beta"), value("volatility_feedback"),
        value("dealer_layoff_rate_per_day"), value("slr_binding_weight"), value("futures_margin_vol_elasticity"),
        value("swap_margin_vol_elasticity"), value("bilateral_haircut_vol_pp") / 100.0,
        np.ascontiguousarray(inp.value_buyer_slope, dtype=float), np.ascontiguousarray(inp.sigma_exogenous, dtype=float),
        np.ascontiguousarray(exogenous_total, dtype=float),
        np.ascontiguousarray(inp.sigma0[:, 0, 0], dtype=float),
        np.array([cal[f"ccp_lookback_volatility_{s}_bp_per_day"] for s in SEGMENTS]),
        np.array([cal[f"duration_{b}_years"] for b in BOOKS]),
        np.ascontiguousarray(inp.net_cash[:, 0, 0], dtype=float),
        cal["bilateral_haircut_pct"] / 100.0, cal["bilateral_haircut_funding_pp_per_bp"] / 100.0,
        cal["ccp_var_confidence_z"] * np.sqrt(cal["ccp_margin_period_days"]) / 1e4,
        cal["swap_initial_margin_pct"] / 100.0, cal["other_book_margin_pct"] / 100.0,
        min(1.0, 1.0 / cal["bilateral_liquidation_days"]), min(1.0, 1.0 / cal["ccp_auction_days"]),
        cal["funding_capacity_drag_per_bp"], cal["long_end_share_of_flows"], cal["fed_long_share"],
        cal["basis_funding_pass_through"], cal["risk_model_ewma_decay"], cal["other_dislocation_beta"],
        cal["calm_utilization"], inp.any_dealer_rule, cal["calm_depth_usd_mn"], cal["depth_volatility_elasticity"],
        cal["depth_utilization_exponent"], cal["depth_floor_usd_mn"],
        np.ascontiguousarray(inp.fundamental, dtype=float), cal["calm_swap_spread_30y_bp"],
        cal["dysfunction_dislocation_bp"], 100.0 * cal["dysfunction_utilization"], cal["breakdown_dislocation_bp"],
        cal["breakdown_depth_usd_mn"],
    )
    if not histories:  # summary only: paths in SIMD lanes (engine/kernel_lanes.py), the same numbers
        from engine.kernel_lanes import stress_kernel_lanes

        stress_kernel_lanes(*args, sales_by_book, summary)
    else:
        stress_kernel(
            *args, histories,
            out["dislocation_bp"], out["long_dislocation_bp"], out["dealer_utilization_pct"],
            out["dealer_long_utilization_pct"], out["dealer_inventory_usd_bn"], out["basis_widening_bp"],
            out["fund_equity_usd_bn"], out["rv_positions_usd_bn"], out["forced_sales_usd_bn"], out["margin_calls_usd_bn"],
            out["fed_purchases_usd_bn"], out["volatility_bp_per_day"], depth, flow_rv, flow_dealers, flow_value,
            sales_by_book, summary,
        )
    sales = {b: sales_by_book[i] for i, b in enumerate(BOOKS)}
    if not histories:
        values = dict(zip(SUMMARY_FIELDS, summary, strict=True))
        return StressSummary(
            values=values,
            dysfunction_days=values.pop("dysfunction_days").astype(np.int64),
            broken=values.pop("broken") > 0.5,
            sales_by_book_usd_bn=sales,
        )
    flows_out = {"rv_funds": flow_rv, "dealers": flow_dealers, "value_buyers": flow_value, "fed": out["fed_purchases_usd_bn"]}
    for s in EXOGENOUS_SECTORS:
        sector = np.zeros((*shape, t_len))
        sector[..., 1:] = -inp.flows[s][None, :, 1:]
        flows_out[s] = sector
    reference = np.moveaxis(_reference_utilization(inp, t_len), 0, -1)
    fundamental = inp.fundamental[:, None, :, :]  # (2, 1, P, T+1): path-major
    series = _derive_series(out, inp, reference, fundamental, depth=depth)
    return StressOutput(
        series=series,
        sales_by_book_usd_bn=sales,
        net_purchases_usd_bn={k: flows_out[k] for k in SECTORS},
        reference_utilization=reference,
    )


def _record(
    out: dict[str, np.ndarray],
    t: int,
    state: StressState,
    inp: RunInputs,
    rv_sales: np.ndarray,
    margin_calls: np.ndarray,
    fed: np.ndarray,
) -> None:
    """Store day t of the state; prices and depth are derived once after the loop."""
    out["dislocation_bp"][t] = state.dislocation[0]
    out["long_dislocation_bp"][t] = state.dislocation[1]
    out["dealer_utilization_pct"][t] = state.utilization[0]
    out["dealer_long_utilization_pct"][t] = state.utilization[1]
    inventory, equity, positions = state.inventory, state.equity, state.positions
    # Explicit adds over the short leading axes: faster than .sum(axis=0) on small arrays.
    out["dealer_inventory_usd_bn"][t] = inventory[0] + inventory[1] - inp.inventory0_total
    out["basis_widening_bp"][t] = state.basis
    out["fund_equity_usd_bn"][t] = equity[0] + equity[1] + equity[2]
    total = positions[0] + positions[1] + positions[2]
    out["rv_positions_usd_bn"][t] = total
    out["forced_sales_usd_bn"][t] = rv_sales[0] + rv_sales[1] + rv_sales[2]
    out["margin_calls_usd_bn"][t] = margin_calls
    out["fed_purchases_usd_bn"][t] = fed
    out["volatility_bp_per_day"][t] = state.sigma[0]


def _reference_utilization(inp: RunInputs, t_len: int) -> np.ndarray:
    """(T+1, R, P) calm 2-10y utilization at each day's policy capacity (day 0: calm utilization)."""
    days = np.arange(t_len)[:, None, None]
    relief_on = days >= inp.rp.relief_day[None]
    before, after = (inp.inventory0[0] / p[0] for p in inp.policy_capacity)
    reference = np.where(relief_on, after[None], before[None])
    reference[0] = inp.cal["calm_utilization"]
    return reference


def _derive_series(
    out: dict[str, np.ndarray],
    inp: RunInputs,
    reference: np.ndarray,
    fundamental: np.ndarray,
    depth: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Prices, depth and leverage from the stored state, vectorized over days.

    Works in either layout (time-major from the numpy path, path-major from the kernel): every
    operation is elementwise, and `fundamental` (2 segments first) comes shaped to broadcast.
    """
    cal = inp.cal
    u = out["dealer_utilization_pct"]
    sigma = out["volatility_bp_per_day"]
    if depth is None:
        # Depth follows volatility and, beyond it, utilization: D0 (s0/s)^beta ((1-u)/(1-u_ref))^alpha,
        # with one exp of logs (two powers over the whole history otherwise dominate the cost).
        log_depth = cal["depth_volatility_elasticity"] * np.log(cal["calm_volatility_bp_per_day"] / sigma) + cal[
            "depth_utilization_exponent"
        ] * np.log((1.0 - u) / (1.0 - reference))
        depth = np.maximum(cal["calm_depth_usd_mn"] * np.exp(log_depth), cal["depth_floor_usd_mn"])
    equity = out["fund_equity_usd_bn"]
    gross = 2.0 * out["rv_positions_usd_bn"]  # both legs of every book (GROSS_NOTIONAL_PER_DOLLAR)
    leverage = np.where(equity > 1e-9, gross / np.maximum(equity, 1e-9), 0.0)
    series = {
        "yield_10y_change_bp": fundamental[0] + out["dislocation_bp"],
        "fundamental_10y_change_bp": np.broadcast_to(fundamental[0], u.shape).copy(),
        "dislocation_bp": out["dislocation_bp"],
        "yield_30y_change_bp": fundamental[1] + out["long_dislocation_bp"],
        "long_dislocation_bp": out["long_dislocation_bp"],
        "market_depth_usd_mn": depth,
        "dealer_utilization_pct": 100.0 * u,
        "dealer_long_utilization_pct": 100.0 * out["dealer_long_utilization_pct"],
        "dealer_inventory_usd_bn": out["dealer_inventory_usd_bn"],
        "basis_widening_bp": out["basis_widening_bp"],
        "swap_spread_30y_bp": cal["calm_swap_spread_30y_bp"] - out["long_dislocation_bp"],
        "fund_leverage_x": leverage,
        "fund_equity_usd_bn": equity,
        "rv_positions_usd_bn": out["rv_positions_usd_bn"],
        "forced_sales_usd_bn": out["forced_sales_usd_bn"],
        "margin_calls_usd_bn": out["margin_calls_usd_bn"],
        "fed_purchases_usd_bn": out["fed_purchases_usd_bn"],
        "volatility_bp_per_day": sigma,
    }
    assert set(series) == set(SERIES)
    return series
