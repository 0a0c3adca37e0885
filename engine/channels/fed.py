"""Fed purchases: the historical schedule of an as-it-happened regime, or the backstop rule.

Rule: purchases = min(max pace, slope x (d_{t - lag} - threshold)^+), and at least `persistence`
x yesterday's purchases once buying (the Fed tapered in 2020 rather than stopped). d is the 10y
cash dislocation, the market-functioning signal. With lag 0 the Fed reacts to the same day's
dislocation: purchases and the intermediate segment's clearing are solved together (the rule is
linear in d, so the joint solution is the same quadratic with a steeper demand curve). The
threshold and the lag are drawn per path around the regime's settings (uncertain assumptions).
"""

import numpy as np

from engine.channels.clearing import odds, solve_utilization
from engine.state import RunInputs, StressState


def _rule_same_day(
    inp: RunInputs,
    absorbed: np.ndarray,
    capacity: np.ndarray,
    odds_ref: np.ndarray,
    floor: np.ndarray,
    schedule: np.ndarray,
) -> np.ndarray:
    """Purchases under a lag-0 rule, solved jointly with the intermediate segment's clearing."""
    rp = inp.rp
    share = 1.0 - inp.cal["fed_long_share"]  # part of purchases in the intermediate segment
    slope_bp = inp.value("dislocation_slope_bp")
    k, cap, thr = rp.fed_slope, rp.fed_max_pace, inp.fed_threshold
    cap0, i0, a = capacity[0], inp.inventory0[0], absorbed[0] - share * schedule
    c = inp.value_buyer_slope[0]
    odds_ref = odds_ref[0]

    # F = k (d(F) - thr) with d linear in odds(u): the same quadratic with slope c + share k pi. The
    # fixed point of F = clip(k (d(F) - thr), floor, cap) is that root clipped, since F - k (d(F) - thr)
    # rises with F.
    c_joint = c + share * k * slope_bp
    u = solve_utilization(cap0, np.maximum(a + i0 + c_joint * odds_ref + share * k * thr, 0.0), c_joint)
    interior = k * (slope_bp * (odds(u) - odds_ref) - thr)
    return np.clip(interior, floor, np.maximum(cap, floor))


def fed_purchases(
    inp: RunInputs,
    state: StressState,
    t: int,
    absorbed: np.ndarray,
    capacity: np.ndarray,
    odds_ref: np.ndarray,
) -> np.ndarray:
    """(R, P) Fed purchases today, $bn: schedule plus the rule where it is on."""
    rp = inp.rp
    schedule = inp.fed_schedule[:, t][:, None]
    if not np.any(rp.fed_rule_on > 0):
        return np.broadcast_to(schedule, inp.shape).copy()
    floor = rp.fed_persistence * state.fed_previous_rule
    lag = inp.fed_lag
    day_seen = np.clip(t - lag, 0, t - 1)  # lag 0 reads yesterday here; it is replaced below
    seen = np.take_along_axis(state.dislocation_history, day_seen[None], axis=0)[0]
    lagged = np.clip(rp.fed_slope * (seen - inp.fed_threshold), floor, np.maximum(rp.fed_max_pace, floor))
    rule = lagged
    if np.any(lag == 0):
        same_day = _rule_same_day(inp, absorbed, capacity, odds_ref, floor, schedule)
        rule = np.where(lag == 0, same_day, lagged)
    rule = np.where(rp.fed_rule_on > 0, rule, 0.0)
    state.fed_previous_rule = rule
    return schedule + rule
