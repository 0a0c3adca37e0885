"""Failures: funds that still cannot meet margin fail; lenders or the CCP sell their collateral.

A fund whose equity is below its required capital after today's sales fails in proportion to the
shortfall. Bilateral lenders dump the collateral within a day or two; the CCP auctions the cleared
share over several days (FICC default management), so liquidation is slower under clearing.
"""

import numpy as np

from engine.state import RunInputs, StressState
from engine.transmission import BOOKS


def fail_and_liquidate(inp: RunInputs, state: StressState, required: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(failed positions, cash liquidated today), both (3, R, P); the state is updated in place."""
    need = required * state.positions
    solvent = np.maximum(state.equity, 0.0) / np.maximum(need, 1e-12)
    fail_share = np.where(need > 1e-12, np.clip(1.0 - solvent, 0.0, 1.0), 0.0)
    failed = fail_share * state.positions
    state.positions = state.positions - failed
    state.equity = state.equity * (1.0 - fail_share)
    net_cash = np.array([1.0 if b != "other" else inp.cal["other_book_net_cash_share"] for b in BOOKS])[:, None, None]
    cash = failed * net_cash
    cleared = inp.rp.repo_cleared_share[None]
    queue_bilateral = state.queue_bilateral + cash * (1.0 - cleared)
    queue_ccp = state.queue_ccp + cash * cleared
    bilateral_rate = min(1.0, 1.0 / inp.cal["bilateral_liquidation_days"])
    ccp_rate = min(1.0, 1.0 / inp.cal["ccp_auction_days"])
    liquidated = queue_bilateral * bilateral_rate + queue_ccp * ccp_rate
    state.queue_bilateral = queue_bilateral * (1.0 - bilateral_rate)
    state.queue_ccp = queue_ccp * (1.0 - ccp_rate)
    return failed, liquidated
