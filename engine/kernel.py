"""The stress loop compiled with numba: the channels of `engine/channels/`, transcribed to scalars.

Paths and regimes never interact inside a day, so the kernel loops over (regime, path) outside
and over days inside, keeping each path's state in registers. `engine/channels/` stays the
readable specification and the numpy reference (`run_stress(..., backend="numpy")`);
`tests/test_kernel.py` checks that both give the same arrays to a tight tolerance. No fastmath:
the arithmetic is the numpy path's, in the same order.
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
        pos = np.empty(3)
        eq = np.empty(3)
        req = np.empty(3)
        req_prev = np.empty(3)
        q_bil = np.empty(3)
        q_ccp = np.empty(3)
        rv = np.empty(3)
        margin = np.empty(3)
        absorbed = np.empty(2)
        inventory = np.empty(2)
        value = np.empty(2)
        disl = np.empty(2)
        util = np.empty(2)
        sigma = np.empty(2)
        risk_var = np.empty(2)
        risk_vol = np.empty(2)
        capacity = np.empty(2)
        odds_ref = np.empty(2)
        gross = np.empty(2)
        layoff = np.empty(2)
        history = np.empty(t_len)
        cumsum = np.empty((t_len + 1, 3))
        log_ratio = np.empty(2)
        bilateral = np.empty(2)
        margin_vol = np.empty(2)
        sales_book = np.empty(3)
        vol_ratio = np.empty(2)
        # each path's daily sales, margin calls and Fed purchases, summed in numpy's order at the end
        sales_row = np.empty(t_len)
        margin_row = np.empty(t_len)
        fed_row = np.empty(t_len)
        for idx in range(chunk * total // n_chunks, (chunk + 1) * total // n_chunks):
            r = idx // n_paths
            p = idx - r * n_paths
            share = repo_cleared_share[r]
            undamped = futures_damping[r] == 0.0
            for k in range(3):
                pos[k] = positions0[k, r, p]
                eq[k] = equity0[k, r, p]
                req_prev[k] = required0[k, r, p]
                q_bil[k] = 0.0
                q_ccp[k] = 0.0
                cumsum[0, k] = 0.0
                cumsum[1, k] = equity0[k, r, p]
            for j in range(2):
                absorbed[j] = 0.0
                inventory[j] = inventory0[j, r, p]
                value[j] = 0.0
                disl[j] = 0.0
                util[j] = calm_utilization
                sigma[j] = sigma0[j]
                risk_var[j] = sigma0[j] * sigma0[j]
                risk_vol[j] = sigma0[j]
            basis = 0.0
            fed_prev = 0.0
            history[0] = 0.0
            # 1 - the reference utilization of the depth equation, before and after relief: fixed
            # per path, so computed once here rather than every day (the same operations).
            free_before = 1.0 - odds_before[0, r, p] / (1.0 + odds_before[0, r, p])
            free_after = 1.0 - odds_after[0, r, p] / (1.0 + odds_after[0, r, p])
            inventory_day = inventory[0] + inventory[1] - inventory0_total[r, p]
            if store:
                out_dislocation[r, p, 0] = 0.0
                out_long_dislocation[r, p, 0] = 0.0
                out_utilization[r, p, 0] = util[0]
                out_long_utilization[r, p, 0] = util[1]
                out_inventory[r, p, 0] = inventory_day
                out_basis[r, p, 0] = 0.0
                out_equity[r, p, 0] = eq[0] + eq[1] + eq[2]
                out_positions[r, p, 0] = pos[0] + pos[1] + pos[2]
                out_sales[r, p, 0] = 0.0
                out_margin_calls[r, p, 0] = 0.0
                out_fed[r, p, 0] = 0.0
                out_sigma[r, p, 0] = sigma[0]
                out_depth[r, p, 0] = depth0
            # Day 0 opens every running peak and trough, with the values the series hold on day 0.
            sales_row[0] = 0.0
            margin_row[0] = 0.0
            fed_row[0] = 0.0
            peak_10y = fundamental[0, p, 0] + 0.0
            peak_30y = fundamental[1, p, 0] + 0.0
            trough_depth = depth0
            peak_util = 100.0 * util[0]
            peak_inventory = inventory_day
            peak_basis = 0.0
            min_swap = calm_swap_spread - 0.0
            dysfunctional_days = 0
            if dysfunction_dislocation <= 0.0 and 100.0 * util[0] >= dysfunction_utilization_pct:
                dysfunctional_days = 1
            beyond_before = breakdown_dislocation <= 0.0 or depth0 < breakdown_depth
            broken = False
            out_summary[_POSITIONS0, r, p] = pos[0] + pos[1] + pos[2]
            out_summary[_EQUITY0, r, p] = eq[0] + eq[1] + eq[2]
            for k in range(3):
                sales_book[k] = 0.0  # stored after the days: no store in the day loop
            log_trough = 0.0  # log_depth of the trough so far (day 0: depth0)
            for t in range(1, t_len):
                f_dealers = funding_dealers[r, t]
                f_funds = funding_funds[r, t]
                # margins (engine/channels/margins.py, transmission.margin_rates)
                base = bilateral_base + bilateral_funding * f_funds
                for j in range(2):
                    ratio = max(risk_vol[j] / sigma0[j], 1e-9)
                    vol_ratio[j] = ratio  # capacities use the same clamped ratio later in the day
                    log_ratio[j] = math.log(ratio)
                    bilateral[j] = base + bilateral_vol[p] * max(ratio - 1.0, 0.0)
                    margin_vol[j] = lookback[j] + (1.0 - ccp_damping[r]) * max(risk_vol[j] - lookback[j], 0.0)
                # The short legs' exp(theta * log ratio) serves the futures hedge too when it is undamped:
                # theta * (1 - 0.0) is theta exactly, so the exponent and the result are the same bits.
                short_legs = math.exp(theta[p] * log_ratio[0])
                for k in range(3):
                    seg = 1 if k == 1 else 0
                    cleared = max(haircut_floor[r], z_root_mpor * durations[k] * margin_vol[seg])
                    repo = bilateral[seg] + share * (cleared - bilateral[seg])
                    if k == 0:
                        if undamped:
                            hedge = futures_margin[r] * short_legs
                        else:
                            hedge = futures_margin[r] * math.exp((theta[p] * (1.0 - futures_damping[r])) * log_ratio[0])
                        margin[k] = repo + hedge - cross_margin_offset[r] * min(share * cleared, hedge)
                    elif k == 1:
                        margin[k] = repo + swap_im * math.exp(theta_swap[p] * log_ratio[1])
                    else:
                        margin[k] = repo + other_margin * short_legs
                    if any_dealer_rule:
                        cov = dealer_covered[k, r, p]
                        req[k] = (1.0 - cov) * margin[k] + cov * max(margin[k], dealer_net_capital[r])
                    else:
                        req[k] = margin[k]
                # deleverage (engine/channels/deleverage.py)
                for k in range(3):
                    need = req[k] * pos[k]
                    ratio = min(max((eq[k] - need) / free_liquidity0[k, r, p], 1e-300), 1.0)
                    # Most days the book is already below its target P0 * ratio^nu and liquidity is 0.0:
                    # a cheap lower bound of ratio^nu proves it without the log and exp (below).
                    if ratio < 1.0 and pos[k] < positions0[k, r, p] * _power_lower_bound(ratio, nu[p]):
                        liquidity = 0.0
                    else:
                        scale = math.exp(nu[p] * math.log(ratio)) if ratio < 1.0 else 1.0
                        liquidity = speed[p] * max(pos[k] - positions0[k, r, p] * scale, 0.0)
                    equity_pos = max(eq[k], 0.0)
                    call = 0.0
                    if equity_pos < need * (1.0 + min_buffer[p]):
                        target = equity_pos / max(need * (1.0 + target_buffer[p]), 1e-12)
                        call = pos[k] * min(max(1.0 - target, 0.0), 1.0)
                    needed = max(liquidity, call)
                    if cap_on[r] == 1:
                        capped_equity = equity_pos
                        if cap_mode[r] == 1:
                            window = cap_window[r]
                            start = max(0, t - window + 1)
                            missing = window - 1 - (t - start)
                            past = cumsum[t, k] - cumsum[start, k]
                            capped_equity = (past + missing * equity0[k, r, p] + equity_pos) / window
                        gross_notional = 2.0 * cap_covered[k, r, p] * pos[k]
                        limit = cap_x[r] * cap_equity_share[k, r, p] * capped_equity
                        needed = max(needed, max(gross_notional - limit, 0.0) / 2.0)
                    sold = min(needed, max_sale[p] * pos[k])
                    pos[k] -= sold
                    rv[k] = sold * net_cash[k]
                # failures (engine/channels/failures.py)
                for k in range(3):
                    need = req[k] * pos[k]
                    equity_pos = max(eq[k], 0.0)
                    if equity_pos < need:
                        fail = min(max(1.0 - equity_pos / max(need, 1e-12), 0.0), 1.0)
                        cash = fail * pos[k] * net_cash[k]
                        pos[k] = pos[k] * (1.0 - fail)
                        eq[k] = eq[k] * (1.0 - fail)
                        q_bil[k] += cash * (1.0 - share)
                        q_ccp[k] += cash * share
                    liquidated = q_bil[k] * bilateral_rate + q_ccp[k] * ccp_rate
                    q_bil[k] = q_bil[k] * (1.0 - bilateral_rate)
                    q_ccp[k] = q_ccp[k] * (1.0 - ccp_rate)
                    rv[k] += liquidated
                exo = exogenous_total[p, t]
                gross[0] = rv[0] + rv[2] + exo * (1.0 - long_flow_share)
                gross[1] = rv[1] + exo * long_flow_share
                after = t >= relief_day[r]
                gain = gain_after[r, p] if after else gain_before[r, p]
                drag = 1.0 - capacity_drag * max(f_dealers, 0.0)
                w = slr_weight[p]
                for j in range(2):
                    layoff[j] = layoff_rate[p] * max(inventory[j] - inventory0[j, r, p], 0.0)
                    absorbed[j] = absorbed[j] + gross[j] - layoff[j]
                    odds_ref[j] = odds_after[j, r, p] if after else odds_before[j, r, p]
                    capacity[j] = capacity_base[j, r, p] * (w * (1.0 + gain) + (1.0 - w) / vol_ratio[j]) * drag
                # Fed purchases (engine/channels/fed.py)
                fed = fed_schedule[r, t]
                if fed_rule_on[r] > 0.0:
                    floor = fed_persistence[r] * fed_prev
                    cap = max(fed_max_pace[r], floor)
                    threshold = fed_threshold[r, p]
                    lag = fed_lag[r, p]
                    if lag == 0:
                        part = fed_share[0]
                        a = absorbed[0] - part * fed_schedule[r, t]
                        c_joint = value_buyer_slope[0, p] + part * fed_slope[r] * slope_bp[p]
                        rhs = max(a + inventory0[0, r, p] + c_joint * odds_ref[0] + part * fed_slope[r] * threshold, 0.0)
                        u = _solve_utilization(capacity[0], rhs, c_joint)
                        rule = fed_slope[r] * (slope_bp[p] * (_odds(u) - odds_ref[0]) - threshold)
                    else:
                        seen = history[min(max(t - lag, 0), t - 1)]
                        rule = fed_slope[r] * (seen - threshold)
                    rule = min(max(rule, floor), cap)
                    fed_prev = rule
                    fed += rule
                inventory_old0, inventory_old1 = inventory[0], inventory[1]
                value_old0, value_old1 = value[0], value[1]
                stf0 = 0.0
                stf1 = 0.0
                # market clearing (engine/channels/clearing.py)
                for j in range(2):
                    absorbed[j] = absorbed[j] - fed * fed_share[j]
                    sold_to_fed = max(-absorbed[j], 0.0)
                    absorbed[j] = absorbed[j] + sold_to_fed
                    if j == 0:
                        stf0 = sold_to_fed
                    else:
                        stf1 = sold_to_fed
                    c = value_buyer_slope[j, p]
                    u = _solve_utilization(capacity[j], absorbed[j] + inventory0[j, r, p] + c * odds_ref[j], c)
                    inventory[j] = capacity[j] * u
                    value[j] = absorbed[j] - (inventory[j] - inventory0[j, r, p])
                    util[j] = u
                own0 = slope_bp[p] * (_odds(util[0]) - odds_ref[0])
                own1 = slope_bp[p] * (_odds(util[1]) - odds_ref[1])
                change0 = own0 - disl[0]
                change1 = own1 + comovement[p] * own0 - disl[1]
                disl[0] = own0
                disl[1] = own1 + comovement[p] * own0
                # prices (engine/channels/prices.py)
                bs_capacity = bs_capacity_after[r, p] if after else bs_capacity_before[r, p]
                bs_odds = bs_odds_after[r, p] if after else bs_odds_before[r, p]
                u_bs = min((inventory[0] + inventory[1]) / bs_capacity, 1.0 - 1e-12)
                new_basis = basis_slope_bp[p] * (_odds(u_bs) - bs_odds) + basis_pass_through * f_funds
                spread_change0 = new_basis - basis
                basis = new_basis
                calls = 0.0
                total_eq = 0.0
                total_pos = 0.0
                total_rv = 0.0
                for k in range(3):
                    if k == 0:
                        spread = spread_change0
                    elif k == 1:
                        spread = change1
                    else:
                        spread = other_beta * change0
                    loss = pos[k] * spread * durations[k] / 1e4
                    if f_funds != 0.0:
                        loss = loss + pos[k] * (1.0 - req[k]) * (f_funds / 1e4 / 360.0)
                    eq[k] = eq[k] - loss
                    calls += max(req[k] * pos[k] - req_prev[k] * pos[k], 0.0) + max(loss, 0.0)
                    req_prev[k] = req[k]
                    cumsum[t + 1, k] = cumsum[t, k] + max(eq[k], 0.0)
                    sales_book[k] += rv[k]
                    total_eq += eq[k]
                    total_pos += pos[k]
                    total_rv += rv[k]
                sigma[0] = sigma_exogenous[0, p, t] + feedback[p] * abs(change0)
                sigma[1] = sigma_exogenous[1, p, t] + feedback[p] * abs(change1)
                for j in range(2):
                    risk_var[j] = risk_decay * risk_var[j] + (1.0 - risk_decay) * (sigma[j] * sigma[j])
                    risk_vol[j] = math.sqrt(risk_var[j])
                history[t] = disl[0]
                inventory_day = inventory[0] + inventory[1] - inventory0_total[r, p]
                log_depth = depth_vol_elasticity * math.log(sigma0[0] / sigma[0]) + depth_util_exponent * math.log(
                    (1.0 - util[0]) / (free_after if after else free_before)
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
                    out_dislocation[r, p, t] = disl[0]
                    out_long_dislocation[r, p, t] = disl[1]
                    out_utilization[r, p, t] = util[0]
                    out_long_utilization[r, p, t] = util[1]
                    out_inventory[r, p, t] = inventory_day
                    out_basis[r, p, t] = basis
                    out_equity[r, p, t] = total_eq
                    out_positions[r, p, t] = total_pos
                    out_sales[r, p, t] = total_rv
                    out_margin_calls[r, p, t] = calls
                    out_fed[r, p, t] = fed
                    out_sigma[r, p, t] = sigma[0]
                    out_depth[r, p, t] = depth
                    out_flow_rv[r, p, t] = -total_rv
                    out_flow_dealers[r, p, t] = (inventory[0] - inventory_old0) + (inventory[1] - inventory_old1)
                    out_flow_value[r, p, t] = (value[0] - value_old0 + layoff[0] - stf0) + (
                        value[1] - value_old1 + layoff[1] - stf1
                    )
                # The summary, with the arithmetic of _derive_series and engine/functioning.py (so
                # peaks, troughs and flags are the same numbers the histories give).
                sales_row[t] = total_rv
                margin_row[t] = calls
                fed_row[t] = fed
                peak_10y = max(peak_10y, fundamental[0, p, t] + disl[0])
                peak_30y = max(peak_30y, fundamental[1, p, t] + disl[1])
                trough_depth = min(trough_depth, depth)
                util_pct = 100.0 * util[0]
                peak_util = max(peak_util, util_pct)
                peak_inventory = max(peak_inventory, inventory_day)
                peak_basis = max(peak_basis, basis)
                min_swap = min(min_swap, calm_swap_spread - disl[1])
                if disl[0] >= dysfunction_dislocation and util_pct >= dysfunction_utilization_pct:
                    dysfunctional_days += 1
                beyond = disl[0] >= breakdown_dislocation or depth < breakdown_depth
                if beyond and beyond_before:
                    broken = True
                beyond_before = beyond
            for k in range(3):
                out_sales_by_book[k, r, p] = sales_book[k]
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
