"""Market clearing: dealers and value buyers absorb the day's net sales at a price, by segment.

Each dealer segment (intermediate 2-10y, long 10-30y) has a Treasury capacity: a leverage-ratio-
bound part that netting and relief enlarge, and a VaR-bound part that shrinks as the volatility
risk models see rises (`engine.transmission.dealer_capacity`). What dealers and value buyers have
absorbed since day 0, A, clears at the utilization u that solves

    K u - I0 + c (odds(u) - odds_ref) = A,   odds(u) = u / (1 - u),   c = value buyers' slope,

and the dislocation (cash cheapening beyond fundamentals) is d = pi (odds(u) - odds_ref). Value
buyers add holdings in proportion to d, so the market always clears, at a wider dislocation the
more dealers are full (Duffie et al. 2023: illiquidity convex in dealer utilization). odds_ref is
calm utilization at today's policy capacity, so a rule change alone moves nothing.

The long end also cheapens with the 2-10y dislocation, by `long_end_comovement_beta`: dealers'
balance-sheet cost is common to all maturities (He, Nagel & Song 2022: Treasury-OIS spreads turned
positive across the curve in March 2020); its own term comes from the long segment's clearing.
"""

import numpy as np

from engine.state import RunInputs, StressState
from engine.transmission import dealer_capacity

_U_MAX = 1.0 - 1e-12


def odds(u: np.ndarray) -> np.ndarray:
    return u / (1.0 - u)


def solve_utilization(capacity: np.ndarray, rhs: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """The root u in [0, 1) of capacity u + slope odds(u) = rhs (rhs >= 0): the smaller quadratic root."""
    b = capacity + slope + rhs
    disc = np.maximum(b * b - 4.0 * capacity * rhs, 0.0)
    # Written as 2 rhs / (b + sqrt(disc)) to avoid cancellation when rhs is small.
    u = 2.0 * rhs / np.maximum(b + np.sqrt(disc), 1e-300)
    return np.clip(u, 0.0, _U_MAX)


def capacities(inp: RunInputs, state: StressState, t: int, dealers_stress_bp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Today's dealer capacity per segment (2, R, P), and the reference odds it is measured against.

    The reference is calm utilization at the policy capacity: capacity under the day's rules at
    calm volatility and calm funding (precomputed before and after relief applies).
    """
    relief_on = (t >= inp.rp.relief_day)[None]
    odds_ref = np.where(relief_on, inp.reference_odds[1], inp.reference_odds[0])
    gain = np.where(relief_on[0], inp.balance_sheet_gain[1], inp.balance_sheet_gain[0])
    risk_ratio = state.risk_vol / inp.sigma0
    drag = 1.0 - inp.cal["funding_capacity_drag_per_bp"] * np.maximum(dealers_stress_bp, 0.0)
    today = dealer_capacity(inp.capacity_base, inp.balance_sheet_weight, gain, risk_ratio) * drag
    return today, odds_ref


def clear_market(inp: RunInputs, state: StressState, absorbed: np.ndarray, capacity: np.ndarray, odds_ref: np.ndarray) -> None:
    """Set today's utilization, inventories, value holdings and dislocations of both segments."""
    slope_bp = inp.value("dislocation_slope_bp")
    c = inp.value_buyer_slope[:, None, :]
    u = solve_utilization(capacity, absorbed + inp.inventory0 + c * odds_ref, c)
    inventory = capacity * u
    state.utilization = u
    state.inventory = inventory
    state.value_holdings = absorbed - (inventory - inp.inventory0)
    state.absorbed = absorbed
    own = slope_bp * (odds(u) - odds_ref)
    comovement = inp.value("long_end_comovement_beta")
    state.dislocation = np.stack([own[0], own[1] + comovement * own[0]])
