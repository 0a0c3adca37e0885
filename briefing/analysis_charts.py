"""Altair charts of the policy analyses (`engine.analysis`, `engine.sweep.run_study`), one per view.

Each builder takes the tidy frame the engine returns (so the CSV a user downloads is the data
drawn), and gives the chart a title, axis titles with units and a source line (`analysis_source`).
House style as in `briefing.charts`: Okabe-Ito colours, the same font sizes, text in plain ASCII
plus en dash (the glyphs of vl-convert's bundled Liberation Sans).

    policy_map_chart(frame, x, y, metric)   heatmap of a metric's median over two swept levers
    frontier_chart(frontier_frame)          calm cost vs stress outcome, Pareto-efficient points joined
    tornado_chart(tornado_frame, metric)    one-at-a-time swings, ranked
    attribution_chart(attribution_frame)    Shapley value beside the one-at-a-time effect
    amplification_chart(frame, metric)      waterfall from the shock itself to the full outcome
    robustness_chart(points_frame, ...)     the paired difference at every assumption point
    expected_cost_chart(frame)              calm cost and stress risk per year, per regime
    stress_grid_chart(frame)                scenario x metric table of paired differences
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from briefing.charts import (
    GREY,
    LABEL_SIZE,
    OKABE_ITO,
    SMALL_SIZE,
    _axis,
    _legend,
    _nice_domain,
    _repel,
    _title,
)
from briefing.numbers import delta_unit, fmt_number, fmt_value
from engine.metrics import EXCEEDANCES, METRICS
from engine.version import MODEL_VERSION
from policy import get_preset, lever_specs, preset_names, regime_value

BLUE, VERMILLION, GREEN = OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[2]
LIGHT_GREY = "#BBBBBB"
MAP_CELL = 60  # px per heatmap cell (at most); a 20 x 20 map is 520 px square
MAP_MAX = 520
FRONTIER_WIDTH = 520
FRONTIER_HEIGHT = 360
LABEL_COLUMN_GAP = 26
LABEL_BOX = 18  # px per label line in the frontier's label column
BAR_ROW = 24  # px per bar row of the horizontal bar charts
MAP_SELECT_FIELDS = ("regime", "x", "y")  # what a click on a map cell reports back to the app
# Outcomes where a larger number is better (the same set as engine.analysis.HIGHER_IS_BETTER).
HIGHER_IS_BETTER = frozenset({"trough_market_depth_usd_mn", "min_swap_spread_30y_bp"})
GROUP_WORDS = {
    "clearing": "Clearing",
    "dealer_rule": "Dealer rule",
    "leverage_cap": "Leverage cap",
    "leverage_ratio_relief": "SLR relief",
    "standing_repo": "Standing repo",
    "fed_backstop": "Fed backstop",
    "futures_margin": "Futures margin",
    "foreign_demand": "Foreign demand",
}
_ASCII = {"\u2013": "\u2013", "\u2014": "\u2013", "\u2212": "-", "\u00d7": "x", "\u2019": "'", "\u2018": "'",
          "\u201c": '"', "\u201d": '"', "\u2264": "<=", "\u2265": ">=", "\u00a0": " "}


# ---------------------------------------------------------------- helpers


def plain(text: str) -> str:
    """Text the bundled font can draw: ASCII plus en dash (other symbols replaced or dropped)."""
    out = []
    for ch in str(text):
        if ch in _ASCII:
            out.append(_ASCII[ch])
        elif ord(ch) < 128:
            out.append(ch)
    return "".join(out)


def analysis_source(scenario: str | None = None, paths: int | None = None, seed: int | None = None,
                    extra: str = "") -> str:
    """The attribution line of an analysis chart."""
    parts = [f"Source: Treasury Market Policy Explorer model v{MODEL_VERSION}"]
    if scenario:
        parts.append(f"scenario {scenario}")
    if paths is not None:
        parts.append(f"{paths:,} paths")
    if seed is not None:
        parts.append(f"seed {seed}")
    text = ", ".join(parts)
    return plain(text + (f"; {extra}" if extra else "") + "; calibration sources in the methodology")


def metric_label(metric: str) -> str:
    """'Peak 10y yield change (bp)'."""
    if metric in METRICS:
        spec = METRICS[metric]
        return plain(f"{spec.label} ({spec.unit})")
    if metric in EXCEEDANCES:
        return plain(f"{EXCEEDANCES[metric].label if hasattr(EXCEEDANCES[metric], 'label') else metric} (%)")
    return metric


def metric_unit(metric: str) -> str:
    return METRICS[metric].unit if metric in METRICS else "%"


def _lever(path: str):
    return next((s for s in lever_specs() if s.path == path), None)


def factor_title(name: str) -> list[str]:
    """An axis title on two lines: 'Leverage cap: Maximum gross leverage', '(x net assets (GNE/NAV))'."""
    spec = _lever(name)
    if spec is None:
        return [plain(name)]
    unit = [plain(f"({spec.unit})")] if spec.unit and spec.unit not in ("on/off", "choice") else []
    return [plain(f"{GROUP_WORDS.get(spec.group, spec.group)}: {spec.label}"), *unit]


def factor_label(name: str) -> str:
    """'Leverage cap: Maximum gross leverage (x)' for a lever path; the name itself for an assumption."""
    spec = _lever(name)
    if spec is None:
        return plain(name)
    unit = f" ({spec.unit})" if spec.unit and spec.unit not in ("on/off", "choice") else ""
    return plain(f"{GROUP_WORDS.get(spec.group, spec.group)}: {spec.label}{unit}")


def _better_sign(metric: str) -> float:
    """+1 when a lower value is better, -1 when a higher one is."""
    return -1.0 if metric in HIGHER_IS_BETTER else 1.0


def _one_scenario(frame: pd.DataFrame, scenario: str | None) -> tuple[pd.DataFrame, str | None]:
    if "scenario" not in frame.columns:
        return frame, scenario
    names = list(dict.fromkeys(frame["scenario"]))
    chosen = scenario if scenario is not None else (names[0] if names else None)
    if chosen not in names:
        raise ValueError(f"scenario: {chosen!r} not in the frame; allowed: {', '.join(map(str, names))}")
    return frame[frame["scenario"] == chosen], chosen


def _edges(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cell edges around sorted grid values (midpoints; the end cells as wide as their neighbour)."""
    v = np.asarray(values, dtype=float)
    if len(v) == 1:
        half = max(abs(v[0]) * 0.05, 0.5)
        return v - half, v + half
    mid = (v[1:] + v[:-1]) / 2
    lo = np.concatenate([[v[0] - (mid[0] - v[0])], mid])
    hi = np.concatenate([mid, [v[-1] + (v[-1] - mid[-1])]])
    return lo, hi


