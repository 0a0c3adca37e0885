"""Transmission: what each rule does to the model's parameters (MODEL.md section 4, model v2).

`regime_parameters` stacks the regimes of a run into arrays shaped (R, 1) (or (R, P) where a rule
meets an uncertain structural value), so the dynamics run over regime x path at once. The
functions below carry the economics of each rule and are pure and separately tested.

Books and segments: the basis and other-RV books hold intermediate (2-10y) cash Treasuries, the
swap-spread book long bonds (10-30y). Margins, volatility and dealer capacity are per segment.
"""

from dataclasses import dataclass

import numpy as np

from engine.calibration import Calibration
from engine.draws import Draws
from policy import ClearingRule, PolicyRegime

BOOKS: tuple[str, ...] = ("basis", "swap_spread", "other")
SEGMENTS: tuple[str, ...] = ("intermediate", "long")
BOOK_SEGMENT: dict[str, int] = {"basis": 0, "swap_spread": 1, "other": 0}
# Gross notional per dollar of a book's cash leg, as Form PF counts it: both legs of a hedged trade.
GROSS_NOTIONAL_PER_DOLLAR: dict[str, float] = {"basis": 2.0, "swap_spread": 2.0, "other": 2.0}
ENFORCEMENT_CODES = {"daily": 0, "averaged": 1, "released": 2}


@dataclass(frozen=True)
class RegimeParams:
    """Policy settings of R regimes as arrays; shapes (R, 1) unless noted."""

    names: tuple[str, ...]
    repo_cleared_share: np.ndarray  # share of RV repo cleared (baseline share when the rule is off)
    haircut_floor: np.ndarray  # regulatory minimum on cleared repo, fraction of notional
    cross_margin_offset: np.ndarray  # share
    ccp_damping: np.ndarray  # share of the VaR margin's response to recent volatility removed
    dealer_covered_share: np.ndarray  # 0 when the dealer rule is off
    dealer_leverage_limit_x: np.ndarray
    dealer_extra_buffer: np.ndarray
    dealer_exit_share: np.ndarray
    cap_covered_share: np.ndarray  # 0 when the cap is off
    cap_x: np.ndarray  # gross notional / net assets
    cap_mode: np.ndarray  # int codes of ENFORCEMENT_CODES
    cap_window_days: np.ndarray  # int
    relief_gain: np.ndarray  # (R, P) gain of balance-sheet-bound capacity once relief applies
    relief_day: np.ndarray  # int
    netting_gain: np.ndarray  # (R, P) gain of balance-sheet-bound capacity from netting
    srf_on: np.ndarray
    srf_spread_bp: np.ndarray
    srf_coverage: np.ndarray  # share of the stress funding need the daily limit covers
    srf_funds_access: np.ndarray
    fed_rule_on: np.ndarray
    fed_threshold_bp: np.ndarray
    fed_slope: np.ndarray
    fed_max_pace: np.ndarray
    fed_lag_days: np.ndarray  # int
    fed_persistence: np.ndarray  # share of yesterday's purchases kept once buying
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
    exclusion_gain: np.ndarray,
) -> np.ndarray:
    """Gain of the leverage-ratio-bound part of dealer capacity from relief.

    A buffer cut frees balance sheet in proportion to 1/requirement; excluding Treasuries from
    exposure frees it further. The VaR-bound part of capacity is unaffected (see `dealer_capacity`).
    """
    if not enabled:
        return np.zeros_like(exclusion_gain)
    requirement = eslr_requirement_pct
    buffer_gain = requirement / max(requirement - buffer_reduction_pp, 3.0) - 1.0
    return buffer_gain + exclusion_share * exclusion_gain


def netting_capacity_gain(
    enabled: bool,
    repo_share: float,
    cash_share: float,
    baseline_repo_share: float,
    baseline_cash_share: float,
    gain_per_share: np.ndarray,
) -> np.ndarray:
    """Gain of balance-sheet-bound dealer capacity from netting newly cleared repo and cash trades."""
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
        repo_cleared_share=_column(
            [c.repo_cleared_share_pct / 100.0 if c.enabled else base_repo for c in clearing]
        ),
        # The mandate's floor and tools apply only when it is in force; repo cleared voluntarily
        # today faces FICC's own VaR model and its current anti-procyclicality tools, no floor.
        haircut_floor=_column([c.haircut_floor_pct / 100.0 if c.enabled else 0.0 for c in clearing]),
        cross_margin_offset=_column([c.cross_margin_offset_pct / 100.0 if c.enabled else 0.0 for c in clearing]),
        ccp_damping=_column(
            [(c if c.enabled else ClearingRule()).margin_anti_procyclicality_pct / 100.0 for c in clearing]
        ),
        dealer_covered_share=_column(
            [r.dealer_rule.covered_share_pct / 100.0 if r.dealer_rule.enabled else 0.0 for r in regimes]
        ),
        dealer_leverage_limit_x=_column([r.dealer_rule.net_capital_leverage_limit_x for r in regimes]),
        dealer_extra_buffer=_column([r.dealer_rule.extra_buffer_pct / 100.0 for r in regimes]),
        dealer_exit_share=_column([r.dealer_rule.compliance_exit_pct / 100.0 for r in regimes]),
        cap_covered_share=_column(
            [r.leverage_cap.covered_share_pct / 100.0 if r.leverage_cap.enabled else 0.0 for r in regimes]
        ),
        cap_x=_column([r.leverage_cap.max_gross_leverage_x for r in regimes]),
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
        fed_persistence=_column([r.fed_backstop.persistence_pct / 100.0 for r in regimes]),
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


