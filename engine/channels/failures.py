"""Failures: funds that still cannot meet margin fail; lenders or the CCP sell their collateral.

A fund whose equity is below its required capital after today's sales fails in proportion to the
shortfall. Bilateral lenders dump the collateral within a day or two; the CCP auctions the cleared
share over several days (FICC default management), so liquidation is slower under clearing.
"""

import numpy as np

from engine.state import RunInputs, StressState


def fail_and_liquidate(inp: RunInputs, state: StressState, required: np.ndarray) -> np.ndarray:
    """Cash liquidated today (3, R, P), $bn; positions, equity and the sale queues are updated in place."""
    need = required * state.positions
    equity = np.maximum(state.equity, 0.0)
    if np.any(equity < need):
        fail_share = np.clip(1.0 - equity / np.maximum(need, 1e-12), 0.0, 1.0)
        cash = fail_share * state.positions * inp.net_cash
        state.positions = state.positions * (1.0 - fail_share)
        state.equity = state.equity * (1.0 - fail_share)
        cleared = inp.rp.repo_cleared_share[None]
        state.queue_bilateral = state.queue_bilateral + cash * (1.0 - cleared)
        state.queue_ccp = state.queue_ccp + cash * cleared
        state.failures_pending = True
    if not state.failures_pending:
        return np.zeros_like(state.positions)
    bilateral_rate = min(1.0, 1.0 / inp.cal["bilateral_liquidation_days"])
    ccp_rate = min(1.0, 1.0 / inp.cal["ccp_auction_days"])
    liquidated = state.queue_bilateral * bilateral_rate + state.queue_ccp * ccp_rate
    state.queue_bilateral = state.queue_bilateral * (1.0 - bilateral_rate)
    state.queue_ccp = state.queue_ccp * (1.0 - ccp_rate)
    return liquidated
