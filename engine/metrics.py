"""Summary metrics: one number per regime and path, each with its unit and definition.

Peaks and troughs are measured against day 0 over the whole stress window; the definitions are in
`METRICS` (shown on the methodology page and in `python -m engine params`). Names are a public
contract: a change of meaning bumps `engine.result.SCHEMA_VERSION` and is listed in CHANGES.
"""

from dataclasses import dataclass

import numpy as np

from engine.calm import CalmState
from engine.dynamics import StressOutput, StressSummary


@dataclass(frozen=True)
class MetricSpec:
    """A summary metric's unit, short label and definition (shown in the methodology notes)."""

    label: str
    unit: str
    definition: str


METRICS: dict[str, MetricSpec] = {
    "peak_10y_yield_change_bp": MetricSpec(
        "Peak 10y yield change", "bp",
        "Largest rise of the 10y yield over day 0 in the window: fundamental path plus dislocation.",
    ),
    "trough_market_depth_usd_mn": MetricSpec(
        "Trough market depth", "$mn",
        "Lowest market depth: top-3 levels of the on-the-run 10y order book, both sides, in $mn "
        "(the JPMorgan dealer-research proxy), D0 (sigma0/sigma)^beta ((1-u)/(1-u_ref))^alpha.",
    ),
    "peak_dealer_utilization_pct": MetricSpec(
        "Peak dealer utilization", "%",
        "Highest dealer inventory as a share of 2-10y Treasury capacity (balance-sheet and VaR bound).",
    ),
    "peak_dealer_inventory_usd_bn": MetricSpec(
        "Peak dealer inventory added", "$bn",
        "Largest rise of dealers' Treasury inventory (both segments) over day 0.",
    ),
    "forced_sales_usd_bn": MetricSpec(
        "RV forced sales", "$bn",
        "RV funds' cumulative net cash Treasury sales over the window (liquidity management, margin "
        "calls, leverage limits, liquidation of failed funds); comparable to the $173bn net "
        "hedge-fund sales of March 2020.",
    ),
    "margin_calls_usd_bn": MetricSpec(
        "Margin calls", "$bn",
        "Cumulative new margin (initial-margin increases) plus mark-to-market losses RV funds paid.",
    ),
    "peak_basis_widening_bp": MetricSpec(
        "Peak basis widening", "bp",
        "Largest cheapening of cash Treasuries against futures, in bp of yield: dealers' balance-sheet "
        "cost of carrying cash against futures (the repo-intermediation spread) plus persistent "
        "funding stress.",
    ),
    "min_swap_spread_30y_bp": MetricSpec(
        "Lowest 30y swap spread", "bp",
        "Most negative 30y swap spread (swap rate minus Treasury yield) in the window: calm level "
        "minus the long end's cash cheapening against swaps.",
    ),
    "peak_30y_yield_change_bp": MetricSpec(
        "Peak 30y yield change", "bp",
        "Largest rise of the 30y yield over day 0: fundamental 30y path plus the long-end dislocation.",
    ),
    "fed_purchases_usd_bn": MetricSpec(
        "Fed purchases", "$bn",
        "Cumulative Fed Treasury purchases in the window (rule or historical schedule).",
    ),
    "rv_positions_usd_bn": MetricSpec(
        "RV positions before the shock", "$bn",
        "Basis, swap-spread and other RV books funds carry in the calm equilibrium of the regime.",
    ),
    "calm_gross_leverage_x": MetricSpec(
        "Calm RV gross leverage", "x",
        "Gross notional exposure / net assets of the RV books before the shock (the Form PF measure).",
    ),
    "calm_yield_cost_bp": MetricSpec(
        "Calm-period yield cost", "bp",
        "Rise of the average yield on marketable debt versus status-quo rules: the cash part of the "
        "wider basis, swap and off-the-run spreads the smaller RV books earn, on the notes and bonds "
        "they price, plus a term-premium effect (calm_term_premium_cost_bp).",
    ),
    "calm_term_premium_cost_bp": MetricSpec(
        "Calm term-premium cost", "bp",
        "The part of the calm yield cost from duration demand that leaves the Treasury market (a "
        "share of the lost RV books, plus any calm foreign demand shift), at the QE supply elasticity.",
    ),
    "calm_basis_widening_bp": MetricSpec(
        "Calm basis widening", "bp/yr",
        "Wider implied-repo spread the smaller basis book earns in calm markets, versus status quo.",
    ),
    "calm_swap_spread_change_bp": MetricSpec(
        "Calm swap-spread change", "bp",
        "Change of the calm 30y swap spread versus status quo (negative: Treasuries cheaper against swaps).",
    ),
    "calm_interest_cost_usd_bn_per_year": MetricSpec(
        "Calm-period interest cost", "$bn/yr",
        "Calm yield cost x marketable debt, once all debt has repriced.",
    ),
    "calm_first_year_interest_cost_usd_bn": MetricSpec(
        "First-year interest cost", "$bn",
        "Interest cost on the debt that reprices within a year (bills and maturing coupons).",
    ),
    "calm_futures_longs_cost_usd_bn_per_year": MetricSpec(
        "Cost to futures longs", "$bn/yr",
        "The part of the calm basis widening borne by futures longs (richer futures), on the basis book.",
    ),
    "calm_swap_users_cost_usd_bn_per_year": MetricSpec(
        "Cost to swap counterparties", "$bn/yr",
        "The part of the calm swap-spread change borne by the swap counterparties of the swap-spread "
        "book (fixed receivers), on that book.",
    ),
    "dysfunction_probability_pct": MetricSpec(
        "Dysfunction probability", "%",
        "Share of paths with at least one dysfunctional day (10y dislocation and dealer utilization "
        "both past their thresholds, as on 10-18 March 2020); the same number at p5, p50 and p95.",
    ),
    "dysfunction_days": MetricSpec(
        "Dysfunctional days", "days",
        "Number of dysfunctional trading days in the window.",
    ),
    "broken_market_probability_pct": MetricSpec(
        "Breakdown probability", "%",
        "Share of paths that reach a breakdown beyond anything observed (10y dislocation of 100bp or "
        "more, or depth under $10mn, two trading days running); the same number at p5, p50 and p95.",
    ),
}


