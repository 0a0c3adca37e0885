"""Transmission: what each rule does to the model's parameters (MODEL.md section 4).

`regime_parameters` stacks the regimes of a run into arrays shaped (R, 1) (or (R, P) where a rule
meets an uncertain structural value), so the dynamics run over regime x path at once. The
functions below carry the economics of each rule and are pure and separately tested.
"""

from dataclasses import dataclass

import numpy as np

from engine.calibration import Calibration
from engine.draws import Draws
from policy import ClearingRule, PolicyRegime

BOOKS: tuple[str, ...] = ("basis", "swap_spread", "other")
ENFORCEMENT_CODES = {"daily": 0, "averaged": 1, "released": 2}


@dataclass(frozen=True)
class RegimeParams:
    """Policy settings of R regimes as arrays; shapes (R, 1) unless noted."""

    names: tuple[str, ...]
    clearing_on: np.ndarray
    repo_cleared_share: np.ndarray  # share of RV repo cleared (baseline share when the rule is off)
    cash_cleared_share: np.ndarray
    margin_floor: np.ndarray  # fraction of notional
    cross_margin_offset: np.ndarray  # share
    ccp_damping: np.ndarray  # share of the VaR response removed
    covered_share: np.ndarray
    dealer_leverage_limit_x: np.ndarray
    dealer_extra_buffer: np.ndarray
    dealer_exit_share: np.ndarray
    cap_on: np.ndarray
    cap_x: np.ndarray
    cap_mode: np.ndarray  # int codes of ENFORCEMENT_CODES
    cap_window_days: np.ndarray  # int
    relief_gain: np.ndarray  # (R, P) capacity gain once relief applies
    relief_day: np.ndarray  # int
    netting_gain: np.ndarray  # (R, P) capacity gain from multilateral netting
    srf_on: np.ndarray
    srf_spread_bp: np.ndarray
    srf_coverage: np.ndarray  # share of the stress funding need the daily limit covers
    srf_funds_access: np.ndarray
    fed_rule_on: np.ndarray
    fed_threshold_bp: np.ndarray
    fed_slope: np.ndarray
    fed_max_pace: np.ndarray
    fed_lag_days: np.ndarray  # int
    fed_schedule: np.ndarray  # (R, T+1) $bn/day, unscaled
    futures_margin: np.ndarray  # fraction of notional (calm)
    futures_damping: np.ndarray
    foreign_shift_usd_bn: np.ndarray


def _column(values: list[float]) -> np.ndarray:
    return np.asarray(values, dtype=float)[:, None]


def relief_capacity_gain(
    enabled: bool,
    buffer_reduction_pp: float,
    exclusion_share: float,
    eslr_requirement_pct: float,
    slr_binding_weight: np.ndarray,
    exclusion_gain: np.ndarray,
) -> np.ndarray:
    """Dealer capacity gain from leverage-ratio relief.

    The SLR-bound part of capacity scales with 1/requirement (a buffer cut frees balance sheet),
    and excluding Treasuries from exposure frees it further; VaR-bound capacity is unaffected.
    """
    if not enabled:
        return np.zeros_like(slr_binding_weight)
    requirement = eslr_requirement_pct
    buffer_gain = requirement / max(requirement - buffer_reduction_pp, 3.0) - 1.0
    return slr_binding_weight * (buffer_gain + exclusion_share * exclusion_gain)


def netting_capacity_gain(
    enabled: bool,
    repo_share: float,
    cash_share: float,
    baseline_repo_share: float,
    baseline_cash_share: float,
    gain_per_share: np.ndarray,
) -> np.ndarray:
    """Dealer capacity gain from multilateral netting of newly cleared repo and cash trades."""
    if not enabled:
        return np.zeros_like(gain_per_share)
    extra = 0.5 * (max(repo_share - baseline_repo_share, 0.0) + max(cash_share - baseline_cash_share, 0.0))
    return gain_per_share * extra


