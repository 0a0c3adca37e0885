"""The one-click briefing pack: a multi-page PDF and a ZIP of every chart and table behind it.

PDF: text pages are written with fpdf2 in the bundled DejaVu Sans (briefing/fonts, Bitstream Vera
licence). Charts are vl-convert's own vector PDFs, placed on reserved landscape A4 pages with
pypdf as Form XObjects (scaled to fit), so chart text stays vector and searchable (embedded Liberation Sans).

Numbers are the app's: the baseline is the first regime of the view, the headline table is
`briefing.headline.headline_rows` (each regime's median and 5th-95th percentile, and its paired
difference to the baseline, `Result.difference`), the summary opens with `briefing.headline.story`
and states every difference as the median of the path-by-path differences with their band.
The reproducing link is built with `policy.query.view_url`, the app's own encoder; it carries the
model version of the run (`mv`) and an edited scenario (`se.*`, or a whole uploaded one as `sx` when
it fits), so the explorer opens the same view; what a link cannot carry is said on the page, and the
ZIP holds the scenario as a TOML file `python -m engine run --scenario FILE.toml` reads.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject, NameObject

import policy
from briefing import charts, export
from briefing.headline import HEADLINE, Row, definition_of, headline_rows, story
from briefing.numbers import delta_unit, fmt_band, fmt_lever, fmt_range, rounds_to_zero
from briefing.numbers import fmt_value as fmt
from engine import METRICS, InputError, scenario_names
from engine.api import FUNDAMENTAL_SHARE
from engine.calibration import load_calibration
from engine.metrics import EXCEEDANCES
from engine.scenario import SCENARIO_DIR, Scenario, load_scenario
from engine.scenario_edit import (
    EDITED_SUFFIX,
    describe_edit,
    edit_of,
    edit_to_params,
    resolve_edited,
    scenario_to_blob,
    scenario_to_toml,
)
from policy.query import (
    MAX_LINK_SCENARIO_CHARS,
    MAX_PATHS,
    QUERY_VERSION,
    RegimeView,
    ViewState,
    regime_view_of,
    regimes_from_view,
    scenario_fits_link,
    view_url,
)

if TYPE_CHECKING:
    from engine import Result

DEFAULT_BASE_URL = "http://localhost:8501/"
FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"

# The key series of the app's small multiples, in two figures of three rows: six rows on one
# landscape page would leave each panel too flat to read.
KEY_SERIES_FIGURES: tuple[tuple[str, ...], ...] = (
    ("yield_10y_change_bp", "market_depth_usd_mn", "dealer_utilization_pct"),
    ("basis_widening_bp", "swap_spread_30y_bp", "forced_sales_usd_bn"),
)
# Series of the difference figure (regime minus baseline, path by path).
DIFFERENCE_SERIES = ("yield_10y_change_bp", "market_depth_usd_mn", "dealer_utilization_pct", "forced_sales_usd_bn")
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
READING = {
    "multiples": "Columns: regimes; rows: series (y shared within a row). Line: median across simulated paths; "
    "band: 5th to 95th percentile of paths; grey dashed: the baseline's median. Numbered markers above the "
    "plot are the scenario's events.",
    "difference": "Each panel: the regime's value minus the baseline's on the same simulated path (common random "
    "numbers). Line: median of those differences; band: their 5th to 95th percentile; black: zero (no change).",
    "tradeoff": "Each point is a regime: further right costs more in calm markets, further down means a smaller "
    "yield spike in stress; bigger points reach a breakdown (beyond anything observed) on more paths.",
    "functioning": "Solid lines: share of paths on which the market is dysfunctional that day; dashed lines: share "
    "broken down (beyond anything observed). Dashed vertical lines mark the scenario's events.",
    "holdings": "Lines above zero are net buyers, below zero net sellers, cumulated from day 0 (mean over paths).",
}
# Colours of the headline table, as in the app (ui/table.py): blue better, vermillion worse, grey neither.
TONE_RGB = {"better": (0, 96, 160), "worse": (192, 74, 0), "neutral": (107, 114, 128), "none": (0, 0, 0)}
GREY_RGB = (107, 114, 128)
PNG_SCALE = 2  # the ZIP's PNGs are for slides; the PDF itself embeds the vector PDFs

# A4 landscape, in mm (fpdf) and points (pypdf).
PAGE_W_MM, PAGE_H_MM = 297.0, 210.0
MARGIN_MM = 14.0
MM = 72.0 / 25.4
# The chart box of a figure page, in px at scale 1 (1 px = 1 pt in vl-convert's PDF): charts are
# built to about this size so they are placed near 1:1 and their text keeps its intended size.
CHART_BOX_PT = ((PAGE_W_MM - 2 * MARGIN_MM) * MM, 150.0 * MM)


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


@contextmanager
def _stage(timings: dict[str, float] | None, key: str) -> Iterator[None]:
    """Adds the block's wall time to timings[key] (bench/bench_pack.py prints the split)."""
    if timings is None:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[key] = timings.get(key, 0.0) + time.perf_counter() - start


