"""The stress loop compiled with numba: the channels of `engine/channels/`, transcribed to scalars.

Paths and regimes never interact inside a day, so the kernel loops over (regime, path) outside
and over days inside, keeping each path's state in registers. `engine/channels/` stays the
readable specification and the numpy reference (`run_stress(..., backend="numpy")`);
`tests/test_kernel.py` checks that both give the same arrays to a tight tolerance. No fastmath:
the arithmetic is the numpy path's, in the same order.

Speed without changing a bit (bench/README.md): each path's state lives in scalars, and a log/exp is
skipped only where its result provably cannot change the outcome (a deleverage target the book is
already below, a depth above the trough and the breakdown line in a summary-only run, the futures
hedge's exp shared with the short legs' when undamped). Every series and metric is bit-identical
to the kernel before these changes (3 scenarios x 9 presets, full and summary runs).
"""

import math

import numpy as np
from numba import njit, prange

_U_MAX = 1.0 - 1e-12

# Rows of the kernel's summary output (N_SUMMARY, R, P): what every summary metric and the
# functioning flags need, kept while the path runs so a summary-only run stores no (R, P, T+1)
# history. Peaks and troughs include day 0, as the metrics over the stored histories do.
SUMMARY_FIELDS: tuple[str, ...] = (
    "peak_10y_yield_change_bp",
    "trough_market_depth_usd_mn",
    "peak_dealer_utilization_pct",
    "peak_dealer_inventory_usd_bn",
    "forced_sales_usd_bn",
    "margin_calls_usd_bn",
    "peak_basis_widening_bp",
    "min_swap_spread_30y_bp",
    "peak_30y_yield_change_bp",
    "fed_purchases_usd_bn",
    "rv_positions_usd_bn",  # day 0
    "fund_equity_usd_bn",  # day 0, for the calm leverage
    "dysfunction_days",
    "broken",  # 1.0 if two days running beyond anything observed
)
N_SUMMARY = len(SUMMARY_FIELDS)
(
    _PEAK_10Y, _TROUGH_DEPTH, _PEAK_UTIL, _PEAK_INVENTORY, _SALES, _MARGIN, _PEAK_BASIS, _MIN_SWAP, _PEAK_30Y,
    _FED, _POSITIONS0, _EQUITY0, _DYSFUNCTION, _BROKEN,
) = range(N_SUMMARY)
_PAIRWISE_BLOCK = 128  # numpy's PW_BLOCKSIZE


# Days a summary sum can take in numpy's pairwise order here (three halvings above a 128-day block);
# MAX_DAYS (engine.scenario) is far below it. numba's cache mishandles recursive functions (the
# cached kernel crashed), so the halvings are written out as three functions instead of recursion.
MAX_SUMMED_DAYS = 800


