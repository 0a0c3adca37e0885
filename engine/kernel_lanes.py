"""The summary-only stress loop across Monte Carlo paths in SIMD lanes (`engine/kernel.py`'s arithmetic).

`stress_kernel` runs one (regime, path) element at a time with its state in scalars. Here a chunk
runs a block of L paths of one regime together: every state variable is a row of L lanes in one
local array, and each day is a few short `for l in range(L)` loops without branches (selects), which
LLVM turns into vector code (AVX-512: one zmm of float64 per row). The operations and their order
are the scalar kernel's, with no fastmath, so every lane computes the same IEEE numbers: only where
the scalar kernel skips a log/exp that provably cannot change the result (a book already below its
deleverage target; a depth above the trough and the breakdown line) do the lanes run a short scalar
loop, with the same test. A final partial block repeats its last path in the spare lanes and writes
no output for them. Each path stays independent (common random numbers).
"""

import math

import numpy as np
from numba import njit, prange

from engine.kernel import (
    _BROKEN, _DYSFUNCTION, _EQUITY0, _FED, _LOG_MARGIN, _MARGIN, _MIN_SWAP, _PEAK_10Y, _PEAK_30Y, _PEAK_BASIS,
    _PEAK_INVENTORY, _PEAK_UTIL, _POSITIONS0, _POWER_MARGIN, _SALES, _TROUGH_DEPTH, _U_MAX, _pairwise_sum,
)

L = 8  # lanes: one AVX-512 register of float64

# Rows of a block's lane state (each row holds L lanes); generated, one name per quantity.
(
    _NU, _SPEED, _MAXSALE, _MINBUF, _TGTBUF, _SLOPE, _BSLOPE, _COMOV, _FEEDBACK, _LAYOFF, _SLRW, _THETA,
    _THETAS, _BILVOL, _VBS0, _VBS1, _LAG, _FEDTH, _GAINB, _GAINA, _BSCB, _BSCA, _BSOB, _BSOA, _INV0TOT,
    _POS0I, _POS1I, _POS2I, _EQ0I, _EQ1I, _EQ2I, _FREE0, _FREE1, _FREE2, _DCOV0, _DCOV1, _DCOV2, _CCOV0,
    _CCOV1, _CCOV2, _CESH0, _CESH1, _CESH2, _CAPB0, _CAPB1, _INVB0, _INVB1, _ODB0, _ODB1, _ODA0, _ODA1,
    _POS0, _POS1, _POS2, _EQ0, _EQ1, _EQ2, _RQP0, _RQP1, _RQP2, _QB0, _QB1, _QB2, _QC0, _QC1, _QC2, _SAL0,
    _SAL1, _SAL2, _ABS0, _ABS1, _INV_0, _INV_1, _DISL0, _DISL1, _UTIL0, _UTIL1, _RVAR0, _RVAR1, _RVOL0,
    _RVOL1, _BASIS, _FEDPREV, _FREEB, _FREEA, _LOGTR, _PK10, _PK30, _TRD, _PKU, _PKI, _PKB, _MINSW, _DYSF,
    _BEYB, _BRK, _VR0, _VR1, _LR0, _SL, _SWE, _HEXP, _REQ0, _REQ1, _REQ2, _SKIP0, _SKIP1, _SKIP2, _RAT0,
    _RAT1, _RAT2, _LIQ0, _LIQ1, _LIQ2, _LOGD, _DEPTH,
) = range(116)
_N_ROWS = 116


@njit(cache=True, inline="always")
def _solve_u(capacity: float, rhs: float, slope: float) -> float:
    b = capacity + slope + rhs
    disc = max(b * b - 4.0 * capacity * rhs, 0.0)
    u = 2.0 * rhs / max(b + math.sqrt(disc), 1e-300)
    return min(max(u, 0.0), _U_MAX)


@njit(cache=True, inline="always")
def _lower_bound(x: float, nu: float) -> float:
    """engine/kernel.py's _power_lower_bound as selects (both branches computed, one kept)."""
    low = x / (x + nu * (1.0 - x)) * _POWER_MARGIN
    high = x * x / (x + (nu - 1.0) * (1.0 - x)) * _POWER_MARGIN
    bound = low if nu <= 1.0 else high
    return bound if (nu >= 0.0) & (nu <= 2.0) & (x >= 1e-100) else 0.0


