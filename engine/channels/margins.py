"""Margins: capital per dollar each book must hold today (market margin or the dealer rule's)."""

import numpy as np

from engine.state import RunInputs, StressState
from engine.transmission import dealer_rule_requirement, margin_rates


def required_per_dollar(inp: RunInputs, state: StressState, funds_stress_bp: np.ndarray) -> np.ndarray:
    """(3, R, P) required capital per dollar, from yesterday's volatility of each segment.

    Margins follow realized volatility (futures, swap and short-leg margins; bilateral haircuts)
    and the volatility risk models see (the CCP's VaR margin, an EWMA).
    """
    vol_ratio = state.sigma / inp.sigma0
    risk_vol = np.sqrt(state.risk_variance)
    margin = margin_rates(inp.rp, inp.cal, inp.draws, (vol_ratio[0], vol_ratio[1]), (risk_vol[0], risk_vol[1]), funds_stress_bp)
    return dealer_rule_requirement(inp.rp, margin, inp.dealer_covered)
