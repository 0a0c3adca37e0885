"""Altair chart builders shared by the app and the briefing exports.

Every chart is built from `chart_frame(result, chart, ...)`, so the CSV a user downloads is exactly
the data drawn. Styling (font sizes, title, source line) is set on the marks, axes and title of each
chart rather than with `configure_*`, so the charts stay composable (layer/concat) in the app.

Comparison charts (`stress_chart`, `small_multiples`, `difference_fan`) give each regime its own
panel, so bands never mix. All their numbers sit in ONE named dataset (the chart's `chart_frame`);
everything else (events, observed history, titles) depends only on the template (`template_key`),
so the app swaps that one dataset on a slider move (`with_main_data`).

Annotations cannot collide by construction: events are numbered markers in a strip above the plot
(placed on rows with a minimum pixel gap, `event_markers`) with the numbered list in the subtitle;
trade-off labels sit in a column beside the plot, pushed apart in y (`_tradeoff_points`).

Text uses only glyphs Liberation Sans (vl-convert's bundled font) has: plain ASCII plus en dash.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from functools import cache, lru_cache
from types import SimpleNamespace
from typing import TYPE_CHECKING

import altair as alt
import numpy as np
import pandas as pd

from engine.backtest import _load_targets, observed_change_bp
from engine.dynamics import SECTORS, SERIES
from engine.metrics import METRICS
from engine.scenario import Scenario

if TYPE_CHECKING:
    from engine import Result

# Okabe-Ito, ordered so the first regimes get the most distinct colours (yellow last: weak on white).
# The first four stay apart under simulated deuteranopia and protanopia (tests/test_charts_compare.py);
# black is kept for observed history, so it comes after them.
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
# Second cue where regimes share a panel: regime i's median dash (fan chart) or marker (functioning).
DASHES: tuple[list[int], ...] = ([1, 0], [8, 3], [2, 2], [10, 3, 2, 3], [4, 4], [12, 2], [1, 3], [6, 2, 2, 2])
SHAPES = ("circle", "square", "triangle-up", "diamond", "cross", "triangle-down", "triangle-left", "triangle-right")

WIDTH = 720
HEIGHT = 360
TITLE_SIZE = 18
SUBTITLE_SIZE = 13
LABEL_SIZE = 13
AXIS_TITLE_SIZE = 13
SMALL_SIZE = 11
GREY = "#555555"
REF_COLOR = "#555555"  # baseline median reference line (thin, dashed)
OBSERVED_COLOR = "#000000"  # observed history (solid, with dots)
EVENT_COLOR = "#444444"

# Panel sizes (px of plot area) of the comparison charts: 4 regimes x 3 series of small multiples
# fit about 1,080 x 700 px with the observed labels (980 x 660 without); a stress chart of 4 regimes
# about 1,130 x 430 px.
PANEL_WIDTH = 220
PANEL_HEIGHT = 120
STRESS_WIDTH = 230
STRESS_HEIGHT = 220

# Event markers: numbered discs of this radius in a strip above the plot, at least MARKER_GAP px apart.
MARKER_RADIUS = 8
MARKER_GAP = 3
MARKER_TOP = 4  # px between the plot's top edge and the first marker row

CHARTS = ("fan", "tradeoff", "holdings", "functioning", "backtest", "events", "stress", "small_multiples", "difference")
COMPARE_CHARTS = ("stress", "small_multiples", "difference")
DEFAULT_SERIES = (
    "yield_10y_change_bp",
    "market_depth_usd_mn",
    "dealer_utilization_pct",
    "basis_widening_bp",
    "swap_spread_30y_bp",
    "forced_sales_usd_bn",
)
OBSERVED_PATH_SERIES = "yield_10y_change_bp"  # observed DGS10 change drawn as a path
OBSERVED_TROUGH_SERIES = "market_depth_usd_mn"  # observed depth trough drawn as a rule
FUNCTIONING_MEASURES = {
    "dysfunction_share_pct": "Dysfunctional (as on 10-18 March 2020)",
    "breakdown_share_pct": "Breakdown (beyond anything observed)",
}

SECTOR_LABELS = {
    "rv_funds": "RV funds",
    "dealers": "Dealers",
    "foreign_official": "Foreign official",
    "foreign_private": "Foreign private",
    "mutual_funds": "Mutual funds",
    "value_buyers": "Value buyers",
    "fed": "Fed",
    "treasury": "Treasury (net issuance)",
}


# ----------------------------------------------------------------------------------------- helpers
def regime_colors(names: list[str]) -> dict[str, str]:
    """Colour-blind-safe colour per regime, by position in `names` (cycles after 8)."""
    return {name: OKABE_ITO[i % len(OKABE_ITO)] for i, name in enumerate(names)}


def _colors(result: Result, regimes: Sequence[str]) -> dict[str, str]:
    """Colours by position in the whole comparison, so a regime keeps its colour in any subset."""
    every = regime_colors(result.regime_names)
    return {r: every[r] for r in regimes}


def _color_scale(result: Result, names: list[str]) -> alt.Scale:
    colors = _colors(result, names)
    return alt.Scale(domain=list(names), range=[colors[n] for n in names])


def _dash_scale(result: Result, names: list[str]) -> alt.Scale:
    position = {r: i for i, r in enumerate(result.regime_names)}
    return alt.Scale(domain=list(names), range=[DASHES[position[n] % len(DASHES)] for n in names])


def source_line(result: Result) -> str:
    """The attribution line every chart and export carries."""
    return (
        f"Source: Treasury Market Policy Explorer model v{result.model_version}, scenario "
        f"{result.scenario.name}, {result.paths} paths, seed {result.seed}; "
        "calibration sources in the methodology"
    )


def _title(text: str, subtitle: list[str]) -> alt.TitleParams:
    return alt.TitleParams(
        text=text,
        subtitle=subtitle,
        fontSize=TITLE_SIZE,
        subtitleFontSize=SUBTITLE_SIZE,
        subtitleColor=GREY,
        anchor="start",
        offset=12,
    )


def _axis(title: str | list[str] | None, **kw) -> alt.Axis:
    sizes = {"labelFontSize": LABEL_SIZE, "titleFontSize": AXIS_TITLE_SIZE} | kw
    return alt.Axis(title=title, **sizes)


def _legend(title: str | None, **kw) -> alt.Legend:
    return alt.Legend(
        title=title, labelFontSize=LABEL_SIZE, titleFontSize=LABEL_SIZE, orient="top", labelLimit=320, **kw
    )


def _top_legend_offset(result: Result, width: float = WIDTH) -> float:
    """Gap (px) between a top legend and the plot that clears the event-marker strip."""
    return 6 + _marker_strip(result, width)


_UNIT_WORDS = {"$bn": "usd_bn", "$mn": "usd_mn", "%": "pct", "bp": "bp", "x": "x", "$bn/yr": "usd_bn_per_year"}


def series_unit(series: str) -> str:
    """Unit suffix for column names, from the series label: '($bn/day)' -> 'usd_bn_per_day'."""
    label = SERIES[series]
    match = re.search(r"\(([^()]*)\)\s*$", label)
    unit = match.group(1).split(",")[-1].strip() if match else ""
    per = ""
    if "/" in unit and unit not in _UNIT_WORDS:
        unit, _, per_what = unit.partition("/")
        per = "_per_" + per_what.strip()
    word = _UNIT_WORDS.get(unit.strip(), re.sub(r"\W+", "_", unit.strip()).strip("_") or "value")
    return word + per


def _unit_text(series: str) -> str:
    """The unit as printed: '(gross notional / net assets, x)' -> 'x', '(bp of yield)' -> 'bp of yield'."""
    match = re.search(r"\(([^()]*)\)\s*$", SERIES[series])
    return match.group(1).split(",")[-1].strip() if match else ""


def _series_title(series: str) -> str:
    """'10y yield change from day 0 (bp)' -> '10y yield change from day 0'."""
    return re.sub(r"\s*\([^()]*\)\s*$", "", SERIES[series])


def _check_series(series: str) -> None:
    if series not in SERIES:
        raise ValueError(f"series: {series!r}; allowed: {', '.join(SERIES)}")


def _series_list(result: Result, series: str | Sequence[str] | None) -> list[str]:
    """Series names to draw; the default is DEFAULT_SERIES as far as the result has them."""
    if series is None:
        return [s for s in DEFAULT_SERIES if s in result.series]
    names = [series] if isinstance(series, str) else list(series)
    if not names:
        raise ValueError("series: at least one series is needed")
    for name in names:
        _check_series(name)
        if name not in result.series:
            raise ValueError(f"series: {name!r} is not in this result")
    return names


def _dates(result: Result) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in result.dates]


def _regime_list(result: Result, regimes: Sequence[str] | None) -> list[str]:
    if not regimes:
        return list(result.regime_names)
    unknown = [r for r in regimes if r not in result.regime_names]
    if unknown:
        raise ValueError(f"regime: {unknown[0]!r} not in this result; allowed: {', '.join(result.regime_names)}")
    return list(regimes)


def _baseline(result: Result, baseline: str | None, regimes: list[str]) -> str:
    """The reference regime: given, else the first compared regime (which has the first colour)."""
    if baseline is None:
        return regimes[0]
    _regime_list(result, [baseline])
    return baseline


def _wrap(items: list[str], chars: int, sep: str = "; ") -> list[str]:
    """Greedy line wrap of `items` joined by `sep` into lines of at most about `chars` characters."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + len(sep) + len(item) <= chars:
            lines[-1] += sep + item
        else:
            lines.append(item)
    return lines