def regime_parameters(
    regimes: list[PolicyRegime], calibration: Calibration, draws: Draws, days: int
) -> RegimeParams:
    """Stack the regimes' settings and their transmission into arrays."""
    cal = calibration
    base_repo, base_cash = cal["baseline_cleared_repo_share"], cal["baseline_cleared_cash_share"]
    relief, netting, schedules = [], [], []
    for r in regimes:
        lr = r.leverage_ratio_relief
        relief.append(
            relief_capacity_gain(
                lr.enabled,
                lr.buffer_reduction_pp,
                lr.treasury_exclusion_pct / 100.0,
                cal["eslr_requirement_pct"],
                draws.value("slr_binding_weight"),
                draws.value("treasury_exclusion_capacity_gain"),
            )
        )
        c = r.clearing
        netting.append(
            netting_capacity_gain(
                c.enabled,
                c.repo_cleared_share_pct / 100.0,
                c.cash_cleared_share_pct / 100.0,
                base_repo,
                base_cash,
                draws.value("netting_capacity_gain"),
            )
        )
        schedule = np.zeros(days + 1)
        given = np.asarray(r.fed_backstop.purchase_schedule_usd_bn_per_day[:days], dtype=float)
        schedule[1 : 1 + len(given)] = given
        schedules.append(schedule)
    clearing = [r.clearing for r in regimes]
    return RegimeParams(
        names=tuple(r.name for r in regimes),
        clearing_on=_column([c.enabled for c in clearing]),
        repo_cleared_share=_column(
            [c.repo_cleared_share_pct / 100.0 if c.enabled else base_repo for c in clearing]
        ),
        cash_cleared_share=_column(
            [c.cash_cleared_share_pct / 100.0 if c.enabled else base_cash for c in clearing]
        ),
        # The mandate's floor and tools apply only when it is in force; repo cleared voluntarily
        # today faces FICC's own minimum margin and its current anti-procyclicality tools.
        margin_floor=_column(
            [c.margin_floor_pct / 100.0 if c.enabled else cal["baseline_cleared_margin_floor_pct"] / 100.0 for c in clearing]
        ),
        cross_margin_offset=_column(
            [c.cross_margin_offset_pct / 100.0 if c.enabled else 0.0 for c in clearing]
        ),
        ccp_damping=_column(
            [(c if c.enabled else ClearingRule()).margin_anti_procyclicality_pct / 100.0 for c in clearing]
        ),
        covered_share=_column(
            [r.dealer_rule.covered_share_pct / 100.0 if r.dealer_rule.enabled else 0.0 for r in regimes]
        ),
        dealer_leverage_limit_x=_column([r.dealer_rule.net_capital_leverage_limit_x for r in regimes]),
        dealer_extra_buffer=_column([r.dealer_rule.extra_buffer_pct / 100.0 for r in regimes]),
        dealer_exit_share=_column([r.dealer_rule.compliance_exit_pct / 100.0 for r in regimes]),
        cap_on=_column([r.leverage_cap.enabled for r in regimes]),
        cap_x=_column([r.leverage_cap.max_leverage_x for r in regimes]),
        cap_mode=np.array([[ENFORCEMENT_CODES[r.leverage_cap.enforcement]] for r in regimes]),
        cap_window_days=np.array([[r.leverage_cap.averaging_window_days] for r in regimes]),
        relief_gain=np.stack(relief),
        relief_day=np.array([[r.leverage_ratio_relief.effective_day] for r in regimes]),
        netting_gain=np.stack(netting),
        srf_on=_column([r.standing_repo.enabled for r in regimes]),
        srf_spread_bp=_column([r.standing_repo.rate_spread_bp for r in regimes]),
        srf_coverage=_column(
            [min(1.0, r.standing_repo.daily_limit_usd_bn / cal["srf_need_usd_bn"]) for r in regimes]
        ),
        srf_funds_access=_column([r.standing_repo.funds_access for r in regimes]),
        fed_rule_on=_column([r.fed_backstop.enabled for r in regimes]),
        fed_threshold_bp=_column([r.fed_backstop.threshold_bp for r in regimes]),
        fed_slope=_column([r.fed_backstop.slope_usd_bn_per_bp for r in regimes]),
        fed_max_pace=_column([r.fed_backstop.max_pace_usd_bn_per_day for r in regimes]),
        fed_lag_days=np.array([[r.fed_backstop.lag_days] for r in regimes]),
        fed_schedule=np.stack(schedules),
        futures_margin=_column([r.futures_margin.initial_margin_pct / 100.0 for r in regimes]),
        futures_damping=_column([r.futures_margin.anti_procyclicality_pct / 100.0 for r in regimes]),
        foreign_shift_usd_bn=_column([r.foreign_demand.calm_shift_usd_bn for r in regimes]),
    )