@njit(cache=True, parallel=True, error_model="numpy")
def stress_kernel_lanes(  # the arguments of engine.kernel.stress_kernel; writes only out_sales_by_book and out_summary
    days, repo_cleared_share, haircut_floor, cross_margin_offset, ccp_damping, dealer_net_capital, cap_x, cap_mode,
    cap_window, cap_on, relief_day, fed_rule_on, fed_slope, fed_max_pace, fed_persistence, futures_margin,
    futures_damping, fed_schedule, funding_dealers, funding_funds, fed_lag, fed_threshold, gain_before, gain_after,
    bs_capacity_before, bs_capacity_after, bs_odds_before, bs_odds_after, inventory0_total, positions0, equity0,
    required0, free_liquidity0, dealer_covered, cap_covered, cap_equity_share, capacity_base, inventory0, odds_before,
    odds_after, nu, speed, max_sale, min_buffer, target_buffer, slope_bp, basis_slope_bp, comovement, feedback,
    layoff_rate, slr_weight, theta, theta_swap, bilateral_vol, value_buyer_slope, sigma_exogenous, exogenous_total,
    sigma0, lookback, durations, net_cash, bilateral_base, bilateral_funding, z_root_mpor, swap_im, other_margin,
    bilateral_rate, ccp_rate, capacity_drag, long_flow_share, fed_long_share, basis_pass_through, risk_decay,
    other_beta, calm_utilization, any_dealer_rule, depth0, depth_vol_elasticity, depth_util_exponent, depth_floor,
    fundamental, calm_swap_spread, dysfunction_dislocation, dysfunction_utilization_pct, breakdown_dislocation,
    breakdown_depth, out_sales_by_book, out_summary,
):
    n_regimes, n_paths = fed_lag.shape
    t_len = days + 1
    fed_share0, fed_share1 = 1.0 - fed_long_share, fed_long_share
    n_blocks = (n_paths + L - 1) // L
    total = n_regimes * n_blocks
    n_chunks = min(total, 64)
    log_breakdown = math.log(breakdown_depth / depth0) if breakdown_depth > 0.0 and depth0 > 0.0 else math.inf
    s00, s01 = sigma0[0], sigma0[1]
    lb0, lb1 = lookback[0], lookback[1]
    dur0, dur1, dur2 = durations[0], durations[1], durations[2]
    nc0, nc1, nc2 = net_cash[0], net_cash[1], net_cash[2]
    day0 = _N_ROWS  # rows day0 + 5 t + j: the day's exogenous inputs per lane
    hist0 = day0 + 5 * t_len  # history of the 2-10y dislocation (the Fed's lagged view)
    cum0 = hist0 + t_len  # running sums of positive equity, (t_len + 1) x 3 books
    sum0 = cum0 + 3 * (t_len + 1)  # daily sales, margin calls and Fed purchases, 3 x t_len
    n_rows = sum0 + 3 * t_len
    for chunk in prange(n_chunks):
        # One array holds every row, so LLVM sees one base with constant row offsets (no aliasing).
        W = np.zeros((n_rows, L))
        row = np.empty(t_len)
        for idx in range(chunk * total // n_chunks, (chunk + 1) * total // n_chunks):
            r = idx // n_blocks
            first = (idx - r * n_blocks) * L
            share = repo_cleared_share[r]
            undamped = futures_damping[r] == 0.0
            keep_damping = 1.0 - ccp_damping[r]
            hfloor = haircut_floor[r]
            cross = cross_margin_offset[r]
            fmargin = futures_margin[r]
            theta_damp = 1.0 - futures_damping[r]
            dnc = dealer_net_capital[r]
            c_on = cap_on[r] == 1
            averaged = cap_mode[r] == 1
            window = cap_window[r]
            c_x = cap_x[r]
            relief = relief_day[r]
            fed_on = fed_rule_on[r] > 0.0
            f_slope, f_max, f_pers = fed_slope[r], fed_max_pace[r], fed_persistence[r]
            for l in range(L):  # inputs of the block's paths, the last one repeated in spare lanes
                p = min(first + l, n_paths - 1)
                W[_NU, l] = nu[p]
                W[_SPEED, l] = speed[p]
                W[_MAXSALE, l] = max_sale[p]
                W[_MINBUF, l] = min_buffer[p]
                W[_TGTBUF, l] = target_buffer[p]
                W[_SLOPE, l] = slope_bp[p]
                W[_BSLOPE, l] = basis_slope_bp[p]
                W[_COMOV, l] = comovement[p]
                W[_FEEDBACK, l] = feedback[p]
                W[_LAYOFF, l] = layoff_rate[p]
                W[_SLRW, l] = slr_weight[p]
                W[_THETA, l] = theta[p]
                W[_THETAS, l] = theta_swap[p]
                W[_BILVOL, l] = bilateral_vol[p]
                W[_VBS0, l] = value_buyer_slope[0, p]
                W[_VBS1, l] = value_buyer_slope[1, p]
                W[_LAG, l] = float(fed_lag[r, p])
                W[_FEDTH, l] = fed_threshold[r, p]
                W[_GAINB, l] = gain_before[r, p]
                W[_GAINA, l] = gain_after[r, p]
                W[_BSCB, l] = bs_capacity_before[r, p]
                W[_BSCA, l] = bs_capacity_after[r, p]
                W[_BSOB, l] = bs_odds_before[r, p]
                W[_BSOA, l] = bs_odds_after[r, p]
                W[_INV0TOT, l] = inventory0_total[r, p]
                for k in range(3):
                    W[_POS0I + k, l] = positions0[k, r, p]
                    W[_EQ0I + k, l] = equity0[k, r, p]
                    W[_FREE0 + k, l] = free_liquidity0[k, r, p]
                    W[_DCOV0 + k, l] = dealer_covered[k, r, p]
                    W[_CCOV0 + k, l] = cap_covered[k, r, p]
                    W[_CESH0 + k, l] = cap_equity_share[k, r, p]
                    W[_POS0 + k, l] = positions0[k, r, p]
                    W[_EQ0 + k, l] = equity0[k, r, p]
                    W[_RQP0 + k, l] = required0[k, r, p]
                    W[_QB0 + k, l] = 0.0
                    W[_QC0 + k, l] = 0.0
                    W[_SAL0 + k, l] = 0.0
                    W[cum0 + k, l] = 0.0
                    W[cum0 + 3 + k, l] = equity0[k, r, p]
                for s in range(2):
                    W[_CAPB0 + s, l] = capacity_base[s, r, p]
                    W[_INVB0 + s, l] = inventory0[s, r, p]
                    W[_ODB0 + s, l] = odds_before[s, r, p]
                    W[_ODA0 + s, l] = odds_after[s, r, p]
                    W[_INV_0 + s, l] = inventory0[s, r, p]
                    W[_ABS0 + s, l] = 0.0
                    W[_DISL0 + s, l] = 0.0
                    W[_UTIL0 + s, l] = calm_utilization
                for t in range(1, t_len):
                    W[day0 + 5 * t, l] = sigma_exogenous[0, p, t]
                    W[day0 + 5 * t + 1, l] = sigma_exogenous[1, p, t]
                    W[day0 + 5 * t + 2, l] = exogenous_total[p, t]
                    W[day0 + 5 * t + 3, l] = fundamental[0, p, t]
                    W[day0 + 5 * t + 4, l] = fundamental[1, p, t]
                W[_RVAR0, l] = s00 * s00
                W[_RVAR1, l] = s01 * s01
                W[_RVOL0, l] = s00
                W[_RVOL1, l] = s01
                W[_BASIS, l] = 0.0
                W[_FEDPREV, l] = 0.0
                W[hist0, l] = 0.0
                W[_FREEB, l] = 1.0 - odds_before[0, r, p] / (1.0 + odds_before[0, r, p])
                W[_FREEA, l] = 1.0 - odds_after[0, r, p] / (1.0 + odds_after[0, r, p])
                util0 = calm_utilization
                W[sum0, l] = 0.0
                W[sum0 + t_len, l] = 0.0
                W[sum0 + 2 * t_len, l] = 0.0
                W[_PK10, l] = fundamental[0, p, 0] + 0.0
                W[_PK30, l] = fundamental[1, p, 0] + 0.0
                W[_TRD, l] = depth0
                W[_PKU, l] = 100.0 * util0
                W[_PKI, l] = inventory0[0, r, p] + inventory0[1, r, p] - inventory0_total[r, p]
                W[_PKB, l] = 0.0
                W[_MINSW, l] = calm_swap_spread - 0.0
                W[_DYSF, l] = 1.0 if dysfunction_dislocation <= 0.0 and 100.0 * util0 >= dysfunction_utilization_pct else 0.0
                W[_BEYB, l] = 1.0 if breakdown_dislocation <= 0.0 or depth0 < breakdown_depth else 0.0
                W[_BRK, l] = 0.0
                W[_LOGTR, l] = 0.0
            for t in range(1, t_len):
                f_dealers = funding_dealers[r, t]
                f_funds = funding_funds[r, t]
                base = bilateral_base + bilateral_funding * f_funds
                after = t >= relief
                drag = 1.0 - capacity_drag * max(f_dealers, 0.0)
                fed_day = fed_schedule[r, t]
                floor = f_pers  # times fed_prev per lane
                start = max(0, t - window + 1)
                missing = window - 1 - (t - start)
                funds_cost = f_funds / 1e4 / 360.0
                has_funding = f_funds != 0.0
                d = day0 + 5 * t
                # margins: the vol ratios' logs and the legs' exps
                for l in range(L):
                    vr0 = max(W[_RVOL0, l] / s00, 1e-9)
                    vr1 = max(W[_RVOL1, l] / s01, 1e-9)
                    W[_VR0, l] = vr0
                    W[_VR1, l] = vr1
                    lr0 = math.log(vr0)
                    W[_LR0, l] = lr0
                    W[_SL, l] = math.exp(W[_THETA, l] * lr0)
                    W[_SWE, l] = math.exp(W[_THETAS, l] * math.log(vr1))
                if not undamped:
                    for l in range(L):
                        W[_HEXP, l] = math.exp((W[_THETA, l] * theta_damp) * W[_LR0, l])
                for l in range(L):
                    vr0, vr1 = W[_VR0, l], W[_VR1, l]
                    rv0_, rv1_ = W[_RVOL0, l], W[_RVOL1, l]
                    short_legs = W[_SL, l]
                    bilateral0 = base + W[_BILVOL, l] * max(vr0 - 1.0, 0.0)
                    bilateral1 = base + W[_BILVOL, l] * max(vr1 - 1.0, 0.0)
                    margin_vol0 = lb0 + keep_damping * max(rv0_ - lb0, 0.0)
                    margin_vol1 = lb1 + keep_damping * max(rv1_ - lb1, 0.0)
                    cleared0 = max(hfloor, z_root_mpor * dur0 * margin_vol0)
                    repo0 = bilateral0 + share * (cleared0 - bilateral0)
                    hedge = fmargin * (short_legs if undamped else W[_HEXP, l])
                    margin0 = repo0 + hedge - cross * min(share * cleared0, hedge)
                    cleared1 = max(hfloor, z_root_mpor * dur1 * margin_vol1)
                    repo1 = bilateral1 + share * (cleared1 - bilateral1)
                    margin1 = repo1 + swap_im * W[_SWE, l]
                    cleared2 = max(hfloor, z_root_mpor * dur2 * margin_vol0)
                    repo2 = bilateral0 + share * (cleared2 - bilateral0)
                    margin2 = repo2 + other_margin * short_legs
                    if any_dealer_rule:
                        c0, c1, c2 = W[_DCOV0, l], W[_DCOV1, l], W[_DCOV2, l]
                        margin0 = (1.0 - c0) * margin0 + c0 * max(margin0, dnc)
                        margin1 = (1.0 - c1) * margin1 + c1 * max(margin1, dnc)
                        margin2 = (1.0 - c2) * margin2 + c2 * max(margin2, dnc)
                    W[_REQ0, l] = margin0
                    W[_REQ1, l] = margin1
                    W[_REQ2, l] = margin2
                    nu_l = W[_NU, l]
                    for k in range(3):  # the deleverage target's test (engine/kernel.py _deleverage)
                        pos, eq, req = W[_POS0 + k, l], W[_EQ0 + k, l], W[_REQ0 + k, l]
                        p0 = W[_POS0I + k, l]
                        ratio = min(max((eq - req * pos) / W[_FREE0 + k, l], 1e-300), 1.0)
                        W[_RAT0 + k, l] = ratio
                        skip = (ratio < 1.0) & (p0 >= 0.0) & (pos < p0 * _lower_bound(ratio, nu_l))
                        W[_SKIP0 + k, l] = 1.0 if skip else 0.0
                for k in range(3):  # the log and exp only where the target may bind (scalar, as the kernel)
                    for l in range(L):
                        if W[_SKIP0 + k, l] != 0.0:
                            W[_LIQ0 + k, l] = 0.0
                        else:
                            ratio = W[_RAT0 + k, l]
                            scale = math.exp(W[_NU, l] * math.log(ratio)) if ratio < 1.0 else 1.0
                            W[_LIQ0 + k, l] = W[_SPEED, l] * max(W[_POS0 + k, l] - W[_POS0I + k, l] * scale, 0.0)
                for l in range(L):
                    min_buf, tgt_buf, max_s = W[_MINBUF, l], W[_TGTBUF, l], W[_MAXSALE, l]
                    rv0 = rv1 = rv2 = 0.0
                    for k in range(3):
                        pos, eq, req = W[_POS0 + k, l], W[_EQ0 + k, l], W[_REQ0 + k, l]
                        need = req * pos
                        equity_pos = max(eq, 0.0)
                        target = equity_pos / max(need * (1.0 + tgt_buf), 1e-12)
                        call = pos * min(max(1.0 - target, 0.0), 1.0) if equity_pos < need * (1.0 + min_buf) else 0.0
                        needed = max(W[_LIQ0 + k, l], call)
                        past = W[cum0 + 3 * t + k, l] - W[cum0 + 3 * start + k, l]
                        capped_equity = (past + missing * W[_EQ0I + k, l] + equity_pos) / window if averaged else equity_pos
                        gross_notional = 2.0 * W[_CCOV0 + k, l] * pos
                        limit = c_x * W[_CESH0 + k, l] * capped_equity
                        needed = max(needed, max(gross_notional - limit, 0.0) / 2.0) if c_on else needed
                        sold = min(needed, max_s * pos)
                        ncash = nc0 if k == 0 else (nc1 if k == 1 else nc2)
                        pos = pos - sold
                        rv = sold * ncash
                        # failures (engine/kernel.py _fail)
                        q_bil, q_ccp = W[_QB0 + k, l], W[_QC0 + k, l]
                        need = req * pos  # the failure test sees the position after the sales
                        fails = equity_pos < need
                        fail = min(max(1.0 - equity_pos / max(need, 1e-12), 0.0), 1.0)
                        cash = fail * pos * ncash
                        pos = pos * (1.0 - fail) if fails else pos
                        eq = eq * (1.0 - fail) if fails else eq
                        q_bil = q_bil + cash * (1.0 - share) if fails else q_bil
                        q_ccp = q_ccp + cash * share if fails else q_ccp
                        liquidated = q_bil * bilateral_rate + q_ccp * ccp_rate
                        W[_QB0 + k, l] = q_bil * (1.0 - bilateral_rate)
                        W[_QC0 + k, l] = q_ccp * (1.0 - ccp_rate)
                        rv = rv + liquidated
                        W[_POS0 + k, l] = pos
                        W[_EQ0 + k, l] = eq
                        if k == 0:
                            rv0 = rv
                        elif k == 1:
                            rv1 = rv
                        else:
                            rv2 = rv
                    exo = W[d + 2, l]
                    gross0 = rv0 + rv2 + exo * (1.0 - long_flow_share)
                    gross1 = rv1 + exo * long_flow_share
                    gain = W[_GAINA, l] if after else W[_GAINB, l]
                    w = W[_SLRW, l]
                    inv_base0, inv_base1 = W[_INVB0, l], W[_INVB1, l]
                    layoff0 = W[_LAYOFF, l] * max(W[_INV_0, l] - inv_base0, 0.0)
                    absorbed0 = W[_ABS0, l] + gross0 - layoff0
                    odds_ref0 = W[_ODA0, l] if after else W[_ODB0, l]
                    capacity0 = W[_CAPB0, l] * (w * (1.0 + gain) + (1.0 - w) / W[_VR0, l]) * drag
                    layoff1 = W[_LAYOFF, l] * max(W[_INV_1, l] - inv_base1, 0.0)
                    absorbed1 = W[_ABS1, l] + gross1 - layoff1
                    odds_ref1 = W[_ODA1, l] if after else W[_ODB1, l]
                    capacity1 = W[_CAPB1, l] * (w * (1.0 + gain) + (1.0 - w) / W[_VR1, l]) * drag
                    slope = W[_SLOPE, l]
                    # Fed purchases: both views computed, the lane's kept
                    fed_prev = W[_FEDPREV, l]
                    fl = floor * fed_prev
                    cap = max(f_max, fl)
                    threshold = W[_FEDTH, l]
                    lag = int(W[_LAG, l])
                    a = absorbed0 - fed_share0 * fed_day
                    c_joint = W[_VBS0, l] + fed_share0 * f_slope * slope
                    rhs = max(a + inv_base0 + c_joint * odds_ref0 + fed_share0 * f_slope * threshold, 0.0)
                    u = _solve_u(capacity0, rhs, c_joint)
                    rule_now = f_slope * (slope * (u / (1.0 - u) - odds_ref0) - threshold)
                    seen = W[hist0 + min(max(t - lag, 0), t - 1), l]
                    rule_lag = f_slope * (seen - threshold)
                    rule = rule_now if lag == 0 else rule_lag
                    rule = min(max(rule, fl), cap)
                    W[_FEDPREV, l] = rule if fed_on else fed_prev
                    fed = fed_day + rule if fed_on else fed_day
                    # market clearing (engine/kernel.py _clear), value holdings not needed here
                    vbs0, vbs1 = W[_VBS0, l], W[_VBS1, l]
                    absorbed0 = absorbed0 - fed * fed_share0
                    absorbed0 = absorbed0 + max(-absorbed0, 0.0)
                    util0 = _solve_u(capacity0, absorbed0 + inv_base0 + vbs0 * odds_ref0, vbs0)
                    inventory_0 = capacity0 * util0
                    absorbed1 = absorbed1 - fed * fed_share1
                    absorbed1 = absorbed1 + max(-absorbed1, 0.0)
                    util1 = _solve_u(capacity1, absorbed1 + inv_base1 + vbs1 * odds_ref1, vbs1)
                    inventory_1 = capacity1 * util1
                    W[_ABS0, l] = absorbed0
                    W[_ABS1, l] = absorbed1
                    W[_INV_0, l] = inventory_0
                    W[_INV_1, l] = inventory_1
                    W[_UTIL0, l] = util0
                    W[_UTIL1, l] = util1
                    comov = W[_COMOV, l]
                    own0 = slope * (util0 / (1.0 - util0) - odds_ref0)
                    own1 = slope * (util1 / (1.0 - util1) - odds_ref1)
                    change0 = own0 - W[_DISL0, l]
                    change1 = own1 + comov * own0 - W[_DISL1, l]
                    disl0 = own0
                    disl1 = own1 + comov * own0
                    W[_DISL0, l] = disl0
                    W[_DISL1, l] = disl1
                    bs_capacity = W[_BSCA, l] if after else W[_BSCB, l]
                    bs_odds = W[_BSOA, l] if after else W[_BSOB, l]
                    u_bs = min((inventory_0 + inventory_1) / bs_capacity, 1.0 - 1e-12)
                    new_basis = W[_BSLOPE, l] * (u_bs / (1.0 - u_bs) - bs_odds) + basis_pass_through * f_funds
                    spread_change0 = new_basis - W[_BASIS, l]
                    W[_BASIS, l] = new_basis
                    calls = 0.0
                    for k in range(3):  # reprice (engine/kernel.py _reprice)
                        pos, eq, req = W[_POS0 + k, l], W[_EQ0 + k, l], W[_REQ0 + k, l]
                        spread = spread_change0 if k == 0 else (change1 if k == 1 else other_beta * change0)
                        dur = dur0 if k == 0 else (dur1 if k == 1 else dur2)
                        loss = pos * spread * dur / 1e4
                        loss = loss + pos * (1.0 - req) * funds_cost if has_funding else loss
                        calls = calls + (max(req * pos - W[_RQP0 + k, l] * pos, 0.0) + max(loss, 0.0))
                        eq = eq - loss
                        W[_EQ0 + k, l] = eq
                        W[_RQP0 + k, l] = req
                        W[cum0 + 3 * (t + 1) + k, l] = W[cum0 + 3 * t + k, l] + max(eq, 0.0)
                    W[_SAL0, l] = W[_SAL0, l] + rv0
                    W[_SAL1, l] = W[_SAL1, l] + rv1
                    W[_SAL2, l] = W[_SAL2, l] + rv2
                    total_rv = 0.0 + rv0 + rv1 + rv2
                    feedback_l = W[_FEEDBACK, l]
                    sigma_0 = W[d, l] + feedback_l * abs(change0)
                    sigma_1 = W[d + 1, l] + feedback_l * abs(change1)
                    risk_var0 = risk_decay * W[_RVAR0, l] + (1.0 - risk_decay) * (sigma_0 * sigma_0)
                    risk_var1 = risk_decay * W[_RVAR1, l] + (1.0 - risk_decay) * (sigma_1 * sigma_1)
                    W[_RVAR0, l] = risk_var0
                    W[_RVAR1, l] = risk_var1
                    W[_RVOL0, l] = math.sqrt(risk_var0)
                    W[_RVOL1, l] = math.sqrt(risk_var1)
                    W[hist0 + t, l] = disl0
                    inventory_day = inventory_0 + inventory_1 - W[_INV0TOT, l]
                    W[_LOGD, l] = depth_vol_elasticity * math.log(s00 / sigma_0) + depth_util_exponent * math.log(
                        (1.0 - util0) / (W[_FREEA, l] if after else W[_FREEB, l])
                    )
                    W[sum0 + t, l] = total_rv
                    W[sum0 + t_len + t, l] = calls
                    W[sum0 + 2 * t_len + t, l] = fed
                    W[_PK10, l] = max(W[_PK10, l], W[d + 3, l] + disl0)
                    W[_PK30, l] = max(W[_PK30, l], W[d + 4, l] + disl1)
                    util_pct = 100.0 * util0
                    W[_PKU, l] = max(W[_PKU, l], util_pct)
                    W[_PKI, l] = max(W[_PKI, l], inventory_day)
                    W[_PKB, l] = max(W[_PKB, l], new_basis)
                    W[_MINSW, l] = min(W[_MINSW, l], calm_swap_spread - disl1)
                    dysf = (disl0 >= dysfunction_dislocation) & (util_pct >= dysfunction_utilization_pct)
                    W[_DYSF, l] = W[_DYSF, l] + 1.0 if dysf else W[_DYSF, l]
                for l in range(L):  # depth's exp only where it may be a new trough or beyond the breakdown line
                    log_depth = W[_LOGD, l]
                    if not (log_depth > W[_LOGTR, l] + _LOG_MARGIN and log_depth > log_breakdown + _LOG_MARGIN):
                        depth = max(depth0 * math.exp(log_depth), depth_floor)
                        if depth < W[_TRD, l]:
                            W[_LOGTR, l] = log_depth
                    else:
                        depth = math.inf
                    W[_DEPTH, l] = depth
                for l in range(L):
                    depth = W[_DEPTH, l]
                    W[_TRD, l] = min(W[_TRD, l], depth)
                    beyond = (W[_DISL0, l] >= breakdown_dislocation) | (depth < breakdown_depth)
                    W[_BRK, l] = 1.0 if beyond & (W[_BEYB, l] != 0.0) else W[_BRK, l]
                    W[_BEYB, l] = 1.0 if beyond else 0.0
            for l in range(min(L, n_paths - first)):
                p = first + l
                for k in range(3):
                    out_sales_by_book[k, r, p] = W[_SAL0 + k, l]
                out_summary[_PEAK_10Y, r, p] = W[_PK10, l]
                out_summary[_TROUGH_DEPTH, r, p] = W[_TRD, l]
                out_summary[_PEAK_UTIL, r, p] = W[_PKU, l]
                out_summary[_PEAK_INVENTORY, r, p] = W[_PKI, l]
                out_summary[_PEAK_BASIS, r, p] = W[_PKB, l]
                out_summary[_MIN_SWAP, r, p] = W[_MINSW, l]
                out_summary[_PEAK_30Y, r, p] = W[_PK30, l]
                out_summary[_POSITIONS0, r, p] = W[_POS0I, l] + W[_POS1I, l] + W[_POS2I, l]
                out_summary[_EQUITY0, r, p] = W[_EQ0I, l] + W[_EQ1I, l] + W[_EQ2I, l]
                out_summary[_DYSFUNCTION, r, p] = W[_DYSF, l]
                out_summary[_BROKEN, r, p] = W[_BRK, l]
                for q, field in enumerate((_SALES, _MARGIN, _FED)):
                    for t in range(t_len):
                        row[t] = W[sum0 + q * t_len + t, l]
                    out_summary[field, r, p] = _pairwise_sum(row, 0, t_len)
