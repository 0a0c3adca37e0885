"""Calm-period equilibrium: how large a book funds carry under a regime, and what it costs.

Equity per dollar. Funds hold, per dollar of a book's cash leg, the capital a regime requires
(market margin; net capital for funds under the dealer rule) plus free liquidity b against future
margin calls. Margins are risk-based, so funds hold b in proportion to each book's status-quo margin
(a riskier book carries more liquidity per dollar); the common ratio is set so that under the
status-quo rules the books run the gross leverage Form PF measures (gross notional / net assets =
`calm_gross_leverage_x`). b is held fixed across regimes: a rule adds its capital requirement one
for one. A leverage cap sets equity per dollar at least
gross notional / cap for the funds it covers.

Coverage and leakage. The dealer rule and the cap cover the largest funds (nested shares of each
book). Covered funds whose equity per dollar rises shrink their books; a share of what they give up
(`rule_leakage_share`) moves to funds the rule does not cover, at their equity per dollar.

Books and prices. A book shrinks with its equity per dollar at the participation elasticity; on
the demand curve of the intermediation it supplies (elasticity eps_d, from futures longs and swap
counterparties), the smaller book earns a wider spread: s / s0 = (P_SQ / P)^(1 / eps_d).

What it costs. Part of each spread widening shows up as cheaper cash Treasuries (the cash
pass-through share): intermediate notes for the basis and other books, long bonds for the swap-
spread book. The Treasury pays it on that segment of its debt once it has repriced; the rest is
borne by futures longs (a richer futures price) and swap counterparties. Separately, a term-premium
effect: a share of the books' duration demand that leaves the Treasury market (plus any calm shift
of foreign demand), priced at the QE-style supply elasticity.
"""

from dataclasses import dataclass

import numpy as np

from engine.calibration import Calibration
from engine.draws import Draws
from engine.transmission import (
    BOOKS,
    GROSS_NOTIONAL_PER_DOLLAR,
    RegimeParams,
    dealer_rule_requirement,
    margin_rates,
    regime_parameters,
)
from policy import get_preset

_GROSS = np.array([GROSS_NOTIONAL_PER_DOLLAR[b] for b in BOOKS])[:, None, None]


@dataclass(frozen=True)
class CalmState:
    """Positions, equity and costs before the shock; book arrays (3, R, P), the rest (R, P)."""

    positions: np.ndarray
    equity: np.ndarray
    required: np.ndarray  # capital per dollar at calm volatility
    buffer_per_dollar: np.ndarray  # free liquidity per dollar (equity per dollar - required)
    dealer_covered: np.ndarray  # share of each book under the dealer rule
    cap_covered: np.ndarray  # share of each book under the leverage cap
    cap_equity_share: np.ndarray  # share of each book's equity held by capped funds
    spread_change_bp: np.ndarray  # (3, R, P) calm spread widening the smaller books earn, bp a year
    yield_cost_bp: np.ndarray
    term_premium_cost_bp: np.ndarray
    interest_cost_usd_bn_per_year: np.ndarray
    first_year_interest_cost_usd_bn: np.ndarray
    futures_longs_cost_usd_bn_per_year: np.ndarray
    swap_users_cost_usd_bn_per_year: np.ndarray


def calm_margins(rp: RegimeParams, cal: Calibration, draws: Draws) -> np.ndarray:
    """(3, R, P) market margin per dollar at calm volatility (risk models at calm volatility)."""
    sigma0 = (cal["calm_volatility_bp_per_day"], cal["calm_long_volatility_bp_per_day"])
    return margin_rates(rp, cal, draws, (1.0, 1.0), sigma0, 0.0)


def _groups(dealer: np.ndarray, cap: np.ndarray) -> dict[str, np.ndarray]:
    """Nested coverage: the largest funds are under both rules, then under the wider one."""
    both = np.minimum(dealer, cap)
    return {"none": 1.0 - np.maximum(dealer, cap), "dealer": dealer - both, "cap": cap - both, "both": both}


