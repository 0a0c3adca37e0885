"""Market functioning: which days are dysfunctional and which paths break down, from observables.

- Dysfunction (a market like 10-18 March 2020): on the same day, the 10y cash dislocation is wide
  (at least `dysfunction_dislocation_bp`) and dealers' balance sheets are full (2-10y utilization at
  least `dysfunction_utilization`). At that utilization depth falls well beyond what volatility
  explains (the depth equation's utilization term), as Duffie et al. (2023) found for March 2020
  and Perli (2025) did not for April 2025.
- Breakdown (beyond anything observed, the state a backstop exists to prevent): the 10y dislocation
  reaches `breakdown_dislocation_bp` (about twice the non-fundamental part of the March 2020 move)
  or depth falls below `breakdown_depth_usd_mn` (about a quarter of the March 2020 nadir of $38mn),
  on two trading days running: a one-day print is not a breakdown (a rescue that snaps the
  dislocation back in a day spikes realized volatility and depth for that day only).
The market always clears at a price; these are classifications of the priced paths.
"""

import numpy as np

from engine.calibration import Calibration


def dysfunction_days(series: dict[str, np.ndarray], cal: Calibration) -> np.ndarray:
    """(R, P, T+1) bool: the day is dysfunctional."""
    wide = series["dislocation_bp"] >= cal["dysfunction_dislocation_bp"]
    full = series["dealer_utilization_pct"] >= 100.0 * cal["dysfunction_utilization"]
    return wide & full


def breakdown_days(series: dict[str, np.ndarray], cal: Calibration) -> np.ndarray:
    """(R, P, T+1) bool: the day closes a second day running beyond anything observed."""
    extreme = series["dislocation_bp"] >= cal["breakdown_dislocation_bp"]
    empty = series["market_depth_usd_mn"] < cal["breakdown_depth_usd_mn"]
    beyond = extreme | empty
    sustained = np.zeros_like(beyond)
    sustained[..., 1:] = beyond[..., 1:] & beyond[..., :-1]
    return sustained