# ------------------------------------------------------------------------------------ view / link
def _shipped(scenario: Scenario) -> bool:
    return scenario.name in scenario_names() and load_scenario(scenario.name) == scenario


def _scenario_link_data(scenario: Scenario) -> tuple[str, dict[str, str], str | None]:
    """(sc, se.* edit, sx blob) that stand for `scenario` in a view, as the app's editor writes them."""
    names = scenario_names()
    if _shipped(scenario):
        return scenario.name, {}, None
    stem = scenario.name.removesuffix(EDITED_SUFFIX)
    for base_name in dict.fromkeys((stem, scenario.name)):
        if base_name in names:
            edit = edit_of(load_scenario(base_name), scenario)
            if edit is not None:
                return base_name, edit_to_params(edit), None
    # A scenario of its own travels whole; `sc` names the shipped scenario the explorer keeps beside it
    # (the one it edits where there is one, as the app's upload does).
    return (stem if stem in names else names[0]), {}, scenario_to_blob(scenario)


def view_for_result(result: Result) -> ViewState:
    """The explorer view that reproduces `result` (presets stay presets; custom regimes become changes;
    an edited scenario becomes its se.* edit, any other scenario of its own its sx blob)."""
    regimes = []
    for regime in result.regimes:
        try:
            is_preset = policy.get_preset(regime.name) == regime
        except KeyError:
            is_preset = False
        regimes.append(RegimeView(preset=regime.name, name=regime.name) if is_preset else regime_view_of(regime))
    scenario, edit, blob = _scenario_link_data(result.scenario)
    return ViewState(
        scenario=scenario,
        shock_scale=result.shock_scale,
        paths=result.paths,
        seed=result.seed,
        regimes=regimes,
        scenario_edit=edit,
        custom_scenario=blob,
    )


def _with_assumptions(scenario: Scenario, view: ViewState) -> Scenario:
    """The scenario as the engine runs it under the view's assumptions (the one that lives in the
    scenario, the fundamental share, is applied to it by `engine.simulate`)."""
    share = view.assumptions.get(FUNDAMENTAL_SHARE)
    if share is None:
        return scenario
    return scenario.model_copy(update={"fundamental": scenario.fundamental.model_copy(update={"share": float(share)})})


def view_scenario(view: ViewState, *, link_only: bool = False) -> Scenario:
    """The scenario `view` runs (`link_only`: the one its link opens, which leaves out an uploaded
    scenario too large for a link). Raises ValueError for a view the engine cannot resolve."""
    blob = view.custom_scenario if (scenario_fits_link(view) or not link_only) else None
    try:
        return _with_assumptions(resolve_edited(view.scenario, view.scenario_edit, blob), view)
    except InputError as err:
        raise ValueError(f"view: the scenario cannot be resolved ({err})") from None


def scenario_edit_note(view: ViewState) -> str:
    """The title page's line on an edited or uploaded scenario ('' for a shipped one), in the words
    of the app's caption (engine.scenario_edit.describe_edit)."""
    if view.custom_scenario is not None:
        scenario = view_scenario(view)
        text = (
            f"Scenario uploaded in the explorer: '{scenario.name}' ({scenario.title}), a scenario of its own "
            "rather than an edit of a shipped one."
        )
        if not scenario_fits_link(view):
            text += " It is too large for a link; its file is in the ZIP."
        return text
    if not view.scenario_edit:
        return ""
    base = load_scenario(view.scenario)
    edited = resolve_edited(view.scenario, view.scenario_edit)
    edit = edit_of(base, edited)
    how = describe_edit(base, edit) if edit is not None else ""
    return f"Scenario edited in the explorer from the shipped '{base.name}'" + (f": {how}." if how else ".")


