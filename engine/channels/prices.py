"""Prices: each book's spread, its P&L, and the volatility feedback.

Three spreads, each with its own driver:
- the 10y cash dislocation d_M (intermediate segment) moves the 10y yield and, times the
  on/off-the-run beta, the other RV book's spread (off-the-runs cheapen more: Fed FSR May 2020);
- the long-end dislocation d_L (long segment) is the 30y Treasury's cheapening against swaps: the
  30y swap spread moves by -d_L (Du, Hebert & Li; He, Nagel & Song) and the swap-spread book
  (long bonds, pay fixed) loses d_L x duration;
- the cash-futures basis follows dealers' balance-sheet cost of carrying cash against futures,
  the repo-intermediation spread (Kashyap, Stein, Wallen & Younger 2025; Barth & Kahn 2021):
  basis = pi_B (odds(u_BS) - odds(u_BS,ref)) + k_f x persistent funding stress, where u_BS is
  dealers' total inventory over their balance-sheet capacity (volatility does not enter: the
  basis book's hedged cash ties up balance sheet, not VaR). Futures follow the fundamental move.
Volatility: sigma_j = exogenous_j + eta |change in d_j|; risk models see its EWMA.
"""

import numpy as np

from engine.channels.clearing import odds
from engine.state import RunInputs, StressState
from engine.transmission import BOOKS

_DURATION_KEYS = tuple(f"duration_{b}_years" for b in BOOKS)


def basis_widening(inp: RunInputs, state: StressState, t: int, funds_stress_bp: np.ndarray) -> np.ndarray:
    """(R, P) basis widening in bp of yield (cash cheapening against futures)."""
    after = t >= inp.rp.relief_day
    balance_sheet = np.where(after, inp.balance_sheet_capacity[1], inp.balance_sheet_capacity[0])
    odds_ref = np.where(after, inp.balance_sheet_reference_odds[1], inp.balance_sheet_reference_odds[0])
    u = np.minimum((state.inventory[0] + state.inventory[1]) / balance_sheet, 1.0 - 1e-12)
    bs_part = inp.value("basis_balance_sheet_slope_bp") * (odds(u) - odds_ref)
    return bs_part + inp.cal["basis_funding_pass_through"] * funds_stress_bp


def reprice(
    inp: RunInputs,
    state: StressState,
    t: int,
    old_dislocation: np.ndarray,
    old_basis: np.ndarray,
    required: np.ndarray,
    funds_stress_bp: np.ndarray,
) -> np.ndarray:
    """Book P&L, equity and volatility for today; returns losses incl. funding cost by book (3, R, P), $bn."""
    change = state.dislocation - old_dislocation  # (2, R, P)
    spread_change = np.stack(
        [
            state.basis - old_basis,
            change[1],
            inp.cal["other_dislocation_beta"] * change[0],
        ]
    )
    durations = np.array([inp.cal[k] for k in _DURATION_KEYS])[:, None, None]
    losses = state.positions * spread_change * durations / 1e4
    if np.any(funds_stress_bp):
        borrowed = state.positions * (1.0 - required)
        losses = losses + borrowed * (funds_stress_bp / 1e4 / 360.0)
    state.equity = state.equity - losses
    state.sigma = inp.sigma_exogenous[:, None, :, t] + inp.value("volatility_feedback") * np.abs(change)
    decay = inp.cal["risk_model_ewma_decay"]
    state.risk_variance = decay * state.risk_variance + (1.0 - decay) * (state.sigma * state.sigma)
    state.risk_vol = np.sqrt(state.risk_variance)
    return losses
