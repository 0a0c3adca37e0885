"""The headline comparison (regimes as columns, metrics as rows) and the two-sentence story.

One builder for the app's table and the briefing pack's, so both show the same honest numbers:
each regime's median and 5th-95th percentile, and its difference to the baseline measured path by
path on common random numbers (`Result.difference`: the median of the path-by-path differences
with their 5th-95th percentile; for probabilities the difference of shares with a 90% paired-
bootstrap interval). The calm_* metrics are defined against status_quo in the engine; here they
are shown as the paired difference to the chosen baseline, and labelled so.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import pandas as pd

from briefing.numbers import fmt_number, fmt_probability, fmt_range, fmt_value, rounds_to_zero
from engine.metrics import EXCEEDANCES, METRICS, PROBABILITY_METRICS

if TYPE_CHECKING:
    from engine import Result

Better = Literal["lower", "higher", "neither"]


@dataclass(frozen=True)
class HeadlineMetric:
    name: str  # a METRICS or EXCEEDANCES name
    label: str
    better: Better  # which direction is an improvement (colours only; "neither" stays neutral)
    calm: bool = False  # a calm-period cost: shown as the difference to the baseline


HEADLINE: tuple[HeadlineMetric, ...] = (
    HeadlineMetric("peak_10y_yield_change_bp", "Peak 10y yield rise", "lower"),
    HeadlineMetric("p_peak_10y_above_100bp_pct", "P(peak 10y rise > 100 bp)", "lower"),
    HeadlineMetric("trough_market_depth_usd_mn", "Trough market depth", "higher"),
    HeadlineMetric("p_depth_below_march_2020_low_pct", "P(depth trough < $38mn)", "lower"),
    HeadlineMetric("dysfunction_probability_pct", "Dysfunction probability", "lower"),
    HeadlineMetric("broken_market_probability_pct", "Breakdown probability", "lower"),
    HeadlineMetric("forced_sales_usd_bn", "RV funds' forced sales", "lower"),
    HeadlineMetric("fed_purchases_usd_bn", "Fed purchases", "neither"),
    HeadlineMetric("calm_yield_cost_bp", "Calm yield cost", "lower", calm=True),
    HeadlineMetric("calm_first_year_interest_cost_usd_bn", "Interest cost, year 1", "lower", calm=True),
    HeadlineMetric("calm_interest_cost_usd_bn_per_year", "Interest cost, repriced", "lower", calm=True),
)


def is_probability(name: str) -> bool:
    return name in PROBABILITY_METRICS or name in EXCEEDANCES


def unit_of(name: str) -> str:
    return "%" if name in EXCEEDANCES else METRICS[name].unit


def definition_of(name: str) -> str:
    if name in EXCEEDANCES:
        spec = EXCEEDANCES[name]
        side = "above" if spec.above else "below"
        return (
            f"Share of paths on which {METRICS[spec.metric].label.lower()} is {side} "
            f"{fmt_value(spec.threshold, METRICS[spec.metric].unit)}. Threshold: {spec.source}."
        )
    return METRICS[name].definition


@dataclass(frozen=True)
class Cell:
    """One regime's entry in a row: its level, and (not for the baseline) the difference."""

    value: str  # the median (or the share of paths); for calm rows of the baseline: "baseline"
    band: str  # "p5 to p95" of the level; empty for probabilities
    difference: str  # the paired difference with its band, e.g. "-3.8 bp (-22 to +2.3)"; empty for the baseline
    tone: Literal["better", "worse", "neutral", "none"]
    diff_p50: float | None = None


@dataclass(frozen=True)
class Row:
    metric: HeadlineMetric
    unit: str
    definition: str
    cells: dict[str, Cell]


def _tone(delta: float, better: Better) -> Literal["better", "worse", "neutral"]:
    if rounds_to_zero(delta) or better == "neither":
        return "neutral"
    improves = delta < 0 if better == "lower" else delta > 0
    return "better" if improves else "worse"


def _level(result: Result, name: str, index: int, summary) -> tuple[str, str]:
    if is_probability(name):
        return fmt_probability(float(result.probability(name)[index])), ""
    stats = summary[result.regime_names[index]][name]
    unit = METRICS[name].unit
    band = "" if stats["p5"] == stats["p95"] else span_text(stats)
    return fmt_value(stats["p50"], unit), band


def span_text(stats: dict[str, float], *, signed: bool = False) -> str:
    """'37.7 to 69.8': a 5th-95th percentile range without its unit (the row names the unit)."""
    return f"{fmt_number(stats['p5'], signed=signed)} to {fmt_number(stats['p95'], signed=signed)}"


def difference_text(diff: dict[str, float], unit: str) -> str:
    """'-3.8 (-21.6 to +2.3)': the paired median (or share) difference and its band, in the row's
    unit (percentage points for shares)."""
    if all(rounds_to_zero(v) for v in diff.values()):
        return "no change"
    return f"{fmt_number(diff['p50'], signed=True)} ({span_text(diff, signed=True)})"