def capped_funding_stress(
    stress_bp: np.ndarray | float, rp: RegimeParams
) -> tuple[np.ndarray, np.ndarray]:
    """Funding stress (bp) that dealers and that funds face once the SRF caps it.

    The SRF lends at its rate, so stress above the spread is removed for the share of the need
    its daily limit covers; funds benefit only with access (clearing or pass-through).
    """
    excess = np.maximum(stress_bp - rp.srf_spread_bp, 0.0)
    relief = rp.srf_on * rp.srf_coverage * excess
    dealers = stress_bp - relief
    funds = stress_bp - relief * rp.srf_funds_access
    return dealers, funds


def margin_rates(
    rp: RegimeParams,
    cal: Calibration,
    draws: Draws,
    sigma_ratio: np.ndarray | float,
    funds_stress_bp: np.ndarray | float,
) -> dict[str, np.ndarray]:
    """Margin per dollar of each RV book (fraction of notional), before the dealer rule.

    Bilateral repo: a small haircut that barely moves with volatility (as in 2020). Cleared repo:
    a VaR margin (floored) that moves with volatility, damped by anti-procyclicality tools.
    Futures and swap margins rise with volatility at elasticity theta.
    """
    excess_vol = np.maximum(sigma_ratio - 1.0, 0.0)
    bilateral = (
        cal["bilateral_haircut_pct"] / 100.0
        + draws.value("bilateral_haircut_vol_pp") / 100.0 * excess_vol
        + cal["bilateral_haircut_funding_pp_per_bp"] / 100.0 * funds_stress_bp
    )
    sigma0 = cal["calm_volatility_bp_per_day"]
    # Powers of the volatility ratio through one log: exp(k * log ratio).
    log_ratio = np.log(np.maximum(sigma_ratio, 1e-9))
    vol_scale = np.exp((1.0 - rp.ccp_damping) * log_ratio)
    theta = draws.value("futures_margin_vol_elasticity")
    theta_scale = np.exp(theta * log_ratio)
    futures = rp.futures_margin * np.exp(theta * (1.0 - rp.futures_damping) * log_ratio)
    swap_im = cal["swap_initial_margin_pct"] / 100.0 * theta_scale
    share = rp.repo_cleared_share
    rates = {}
    for book, extra in (("basis", futures), ("swap_spread", swap_im), ("other", None)):
        duration = cal[f"duration_{book}_years"]
        var_margin = cal["cleared_var_coefficient"] * sigma0 * duration / 1e4 * vol_scale
        cleared = np.maximum(rp.margin_floor, var_margin)
        repo = (1.0 - share) * bilateral + share * cleared
        if extra is None:
            extra = cal["other_book_margin_pct"] / 100.0 * theta_scale
        offset = rp.cross_margin_offset * np.minimum(share * cleared, extra) if book == "basis" else 0.0
        rates[book] = repo + extra - offset
    return rates


def required_per_dollar(rp: RegimeParams, margin: np.ndarray) -> np.ndarray:
    """Capital per dollar of position: market margin, or the dealer rule's net capital for covered funds."""
    net_capital = (1.0 + rp.dealer_extra_buffer) / rp.dealer_leverage_limit_x
    covered = rp.covered_share
    return (1.0 - covered) * margin + covered * np.maximum(margin, net_capital)


def equity_per_dollar(rp: RegimeParams, required: np.ndarray, calm_buffer: np.ndarray) -> np.ndarray:
    """Calm equity a fund holds per dollar of position: margin plus buffer, at least 1/cap."""
    equity = required * (1.0 + calm_buffer)
    cap_floor = np.where(rp.cap_on > 0, 1.0 / rp.cap_x, 0.0)
    return np.maximum(equity, cap_floor)
