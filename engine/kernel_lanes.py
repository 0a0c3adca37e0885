"""The summary-only stress loop across Monte Carlo paths in SIMD lanes (`engine/kernel.py`'s arithmetic).

`stress_kernel` runs one (regime, path) element at a time with its state in scalars. Here a chunk
runs a block of L = 64 paths of one regime together: every state variable is a row of L lanes in one
local array, and each day is a few `for j in range(L)` loops without branches (selects of values
already loaded, `_pick`), which LLVM's loop vectorizer turns into vector code (4 float64 per ymm
register on this AVX-512 host: LLVM prefers 256-bit vectors there). What keeps them vectorizable:
L large enough not to be fully unrolled first (L = 8 was, into scalar code), no inner loops (the books
are inlined calls with a constant k), no load inside a branch, and only rows at constant offsets from
the one base (rows indexed by day are copied to and from fixed rows in short loops of their own).
exp and log stay calls to the scalar libm (llvmlite's LLVM has no SVML here), so they are the same
bits as the scalar kernel's. The operations and their order
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
    _BROKEN,
    _DYSFUNCTION,
    _EQUITY0,
    _FED,
    _LOG_MARGIN,
    _MARGIN,
    _MIN_SWAP,
    _PEAK_10Y,
    _PEAK_30Y,
    _PEAK_BASIS,
    _PEAK_INVENTORY,
    _PEAK_UTIL,
    _POSITIONS0,
    _POWER_MARGIN,
    _SALES,
    _TROUGH_DEPTH,
    _pairwise_sum,
)
from engine.kernel import _solve_utilization as _solve_u  # the same inlined quadratic as the scalar kernel

L = 64  # lanes per block: a loop LLVM vectorizes (8 would be unrolled to scalars first)

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
    _DSIG0, _DSIG1, _DEXO, _DF0, _DF1, _CUMT0, _CUMT1, _CUMT2, _CUMS0, _CUMS1, _CUMS2, _CUMN0, _CUMN1, _CUMN2,
    _SEEN, _TRV, _CALLS, _FEDV,
) = range(134)
_N_ROWS = 134


@njit(cache=True, inline="always")
def _pick(c: bool, a: float, b: float) -> float:
    """a if c else b with both already loaded: a select LLVM can vectorize (a load inside a branch blocks it)."""
    return a if c else b


@njit(cache=True, inline="always")
def _lower_bound(x: float, nu: float) -> float:
    """engine/kernel.py's _power_lower_bound as selects (both branches computed, one kept)."""
    low = x / (x + nu * (1.0 - x)) * _POWER_MARGIN
    high = x * x / (x + (nu - 1.0) * (1.0 - x)) * _POWER_MARGIN
    bound = low if nu <= 1.0 else high
    return bound if (nu >= 0.0) & (nu <= 2.0) & (x >= 1e-100) else 0.0


@njit(cache=True, inline="always")
def _target_test(st, j, k, nu_l):
    """Book k's deleverage ratio and whether its target provably does not bind (engine/kernel.py _deleverage)."""
    pos, eq, req = st[_POS0 + k, j], st[_EQ0 + k, j], st[_REQ0 + k, j]
    p0 = st[_POS0I + k, j]
    ratio = min(max((eq - req * pos) / st[_FREE0 + k, j], 1e-300), 1.0)
    st[_RAT0 + k, j] = ratio
    skip = (ratio < 1.0) & (p0 >= 0.0) & (pos < p0 * _lower_bound(ratio, nu_l))
    st[_SKIP0 + k, j] = 1.0 if skip else 0.0