def headline_rows(result: Result, baseline: str | None = None) -> list[Row]:
    """The comparison table: one Row per HEADLINE metric, one Cell per regime."""
    base = baseline or result.regime_names[0]
    summary = result.summary()
    rows = []
    for metric in HEADLINE:
        unit = unit_of(metric.name)
        cells: dict[str, Cell] = {}
        for i, name in enumerate(result.regime_names):
            value, band = _level(result, metric.name, i, summary)
            if name == base:
                if metric.calm:
                    own = summary[name][metric.name]
                    note = "" if rounds_to_zero(own["p50"]) else f"vs status quo {fmt_value(own['p50'], unit, signed=True)}"
                    cells[name] = Cell("baseline", note, "", "none")
                else:
                    cells[name] = Cell(value, band, "", "none")
                continue
            diff = result.difference(metric.name, name, base)
            text = difference_text(diff, unit)
            tone = "neutral" if text == "no change" else _tone(diff["p50"], metric.better)
            if metric.calm:
                # The level of a calm cost is against status_quo; the difference is what matters here.
                if text == "no change":
                    cells[name] = Cell("no change", "", "", "neutral", diff["p50"])
                else:
                    cells[name] = Cell(fmt_value(diff["p50"], unit, signed=True), span_text(diff, signed=True),
                                       "", tone, diff["p50"])
            else:
                cells[name] = Cell(value, band, text, tone, diff["p50"])
        rows.append(Row(metric, unit, definition_of(metric.name), cells))
    return rows


def story(result: Result, baseline: str | None = None) -> tuple[str, str]:
    """Two plain sentences: what the view shows, and what drives the result."""
    base = baseline or result.regime_names[0]
    s = result.summary()[base]
    sc = result.scenario
    peak = fmt_value(s["peak_10y_yield_change_bp"]["p50"], "bp")
    depth = fmt_value(s["trough_market_depth_usd_mn"]["p50"], "$mn")
    scale = "" if result.shock_scale == 1 else f" at {result.shock_scale:g}x its size"
    first = f"{sc.title}{scale}, under {base}: the 10y yield peaks {peak} up"
    observed = _observed_peak(result)
    if observed is not None:
        first += f" ({fmt_value(observed, 'bp')} in history)"
    first += f" and depth falls to {depth}."
    others = [n for n in result.regime_names if n != base]
    if not others:
        second = (
            "Add a regime to see what a rule changes, path by path on the same random draws; the band is the "
            "5th-95th percentile across paths."
        )
        return first, second
    # The regime that moves the peak most, and its cost.
    diffs = {n: result.difference("peak_10y_yield_change_bp", n, base) for n in others}
    best = min(others, key=lambda n: diffs[n]["p50"])
    d = diffs[best]
    fs = result.difference("forced_sales_usd_bn", best, base)
    cost = result.difference("calm_yield_cost_bp", best, base)
    interest = result.difference("calm_interest_cost_usd_bn_per_year", best, base)
    change = "leaves the peak about unchanged" if rounds_to_zero(round(d["p50"], 1)) else (
        f"{'lowers' if d['p50'] < 0 else 'raises'} the peak by {fmt_value(abs(d['p50']), 'bp')}"
    )
    second = (
        f"{best} {change} (paired median, {fmt_range(d, 'bp', signed=True)} across paths) and moves forced sales "
        f"{fmt_value(fs['p50'], '$bn', signed=True)}, for {fmt_value(cost['p50'], 'bp', signed=True)} of calm yield "
        f"({fmt_value(interest['p50'], '$bn/yr', signed=True)} repriced)"
    )
    fed_on = all(r.fed_backstop.enabled for r in result.regimes)
    if fed_on:
        second += ": the Fed backstop, on in every regime, caps the spike, so rules act mostly via forced sales and depth."
    else:
        second += ": where the Fed backstop is off, the spike shows how much of the calm is the Fed's."
    return first, second


def _observed_peak(result: Result) -> float | None:
    """The observed peak 10y rise over the run's window, for historical scenarios."""
    if result.scenario.kind != "historical":
        return None
    try:
        return _observed_peak_of(result.scenario, tuple(result.dates))
    except TypeError:  # an unhashable (unvalidated) scenario: no cache
        return _observed_peak_of.__wrapped__(result.scenario, tuple(result.dates))


@lru_cache(maxsize=32)  # 32 floats, keyed by scenario and calendar: bounded in bytes by its entry count
def _observed_peak_of(scenario, dates: tuple) -> float | None:
    """Cached per scenario and window: the history file is read once, not on every lever move."""
    from engine.scenario import history_frame

    frame = history_frame(scenario)
    if frame is None or "dgs10_pct" not in frame:
        return None
    series = frame["dgs10_pct"].reindex(pd.DatetimeIndex(dates)).ffill()
    path = (series - series.iloc[0]) * 100.0
    return float(path.max()) if len(path) else None
