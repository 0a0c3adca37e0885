"""Altair chart builders shared by the app and the briefing exports.

Every chart is built from `chart_frame(result, chart, ...)`, so the CSV a user downloads is exactly
the data drawn. Styling (font sizes, title, source line) is set on the marks, axes and title of each
chart rather than with `configure_*`, so the charts stay composable (layer/concat) in the app.

Text uses only glyphs Liberation Sans (vl-convert's bundled font) has: plain ASCII plus en dash.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import altair as alt
import pandas as pd

from engine.dynamics import SECTORS, SERIES
from engine.metrics import METRICS

if TYPE_CHECKING:
    from engine import Result

# Okabe-Ito, ordered so the first regimes get the most distinct colours (yellow last: weak on white).
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

WIDTH = 720
HEIGHT = 360
TITLE_SIZE = 18
SUBTITLE_SIZE = 13
LABEL_SIZE = 13
AXIS_TITLE_SIZE = 13
GREY = "#555555"

CHARTS = ("fan", "tradeoff", "holdings", "functioning", "backtest")
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


def _color_scale(names: list[str]) -> alt.Scale:
    colors = regime_colors(names)
    return alt.Scale(domain=list(names), range=[colors[n] for n in names])


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


def _axis(title: str, **kw) -> alt.Axis:
    return alt.Axis(title=title, labelFontSize=LABEL_SIZE, titleFontSize=AXIS_TITLE_SIZE, **kw)


def _legend(title: str | None, **kw) -> alt.Legend:
    return alt.Legend(
        title=title, labelFontSize=LABEL_SIZE, titleFontSize=LABEL_SIZE, orient="top", labelLimit=320, **kw
    )


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


def _series_title(series: str) -> str:
    """'10y yield change from day 0 (bp)' -> '10y yield change from day 0'."""
    return re.sub(r"\s*\([^()]*\)\s*$", "", SERIES[series])


def _dates(result: Result) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in result.dates]


def _regime_list(result: Result, regimes: list[str] | None) -> list[str]:
    if not regimes:
        return list(result.regime_names)
    unknown = [r for r in regimes if r not in result.regime_names]
    if unknown:
        raise ValueError(f"regime: {unknown[0]!r} not in this result; allowed: {', '.join(result.regime_names)}")
    return list(regimes)


# ---------------------------------------------------------------------------------------- frames
def chart_frame(result: Result | None, chart: str, **kw) -> pd.DataFrame:
    """Tidy data behind a chart, units in the column names (CSV export).

    fan: kw series, regimes -> regime, day, date, series, p5_<unit>, p50_<unit>, p95_<unit>
    tradeoff: -> regime, metric, unit, p5, p50, p95 for the cost/resilience metrics
    holdings: kw regime -> regime, day, date, sector, cumulative_net_purchases_usd_bn
    functioning: kw regimes -> regime, day, date, measure, share_of_paths_pct (dysfunctional / broken down)
    backtest: kw paths_frame -> the frame itself (episode, day, date, observed/model in bp)
    events: -> day, date, label (the scenario's events)
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
        if series not in SERIES:
            raise ValueError(f"series: {series!r}; allowed: {', '.join(SERIES)}")
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
        rows = [
            {"day": e.day, "date": dates[e.day], "label": e.label}
            for e in result.scenario.events
            if 0 <= e.day < len(dates)
        ]
        return pd.DataFrame(rows, columns=["day", "date", "label"])
    raise ValueError(f"chart: {chart!r}; allowed: {', '.join(CHARTS)}")


TRADEOFF_METRICS = (
    "calm_yield_cost_bp",
    "calm_interest_cost_usd_bn_per_year",
    "peak_10y_yield_change_bp",
    "dysfunction_probability_pct",
    "broken_market_probability_pct",
)


# ---------------------------------------------------------------------------------------- charts
_X_DATE = "utcyearmonthdate(date):T"


def _date_x(title: str = "Date (business days)") -> alt.X:
    return alt.X(_X_DATE, axis=_axis(title, format="%d %b", labelAngle=0, tickCount=8))


def _event_layers(result: Result) -> list[alt.Chart]:
    events = chart_frame(result, "events")
    if events.empty:
        return []
    # Stagger labels on three rows (pixels from the top) so nearby events don't overlap.
    events["label_y"] = [12 + 16 * (i % 3) for i in range(len(events))]
    base = alt.Chart(events)
    rules = base.mark_rule(color="#777777", strokeDash=[4, 3], strokeWidth=1.2).encode(
        x=alt.X(_X_DATE), tooltip=["date:N", "label:N"]
    )
    labels = base.mark_text(align="left", dx=4, fontSize=12, color="#333333").encode(
        x=alt.X(_X_DATE), y=alt.Y("label_y:Q", scale=None), text="label:N"
    )
    return [rules, labels]


def fan_chart(result: Result, series: str, regimes: list[str] | None = None) -> alt.LayerChart:
    """Median line and p5-p95 band per regime over the stress window, with the scenario's events."""
    if series not in SERIES:
        raise ValueError(f"series: {series!r}; allowed: {', '.join(SERIES)}")
    regimes = _regime_list(result, regimes)
    unit = series_unit(series)
    frame = chart_frame(result, "fan", series=series, regimes=regimes)
    color = alt.Color(
        "regime:N",
        scale=_color_scale(regimes),
        legend=_legend(
            "Regime (line: median; band: 5th-95th pct)",
            symbolType="stroke",
            symbolStrokeWidth=4,
            symbolOpacity=1,
            titleLimit=500,
        ),
    )
    base = alt.Chart(frame)
    y_title = SERIES[series]
    band = base.mark_area(opacity=0.15).encode(
        x=_date_x(),
        y=alt.Y(f"p5_{unit}:Q", axis=_axis(y_title)),
        y2=f"p95_{unit}:Q",
        color=color,
    )
    line = base.mark_line(strokeWidth=2.5).encode(
        x=_date_x(),
        y=alt.Y(f"p50_{unit}:Q", axis=_axis(y_title)),
        color=color,
        tooltip=[
            alt.Tooltip("regime:N"),
            alt.Tooltip("date:N"),
            alt.Tooltip(f"p5_{unit}:Q", format=",.1f"),
            alt.Tooltip(f"p50_{unit}:Q", format=",.1f"),
            alt.Tooltip(f"p95_{unit}:Q", format=",.1f"),
        ],
    )
    title = _title(
        f"{_series_title(series)}: median and 5th-95th percentile range",
        [
            f"Scenario: {result.scenario.title}. Regimes: {', '.join(regimes)}.",
            source_line(result),
        ],
    )
    return alt.layer(band, line, *_event_layers(result)).properties(width=WIDTH, height=HEIGHT, title=title)


def _tradeoff_points(result: Result, regimes: list[str]) -> pd.DataFrame:
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
    points["label"] = [
        f"{r.regime}: dysfunction {r.dysfunction_probability_pct:.0f}%, breakdown {r.breakdown_probability_pct:.0f}%, "
        f"${r.calm_interest_cost_p50_usd_bn_per_year:.0f}bn/yr"
        for r in points.itertuples()
    ]
    # Label placement: points in the right part of the plot get right-aligned labels; labels of
    # points close in height alternate above/below so they don't overlap.
    x_max = max(float(points["calm_yield_cost_p95_bp"].max()), 1e-9)
    points["label_side"] = ["right" if x > 0.55 * x_max else "left" for x in points["calm_yield_cost_p50_bp"]]
    y_span = max(float(points["peak_10y_change_p95_bp"].max()), 1e-9)
    order = points["peak_10y_change_p50_bp"].rank(method="first").astype(int)
    points["label_y_bp"] = [
        y + (0.045 if k % 2 == len(points) % 2 else -0.045) * y_span
        for y, k in zip(points["peak_10y_change_p50_bp"], order, strict=True)
    ]
    return points


def tradeoff_chart(result: Result, regimes: list[str] | None = None) -> alt.LayerChart:
    """Calm-period cost (x) against stress-period outcome (y), point size = breakdown probability."""
    regimes = _regime_list(result, regimes)
    points = _tradeoff_points(result, regimes)
    color = alt.Color("regime:N", scale=_color_scale(regimes), legend=None)
    base = alt.Chart(points)
    x_title = "Calm-period yield cost vs status quo (bp; median, bars 5th-95th pct)"
    y_title = "Peak 10y yield rise in stress (bp; lower is better)"
    x = alt.X("calm_yield_cost_p50_bp:Q", axis=_axis(x_title, tickCount=8), scale=alt.Scale(zero=True, nice=True))
    y = alt.Y("peak_10y_change_p50_bp:Q", axis=_axis(y_title), scale=alt.Scale(zero=True, nice=True))
    xbars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("calm_yield_cost_p5_bp:Q"), x2="calm_yield_cost_p95_bp:Q", y=y, color=color
    )
    ybars = base.mark_rule(strokeWidth=2).encode(
        x=x, y=alt.Y("peak_10y_change_p5_bp:Q"), y2="peak_10y_change_p95_bp:Q", color=color
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
        tooltip=[alt.Tooltip(c) for c in points.columns if c != "label"],
    )
    labels = []
    for side, align, dx in (("left", "left", 12), ("right", "right", -12)):
        sided = base.transform_filter(alt.datum.label_side == side)
        text = {"x": x, "y": alt.Y("label_y_bp:Q"), "text": "label:N"}
        style = {"align": align, "dx": dx, "fontSize": 13, "fontWeight": "bold"}
        # White halo underneath keeps labels legible where they cross an error bar.
        labels.append(sided.mark_text(stroke="white", strokeWidth=4, strokeJoin="round", **style).encode(**text))
        labels.append(sided.mark_text(**style).encode(color=color, **text))
    title = _title(
        "What each regime costs in calm markets and buys in stress",
        [
            f"Scenario: {result.scenario.title}. Regimes: {', '.join(regimes)}. Bars: 5th-95th percentile.",
            source_line(result),
        ],
    )
    return alt.layer(xbars, ybars, dots, *labels).properties(width=WIDTH, height=HEIGHT, title=title)


