"""Calm-period equilibrium: how large a book funds carry under a regime, and what it costs.

Funds hold equity per dollar equal to margin plus a buffer (at least 1/leverage cap); a rule that
raises equity per dollar lowers return on equity and shrinks the book with the participation
elasticity. Less RV capacity means less-leveraged investors hold the difference at higher yields.
"""

from dataclasses import dataclass

import numpy as np

from engine.calibration import Calibration
from engine.draws import Draws
from engine.transmission import (
    BOOKS,
    RegimeParams,
    equity_per_dollar,
    margin_rates,
    regime_parameters,
    required_per_dollar,
)
from policy import get_preset


@dataclass(frozen=True)
class CalmState:
    """Positions and costs before the shock; arrays (R, P)."""

    positions: dict[str, np.ndarray]
    equity: np.ndarray
    required_per_dollar: dict[str, np.ndarray]
    yield_cost_bp: np.ndarray
    interest_cost_usd_bn_per_year: np.ndarray
    first_year_interest_cost_usd_bn: np.ndarray


def calm_equilibrium(rp: RegimeParams, cal: Calibration, draws: Draws) -> CalmState:
    """Positions, equity and calm cost of each regime relative to the status quo rules."""
    baseline = regime_parameters([get_preset("status_quo")], cal, draws, days=1)
    buffer = draws.value("calm_buffer_ratio")
    elasticity = draws.value("participation_elasticity")
    base_margin = margin_rates(baseline, cal, draws, 1.0, 0.0)
    margin = margin_rates(rp, cal, draws, 1.0, 0.0)
    positions, required = {}, {}
    status_quo_total = np.zeros_like(buffer)
    for book in BOOKS:
        desired = draws.value(f"rv_{book}_usd_bn")
        base_equity = equity_per_dollar(baseline, required_per_dollar(baseline, base_margin[book]), buffer)
        required[book] = required_per_dollar(rp, margin[book])
        equity = equity_per_dollar(rp, required[book], buffer)
        exit_share = rp.covered_share * rp.dealer_exit_share
        positions[book] = desired * (base_equity / equity) ** elasticity * (1.0 - exit_share)
        status_quo_total = status_quo_total + desired
    equity_total = sum(
        positions[b] * equity_per_dollar(rp, required[b], buffer) for b in BOOKS
    )
    rv_total = sum(positions[b] for b in BOOKS)
    debt = cal["marketable_debt_usd_bn"]
    absorbed_by_others = (status_quo_total - rv_total) - rp.foreign_shift_usd_bn
    yield_cost = draws.value("supply_elasticity_bp_per_pct") * absorbed_by_others / debt * 100.0
    interest = yield_cost / 1e4 * debt
    return CalmState(
        positions=positions,
        equity=np.asarray(equity_total),
        required_per_dollar=required,
        yield_cost_bp=yield_cost,
        interest_cost_usd_bn_per_year=interest,
        first_year_interest_cost_usd_bn=interest * cal["repricing_within_year_share"],
    )