# ---------------------------------------------------------------- 1. policy map


def policy_map_frame(frame: pd.DataFrame, x_factor: str, y_factor: str, metric: str, *,
                     scenario: str | None = None) -> pd.DataFrame:
    """One row per grid cell of the sweep's long frame: the two lever values, the metric's p5/p50/p95,
    the paired difference to the base and the cell edges. Raises ValueError naming a missing field."""
    for name in (x_factor, y_factor):
        if name not in frame.columns:
            raise ValueError(f"factor: {name!r} is not a column of the study frame")
    sub, _ = _one_scenario(frame, scenario)
    sub = sub[(sub["metric"] == metric) & (sub["point"] >= 0)]
    if sub.empty:
        raise ValueError(f"metric: {metric!r} not in the study's results")
    if sub.duplicated([x_factor, y_factor]).any():
        raise ValueError("factors: several points share one cell; fix the other factors first")
    out = sub[["point", "regime", x_factor, y_factor, "p5", "p50", "p95", "diff_p5", "diff_p50", "diff_p95"]].copy()
    out = out.rename(columns={x_factor: "x", y_factor: "y"})
    for axis in ("x", "y"):
        values = np.sort(out[axis].astype(float).unique())
        lo, hi = _edges(values)
        lookup = {float(v): (a, b) for v, a, b in zip(values, lo, hi, strict=True)}
        out[f"{axis}0"] = [lookup[float(v)][0] for v in out[axis]]
        out[f"{axis}1"] = [lookup[float(v)][1] for v in out[axis]]
    unit = metric_unit(metric)
    out["value_text"] = [fmt_value(v, unit) for v in out["p50"]]
    out["band_text"] = [f"{fmt_number(a)} to {fmt_value(b, unit)}" for a, b in zip(out["p5"], out["p95"], strict=True)]
    out["diff_text"] = [fmt_value(v, delta_unit(unit), signed=True) for v in out["diff_p50"]]
    return out.reset_index(drop=True)


def preset_marks(presets: Sequence[str], x_factor: str, y_factor: str, cells: pd.DataFrame) -> pd.DataFrame:
    """Presets whose two lever values fall inside the grid's range: name, x, y. A preset whose rule
    for a lever is off (e.g. no leverage cap) is left out: its value there is an unused default.
    Presets on the same spot share one mark, their names joined."""
    rows: list[dict] = []
    x_lo, x_hi = float(cells["x0"].min()), float(cells["x1"].max())
    y_lo, y_hi = float(cells["y0"].min()), float(cells["y1"].max())
    for name in presets:
        if name not in preset_names():
            continue
        preset = get_preset(name)
        x, y = regime_value(preset, x_factor), regime_value(preset, y_factor)
        if isinstance(x, bool | str) or isinstance(y, bool | str):
            continue
        if not (_rule_on(preset, x_factor) and _rule_on(preset, y_factor)):
            continue
        if x_lo <= float(x) <= x_hi and y_lo <= float(y) <= y_hi:
            same = next((r for r in rows if r["x"] == float(x) and r["y"] == float(y)), None)
            if same is not None:
                same["preset"] += f", {name}"
            else:
                rows.append({"preset": name, "x": float(x), "y": float(y)})
    return pd.DataFrame(rows, columns=["preset", "x", "y"])


def _rule_on(regime, path: str) -> bool:
    group, _, field = path.partition(".")
    switch = f"{group}.enabled"
    if field == "enabled" or _lever(switch) is None:
        return True
    return bool(regime_value(regime, switch))


def _grid_ticks(values: pd.Series, most: int = 12) -> dict:
    """Ticks at the grid's own values (every other one beyond `most`), so each label names a column."""
    grid = sorted(float(v) for v in values.unique())
    step = max(1, math.ceil(len(grid) / most))
    return {"values": grid[::step], "grid": False, "format": ".6~g"}