def ccp_var_margin(
    cal: Calibration, duration_years: float, risk_vol_bp: np.ndarray | float, lookback_vol_bp: float, damping: np.ndarray
) -> np.ndarray:
    """FICC-style VaR margin per dollar of a cleared position (fraction of notional).

    z (one-tailed confidence) x sqrt(margin period of risk) x the margin volatility x duration.
    The margin volatility is the long look-back volatility plus the part of recent (risk-model)
    volatility above it that the anti-procyclicality tools leave in: the margin sits at its
    look-back level in calm markets and rises in stress unless damped.
    """
    excess = np.maximum(risk_vol_bp - lookback_vol_bp, 0.0)
    margin_vol = lookback_vol_bp + (1.0 - damping) * excess
    z, mpor = cal["ccp_var_confidence_z"], cal["ccp_margin_period_days"]
    return z * np.sqrt(mpor) * margin_vol * duration_years / 1e4


def margin_rates(
    rp: RegimeParams,
    cal: Calibration,
    draws: Draws,
    vol_ratio: tuple[np.ndarray | float, np.ndarray | float],
    risk_vol_bp: tuple[np.ndarray | float, np.ndarray | float],
    funds_stress_bp: np.ndarray | float,
) -> np.ndarray:
    """Margin per dollar of each RV book, stacked (3, R, P) in BOOKS order, before the dealer rule.

    `vol_ratio` is the volatility margin models see over calm, per segment; `risk_vol_bp` that
    volatility in bp/day (the CCP's VaR uses its level against the look-back). Repo: a bilateral
    haircut that barely moves (as in 2020) on the uncleared share, the CCP's VaR margin (at least
    the regulatory floor) on the cleared share. Hedge legs: futures initial margin (basis), swap
    initial margin (swap spread), short-leg margin (other RV), each rising with its segment's
    volatility (futures and short legs at theta, swaps at theta_swap).
    """
    theta = draws.value("futures_margin_vol_elasticity")
    theta_swap = draws.value("swap_margin_vol_elasticity")
    bilateral_base = cal["bilateral_haircut_pct"] / 100.0 + cal["bilateral_haircut_funding_pp_per_bp"] / 100.0 * funds_stress_bp
    bilateral_vol = draws.value("bilateral_haircut_vol_pp") / 100.0
    share = rp.repo_cleared_share
    # Per segment once: the log volatility ratio and the bilateral haircut.
    log_ratio, bilateral = [], []
    for seg in range(len(SEGMENTS)):
        ratio = np.maximum(vol_ratio[seg], 1e-9)
        log_ratio.append(np.log(ratio))
        bilateral.append(bilateral_base + bilateral_vol * np.maximum(ratio - 1.0, 0.0))
    rates = []
    for book in BOOKS:
        seg = BOOK_SEGMENT[book]
        lookback = cal[f"ccp_lookback_volatility_{SEGMENTS[seg]}_bp_per_day"]
        var = ccp_var_margin(cal, cal[f"duration_{book}_years"], risk_vol_bp[seg], lookback, rp.ccp_damping)
        cleared = np.maximum(rp.haircut_floor, var)
        repo = bilateral[seg] + share * (cleared - bilateral[seg])
        if book == "basis":
            hedge = rp.futures_margin * np.exp((theta * (1.0 - rp.futures_damping)) * log_ratio[seg])
            rate = repo + hedge - rp.cross_margin_offset * np.minimum(share * cleared, hedge)
        elif book == "swap_spread":
            rate = repo + cal["swap_initial_margin_pct"] / 100.0 * np.exp(theta_swap * log_ratio[seg])
        else:
            rate = repo + cal["other_book_margin_pct"] / 100.0 * np.exp(theta * log_ratio[seg])
        rates.append(rate)
    shape = np.broadcast_shapes(*(np.shape(r) for r in rates), share.shape)
    return np.stack([np.broadcast_to(r, shape) for r in rates])


def dealer_rule_requirement(rp: RegimeParams, margin: np.ndarray, covered_share: np.ndarray) -> np.ndarray:
    """Capital per dollar: market margin, or the dealer rule's net capital for the covered share."""
    net_capital = (1.0 + rp.dealer_extra_buffer) / rp.dealer_leverage_limit_x
    return (1.0 - covered_share) * margin + covered_share * np.maximum(margin, net_capital)


def dealer_capacity(
    base_usd_bn: np.ndarray,
    balance_sheet_weight: np.ndarray,
    balance_sheet_gain: np.ndarray,
    risk_vol_ratio: np.ndarray | float,
) -> np.ndarray:
    """Treasury inventory a dealer segment can hold: leverage-ratio-bound part plus VaR-bound part.

    The balance-sheet part grows with netting and leverage-ratio relief; the VaR-bound part holds a
    fixed value-at-risk, so its dollar capacity falls as 1/volatility (VaR = z sigma sqrt(h) DV01;
    Li, Petrasek & Tian, FEDS 2025-034: desks near VaR limits shed Treasuries in 2020).
    """
    w = balance_sheet_weight
    return base_usd_bn * (w * (1.0 + balance_sheet_gain) + (1.0 - w) / np.maximum(risk_vol_ratio, 1e-9))