@njit(cache=True, inline="always")
def _sell_and_fail(
    st, j, k, ncash, min_buf, tgt_buf, max_s, missing, window, averaged, c_x, c_on, share, bilateral_rate, ccp_rate,
):
    """Book k's sales (engine/kernel.py _deleverage, after the liquidity need) and failures (_fail)."""
    pos, eq, req = st[_POS0 + k, j], st[_EQ0 + k, j], st[_REQ0 + k, j]
    need = req * pos
    equity_pos = max(eq, 0.0)
    target = equity_pos / max(need * (1.0 + tgt_buf), 1e-12)
    call = pos * min(max(1.0 - target, 0.0), 1.0) if equity_pos < need * (1.0 + min_buf) else 0.0
    needed = max(st[_LIQ0 + k, j], call)
    past = st[_CUMT0 + k, j] - st[_CUMS0 + k, j]
    capped_equity = _pick(averaged, (past + missing * st[_EQ0I + k, j] + equity_pos) / window, equity_pos)
    gross_notional = 2.0 * st[_CCOV0 + k, j] * pos
    limit = c_x * st[_CESH0 + k, j] * capped_equity
    needed = max(needed, max(gross_notional - limit, 0.0) / 2.0) if c_on else needed
    sold = min(needed, max_s * pos)
    pos = pos - sold
    rv = sold * ncash
    # failures (engine/kernel.py _fail)
    q_bil, q_ccp = st[_QB0 + k, j], st[_QC0 + k, j]
    need = req * pos  # the failure test sees the position after the sales
    fails = equity_pos < need
    fail = min(max(1.0 - equity_pos / max(need, 1e-12), 0.0), 1.0)
    cash = fail * pos * ncash
    pos = pos * (1.0 - fail) if fails else pos
    eq = eq * (1.0 - fail) if fails else eq
    q_bil = q_bil + cash * (1.0 - share) if fails else q_bil
    q_ccp = q_ccp + cash * share if fails else q_ccp
    liquidated = q_bil * bilateral_rate + q_ccp * ccp_rate
    st[_QB0 + k, j] = q_bil * (1.0 - bilateral_rate)
    st[_QC0 + k, j] = q_ccp * (1.0 - ccp_rate)
    rv = rv + liquidated
    st[_POS0 + k, j] = pos
    st[_EQ0 + k, j] = eq
    return rv