def holdings_chart(result: Result, regime: str) -> alt.LayerChart:
    """Cumulative net purchases by sector (mean over paths): who sold and who absorbed."""
    frame = chart_frame(result, "holdings", regime=regime)
    frame["sector_label"] = frame["sector"].map(SECTOR_LABELS).fillna(frame["sector"])
    sectors = [SECTOR_LABELS.get(s, s) for s in SECTORS if s in set(frame["sector"])]
    color = alt.Color(
        "sector_label:N",
        scale=alt.Scale(domain=sectors, range=OKABE_ITO[: len(sectors)]),
        legend=_legend("Sector", columns=4),
    )
    base = alt.Chart(frame)
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#999999").encode(y="y:Q")
    lines = base.mark_line(strokeWidth=2.5).encode(
        x=_date_x(),
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
            source_line(result),
        ],
    )
    return alt.layer(zero, lines, *_event_layers(result)).properties(width=WIDTH, height=HEIGHT, title=title)


def functioning_chart(result: Result, regimes: list[str] | None = None) -> alt.LayerChart:
    """Share of paths dysfunctional (solid) and broken down (dashed) each day, per regime."""
    regimes = _regime_list(result, regimes)
    frame = chart_frame(result, "functioning", regimes=regimes)
    measures = list(FUNCTIONING_MEASURES.values())
    color = alt.Color(
        "regime:N",
        scale=_color_scale(regimes),
        legend=_legend("Regime", symbolType="stroke", symbolStrokeWidth=4, titleLimit=500),
    )
    dash = alt.StrokeDash(
        "measure:N",
        scale=alt.Scale(domain=measures, range=[[1, 0], [6, 4]]),
        legend=_legend("Line", symbolType="stroke", symbolStrokeWidth=3, symbolSize=500, titleLimit=500),
    )
    lines = alt.Chart(frame).mark_line(strokeWidth=2.5).encode(
        x=_date_x(),
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
    title = _title(
        "Market functioning: share of paths dysfunctional or broken down on each day",
        [
            "Solid: dysfunctional (10y dislocation and dealer utilization both past their thresholds, as on 10-18 Mar 2020).",
            f"Dashed: breakdown (beyond anything observed). Scenario: {result.scenario.title}.",
            source_line(result),
        ],
    )
    return alt.layer(lines, *_event_layers(result)).properties(width=WIDTH, height=HEIGHT, title=title)


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
def template_key(result: Result, chart: str, **kw) -> str:
    """What a chart's spec depends on apart from its main data (titles, events, regimes, run size).

    Two results with the same key give fan-chart specs that differ only in the main dataset, so the
    app can build the Altair chart once and swap the data on each rerun (`with_main_data`). Only the
    fan chart plots `chart_frame` unchanged; the others derive columns and are rebuilt.
    """
    return "|".join(
        [
            chart,
            repr(sorted(kw.items())),
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
