"""The state of the stress dynamics and the fixed inputs of a run, as typed containers.

Arrays are (R, P) for regime x path, (3, R, P) for the RV books (BOOKS order) and (2, R, P) for
the dealer segments (SEGMENTS order: intermediate 2-10y, long 10-30y). Each channel in
`engine/channels/` reads what it needs and writes its part of the state for the day.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.calibration import Calibration
from engine.draws import Draws
from engine.transmission import RegimeParams

Value = Callable[[str], np.ndarray]


@dataclass(frozen=True)
class RunInputs:
    """What stays fixed over the stress window: parameters, exogenous paths, calm positions."""

    rp: RegimeParams
    cal: Calibration
    draws: Draws
    shape: tuple[int, int]  # (R, P)
    fundamental: np.ndarray  # (2, P, T+1) fundamental 10y and 30y changes, bp
    sigma_exogenous: np.ndarray  # (2, P, T+1) exogenous volatility of each segment, bp/day
    sigma0: np.ndarray  # (2, 1, 1) calm volatility of each segment, bp/day
    flows: dict[str, np.ndarray]  # sector -> (P, T+1) exogenous sales, $bn/day
    fed_schedule: np.ndarray  # (R, T+1) historical purchases, $bn/day (after the shock scale)
    positions0: np.ndarray  # (3, R, P) calm books, $bn
    equity0: np.ndarray  # (3, R, P) calm equity of each book, $bn
    dealer_covered: np.ndarray  # (3, R, P) share of each book under the dealer rule
    cap_covered: np.ndarray  # (3, R, P) share of each book under the leverage cap
    cap_equity_share: np.ndarray  # (3, R, P) share of each book's equity held by capped funds
    capacity_base: np.ndarray  # (2, R, P) dealer capacity of each segment before rules, $bn
    balance_sheet_weight: np.ndarray  # (P,) leverage-ratio-bound share of capacity
    inventory0: np.ndarray  # (2, R, P) calm dealer inventory, $bn
    value_buyer_slope: np.ndarray  # (2, P) value buyers' $bn per unit of the utilization odds
    fed_lag: np.ndarray  # (R, P) int, the rule's lag on each path
    fed_threshold: np.ndarray  # (R, P) the rule's threshold on each path, bp
    policy_capacity: tuple[np.ndarray, np.ndarray]  # (2, R, P) before and after relief applies
    reference_odds: tuple[np.ndarray, np.ndarray]  # (2, R, P) odds of calm inventory at it, before/after
    balance_sheet_gain: tuple[np.ndarray, np.ndarray]  # (R, P) netting and relief gain, before and after
    inventory0_total: np.ndarray  # (R, P) calm dealer inventory, both segments
    balance_sheet_capacity: tuple[np.ndarray, np.ndarray]  # (R, P) policy capacity of both segments, before/after relief
    balance_sheet_reference_odds: tuple[np.ndarray, np.ndarray]  # (R, P) odds of calm inventory at it
    free_liquidity0: np.ndarray  # (3, R, P) calm free liquidity of each book, $bn
    net_cash: np.ndarray  # (3, 1, 1) net cash sold per dollar of each book unwound
    any_dealer_rule: bool  # some regime has the dealer rule with a covered share
    capped_regimes: list[int]  # regimes whose leverage cap binds in stress (covered, not released)
    any_averaged_cap: bool  # some regime enforces its cap on averaged equity

    def value(self, name: str) -> np.ndarray:
        return self.draws.value(name)


@dataclass
class StressState:
    """Everything that carries over from one trading day to the next."""

    positions: np.ndarray  # (3, R, P) $bn
    equity: np.ndarray  # (3, R, P) $bn
    queue_bilateral: np.ndarray  # (3, R, P) failed funds' collateral awaiting sale, $bn
    queue_ccp: np.ndarray  # (3, R, P)
    failures_pending: bool  # some failed fund's collateral is still being sold
    absorbed: np.ndarray  # (2, R, P) net sales absorbed by dealers and value buyers since day 0
    inventory: np.ndarray  # (2, R, P) dealer inventory, $bn
    value_holdings: np.ndarray  # (2, R, P) value buyers' holdings bought since day 0
    dislocation: np.ndarray  # (2, R, P) cash cheapening beyond fundamentals, bp
    utilization: np.ndarray  # (2, R, P) dealer inventory / capacity
    basis: np.ndarray  # (R, P) cash-futures basis widening, bp of yield
    sigma: np.ndarray  # (2, R, P) realized volatility of each segment, bp/day
    risk_variance: np.ndarray  # (2, R, P) risk models' EWMA variance, (bp/day)^2
    risk_vol: np.ndarray  # (2, R, P) its square root, bp/day
    fed_previous_rule: np.ndarray  # (R, P) yesterday's purchases under the rule, $bn
    required: np.ndarray  # (3, R, P) capital per dollar required yesterday
    dislocation_history: np.ndarray  # (T+1, R, P) the 10y dislocation of every day so far
    # equity_cumsum[k]: sum of equity over days 0..k-1, (T+2, 3, R, P); empty without an averaged cap.
    equity_cumsum: np.ndarray


@dataclass(frozen=True)
class DayFlows:
    """What happened on one day, for the histories: sales, liquidations, Fed, margin calls."""

    rv_sales: np.ndarray  # (3, R, P) net cash sales of each book incl. liquidations, $bn
    exogenous_sales: dict[str, np.ndarray]  # sector -> (R, P) $bn
    fed: np.ndarray  # (R, P) $bn
    sold_to_fed: np.ndarray  # (2, R, P) Fed purchases met by end investors at calm prices
    layoff: np.ndarray  # (2, R, P) dealer inventory laid off to end investors
    margin_calls: np.ndarray  # (R, P) new margin plus mark-to-market losses, $bn
    failed: np.ndarray  # (3, R, P) positions of funds that failed today, $bn