@njit(cache=True, inline="always")
def _reprice_book(st, j, k, spread, dur, has_funding, funds_cost):
    """Book k's equity after the day's repricing (engine/kernel.py _reprice); its margin call."""
    pos, eq, req = st[_POS0 + k, j], st[_EQ0 + k, j], st[_REQ0 + k, j]
    loss = pos * spread * dur / 1e4
    loss = loss + pos * (1.0 - req) * funds_cost if has_funding else loss
    call = (max(req * pos - st[_RQP0 + k, j] * pos, 0.0) + max(loss, 0.0))
    eq = eq - loss
    st[_EQ0 + k, j] = eq
    st[_RQP0 + k, j] = req
    st[_CUMN0 + k, j] = st[_CUMT0 + k, j] + max(eq, 0.0)
    return call


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
    # Rows past _N_ROWS are indexed by day; the vectorized loops touch only the fixed rows (constant
    # offsets from one base, so LLVM proves they do not overlap), and short loops copy between them.
    hist0 = _N_ROWS  # history of the 2-10y dislocation (the Fed's lagged view)
    cum0 = hist0 + t_len  # running sums of positive equity, (t_len + 1) x 3 books
    sum0 = cum0 + 3 * (t_len + 1)  # daily sales, margin calls and Fed purchases, 3 x t_len
    n_rows = sum0 + 3 * t_len
    for chunk in prange(n_chunks):
        # One array `st` holds every row, so LLVM sees one base with constant row offsets (no aliasing).
        st = np.zeros((n_rows, L))
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
            for j in range(L):  # inputs of the block's paths, the last one repeated in spare lanes
                p = min(first + j, n_paths - 1)
                st[_NU, j] = nu[p]
                st[_SPEED, j] = speed[p]
                st[_MAXSALE, j] = max_sale[p]
                st[_MINBUF, j] = min_buffer[p]
                st[_TGTBUF, j] = target_buffer[p]
                st[_SLOPE, j] = slope_bp[p]
                st[_BSLOPE, j] = basis_slope_bp[p]
                st[_COMOV, j] = comovement[p]
                st[_FEEDBACK, j] = feedback[p]
                st[_LAYOFF, j] = layoff_rate[p]
                st[_SLRW, j] = slr_weight[p]
                st[_THETA, j] = theta[p]
                st[_THETAS, j] = theta_swap[p]
                st[_BILVOL, j] = bilateral_vol[p]
                st[_VBS0, j] = value_buyer_slope[0, p]
                st[_VBS1, j] = value_buyer_slope[1, p]
                st[_LAG, j] = float(fed_lag[r, p])
                st[_FEDTH, j] = fed_threshold[r, p]
                st[_GAINB, j] = gain_before[r, p]
                st[_GAINA, j] = gain_after[r, p]
                st[_BSCB, j] = bs_capacity_before[r, p]
                st[_BSCA, j] = bs_capacity_after[r, p]
                st[_BSOB, j] = bs_odds_before[r, p]
                st[_BSOA, j] = bs_odds_after[r, p]
                st[_INV0TOT, j] = inventory0_total[r, p]
                for k in range(3):
                    st[_POS0I + k, j] = positions0[k, r, p]
                    st[_EQ0I + k, j] = equity0[k, r, p]
                    st[_FREE0 + k, j] = free_liquidity0[k, r, p]
                    st[_DCOV0 + k, j] = dealer_covered[k, r, p]
                    st[_CCOV0 + k, j] = cap_covered[k, r, p]
                    st[_CESH0 + k, j] = cap_equity_share[k, r, p]
                    st[_POS0 + k, j] = positions0[k, r, p]
                    st[_EQ0 + k, j] = equity0[k, r, p]
                    st[_RQP0 + k, j] = required0[k, r, p]
                    st[_QB0 + k, j] = 0.0
                    st[_QC0 + k, j] = 0.0
                    st[_SAL0 + k, j] = 0.0
                    st[cum0 + k, j] = 0.0
                    st[cum0 + 3 + k, j] = equity0[k, r, p]
                for s in range(2):
                    st[_CAPB0 + s, j] = capacity_base[s, r, p]
                    st[_INVB0 + s, j] = inventory0[s, r, p]
                    st[_ODB0 + s, j] = odds_before[s, r, p]
                    st[_ODA0 + s, j] = odds_after[s, r, p]
                    st[_INV_0 + s, j] = inventory0[s, r, p]
                    st[_ABS0 + s, j] = 0.0
                    st[_DISL0 + s, j] = 0.0
                    st[_UTIL0 + s, j] = calm_utilization
                st[_RVAR0, j] = s00 * s00
                st[_RVAR1, j] = s01 * s01
                st[_RVOL0, j] = s00
                st[_RVOL1, j] = s01
                st[_BASIS, j] = 0.0
                st[_FEDPREV, j] = 0.0
                st[hist0, j] = 0.0
                st[_FREEB, j] = 1.0 - odds_before[0, r, p] / (1.0 + odds_before[0, r, p])
                st[_FREEA, j] = 1.0 - odds_after[0, r, p] / (1.0 + odds_after[0, r, p])
                util0 = calm_utilization
                st[sum0, j] = 0.0
                st[sum0 + t_len, j] = 0.0
                st[sum0 + 2 * t_len, j] = 0.0
                st[_PK10, j] = fundamental[0, p, 0] + 0.0
                st[_PK30, j] = fundamental[1, p, 0] + 0.0
                st[_TRD, j] = depth0
                st[_PKU, j] = 100.0 * util0
                st[_PKI, j] = inventory0[0, r, p] + inventory0[1, r, p] - inventory0_total[r, p]
                st[_PKB, j] = 0.0
                st[_MINSW, j] = calm_swap_spread - 0.0
                st[_DYSF, j] = 1.0 if dysfunction_dislocation <= 0.0 and 100.0 * util0 >= dysfunction_utilization_pct else 0.0
                st[_BEYB, j] = 1.0 if breakdown_dislocation <= 0.0 or depth0 < breakdown_depth else 0.0
                st[_BRK, j] = 0.0
                st[_LOGTR, j] = 0.0
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
                for j in range(L):  # the day's inputs and the lagged and running rows, into fixed rows
                    p = min(first + j, n_paths - 1)
                    st[_DSIG0, j] = sigma_exogenous[0, p, t]
                    st[_DSIG1, j] = sigma_exogenous[1, p, t]
                    st[_DEXO, j] = exogenous_total[p, t]
                    st[_DF0, j] = fundamental[0, p, t]
                    st[_DF1, j] = fundamental[1, p, t]
                    st[_SEEN, j] = st[hist0 + min(max(t - int(st[_LAG, j]), 0), t - 1), j]
                    for k in range(3):
                        st[_CUMT0 + k, j] = st[cum0 + 3 * t + k, j]
                        st[_CUMS0 + k, j] = st[cum0 + 3 * start + k, j]
                # margins: the vol ratios' logs and the legs' exps
                for j in range(L):
                    vr0 = max(st[_RVOL0, j] / s00, 1e-9)
                    vr1 = max(st[_RVOL1, j] / s01, 1e-9)
                    st[_VR0, j] = vr0
                    st[_VR1, j] = vr1
                    lr0 = math.log(vr0)
                    st[_LR0, j] = lr0
                    st[_SL, j] = math.exp(st[_THETA, j] * lr0)
                    st[_SWE, j] = math.exp(st[_THETAS, j] * math.log(vr1))
                if not undamped:
                    for j in range(L):
                        st[_HEXP, j] = math.exp((st[_THETA, j] * theta_damp) * st[_LR0, j])
                for j in range(L):
                    vr0, vr1 = st[_VR0, j], st[_VR1, j]
                    rv0_, rv1_ = st[_RVOL0, j], st[_RVOL1, j]
                    short_legs = st[_SL, j]
                    bilateral0 = base + st[_BILVOL, j] * max(vr0 - 1.0, 0.0)
                    bilateral1 = base + st[_BILVOL, j] * max(vr1 - 1.0, 0.0)
                    margin_vol0 = lb0 + keep_damping * max(rv0_ - lb0, 0.0)
                    margin_vol1 = lb1 + keep_damping * max(rv1_ - lb1, 0.0)
                    cleared0 = max(hfloor, z_root_mpor * dur0 * margin_vol0)
                    repo0 = bilateral0 + share * (cleared0 - bilateral0)
                    hedge = fmargin * _pick(undamped, short_legs, st[_HEXP, j])
                    margin0 = repo0 + hedge - cross * min(share * cleared0, hedge)
                    cleared1 = max(hfloor, z_root_mpor * dur1 * margin_vol1)
                    repo1 = bilateral1 + share * (cleared1 - bilateral1)
                    margin1 = repo1 + swap_im * st[_SWE, j]
                    cleared2 = max(hfloor, z_root_mpor * dur2 * margin_vol0)
                    repo2 = bilateral0 + share * (cleared2 - bilateral0)
                    margin2 = repo2 + other_margin * short_legs
                    c0, c1, c2 = st[_DCOV0, j], st[_DCOV1, j], st[_DCOV2, j]  # loaded outside the branch
                    margin0 = _pick(any_dealer_rule, (1.0 - c0) * margin0 + c0 * max(margin0, dnc), margin0)
                    margin1 = _pick(any_dealer_rule, (1.0 - c1) * margin1 + c1 * max(margin1, dnc), margin1)
                    margin2 = _pick(any_dealer_rule, (1.0 - c2) * margin2 + c2 * max(margin2, dnc), margin2)
                    st[_REQ0, j] = margin0
                    st[_REQ1, j] = margin1
                    st[_REQ2, j] = margin2
                    nu_l = st[_NU, j]
                    _target_test(st, j, 0, nu_l)
                    _target_test(st, j, 1, nu_l)
                    _target_test(st, j, 2, nu_l)
                for k in range(3):  # the log and exp only where the target may bind (scalar, as the kernel)
                    for j in range(L):
                        if st[_SKIP0 + k, j] != 0.0:
                            st[_LIQ0 + k, j] = 0.0
                        else:
                            ratio = st[_RAT0 + k, j]
                            scale = math.exp(st[_NU, j] * math.log(ratio)) if ratio < 1.0 else 1.0
                            st[_LIQ0 + k, j] = st[_SPEED, j] * max(st[_POS0 + k, j] - st[_POS0I + k, j] * scale, 0.0)
                for j in range(L):
                    min_buf, tgt_buf, max_s = st[_MINBUF, j], st[_TGTBUF, j], st[_MAXSALE, j]
                    rv0 = _sell_and_fail(
                        st, j, 0, nc0, min_buf, tgt_buf, max_s, missing, window, averaged, c_x, c_on, share, bilateral_rate,
                        ccp_rate,
                    )
                    rv1 = _sell_and_fail(
                        st, j, 1, nc1, min_buf, tgt_buf, max_s, missing, window, averaged, c_x, c_on, share, bilateral_rate,
                        ccp_rate,
                    )
                    rv2 = _sell_and_fail(
                        st, j, 2, nc2, min_buf, tgt_buf, max_s, missing, window, averaged, c_x, c_on, share, bilateral_rate,
                        ccp_rate,
                    )
                    exo = st[_DEXO, j]
                    gross0 = rv0 + rv2 + exo * (1.0 - long_flow_share)
                    gross1 = rv1 + exo * long_flow_share
                    gain = _pick(after, st[_GAINA, j], st[_GAINB, j])
                    w = st[_SLRW, j]
                    inv_base0, inv_base1 = st[_INVB0, j], st[_INVB1, j]
                    layoff0 = st[_LAYOFF, j] * max(st[_INV_0, j] - inv_base0, 0.0)
                    absorbed0 = st[_ABS0, j] + gross0 - layoff0
                    odds_ref0 = _pick(after, st[_ODA0, j], st[_ODB0, j])
                    capacity0 = st[_CAPB0, j] * (w * (1.0 + gain) + (1.0 - w) / st[_VR0, j]) * drag
                    layoff1 = st[_LAYOFF, j] * max(st[_INV_1, j] - inv_base1, 0.0)
                    absorbed1 = st[_ABS1, j] + gross1 - layoff1
                    odds_ref1 = _pick(after, st[_ODA1, j], st[_ODB1, j])
                    capacity1 = st[_CAPB1, j] * (w * (1.0 + gain) + (1.0 - w) / st[_VR1, j]) * drag
                    slope = st[_SLOPE, j]
                    # Fed purchases: both views computed, the lane's kept
                    fed_prev = st[_FEDPREV, j]
                    fl = floor * fed_prev
                    cap = max(f_max, fl)
                    threshold = st[_FEDTH, j]
                    a = absorbed0 - fed_share0 * fed_day
                    c_joint = st[_VBS0, j] + fed_share0 * f_slope * slope
                    rhs = max(a + inv_base0 + c_joint * odds_ref0 + fed_share0 * f_slope * threshold, 0.0)
                    u = _solve_u(capacity0, rhs, c_joint)
                    rule_now = f_slope * (slope * (u / (1.0 - u) - odds_ref0) - threshold)
                    seen = st[_SEEN, j]
                    rule_lag = f_slope * (seen - threshold)
                    rule = rule_now if st[_LAG, j] == 0.0 else rule_lag
                    rule = min(max(rule, fl), cap)
                    st[_FEDPREV, j] = rule if fed_on else fed_prev
                    fed = fed_day + rule if fed_on else fed_day
                    # market clearing (engine/kernel.py _clear), value holdings not needed here
                    vbs0, vbs1 = st[_VBS0, j], st[_VBS1, j]
                    absorbed0 = absorbed0 - fed * fed_share0
                    absorbed0 = absorbed0 + max(-absorbed0, 0.0)
                    util0 = _solve_u(capacity0, absorbed0 + inv_base0 + vbs0 * odds_ref0, vbs0)
                    inventory_0 = capacity0 * util0
                    absorbed1 = absorbed1 - fed * fed_share1
                    absorbed1 = absorbed1 + max(-absorbed1, 0.0)
                    util1 = _solve_u(capacity1, absorbed1 + inv_base1 + vbs1 * odds_ref1, vbs1)
                    inventory_1 = capacity1 * util1
                    st[_ABS0, j] = absorbed0
                    st[_ABS1, j] = absorbed1
                    st[_INV_0, j] = inventory_0
                    st[_INV_1, j] = inventory_1
                    st[_UTIL0, j] = util0
                    st[_UTIL1, j] = util1
                    comov = st[_COMOV, j]
                    own0 = slope * (util0 / (1.0 - util0) - odds_ref0)
                    own1 = slope * (util1 / (1.0 - util1) - odds_ref1)
                    change0 = own0 - st[_DISL0, j]
                    change1 = own1 + comov * own0 - st[_DISL1, j]
                    disl0 = own0
                    disl1 = own1 + comov * own0
                    st[_DISL0, j] = disl0
                    st[_DISL1, j] = disl1
                    bs_capacity = _pick(after, st[_BSCA, j], st[_BSCB, j])
                    bs_odds = _pick(after, st[_BSOA, j], st[_BSOB, j])
                    u_bs = min((inventory_0 + inventory_1) / bs_capacity, 1.0 - 1e-12)
                    new_basis = st[_BSLOPE, j] * (u_bs / (1.0 - u_bs) - bs_odds) + basis_pass_through * f_funds
                    spread_change0 = new_basis - st[_BASIS, j]
                    st[_BASIS, j] = new_basis
                    calls = 0.0
                    calls = calls + _reprice_book(st, j, 0, spread_change0, dur0, has_funding, funds_cost)
                    calls = calls + _reprice_book(st, j, 1, change1, dur1, has_funding, funds_cost)
                    calls = calls + _reprice_book(st, j, 2, other_beta * change0, dur2, has_funding, funds_cost)
                    st[_SAL0, j] = st[_SAL0, j] + rv0
                    st[_SAL1, j] = st[_SAL1, j] + rv1
                    st[_SAL2, j] = st[_SAL2, j] + rv2
                    total_rv = 0.0 + rv0 + rv1 + rv2
                    feedback_l = st[_FEEDBACK, j]
                    sigma_0 = st[_DSIG0, j] + feedback_l * abs(change0)
                    sigma_1 = st[_DSIG1, j] + feedback_l * abs(change1)
                    risk_var0 = risk_decay * st[_RVAR0, j] + (1.0 - risk_decay) * (sigma_0 * sigma_0)
                    risk_var1 = risk_decay * st[_RVAR1, j] + (1.0 - risk_decay) * (sigma_1 * sigma_1)
                    st[_RVAR0, j] = risk_var0
                    st[_RVAR1, j] = risk_var1
                    st[_RVOL0, j] = math.sqrt(risk_var0)
                    st[_RVOL1, j] = math.sqrt(risk_var1)
                    inventory_day = inventory_0 + inventory_1 - st[_INV0TOT, j]
                    st[_LOGD, j] = depth_vol_elasticity * math.log(s00 / sigma_0) + depth_util_exponent * math.log(
                        (1.0 - util0) / (_pick(after, st[_FREEA, j], st[_FREEB, j]))
                    )
                    st[_TRV, j] = total_rv
                    st[_CALLS, j] = calls
                    st[_FEDV, j] = fed
                    st[_PK10, j] = max(st[_PK10, j], st[_DF0, j] + disl0)
                    st[_PK30, j] = max(st[_PK30, j], st[_DF1, j] + disl1)
                    util_pct = 100.0 * util0
                    st[_PKU, j] = max(st[_PKU, j], util_pct)
                    st[_PKI, j] = max(st[_PKI, j], inventory_day)
                    st[_PKB, j] = max(st[_PKB, j], new_basis)
                    st[_MINSW, j] = min(st[_MINSW, j], calm_swap_spread - disl1)
                    dysf = (disl0 >= dysfunction_dislocation) & (util_pct >= dysfunction_utilization_pct)
                    st[_DYSF, j] = _pick(dysf, st[_DYSF, j] + 1.0, st[_DYSF, j])
                for j in range(L):  # depth's exp only where it may be a new trough or beyond the breakdown line
                    log_depth = st[_LOGD, j]
                    if not (log_depth > st[_LOGTR, j] + _LOG_MARGIN and log_depth > log_breakdown + _LOG_MARGIN):
                        depth = max(depth0 * math.exp(log_depth), depth_floor)
                        if depth < st[_TRD, j]:
                            st[_LOGTR, j] = log_depth
                    else:
                        depth = math.inf
                    st[_DEPTH, j] = depth
                for j in range(L):
                    depth = st[_DEPTH, j]
                    st[_TRD, j] = min(st[_TRD, j], depth)
                    beyond = (st[_DISL0, j] >= breakdown_dislocation) | (depth < breakdown_depth)
                    st[_BRK, j] = _pick(beyond & (st[_BEYB, j] != 0.0), 1.0, st[_BRK, j])
                    st[_BEYB, j] = 1.0 if beyond else 0.0
                for j in range(L):  # back to the rows by day
                    st[hist0 + t, j] = st[_DISL0, j]
                    for k in range(3):
                        st[cum0 + 3 * (t + 1) + k, j] = st[_CUMN0 + k, j]
                    st[sum0 + t, j] = st[_TRV, j]
                    st[sum0 + t_len + t, j] = st[_CALLS, j]
                    st[sum0 + 2 * t_len + t, j] = st[_FEDV, j]
            for j in range(min(L, n_paths - first)):
                p = first + j
                for k in range(3):
                    out_sales_by_book[k, r, p] = st[_SAL0 + k, j]
                out_summary[_PEAK_10Y, r, p] = st[_PK10, j]
                out_summary[_TROUGH_DEPTH, r, p] = st[_TRD, j]
                out_summary[_PEAK_UTIL, r, p] = st[_PKU, j]
                out_summary[_PEAK_INVENTORY, r, p] = st[_PKI, j]
                out_summary[_PEAK_BASIS, r, p] = st[_PKB, j]
                out_summary[_MIN_SWAP, r, p] = st[_MINSW, j]
                out_summary[_PEAK_30Y, r, p] = st[_PK30, j]
                out_summary[_POSITIONS0, r, p] = st[_POS0I, j] + st[_POS1I, j] + st[_POS2I, j]
                out_summary[_EQUITY0, r, p] = st[_EQ0I, j] + st[_EQ1I, j] + st[_EQ2I, j]
                out_summary[_DYSFUNCTION, r, p] = st[_DYSF, j]
                out_summary[_BROKEN, r, p] = st[_BRK, j]
                for q, field in enumerate((_SALES, _MARGIN, _FED)):
                    for t in range(t_len):
                        row[t] = st[sum0 + q * t_len + t, j]
                    out_summary[field, r, p] = _pairwise_sum(row, 0, t_len)