def calm_equilibrium(rp: RegimeParams, cal: Calibration, draws: Draws) -> CalmState:
    """Positions, equity and calm cost of each regime relative to the status-quo rules."""
    baseline = regime_parameters([get_preset("status_quo")], cal, draws, days=1)
    desired = np.stack([draws.value(f"rv_{b}_usd_bn") for b in BOOKS])[:, None, :]
    margin_sq = calm_margins(baseline, cal, draws)
    margin = calm_margins(rp, cal, draws)
    # Free liquidity in proportion to each book's margin, scaled to the calm gross leverage. The
    # ratio is kept at 0.2 or more (a fifth of margin held free) only as a guard: a user's
    # re-centred assumptions could otherwise leave funds no buffer at all. Over the shipped ranges it
    # never binds (status quo, 4,000 paths: p1 2.6 in 2020 and 2.2 in 2025, p50 4.2 and 3.5).
    nav = (_GROSS * desired).sum(axis=0) / draws.value("calm_gross_leverage_x")
    ratio = np.maximum(nav / (margin_sq * desired).sum(axis=0) - 1.0, 0.2)
    buffer = ratio * margin_sq
    equity_sq = margin_sq + buffer
    net_capital = np.maximum(margin, (1.0 + rp.dealer_extra_buffer) / rp.dealer_leverage_limit_x)
    cap_floor = _GROSS / rp.cap_x
    per_dollar = {
        "none": margin + buffer,
        "dealer": net_capital + buffer,
        "cap": np.maximum(margin + buffer, cap_floor),
        "both": np.maximum(net_capital + buffer, cap_floor),
    }
    elasticity = draws.value("participation_elasticity")
    exit_share = rp.dealer_exit_share
    shares = _groups(rp.dealer_covered_share, rp.cap_covered_share)
    kept = {g: (equity_sq / e) ** elasticity for g, e in per_dollar.items()}
    kept["dealer"] = kept["dealer"] * (1.0 - exit_share)
    kept["both"] = kept["both"] * (1.0 - exit_share)
    held = {g: shares[g] * desired * kept[g] for g in per_dollar}
    leaked = draws.value("rule_leakage_share") * sum(
        shares[g] * desired * np.maximum(kept["none"] - kept[g], 0.0) for g in ("dealer", "cap", "both")
    )
    held["none"] = held["none"] + leaked
    positions = sum(held.values())
    equity_by_group = {g: held[g] * per_dollar[g] for g in per_dollar}
    equity = sum(equity_by_group.values())
    safe = np.maximum(positions, 1e-12)
    dealer_covered = (held["dealer"] + held["both"]) / safe
    cap_covered = (held["cap"] + held["both"]) / safe
    cap_equity_share = (equity_by_group["cap"] + equity_by_group["both"]) / np.maximum(equity, 1e-12)
    required = dealer_rule_requirement(rp, margin, dealer_covered)
    buffer_per_dollar = np.maximum(equity / safe - required, 1e-6)
    costs = _calm_costs(rp, cal, draws, desired, positions)
    return CalmState(
        positions=positions,
        equity=equity,
        required=required,
        buffer_per_dollar=buffer_per_dollar,
        dealer_covered=dealer_covered,
        cap_covered=cap_covered,
        cap_equity_share=cap_equity_share,
        **costs,
    )


def _calm_costs(
    rp: RegimeParams, cal: Calibration, draws: Draws, desired: np.ndarray, positions: np.ndarray
) -> dict[str, np.ndarray]:
    """Spread widening by book and who pays for it: the Treasury, futures longs, swap counterparties."""
    carry = np.stack([draws.value(f"calm_{b}_carry_bp_per_year") for b in BOOKS])[:, None, :]
    demand_elasticity = draws.value("intermediation_demand_elasticity")
    ratio = desired / np.maximum(positions, 1e-12)
    spread_change = carry * (ratio ** (1.0 / demand_elasticity) - 1.0)
    cash_share = draws.value("cash_pass_through_share")
    basis, swap, other = 0, 1, 2
    # Cash cheapening by segment: books weighted by their status-quo size within the segment.
    intermediate = cash_share * (desired[basis] * spread_change[basis] + desired[other] * spread_change[other]) / (
        desired[basis] + desired[other]
    )
    long_end = cash_share * spread_change[swap]
    debt = cal["marketable_debt_usd_bn"]
    segment_interest = (intermediate * cal["notes_share_of_debt"] + long_end * cal["bonds_share_of_debt"]) * debt / 1e4
    lost_duration_demand = draws.value("duration_demand_loss_share") * (desired.sum(axis=0) - positions.sum(axis=0))
    displaced = lost_duration_demand - rp.foreign_shift_usd_bn
    term_premium = draws.value("supply_elasticity_bp_per_pct") * displaced / debt * 100.0
    interest = segment_interest + term_premium / 1e4 * debt
    return {
        "spread_change_bp": spread_change,
        "yield_cost_bp": interest / debt * 1e4,
        "term_premium_cost_bp": term_premium,
        "interest_cost_usd_bn_per_year": interest,
        "first_year_interest_cost_usd_bn": interest * cal["repricing_within_year_share"],
        "futures_longs_cost_usd_bn_per_year": (1.0 - cash_share) * spread_change[basis] * positions[basis] / 1e4,
        "swap_users_cost_usd_bn_per_year": (1.0 - cash_share) * spread_change[swap] * positions[swap] / 1e4,
    }
