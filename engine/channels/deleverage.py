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


def liquidity_sales(inp: RunInputs, state: StressState, required: np.ndarray) -> np.ndarray:
    """Partial adjustment towards the position funds' free liquidity supports."""
    free = state.equity - required * state.positions
    free0 = inp.buffer_per_dollar * inp.positions0
    ratio = np.clip(free / np.maximum(free0, 1e-12), 0.0, 1.0)
    target = inp.positions0 * ratio ** inp.value("liquidity_derisking_elasticity")
    return inp.value("derisking_speed_per_day") * np.maximum(state.positions - target, 0.0)


def margin_call_sales(inp: RunInputs, state: StressState, required: np.ndarray) -> np.ndarray:
    """Sales of funds whose equity no longer covers required capital plus the minimum buffer."""
    need = required * state.positions
    short = state.equity < need * (1.0 + inp.value("min_buffer_ratio"))
    target = np.maximum(state.equity, 0.0) / np.maximum(need * (1.0 + inp.value("target_buffer_ratio")), 1e-12)
    return np.where(short, state.positions * np.clip(1.0 - target, 0.0, 1.0), 0.0)


def cap_sales(inp: RunInputs, state: StressState, t: int) -> np.ndarray:
    """Sales the leverage cap (gross notional / net assets) requires of the funds it covers.

    daily: binds on today's equity; averaged: on the trailing mean of equity over the window
    (days before day 0 at calm equity), so a loss counts gradually; released: suspended in stress.
    """
    rp = inp.rp
    covered = inp.cap_covered
    if not np.any(covered > 0):
        return np.zeros_like(state.positions)
    covered_equity = inp.cap_equity_share * np.maximum(state.equity, 0.0)
    averaged_equity = covered_equity
    if np.any((rp.cap_mode == 1) & (rp.cap_covered_share > 0)):
        # equity_cumsum[k] = sum of equity over days 0..k-1, so a window mean needs no loop over days.
        cumsum = state.equity_cumsum
        means = []
        for r, w in enumerate(rp.cap_window_days[:, 0]):
            start = max(0, t - w + 1)
            missing = w - 1 - (t - start)
            total = cumsum[t][:, r] - cumsum[start][:, r] + missing * inp.equity0[:, r] + np.maximum(state.equity[:, r], 0.0)
            means.append(total / w)
        averaged_equity = inp.cap_equity_share * np.maximum(np.stack(means, axis=1), 0.0)
    mode = rp.cap_mode[None]
    equity = np.where(mode == 1, averaged_equity, covered_equity)
    gross = _GROSS * covered * state.positions
    scale = np.minimum(1.0, rp.cap_x[None] * equity / np.maximum(gross, 1e-12))
    sales = covered * state.positions * (1.0 - scale)
    return np.where(mode == 2, 0.0, sales)


def deleverage(inp: RunInputs, state: StressState, required: np.ndarray, t: int) -> np.ndarray:
    """(3, R, P) sales of each book today, before failures; positions are updated in place."""
    needed = np.maximum(
        np.maximum(liquidity_sales(inp, state, required), margin_call_sales(inp, state, required)),
        cap_sales(inp, state, t),
    )
    sales = np.minimum(needed, inp.value("max_sale_share_per_day") * state.positions)
    state.positions = state.positions - sales
    return sales
