"""The one-click briefing pack: a multi-page PDF and a ZIP of every chart and table behind it.

PDF: text pages are written with fpdf2 in the bundled DejaVu Sans (briefing/fonts, Bitstream Vera
licence). Charts are vl-convert's own vector PDFs, placed on reserved landscape A4 pages with
pypdf as Form XObjects (scaled to fit), so chart text stays vector and searchable (embedded Liberation Sans).

All text is deterministic: it is generated from `result.summary()` and `result.paired_difference`.
The reproducing link is built with `policy.query.view_url`, the app's own encoder; it carries the
model version of the run (`mv`), so the explorer says when it opens the link under another model.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from fpdf import FPDF
from fpdf.fonts import FontFace
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject, NameObject

import policy
from briefing import charts, export
from briefing.numbers import fmt_band, fmt_lever
from briefing.numbers import fmt_value as fmt
from engine import METRICS, scenario_names
from engine.calibration import load_calibration
from engine.scenario import SCENARIO_DIR, load_scenario
from policy.query import MAX_PATHS, QUERY_VERSION, RegimeView, ViewState, regime_view_of, regimes_from_view, view_url

if TYPE_CHECKING:
    from engine import Result

DEFAULT_BASE_URL = "http://localhost:8501/"
FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"

FAN_SERIES = ("yield_10y_change_bp", "market_depth_usd_mn", "dealer_utilization_pct", "forced_sales_usd_bn")
# Headline metrics, first in the headline table (the rest of METRICS follows in its own order).
SUMMARY_METRICS = (
    "peak_10y_yield_change_bp",
    "dysfunction_probability_pct",
    "broken_market_probability_pct",
    "trough_market_depth_usd_mn",
    "peak_dealer_utilization_pct",
    "forced_sales_usd_bn",
    "fed_purchases_usd_bn",
    "calm_yield_cost_bp",
    "calm_interest_cost_usd_bn_per_year",
)
# Metrics where a lower number means a calmer market (for the words "lower"/"higher").
READING = {
    "fan": "Lines are medians across simulated paths; shaded bands hold 90% of paths (5th to 95th percentile). "
    "Dashed lines mark the scenario's events.",
    "tradeoff": "Each point is a regime: further right costs more in calm markets, further down means a smaller "
    "yield spike in stress; bigger points reach a breakdown (beyond anything observed) on more paths.",
    "functioning": "Solid lines: share of paths on which the market is dysfunctional that day; dashed lines: share "
    "broken down (beyond anything observed). Dashed vertical lines mark the scenario's events.",
    "holdings": "Lines above zero are net buyers, below zero net sellers, cumulated from day 0 (mean over paths).",
}

# A4 landscape, in mm (fpdf) and points (pypdf).
PAGE_W_MM, PAGE_H_MM = 297.0, 210.0
MARGIN_MM = 14.0
MM = 72.0 / 25.4


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "regime"


@cache
def _font_cmap() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(FONT_DIR / "DejaVuSans.ttf") as font:
        regular = set(font.getBestCmap())
    with TTFont(FONT_DIR / "DejaVuSans-Bold.ttf") as font:
        bold = set(font.getBestCmap())
    return frozenset(regular & bold)


def pdf_text(text: str) -> str:
    """Text safe for the bundled font: any glyph DejaVu Sans lacks becomes '?'."""
    cmap = _font_cmap()
    return "".join(c if c in "\n\t" or ord(c) in cmap else "?" for c in str(text))


# ------------------------------------------------------------------------------------ view / link
def view_for_result(result: Result) -> ViewState:
    """The explorer view that reproduces `result` (presets stay presets; custom regimes become changes)."""
    regimes = []
    for regime in result.regimes:
        try:
            is_preset = policy.get_preset(regime.name) == regime
        except KeyError:
            is_preset = False
        regimes.append(RegimeView(preset=regime.name, name=regime.name) if is_preset else regime_view_of(regime))
    return ViewState(
        scenario=result.scenario.name,
        shock_scale=result.shock_scale,
        paths=result.paths,
        seed=result.seed,
        regimes=regimes,
    )


def _lever_dump(regime: policy.PolicyRegime) -> dict[str, Any]:
    data = regime.model_dump()
    data.pop("name", None)
    data.pop("description", None)
    return data


def link_caveats(result: Result, view: ViewState) -> list[str]:
    """What the link cannot carry, in words (empty when it reproduces the run exactly)."""
    notes = []
    if result.scenario.name not in scenario_names() or load_scenario(result.scenario.name) != result.scenario:
        notes.append(
            f"The scenario '{result.scenario.name}' is not the bundled scenario of that name; the link opens the "
            "bundled one. Use the scenario file in the ZIP to reproduce this run."
        )
    try:
        rebuilt = regimes_from_view(view)
    except ValueError as err:
        return [*notes, f"The link's regimes are not valid ({err})."]
    for regime, again in zip(result.regimes, rebuilt, strict=False):
        if _lever_dump(regime) != _lever_dump(again):
            notes.append(
                f"Regime '{regime.name}' holds data the link cannot carry (e.g. a purchase schedule); "
                "use its JSON file in the ZIP."
            )
    return notes


def _check_view(result: Result, view: ViewState) -> None:
    mismatches = []
    if view.scenario != result.scenario.name:
        mismatches.append(f"scenario {view.scenario!r} vs {result.scenario.name!r}")
    if view.paths != result.paths:
        mismatches.append(f"paths {view.paths} vs {result.paths}")
    if view.seed != result.seed:
        mismatches.append(f"seed {view.seed} vs {result.seed}")
    if abs(view.shock_scale - result.shock_scale) > 1e-12:
        mismatches.append(f"shock_scale {view.shock_scale} vs {result.shock_scale}")
    if [r.name for r in view.regimes] != result.regime_names:
        mismatches.append(f"regimes {[r.name for r in view.regimes]} vs {result.regime_names}")
    if mismatches:
        raise ValueError("view: does not match the result (" + "; ".join(mismatches) + ")")


# ---------------------------------------------------------------------------------------- words
def baseline_name(result: Result) -> str:
    """The regime others are compared with: status_quo if present, else the first."""
    return "status_quo" if "status_quo" in result.regime_names else result.regime_names[0]


def regime_changes_text(regime: policy.PolicyRegime) -> list[str]:
    """'Label: new (status quo: old)' for every lever that differs from status_quo."""
    base = policy.get_preset("status_quo")
    out = []
    for spec in policy.lever_specs():
        new, old = policy.regime_value(regime, spec.path), policy.regime_value(base, spec.path)
        if new != old:
            out.append(f"{spec.label}: {fmt_lever(new, spec.unit)} (status quo: {fmt_lever(old, spec.unit)})")
    if regime.fed_backstop.purchase_schedule_usd_bn_per_day != base.fed_backstop.purchase_schedule_usd_bn_per_day:
        out.append("Fed purchases follow a historical schedule (see the regime JSON)")
    return out


def _direction(delta: float, unit: str) -> str:
    if fmt(abs(delta), unit) == fmt(0.0, unit):
        return "about the same"
    return f"{fmt(abs(delta), unit)} {'higher' if delta > 0 else 'lower'}"


def summary_paragraphs(result: Result) -> list[tuple[str, list[str]]]:
    """Plain-language summary as (paragraph, bullets): the baseline outcome, then each regime's
    change against it with paired 5th-95th percentile differences, and its calm-market cost."""
    s = result.summary()
    base = baseline_name(result)
    sb = s[base]
    sc = result.scenario
    out: list[tuple[str, list[str]]] = [
        (
            f"Scenario: {sc.title} ({sc.name}), {result.days} business days from {result.dates[0]:%d %b %Y}, "
            f"shock scale {result.shock_scale:g}. {sc.description.strip()}",
            [],
        ),
        (
            f"Under {base} (median, with the 5th to 95th percentile of {result.paths:,} simulated paths):",
            [
                f"the 10y yield rises at its peak by {fmt_band(sb['peak_10y_yield_change_bp'], 'bp')};",
                f"the market is dysfunctional (10y dislocation and dealer utilization both past their thresholds, as "
                f"on 10-18 March 2020) on at least one day on {fmt(sb['dysfunction_probability_pct']['p50'], '%')} "
                f"of paths (dysfunctional days per path: {fmt_band(sb['dysfunction_days'], 'days')});",
                f"it reaches a breakdown (beyond anything observed) on "
                f"{fmt(sb['broken_market_probability_pct']['p50'], '%')} of paths;",
                f"market depth falls to {fmt_band(sb['trough_market_depth_usd_mn'], '$mn')};",
                f"RV funds sell {fmt_band(sb['forced_sales_usd_bn'], '$bn')} and the Fed buys "
                f"{fmt_band(sb['fed_purchases_usd_bn'], '$bn')}.",
            ],
        ),
    ]
    for name in result.regime_names:
        if name == base:
            continue
        sr = s[name]
        bullets = []
        for metric, what in (
            ("peak_10y_yield_change_bp", "Peak 10y yield rise"),
            ("trough_market_depth_usd_mn", "Trough market depth"),
            ("forced_sales_usd_bn", "RV forced sales"),
            ("fed_purchases_usd_bn", "Fed purchases"),
        ):
            unit = METRICS[metric].unit
            d = result.paired_difference(metric, name, base)
            bullets.append(
                f"{what}: {fmt(sr[metric]['p50'], unit)} vs {fmt(sb[metric]['p50'], unit)}, "
                f"{_direction(sr[metric]['p50'] - sb[metric]['p50'], unit)} (path-by-path difference, 5th to 95th "
                f"percentile: {fmt(d['p5'], unit)} to {fmt(d['p95'], unit)})."
            )
        for metric, what in (
            ("dysfunction_probability_pct", "Dysfunction (as on 10-18 March 2020)"),
            ("broken_market_probability_pct", "Breakdown (beyond anything observed)"),
        ):
            delta = sr[metric]["p50"] - sb[metric]["p50"]
            bullets.append(
                f"{what}: on {fmt(sr[metric]['p50'], '%')} of paths vs {fmt(sb[metric]['p50'], '%')} "
                f"({fmt(delta, 'pp').replace(' pp', ' percentage points')})."
            )
        bullets.append(
            f"Cost in calm markets: {fmt_band(sr['calm_yield_cost_bp'], 'bp')} of yield versus status-quo rules, "
            f"about {fmt(sr['calm_interest_cost_usd_bn_per_year']['p50'], '$bn/yr')} of interest once all debt has "
            f"repriced ({fmt(sr['calm_first_year_interest_cost_usd_bn']['p50'], '$bn')} in the first year)."
        )
        out.append((f"{name} compared with {base}:", bullets))
    out.append(
        (
            "All regimes see the same random draws (common random numbers), so differences are measured path by "
            "path. Ranges reflect uncertainty in calibrated parameters and shocks, not model uncertainty.",
            [],
        )
    )
    return out


# ------------------------------------------------------------------------------------- the charts
@dataclass(frozen=True)
class ChartItem:
    key: str
    caption: str
    reading: str
    chart: Any
    frame: pd.DataFrame


def chart_items(result: Result) -> list[ChartItem]:
    """Every chart of the pack, with its data frame (the CSV) and a how-to-read line."""
    items = [
        ChartItem(
            f"fan_{series}",
            f"{charts.SERIES[series]} by regime",
            READING["fan"],
            charts.fan_chart(result, series),
            charts.chart_frame(result, "fan", series=series),
        )
        for series in FAN_SERIES
    ]
    items.append(
        ChartItem(
            "functioning",
            "Market functioning: share of paths dysfunctional or broken down each day",
            READING["functioning"],
            charts.functioning_chart(result),
            charts.chart_frame(result, "functioning"),
        )
    )
    items.append(
        ChartItem(
            "tradeoff",
            "Calm-period cost against stress-period outcome",
            READING["tradeoff"],
            charts.tradeoff_chart(result),
            charts.chart_frame(result, "tradeoff"),
        )
    )
    for name in result.regime_names:
        items.append(
            ChartItem(
                f"holdings_{_safe_name(name)}",
                f"Who sold and who absorbed under {name}",
                READING["holdings"],
                charts.holdings_chart(result, name),
                charts.chart_frame(result, "holdings", regime=name),
            )
        )
    return items


# -------------------------------------------------------------------------------------- the PDF
class _Doc(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.footer_text = footer_text
        self.add_font(FONT, "", FONT_DIR / "DejaVuSans.ttf")
        self.add_font(FONT, "B", FONT_DIR / "DejaVuSans-Bold.ttf")
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self.set_auto_page_break(True, margin=16)
        self.set_title("Treasury Market Policy Explorer briefing")
        self.set_creator("Treasury Market Policy Explorer")

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FONT, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, pdf_text(self.footer_text), align="L")
        self.set_x(-40)
        self.cell(26, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0, 0, 0)

    def heading(self, text: str, size: float = 16) -> None:
        self.set_font(FONT, "B", size)
        self.multi_cell(0, size * 0.5, pdf_text(text), new_x="LMARGIN", new_y="NEXT", align="L")
        self.ln(2)

    def para(self, text: str, size: float = 10.5, bold: bool = False) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.multi_cell(0, size * 0.48, pdf_text(text), new_x="LMARGIN", new_y="NEXT", align="L")
        self.ln(1.5)

    def bullet(self, text: str, size: float = 10) -> None:
        self.set_font(FONT, "", size)
        self.set_x(self.l_margin + 4)
        self.multi_cell(0, size * 0.48, pdf_text("- " + text), new_x="LMARGIN", new_y="NEXT", align="L")

    def grid(self, rows: list[list[str]], widths: tuple[float, ...], size: float = 8.5, align: str = "LEFT") -> None:
        self.set_font(FONT, "", size)
        heading = FontFace(emphasis="BOLD", fill_color=(225, 232, 240))
        with self.table(
            col_widths=widths,
            line_height=size * 0.5,
            headings_style=heading,
            cell_fill_color=(246, 246, 246),
            cell_fill_mode="ROWS",
            text_align=align,
            padding=1.2,
        ) as table:
            for row in rows:
                cells = table.row()
                for text in row:
                    cells.cell(pdf_text(text))


def _title_page(doc: _Doc, result: Result, link: str, caveats: list[str], generated: str) -> None:
    doc.add_page()
    doc.set_font(FONT, "B", 24)
    doc.multi_cell(0, 11, pdf_text(f"Briefing: {result.scenario.title}"), new_x="LMARGIN", new_y="NEXT", align="L")
    doc.set_font(FONT, "", 11)
    doc.set_text_color(80, 80, 80)
    doc.multi_cell(
        0,
        5.5,
        pdf_text(
            f"Treasury Market Policy Explorer, model v{result.model_version}. Scenario {result.scenario.name} "
            f"({result.scenario.kind}, {result.scenario.era} positions), {result.paths:,} paths, seed {result.seed}, "
            f"shock scale {result.shock_scale:g}. Generated {generated}."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
        align="L",
    )
    doc.set_text_color(0, 0, 0)
    doc.ln(3)
    doc.para(result.scenario.description.strip())
    doc.heading("Regimes compared", 14)
    for regime in result.regimes:
        doc.para(f"{regime.name}: {regime.description}".strip(), size=10.5, bold=True)
        changes = regime_changes_text(regime)
        if not changes:
            doc.bullet("Same levers as status quo (rules in force on 1 Dec 2026).")
        for line in changes:
            doc.bullet(line)
        doc.ln(1.5)
    doc.heading("Reproduce this run", 12)
    doc.set_font(FONT, "", 9)
    doc.set_text_color(0, 70, 160)
    doc.multi_cell(0, 4.6, pdf_text(link), link=link, new_x="LMARGIN", new_y="NEXT", align="L")
    doc.set_text_color(0, 0, 0)
    for note in caveats:
        doc.para("Note: " + note, size=9)


def _cell(stats: dict[str, float], unit: str) -> str:
    if fmt(stats["p5"], unit) == fmt(stats["p95"], unit):
        return fmt(stats["p50"], unit)
    return fmt_band(stats, unit)


def _summary_pages(doc: _Doc, result: Result) -> None:
    doc.add_page()
    doc.heading("What changed, and by how much")
    for text, bullets in summary_paragraphs(result):
        doc.para(text, bold=bool(bullets))
        for line in bullets:
            doc.bullet(line)
        if bullets:
            doc.ln(1.5)
    doc.add_page()
    doc.heading("Headline results: median (5th to 95th percentile)", 14)
    s = result.summary()
    rows = [["Metric", "Unit", *result.regime_names]]
    order = [m for m in SUMMARY_METRICS if m in METRICS] + [m for m in METRICS if m not in SUMMARY_METRICS]
    for metric in order:
        spec = METRICS[metric]
        rows.append([spec.label, spec.unit, *(_cell(s[r][metric], spec.unit) for r in result.regime_names)])
    n = len(result.regime_names)
    doc.grid(rows, (46, 12, *([max(40.0, 200.0 / n)] * n)), size=8.5)
    doc.ln(3)
    doc.heading("Metric definitions", 11)
    for spec in METRICS.values():
        doc.bullet(f"{spec.label} ({spec.unit}): {spec.definition}", size=8.5)


def _chart_page(doc: _Doc, number: int, total: int, item: ChartItem) -> tuple[int, tuple[float, float, float, float]]:
    doc.add_page()
    doc.set_font(FONT, "B", 11)
    doc.cell(0, 6, pdf_text(f"Figure {number} of {total}: {item.caption}"), new_x="LMARGIN", new_y="NEXT", align="L")
    doc.set_font(FONT, "", 9)
    doc.set_text_color(80, 80, 80)
    doc.multi_cell(0, 4.5, pdf_text("How to read: " + item.reading), new_x="LMARGIN", new_y="NEXT", align="L")
    doc.set_text_color(0, 0, 0)
    top = doc.get_y() + 2
    box = (MARGIN_MM, top, PAGE_W_MM - 2 * MARGIN_MM, PAGE_H_MM - top - 16)
    return doc.page_no() - 1, box


def _assumption_pages(doc: _Doc, result: Result) -> None:
    cal = load_calibration(result.scenario.era)
    doc.add_page()
    doc.heading(f"Assumptions: calibrated parameters ({cal.era} era, as of {cal.as_of})")
    doc.para(
        "Status: V = verified against the cited source, V2 = verified from a secondary source, U = uncertain "
        "(a judgement within the range shown). Sampled parameters are drawn across the low-high range on each path.",
        size=9,
    )
    rows = [["Name", "Value", "Low", "High", "Unit", "Status", "Sampled", "Source"]]
    for v in cal.values.values():
        rows.append(
            [v.name, f"{v.value:g}", f"{v.low:g}", f"{v.high:g}", v.unit, v.status, "yes" if v.sampled else "no",
             v.source + (f" Tuned to: {v.tuned_to}" if v.tuned_to else "")]
        )
    doc.grid(rows, (42, 13, 13, 13, 28, 14, 16, 130), size=7)
    doc.add_page()
    doc.heading("Regime levers")
    names = result.regime_names
    rows = [["Lever", "Unit", "status_quo (reference)", *names]]
    base = policy.get_preset("status_quo")
    for spec in policy.lever_specs():
        ref = policy.regime_value(base, spec.path)
        cells = []
        for regime in result.regimes:
            value = policy.regime_value(regime, spec.path)
            cells.append(fmt_lever(value, "") + (" *" if value != ref else ""))
        rows.append([f"{spec.label} ({spec.path})", spec.unit, fmt_lever(ref, ""), *cells])
    n = len(names)
    doc.grid(rows, (92, 34, 30, *([max(22.0, 113.0 / n)] * n)), size=7.5)
    doc.para("* differs from status quo. Lever sources are in the methodology and in each regime's JSON.", size=8)


def _reproduce_page(doc: _Doc, result: Result, link: str, caveats: list[str]) -> None:
    doc.add_page()
    doc.heading("Reproducibility")
    regimes = " ".join(f"--regime {n}" for n in result.regime_names)
    lines = [
        f"Model version: {result.model_version} (the link carries it as mv={result.model_version}; link format "
        f"{QUERY_VERSION})",
        f"Scenario: {result.scenario.name} ({result.scenario.title})",
        f"Regimes: {', '.join(result.regime_names)}",
        f"Paths: {result.paths:,}; seed: {result.seed}; shock scale: {result.shock_scale:g}; days: {result.days}",
        f"Command line: python -m briefing export --scenario {result.scenario.name} {regimes} --paths {result.paths} "
        f"--seed {result.seed} --shock-scale {result.shock_scale:g} --out DIR",
    ]
    for line in lines:
        doc.para(line)
    doc.para("Link to this view in the explorer:", bold=True)
    doc.set_font(FONT, "", 9)
    doc.set_text_color(0, 70, 160)
    doc.multi_cell(0, 4.6, pdf_text(link), link=link, new_x="LMARGIN", new_y="NEXT", align="L")
    doc.set_text_color(0, 0, 0)
    for note in caveats:
        doc.para("Note: " + note, size=9)
    doc.para(
        "The ZIP that accompanies this PDF holds every chart as PNG, SVG and PDF with its data as CSV, the "
        "summary and daily series as CSV, each regime as JSON and the scenario file.",
        size=9,
    )


def _chart_xobject(writer: PdfWriter, chart_pdf: bytes) -> tuple[Any, float, float]:
    """vl-convert's one-page chart PDF as a Form XObject in `writer` (its content is copied, not parsed)."""
    page = PdfReader(io.BytesIO(chart_pdf)).pages[0]
    box = page.mediabox
    contents = page["/Contents"].get_object()
    parts = contents if isinstance(contents, ArrayObject) else [contents]
    data = b"\n".join(part.get_object().get_data() for part in parts)
    form = DecodedStreamObject()
    form.set_data(data)
    form.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject([FloatObject(float(v)) for v in (box.left, box.bottom, box.right, box.top)]),
            NameObject("/Resources"): page["/Resources"].get_object().clone(writer),
        }
    )
    return writer._add_object(form), float(box.width), float(box.height)


