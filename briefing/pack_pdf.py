"""The briefing PDF: fpdf2 text pages with vl-convert's vector chart PDFs laid into them.

Text pages are written with fpdf2 in the bundled DejaVu Sans (briefing/fonts, Bitstream Vera
licence): title, summary, headline and metric tables, one landscape A4 page per figure with its box
reserved, assumptions and the reproducibility page. Charts are vl-convert's own vector PDFs, placed
in the reserved boxes with pypdf as Form XObjects (scaled to fit), so chart text stays vector and
searchable (embedded Liberation Sans); only public pypdf API is used (each form is a clone of the
chart's content stream, drawn from the page's own content stream). The words come from
`briefing.pack_text`, the charts from `briefing.pack_charts`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, IndirectObject, NameObject

import policy
from briefing.headline import HEADLINE, definition_of, headline_rows
from briefing.numbers import fmt_lever
from briefing.pack_charts import MARGIN_MM, MM, PAGE_H_MM, PAGE_W_MM, ChartItem, RenderedCharts, stage
from briefing.pack_text import (
    DEFAULT_BASE_URL,
    GREY_RGB,
    CellText,
    Text,
    baseline_name,
    check_view,
    headline_table,
    is_shipped,
    link_caveats,
    metric_cell,
    regime_changes_text,
    safe_name,
    scenario_edit_note,
    scenario_file,
    summary_paragraphs,
)
from engine import METRICS
from engine.calibration import load_calibration
from engine.metrics import EXCEEDANCES
from policy.query import QUERY_VERSION, ViewState, view_url

if TYPE_CHECKING:
    from engine import Result

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"
# Headline metrics, first in the full metric table (the rest of METRICS follows in its own order).
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
        self._widths: dict[tuple[str, bool, float], float] = {}

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

    def para(self, text: str, size: float = 10.5, bold: bool = False, color: tuple[int, int, int] = (0, 0, 0)) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.set_text_color(*color)
        self.multi_cell(0, size * 0.48, pdf_text(text), new_x="LMARGIN", new_y="NEXT", align="L")
        self.set_text_color(0, 0, 0)
        self.ln(1.5)

    def bullet(self, text: str, size: float = 10) -> None:
        self.set_font(FONT, "", size)
        self.set_x(self.l_margin + 4)
        self.multi_cell(0, size * 0.48, pdf_text("- " + text), new_x="LMARGIN", new_y="NEXT", align="L")

    # A table laid out here rather than with fpdf's `table()`: fpdf re-measures the whole line for
    # every character it adds (quadratic per line) and lays every cell out twice, which made the
    # assumptions table alone take about 3 s. Words are measured once (cached) and lines drawn with
    # `text()`, so a table costs milliseconds; it still breaks across pages and repeats its heading.
    def _word_width(self, word: str, bold: bool, size: float) -> float:
        key = (word, bold, size)
        width = self._widths.get(key)
        if width is None:
            self.set_font(FONT, "B" if bold else "", size)
            width = self._widths[key] = self.get_string_width(word)
        return width

    def _wrap(self, text: str, width: float, bold: bool, size: float) -> list[str]:
        lines: list[str] = []
        space = self._word_width(" ", bold, size)
        for paragraph in pdf_text(text).split("\n"):
            line, used = "", 0.0
            for word in paragraph.split(" "):
                w = self._word_width(word, bold, size)
                if line and used + space + w <= width:
                    line, used = f"{line} {word}", used + space + w
                    continue
                if line:
                    lines.append(line)
                while w > width and len(word) > 1:  # a word wider than the column: cut it
                    cut = len(word) - 1
                    while cut > 1 and self._word_width(word[:cut], bold, size) > width:
                        cut -= 1
                    lines.append(word[:cut])
                    word = word[cut:]
                    w = self._word_width(word, bold, size)
                line, used = word, w
            lines.append(line)
        return lines

    def grid(
        self,
        rows: Sequence[Sequence[CellText]],
        widths: Sequence[float],
        size: float = 8.5,
        pad: float = 1.2,
    ) -> None:
        """A table: the first row is the heading (bold, shaded, repeated after a page break); body
        rows alternate a light fill. A cell is a string or a sequence of `Text` paragraphs."""

        def layout(row: Sequence[CellText], heading: bool) -> tuple[list[list[tuple[str, Text, float]]], float]:
            cells, height = [], 0.0
            for content, w in zip(row, widths, strict=True):
                parts = [Text(content, bold=heading)] if isinstance(content, str) else list(content)
                lines = []
                for part in parts:
                    psize = part.size or size
                    for line in self._wrap(part.text, w - 2 * pad, part.bold or heading, psize):
                        lines.append((line, part, psize))
                cells.append(lines)
                height = max(height, sum(p * 0.5 for _, _, p in lines))
            return cells, height + 2 * pad

        def draw(cells: list[list[tuple[str, Text, float]]], height: float, fill: tuple[int, int, int] | None,
                 heading: bool) -> None:
            x, y = self.l_margin, self.get_y()
            self.set_draw_color(200, 204, 210)
            self.set_line_width(0.15)
            for lines, w in zip(cells, widths, strict=True):
                if fill is not None:
                    self.set_fill_color(*fill)
                self.rect(x, y, w, height, style="DF" if fill is not None else "D")
                top = y + pad
                for line, part, psize in lines:
                    lh = psize * 0.5
                    self.set_font(FONT, "B" if (part.bold or heading) else "", psize)
                    self.set_text_color(*part.color)
                    self.text(x + pad, top + 0.5 * lh + 0.3 * psize / self.k, line)
                    top += lh
                x += w
            self.set_text_color(0, 0, 0)
            self.set_y(y + height)

        head = layout(rows[0], True)
        self.set_x(self.l_margin)
        if self.get_y() + head[1] + 10 > self.page_break_trigger:  # never a heading alone at a page's foot
            self.add_page()
        draw(*head, (225, 232, 240), True)
        for i, row in enumerate(rows[1:]):
            cells, height = layout(row, False)
            if self.get_y() + height > self.page_break_trigger:
                self.add_page()
                draw(*head, (225, 232, 240), True)
            draw(cells, height, (246, 246, 246) if i % 2 else None, False)


def _link_and_caveats(doc: _Doc, link: str, caveats: list[str]) -> None:
    """The view's link (blue, clickable) and one note per caveat of it."""
    doc.set_font(FONT, "", 9)
    doc.set_text_color(0, 70, 160)
    doc.multi_cell(0, 4.6, pdf_text(link), link=link, new_x="LMARGIN", new_y="NEXT", align="L")
    doc.set_text_color(0, 0, 0)
    for note in caveats:
        doc.para("Note: " + note, size=9)