@njit(cache=True)
def _pairwise_block(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's pairwise sum of a[lo:lo+n] for n <= 128: eight running sums, then the rest."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True)
def _pairwise_1(a: np.ndarray, lo: int, n: int) -> float:
    if n <= _PAIRWISE_BLOCK:
        return _pairwise_block(a, lo, n)
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise_block(a, lo, n2) + _pairwise_block(a, lo + n2, n - n2)


@njit(cache=True)
def _pairwise_2(a: np.ndarray, lo: int, n: int) -> float:
    if n <= _PAIRWISE_BLOCK:
        return _pairwise_block(a, lo, n)
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise_1(a, lo, n2) + _pairwise_1(a, lo + n2, n - n2)


@njit(cache=True)
def _pairwise_sum(a: np.ndarray, lo: int, n: int) -> float:
    """Sum of a[lo:lo+n] in numpy's pairwise order (`np.add.reduce` on a contiguous row), n <= 800.

    The summary-only path sums each path's days here, so its totals are bit-identical to
    `series.sum(axis=-1)` over the stored histories, not merely close.
    """
    if n <= _PAIRWISE_BLOCK:
        return _pairwise_block(a, lo, n)
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise_2(a, lo, n2) + _pairwise_2(a, lo + n2, n - n2)


@njit(cache=True, inline="always")
def _solve_utilization(capacity: float, rhs: float, slope: float) -> float:
    b = capacity + slope + rhs
    disc = max(b * b - 4.0 * capacity * rhs, 0.0)
    u = 2.0 * rhs / max(b + math.sqrt(disc), 1e-300)
    return min(max(u, 0.0), _U_MAX)


# Relative margin that covers the rounding of a computed ratio^nu (log, product, exp: a few ulp of
# the exponent) against the bounds below, and an absolute one on log_depth (well above its rounding).
_POWER_MARGIN = 1.0 - 1e-9
_LOG_MARGIN = 1e-9


@njit(cache=True, inline="always")
def _power_lower_bound(x: float, nu: float) -> float:
    """A lower bound of x^nu for 0 < x < 1 and 0 <= nu <= 2 (0.0 otherwise: proves nothing), with a margin.

    For 0 <= a <= 1, (1/x)^a <= 1 + a (1/x - 1) (concavity), so x^a >= x / (x + a (1 - x)); for
    1 < nu <= 2, x^nu = x * x^(nu - 1). Tight near x = 1, where books sit most days.
    """
    if not (0.0 <= nu <= 2.0) or x < 1e-100:  # x^nu stays far from underflow, where rounding is coarse
        return 0.0
    if nu <= 1.0:
        return x / (x + nu * (1.0 - x)) * _POWER_MARGIN
    return x * x / (x + (nu - 1.0) * (1.0 - x)) * _POWER_MARGIN


@njit(cache=True, inline="always")
def _odds(u: float) -> float:
    return u / (1.0 - u)


@njit(cache=True, inline="always")
def _dealer_rule(margin: float, covered: float, net_capital: float) -> float:
    return (1.0 - covered) * margin + covered * max(margin, net_capital)


@njit(cache=True, inline="always")
def _deleverage(  # one book's liquidity management, margin calls and leverage cap
    k: int, t: int, pos: float, eq: float, req: float, pos0: float, free0: float, eq0: float,
    cap_covered: float, cap_equity_share: float, cap_on: int, cap_mode: int, window: int, cap_x: float,
    cumsum: np.ndarray, nu: float, speed: float, min_buffer: float, target_buffer: float, max_sale: float,
    net_cash: float,
) -> tuple[float, float]:
    """The book's position after its sales, and its net cash sales (engine/channels/deleverage.py)."""
    need = req * pos
    ratio = min(max((eq - need) / free0, 1e-300), 1.0)
    # Most days the book is already below its target P0 * ratio^nu and liquidity is 0.0:
    # a cheap lower bound of ratio^nu proves it without the log and exp (below).
    if ratio < 1.0 and pos0 >= 0.0 and pos < pos0 * _power_lower_bound(ratio, nu):  # pos0 >= 0 keeps the bound's direction
        liquidity = 0.0
    else:
        scale = math.exp(nu * math.log(ratio)) if ratio < 1.0 else 1.0
        liquidity = speed * max(pos - pos0 * scale, 0.0)
    equity_pos = max(eq, 0.0)
    call = 0.0
    if equity_pos < need * (1.0 + min_buffer):
        target = equity_pos / max(need * (1.0 + target_buffer), 1e-12)
        call = pos * min(max(1.0 - target, 0.0), 1.0)
    needed = max(liquidity, call)
    if cap_on == 1:
        capped_equity = equity_pos
        if cap_mode == 1:
            start = max(0, t - window + 1)
            missing = window - 1 - (t - start)
            past = cumsum[t, k] - cumsum[start, k]
            capped_equity = (past + missing * eq0 + equity_pos) / window
        gross_notional = 2.0 * cap_covered * pos
        limit = cap_x * cap_equity_share * capped_equity
        needed = max(needed, max(gross_notional - limit, 0.0) / 2.0)
    sold = min(needed, max_sale * pos)
    return pos - sold, sold * net_cash


@njit(cache=True, inline="always")
def _fail(
    pos: float, eq: float, req: float, q_bil: float, q_ccp: float, rv: float, share: float, net_cash: float,
    bilateral_rate: float, ccp_rate: float,
) -> tuple[float, float, float, float, float]:
    """Failures of one book and the liquidation queues (engine/channels/failures.py)."""
    need = req * pos
    equity_pos = max(eq, 0.0)
    if equity_pos < need:
        fail = min(max(1.0 - equity_pos / max(need, 1e-12), 0.0), 1.0)
        cash = fail * pos * net_cash
        pos = pos * (1.0 - fail)
        eq = eq * (1.0 - fail)
        q_bil += cash * (1.0 - share)
        q_ccp += cash * share
    liquidated = q_bil * bilateral_rate + q_ccp * ccp_rate
    return pos, eq, q_bil * (1.0 - bilateral_rate), q_ccp * (1.0 - ccp_rate), rv + liquidated


@njit(cache=True, inline="always")
def _clear(
    absorbed: float, fed_part: float, capacity: float, inventory0: float, slope: float, odds_ref: float
) -> tuple[float, float, float, float, float]:
    """One segment's clearing: absorbed, sold to the Fed, inventory, value holdings, utilization."""
    absorbed = absorbed - fed_part
    sold_to_fed = max(-absorbed, 0.0)
    absorbed = absorbed + sold_to_fed
    u = _solve_utilization(capacity, absorbed + inventory0 + slope * odds_ref, slope)
    inventory = capacity * u
    return absorbed, sold_to_fed, inventory, absorbed - (inventory - inventory0), u


@njit(cache=True, inline="always")
def _reprice(
    pos: float, eq: float, req: float, req_prev: float, spread: float, duration: float, f_funds: float
) -> tuple[float, float]:
    """One book's equity after the day's spread change and funding cost, and its margin call."""
    loss = pos * spread * duration / 1e4
    if f_funds != 0.0:
        loss = loss + pos * (1.0 - req) * (f_funds / 1e4 / 360.0)
    return eq - loss, max(req * pos - req_prev * pos, 0.0) + max(loss, 0.0)


@njit(cache=True, parallel=True)
def stress_kernel(  # one compiled loop carries every channel's inputs
    days: int,
    # per regime (R,) and regime x day
    repo_cleared_share: np.ndarray,
    haircut_floor: np.ndarray,
    cross_margin_offset: np.ndarray,
    ccp_damping: np.ndarray,
    dealer_net_capital: np.ndarray,  # (1 + buffer) / leverage limit
    cap_x: np.ndarray,
    cap_mode: np.ndarray,  # int: 0 daily, 1 averaged, 2 released
    cap_window: np.ndarray,  # int
    cap_on: np.ndarray,  # int: 1 if the regime's cap binds in stress
    relief_day: np.ndarray,  # int
    fed_rule_on: np.ndarray,
    fed_slope: np.ndarray,
    fed_max_pace: np.ndarray,
    fed_persistence: np.ndarray,
    futures_margin: np.ndarray,
    futures_damping: np.ndarray,
    fed_schedule: np.ndarray,  # (R, T+1)
    funding_dealers: np.ndarray,  # (R, T+1)
    funding_funds: np.ndarray,  # (R, T+1)
    # per regime x path (R, P)
    fed_lag: np.ndarray,  # int
    fed_threshold: np.ndarray,
    gain_before: np.ndarray,
    gain_after: np.ndarray,
    bs_capacity_before: np.ndarray,
    bs_capacity_after: np.ndarray,
    bs_odds_before: np.ndarray,
    bs_odds_after: np.ndarray,
    inventory0_total: np.ndarray,
    # per book x regime x path (3, R, P)
    positions0: np.ndarray,
    equity0: np.ndarray,
    required0: np.ndarray,
    free_liquidity0: np.ndarray,
    dealer_covered: np.ndarray,
    cap_covered: np.ndarray,
    cap_equity_share: np.ndarray,
    # per segment x regime x path (2, R, P)
    capacity_base: np.ndarray,
    inventory0: np.ndarray,
    odds_before: np.ndarray,
    odds_after: np.ndarray,
    # per path draws (P,) and per segment x path
    nu: np.ndarray,
    speed: np.ndarray,
    max_sale: np.ndarray,
    min_buffer: np.ndarray,
    target_buffer: np.ndarray,
    slope_bp: np.ndarray,
    basis_slope_bp: np.ndarray,
    comovement: np.ndarray,
    feedback: np.ndarray,
    layoff_rate: np.ndarray,
    slr_weight: np.ndarray,
    theta: np.ndarray,
    theta_swap: np.ndarray,
    bilateral_vol: np.ndarray,
    value_buyer_slope: np.ndarray,  # (2, P)
    sigma_exogenous: np.ndarray,  # (2, P, T+1)
    exogenous_total: np.ndarray,  # (P, T+1)
    # scalars and per book/segment constants
    sigma0: np.ndarray,  # (2,)
    lookback: np.ndarray,  # (2,)
    durations: np.ndarray,  # (3,)
    net_cash: np.ndarray,  # (3,)
    bilateral_base: float,
    bilateral_funding: float,
    z_root_mpor: float,
    swap_im: float,
    other_margin: float,
    bilateral_rate: float,
    ccp_rate: float,
    capacity_drag: float,
    long_flow_share: float,
    fed_long_share: float,
    basis_pass_through: float,
    risk_decay: float,
    other_beta: float,
    calm_utilization: float,
    any_dealer_rule: bool,
    depth0: float,
    depth_vol_elasticity: float,
    depth_util_exponent: float,
    depth_floor: float,
    # for the summary: fundamental paths (2, P, T+1) and the thresholds of engine/functioning.py
    fundamental: np.ndarray,
    calm_swap_spread: float,
    dysfunction_dislocation: float,
    dysfunction_utilization_pct: float,  # 100 x the utilization threshold, as the series compare
    breakdown_dislocation: float,
    breakdown_depth: float,
    store: bool,  # False: write no (R, P, T+1) output (they may be empty arrays), only the summary
    # outputs, path-major (R, P, T+1) unless noted: each path's days are contiguous
    out_dislocation: np.ndarray,
    out_long_dislocation: np.ndarray,
    out_utilization: np.ndarray,
    out_long_utilization: np.ndarray,
    out_inventory: np.ndarray,
    out_basis: np.ndarray,
    out_equity: np.ndarray,
    out_positions: np.ndarray,
    out_sales: np.ndarray,
    out_margin_calls: np.ndarray,
    out_fed: np.ndarray,
    out_sigma: np.ndarray,
    out_depth: np.ndarray,
    out_flow_rv: np.ndarray,
    out_flow_dealers: np.ndarray,
    out_flow_value: np.ndarray,
    out_sales_by_book: np.ndarray,  # (3, R, P)
    out_summary: np.ndarray,  # (N_SUMMARY, R, P)
) -> None:
    n_regimes, n_paths = fed_lag.shape
    t_len = days + 1
    fed_share = (1.0 - fed_long_share, fed_long_share)
    total = n_regimes * n_paths
    n_chunks = min(total, 64)
    # log of breakdown_depth / depth0, for skipping the depth exp (a margin covers its rounding)
    log_breakdown = math.log(breakdown_depth / depth0) if breakdown_depth > 0.0 and depth0 > 0.0 else math.inf
    # Chunks of (regime, path) elements run on all cores; each has its own scratch state.
    for chunk in prange(n_chunks):
        history = np.empty(t_len)
        cumsum = np.empty((t_len + 1, 3))
        # each path's daily sales, margin calls and Fed purchases, summed in numpy's order at the end
        sales_row = np.empty(t_len)
        margin_row = np.empty(t_len)
        fed_row = np.empty(t_len)
        for idx in range(chunk * total // n_chunks, (chunk + 1) * total // n_chunks):
            r = idx // n_paths
            p = idx - r * n_paths
            share = repo_cleared_share[r]
            undamped = futures_damping[r] == 0.0
            keep_damping = 1.0 - ccp_damping[r]
            averaged_cap = cap_on[r] == 1 and cap_mode[r] == 1
            # The path's state in scalars (books 0-2, segments 0-1), not small arrays: stores to an
            # array may alias any other array for LLVM, which then reloads state after every store.
            pos0, pos1, pos2 = positions0[0, r, p], positions0[1, r, p], positions0[2, r, p]
            eq0, eq1, eq2 = equity0[0, r, p], equity0[1, r, p], equity0[2, r, p]
            req_prev0, req_prev1, req_prev2 = required0[0, r, p], required0[1, r, p], required0[2, r, p]
            q_bil0 = q_bil1 = q_bil2 = 0.0
            q_ccp0 = q_ccp1 = q_ccp2 = 0.0
            sales0 = sales1 = sales2 = 0.0
            for k in range(3):
                cumsum[0, k] = 0.0
                cumsum[1, k] = equity0[k, r, p]
            absorbed0 = absorbed1 = 0.0
            inv_base0, inv_base1 = inventory0[0, r, p], inventory0[1, r, p]
            inventory_0, inventory_1 = inv_base0, inv_base1
            value0 = value1 = 0.0
            disl0 = disl1 = 0.0
            util0 = util1 = calm_utilization
            sigma_0, sigma_1 = sigma0[0], sigma0[1]
            risk_var0, risk_var1 = sigma0[0] * sigma0[0], sigma0[1] * sigma0[1]
            risk_vol0, risk_vol1 = sigma0[0], sigma0[1]
            basis = 0.0
            fed_prev = 0.0
            history[0] = 0.0
            # 1 - the reference utilization of the depth equation, before and after relief: fixed
            # per path, so computed once here rather than every day (the same operations).
            free_before = 1.0 - odds_before[0, r, p] / (1.0 + odds_before[0, r, p])
            free_after = 1.0 - odds_after[0, r, p] / (1.0 + odds_after[0, r, p])
            inventory_day = inventory_0 + inventory_1 - inventory0_total[r, p]
            if store:
                out_dislocation[r, p, 0] = 0.0
                out_long_dislocation[r, p, 0] = 0.0
                out_utilization[r, p, 0] = util0
                out_long_utilization[r, p, 0] = util1
                out_inventory[r, p, 0] = inventory_day
                out_basis[r, p, 0] = 0.0
                out_equity[r, p, 0] = eq0 + eq1 + eq2
                out_positions[r, p, 0] = pos0 + pos1 + pos2
                out_sales[r, p, 0] = 0.0
                out_margin_calls[r, p, 0] = 0.0
                out_fed[r, p, 0] = 0.0
                out_sigma[r, p, 0] = sigma_0
                out_depth[r, p, 0] = depth0
            # Day 0 opens every running peak and trough, with the values the series hold on day 0.
            sales_row[0] = 0.0
            margin_row[0] = 0.0
            fed_row[0] = 0.0
            peak_10y = fundamental[0, p, 0] + 0.0
            peak_30y = fundamental[1, p, 0] + 0.0
            trough_depth = depth0
            peak_util = 100.0 * util0
            peak_inventory = inventory_day
            peak_basis = 0.0
            min_swap = calm_swap_spread - 0.0
            dysfunctional_days = 0
            if dysfunction_dislocation <= 0.0 and 100.0 * util0 >= dysfunction_utilization_pct:
                dysfunctional_days = 1
            beyond_before = breakdown_dislocation <= 0.0 or depth0 < breakdown_depth
            broken = False
            out_summary[_POSITIONS0, r, p] = pos0 + pos1 + pos2
            out_summary[_EQUITY0, r, p] = eq0 + eq1 + eq2
            log_trough = 0.0  # log_depth of the trough so far (day 0: depth0)
            for t in range(1, t_len):
                f_dealers = funding_dealers[r, t]
                f_funds = funding_funds[r, t]
                # margins (engine/channels/margins.py, transmission.margin_rates)
                base = bilateral_base + bilateral_funding * f_funds
                vol_ratio0 = max(risk_vol0 / sigma0[0], 1e-9)  # capacities use the same clamped ratio later
                vol_ratio1 = max(risk_vol1 / sigma0[1], 1e-9)
                log_ratio0 = math.log(vol_ratio0)
                log_ratio1 = math.log(vol_ratio1)
                bilateral0 = base + bilateral_vol[p] * max(vol_ratio0 - 1.0, 0.0)
                bilateral1 = base + bilateral_vol[p] * max(vol_ratio1 - 1.0, 0.0)
                margin_vol0 = lookback[0] + keep_damping * max(risk_vol0 - lookback[0], 0.0)
                margin_vol1 = lookback[1] + keep_damping * max(risk_vol1 - lookback[1], 0.0)
                # The short legs' exp(theta * log ratio) serves the futures hedge too when it is undamped:
                # theta * (1 - 0.0) is theta exactly, so the exponent and the result are the same bits.
                short_legs = math.exp(theta[p] * log_ratio0)
                cleared0 = max(haircut_floor[r], z_root_mpor * durations[0] * margin_vol0)
                repo0 = bilateral0 + share * (cleared0 - bilateral0)
                if undamped:
                    hedge = futures_margin[r] * short_legs
                else:
                    hedge = futures_margin[r] * math.exp((theta[p] * (1.0 - futures_damping[r])) * log_ratio0)
                margin0 = repo0 + hedge - cross_margin_offset[r] * min(share * cleared0, hedge)
                cleared1 = max(haircut_floor[r], z_root_mpor * durations[1] * margin_vol1)
                repo1 = bilateral1 + share * (cleared1 - bilateral1)
                margin1 = repo1 + swap_im * math.exp(theta_swap[p] * log_ratio1)
                cleared2 = max(haircut_floor[r], z_root_mpor * durations[2] * margin_vol0)
                repo2 = bilateral0 + share * (cleared2 - bilateral0)
                margin2 = repo2 + other_margin * short_legs
                if any_dealer_rule:
                    req0 = _dealer_rule(margin0, dealer_covered[0, r, p], dealer_net_capital[r])
                    req1 = _dealer_rule(margin1, dealer_covered[1, r, p], dealer_net_capital[r])
                    req2 = _dealer_rule(margin2, dealer_covered[2, r, p], dealer_net_capital[r])
                else:
                    req0, req1, req2 = margin0, margin1, margin2
                # deleverage (engine/channels/deleverage.py)
                pos0, rv0 = _deleverage(
                    0, t, pos0, eq0, req0, positions0[0, r, p], free_liquidity0[0, r, p], equity0[0, r, p],
                    cap_covered[0, r, p], cap_equity_share[0, r, p], cap_on[r], cap_mode[r], cap_window[r], cap_x[r],
                    cumsum, nu[p], speed[p], min_buffer[p], target_buffer[p], max_sale[p], net_cash[0],
                )
                pos1, rv1 = _deleverage(
                    1, t, pos1, eq1, req1, positions0[1, r, p], free_liquidity0[1, r, p], equity0[1, r, p],
                    cap_covered[1, r, p], cap_equity_share[1, r, p], cap_on[r], cap_mode[r], cap_window[r], cap_x[r],
                    cumsum, nu[p], speed[p], min_buffer[p], target_buffer[p], max_sale[p], net_cash[1],
                )
                pos2, rv2 = _deleverage(
                    2, t, pos2, eq2, req2, positions0[2, r, p], free_liquidity0[2, r, p], equity0[2, r, p],
                    cap_covered[2, r, p], cap_equity_share[2, r, p], cap_on[r], cap_mode[r], cap_window[r], cap_x[r],
                    cumsum, nu[p], speed[p], min_buffer[p], target_buffer[p], max_sale[p], net_cash[2],
                )
                # failures (engine/channels/failures.py)
                pos0, eq0, q_bil0, q_ccp0, rv0 = _fail(
                    pos0, eq0, req0, q_bil0, q_ccp0, rv0, share, net_cash[0], bilateral_rate, ccp_rate
                )
                pos1, eq1, q_bil1, q_ccp1, rv1 = _fail(
                    pos1, eq1, req1, q_bil1, q_ccp1, rv1, share, net_cash[1], bilateral_rate, ccp_rate
                )
                pos2, eq2, q_bil2, q_ccp2, rv2 = _fail(
                    pos2, eq2, req2, q_bil2, q_ccp2, rv2, share, net_cash[2], bilateral_rate, ccp_rate
                )
                exo = exogenous_total[p, t]
                gross0 = rv0 + rv2 + exo * (1.0 - long_flow_share)
                gross1 = rv1 + exo * long_flow_share
                after = t >= relief_day[r]
                gain = gain_after[r, p] if after else gain_before[r, p]
                drag = 1.0 - capacity_drag * max(f_dealers, 0.0)
                w = slr_weight[p]
                layoff0 = layoff_rate[p] * max(inventory_0 - inv_base0, 0.0)
                absorbed0 = absorbed0 + gross0 - layoff0
                odds_ref0 = odds_after[0, r, p] if after else odds_before[0, r, p]
                capacity0 = capacity_base[0, r, p] * (w * (1.0 + gain) + (1.0 - w) / vol_ratio0) * drag
                layoff1 = layoff_rate[p] * max(inventory_1 - inv_base1, 0.0)
                absorbed1 = absorbed1 + gross1 - layoff1
                odds_ref1 = odds_after[1, r, p] if after else odds_before[1, r, p]
                capacity1 = capacity_base[1, r, p] * (w * (1.0 + gain) + (1.0 - w) / vol_ratio1) * drag
                # Fed purchases (engine/channels/fed.py)
                fed = fed_schedule[r, t]
                if fed_rule_on[r] > 0.0:
                    floor = fed_persistence[r] * fed_prev
                    cap = max(fed_max_pace[r], floor)
                    threshold = fed_threshold[r, p]
                    lag = fed_lag[r, p]
                    if lag == 0:
                        part = fed_share[0]
                        a = absorbed0 - part * fed_schedule[r, t]
                        c_joint = value_buyer_slope[0, p] + part * fed_slope[r] * slope_bp[p]
                        rhs = max(a + inv_base0 + c_joint * odds_ref0 + part * fed_slope[r] * threshold, 0.0)
                        u = _solve_utilization(capacity0, rhs, c_joint)
                        rule = fed_slope[r] * (slope_bp[p] * (_odds(u) - odds_ref0) - threshold)
                    else:
                        seen = history[min(max(t - lag, 0), t - 1)]
                        rule = fed_slope[r] * (seen - threshold)
                    rule = min(max(rule, floor), cap)
                    fed_prev = rule
                    fed += rule
                inventory_old0, inventory_old1 = inventory_0, inventory_1
                value_old0, value_old1 = value0, value1
                # market clearing (engine/channels/clearing.py)
                absorbed0, stf0, inventory_0, value0, util0 = _clear(
                    absorbed0, fed * fed_share[0], capacity0, inv_base0, value_buyer_slope[0, p], odds_ref0
                )
                absorbed1, stf1, inventory_1, value1, util1 = _clear(
                    absorbed1, fed * fed_share[1], capacity1, inv_base1, value_buyer_slope[1, p], odds_ref1
                )
                own0 = slope_bp[p] * (_odds(util0) - odds_ref0)
                own1 = slope_bp[p] * (_odds(util1) - odds_ref1)
                change0 = own0 - disl0
                change1 = own1 + comovement[p] * own0 - disl1
                disl0 = own0
                disl1 = own1 + comovement[p] * own0
                # prices (engine/channels/prices.py)
                bs_capacity = bs_capacity_after[r, p] if after else bs_capacity_before[r, p]
                bs_odds = bs_odds_after[r, p] if after else bs_odds_before[r, p]
                u_bs = min((inventory_0 + inventory_1) / bs_capacity, 1.0 - 1e-12)
                new_basis = basis_slope_bp[p] * (_odds(u_bs) - bs_odds) + basis_pass_through * f_funds
                spread_change0 = new_basis - basis
                basis = new_basis
                eq0, call0 = _reprice(pos0, eq0, req0, req_prev0, spread_change0, durations[0], f_funds)
                eq1, call1 = _reprice(pos1, eq1, req1, req_prev1, change1, durations[1], f_funds)
                eq2, call2 = _reprice(pos2, eq2, req2, req_prev2, other_beta * change0, durations[2], f_funds)
                calls = 0.0 + call0 + call1 + call2  # the sums run in book order from 0.0, as before
                req_prev0, req_prev1, req_prev2 = req0, req1, req2
                if averaged_cap:  # only the averaged cap reads the running equity sums
                    cumsum[t + 1, 0] = cumsum[t, 0] + max(eq0, 0.0)
                    cumsum[t + 1, 1] = cumsum[t, 1] + max(eq1, 0.0)
                    cumsum[t + 1, 2] = cumsum[t, 2] + max(eq2, 0.0)
                sales0 += rv0
                sales1 += rv1
                sales2 += rv2
                total_eq = 0.0 + eq0 + eq1 + eq2
                total_pos = 0.0 + pos0 + pos1 + pos2
                total_rv = 0.0 + rv0 + rv1 + rv2
                sigma_0 = sigma_exogenous[0, p, t] + feedback[p] * abs(change0)
                sigma_1 = sigma_exogenous[1, p, t] + feedback[p] * abs(change1)
                risk_var0 = risk_decay * risk_var0 + (1.0 - risk_decay) * (sigma_0 * sigma_0)
                risk_vol0 = math.sqrt(risk_var0)
                risk_var1 = risk_decay * risk_var1 + (1.0 - risk_decay) * (sigma_1 * sigma_1)
                risk_vol1 = math.sqrt(risk_var1)
                history[t] = disl0
                inventory_day = inventory_0 + inventory_1 - inventory0_total[r, p]
                log_depth = depth_vol_elasticity * math.log(sigma0[0] / sigma_0) + depth_util_exponent * math.log(
                    (1.0 - util0) / (free_after if after else free_before)
                )
                # Summary only: depth matters only as a new trough or below the breakdown depth. When
                # log_depth is clearly above both (exp is monotone; the margin covers rounding), the
                # exp cannot change the trough or the flag and is skipped.
                if store or not (log_depth > log_trough + _LOG_MARGIN and log_depth > log_breakdown + _LOG_MARGIN):  # NaN: computed
                    depth = max(depth0 * math.exp(log_depth), depth_floor)
                    if depth < trough_depth:
                        log_trough = log_depth
                else:
                    depth = math.inf  # above the trough and the breakdown depth; never stored
                if store:
                    out_dislocation[r, p, t] = disl0
                    out_long_dislocation[r, p, t] = disl1
                    out_utilization[r, p, t] = util0
                    out_long_utilization[r, p, t] = util1
                    out_inventory[r, p, t] = inventory_day
                    out_basis[r, p, t] = basis
                    out_equity[r, p, t] = total_eq
                    out_positions[r, p, t] = total_pos
                    out_sales[r, p, t] = total_rv
                    out_margin_calls[r, p, t] = calls
                    out_fed[r, p, t] = fed
                    out_sigma[r, p, t] = sigma_0
                    out_depth[r, p, t] = depth
                    out_flow_rv[r, p, t] = -total_rv
                    out_flow_dealers[r, p, t] = (inventory_0 - inventory_old0) + (inventory_1 - inventory_old1)
                    out_flow_value[r, p, t] = (value0 - value_old0 + layoff0 - stf0) + (
                        value1 - value_old1 + layoff1 - stf1
                    )
                # The summary, with the arithmetic of _derive_series and engine/functioning.py (so
                # peaks, troughs and flags are the same numbers the histories give).
                sales_row[t] = total_rv
                margin_row[t] = calls
                fed_row[t] = fed
                peak_10y = max(peak_10y, fundamental[0, p, t] + disl0)
                peak_30y = max(peak_30y, fundamental[1, p, t] + disl1)
                trough_depth = min(trough_depth, depth)
                util_pct = 100.0 * util0
                peak_util = max(peak_util, util_pct)
                peak_inventory = max(peak_inventory, inventory_day)
                peak_basis = max(peak_basis, basis)
                min_swap = min(min_swap, calm_swap_spread - disl1)
                if disl0 >= dysfunction_dislocation and util_pct >= dysfunction_utilization_pct:
                    dysfunctional_days += 1
                beyond = disl0 >= breakdown_dislocation or depth < breakdown_depth
                if beyond and beyond_before:
                    broken = True
                beyond_before = beyond
            out_sales_by_book[0, r, p] = sales0
            out_sales_by_book[1, r, p] = sales1
            out_sales_by_book[2, r, p] = sales2
            out_summary[_PEAK_10Y, r, p] = peak_10y
            out_summary[_TROUGH_DEPTH, r, p] = trough_depth
            out_summary[_PEAK_UTIL, r, p] = peak_util
            out_summary[_PEAK_INVENTORY, r, p] = peak_inventory
            out_summary[_SALES, r, p] = _pairwise_sum(sales_row, 0, t_len)
            out_summary[_MARGIN, r, p] = _pairwise_sum(margin_row, 0, t_len)
            out_summary[_PEAK_BASIS, r, p] = peak_basis
            out_summary[_MIN_SWAP, r, p] = min_swap
            out_summary[_PEAK_30Y, r, p] = peak_30y
            out_summary[_FED, r, p] = _pairwise_sum(fed_row, 0, t_len)
            out_summary[_DYSFUNCTION, r, p] = float(dysfunctional_days)
            out_summary[_BROKEN, r, p] = 1.0 if broken else 0.0