def _chars(width_px: float) -> int:
    """Subtitle characters that fit in `width_px` (Liberation Sans averages ~0.5 em per character)."""
    return max(40, int(width_px / (0.52 * SUBTITLE_SIZE)))


# ---------------------------------------------------------------------------------------- frames
def _quantiles(values: np.ndarray) -> np.ndarray:
    """(3, R, T+1) p5/p50/p95 over paths (axis 1) of a (R, P, T+1) array."""
    return np.percentile(values, (5.0, 50.0, 95.0), axis=1)


def _compare_frame(result: Result, series: list[str], regimes: list[str], baseline: str) -> pd.DataFrame:
    """regime, series, day, date, unit, p5, p50, p95, baseline_p50 (long over series)."""
    idx = [*(result.regime_index(r) for r in regimes), result.regime_index(baseline)]
    n, k = result.days + 1, len(regimes)
    # (S, 3, R+1, T+1): one percentile call per series, then one frame (no per-series concat).
    q = np.stack([_quantiles(result.series[name][idx]) for name in series])
    per_series = k * n
    return pd.DataFrame(
        {
            "regime": np.tile(np.repeat(regimes, n), len(series)),
            "series": np.repeat(series, per_series),
            "day": np.tile(np.arange(n), k * len(series)),
            "date": _dates(result) * (k * len(series)),
            "unit": np.repeat([_unit_text(name) for name in series], per_series),
            "p5": q[:, 0, :-1].ravel(),
            "p50": q[:, 1, :-1].ravel(),
            "p95": q[:, 2, :-1].ravel(),
            "baseline_p50": np.repeat(q[:, 1, -1:], k, axis=1).ravel(),
        }
    )


def paired_difference_bands(result: Result, series: str, regime: str, baseline: str) -> np.ndarray:
    """(3, T+1) p5/p50/p95 over paths of regime minus baseline on the same path (common random numbers)."""
    values = result.series[series]
    diff = values[result.regime_index(regime)] - values[result.regime_index(baseline)]
    return np.percentile(diff, (5.0, 50.0, 95.0), axis=0)