def _title_page(doc: _Doc, result: Result, view: ViewState, link: str, caveats: list[str], generated: str) -> None:
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
    doc.ln(2)
    note = scenario_edit_note(view)
    if note:
        doc.para(note, size=10.5, bold=True)
    base = baseline_name(result)
    doc.para(
        f"Baseline: {base} (the first regime, as in the explorer). Differences are to {base}, path by path on the "
        "same simulated draws.",
        size=10.5,
        bold=True,
    )
    doc.para(result.scenario.description.strip())
    doc.heading("Regimes compared", 14)
    for regime in result.regimes:
        suffix = " (baseline)" if regime.name == base else ""
        doc.para(f"{regime.name}{suffix}: {regime.description}".strip(), size=10.5, bold=True)
        changes = regime_changes_text(regime)
        if not changes:
            doc.bullet("Same levers as status quo (rules in force on 1 Dec 2026).")
        for line in changes:
            doc.bullet(line)
        doc.ln(1.5)
    doc.heading("Reproduce this run", 12)
    _link_and_caveats(doc, link, caveats)


def _summary_pages(doc: _Doc, result: Result) -> None:
    base = baseline_name(result)
    names = result.regime_names
    doc.add_page()
    doc.heading("What changed, and by how much")
    for text, bullets in summary_paragraphs(result):
        doc.para(text, bold=bool(bullets))
        for line in bullets:
            doc.bullet(line)
        if bullets:
            doc.ln(1.5)
    doc.add_page()
    doc.heading(f"Headline comparison: median (5th to 95th percentile); Δ vs {base}, path by path", 14)
    n = len(names)
    doc.grid(headline_table(headline_rows(result, base), names, base), (62, *([207.0 / n] * n)), size=8.5)
    doc.ln(2)
    doc.para(
        f"Δ: difference to {base}, path by path on the same draws (median of the differences, with their 5th to "
        "95th percentile; probabilities: difference of shares with a 90% paired-bootstrap interval), in the row's "
        "unit (percentage points for shares). Calm-cost rows show the difference to the baseline itself. Blue: "
        "better for the market; vermillion: worse; grey: no change or no direction. "
        f"{result.paths:,} paths, seed {result.seed}.",
        size=8.5,
        color=GREY_RGB,
    )
    doc.add_page()
    doc.heading("All metrics: median (5th to 95th percentile)", 14)
    s = result.summary()
    rows: list[list[CellText]] = [["Metric", "Unit", *names]]
    order = [m for m in SUMMARY_METRICS if m in METRICS] + [m for m in METRICS if m not in SUMMARY_METRICS]
    for metric in order:
        spec = METRICS[metric]
        rows.append([spec.label, spec.unit, *(metric_cell(s[r][metric], spec.unit) for r in names)])
    doc.grid(rows, (58, 14, *([197.0 / n] * n)), size=8.5)
    doc.ln(3)
    doc.heading("Metric definitions", 11)
    for spec in METRICS.values():
        doc.bullet(f"{spec.label} ({spec.unit}): {spec.definition}", size=8.5)
    labels = {m.name: m.label for m in HEADLINE}
    for name in EXCEEDANCES:
        doc.bullet(f"{labels.get(name, name)} (%): {definition_of(name)}", size=8.5)


