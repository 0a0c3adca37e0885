"""Summary metrics: one number per regime and path, each with its unit and definition.

Peaks and troughs are measured against day 0 over the whole stress window. Definitions (also in
`METRICS` and on the methodology page):

- peak_10y_yield_change_bp: max over days of (10y yield on day t - 10y yield on day 0), in bp; the
  fundamental path plus the dislocation.
- trough_market_depth_usd_mn: min over days of market depth = top-3 levels of the on-the-run 10y
  order book, both sides, in $mn (the JPMorgan dealer-research proxy),
  D0 (sigma0/sigma_t)^beta ((1-u_t)/(1-u_ref,t))^alpha, floored.
- peak_dealer_utilization_pct: max over days of dealer inventory / Treasury capacity, in %.
- forced_sales_usd_bn: RV funds' cumulative net cash sales in the window (volatility targeting,
  margin calls, leverage limits, liquidation of failed funds), in $bn.
- margin_calls_usd_bn: cumulative initial-margin increases plus mark-to-market losses, in $bn.
- peak_basis_widening_bp: max cash cheapening against futures, in bp of yield.
- min_swap_spread_30y_bp: most negative 30y swap spread (swap minus Treasury), in bp.
- fed_purchases_usd_bn: cumulative Fed purchases in the window, in $bn.
- rv_positions_usd_bn: RV books carried in the regime's calm equilibrium, in $bn.
- calm_yield_cost_bp, calm_interest_cost_usd_bn_per_year, calm_first_year_interest_cost_usd_bn:
  calm yield rise against status-quo rules and its interest cost (fully repriced, first year).
- broken_market_probability_pct: share of paths whose dealer utilization reaches its limit.
"""

from dataclasses import dataclass

import numpy as np

from engine.calm import CalmState
from engine.dynamics import StressOutput


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
        "(the JPMorgan dealer-research proxy), D0 (sigma0/sigma)^beta ((1-u)/(1-u0))^alpha.",
    ),
    "peak_dealer_utilization_pct": MetricSpec(
        "Peak dealer utilization", "%",
        "Highest dealer inventory as a share of Treasury balance-sheet capacity.",
    ),
    "forced_sales_usd_bn": MetricSpec(
        "RV forced sales", "$bn",
        "RV funds' cumulative net cash Treasury sales over the window (volatility targeting, margin "
        "calls, leverage limits, liquidation of failed funds); comparable to the $173bn net "
        "hedge-fund sales of March 2020.",
    ),
    "margin_calls_usd_bn": MetricSpec(
        "Margin calls", "$bn",
        "Cumulative new margin (initial-margin increases) plus mark-to-market losses RV funds paid.",
    ),
    "peak_basis_widening_bp": MetricSpec(
        "Peak basis widening", "bp",
        "Largest cheapening of cash against futures (yield bp), from dislocation and funding stress.",
    ),
    "min_swap_spread_30y_bp": MetricSpec(
        "Lowest 30y swap spread", "bp",
        "Most negative 30y swap spread (swap rate minus Treasury yield) in the window.",
    ),
    "fed_purchases_usd_bn": MetricSpec(
        "Fed purchases", "$bn",
        "Cumulative Fed Treasury purchases in the window (rule or historical schedule).",
    ),
    "rv_positions_usd_bn": MetricSpec(
        "RV positions before the shock", "$bn",
        "Basis, swap-spread and other RV books funds carry in the calm equilibrium of the regime.",
    ),
    "calm_yield_cost_bp": MetricSpec(
        "Calm-period yield cost", "bp",
        "Rise of calm yields versus status-quo rules: supply elasticity x (RV capacity lost - "
        "foreign demand shift) / marketable debt x 100.",
    ),
    "calm_interest_cost_usd_bn_per_year": MetricSpec(
        "Calm-period interest cost", "$bn/yr",
        "Calm yield cost x marketable debt, once all debt has repriced.",
    ),
    "calm_first_year_interest_cost_usd_bn": MetricSpec(
        "First-year interest cost", "$bn",
        "Interest cost on the debt that reprices within a year (bills and maturing coupons).",
    ),
    "broken_market_probability_pct": MetricSpec(
        "Broken-market probability", "%",
        "Share of paths on which dealer utilization reaches its limit and sales cannot clear "
        "within the dislocation cap; the same number at p5, p50 and p95.",
    ),
}


def compute_metrics(calm: CalmState, stress: StressOutput) -> dict[str, np.ndarray]:
    """Every summary metric as an (R, P) array."""
    s = stress.series
    broken_pct = 100.0 * stress.broken.mean(axis=1, keepdims=True) * np.ones(stress.broken.shape)
    return {
        "peak_10y_yield_change_bp": s["yield_10y_change_bp"].max(axis=-1),
        "trough_market_depth_usd_mn": s["market_depth_usd_mn"].min(axis=-1),
        "peak_dealer_utilization_pct": s["dealer_utilization_pct"].max(axis=-1),
        "forced_sales_usd_bn": s["forced_sales_usd_bn"].sum(axis=-1),
        "margin_calls_usd_bn": s["margin_calls_usd_bn"].sum(axis=-1),
        "peak_basis_widening_bp": s["basis_widening_bp"].max(axis=-1),
        "min_swap_spread_30y_bp": s["swap_spread_30y_bp"].min(axis=-1),
        "fed_purchases_usd_bn": s["fed_purchases_usd_bn"].sum(axis=-1),
        "rv_positions_usd_bn": s["rv_positions_usd_bn"][..., 0],
        "calm_yield_cost_bp": calm.yield_cost_bp,
        "calm_interest_cost_usd_bn_per_year": calm.interest_cost_usd_bn_per_year,
        "calm_first_year_interest_cost_usd_bn": calm.first_year_interest_cost_usd_bn,
        "broken_market_probability_pct": broken_pct,
    }
