"""Deleveraging: what each book sells today (liquidity management, margin calls, leverage cap).

Hedged RV books carry spread risk, not rate risk; what makes funds sell is their liquidity. Each
book holds free liquidity F = equity - required capital x position (the cash it could post). Losses
and higher margins drain it. Funds manage it (Kruttli, Monin, Petrasek & Watugala 2021: funds cut
Treasury exposure about 20% and raised cash 20% in March 2020 while repo terms held): they move
towards the position P0 (F / F0)^nu at a partial-adjustment speed. Funds whose equity falls below
required capital plus a minimum buffer must sell at once to restore a target buffer, and funds
under a leverage cap sell what the cap requires. The largest need wins, at most a fixed share of
the book a day.
"""

import numpy as np

from engine.state import RunInputs, StressState
from engine.transmission import BOOKS, GROSS_NOTIONAL_PER_DOLLAR

_GROSS = np.array([GROSS_NOTIONAL_PER_DOLLAR[b] for b in BOOKS])[:, None, None]


def liquidity_sales(inp: RunInputs, state: StressState, need: np.ndarray) -> np.ndarray:
    """Partial adjustment towards the position funds' free liquidity supports (`need`: required capital, $bn)."""
    ratio = np.clip((state.equity - need) / inp.free_liquidity0, 1e-300, 1.0)
    # P0 ratio^nu, evaluated only where liquidity fell (the transcendental calls dominate otherwise).
    short = ratio < 1.0
    scale = np.ones_like(ratio)
    np.log(ratio, out=scale, where=short)
    np.multiply(scale, inp.value("liquidity_derisking_elasticity"), out=scale, where=short)
    np.exp(scale, out=scale, where=short)
    target = inp.positions0 * scale
    return inp.value("derisking_speed_per_day") * np.maximum(state.positions - target, 0.0)


def margin_call_sales(inp: RunInputs, state: StressState, need: np.ndarray) -> np.ndarray:
    """Sales of funds whose equity no longer covers required capital plus the minimum buffer."""
    equity = np.maximum(state.equity, 0.0)
    short = equity < need * (1.0 + inp.value("min_buffer_ratio"))
    target = equity / np.maximum(need * (1.0 + inp.value("target_buffer_ratio")), 1e-12)
    return np.where(short, state.positions * np.clip(1.0 - target, 0.0, 1.0), 0.0)


def cap_sales(inp: RunInputs, state: StressState, t: int) -> np.ndarray:
    """Sales the leverage cap (gross notional / net assets) requires of the funds it covers.

    daily: binds on today's equity; averaged: on the trailing mean of equity over the window
    (days before day 0 at calm equity), so a loss counts gradually; released: suspended in stress.
    Computed only for the regimes with a cap in force in stress.
    """
    rp = inp.rp
    capped = inp.capped_regimes
    sales = np.zeros_like(state.positions)
    if not capped:
        return sales
    positions = state.positions[:, capped]
    equity = np.maximum(state.equity[:, capped], 0.0)
    for j, r in enumerate(capped):
        if rp.cap_mode[r, 0] == 1:
            # equity_cumsum[k] = sum of equity over days 0..k-1: a window mean without a loop over days.
            window = int(rp.cap_window_days[r, 0])
            start = max(0, t - window + 1)
            missing = window - 1 - (t - start)
            past = state.equity_cumsum[t][:, r] - state.equity_cumsum[start][:, r]
            equity[:, j] = (past + missing * inp.equity0[:, r] + equity[:, j]) / window
    covered = inp.cap_covered[:, capped]
    gross = _GROSS * covered * positions
    limit = rp.cap_x[capped][None] * inp.cap_equity_share[:, capped] * equity
    sales[:, capped] = np.maximum(gross - limit, 0.0) / _GROSS
    return sales


def deleverage(inp: RunInputs, state: StressState, required: np.ndarray, t: int) -> np.ndarray:
    """(3, R, P) sales of each book today, before failures; positions are updated in place."""
    need = required * state.positions
    needed = np.maximum(liquidity_sales(inp, state, need), margin_call_sales(inp, state, need))
    if inp.capped_regimes:
        needed = np.maximum(needed, cap_sales(inp, state, t))
    sales = np.minimum(needed, inp.value("max_sale_share_per_day") * state.positions)
    state.positions = state.positions - sales
    return sales