def _merge_charts(text_pdf: bytes, placements: list[tuple[int, tuple[float, float, float, float], bytes]]) -> bytes:
    """Lay each chart's vl-convert PDF into its reserved box as a vector Form XObject.

    Equivalent to pypdf's merge_transformed_page, but without parsing the chart's content stream
    (that parse took most of the pack's build time).
    """
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf)))
    for k, (index, (x_mm, y_mm, w_mm, h_mm), chart_pdf) in enumerate(placements):
        ref, cw, ch = _chart_xobject(writer, chart_pdf)
        bw, bh = w_mm * MM, h_mm * MM
        scale = min(bw / cw, bh / ch, 1.25)
        page = writer.pages[index]
        page_h = float(page.mediabox.height)
        tx = x_mm * MM + (bw - cw * scale) / 2
        ty = page_h - y_mm * MM - ch * scale  # top-aligned in the box (PDF origin is bottom-left)
        resources = page["/Resources"].get_object()
        if "/XObject" not in resources:
            resources[NameObject("/XObject")] = DictionaryObject()
        name = f"/BriefingChart{k}"
        resources["/XObject"].get_object()[NameObject(name)] = ref
        draw = DecodedStreamObject()
        draw.set_data(f"q {scale:.6f} 0 0 {scale:.6f} {tx:.3f} {ty:.3f} cm {name} Do Q".encode())
        contents = page["/Contents"].get_object()
        items = list(contents) if isinstance(contents, ArrayObject) else [page["/Contents"]]
        page[NameObject("/Contents")] = ArrayObject([*items, writer._add_object(draw)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def build_pdf(result: Result, view: ViewState, base_url: str = DEFAULT_BASE_URL, *, _rendered=None) -> bytes:
    """The multi-page briefing PDF."""
    _check_view(result, view)
    link = view_url(base_url, view, model_version=result.model_version)
    caveats = link_caveats(result, view)
    generated = datetime.now(UTC).strftime("%d %b %Y %H:%M UTC")
    items, rendered = _rendered if _rendered is not None else _render(result)
    doc = _Doc(
        f"Treasury Market Policy Explorer v{result.model_version} | {result.scenario.name} | "
        f"{result.paths:,} paths, seed {result.seed}"
    )
    _title_page(doc, result, link, caveats, generated)
    _summary_pages(doc, result)
    placements = []
    for k, item in enumerate(items, start=1):
        index, box = _chart_page(doc, k, len(items), item)
        placements.append((index, box, rendered[item.key]["pdf"]))
    _assumption_pages(doc, result)
    _reproduce_page(doc, result, link, caveats)
    return _merge_charts(bytes(doc.output()), placements)


def _render(result: Result) -> tuple[list[ChartItem], dict[str, dict[str, Any]]]:
    items = chart_items(result)
    rendered = {}
    for item in items:
        rendered[item.key] = {**export.render_all(item.chart, scale=2), "csv": export.to_csv(item.frame)}
    return items, rendered


# -------------------------------------------------------------------------------------- the ZIP
def _scenario_file(result: Result) -> tuple[str, bytes]:
    name = result.scenario.name
    path = SCENARIO_DIR / f"{name}.toml"
    if name in scenario_names() and path.is_file() and load_scenario(name) == result.scenario:
        return f"scenario/{name}.toml", path.read_bytes()
    return f"scenario/{_safe_name(name)}.json", result.scenario.model_dump_json(indent=2).encode("utf-8")


def build_zip(
    result: Result, view: ViewState, base_url: str, pdf_name: str | None, rendered_items, pdf: bytes | None = None
) -> bytes:
    """The ZIP: the briefing PDF (when given), every chart in PNG/SVG/PDF/CSV, data, regimes, scenario."""
    items, rendered = rendered_items
    link = view_url(base_url, view, model_version=result.model_version)
    files: dict[str, bytes] = {}
    if pdf is not None and pdf_name:
        files[pdf_name] = pdf
    for item in items:
        for ext in ("png", "svg", "pdf", "csv"):
            data = rendered[item.key][ext]
            files[f"charts/{item.key}.{ext}"] = data.encode("utf-8") if isinstance(data, str) else data
    files["data/summary.csv"] = export.to_csv(result.summary_frame())
    series = result.series_frame()
    series["date"] = pd.to_datetime(series["date"]).dt.strftime("%Y-%m-%d")
    files["data/series.csv"] = export.to_csv(series)
    holdings = result.holdings_frame()
    holdings["date"] = pd.to_datetime(holdings["date"]).dt.strftime("%Y-%m-%d")
    files["data/holdings.csv"] = export.to_csv(holdings)
    base = baseline_name(result)
    diffs = [
        {"regime": name, "baseline": base, "metric": m, "unit": METRICS[m].unit}
        | result.paired_difference(m, name, base)
        for name in result.regime_names
        if name != base
        for m in METRICS
    ]
    if diffs:
        files["data/paired_differences.csv"] = export.to_csv(pd.DataFrame(diffs))
    cal = load_calibration(result.scenario.era)
    files["data/assumptions.csv"] = export.to_csv(
        pd.DataFrame([v.model_dump() for v in cal.values.values()])
    )
    for regime in result.regimes:
        files[f"regimes/{_safe_name(regime.name)}.json"] = policy.regime_to_json(regime).encode("utf-8")
    scenario_path, scenario_bytes = _scenario_file(result)
    files[scenario_path] = scenario_bytes
    run = {
        "model_version": result.model_version,
        "link_format": QUERY_VERSION,
        "scenario": result.scenario.name,
        "regimes": result.regime_names,
        "paths": result.paths,
        "seed": result.seed,
        "shock_scale": result.shock_scale,
        "days": result.days,
        "link": link,
    }
    files["run.json"] = json.dumps(run, indent=2).encode("utf-8")
    files = {"README.txt": _readme(result, link, files, pdf_name, link_caveats(result, view)).encode("utf-8"), **files}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(result.dates[0].year, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if name.endswith((".png", ".pdf")) else zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return out.getvalue()


_DESCRIBE = {
    ".png": "chart image, 2x scale",
    ".svg": "chart, vector (text uses the viewer's sans-serif font)",
    ".pdf": "chart, vector with embedded fonts",
    ".csv": "the chart's data, units in column names",
}


def _readme(result: Result, link: str, files: dict[str, bytes], pdf_name: str | None, caveats: list[str]) -> str:
    lines = [
        "Treasury Market Policy Explorer: briefing pack",
        "",
        f"Scenario: {result.scenario.name} ({result.scenario.title})",
        f"Regimes: {', '.join(result.regime_names)}",
        f"Model version: {result.model_version}",
        f"Paths: {result.paths}; seed: {result.seed}; shock scale: {result.shock_scale:g}",
        f"Link to this view: {link}",
        *[f"Note: {c}" for c in caveats],
        "",
        "Contents:",
        "  README.txt  this file",
    ]
    if pdf_name and pdf_name not in files:
        lines.append(f"  (the briefing PDF, {pdf_name}, is delivered next to this ZIP)")
    for name in files:
        suffix = Path(name).suffix
        if name.startswith("charts/"):
            what = _DESCRIBE.get(suffix, "")
        elif name == "data/summary.csv":
            what = "every metric: regime, metric, unit, stat (p5/p50/p95), value"
        elif name == "data/series.csv":
            what = "daily p5/p50/p95 of every series by regime (unit in the label column)"
        elif name == "data/holdings.csv":
            what = "mean cumulative net purchases by sector and day ($bn)"
        elif name == "data/paired_differences.csv":
            what = "path-by-path differences vs the baseline regime (p5/p50/p95, metric units)"
        elif name == "data/assumptions.csv":
            what = "calibrated parameters with ranges, units, status and sources"
        elif name.startswith("regimes/"):
            what = "regime, loadable with --regime FILE or in the app"
        elif name.startswith("scenario/"):
            what = "scenario, loadable with --scenario FILE"
        elif name == "run.json":
            what = "run settings (model version, seed, paths, link)"
        elif name == pdf_name:
            what = "the briefing: summary, headline table, charts, assumptions, link"
        else:
            what = ""
        lines.append(f"  {name}  {what}".rstrip())
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------------- the pack
def pack_names(result: Result) -> tuple[str, str]:
    stem = f"briefing_{_safe_name(result.scenario.name)}_seed{result.seed}"
    return f"{stem}.pdf", f"{stem}.zip"


def build_pack(result: Result, view: ViewState, base_url: str = DEFAULT_BASE_URL) -> tuple[bytes, bytes]:
    """(pdf_bytes, zip_bytes) for `result`; `view` must describe the same run (it makes the link)."""
    _check_view(result, view)
    rendered = _render(result)
    pdf = build_pdf(result, view, base_url, _rendered=rendered)
    zipped = build_zip(result, view, base_url, pack_names(result)[0], rendered, pdf=pdf)
    return pdf, zipped


__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_PATHS",
    "build_pack",
    "build_pdf",
    "build_zip",
    "chart_items",
    "fmt",
    "fmt_band",
    "pack_names",
    "summary_paragraphs",
    "view_for_result",
]