def policy_map_chart(
    frame: pd.DataFrame,
    x_factor: str,
    y_factor: str,
    metric: str,
    presets: Sequence[str] | None = None,
    *,
    scenario: str | None = None,
    source: str | None = None,
    select: str | None = None,
    selected: str | None = None,
) -> alt.LayerChart:
    """Heatmap of the metric's median over two swept levers (the sweep's long frame, one scenario).

    `select` names a click selection of one cell (fields `MAP_SELECT_FIELDS`) for the app, and
    `selected` (a point's name) is drawn with a black outline: the app's chosen point, whether it
    was clicked or chosen with the keyboard. Static exports leave both out.

    Darker is worse for the market (the scale flips for outcomes where higher is better). Presets
    whose lever values fall in the grid are drawn as labelled rings; the map's other levers are
    those of the study's base, so a ring marks where the preset's two values sit, not its outcome.
    """
    cells = policy_map_frame(frame, x_factor, y_factor, metric, scenario=scenario)
    _, chosen = _one_scenario(frame, scenario)
    nx, ny = cells["x"].nunique(), cells["y"].nunique()
    cell = max(14, min(MAP_CELL, MAP_MAX // max(nx, ny)))
    width, height = max(240, cell * nx), max(200, cell * ny)
    unit = metric_unit(metric)
    x_title, y_title = factor_label(x_factor), factor_label(y_factor)
    x_scale = alt.Scale(domain=[float(cells["x0"].min()), float(cells["x1"].max())], nice=False, zero=False)
    y_scale = alt.Scale(domain=[float(cells["y0"].min()), float(cells["y1"].max())], nice=False, zero=False)
    reverse = metric in HIGHER_IS_BETTER
    color = alt.Color(
        "p50:Q",
        scale=alt.Scale(scheme="viridis", reverse=not reverse),
        legend=alt.Legend(title=[plain(METRICS[metric].label if metric in METRICS else metric), f"median ({unit})"],
                          labelFontSize=LABEL_SIZE, titleFontSize=LABEL_SIZE, orient="right", gradientLength=200),
    )
    tooltip = [
        alt.Tooltip("regime:N", title="Point"),
        alt.Tooltip("x:Q", title=x_title),
        alt.Tooltip("y:Q", title=y_title),
        alt.Tooltip("value_text:N", title="Median"),
        alt.Tooltip("band_text:N", title="5th-95th pct"),
        alt.Tooltip("diff_text:N", title="Median difference to the base"),
    ]
    base = alt.Chart(cells)
    rects = base.mark_rect(stroke="white", strokeWidth=0.5).encode(
        x=alt.X("x0:Q", scale=x_scale, axis=_axis(factor_title(x_factor), **_grid_ticks(cells["x"]))),
        x2="x1:Q",
        y=alt.Y("y0:Q", scale=y_scale, axis=_axis(factor_title(y_factor), **_grid_ticks(cells["y"]))),
        y2="y1:Q",
        color=color,
        tooltip=tooltip,
    )
    if select:
        # One cell at a time (no shift-toggle). The outline is drawn from `selected`, not from the
        # selection itself, so it follows the app's chooser as well as a click.
        rects = rects.add_params(alt.selection_point(name=select, fields=list(MAP_SELECT_FIELDS), on="click",
                                                     toggle=False, clear="dblclick", empty=False))
    layers: list = [rects]
    outlined = cells[cells["regime"].astype(str) == str(selected)] if selected is not None else cells.iloc[0:0]
    if not outlined.empty:
        outline = alt.Chart(outlined).mark_rect(fill=None, stroke="black", strokeWidth=3).encode(
            x=alt.X("x0:Q", scale=x_scale), x2="x1:Q", y=alt.Y("y0:Q", scale=y_scale), y2="y1:Q")
        layers.append(outline)
    marks = preset_marks(presets or [], x_factor, y_factor, cells)
    if not marks.empty:
        # Labels right of their ring, pushed apart vertically (in px) so they never overlap.
        y0, y1 = y_scale.domain
        ypx = height * (1 - (marks["y"] - y0) / (y1 - y0))
        marks["label_y"] = y0 + (y1 - y0) * (1 - _repel(ypx, 16, 8, height - 8) / height)
        ring = alt.Chart(marks).mark_point(shape="circle", size=140, filled=False, strokeWidth=2.5, color="white")
        ring = ring.encode(x=alt.X("x:Q", scale=x_scale), y=alt.Y("y:Q", scale=y_scale),
                           tooltip=[alt.Tooltip("preset:N", title="Preset")])
        dot = alt.Chart(marks).mark_point(shape="circle", size=140, filled=False, strokeWidth=1, color="black")
        dot = dot.encode(x=alt.X("x:Q", scale=x_scale), y=alt.Y("y:Q", scale=y_scale))
        halo = alt.Chart(marks).mark_text(align="left", dx=11, fontSize=SMALL_SIZE + 1, fontWeight="bold",
                                          stroke="white", strokeWidth=3)
        halo = halo.encode(x=alt.X("x:Q", scale=x_scale), y=alt.Y("label_y:Q", scale=y_scale), text="preset:N")
        text = alt.Chart(marks).mark_text(align="left", dx=11, fontSize=SMALL_SIZE + 1, fontWeight="bold",
                                          color="black")
        text = text.encode(x=alt.X("x:Q", scale=x_scale), y=alt.Y("label_y:Q", scale=y_scale), text="preset:N")
        layers += [ring, dot, halo, text]
    darker = "lower" if reverse else "higher"
    title = _title(
        plain(f"Where each lever bites: {METRICS[metric].label if metric in METRICS else metric}"),
        [
            plain(f"Median over paths, {nx} x {ny} grid; darker = {darker} = worse for the market. "
                  f"Scenario: {chosen}."),
            "Rings: presets at their two lever values (the other levers stay at the study's base).",
            source or analysis_source(chosen),
        ],
    )
    return alt.layer(*layers).properties(width=width, height=height, title=title)


# ---------------------------------------------------------------- 2. frontier


def frontier_points(frontier_frame: pd.DataFrame, cost: str, outcome: str, labelled: Sequence[str],
                    width: float = FRONTIER_WIDTH, height: float = FRONTIER_HEIGHT) -> pd.DataFrame:
    """The frontier frame with pixel positions and a repelled label column for the labelled regimes."""
    pts = frontier_frame.copy()
    x_lo, x_hi = _nice_domain(float(pts[cost].min()), float(pts[cost].max()))
    y_lo, y_hi = _nice_domain(float(pts[outcome].min()), float(pts[outcome].max()))
    pts["x_lo"], pts["x_hi"], pts["y_lo"], pts["y_hi"] = x_lo, x_hi, y_lo, y_hi
    pts["x_px"] = width * (pts[cost] - x_lo) / (x_hi - x_lo)
    pts["y_px"] = height * (1.0 - (pts[outcome] - y_lo) / (y_hi - y_lo))
    pts["status"] = np.where(pts["efficient"].astype(bool), "Pareto-efficient", "dominated")
    pts["labelled"] = pts["regime"].isin(list(labelled))
    pts["label_y_px"] = np.nan
    mask = pts["labelled"].to_numpy()
    if mask.any():
        pts.loc[mask, "label_y_px"] = _repel(pts.loc[mask, "y_px"].to_numpy(), LABEL_BOX, LABEL_BOX / 2,
                                             height - LABEL_BOX / 2)
    pts["label_x_px"] = width + LABEL_COLUMN_GAP
    pts["leader_x_px"] = width + LABEL_COLUMN_GAP - 4
    unit_c, unit_o = metric_unit(cost), metric_unit(outcome)
    pts["cost_text"] = [fmt_value(v, unit_c) for v in pts[cost]]
    pts["outcome_text"] = [fmt_value(v, unit_o) for v in pts[outcome]]
    pts["label"] = [plain(f"{r}: {c}, {o}") for r, c, o in zip(pts["regime"], pts["cost_text"], pts["outcome_text"],
                                                               strict=True)]
    return pts


def frontier_chart(
    frontier_frame: pd.DataFrame,
    cost: str = "calm_yield_cost_bp",
    outcome: str = "peak_10y_yield_change_bp",
    *,
    labelled: Sequence[str] | None = None,
    source: str | None = None,
    subtitle: str = "",
) -> alt.LayerChart:
    """Calm cost (x) against the stress outcome (y) of every regime of `engine.analysis.frontier`.

    Pareto-efficient regimes are blue and joined in cost order; dominated ones grey. `labelled`
    (default: every regime whose name is not a sweep point `p0001`) get a label in a column right
    of the plot, pushed apart so labels never overlap, each joined to its point by a leader line.
    """
    for col in (cost, outcome, "regime", "efficient"):
        if col not in frontier_frame.columns:
            raise ValueError(f"frontier frame: no column {col!r}")
    if labelled is None:
        labelled = [r for r in frontier_frame["regime"].astype(str) if not re.fullmatch(r"p\d+", r)]
    pts = frontier_points(frontier_frame, cost, outcome, labelled)
    first = pts.iloc[0]
    x_scale = alt.Scale(domain=[float(first.x_lo), float(first.x_hi)], nice=False, zero=False)
    y_scale = alt.Scale(domain=[float(first.y_lo), float(first.y_hi)], nice=False, zero=False)
    better = "higher" if outcome in HIGHER_IS_BETTER else "lower"
    x = alt.X(f"{cost}:Q", scale=x_scale, axis=_axis(plain(f"{metric_label(cost)}; lower is better")))
    y = alt.Y(f"{outcome}:Q", scale=y_scale,
              axis=_axis(plain(f"Stress: {metric_label(outcome)}; {better} is better")))
    color = alt.Color("status:N", scale=alt.Scale(domain=["Pareto-efficient", "dominated"], range=[BLUE, LIGHT_GREY]),
                      legend=_legend(None))
    base = alt.Chart(pts)
    tooltip = [alt.Tooltip("regime:N", title="Regime"), alt.Tooltip("cost_text:N", title=plain(metric_label(cost))),
               alt.Tooltip("outcome_text:N", title=plain(metric_label(outcome))), alt.Tooltip("status:N", title="Status"),
               alt.Tooltip("dominated_by:N", title="Dominated by")]
    extra = [c for c in frontier_frame.columns if c not in (cost, outcome, "regime", "efficient", "dominated_by")]
    tooltip += [alt.Tooltip(f"{c}:N", title=factor_label(c)) for c in extra[:4]]
    line = alt.Chart(pts[pts["efficient"].astype(bool)].sort_values(cost)).mark_line(color=BLUE, strokeWidth=2)
    line = line.encode(x=x, y=y, order=f"{cost}:Q")
    dots = base.mark_circle(size=70, opacity=0.9, stroke="white", strokeWidth=0.8).encode(
        x=x, y=y, color=color, tooltip=tooltip)
    lab = base.transform_filter("datum.labelled")
    px = {"scale": None, "axis": None}
    rings = lab.mark_point(size=150, filled=False, color="black", strokeWidth=1.5).encode(x=x, y=y)
    leaders = lab.mark_rule(color="#999999", strokeWidth=1).encode(
        x=alt.X("x_px:Q", **px), x2="leader_x_px:Q", y=alt.Y("y_px:Q", **px), y2="label_y_px:Q")
    names = lab.mark_text(align="left", baseline="middle", fontSize=LABEL_SIZE - 1, color="#222222").encode(
        x=alt.X("label_x_px:Q", **px), y=alt.Y("label_y_px:Q", **px), text="label:N")
    n_eff = int(pts["efficient"].sum())
    title = _title(
        "Which regimes buy the most stress resilience for their calm cost",
        [
            plain(f"{len(pts)} regimes, {n_eff} Pareto-efficient (blue, joined): no other is cheaper and better in stress."
                  + (f" {subtitle}" if subtitle else "")),
            "Labels: regime: calm cost, stress outcome (medians over paths).",
            source or analysis_source(),
        ],
    )
    return alt.layer(leaders, line, dots, rings, names).properties(width=FRONTIER_WIDTH, height=FRONTIER_HEIGHT,
                                                                   title=title)


# ---------------------------------------------------------------- 3. tornado


def _setting_text(value, name: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    spec = _lever(name)
    if isinstance(value, bool) or (spec is not None and spec.type == "bool"):
        return "on" if bool(value) else "off"
    if isinstance(value, int | float):
        return fmt_number(float(value)) if spec is None else f"{float(value):g}"
    return str(value)


def tornado_frame(tornado: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    """Long frame for the chart: the `top` largest swings, one row per end (low, high)."""
    rows = []
    kept = tornado[tornado["swing"].fillna(0) > 0].sort_values("rank").head(top)
    for r in kept.itertuples():
        label = factor_label(r.name) if r.kind == "lever" else plain(f"{r.label} (assumption)")
        for end, setting, effect in (("low end", r.low_setting, r.low_effect), ("high end", r.high_setting, r.high_effect)):
            rows.append({"rank": int(r.rank), "row": label, "end": end, "setting": _setting_text(setting, r.name),
                         "effect": float(effect), "swing": float(r.swing)})
    return pd.DataFrame(rows, columns=["rank", "row", "end", "setting", "effect", "swing"])


def _padded(values: pd.Series, share: float = 0.28) -> list[float]:
    """An x domain around 0 and `values`, widened on each side by `share` of the span for the bar labels."""
    lo, hi = min(0.0, float(values.min())), max(0.0, float(values.max()))
    pad = share * ((hi - lo) or 1.0)
    lo, hi = _nice_domain(lo - (pad if lo < 0 else 0.0), hi + (pad if hi > 0 else 0.0))
    return [lo, hi]


def tornado_chart(tornado: pd.DataFrame, metric: str, *, top: int = 15, source: str | None = None) -> alt.LayerChart:
    """Ranked horizontal bars: each input's effect at its low and its high end, against the base."""
    data = tornado_frame(tornado, top)
    unit = delta_unit(metric_unit(metric))
    data["effect_text"] = [fmt_value(v, unit, signed=True) for v in data["effect"]]
    data["bar_label"] = data["setting"] + ": " + data["effect_text"]
    order = list(dict.fromkeys(data.sort_values("rank")["row"]))
    height = max(120, 40 * len(order))
    y = alt.Y("row:N", sort=order, axis=_axis(None, labelLimit=420))
    color = alt.Color("end:N", scale=alt.Scale(domain=["low end", "high end"], range=[BLUE, VERMILLION]),
                      legend=_legend("Input set to its"))
    base = alt.Chart(data)
    bars = base.mark_bar(height={"band": 0.4}).encode(
        x=alt.X("effect:Q", scale=alt.Scale(domain=_padded(data["effect"]), nice=False),
                axis=_axis(plain(f"Change in {metric_label(metric)} vs the base (median; {unit})"), tickCount=6)),
        y=y, yOffset=alt.YOffset("end:N", sort=["low end", "high end"]), color=color,
        tooltip=[alt.Tooltip("row:N", title="Input"), alt.Tooltip("end:N", title="End"),
                 alt.Tooltip("setting:N", title="Setting"), alt.Tooltip("effect_text:N", title="Effect")],
    )
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color=GREY).encode(x="x:Q")
    labels = base.mark_text(fontSize=SMALL_SIZE, color="#222222", dx=4, align="left", baseline="middle", dy=4).encode(
        x=alt.X("effect:Q"), y=y, yOffset=alt.YOffset("end:N", sort=["low end", "high end"]), text="bar_label:N",
    ).transform_filter("datum.effect >= 0")
    labels_neg = base.mark_text(fontSize=SMALL_SIZE, color="#222222", dx=-4, align="right", baseline="middle", dy=4).encode(
        x=alt.X("effect:Q"), y=y, yOffset=alt.YOffset("end:N", sort=["low end", "high end"]), text="bar_label:N",
    ).transform_filter("datum.effect < 0")
    title = _title(
        plain(f"What moves the {METRICS[metric].label.lower() if metric in METRICS else metric} most"),
        [
            plain(f"Each input at its low and high end, the others at the base; the {len(order)} largest swings, "
                  "ranked. Labels: setting: effect."),
            source or analysis_source(),
        ],
    )
    return alt.layer(zero, bars, labels, labels_neg).properties(width=460, height=height, title=title)


# ---------------------------------------------------------------- 4. attribution


def attribution_frame(attribution: pd.DataFrame) -> pd.DataFrame:
    """Long frame: per component, the Shapley value and the one-at-a-time effect (means, p5-p95)."""
    rows = []
    for r in attribution.itertuples():
        measures = [("Shapley value", r.shapley_mean, r.shapley_p5, r.shapley_p95)]
        if r.kind == "channel":
            measures.append(("one at a time", r.alone_mean, r.alone_p5, r.alone_p95))
        for measure, mean, p5, p95 in measures:
            rows.append({"component": plain(r.component), "kind": r.kind, "measure": measure, "mean": float(mean),
                         "p5": float(p5), "p95": float(p95)})
    return pd.DataFrame(rows, columns=["component", "kind", "measure", "mean", "p5", "p95"])


def attribution_chart(attribution: pd.DataFrame, *, source: str | None = None) -> alt.LayerChart:
    """Shapley value of each channel beside its one-at-a-time effect, then interaction and total.

    Means over paths: the Shapley values add up to the total exactly (medians need not). Whiskers:
    5th-95th percentile of the per-path values.
    """
    metric = str(attribution["metric"].iloc[0])
    regime, baseline = str(attribution["regime"].iloc[0]), str(attribution["baseline"].iloc[0])
    data = attribution_frame(attribution)
    unit = delta_unit(metric_unit(metric))
    data["text"] = [fmt_value(v, unit, signed=True) for v in data["mean"]]
    order = list(dict.fromkeys(data["component"]))
    y = alt.Y("component:N", sort=order, axis=_axis(None, labelLimit=260))
    off = alt.YOffset("measure:N", sort=["Shapley value", "one at a time"])
    color = alt.Color("measure:N", scale=alt.Scale(domain=["Shapley value", "one at a time"], range=[BLUE, "#E69F00"]),
                      legend=_legend(None))
    base = alt.Chart(data)
    x_title = plain(f"Contribution to {metric_label(metric)}, {regime} minus {baseline} (mean over paths; {unit})")
    x = alt.X("mean:Q", scale=alt.Scale(domain=_padded(data["mean"], 0.18), nice=False), axis=_axis(x_title, tickCount=6))
    bars = base.mark_bar(height={"band": 0.4}).encode(
        x=x, y=y, yOffset=off, color=color,
        tooltip=[alt.Tooltip("component:N", title="Channel"), alt.Tooltip("measure:N", title="Measure"),
                 alt.Tooltip("text:N", title="Mean"), alt.Tooltip("p5:Q", format=".2f", title="5th pct"),
                 alt.Tooltip("p95:Q", format=".2f", title="95th pct")],
    )
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color=GREY).encode(x="x:Q")
    right = base.mark_text(fontSize=SMALL_SIZE, align="left", dx=4, color="#222222", baseline="middle", dy=4).encode(
        x="mean:Q", y=y, yOffset=off, text="text:N").transform_filter("datum.mean >= 0")
    left = base.mark_text(fontSize=SMALL_SIZE, align="right", dx=-4, color="#222222", baseline="middle", dy=4).encode(
        x="mean:Q", y=y, yOffset=off, text="text:N").transform_filter("datum.mean < 0")
    height = max(140, 40 * len(order))
    title = _title(
        plain(f"Where the difference comes from: {regime} vs {baseline}"),
        [
            "Shapley value (blue): a channel's average marginal effect over every order of switching; the values "
            "add up to the total.",
            "One at a time (orange): the baseline with only that channel switched. Interaction = total minus "
            "the one-at-a-time sum.",
            source or analysis_source(),
        ],
    )
    return alt.layer(zero, bars, right, left).properties(width=480, height=height, title=title)


# ---------------------------------------------------------------- 5. amplification


def amplification_frame(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Waterfall rows of one metric: start, end (median levels), the step's median increment and band."""
    sub = frame[frame["metric"] == metric].sort_values("step")
    if sub.empty:
        raise ValueError(f"metric: {metric!r} not in the amplification frame")
    rows = []
    previous = None
    steps = sub[sub["component"] != "amplification total"]
    for r in steps.itertuples():
        if previous is None:
            start, end, kind = 0.0, float(r.level_p50), "shock itself"
        else:
            start, end, kind = previous, float(r.level_p50), "amplifies" if r.level_p50 >= previous else "dampens"
        rows.append({"step": int(r.step), "component": plain(r.component), "start": start, "end": end, "kind": kind,
                     "increment_p50": float(r.increment_p50), "increment_p5": float(r.increment_p5),
                     "increment_p95": float(r.increment_p95)})
        previous = float(r.level_p50)
    last = sub[sub["component"] == "amplification total"]
    if not last.empty:
        r = next(last.itertuples())
        rows.append({"step": int(r.step), "component": "full outcome", "start": 0.0, "end": float(r.level_p50),
                     "kind": "full outcome", "increment_p50": float(r.increment_p50),
                     "increment_p5": float(r.increment_p5), "increment_p95": float(r.increment_p95)})
    out = pd.DataFrame(rows)
    unit = metric_unit(metric)
    out["level_text"] = [fmt_value(v, unit) for v in out["end"]]
    out["change_text"] = [fmt_value(e - s, unit, signed=True) if k not in ("shock itself", "full outcome")
                          else fmt_value(e, unit) for s, e, k in zip(out["start"], out["end"], out["kind"], strict=True)]
    return out


def amplification_chart(frame: pd.DataFrame, metric: str = "peak_10y_yield_change_bp", *,
                        source: str | None = None) -> alt.LayerChart:
    """Waterfall: the shock itself, each amplification step's change of the median, the full outcome."""
    data = amplification_frame(frame, metric)
    regime = str(frame["regime"].iloc[0]) if "regime" in frame.columns else ""
    order = list(data["component"])
    domain = ["shock itself", "amplifies", "dampens", "full outcome"]
    color = alt.Color("kind:N", scale=alt.Scale(domain=domain, range=[GREY, VERMILLION, BLUE, "#000000"]),
                      legend=_legend(None))
    unit = metric_unit(metric)
    base = alt.Chart(data)
    # Long step names wrap onto lines (a label expression returning an array is drawn line by line).
    expr = _wrap_expr(order, 18)
    x = alt.X("component:N", sort=order, axis=_axis(None, labelAngle=0, labelLimit=160, labelFontSize=SMALL_SIZE,
                                                       labelExpr=expr))
    bars = base.mark_bar(size=44).encode(
        x=x, y=alt.Y("start:Q", axis=_axis(plain(f"{metric_label(metric)}, median level"))), y2="end:Q", color=color,
        tooltip=[alt.Tooltip("component:N", title="Step"), alt.Tooltip("change_text:N", title="Change of the median"),
                 alt.Tooltip("level_text:N", title="Level after the step"),
                 alt.Tooltip("increment_p5:Q", format=".2f", title="Paired increment, 5th pct"),
                 alt.Tooltip("increment_p95:Q", format=".2f", title="Paired increment, 95th pct")],
    )
    text = base.mark_text(fontSize=SMALL_SIZE, dy=-7, color="#222222").encode(
        x=x, y=alt.Y("top:Q"), text="change_text:N").transform_calculate(top="max(datum.start, datum.end)")
    title = _title(
        plain(f"How market structure amplifies the shock: {METRICS[metric].label if metric in METRICS else metric}"
              + (f", {regime}" if regime else "")),
        [
            plain(f"Each step adds one mechanism (cumulative runs, same draws); bars show the change of the median "
                  f"level ({unit}). Vermillion: amplifies, blue: dampens."),
            source or analysis_source(),
        ],
    )
    return alt.layer(bars, text).properties(width=max(520, 110 * len(order)), height=300, title=title)


def _wrap_words(text: str, chars: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > chars:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return lines


def _wrap_expr(labels: Sequence[str], chars: int) -> str:
    """A Vega expression that returns each label wrapped onto lines of about `chars` characters."""
    cases = [f"datum.label == {_js(k)} ? {_js_list(_wrap_words(k, chars))}" for k in labels]
    return " : ".join([*cases, "datum.label"])


def _js(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _js_list(items: list[str]) -> str:
    return "[" + ", ".join(_js(i) for i in items) + "]"


# ---------------------------------------------------------------- 6. robustness


def robustness_chart(points: pd.DataFrame, metric: str, regime_a: str, regime_b: str, *,
                     lower_is_better: bool = True, source: str | None = None) -> alt.LayerChart:
    """The paired difference A - B at every assumption point (base, corners, Latin hypercube)."""
    data = points[["kind", "difference", "a_beats_b"]].copy().reset_index(drop=True)
    data["point"] = np.arange(len(data))
    data["verdict"] = np.where(data["a_beats_b"], f"{regime_a} better", f"{regime_b} better or equal")
    kinds = {"base": "calibrated values", "corner": "corners", "lhs": "Latin hypercube"}
    data["where"] = data["kind"].map(kinds).fillna(data["kind"])
    unit = delta_unit(metric_unit(metric))
    data["text"] = [fmt_value(v, unit, signed=True) for v in data["difference"]]
    color = alt.Color("verdict:N", scale=alt.Scale(domain=[f"{regime_a} better", f"{regime_b} better or equal"],
                                                   range=[BLUE, VERMILLION]), legend=_legend(None))
    base = alt.Chart(data)
    y = alt.Y("where:N", sort=list(kinds.values()), axis=_axis(None))
    dots = base.mark_point(filled=True, size=80, opacity=0.8).encode(
        x=alt.X("difference:Q", axis=_axis(plain(f"{metric_label(metric)}: {regime_a} minus {regime_b} "
                                                 f"(centre over paths; {unit})"))),
        y=y, yOffset=alt.YOffset("jitter:Q"), color=color, shape=alt.Shape("verdict:N", legend=None),
        tooltip=[alt.Tooltip("where:N", title="Point"), alt.Tooltip("text:N", title="Difference")],
    ).transform_calculate(jitter="(datum.point * 7) % 11")
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color=GREY, strokeDash=[4, 3]).encode(x="x:Q")
    better = "lower" if lower_is_better else "higher"
    share = float(data["a_beats_b"].mean()) * 100
    title = _title(
        plain(f"Does {regime_a} beat {regime_b} across the assumption space?"),
        [plain(f"Each dot: one run of both regimes (same draws) at one set of assumptions; {better} is better. "
               f"{regime_a} better at {share:.0f}% of {len(data)} points."),
         source or analysis_source()],
    )
    return alt.layer(zero, dots).properties(width=520, height=200, title=title)


# ---------------------------------------------------------------- 7. expected cost


def expected_cost_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Long frame for the chart: per regime the calm cost and (with a loss) the expected stress loss."""
    rows = []
    for r in frame.itertuples():
        rows.append({"regime": r.regime, "part": "calm interest cost", "panel": "cost",
                     "value": float(r.calm_interest_cost_usd_bn_per_year)})
        if "expected_stress_loss_usd_bn_per_year" in frame.columns:
            rows.append({"regime": r.regime, "part": "expected stress loss", "panel": "cost",
                         "value": float(r.expected_stress_loss_usd_bn_per_year)})
        rows.append({"regime": r.regime, "part": "dysfunction or breakdown", "panel": "probability",
                     "value": float(r.annual_dysfunction_probability_pct)})
    out = pd.DataFrame(rows)
    out["text"] = [fmt_value(v, "$bn/yr" if p == "cost" else "%") for v, p in zip(out["value"], out["panel"],
                                                                                    strict=True)]
    return out


def expected_cost_chart(frame: pd.DataFrame, *, source: str | None = None) -> alt.HConcatChart:
    """Left: calm cost plus expected stress loss per year (stacked); right: annual stress probability."""
    data = expected_cost_frame(frame)
    order = list(dict.fromkeys(data["regime"]))
    y = alt.Y("regime:N", sort=order, axis=_axis(None, labelLimit=200))
    height = max(100, 30 * len(order))
    cost = data[data["panel"] == "cost"]
    parts = [p for p in ("calm interest cost", "expected stress loss") if p in set(cost["part"])]
    color = alt.Color("part:N", scale=alt.Scale(domain=parts, range=[BLUE, VERMILLION][:len(parts)]),
                      legend=_legend(None))
    left = alt.Chart(cost).mark_bar(height={"band": 0.6}).encode(
        x=alt.X("value:Q", stack="zero", axis=_axis("Cost per year ($bn/yr)")), y=y, color=color,
        order=alt.Order("part:N"),
        tooltip=[alt.Tooltip("regime:N"), alt.Tooltip("part:N", title="Part"), alt.Tooltip("text:N", title="Value")],
    ).properties(width=300, height=height)
    prob = data[data["panel"] == "probability"]
    right_bars = alt.Chart(prob).mark_bar(height={"band": 0.6}, color=GREEN).encode(
        x=alt.X("value:Q", axis=_axis("Annual probability of dysfunction (%)")), y=alt.Y("regime:N", sort=order,
                                                                                        axis=None),
        tooltip=[alt.Tooltip("regime:N"), alt.Tooltip("text:N", title="Per year")],
    )
    right_text = alt.Chart(prob).mark_text(align="left", dx=4, fontSize=SMALL_SIZE).encode(
        x="value:Q", y=alt.Y("regime:N", sort=order, axis=None), text="text:N")
    right = alt.layer(right_bars, right_text).properties(width=240, height=height)
    f = float(frame["episode_probability_per_year"].iloc[0])
    loss = "expected_stress_loss_usd_bn_per_year" in frame.columns
    title = _title(
        "Calm cost against stress risk, per year",
        [plain(f"An episode like the scenario's starts in a year with probability {f:g}"
               + ("; stress loss = that probability x P(dysfunction) x the loss per episode." if loss
                  else "; no loss per episode given, so no stress loss is costed.")),
         "Calm cost is measured against status-quo rules: compare regimes, not against 0.",
         source or analysis_source()],
    )
    return alt.hconcat(left, right, spacing=24).properties(title=title).resolve_scale(color="independent")


# ---------------------------------------------------------------- 8. stress-test grid


def stress_grid_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The grid with text and a colour score in [-1, 1] per metric (+1 = best for the market)."""
    out = frame.copy()
    out["metric_label"] = [metric_label(m) for m in out["metric"]]
    scores = []
    for metric, diff in zip(out["metric"], out["diff_p50"], strict=True):
        scale = out.loc[out["metric"] == metric, "diff_p50"].abs().max()
        scores.append(0.0 if not scale else float(-_better_sign(metric) * diff / scale))
    out["score"] = scores
    out["text"] = [fmt_value(d, delta_unit(u), signed=True) for d, u in zip(out["diff_p50"], out["unit"], strict=True)]
    out["band"] = [f"{fmt_number(a, signed=True)} to {fmt_value(b, delta_unit(u), signed=True)}"
                   for a, b, u in zip(out["diff_p5"], out["diff_p95"], out["unit"], strict=True)]
    out["regime_text"] = [fmt_value(v, u) for v, u in zip(out["regime_p50"], out["unit"], strict=True)]
    out["baseline_text"] = [fmt_value(v, u) for v, u in zip(out["baseline_p50"], out["unit"], strict=True)]
    return out


def stress_grid_chart(frame: pd.DataFrame, *, source: str | None = None) -> alt.LayerChart:
    """Scenario x metric table: each cell the median paired difference regime - baseline, coloured
    blue where it helps the market and vermillion where it hurts (scaled within each metric)."""
    data = stress_grid_frame(frame)
    regime, baseline = str(frame["regime"].iloc[0]), str(frame["baseline"].iloc[0])
    metrics = list(dict.fromkeys(data["metric_label"]))
    scenarios = list(dict.fromkeys(data["scenario"]))
    x = alt.X("metric_label:N", sort=metrics, axis=_axis(None, orient="bottom", labelAngle=0, labelLimit=150,
                                                         labelFontSize=SMALL_SIZE, labelExpr=_wrap_expr(metrics, 18)))
    y = alt.Y("scenario:N", sort=scenarios, axis=_axis(None, labelLimit=220))
    base = alt.Chart(data)
    cells = base.mark_rect(stroke="white", strokeWidth=1.5).encode(
        x=x, y=y,
        color=alt.Color("score:Q", scale=alt.Scale(domain=[-1, 1], range=[VERMILLION, "#F2F2F2", BLUE]), legend=None),
        tooltip=[alt.Tooltip("scenario:N", title="Scenario"), alt.Tooltip("metric_label:N", title="Metric"),
                 alt.Tooltip("text:N", title="Median difference"), alt.Tooltip("band:N", title="5th-95th pct"),
                 alt.Tooltip("regime_text:N", title=regime), alt.Tooltip("baseline_text:N", title=baseline)],
    )
    ink = alt.condition("abs(datum.score) > 0.6", alt.value("white"), alt.value("#111111"))
    text = base.mark_text(fontSize=SMALL_SIZE).encode(x=x, y=y, text="text:N", color=ink)
    title = _title(
        plain(f"{regime} against {baseline}, scenario by scenario"),
        ["Median of the path-by-path difference (probabilities: difference of shares, pp). "
         "Blue: better for the market, vermillion: worse (shade scaled within each metric).",
         source or analysis_source()],
    )
    return alt.layer(cells, text).properties(width=118 * len(metrics), height=34 * len(scenarios), title=title)


__all__ = [
    "amplification_chart",
    "amplification_frame",
    "analysis_source",
    "attribution_chart",
    "attribution_frame",
    "expected_cost_chart",
    "expected_cost_frame",
    "factor_label",
    "frontier_chart",
    "frontier_points",
    "metric_label",
    "policy_map_chart",
    "policy_map_frame",
    "preset_marks",
    "robustness_chart",
    "stress_grid_chart",
    "stress_grid_frame",
    "tornado_chart",
    "tornado_frame",
]