def _lever_dump(regime: policy.PolicyRegime) -> dict[str, Any]:
    data = regime.model_dump()
    data.pop("name", None)
    data.pop("description", None)
    return data


def link_caveats(result: Result, view: ViewState) -> list[str]:
    """What the link cannot carry, in words (empty when it reproduces the run exactly)."""
    notes = []
    path = _scenario_file(result)[0]
    try:
        opened: Scenario | None = view_scenario(view, link_only=True)
    except ValueError:
        opened = None
    if opened != result.scenario:
        if not scenario_fits_link(view):
            notes.append(
                f"The scenario '{result.scenario.name}' is too large for a link ({len(view.custom_scenario or ''):,} "
                f"characters encoded; a link holds at most {MAX_LINK_SCENARIO_CHARS:,}), so the link opens the "
                f"shipped scenario '{view.scenario}'. Use the scenario file in the ZIP ({path}) to reproduce this run."
            )
        else:
            shown = f"the scenario '{opened.name}'" if opened is not None else "no valid scenario"
            notes.append(
                f"The link opens {shown}, not the scenario '{result.scenario.name}' of this run. Use the scenario "
                f"file in the ZIP ({path}) to reproduce this run."
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
    # The view names the shipped scenario it edits (sc) and the edit; what it runs must be the result's.
    running = view_scenario(view).name
    if running != result.scenario.name:
        mismatches.append(f"scenario {running!r} vs {result.scenario.name!r}")
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
    """The regime others are compared with: the first, as in the app (not status_quo by name)."""
    return result.regime_names[0]


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


def _all_zero(diff: dict[str, float]) -> bool:
    return all(rounds_to_zero(v) for v in diff.values())


def paired_words(diff: dict[str, float], unit: str, base: str, interval: str) -> str:
    """A paired difference in words: '3.8 bp lower than under status_quo, path by path (median of the
    differences; 5th to 95th percentile -21.6 to +2.3 bp)'. Zero is neutral: 'no change' when every
    statistic rounds to zero, 'about the same' when only the median does (never '0 higher')."""
    if _all_zero(diff):
        return f"no change against {base}, path by path"
    d = diff["p50"]
    if rounds_to_zero(d):
        head = f"about the same as under {base}, path by path"
    else:
        head = f"{fmt(abs(d), unit)} {'higher' if d > 0 else 'lower'} than under {base}, path by path"
    return f"{head} ({interval} {fmt_range(diff, unit, signed=True)})"


def summary_paragraphs(result: Result) -> list[tuple[str, list[str]]]:
    """Plain-language summary as (paragraph, bullets): the two sentences of the app's story, the
    baseline outcome, then each regime's paired difference to the baseline (median of the path-by-
    path differences with their 5th-95th percentile; shares with a 90% paired-bootstrap interval)
    and its calm-market cost against the baseline."""
    s = result.summary()
    base = baseline_name(result)
    sb = s[base]
    sc = result.scenario
    first, second = story(result, base)
    out: list[tuple[str, list[str]]] = [
        (f"{first} {second}", []),
        (
            f"Baseline: {base}, the first regime of the view (as in the explorer). Every difference below is a "
            f"regime minus {base} on the same simulated path (common random numbers): the median of those "
            "path-by-path differences, with their 5th to 95th percentile.",
            [],
        ),
        (
            f"Scenario: {sc.title} ({sc.name}), {result.days} business days from {result.dates[0]:%d %b %Y}, "
            f"shock scale {result.shock_scale:g}. {sc.description.strip()}",
            [],
        ),
    ]
    base_bullets = [
        f"the 10y yield rises at its peak by {fmt_band(sb['peak_10y_yield_change_bp'], 'bp')};",
        f"the market is dysfunctional (10y dislocation and dealer utilization both past their thresholds, as "
        f"on 10-18 March 2020) on at least one day on {fmt(sb['dysfunction_probability_pct']['p50'], '%')} "
        f"of paths (dysfunctional days per path: {fmt_band(sb['dysfunction_days'], 'days')});",
        f"it reaches a breakdown (beyond anything observed) on "
        f"{fmt(sb['broken_market_probability_pct']['p50'], '%')} of paths;",
        f"market depth falls to {fmt_band(sb['trough_market_depth_usd_mn'], '$mn')};",
        f"RV funds sell {fmt_band(sb['forced_sales_usd_bn'], '$bn')} and the Fed buys "
        f"{fmt_band(sb['fed_purchases_usd_bn'], '$bn')}.",
    ]
    if base != "status_quo" and not rounds_to_zero(sb["calm_yield_cost_bp"]["p50"]):
        base_bullets[-1] = base_bullets[-1].removesuffix(".") + ";"
        base_bullets.append(
            f"in calm markets its rules cost {fmt_band(sb['calm_yield_cost_bp'], 'bp')} of 10y yield against "
            "status-quo rules (the differences below are to this)."
        )
    out.append(
        (f"Under {base} (median, with the 5th to 95th percentile of {result.paths:,} simulated paths):", base_bullets)
    )
    spread = "5th to 95th percentile of the differences"
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
            d = result.difference(metric, name, base)
            bullets.append(
                f"{what} under {name}: {paired_words(d, unit, base, spread)}; medians "
                f"{fmt(sr[metric]['p50'], unit)} and {fmt(sb[metric]['p50'], unit)}."
            )
        for metric, what in (
            ("dysfunction_probability_pct", "Dysfunction (as on 10-18 March 2020)"),
            ("broken_market_probability_pct", "Breakdown (beyond anything observed)"),
        ):
            d = result.difference(metric, name, base)
            words = paired_words(d, "pp", base, "90% paired-bootstrap interval").replace(" pp", " percentage points")
            bullets.append(
                f"{what}: on {fmt(sr[metric]['p50'], '%')} of paths vs {fmt(sb[metric]['p50'], '%')} under {base}; "
                f"{words}."
            )
        calm = {
            m: result.difference(m, name, base)
            for m in ("calm_yield_cost_bp", "calm_first_year_interest_cost_usd_bn", "calm_interest_cost_usd_bn_per_year")
        }
        if all(_all_zero(d) for d in calm.values()):
            bullets.append(f"Cost in calm markets: no change against {base}, path by path.")
        else:
            y, first_year, repriced = calm.values()
            bullets.append(
                f"Cost in calm markets against {base}, path by path (median difference, 5th to 95th percentile): "
                f"{_signed(y, 'bp')} of 10y yield, {_signed(first_year, '$bn')} of interest in the first year and "
                f"{_signed(repriced, '$bn/yr')} a year once all debt has repriced."
            )
        out.append((f"{name} compared with {base}:", bullets))
    out.append(
        (
            "All regimes see the same random draws (common random numbers), so differences are measured path by "
            "path. Ranges reflect uncertainty in calibrated parameters and shocks, not model uncertainty. Calm-market "
            "costs are defined against status-quo rules in the model and shown here as differences to the baseline.",
            [],
        )
    )
    return out


def _signed(diff: dict[str, float], unit: str) -> str:
    if _all_zero(diff):
        return "no change"
    return f"{fmt(diff['p50'], unit, signed=True)} ({fmt_range(diff, unit, signed=True)})"


# ------------------------------------------------------------------------------------- the charts
@dataclass(frozen=True)
class ChartItem:
    key: str
    caption: str
    reading: str
    chart: Any
    frame: pd.DataFrame


def _panel_width(columns: int) -> int:
    """Panel width (px) so a row of `columns` panels fills the page's chart box at about 1:1."""
    usable = CHART_BOX_PT[0] - 90 - 12 * (columns - 1)  # y axis and title, gaps between panels
    return int(max(140, min(300, usable / columns)))


def chart_items(result: Result) -> list[ChartItem]:
    """Every chart of the pack, with its data frame (the CSV) and a how-to-read line.

    The app's comparison panels replace the one-chart-per-series fans: the key series in small
    multiples (a column per regime) and, against the baseline, the path-by-path differences.
    """
    base = baseline_name(result)
    names = result.regime_names
    width = _panel_width(len(names))
    items = []
    for k, series in enumerate(KEY_SERIES_FIGURES, start=1):
        kw: dict[str, Any] = {"series": list(series), "baseline": base, "width": width, "height": 105}
        labels = ", ".join(charts.SERIES[s].split(" (")[0] for s in series)
        items.append(
            ChartItem(
                f"key_series_{k}",
                f"Key stress series under each regime ({k} of {len(KEY_SERIES_FIGURES)}): {labels}",
                READING["multiples"].replace("the baseline's", f"the baseline's ({base})"),
                charts.small_multiples(result, **kw),
                charts.chart_frame(result, "small_multiples", **kw),
            )
        )
    if len(names) > 1:
        kw = {"series": list(DIFFERENCE_SERIES), "baseline": base, "width": _panel_width(len(names) - 1),
              "height": 82}
        items.append(
            ChartItem(
                "difference",
                f"What each regime changes against {base}, path by path",
                READING["difference"].replace("the baseline's", f"{base}'s"),
                charts.difference_fan(result, **kw),
                charts.chart_frame(result, "difference", **kw),
            )
        )
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
    for name in names:
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
@dataclass(frozen=True)
class Text:
    """One paragraph of a table cell, wrapped to the column in its own weight, colour and size."""

    text: str
    bold: bool = False
    color: tuple[int, int, int] = (0, 0, 0)
    size: float | None = None  # None: the table's size


CellText = str | Sequence[Text]


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
    doc.set_font(FONT, "", 9)
    doc.set_text_color(0, 70, 160)
    doc.multi_cell(0, 4.6, pdf_text(link), link=link, new_x="LMARGIN", new_y="NEXT", align="L")
    doc.set_text_color(0, 0, 0)
    for line in caveats:
        doc.para("Note: " + line, size=9)


def _cell(stats: dict[str, float], unit: str) -> str:
    if fmt(stats["p5"], unit) == fmt(stats["p95"], unit):
        return fmt(stats["p50"], unit)
    return fmt_band(stats, unit)


def headline_table(rows: list[Row], names: list[str], base: str) -> list[list[CellText]]:
    """The app's comparison table (ui/table.py) as grid rows: the same strings from `headline_rows`."""
    table: list[list[CellText]] = [
        ["Median, 5th-95th pct; Δ vs baseline", *(f"{n} (baseline)" if n == base else n for n in names)]
    ]
    for row in rows:
        du = delta_unit(row.unit)
        unit = f"({row.unit}; Δ {du})" if du != row.unit else f"({row.unit})"
        label = [Text(row.metric.label, bold=True), Text(unit, color=GREY_RGB, size=7.5)]
        if row.metric.calm:
            label.append(Text(f"difference to {base}, path by path", color=GREY_RGB, size=7.5))
        cells: list[CellText] = [label]
        for n in names:
            c = row.cells[n]
            color = TONE_RGB[c.tone] if row.metric.calm and n != base else (0, 0, 0)
            parts = [Text(c.value, bold=True, color=color)]
            if c.band:
                parts.append(Text(c.band, color=GREY_RGB, size=7.5))
            if c.difference:
                parts.append(Text(f"Δ {c.difference}", color=TONE_RGB[c.tone], size=8))
            cells.append(parts)
        table.append(cells)
    return table


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
        rows.append([spec.label, spec.unit, *(_cell(s[r][metric], spec.unit) for r in names)])
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
    return f"regimes/{_safe_name(regime.name)}.json"


def _reproduce_page(doc: _Doc, result: Result, link: str, caveats: list[str]) -> None:
    doc.add_page()
    doc.heading("Reproducibility")
    regimes = " ".join(f"--regime {_regime_arg(r)}" for r in result.regimes)
    path, _ = _scenario_file(result)
    scenario = result.scenario.name if _shipped(result.scenario) else path
    run = f"--scenario {scenario} {regimes} --paths {result.paths} --seed {result.seed} --shock-scale {result.shock_scale:g}"
    lines = [
        f"Model version: {result.model_version} (the link carries it as mv={result.model_version}; link format "
        f"{QUERY_VERSION})",
        f"Scenario: {result.scenario.name} ({result.scenario.title})"
        + ("" if _shipped(result.scenario) else f"; its file in the ZIP: {path}"),
        f"Regimes: {', '.join(result.regime_names)} (baseline: {baseline_name(result)})",
        f"Paths: {result.paths:,}; seed: {result.seed}; shock scale: {result.shock_scale:g}; days: {result.days}",
        f"Command line (in the unpacked ZIP where files are named): python -m briefing export {run} --out DIR",
        f"The numbers alone: python -m engine run {run}",
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
        "summary, daily series and paired differences as CSV, each regime as JSON and the scenario as TOML.",
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


class RenderedCharts:
    """The pack's charts rendered once each: spec (built without Altair's schema validation, which
    costs more than some renders and only checks our own chart code, done by the tests) to SVG here,
    then PDF and PNG from that SVG in a helper process (`export.Rasteriser`) while the PDF's text
    is laid out; `files()` waits for them."""

    def __init__(self, result: Result, *, timings: dict[str, float] | None = None, helper_process: bool = True) -> None:
        self.timings = timings
        with _stage(timings, "chart specs"):
            self.items = chart_items(result)
            specs = {item.key: export.spec_of(item.chart) for item in self.items}
            self.csv = {item.key: export.to_csv(item.frame) for item in self.items}
        self._raster = export.Rasteriser(PNG_SCALE, in_process=not helper_process)
        try:
            for item in self.items:
                with _stage(timings, "render svg"):
                    svg = export.to_svg(specs[item.key])
                self._raster.submit(item.key, svg)
        except BaseException:
            self._raster.__exit__(None, None, None)
            raise
        self._files: dict[str, dict[str, Any]] | None = None

    def files(self) -> dict[str, dict[str, Any]]:
        """{key: {'svg', 'pdf', 'png', 'csv'}} (waits for the helper once)."""
        if self._files is None:
            with _stage(self.timings, "wait for pdf/png"):
                raster = self._raster.results()
            if self.timings is not None:
                for ext, spent in self._raster.timings.items():
                    key = f"render {ext}"
                    self.timings[key] = self.timings.get(key, 0.0) + spent
            self._files = {
                key: {"svg": svg, **raster[key], "csv": self.csv[key]} for key, svg in self._raster.svgs.items()
            }
        return self._files

    def close(self) -> None:
        """End the helper and remove its files if `files()` was never reached (an error on the way)."""
        if self._files is None:
            self._raster.__exit__(None, None, None)


def build_pdf(
    result: Result,
    view: ViewState,
    base_url: str = DEFAULT_BASE_URL,
    *,
    _rendered: RenderedCharts | None = None,
    timings: dict[str, float] | None = None,
) -> bytes:
    """The multi-page briefing PDF."""
    _check_view(result, view)
    if _rendered is None:
        rendered = RenderedCharts(result, timings=timings)
        try:
            return build_pdf(result, view, base_url, _rendered=rendered, timings=timings)
        finally:
            rendered.close()
    rendered = _rendered
    with _stage(timings, "pdf text"):
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
    with _stage(timings, "merge"):
        return _merge_charts(text_pdf, [(index, box, files[key]["pdf"]) for key, index, box in boxes])


# -------------------------------------------------------------------------------------- the ZIP
def _scenario_file(result: Result) -> tuple[str, bytes]:
    """The scenario as a file of the ZIP: the shipped TOML itself, else the scenario as run in TOML
    (engine.scenario_edit.scenario_to_toml, read back equal by `--scenario FILE.toml`)."""
    name = result.scenario.name
    path = SCENARIO_DIR / f"{name}.toml"
    if _shipped(result.scenario) and path.is_file():
        return f"scenario/{name}.toml", path.read_bytes()
    header = (
        f"Scenario '{name}' as run in a Treasury Market Policy Explorer briefing pack (model {result.model_version}).\n"
        f"Run it: python -m engine run --scenario {_safe_name(name)}.toml; or upload it in the explorer's "
        "'Build a shock'."
    )
    return f"scenario/{_safe_name(name)}.toml", scenario_to_toml(result.scenario, header=header).encode("utf-8")


def build_zip(
    result: Result,
    view: ViewState,
    base_url: str,
    pdf_name: str | None,
    rendered: RenderedCharts,
    pdf: bytes | None = None,
) -> bytes:
    """The ZIP: the briefing PDF (when given), every chart in PNG/SVG/PDF/CSV, data, regimes, scenario."""
    items, charts_files = rendered.items, rendered.files()
    link = view_url(base_url, view, model_version=result.model_version)
    files: dict[str, bytes] = {}
    if pdf is not None and pdf_name:
        files[pdf_name] = pdf
    for item in items:
        for ext in ("png", "svg", "pdf", "csv"):
            data = charts_files[item.key][ext]
            files[f"charts/{item.key}.{ext}"] = data.encode("utf-8") if isinstance(data, str) else data
    files["data/summary.csv"] = export.to_csv(result.summary_frame())
    series = result.series_frame()
    series["date"] = pd.to_datetime(series["date"]).dt.strftime("%Y-%m-%d")
    files["data/series.csv"] = export.to_csv(series)
    holdings = result.holdings_frame()
    holdings["date"] = pd.to_datetime(holdings["date"]).dt.strftime("%Y-%m-%d")
    files["data/holdings.csv"] = export.to_csv(holdings)
    base = baseline_name(result)
    # The app's honest differences (Result.difference): paired quantiles for metrics, a paired-bootstrap
    # interval for probabilities, exceedance probabilities too.
    diffs = [
        {"regime": name, "baseline": base, "metric": m, "unit": delta_unit(METRICS[m].unit if m in METRICS else "%")}
        | result.difference(m, name, base)
        for name in result.regime_names
        if name != base
        for m in (*METRICS, *EXCEEDANCES)
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
        "scenario_file": scenario_path,
        "scenario_edit": view.scenario_edit,
        "regimes": result.regime_names,
        "baseline": base,
        "paths": result.paths,
        "seed": result.seed,
        "shock_scale": result.shock_scale,
        "days": result.days,
        "link": link,
    }
    files["run.json"] = json.dumps(run, indent=2).encode("utf-8")
    caveats = link_caveats(result, view)
    files = {"README.txt": _readme(result, view, link, files, pdf_name, caveats).encode("utf-8"), **files}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(result.dates[0].year, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if name.endswith((".png", ".pdf")) else zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return out.getvalue()


_DESCRIBE = {
    ".png": f"chart image, {PNG_SCALE}x scale",
    ".svg": "chart, vector (text uses the viewer's sans-serif font)",
    ".pdf": "chart, vector with embedded fonts",
    ".csv": "the chart's data, units in column names",
}


def _readme(
    result: Result, view: ViewState, link: str, files: dict[str, bytes], pdf_name: str | None, caveats: list[str]
) -> str:
    note = scenario_edit_note(view)
    lines = [
        "Treasury Market Policy Explorer: briefing pack",
        "",
        f"Scenario: {result.scenario.name} ({result.scenario.title})",
        *([note] if note else []),
        f"Regimes: {', '.join(result.regime_names)} (baseline: {baseline_name(result)}, the first)",
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
            what = (
                "differences vs the baseline regime, path by path: p5/p50/p95 of the differences for metrics, "
                "difference of shares with a 90% paired-bootstrap interval for probabilities (pp)"
            )
        elif name == "data/assumptions.csv":
            what = "calibrated parameters with ranges, units, status and sources"
        elif name.startswith("regimes/"):
            what = "regime, loadable with --regime FILE or in the app"
        elif name.startswith("scenario/"):
            what = "scenario, loadable with --scenario FILE (python -m engine run / python -m briefing export)"
        elif name == "run.json":
            what = "run settings (model version, seed, paths, baseline, scenario edit, link)"
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


def build_pack(
    result: Result,
    view: ViewState,
    base_url: str = DEFAULT_BASE_URL,
    *,
    timings: dict[str, float] | None = None,
    helper_process: bool = True,
) -> tuple[bytes, bytes]:
    """(pdf_bytes, zip_bytes) for `result`; `view` must describe the same run (it makes the link).

    `timings`, when given, receives the seconds of each stage (bench/bench_pack.py); `helper_process`
    False renders PDF and PNG in this process (the same files, slower where a second core is free).
    """
    _check_view(result, view)
    rendered = RenderedCharts(result, timings=timings, helper_process=helper_process)
    try:
        pdf = build_pdf(result, view, base_url, _rendered=rendered, timings=timings)
        with _stage(timings, "zip"):
            zipped = build_zip(result, view, base_url, pack_names(result)[0], rendered, pdf=pdf)
    finally:
        rendered.close()
    return pdf, zipped


__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_PATHS",
    "RenderedCharts",
    "build_pack",
    "build_pdf",
    "build_zip",
    "chart_items",
    "fmt",
    "fmt_band",
    "headline_table",
    "link_caveats",
    "pack_names",
    "paired_words",
    "scenario_edit_note",
    "summary_paragraphs",
    "view_for_result",
    "view_scenario",
]