def _chart_page(doc: _Doc, number: int, total: int, item: ChartItem) -> tuple[int, tuple[float, float, float, float]]:
    doc.add_page()
    doc.set_font(FONT, "B", 11)
    doc.multi_cell(0, 5.5, pdf_text(f"Figure {number} of {total}: {item.caption}"), new_x="LMARGIN", new_y="NEXT",
                   align="L")
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
    rows: list[list[CellText]] = [["Name", "Value", "Low", "High", "Unit", "Status", "Sampled", "Source"]]
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
    doc.grid(rows, (92, 34, 30, *([113.0 / n] * n)), size=7.5)
    doc.para("* differs from status quo. Lever sources are in the methodology and in each regime's JSON.", size=8)


def _regime_arg(regime: policy.PolicyRegime) -> str:
    try:
        if policy.get_preset(regime.name) == regime:
            return regime.name
    except KeyError:
        pass
    return f"regimes/{safe_name(regime.name)}.json"


def _reproduce_page(doc: _Doc, result: Result, link: str, caveats: list[str]) -> None:
    doc.add_page()
    doc.heading("Reproducibility")
    regimes = " ".join(f"--regime {_regime_arg(r)}" for r in result.regimes)
    path, _ = scenario_file(result)
    scenario = result.scenario.name if is_shipped(result.scenario) else path
    run = f"--scenario {scenario} {regimes} --paths {result.paths} --seed {result.seed} --shock-scale {result.shock_scale:g}"
    lines = [
        f"Model version: {result.model_version} (the link carries it as mv={result.model_version}; link format "
        f"{QUERY_VERSION})",
        f"Scenario: {result.scenario.name} ({result.scenario.title})"
        + ("" if is_shipped(result.scenario) else f"; its file in the ZIP: {path}"),
        f"Regimes: {', '.join(result.regime_names)} (baseline: {baseline_name(result)})",
        f"Paths: {result.paths:,}; seed: {result.seed}; shock scale: {result.shock_scale:g}; days: {result.days}",
        f"Command line (in the unpacked ZIP where files are named): python -m briefing export {run} --out DIR",
        f"The numbers alone: python -m engine run {run}",
    ]
    for line in lines:
        doc.para(line)
    doc.para("Link to this view in the explorer:", bold=True)
    _link_and_caveats(doc, link, caveats)
    doc.para(
        "The ZIP that accompanies this PDF holds every chart as PNG, SVG and PDF with its data as CSV, the "
        "summary, daily series and paired differences as CSV, each regime as JSON and the scenario as TOML.",
        size=9,
    )