def _calm_metrics(calm: CalmState, gross0: np.ndarray) -> dict[str, np.ndarray]:
    """The calm-period metrics, one definition for the full and the summary-only runs."""
    return {
        "calm_gross_leverage_x": gross0,
        "calm_yield_cost_bp": calm.yield_cost_bp,
        "calm_term_premium_cost_bp": calm.term_premium_cost_bp,
        "calm_basis_widening_bp": calm.spread_change_bp[0],
        "calm_swap_spread_change_bp": -calm.spread_change_bp[1],
        "calm_interest_cost_usd_bn_per_year": calm.interest_cost_usd_bn_per_year,
        "calm_first_year_interest_cost_usd_bn": calm.first_year_interest_cost_usd_bn,
        "calm_futures_longs_cost_usd_bn_per_year": calm.futures_longs_cost_usd_bn_per_year,
        "calm_swap_users_cost_usd_bn_per_year": calm.swap_users_cost_usd_bn_per_year,
    }


def compute_metrics(calm: CalmState, stress: StressOutput, dysfunction: np.ndarray, breakdown: np.ndarray) -> dict[str, np.ndarray]:
    """Every summary metric as an (R, P) array."""
    s = stress.series
    ones = np.ones(dysfunction.shape[:2])
    dysfunctional = dysfunction.any(axis=-1)
    broken = breakdown.any(axis=-1)
    gross0 = s["fund_leverage_x"][..., 0]
    return {
        "peak_10y_yield_change_bp": s["yield_10y_change_bp"].max(axis=-1),
        "trough_market_depth_usd_mn": s["market_depth_usd_mn"].min(axis=-1),
        "peak_dealer_utilization_pct": s["dealer_utilization_pct"].max(axis=-1),
        "peak_dealer_inventory_usd_bn": s["dealer_inventory_usd_bn"].max(axis=-1),
        "forced_sales_usd_bn": s["forced_sales_usd_bn"].sum(axis=-1),
        "margin_calls_usd_bn": s["margin_calls_usd_bn"].sum(axis=-1),
        "peak_basis_widening_bp": s["basis_widening_bp"].max(axis=-1),
        "min_swap_spread_30y_bp": s["swap_spread_30y_bp"].min(axis=-1),
        "peak_30y_yield_change_bp": s["yield_30y_change_bp"].max(axis=-1),
        "fed_purchases_usd_bn": s["fed_purchases_usd_bn"].sum(axis=-1),
        "rv_positions_usd_bn": s["rv_positions_usd_bn"][..., 0],
        **_calm_metrics(calm, gross0),
        "dysfunction_probability_pct": 100.0 * dysfunctional.mean(axis=1, keepdims=True) * ones,
        "dysfunction_days": dysfunction.sum(axis=-1).astype(float),
        "broken_market_probability_pct": 100.0 * broken.mean(axis=1, keepdims=True) * ones,
    }