def _difference_frame(result: Result, series: list[str], regimes: list[str], baseline: str) -> pd.DataFrame:
    """regime, baseline, series, day, date, unit, diff_p5, diff_p50, diff_p95."""
    idx = np.array([result.regime_index(r) for r in regimes])
    b = result.regime_index(baseline)
    dates = _dates(result)
    n = result.days + 1
    parts = []
    for name in series:
        values = result.series[name]
        # Paired: path p of each regime minus path p of the baseline, then quantiles over paths.
        q = np.percentile(values[idx] - values[b][None], (5.0, 50.0, 95.0), axis=1)
        parts.append(
            pd.DataFrame(
                {
                    "regime": np.repeat(regimes, n),
                    "baseline": baseline,
                    "series": name,
                    "day": np.tile(np.arange(n), len(regimes)),
                    "date": dates * len(regimes),
                    "unit": _unit_text(name),
                    "diff_p5": q[0].ravel(),
                    "diff_p50": q[1].ravel(),
                    "diff_p95": q[2].ravel(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def chart_frame(result: Result | None, chart: str, **kw) -> pd.DataFrame:
    """Tidy data behind a chart, units in the column names (CSV export).

    fan: kw series, regimes -> regime, day, date, series, p5_<unit>, p50_<unit>, p95_<unit>
    tradeoff: -> regime, metric, unit, p5, p50, p95 for the cost/resilience metrics
    holdings: kw regime -> regime, day, date, sector, cumulative_net_purchases_usd_bn
    functioning: kw regimes -> regime, day, date, measure, share_of_paths_pct (dysfunctional / broken down)
    backtest: kw paths_frame -> the frame itself (episode, day, date, observed/model in bp)
    events: -> number, day, date, label (the scenario's events, numbered by date)
    stress: kw series (default the 10y), regimes, baseline -> regime, day, date, series,
        p5_<unit>, p50_<unit>, p95_<unit>, baseline_p50_<unit>
    small_multiples: kw series (list; default DEFAULT_SERIES), regimes, baseline -> regime, series,
        day, date, unit, p5, p50, p95, baseline_p50
    difference: kw series (one or a list), baseline, regimes (default: all but the baseline) ->
        regime, baseline, series, day, date, unit, diff_p5, diff_p50, diff_p95 (paired differences)
    Width, height and observed keywords of the chart builders are accepted and ignored.
    """
    if chart == "backtest":
        frame = kw["paths_frame"].copy()
        frame["date"] = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d")
        return frame.rename(
            columns={"model_p5": "model_p5_bp", "model_p50": "model_p50_bp", "model_p95": "model_p95_bp"}
        )
    if result is None:
        raise ValueError(f"chart {chart!r} needs a result")
    if chart == "fan":
        series = kw["series"]
        _check_series(series)
        regimes = _regime_list(result, kw.get("regimes"))
        unit = series_unit(series)
        frame = result.series_frame([series])
        frame = frame[frame["regime"].isin(regimes)].copy()
        frame["date"] = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d")
        frame = frame.rename(columns={"p5": f"p5_{unit}", "p50": f"p50_{unit}", "p95": f"p95_{unit}"})
        return frame[["regime", "day", "date", "series", f"p5_{unit}", f"p50_{unit}", f"p95_{unit}"]].reset_index(
            drop=True
        )
    if chart == "tradeoff":
        summary = result.summary()
        rows = []
        for regime in _regime_list(result, kw.get("regimes")):
            for metric in TRADEOFF_METRICS:
                stats = summary[regime][metric]
                rows.append(
                    {
                        "regime": regime,
                        "metric": metric,
                        "unit": METRICS[metric].unit,
                        "p5": stats["p5"],
                        "p50": stats["p50"],
                        "p95": stats["p95"],
                    }
                )
        return pd.DataFrame(rows, columns=["regime", "metric", "unit", "p5", "p50", "p95"])
    if chart == "holdings":
        regime = kw["regime"]
        _regime_list(result, [regime])
        frame = result.holdings_frame()
        frame = frame[frame["regime"] == regime].copy()
        frame["date"] = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d")
        return frame[["regime", "day", "date", "sector", "cumulative_net_purchases_usd_bn"]].reset_index(drop=True)
    if chart == "functioning":
        regimes = _regime_list(result, kw.get("regimes"))
        frame = result.functioning_frame()
        frame = frame[frame["regime"].isin(regimes)]
        long = frame.melt(
            id_vars=["regime", "day", "date"],
            value_vars=list(FUNCTIONING_MEASURES),
            var_name="measure",
            value_name="share_of_paths_pct",
        )
        long["measure"] = long["measure"].map(FUNCTIONING_MEASURES)
        long["date"] = pd.to_datetime(long["date"]).dt.strftime("%Y-%m-%d")
        return long[["regime", "day", "date", "measure", "share_of_paths_pct"]].reset_index(drop=True)
    if chart == "events":
        dates = _dates(result)
        events = sorted((e for e in result.scenario.events if 0 <= e.day < len(dates)), key=lambda e: e.day)
        rows = [{"number": i, "day": e.day, "date": dates[e.day], "label": e.label} for i, e in enumerate(events, 1)]
        return pd.DataFrame(rows, columns=["number", "day", "date", "label"])
    if chart == "stress":
        series = kw.get("series") or OBSERVED_PATH_SERIES
        _series_list(result, series)
        regimes = _regime_list(result, kw.get("regimes"))
        frame = _compare_frame(result, [series], regimes, _baseline(result, kw.get("baseline"), regimes))
        unit = series_unit(series)
        columns = {c: f"{c}_{unit}" for c in ("p5", "p50", "p95", "baseline_p50")}
        return frame.drop(columns="unit").rename(columns=columns)
    if chart == "small_multiples":
        regimes = _regime_list(result, kw.get("regimes"))
        series = _series_list(result, kw.get("series"))
        return _compare_frame(result, series, regimes, _baseline(result, kw.get("baseline"), regimes))
    if chart == "difference":
        series = _series_list(result, kw.get("series") or OBSERVED_PATH_SERIES)
        baseline = kw.get("baseline") or result.regime_names[0]
        _regime_list(result, [baseline])
        regimes = _difference_regimes(result, kw.get("regimes"), baseline)
        return _difference_frame(result, series, regimes, baseline)
    raise ValueError(f"chart: {chart!r}; allowed: {', '.join(CHARTS)}")


def _difference_regimes(result: Result, regimes: Sequence[str] | None, baseline: str) -> list[str]:
    """Regimes compared with the baseline: the given ones (the baseline too if listed), else all others."""
    if regimes:
        return _regime_list(result, regimes)
    return [r for r in result.regime_names if r != baseline]


TRADEOFF_METRICS = (
    "calm_yield_cost_bp",
    "calm_interest_cost_usd_bn_per_year",
    "peak_10y_yield_change_bp",
    "dysfunction_probability_pct",
    "broken_market_probability_pct",
)


# ------------------------------------------------------------------------------ observed history
def observed_path(result: Result, series: str = OBSERVED_PATH_SERIES) -> pd.DataFrame | None:
    """The observed 10y change from day 0 (FRED DGS10, bp) on the result's dates, for historical
    scenarios (None otherwise): day, date, observed_bp. The same computation as the backtest
    (`engine.backtest.observed_change_bp`)."""
    if series != OBSERVED_PATH_SERIES or result.scenario.kind != "historical" or not result.scenario.history:
        return None
    values = np.array(_observed_10y(result.scenario, tuple(result.dates)))
    frame = pd.DataFrame({"day": np.arange(len(values)), "date": _dates(result), "observed_bp": values})
    return frame[np.isfinite(frame["observed_bp"])].reset_index(drop=True)


@lru_cache(maxsize=32)  # 32 x at most MAX_DAYS + 1 floats (under 2 MB with the keys' calendars)
def _observed_10y(scenario: Scenario, dates: tuple[pd.Timestamp, ...]) -> tuple[float, ...]:
    """Cached: the history file is read once per scenario and calendar, not once per layer."""
    run = SimpleNamespace(scenario=scenario, dates=pd.DatetimeIndex(dates))  # what observed_change_bp reads
    return tuple(float(v) for v in observed_change_bp(run, "dgs10_pct"))  # type: ignore[arg-type]


@cache
def _history_targets() -> dict[tuple[str, str], dict]:
    return {(t["episode"], t["metric"]): t for t in _load_targets()}


def observed_trough(result: Result, series: str = OBSERVED_TROUGH_SERIES) -> pd.DataFrame | None:
    """The observed market-depth trough of a historical scenario from scenarios/history/targets.toml
    (metric trough_market_depth_usd_mn, its `history` value), or None: one row observed_usd_mn, label, source."""
    if series != OBSERVED_TROUGH_SERIES or result.scenario.kind != "historical":
        return None
    target = _history_targets().get((result.scenario.name, "trough_market_depth_usd_mn"))
    if target is None or "history" not in target:
        return None
    value = float(target["history"])
    return pd.DataFrame(
        {
            "observed_usd_mn": [value],
            "label": [f"Observed trough ${value:,.0f}mn"],
            "text": [f"Observed trough\n${value:,.0f}mn"],  # two lines for the direct label
            "source": [target["source"]],
        }
    )


def _has_observed(result: Result, series: str) -> bool:
    return observed_path(result, series) is not None or observed_trough(result, series) is not None


# Layers that carry no main data (events, observed history, direct labels) and the comparison
# panels are written as plain Vega-Lite dicts: Altair deep-copies a composed chart at every
# nesting level, which took seconds for a 24-panel grid; dicts keep the spec build in milliseconds.
class _Unit(alt.UnitSpec):
    """A layer given as a Vega-Lite dict (checked when the whole chart is validated)."""

    _class_is_valid_at_instantiation = False


class _Encoding(alt.FacetedEncoding):
    """Channels given as Vega-Lite dicts (Altair's layer checks look into the encoding)."""

    _class_is_valid_at_instantiation = False


def _unit(spec: dict) -> _Unit:
    return _Unit(**{**spec, "encoding": _Encoding(**spec["encoding"])})


class _Layer(alt.LayerSpec):
    """A layer stack given as Vega-Lite dicts."""

    _class_is_valid_at_instantiation = False


class _Facet(alt.FacetSpec):
    """A faceted row given as Vega-Lite dicts."""

    _class_is_valid_at_instantiation = False


def _records(frame: pd.DataFrame) -> dict:
    """Inline template data (part of the spec, not of the swapped main dataset)."""
    return {"values": frame.to_dict("records")}


def _x_enc(result: Result, title: str | None = "Date (business days)", labels: bool = True, ticks: int = 8) -> dict:
    """The date axis runs exactly from the first to the last date (no nice rounding), so marker
    positions computed in pixels (`event_markers`) match where Vega-Lite draws the dates."""
    first, last = result.dates[0], result.dates[-1]
    scale = {
        "domain": [
            {"year": first.year, "month": first.month, "date": first.day, "utc": True},
            {"year": last.year, "month": last.month, "date": last.day, "utc": True},
        ],
        "nice": False,
    }
    if labels:
        axis = {
            "title": title,
            "format": "%d %b",
            "labelAngle": 0,
            "tickCount": ticks,
            "labelFontSize": LABEL_SIZE,
            "titleFontSize": AXIS_TITLE_SIZE,
        }
    else:
        axis = {"title": None, "labels": False, "ticks": False, "domain": False, "tickCount": ticks}
    return {"field": "date", "type": "temporal", "timeUnit": "utcyearmonthdate", "scale": scale, "axis": axis}


def _date_x(result: Result, title: str | None = "Date (business days)", labels: bool = True, ticks: int = 8) -> alt.X:
    return alt.X(**_x_enc(result, title, labels, ticks))


def _observed_units(result: Result, series: str, x: dict) -> list[dict]:
    """Observed path (black line with dots) or trough (black dashed rule), as inline template data."""
    units: list[dict] = []
    path = observed_path(result, series)
    if path is not None:
        units.append(
            {
                "data": _records(path[["date", "observed_bp"]]),
                "mark": {
                    "type": "line",
                    "color": OBSERVED_COLOR,
                    "strokeWidth": 1.6,
                    "point": {"size": 12, "color": OBSERVED_COLOR},
                },
                "encoding": {
                    "x": x,
                    "y": {"field": "observed_bp", "type": "quantitative"},
                    "tooltip": [
                        {"field": "date", "type": "nominal"},
                        {"field": "observed_bp", "type": "quantitative", "format": ".1f", "title": "observed (bp)"},
                    ],
                },
            }
        )
    trough = observed_trough(result, series)
    if trough is not None:
        units.append(
            {
                "data": _records(trough[["observed_usd_mn", "label", "source"]]),
                "mark": {"type": "rule", "color": OBSERVED_COLOR, "strokeWidth": 1.5, "strokeDash": [6, 3]},
                "encoding": {
                    "y": {"field": "observed_usd_mn", "type": "quantitative"},
                    "tooltip": [{"field": "label", "type": "nominal"}, {"field": "source", "type": "nominal"}],
                },
            }
        )
    return units


def _observed_label_units(result: Result, series: str, width: float, only: dict | None = None) -> list[dict]:
    """Direct label of the observed overlay just right of the plot, where no line runs.

    With `only` (a filter picking one row of the main data: the last panel's last day) the label
    is drawn once in a faceted row; its text and height are template constants either way.
    """
    path = observed_path(result, series)
    trough = observed_trough(result, series)
    if path is not None and not path.empty:
        text: str | list[str] = "Observed"
        y = float(path["observed_bp"].iloc[-1])
    elif trough is not None:
        y = float(trough["observed_usd_mn"].iloc[0])
        text = ["Observed trough", f"${y:,.0f}mn"]
    else:
        return []
    mark = {
        "type": "text",
        "align": "left",
        "baseline": "middle",
        "dx": 6,
        "fontSize": SMALL_SIZE + 1,
        "fontWeight": "bold",
        "color": OBSERVED_COLOR,
    }
    unit: dict = {
        "mark": mark,
        "encoding": {"x": {"value": width}, "y": {"datum": y, "type": "quantitative"}, "text": {"value": text}},
    }
    if only is None:
        unit["data"] = {"values": [{}]}
    else:
        unit["transform"] = [{"filter": only}]
    return [unit]


def _observed_note(result: Result, series: list[str]) -> str:
    notes = []
    if any(observed_path(result, s) is not None for s in series):
        notes.append("black line with dots: observed 10y change (FRED DGS10)")
    trough = next((observed_trough(result, s) for s in series if observed_trough(result, s) is not None), None)
    if trough is not None:
        notes.append(f"black dashed: {trough['label'].iloc[0].lower()} (JPMorgan)")
    return "; ".join(notes)


# ------------------------------------------------------------------------------ event markers
_X_DATE = "utcyearmonthdate(date):T"


def event_markers(result: Result, width: float) -> pd.DataFrame:
    """Placement of the numbered event markers above a plot `width` px wide.

    Columns: number, day, date, label, x_px (marker centre), row, y_px (centre; negative = above the
    plot's top edge) and the marker box x0_px, x1_px, y0_px, y1_px. Markers go left to right on the
    lowest row where they keep MARKER_GAP px from the previous marker of that row, so no two boxes
    overlap and all sit above the plot area, whatever the dates.
    """
    events = chart_frame(result, "events")
    first = result.dates[0]
    span = max((result.dates[-1] - first).total_seconds(), 1.0)
    step = 2 * MARKER_RADIUS + MARKER_GAP
    last_x: list[float] = []  # right-most marker centre on each row
    xs, rows = [], []
    for day in events["day"]:
        x = width * (result.dates[day] - first).total_seconds() / span
        row = next((k for k, prev in enumerate(last_x) if x - prev >= step), len(last_x))
        if row == len(last_x):
            last_x.append(x)
        last_x[row] = x
        xs.append(x)
        rows.append(row)
    events["x_px"] = np.array(xs, dtype=float)
    events["row"] = np.array(rows, dtype=int)
    events["y_px"] = -(MARKER_TOP + MARKER_RADIUS) - events["row"] * step
    events["x0_px"] = events["x_px"] - MARKER_RADIUS
    events["x1_px"] = events["x_px"] + MARKER_RADIUS
    events["y0_px"] = events["y_px"] - MARKER_RADIUS
    events["y1_px"] = events["y_px"] + MARKER_RADIUS
    return events


def _event_notes(result: Result, width_px: float) -> list[str]:
    """The numbered event list for the subtitle, wrapped to the chart width."""
    events = chart_frame(result, "events")
    if events.empty:
        return []
    items = [f"{e.number} = {pd.Timestamp(e.date):%d %b}: {e.label}" for e in events.itertuples()]
    items[0] = "Events (numbered markers): " + items[0]
    return _wrap(items, _chars(width_px))


def _event_units(result: Result, x: dict, width: float, height: float, markers: bool = True) -> list[dict]:
    """A thin dashed rule at each event date; with `markers`, numbered discs above the plot."""
    placed = event_markers(result, width)
    if placed.empty:
        return []
    data = _records(placed[["number", "date", "label", "y_px"]])
    tooltip = [{"field": f, "type": "nominal"} for f in ("number", "date", "label")]
    rule = {"type": "rule", "color": "#888888", "strokeDash": [3, 3], "strokeWidth": 1}
    if not markers:
        return [{"data": data, "mark": rule, "encoding": {"x": x, "tooltip": tooltip}}]
    y = {"field": "y_px", "type": "quantitative", "scale": None, "axis": None}
    disc = {"type": "circle", "size": math.pi * MARKER_RADIUS**2, "color": EVENT_COLOR, "opacity": 1}
    number = {"type": "text", "color": "white", "fontSize": SMALL_SIZE, "fontWeight": "bold", "baseline": "middle"}
    return [
        {"data": data, "mark": rule, "encoding": {"x": x, "y": y, "y2": {"value": height}, "tooltip": tooltip}},
        {"data": data, "mark": disc, "encoding": {"x": x, "y": y, "tooltip": tooltip}},
        {"data": data, "mark": number, "encoding": {"x": x, "y": y, "text": {"field": "number", "type": "nominal"}}},
    ]


def _event_layers(result: Result, x: alt.X, width: float, height: float, markers: bool = True) -> list[_Unit]:
    """The event layers for an Altair layer chart."""
    return [_unit(u) for u in _event_units(result, x.to_dict(validate=False), width, height, markers)]


def _observed_layers(result: Result, series: str, x: alt.X, width: float) -> list[_Unit]:
    """Observed overlay and its direct label for an Altair layer chart."""
    units = _observed_units(result, series, x.to_dict(validate=False))
    if units:
        units += _observed_label_units(result, series, width)
    return [_unit(u) for u in units]


# ---------------------------------------------------------------------------------- fan chart
def fan_chart(result: Result, series: str, regimes: list[str] | None = None, observed: bool = True) -> alt.LayerChart:
    """Median line and p5-p95 band per regime over the stress window, with the scenario's events.

    Regimes share the panel here, so each median also has its own dash (colour + dash); for a
    readable comparison of several regimes use `stress_chart` or `small_multiples`. For historical
    scenarios the observed 10y path (or the observed depth trough) is drawn in black.
    """
    _check_series(series)
    regimes = _regime_list(result, regimes)
    unit = series_unit(series)
    frame = chart_frame(result, "fan", series=series, regimes=regimes)
    legend = _legend(
        "Regime (line: median; band: 5th-95th pct)",
        symbolType="stroke",
        symbolStrokeWidth=3,
        symbolSize=400,
        symbolOpacity=1,
        titleLimit=500,
        offset=_top_legend_offset(result),
    )
    color = alt.Color("regime:N", scale=_color_scale(result, regimes), legend=legend)
    dash = alt.StrokeDash("regime:N", scale=_dash_scale(result, regimes), legend=legend)
    x = _date_x(result)
    base = alt.Chart(frame)
    y_title = SERIES[series]
    band = base.mark_area(opacity=0.12).encode(
        x=x, y=alt.Y(f"p5_{unit}:Q", axis=_axis(y_title)), y2=f"p95_{unit}:Q", color=color
    )
    line = base.mark_line(strokeWidth=2.5).encode(
        x=x,
        y=alt.Y(f"p50_{unit}:Q", axis=_axis(y_title)),
        color=color,
        strokeDash=dash,
        tooltip=[
            alt.Tooltip("regime:N"),
            alt.Tooltip("date:N"),
            alt.Tooltip(f"p5_{unit}:Q", format=",.1f"),
            alt.Tooltip(f"p50_{unit}:Q", format=",.1f"),
            alt.Tooltip(f"p95_{unit}:Q", format=",.1f"),
        ],
    )
    obs = _observed_layers(result, series, x, WIDTH) if observed else []
    notes = [f"Scenario: {result.scenario.title}. Regimes: {', '.join(regimes)}."]
    if obs:
        notes.append(_sentence(_observed_note(result, [series])))
    title = _title(
        f"{_series_title(series)}: median and 5th-95th percentile range",
        [*notes, *_event_notes(result, WIDTH), source_line(result)],
    )
    return alt.layer(band, line, *obs, *_event_layers(result, x, WIDTH, HEIGHT)).properties(
        width=WIDTH, height=HEIGHT, title=title
    )


def _sentence(text: str) -> str:
    return f"{text[:1].upper()}{text[1:]}." if text else ""


# ------------------------------------------------------------------------ comparison panels
def _q(field: str, **kw) -> dict:
    return {"field": field, "type": "quantitative", **kw}


def _marker_strip(result: Result, width: float) -> float:
    """Height (px) of the event-marker strip above a plot, 0 without events."""
    placed = event_markers(result, width)
    return 0.0 if placed.empty else float(-placed["y0_px"].min())


def _regime_header(
    result: Result, regimes: list[str], baseline: str | None, width: float, suffix: str = ""
) -> dict:
    """Column headers: the regime's name in its colour (bold), '(baseline)' after the baseline,
    placed above the event-marker strip (column headers of a flush facet ignore the marks)."""
    colors = _colors(result, regimes)
    color = json.dumps(GREY)
    for name in reversed(regimes):
        color = f"parent.regime === {json.dumps(name)} ? {json.dumps(colors[name])} : {color}"
    # parent.regime, not datum.label: Vega-Lite expands datum.label to an unbracketed ternary.
    label = f"parent.regime + {json.dumps(suffix)}"
    if baseline is not None:
        label = f"parent.regime === {json.dumps(baseline)} ? parent.regime + ' (baseline)' : {label}"
    return {
        "title": None,
        "labelFontSize": LABEL_SIZE + 1,
        "labelFontWeight": "bold",
        "labelAnchor": "start",
        "labelAlign": "left",
        "labelColor": {"expr": color},
        "labelExpr": label,
        "labelLimit": 0,
        "labelPadding": 6 + _marker_strip(result, width),
    }


_NO_HEADER = {"title": None, "labels": False}


def _panel_row(
    result: Result,
    *,
    regimes: list[str],
    series: str,
    fields: tuple[str, str, str, str | None],
    width: float,
    height: float,
    y_title: str | list[str],
    top: bool,
    bottom: bool,
    observed: bool,
    header: dict,
    zero_line: bool = False,
    transform: list[dict] | None = None,
    title: str | None = None,
) -> dict:
    """One row of panels, one per regime (a column facet, y shared): the regime's band and median
    in its colour, the reference line (baseline median, grey dashed) where given, a zero line for
    differences, events (numbered markers on the `top` row) and the observed overlay. Reads the
    main data (inherited); `transform` selects the row's part of it.

    `bounds="flush"` stops the direct label right of the last panel from widening every gap.
    """
    p5, p50, p95, ref = fields
    colors = _colors(result, regimes)
    color = {
        "field": "regime",
        "type": "nominal",
        "scale": {"domain": regimes, "range": [colors[r] for r in regimes]},
        "legend": None,
    }
    x = _x_enc(result, "Date" if bottom else None, labels=bottom, ticks=4)
    y_axis = {
        "title": y_title,
        "labelFontSize": SMALL_SIZE,
        "titleFontSize": SMALL_SIZE + 1,
        "tickCount": 4,
        "titlePadding": 6,
    }
    tip = [{"field": "regime", "type": "nominal"}, {"field": "date", "type": "nominal"}]
    tip += [_q(f, format=",.1f") for f in (p5, p50, p95, ref) if f]
    layers: list[dict] = [
        {
            "mark": {"type": "area", "opacity": 0.28},
            "encoding": {
                "x": x,
                "y": _q(p5, axis=y_axis, scale={"zero": zero_line}),
                "y2": {"field": p95},
                "color": color,
            },
        }
    ]
    if ref:
        # Under the median, so in the baseline's own panel it hides beneath the baseline's line.
        layers.append(
            {
                "mark": {"type": "line", "strokeWidth": 1.4, "strokeDash": [5, 3], "color": REF_COLOR},
                "encoding": {"x": x, "y": _q(ref)},
            }
        )
    layers.append(
        {"mark": {"type": "line", "strokeWidth": 2.2}, "encoding": {"x": x, "y": _q(p50), "color": color, "tooltip": tip}}
    )
    if zero_line:
        layers.append(
            {
                "data": {"values": [{"zero": 0.0}]},
                "mark": {"type": "rule", "color": "#000000", "strokeWidth": 1},
                "encoding": {"y": _q("zero")},
            }
        )
    if observed:
        last = {"and": [{"field": "regime", "equal": regimes[-1]}, {"field": "day", "equal": result.days}]}
        layers += _observed_units(result, series, x)
        layers += _observed_label_units(result, series, width, only=last)
    layers += _event_units(result, x, width, height, markers=top)
    row: dict = {
        "facet": {"column": {"field": "regime", "type": "nominal", "sort": regimes, "header": header}},
        "spec": {"layer": layers, "width": width, "height": height},
        "spacing": 12,
        "bounds": "flush",
    }
    if transform:
        row["transform"] = transform
    if title:
        row["title"] = {"text": title, "fontSize": LABEL_SIZE, "anchor": "start", "color": "#222222", "offset": 8}
    return row


def _grid_title(result: Result, heading: str, key: str, total_width: float) -> alt.TitleParams:
    # Wrap to the chart's width, or to the source line if that is wider (it sets the title's width).
    width = max(total_width, len(source_line(result)) * 0.52 * SUBTITLE_SIZE)
    lines = _wrap(f"Scenario: {result.scenario.title}. {key}".split(" "), _chars(width), sep=" ")
    return _title(heading, [*lines, *_event_notes(result, width), source_line(result)])


def _total_width(columns: int, width: float) -> float:
    return columns * width + (columns - 1) * 12 + 60


def _rows_chart(rows: list[dict], frame: pd.DataFrame, title: alt.TitleParams) -> alt.VConcatChart:
    """Rows of panels stacked; y independent between rows (different series), the main data on top."""
    return alt.VConcatChart(
        vconcat=[_Facet(**row) for row in rows],
        data=frame,
        spacing=16,
        resolve=alt.Resolve(scale=alt.ScaleResolveMap(y="independent")),
        title=title,
    )


def stress_chart(
    result: Result,
    series: str = OBSERVED_PATH_SERIES,
    regimes: list[str] | None = None,
    baseline: str | None = None,
    observed: bool = True,
    width: int = STRESS_WIDTH,
    height: int = STRESS_HEIGHT,
) -> alt.FacetChart:
    """The first-screen stress chart: one panel per regime side by side (facet columns), shared y.

    Each panel shows that regime's median and 5th-95th percentile band in its own colour and the
    baseline regime's median as a thin grey dashed reference (so every panel reads as "this regime
    against the baseline"); events as numbered markers above the panels. For historical scenarios
    the observed DGS10 change is drawn on the 10y chart and the observed depth trough on the depth
    chart (black, labelled right of the last panel).
    """
    regimes = _regime_list(result, regimes)
    baseline = _baseline(result, baseline, regimes)
    _series_list(result, series)
    frame = chart_frame(result, "stress", series=series, regimes=regimes, baseline=baseline)
    unit = series_unit(series)
    show_observed = observed and _has_observed(result, series)
    key = (
        "Each panel: that regime's median (line) and 5th-95th percentile of paths (band); grey dashed: "
        f"the baseline ({baseline}) median."
    )
    if show_observed:
        key += " " + _sentence(_observed_note(result, [series]))
    row = _panel_row(
        result,
        regimes=regimes,
        series=series,
        fields=(f"p5_{unit}", f"p50_{unit}", f"p95_{unit}", f"baseline_p50_{unit}"),
        width=width,
        height=height,
        y_title=_wrap(SERIES[series].split(" "), max(12, int(height / 7.5)), sep=" "),
        top=True,
        bottom=True,
        observed=show_observed,
        header=_regime_header(result, regimes, baseline, width),
    )
    title = _grid_title(result, f"{_series_title(series)} under each regime", key, _total_width(len(regimes), width))
    return alt.FacetChart(
        data=frame,
        spec=_Layer(**row["spec"]),
        facet=row["facet"],
        spacing=row["spacing"],
        bounds=row["bounds"],
        title=title,
    )


def small_multiples(
    result: Result,
    series: Sequence[str] | None = None,
    regimes: list[str] | None = None,
    baseline: str | None = None,
    observed: bool = True,
    width: int = PANEL_WIDTH,
    height: int = PANEL_HEIGHT,
) -> alt.VConcatChart:
    """A grid of the key series: one column per regime, one row per series.

    Why this layout: a column per regime keeps each regime's band in its own panel (bands never mix
    or hide a median), and reading across a row compares regimes on one series against one y
    scale, shared within the row; rows have independent y because the series have different units.
    The baseline regime's median is repeated as a thin grey dashed line in every panel, so each
    panel reads "this regime vs the baseline" without looking across. Columns carry the regime
    names in the regime's colour; each row is titled with the series and its unit. Events are
    numbered markers above the top row, with thin rules through all rows. `width` and `height` are
    per panel (default 4 regimes x 3 series: about 1,080 x 700 px).
    """
    regimes = _regime_list(result, regimes)
    baseline = _baseline(result, baseline, regimes)
    names = _series_list(result, series)
    frame = chart_frame(result, "small_multiples", series=names, regimes=regimes, baseline=baseline)
    rows = [
        _panel_row(
            result,
            regimes=regimes,
            series=name,
            fields=("p5", "p50", "p95", "baseline_p50"),
            width=width,
            height=height,
            y_title=_unit_text(name),
            top=j == 0,
            bottom=j == len(names) - 1,
            observed=observed and _has_observed(result, name),
            header=_regime_header(result, regimes, baseline, width) if j == 0 else _NO_HEADER,
            transform=[{"filter": {"field": "series", "equal": name}}],
            title=SERIES[name],
        )
        for j, name in enumerate(names)
    ]
    key = (
        "Columns: regimes; rows: series (y shared within a row). Line: median; band: 5th-95th percentile "
        f"of paths; grey dashed: the baseline ({baseline}) median."
    )
    if observed and any(_has_observed(result, n) for n in names):
        key += " " + _sentence(_observed_note(result, names))
    title = _grid_title(result, "Key stress series under each regime", key, _total_width(len(regimes), width))
    return _rows_chart(rows, frame, title)


def difference_fan(
    result: Result,
    series: str | Sequence[str],
    baseline: str,
    regimes: list[str] | None = None,
    width: int = STRESS_WIDTH,
    height: int = 160,
) -> alt.VConcatChart:
    """What the policy changes: regime minus baseline on the same simulated path (common random
    numbers), median and 5th-95th percentile of that difference, with a zero line; one panel per
    non-baseline regime (so bands never mix), one row per series (y shared within a row)."""
    names = _series_list(result, series)
    _regime_list(result, [baseline])
    frame = chart_frame(result, "difference", series=names, baseline=baseline, regimes=regimes)
    panels = [r for r in dict.fromkeys(frame["regime"]) if r != baseline]
    if not panels:
        raise ValueError(f"regimes: difference_fan needs a regime other than the baseline {baseline!r}")
    rows = []
    for j, name in enumerate(names):
        keep: list[dict] = [{"field": "series", "equal": name}]
        if len(panels) < frame["regime"].nunique():
            keep.append({"not": {"field": "regime", "equal": baseline}})
        rows.append(
            _panel_row(
                result,
                regimes=panels,
                series=name,
                fields=("diff_p5", "diff_p50", "diff_p95", None),
                width=width,
                height=height,
                y_title=f"{_unit_text(name)} vs {baseline}",
                top=j == 0,
                bottom=j == len(names) - 1,
                observed=False,
                header=_regime_header(result, panels, None, width, f" minus {baseline}") if j == 0 else _NO_HEADER,
                zero_line=True,
                transform=[{"filter": {"and": keep}}],
                title=f"Difference: {SERIES[name]}",
            )
        )
    key = (
        f"Path by path: the regime's value minus {baseline}'s on the same simulated path (common random "
        "numbers). Line: median; band: 5th-95th percentile of the difference; black: zero (no change)."
    )
    title = _grid_title(result, f"What each regime changes against {baseline}", key, _total_width(len(panels), width))
    return _rows_chart(rows, frame, title)


# ------------------------------------------------------------------------------ trade-off chart
TRADEOFF_WIDTH = 560  # plot area; the label column sits to its right
LABEL_COLUMN_GAP = 30  # px between the plot's right edge and the label column
LABEL_NAME_SIZE = 13
LABEL_DETAIL_SIZE = 12
LABEL_BOX_HEIGHT = 32  # two lines: regime name, then its numbers
LABEL_GAP = 6  # px between label boxes
CHAR_EM = 0.6  # generous average glyph width of Liberation Sans (bold), in em, for box widths


def _nice_domain(lo: float, hi: float, ticks: int = 6) -> tuple[float, float]:
    """[lo, hi] widened to multiples of a 1-2-2.5-5 step (what `nice` would do, fixed here so the
    label layout can convert data to pixels)."""
    if not np.isfinite(lo) or not np.isfinite(hi):
        lo, hi = 0.0, 1.0
    if hi - lo < 1e-9:
        hi = lo + max(1.0, abs(lo) * 0.1)
    raw = (hi - lo) / ticks
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * mag >= raw * (1 - 1e-12))
    return math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step


def _repel(desired: Sequence[float], gap: float, lo: float, hi: float) -> np.ndarray:
    """1-D label positions: keep the order of `desired`, at least `gap` apart, inside [lo, hi]
    when they fit (otherwise they run on below hi, still `gap` apart)."""
    desired = np.asarray(desired, dtype=float)
    order = np.argsort(desired, kind="stable")
    pos = desired[order].copy()
    if len(pos) == 0:
        return pos
    pos[0] = max(pos[0], lo)
    for i in range(1, len(pos)):
        pos[i] = max(pos[i], pos[i - 1] + gap)
    if pos[-1] > hi:
        pos[-1] = hi
        for i in range(len(pos) - 2, -1, -1):
            pos[i] = min(pos[i], pos[i + 1] - gap)
        if pos[0] < lo:  # does not fit: stack from the top
            pos = lo + gap * np.arange(len(pos))
    out = np.empty_like(pos)
    out[order] = pos
    return out


def _tradeoff_points(
    result: Result, regimes: list[str], width: float = TRADEOFF_WIDTH, height: float = HEIGHT
) -> pd.DataFrame:
    """One row per regime: the plotted numbers, the label text and the label layout in pixels.

    The axis domains are fixed here (x_lo..x_hi, y_lo..y_hi) so the points' pixel positions are
    known; labels go in a column right of the plot at the points' heights, pushed apart so their
    boxes (label_x0_px..label_x1_px, label_y0_px..label_y1_px) never overlap; a leader line joins
    each label to its point.
    """
    long = chart_frame(result, "tradeoff", regimes=regimes)
    wide = {}
    for regime in regimes:
        sub = long[long["regime"] == regime].set_index("metric")
        wide[regime] = {
            "regime": regime,
            "calm_yield_cost_p5_bp": sub.loc["calm_yield_cost_bp", "p5"],
            "calm_yield_cost_p50_bp": sub.loc["calm_yield_cost_bp", "p50"],
            "calm_yield_cost_p95_bp": sub.loc["calm_yield_cost_bp", "p95"],
            "calm_interest_cost_p50_usd_bn_per_year": sub.loc["calm_interest_cost_usd_bn_per_year", "p50"],
            "peak_10y_change_p5_bp": sub.loc["peak_10y_yield_change_bp", "p5"],
            "peak_10y_change_p50_bp": sub.loc["peak_10y_yield_change_bp", "p50"],
            "peak_10y_change_p95_bp": sub.loc["peak_10y_yield_change_bp", "p95"],
            "dysfunction_probability_pct": sub.loc["dysfunction_probability_pct", "p50"],
            "breakdown_probability_pct": sub.loc["broken_market_probability_pct", "p50"],
        }
    points = pd.DataFrame(list(wide.values()))
    points["label_name"] = points["regime"]
    points["label_detail"] = [
        f"dysfunction {r.dysfunction_probability_pct:.0f}%, breakdown {r.breakdown_probability_pct:.0f}%, "
        f"${r.calm_interest_cost_p50_usd_bn_per_year:.0f}bn/yr"
        for r in points.itertuples()
    ]
    points["label"] = points["label_name"] + ": " + points["label_detail"]

    x_lo, x_hi = _nice_domain(
        min(0.0, float(points["calm_yield_cost_p5_bp"].min())), max(0.0, float(points["calm_yield_cost_p95_bp"].max()))
    )
    y_lo, y_hi = _nice_domain(
        min(0.0, float(points["peak_10y_change_p5_bp"].min())), max(0.0, float(points["peak_10y_change_p95_bp"].max()))
    )
    points["x_lo"], points["x_hi"], points["y_lo"], points["y_hi"] = x_lo, x_hi, y_lo, y_hi
    points["x_px"] = width * (points["calm_yield_cost_p50_bp"] - x_lo) / (x_hi - x_lo)
    points["y_px"] = height * (1.0 - (points["peak_10y_change_p50_bp"] - y_lo) / (y_hi - y_lo))

    half = LABEL_BOX_HEIGHT / 2
    centre = _repel(points["y_px"], LABEL_BOX_HEIGHT + LABEL_GAP, half, height - half)
    label_x = width + LABEL_COLUMN_GAP
    points["label_x_px"] = label_x
    points["label_y_px"] = centre
    points["name_y_px"] = centre - half + LABEL_NAME_SIZE * 0.6
    points["detail_y_px"] = centre + half - LABEL_DETAIL_SIZE * 0.6
    points["label_x0_px"] = label_x
    points["label_x1_px"] = label_x + np.maximum(
        points["label_name"].str.len() * CHAR_EM * LABEL_NAME_SIZE,
        points["label_detail"].str.len() * CHAR_EM * LABEL_DETAIL_SIZE,
    )
    points["label_y0_px"] = centre - half
    points["label_y1_px"] = centre + half
    points["leader_x_px"] = label_x - 4
    return points


_TRADEOFF_TOOLTIP = (
    "regime",
    "calm_yield_cost_p5_bp",
    "calm_yield_cost_p50_bp",
    "calm_yield_cost_p95_bp",
    "calm_interest_cost_p50_usd_bn_per_year",
    "peak_10y_change_p5_bp",
    "peak_10y_change_p50_bp",
    "peak_10y_change_p95_bp",
    "dysfunction_probability_pct",
    "breakdown_probability_pct",
)


def tradeoff_chart(result: Result, regimes: list[str] | None = None) -> alt.LayerChart:
    """Calm-period cost (x) against stress-period outcome (y), point size = breakdown probability.

    Labels sit in a column right of the plot, each joined to its point by a leader line, and are
    pushed apart vertically so they never overlap, even when the points coincide.
    """
    regimes = _regime_list(result, regimes)
    points = _tradeoff_points(result, regimes)
    first = points.iloc[0]
    color = alt.Color("regime:N", scale=_color_scale(result, regimes), legend=None)
    base = alt.Chart(points)
    x_title = "Calm-period yield cost vs status quo (bp; median, bars 5th-95th pct)"
    y_title = "Peak 10y yield rise in stress (bp; lower is better)"
    x_scale = alt.Scale(domain=[float(first.x_lo), float(first.x_hi)], nice=False, zero=False)
    y_scale = alt.Scale(domain=[float(first.y_lo), float(first.y_hi)], nice=False, zero=False)
    x = alt.X("calm_yield_cost_p50_bp:Q", axis=_axis(x_title, tickCount=8), scale=x_scale)
    y = alt.Y("peak_10y_change_p50_bp:Q", axis=_axis(y_title), scale=y_scale)
    xbars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("calm_yield_cost_p5_bp:Q", scale=x_scale), x2="calm_yield_cost_p95_bp:Q", y=y, color=color
    )
    ybars = base.mark_rule(strokeWidth=2).encode(
        x=x, y=alt.Y("peak_10y_change_p5_bp:Q", scale=y_scale), y2="peak_10y_change_p95_bp:Q", color=color
    )
    px = {"scale": None, "axis": None}
    leaders = base.mark_rule(color="#999999", strokeWidth=1).encode(
        x=alt.X("x_px:Q", **px), x2="leader_x_px:Q", y=alt.Y("y_px:Q", **px), y2="label_y_px:Q"
    )
    dots = base.mark_circle(opacity=0.85, stroke="white", strokeWidth=1).encode(
        x=x,
        y=y,
        color=color,
        size=alt.Size(
            "breakdown_probability_pct:Q",
            scale=alt.Scale(domain=[0, 100], range=[60, 900]),
            legend=_legend(
                "Point size: breakdown probability, beyond anything observed (%)",
                values=[10, 50, 100],
                symbolFillColor="#999999",
                titleLimit=500,
                direction="horizontal",
            ),
        ),
        tooltip=[alt.Tooltip(c) for c in _TRADEOFF_TOOLTIP],
    )
    names = base.mark_text(align="left", baseline="middle", fontSize=LABEL_NAME_SIZE, fontWeight="bold").encode(
        x=alt.X("label_x_px:Q", **px), y=alt.Y("name_y_px:Q", **px), text="label_name:N", color=color
    )
    details = base.mark_text(align="left", baseline="middle", fontSize=LABEL_DETAIL_SIZE, color="#333333").encode(
        x=alt.X("label_x_px:Q", **px), y=alt.Y("detail_y_px:Q", **px), text="label_detail:N"
    )
    title = _title(
        "What each regime costs in calm markets and buys in stress",
        [
            f"Scenario: {result.scenario.title}. Regimes: {', '.join(regimes)}. Bars: 5th-95th percentile.",
            "Labels: regime, then median dysfunction and breakdown probability and calm interest cost.",
            source_line(result),
        ],
    )
    return alt.layer(leaders, xbars, ybars, dots, names, details).properties(
        width=TRADEOFF_WIDTH, height=HEIGHT, title=title
    )


# --------------------------------------------------------------------------- other single charts
def holdings_chart(result: Result, regime: str) -> alt.LayerChart:
    """Cumulative net purchases by sector (mean over paths): who sold and who absorbed."""
    frame = chart_frame(result, "holdings", regime=regime)
    frame["sector_label"] = frame["sector"].map(SECTOR_LABELS).fillna(frame["sector"])
    sectors = [SECTOR_LABELS.get(s, s) for s in SECTORS if s in set(frame["sector"])]
    color = alt.Color(
        "sector_label:N",
        scale=alt.Scale(domain=sectors, range=OKABE_ITO[: len(sectors)]),
        legend=_legend("Sector", columns=4, offset=_top_legend_offset(result)),
    )
    x = _date_x(result)
    base = alt.Chart(frame)
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#999999").encode(y="y:Q")
    lines = base.mark_line(strokeWidth=2.5).encode(
        x=x,
        y=alt.Y(
            "cumulative_net_purchases_usd_bn:Q",
            axis=_axis("Cumulative net purchases ($bn; below 0 = net sales)"),
        ),
        color=color,
        tooltip=["sector_label:N", "date:N", alt.Tooltip("cumulative_net_purchases_usd_bn:Q", format=",.1f")],
    )
    title = _title(
        f"Who sold and who absorbed: cumulative net Treasury purchases by sector ({regime})",
        [
            f"Scenario: {result.scenario.title}. Mean over paths; sectors sum to zero each day.",
            *_event_notes(result, WIDTH),
            source_line(result),
        ],
    )
    return alt.layer(zero, lines, *_event_layers(result, x, WIDTH, HEIGHT)).properties(
        width=WIDTH, height=HEIGHT, title=title
    )


def functioning_chart(result: Result, regimes: list[str] | None = None) -> alt.LayerChart:
    """Share of paths dysfunctional (solid) and broken down (dashed) each day, per regime."""
    regimes = _regime_list(result, regimes)
    frame = chart_frame(result, "functioning", regimes=regimes)
    measures = list(FUNCTIONING_MEASURES.values())
    # Regimes share the panel: colour plus a marker shape per regime (same legend), so the lines
    # stay apart without colour vision; the dash is taken by the measure.
    legend = _legend("Regime", titleLimit=500, offset=_top_legend_offset(result))
    color = alt.Color("regime:N", scale=_color_scale(result, regimes), legend=legend)
    position = {r: i for i, r in enumerate(result.regime_names)}
    shape = alt.Shape(
        "regime:N",
        scale=alt.Scale(domain=regimes, range=[SHAPES[position[r] % len(SHAPES)] for r in regimes]),
        legend=legend,
    )
    dash = alt.StrokeDash(
        "measure:N",
        scale=alt.Scale(domain=measures, range=[[1, 0], [6, 4]]),
        legend=_legend(
            "Line",
            symbolType="stroke",
            symbolStrokeWidth=3,
            symbolSize=500,
            titleLimit=500,
            offset=_top_legend_offset(result),
        ),
    )
    x = _date_x(result)
    lines = alt.Chart(frame).mark_line(strokeWidth=2.5).encode(
        x=x,
        y=alt.Y(
            "share_of_paths_pct:Q",
            axis=_axis("Share of simulated paths (%)"),
            scale=alt.Scale(domain=[0, 100]),
        ),
        color=color,
        strokeDash=dash,
        detail="measure:N",
        tooltip=["regime:N", "measure:N", "date:N", alt.Tooltip("share_of_paths_pct:Q", format=".1f")],
    )
    points = alt.Chart(frame).mark_point(filled=True, size=28, opacity=1).encode(
        x=x, y="share_of_paths_pct:Q", color=color, shape=shape
    )
    title = _title(
        "Market functioning: share of paths dysfunctional or broken down on each day",
        [
            "Solid: dysfunctional (10y dislocation and dealer utilization both past their thresholds, as on 10-18 Mar 2020).",
            f"Dashed: breakdown (beyond anything observed). Scenario: {result.scenario.title}.",
            *_event_notes(result, WIDTH),
            source_line(result),
        ],
    )
    return alt.layer(lines, points, *_event_layers(result, x, WIDTH, HEIGHT)).properties(
        width=WIDTH, height=HEIGHT, title=title
    )


def backtest_chart(paths_frame: pd.DataFrame, model_version: str | None = None) -> alt.FacetChart:
    """Model p5-p95 band and median of the 10y yield change vs the observed path, one panel per episode."""
    frame = chart_frame(None, "backtest", paths_frame=paths_frame)
    episodes = list(dict.fromkeys(frame["episode"]))
    base = alt.Chart()
    x = alt.X(_X_DATE, axis=_axis("Date", format="%d %b", labelAngle=0, tickCount=6))
    band = base.mark_area(opacity=0.25, color=OKABE_ITO[0]).encode(
        x=x, y=alt.Y("model_p5_bp:Q", axis=_axis("10y yield change from day 0 (bp)")), y2="model_p95_bp:Q"
    )
    median = base.mark_line(strokeWidth=2.5, color=OKABE_ITO[0]).encode(x=x, y="model_p50_bp:Q")
    observed = base.mark_line(strokeWidth=2.5, color="#000000", strokeDash=[6, 3], point=True).encode(
        x=x, y="observed_10y_change_bp:Q", tooltip=["episode:N", "date:N", "observed_10y_change_bp:Q"]
    )
    version = f" v{model_version}" if model_version else ""
    title = _title(
        "Backtest: model 10y yield change vs what happened",
        [
            "Blue band: model 5th-95th percentile; blue line: model median; black dashed: observed.",
            f"Source: Treasury Market Policy Explorer model{version}; observed yields in scenarios/history;"
            " calibration sources in the methodology",
        ],
    )
    columns = min(2, max(1, len(episodes)))
    layered = alt.layer(band, median, observed).properties(width=max(300, WIDTH // columns), height=280)
    return (
        layered.facet(
            data=frame,
            facet=alt.Facet(
                "episode:N", sort=episodes, header=alt.Header(labelFontSize=14, title=None, labelFontWeight="bold")
            ),
            columns=columns,
        )
        .resolve_scale(x="independent", y="independent")
        .properties(title=title)
    )


# ------------------------------------------------------------------------ fast re-specification
def _template_kw(result: Result, chart: str, kw: dict) -> dict:
    """The chart's keywords with defaults filled in, so equal charts get equal keys."""
    out = dict(kw)
    if chart in ("fan", "functioning", "tradeoff", *COMPARE_CHARTS):
        out["regimes"] = _regime_list(result, kw.get("regimes"))
    if chart in ("fan", *COMPARE_CHARTS[:2]):
        out["observed"] = bool(kw.get("observed", True))
    if chart in ("stress", "small_multiples"):
        out["baseline"] = _baseline(result, kw.get("baseline"), out["regimes"])
    if chart == "stress":
        out["series"] = kw.get("series") or OBSERVED_PATH_SERIES
    if chart == "small_multiples":
        out["series"] = _series_list(result, kw.get("series"))
    if chart == "difference":
        out["series"] = _series_list(result, kw.get("series") or OBSERVED_PATH_SERIES)
        out["baseline"] = kw.get("baseline") or result.regime_names[0]
        out["regimes"] = _difference_regimes(result, kw.get("regimes"), out["baseline"])
    return out


def template_key(result: Result, chart: str, **kw) -> str:
    """What a chart's spec depends on apart from its main data (titles, events, regimes, run size).

    Two results with the same key give specs that differ only in the main dataset, so the app can
    build the Altair chart once and swap the data on each rerun (`with_main_data`). That holds for
    the fan chart and the comparison charts (stress, small_multiples, difference): their other
    datasets (events, observed history, zero line) depend only on the scenario and its dates. The
    trade-off, holdings and functioning charts derive columns or fix domains from the numbers and
    are rebuilt.
    """
    return "|".join(
        [
            chart,
            repr(sorted(_template_kw(result, chart, kw).items())),
            ",".join(result.regime_names),
            result.scenario.model_dump_json(),
            str(result.days),
            str(result.paths),
            str(result.seed),
            result.model_version,
        ]
    )


def main_dataset_name(spec: dict, frame: pd.DataFrame) -> str:
    """Name of the dataset in a Vega-Lite spec that holds `frame` (same length and columns)."""
    columns = set(frame.columns)
    for name, values in spec.get("datasets", {}).items():
        if len(values) == len(frame) and values and set(values[0]) == columns:
            return name
    raise ValueError("no dataset of the spec matches the frame")


def with_main_data(spec: dict, name: str, frame: pd.DataFrame) -> dict:
    """A copy of `spec` whose dataset `name` holds `frame` (the template itself is not changed)."""
    out = dict(spec)
    out["datasets"] = {**spec["datasets"], name: frame.to_dict("records")}
    return out