def _chart_xobject(writer: PdfWriter, chart_pdf: bytes) -> tuple[IndirectObject, float, float]:
    """vl-convert's one-page chart PDF as a Form XObject in `writer`.

    The chart page's content stream is cloned into the writer (`PdfObject.clone` gives an object of
    the writer's, with its indirect reference) and becomes the form: its bytes are copied as they
    are, neither decoded nor parsed. A chart of several content streams becomes one form of their joined data.
    """
    page = PdfReader(io.BytesIO(chart_pdf)).pages[0]
    box = page.mediabox
    contents = page["/Contents"].get_object()
    parts = [part.get_object() for part in contents] if isinstance(contents, ArrayObject) else [contents]
    form = parts[0].clone(writer)
    ref = form.indirect_reference
    if ref is None or ref.pdf is not writer:  # streams are indirect objects, so a clone of one is the writer's
        raise ValueError("chart PDF: its content stream is not an indirect object")
    if len(parts) > 1:
        form.set_data(b"\n".join(part.get_data() for part in parts))
    form.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject([FloatObject(float(v)) for v in (box.left, box.bottom, box.right, box.top)]),
            NameObject("/Resources"): page["/Resources"].get_object().clone(writer),
        }
    )
    return ref, float(box.width), float(box.height)


def _merge_charts(text_pdf: bytes, placements: list[tuple[int, tuple[float, float, float, float], bytes]]) -> bytes:
    """Lay each chart's vl-convert PDF into its reserved box as a vector Form XObject.

    Equivalent to pypdf's merge_transformed_page, but without parsing the chart's content stream
    (that parse took most of the pack's build time). Public pypdf only: the form is a clone of the
    chart's content stream, and the page draws it from its own content stream, extended in place.
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
        draw = f"\nq {scale:.6f} 0 0 {scale:.6f} {tx:.3f} {ty:.3f} cm {name} Do Q".encode()
        contents = page["/Contents"].get_object()
        stream = contents[-1].get_object() if isinstance(contents, ArrayObject) else contents
        stream.set_data(stream.get_data() + draw)  # the page's last content stream (an object of the writer's)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def build_pdf(
    result: Result,
    view: ViewState,
    base_url: str = DEFAULT_BASE_URL,
    *,
    _rendered: RenderedCharts | None = None,
    timings: dict[str, float] | None = None,
) -> bytes:
    """The multi-page briefing PDF."""
    check_view(result, view)
    if _rendered is None:
        rendered = RenderedCharts(result, timings=timings)
        try:
            return build_pdf(result, view, base_url, _rendered=rendered, timings=timings)
        finally:
            rendered.close()
    rendered = _rendered
    with stage(timings, "pdf text"):
        link = view_url(base_url, view, model_version=result.model_version)
        caveats = link_caveats(result, view)
        generated = datetime.now(UTC).strftime("%d %b %Y %H:%M UTC")
        doc = _Doc(
            f"Treasury Market Policy Explorer v{result.model_version} | {result.scenario.name} | "
            f"{result.paths:,} paths, seed {result.seed}"
        )
        _title_page(doc, result, view, link, caveats, generated)
        _summary_pages(doc, result)
        boxes = []
        for k, item in enumerate(rendered.items, start=1):
            boxes.append((item.key, *_chart_page(doc, k, len(rendered.items), item)))
        _assumption_pages(doc, result)
        _reproduce_page(doc, result, link, caveats)
        text_pdf = bytes(doc.output())
    files = rendered.files()
    with stage(timings, "merge"):
        return _merge_charts(text_pdf, [(index, box, files[key]["pdf"]) for key, index, box in boxes])