def summary_metrics(calm: CalmState, stress: StressSummary) -> dict[str, np.ndarray]:
    """`compute_metrics` from a summary-only run: the same keys in the same order, the same numbers.

    The stress metrics come from the kernel's running peaks, troughs and sums; the calm ones and
    the probabilities are computed here exactly as `compute_metrics` does.
    """
    v = stress.values
    ones = np.ones(stress.broken.shape)
    equity0 = v["fund_equity_usd_bn"]
    gross0 = np.where(equity0 > 1e-9, 2.0 * v["rv_positions_usd_bn"] / np.maximum(equity0, 1e-9), 0.0)
    return {
        "peak_10y_yield_change_bp": v["peak_10y_yield_change_bp"],
        "trough_market_depth_usd_mn": v["trough_market_depth_usd_mn"],
        "peak_dealer_utilization_pct": v["peak_dealer_utilization_pct"],
        "peak_dealer_inventory_usd_bn": v["peak_dealer_inventory_usd_bn"],
        "forced_sales_usd_bn": v["forced_sales_usd_bn"],
        "margin_calls_usd_bn": v["margin_calls_usd_bn"],
        "peak_basis_widening_bp": v["peak_basis_widening_bp"],
        "min_swap_spread_30y_bp": v["min_swap_spread_30y_bp"],
        "peak_30y_yield_change_bp": v["peak_30y_yield_change_bp"],
        "fed_purchases_usd_bn": v["fed_purchases_usd_bn"],
        "rv_positions_usd_bn": v["rv_positions_usd_bn"],
        **_calm_metrics(calm, gross0),
        "dysfunction_probability_pct": 100.0 * (stress.dysfunction_days > 0).mean(axis=1, keepdims=True) * ones,
        "dysfunction_days": stress.dysfunction_days.astype(float),
        "broken_market_probability_pct": 100.0 * stress.broken.mean(axis=1, keepdims=True) * ones,
    }


@dataclass(frozen=True)
class Exceedance:
    """The share of paths on which a summary metric passes a threshold (a tail probability)."""

    metric: str
    above: bool  # True: P(metric > threshold); False: P(metric < threshold)
    threshold: float
    label: str
    source: str


# Thresholds a reader can place: a 100bp spike (the example; more than the +64bp of
# 9-18 March 2020) and the March 2020 depth low.
EXCEEDANCES: dict[str, Exceedance] = {
    "p_peak_10y_above_100bp_pct": Exceedance(
        "peak_10y_yield_change_bp", True, 100.0, "P(peak 10y rise > 100 bp)",
        "100bp: a round threshold above the +64bp of 9-18 Mar 2020 (FRED DGS10)",
    ),
    "p_depth_below_march_2020_low_pct": Exceedance(
        "trough_market_depth_usd_mn", False, 38.0, "P(depth trough < $38mn, the March 2020 low)",
        "JPMorgan top-3 depth nadir $38mn (seed article, V2; scenarios/history/targets.toml)",
    ),
}
# Probability-type outcomes (share of paths): their differences get a bootstrap interval, not a
# spread of path-by-path differences (a path's indicator difference is -1, 0 or +1).
PROBABILITY_METRICS: tuple[str, ...] = ("dysfunction_probability_pct", "broken_market_probability_pct")
