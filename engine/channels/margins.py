"""Margins: capital per dollar each book must hold today (market margin or the dealer rule's)."""

import numpy as np

from engine.state import RunInputs, StressState
from engine.transmission import dealer_rule_requirement, margin_rates


def required_per_dollar(inp: RunInputs, state: StressState, funds_stress_bp: np.ndarray) -> np.ndarray:
    """(3, R, P) required capital per dollar, from the volatility margin models see (an EWMA).

    Every margin model looks back over past volatility (the CCP's VaR, CME's futures margins with
    their look-back, swap CCPs' long look-back), so a one-week spike moves margins less than weeks
    of stress: margins follow the risk models' EWMA of each segment's volatility, as of yesterday.
    """
    risk_vol = state.risk_vol
    vol_ratio = risk_vol / inp.sigma0
    margin = margin_rates(inp.rp, inp.cal, inp.draws, (vol_ratio[0], vol_ratio[1]), (risk_vol[0], risk_vol[1]), funds_stress_bp)
    if not inp.any_dealer_rule:
        return margin
    return dealer_rule_requirement(inp.rp, margin, inp.dealer_covered)
