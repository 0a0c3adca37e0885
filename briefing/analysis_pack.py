"""Briefing packs of the policy-analysis views (the app's "Policy analysis" page and
`python -m briefing analysis`).

For one finished view, `build(item)` gives

    a PDF of one or two A4 pages: title, a one-sentence reading of the result, the chart, its
        source line, the an.* link and the command that reproduces it;
    a ZIP of that PDF, the chart as PDF, SVG and PNG (`briefing.export`, vl-convert), the view's
        table as CSV (the engine's frame at full precision, the data drawn), the study as TOML
        (map, frontier) and a README.txt (model version, scenario, paths, seed, link, command).

An `AnalysisItem` is made by the view's builder (`map_item`, `frontier_item`, ...) from the frame
the engine returned; the `compute_*` functions make those frames for the command line. No
Streamlit here: the app and the command line share it.
"""

from __future__ import annotations

import io
import json
import re
import shlex
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import altair as alt
import pandas as pd
from fpdf import FPDF

from briefing import analysis_charts as charts
from briefing import export
from briefing.numbers import delta_unit, fmt_lever, fmt_number, fmt_probability, fmt_value
from engine import METRICS, MODEL_VERSION
from engine.study import Study

VIEW_TITLES: dict[str, str] = {
    "map": "Policy map",
    "frontier": "Frontier",
    "tornado": "Tornado",
    "attribution": "Channel attribution",
    "amplification": "Amplification",
    "robustness": "Robustness",
    "expected_cost": "Expected cost",
    "stress_grid": "Stress-test grid",
}
DEFAULT_BASE_URL = "http://localhost:8501/"
FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"
PNG_SCALE = 2
# A4 portrait, in mm: the analysis charts are square (map) or tall (tornado) as often as wide.
PAGE_W_MM, PAGE_H_MM, MARGIN_MM = 210.0, 297.0, 14.0
CHART_MAX_H_MM = 175.0  # leaves the reading, source, link and command on the chart's page
PX_PER_MM = 96 / 25.4  # CSS px at scale 1: a chart is not drawn larger than its natural size


@dataclass
class AnalysisItem:
    """One finished analysis view, everything its pack needs (frames as the engine returned them)."""

    view: str
    title: str
    reading: str
    chart: alt.TopLevelMixin | dict
    frame: pd.DataFrame
    stem: str
    link: str
    command: str
    scenario: str | None
    paths: int
    seed: int
    study_toml: str | None = None
    source: str = ""
    details: list[str] = field(default_factory=list)  # extra README lines (inputs the link does not carry)


# ---------------------------------------------------------------- link, study file, command


def link_params(view: str, scenario: str | None, metric: str | None, regimes: Sequence[str], *,
                paths: int | None = None, seed: int | None = None) -> dict[str, str]:
    """The an.* parameters of a view (only those it uses), with the run's paths and seed when given.
    A scenario that is not shipped (a study's scenario file) is left out: a link can only name a
    shipped one."""
    from engine import scenario_names

    params = {"an.view": view}
    if scenario and scenario in scenario_names():
        params["an.scenario"] = scenario
    if metric:
        params["an.metric"] = metric
    if regimes:
        params["an.regimes"] = ",".join(regimes)
    if paths is not None:
        params["an.paths"] = str(int(paths))
    if seed is not None:
        params["an.seed"] = str(int(seed))
    return params


def analysis_link(base_url: str, params: Mapping[str, str]) -> str:
    """The analysis page's address for `params` (base_url: the app's root or any of its pages)."""
    root = base_url.split("?")[0].split("#")[0].rstrip("/")
    for page in ("/analysis", "/compare", "/methodology"):
        root = root.removesuffix(page)
    return f"{root}/analysis?{urlencode(dict(params))}"


def study_toml(study: Study) -> str:
    """The study as a TOML file (the format of scenarios/studies/*.toml)."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(str(v))

    data = study.model_dump(exclude_none=True)
    lines = []
    for k, v in data.items():
        if k != "factors":
            lines.append(f"{k} = {value(v)}")
    for factor in data["factors"]:
        lines.append("")
        lines.append("[[factors]]")
        lines.extend(f"{k} = {value(v)}" for k, v in factor.items())
    return "\n".join(lines) + "\n"


def command(view: str, options: Sequence[tuple[str, Any]]) -> str:
    """`python -m briefing analysis --view ... --out pack/` with the options given (quoted for a shell)."""
    parts = ["python", "-m", "briefing", "analysis", "--view", view]
    for name, value in options:
        if value is None or value is False:
            continue
        parts.append(name)
        if value is not True:
            parts.append(str(value))
    return shlex.join([*parts, "--out", "pack/"])


def _hold_text(value: Any) -> str:
    value = value.item() if hasattr(value, "item") else value  # numpy scalars from the frame
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("._") or "analysis"


def metric_name(metric: str) -> str:
    """A metric's name for a sentence (its unit is on the numbers); a tail probability's label too."""
    return METRICS[metric].label if metric in METRICS else charts.metric_label(metric)



def _setting(path: str, value: Any) -> str:
    """'maximum gross leverage 15x': a lever's short label and value (else the factor's label)."""
    from policy import lever_specs

    spec = next((s for s in lever_specs() if s.path == path), None)
    if spec is None:
        return f"{charts.factor_label(path)} {fmt_number(float(value))}"
    label = spec.label[:1].lower() + spec.label[1:]
    return f"{label} {fmt_lever(value, spec.unit)}"


def _lower_better(metric: str) -> bool:
    return metric not in charts.HIGHER_IS_BETTER


# ---------------------------------------------------------------- the views


def map_item(study: Study, frame: pd.DataFrame, *, scenario: str, metric: str, x: str, y: str,
             held: pd.DataFrame | None = None, base_url: str = DEFAULT_BASE_URL) -> AnalysisItem:
    """The policy map of `study`'s sweep frame: `held` is the frame with the other factors fixed
    (the app's slice; default: the whole scenario's rows)."""
    sub = held if held is not None else frame[frame["scenario"] == scenario]
    source = charts.analysis_source(scenario, study.paths, study.seed, f"study {study.name}, base {study.base}")
    chart = charts.policy_map_chart(sub, x, y, metric, presets=_presets(), source=source)
    cells = charts.policy_map_frame(sub, x, y, metric)
    better = cells.sort_values("p50", ascending=_lower_better(metric), kind="stable")
    best, worst = better.iloc[0], better.iloc[-1]

    def at(row: pd.Series) -> str:
        return f"{_setting(x, row['x'])} and {_setting(y, row['y'])}"

    reading = (f"Across the {cells['x'].nunique()} x {cells['y'].nunique()} grid the median {metric_name(metric)} "
               f"is best at {at(best)} ({best['value_text']}) and worst at {at(worst)} ({worst['value_text']}), "
               f"other levers as in {study.base}.")
    params = link_params("map", scenario, metric, [], paths=study.paths, seed=study.seed)
    return AnalysisItem(
        view="map", title=f"Policy map: {metric_name(metric)}", reading=reading, chart=chart, frame=frame,
        stem=_safe(f"analysis_map_{study.name}_{scenario}"), link=analysis_link(base_url, params),
        command=command("map", [("--study", "study.toml"), ("--scenario", scenario), ("--metric", metric),
                                ("--x", x), ("--y", y),
                                *(("--hold", f"{k}={_hold_text(v)}") for k, v in held_values(sub, study, x, y).items())]),
        scenario=scenario, paths=study.paths, seed=study.seed, study_toml=study_toml(study), source=source,
        details=[f"Study: {study.name} (study.toml), base regime {study.base}", f"Across (x): {x}", f"Up (y): {y}"],
    )


def frontier_item(study: Study, front: pd.DataFrame, *, scenario: str, cost: str, outcome: str,
                  presets: Sequence[str], base_url: str = DEFAULT_BASE_URL) -> AnalysisItem:
    """The frontier (`engine.analysis.frontier` of the study's points and the presets)."""
    source = charts.analysis_source(scenario, study.paths, study.seed, f"study {study.name}, base {study.base}")
    chart = charts.frontier_chart(front, cost, outcome, labelled=[study.base, *presets], source=source)
    efficient = front[front["efficient"].astype(bool)]
    named = [str(r) for r in efficient["regime"] if not re.fullmatch(r"p\d+", str(r))]
    reading = (f"{len(efficient)} of {len(front)} regimes are Pareto-efficient (no other is both cheaper in calm "
               f"markets and better on {metric_name(outcome)})"
               + (f"; among the named ones: {', '.join(named)}." if named else "; none of the named presets is."))
    params = link_params("frontier", scenario, outcome, list(presets), paths=study.paths, seed=study.seed)
    return AnalysisItem(
        view="frontier", title=f"Frontier: {metric_name(cost)} against {metric_name(outcome)}", reading=reading, chart=chart,
        frame=front, stem=_safe(f"analysis_frontier_{study.name}_{scenario}"), link=analysis_link(base_url, params),
        command=command("frontier", [("--study", "study.toml"), ("--scenario", scenario), ("--metric", outcome),
                                     ("--cost", cost), *(("--regime", p) for p in presets)]),
        scenario=scenario, paths=study.paths, seed=study.seed, study_toml=study_toml(study), source=source,
        details=[f"Study: {study.name} (study.toml), base regime {study.base}",
                 f"Presets added: {', '.join(presets) or 'none'}"],
    )


def tornado_item(frame: pd.DataFrame, *, scenario: str, base: str, metric: str, paths: int, seed: int,
                 assumptions: bool = True, base_url: str = DEFAULT_BASE_URL) -> AnalysisItem:
    source = charts.analysis_source(scenario, paths, seed, f"base {base}")
    chart = charts.tornado_chart(frame, metric, source=source)
    unit = delta_unit(charts.metric_unit(metric))
    top = frame.dropna(subset=["swing"]).iloc[0] if frame["swing"].notna().any() else None
    if top is None:
        reading = f"No input moves the median {metric_name(metric)} of {base}."
    else:
        name = charts.factor_label(top["name"]) if top["kind"] == "lever" else str(top["label"])
        reading = (f"The median {metric_name(metric)} of {base} swings most with {name}: "
                   f"{fmt_value(top['swing'], unit)} between its low and high end.")
    params = link_params("tornado", scenario, metric, [base], paths=paths, seed=seed)
    return AnalysisItem(
        view="tornado", title=f"Tornado: what moves {metric_name(metric)}", reading=reading, chart=chart, frame=frame,
        stem=_safe(f"analysis_tornado_{scenario}_{base}_{metric}"), link=analysis_link(base_url, params),
        command=command("tornado", [("--scenario", scenario), ("--regime", base), ("--metric", metric),
                                    ("--paths", paths), ("--seed", seed), ("--no-assumptions", not assumptions)]),
        scenario=scenario, paths=paths, seed=seed, source=source,
        details=[f"Uncertain assumptions included: {'yes' if assumptions else 'no'}"],
    )


def attribution_item(frame: pd.DataFrame, *, scenario: str, regime: str, baseline: str, metric: str, paths: int,
                     seed: int, base_url: str = DEFAULT_BASE_URL) -> AnalysisItem:
    source = charts.analysis_source(scenario, paths, seed)
    chart = charts.attribution_chart(frame, source=source)
    unit = delta_unit(charts.metric_unit(metric))
    channels = frame[frame["kind"] == "channel"]
    total = frame[frame["kind"] != "channel"]
    reading = f"{regime} against {baseline}: no channel changes the mean {metric_name(metric)}."
    if not channels.empty:
        big = channels.loc[channels["shapley_mean"].abs().idxmax()]
        whole = f" of a total {fmt_value(total['shapley_mean'].iloc[0], unit, signed=True)}" if not total.empty else ""
        reading = (f"Of {regime}'s difference from {baseline} in the mean {metric_name(metric)}, the {big['component']} "
                   f"channel contributes most: {fmt_value(big['shapley_mean'], unit, signed=True)}{whole} "
                   "(Shapley value).")
    params = link_params("attribution", scenario, metric, [regime, baseline], paths=paths, seed=seed)
    return AnalysisItem(
        view="attribution", title=f"Channel attribution: {regime} against {baseline}", reading=reading, chart=chart,
        frame=frame, stem=_safe(f"analysis_attribution_{scenario}_{regime}_vs_{baseline}"),
        link=analysis_link(base_url, params),
        command=command("attribution", [("--scenario", scenario), ("--regime", regime), ("--baseline", baseline),
                                        ("--metric", metric), ("--paths", paths), ("--seed", seed)]),
        scenario=scenario, paths=paths, seed=seed, source=source,
    )


def amplification_item(frame: pd.DataFrame, *, scenario: str, regime: str, metric: str, paths: int, seed: int,
                       base_url: str = DEFAULT_BASE_URL) -> AnalysisItem:
    source = charts.analysis_source(scenario, paths, seed)
    chart = charts.amplification_chart(frame, metric, source=source)
    steps = charts.amplification_frame(frame, metric)
    unit = charts.metric_unit(metric)
    shock = float(steps.iloc[0]["end"])
    full = float(steps.iloc[-1]["end"])
    reading = (f"Under {regime}, the shock alone gives a median {metric_name(metric)} of {fmt_value(shock, unit)}; with "
               f"the market-structure amplification it is {fmt_value(full, unit)} "
               f"({fmt_value(full - shock, delta_unit(unit), signed=True)}).")
    params = link_params("amplification", scenario, metric, [regime], paths=paths, seed=seed)
    return AnalysisItem(
        view="amplification", title=f"Amplification: {metric_name(metric)}", reading=reading, chart=chart, frame=frame,
        stem=_safe(f"analysis_amplification_{scenario}_{regime}"), link=analysis_link(base_url, params),
        command=command("amplification", [("--scenario", scenario), ("--regime", regime), ("--metric", metric),
                                          ("--paths", paths), ("--seed", seed)]),
        scenario=scenario, paths=paths, seed=seed, source=source,
    )


def robustness_item(found: Mapping[str, Any], *, scenario: str, a: str, b: str, metric: str, paths: int, seed: int,
                    samples: int, base_url: str = DEFAULT_BASE_URL) -> AnalysisItem:
    lower = _lower_better(metric)
    source = charts.analysis_source(scenario, paths, seed)
    chart = charts.robustness_chart(found["points"], metric, a, b, lower_is_better=lower, source=source)

    def share(v: float | None) -> str:
        return "n/a" if v is None else fmt_probability(100 * v)

    reading = (f"{a} beats {b} on {metric_name(metric)} on {share(found['path_share'])} of paths and at "
               f"{share(found['space_share'])} of the assumption points (calibrated difference "
               f"{fmt_value(found['base_difference'], delta_unit(charts.metric_unit(metric)), signed=True)}).")
    params = link_params("robustness", scenario, metric, [a, b], paths=paths, seed=seed)
    return AnalysisItem(
        view="robustness", title=f"Robustness: {a} against {b}", reading=reading, chart=chart,
        frame=found["points"], stem=_safe(f"analysis_robustness_{scenario}_{a}_vs_{b}"),
        link=analysis_link(base_url, params),
        command=command("robustness", [("--scenario", scenario), ("--regime", a), ("--baseline", b),
                                       ("--metric", metric), ("--samples", samples), ("--paths", paths),
                                       ("--seed", seed)]),
        scenario=scenario, paths=paths, seed=seed, source=source,
        details=[f"Latin hypercube points: {samples}"],
    )


def expected_cost_item(frame: pd.DataFrame, *, scenario: str, regimes: Sequence[str], paths: int, seed: int,
                       probability: float, loss: float | None, extra: float,
                       base_url: str = DEFAULT_BASE_URL) -> AnalysisItem:
    source = charts.analysis_source(scenario, paths, seed)
    chart = charts.expected_cost_chart(frame, source=source)
    safest = frame.loc[frame["annual_dysfunction_probability_pct"].idxmin()]
    reading = (f"At {fmt_number(probability)} episodes a year, {safest['regime']} has the lowest annual chance of "
               f"dysfunction or breakdown ({fmt_value(safest['annual_dysfunction_probability_pct'], '%')}), at a calm "
               f"cost of {fmt_value(safest['calm_interest_cost_usd_bn_per_year'], '$bn/yr')}.")
    params = link_params("expected_cost", scenario, None, list(regimes), paths=paths, seed=seed)
    return AnalysisItem(
        view="expected_cost", title="Expected cost: calm cost against stress risk per year", reading=reading,
        chart=chart, frame=frame, stem=_safe(f"analysis_expected_cost_{scenario}"),
        link=analysis_link(base_url, params),
        command=command("expected_cost", [("--scenario", scenario), *(("--regime", r) for r in regimes),
                                          ("--episode-probability", probability), ("--loss", loss),
                                          ("--breakdown-loss", extra or None), ("--paths", paths), ("--seed", seed)]),
        scenario=scenario, paths=paths, seed=seed, source=source,
        details=[f"Episode probability per year: {probability:g} (not in the link)",
                 f"Loss per episode: {'none' if loss is None else f'{loss:g} $bn'}; further loss on a breakdown: "
                 f"{extra:g} $bn"],
    )


def stress_grid_item(frame: pd.DataFrame, *, regime: str, baseline: str, paths: int, seed: int,
                     base_url: str = DEFAULT_BASE_URL) -> AnalysisItem:
    source = charts.analysis_source(None, paths, seed)
    chart = charts.stress_grid_chart(frame, source=source)
    peak = frame[frame["metric"] == "peak_10y_yield_change_bp"] if "metric" in frame else frame.iloc[0:0]
    if peak.empty:
        reading = f"{regime} against {baseline} in {frame['scenario'].nunique()} scenarios."
    else:
        lower = int((peak["diff_p50"] < 0).sum())
        reading = (f"{regime} lowers the median peak 10-year yield change against {baseline} in {lower} of "
                   f"{len(peak)} shipped scenarios.")
    params = link_params("stress_grid", None, None, [regime, baseline], paths=paths, seed=seed)
    return AnalysisItem(
        view="stress_grid", title=f"Stress-test grid: {regime} against {baseline}", reading=reading, chart=chart,
        frame=frame, stem=_safe(f"analysis_stress_grid_{regime}_vs_{baseline}"), link=analysis_link(base_url, params),
        command=command("stress_grid", [("--regime", regime), ("--baseline", baseline), ("--paths", paths),
                                        ("--seed", seed)]),
        scenario=None, paths=paths, seed=seed, source=source,
    )


def _presets() -> list[str]:
    from policy import preset_names

    return preset_names()


# ---------------------------------------------------------------- the files


class _Doc(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        self.add_font(FONT, "", FONT_DIR / "DejaVuSans.ttf")
        self.add_font(FONT, "B", FONT_DIR / "DejaVuSans-Bold.ttf")
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self.set_auto_page_break(True, margin=16)
        self.set_title("Treasury Market Policy Explorer analysis briefing")
        self.set_creator("Treasury Market Policy Explorer")

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FONT, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, _pdf_text(self.footer_text), align="L")
        self.set_x(-40)
        self.cell(26, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0, 0, 0)

    def para(self, text: str, size: float = 10.0, *, bold: bool = False, grey: bool = False) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.set_text_color(*((90, 90, 90) if grey else (0, 0, 0)))
        self.multi_cell(0, size * 0.48, _pdf_text(text), new_x="LMARGIN", new_y="NEXT", align="L")
        self.set_text_color(0, 0, 0)
        self.ln(1.5)


def _pdf_text(text: str) -> str:
    from briefing.pack import pdf_text  # the glyph check of the comparison's pack (same bundled font)

    return pdf_text(text)


def _png_size(png: bytes) -> tuple[int, int]:
    """Pixel width and height from a PNG's header."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def build_pdf(item: AnalysisItem, png: bytes, *, generated: str | None = None) -> bytes:
    """One or two A4 pages: title, reading, the chart (PNG at `PNG_SCALE`), source, link, command."""
    generated = generated or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    doc = _Doc(f"Treasury Market Policy Explorer - model {MODEL_VERSION} - {VIEW_TITLES[item.view]}")
    doc.add_page()
    doc.set_font(FONT, "B", 16)
    doc.multi_cell(0, 7.5, _pdf_text(item.title), new_x="LMARGIN", new_y="NEXT", align="L")
    doc.ln(1)
    setting = ", ".join(p for p in (f"scenario {item.scenario}" if item.scenario else "every shipped scenario",
                                    f"{item.paths:,} paths", f"seed {item.seed}", f"model {MODEL_VERSION}") if p)
    doc.para(f"{VIEW_TITLES[item.view]}: {setting}. Generated {generated}.", 9, grey=True)
    doc.para(item.reading, 11, bold=True)
    width_px, height_px = _png_size(png)
    box_w = PAGE_W_MM - 2 * MARGIN_MM
    natural_w = width_px / PNG_SCALE / PX_PER_MM
    scale = min(1.0, box_w / natural_w, CHART_MAX_H_MM / (height_px / PNG_SCALE / PX_PER_MM))
    w = natural_w * scale
    h = w * height_px / width_px
    if doc.get_y() + h > PAGE_H_MM - 16:
        doc.add_page()
    doc.image(io.BytesIO(png), x=MARGIN_MM + (box_w - w) / 2, y=doc.get_y(), w=w, h=h)
    doc.set_y(doc.get_y() + h + 3)
    doc.para(item.source, 8.5, grey=True)
    doc.para("Link to this view (opens the analysis page with these inputs; paths and seed are set there):", 9,
             bold=True)
    doc.set_font(FONT, "", 8.5)
    doc.set_text_color(0, 70, 140)
    doc.multi_cell(0, 4.2, _pdf_text(item.link), new_x="LMARGIN", new_y="NEXT", align="L", link=item.link)
    doc.set_text_color(0, 0, 0)
    doc.ln(1.5)
    doc.para("Reproduce from the command line (files in this pack):", 9, bold=True)
    doc.para(item.command, 8.5)
    for line in item.details:
        doc.para(line, 8.5, grey=True)
    doc.para("Scenarios, not forecasts: bands show parameter and shock uncertainty within the documented ranges. "
             "Calibration sources are in the app's methodology page.", 8, grey=True)
    return bytes(doc.output())


def readme(item: AnalysisItem, names: Sequence[str], generated: str) -> str:
    lines = [
        f"Treasury Market Policy Explorer - {VIEW_TITLES[item.view]} briefing pack",
        "",
        item.title,
        item.reading,
        "",
        f"Model version: {MODEL_VERSION}",
        f"Scenario: {item.scenario or 'every shipped scenario'}",
        f"Paths: {item.paths}",
        f"Seed: {item.seed}",
        *item.details,
        f"Generated: {generated}",
        "",
        "Link to this view (the an.* parameters; paths and seed are set on the page):",
        item.link,
        "",
        "Reproduce (from the explorer's folder, with this pack's files beside you):",
        item.command,
        "",
        "Files:",
        *(f"  {name}" for name in names),
        "",
        "table.csv is the engine's frame behind the chart, at full precision (the data drawn).",
        "chart.svg keeps its text as text in the viewer's sans-serif font; chart.pdf embeds its fonts.",
    ]
    return "\n".join(lines) + "\n"


def build(item: AnalysisItem, *, timings: dict[str, float] | None = None) -> tuple[bytes, bytes]:
    """(PDF, ZIP) of a finished view. `timings` (optional) gets seconds per stage."""
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    started = time.perf_counter()
    files = export.render_all(item.chart, scale=PNG_SCALE)  # one Vega render: SVG, then PNG and PDF from it
    rendered = time.perf_counter()
    pdf = build_pdf(item, bytes(files["png"]), generated=generated)
    laid_out = time.perf_counter()
    contents: dict[str, bytes] = {
        f"{item.stem}.pdf": pdf,
        "chart.pdf": bytes(files["pdf"]),
        "chart.svg": str(files["svg"]).encode("utf-8"),
        "chart.png": bytes(files["png"]),
        "table.csv": export.to_csv(_csv_frame(item.frame)),
    }
    if item.study_toml is not None:
        contents["study.toml"] = item.study_toml.encode("utf-8")
    contents["README.txt"] = readme(item, [*contents, "README.txt"], generated).encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in contents.items():
            zf.writestr(f"{item.stem}/{name}", data)
    if timings is not None:
        timings.update({"render": rendered - started, "pdf": laid_out - rendered,
                        "zip": time.perf_counter() - laid_out})
    return pdf, out.getvalue()


def _csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as the CSV holds it: list-valued cells (e.g. a regime's settings) as JSON text."""
    out = frame.copy()
    out.attrs = {}
    for column in out.columns:
        if out[column].map(lambda v: isinstance(v, list | tuple | dict)).any():
            out[column] = out[column].map(lambda v: json.dumps(v, default=str) if isinstance(v, list | tuple | dict)
                                          else v)
    return out


def pack_names(item: AnalysisItem) -> tuple[str, str]:
    return f"{item.stem}.pdf", f"{item.stem}.zip"


# ---------------------------------------------------------------- running a view (the command line)


def numeric_factors(study: Study) -> list[str]:
    """The study's factors a map can draw: numeric levers and assumptions."""
    from engine.study import factor_kind
    from policy import lever_specs

    numeric = {s.path for s in lever_specs() if s.type in ("float", "int")}
    return [f.name for f in study.factors if factor_kind(study, f) == "assumption" or f.name in numeric]


def hold(frame: pd.DataFrame, study: Study, x: str, y: str, chosen: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The study's other factors held at a value: `chosen[name]` (its text, as `--hold name=value`),
    else the first (the app's default choice). Raises InputError naming --hold for a value not swept."""
    from engine import InputError

    chosen = dict(chosen or {})
    for f in study.factors:
        if f.name in (x, y):
            continue
        values = sorted(frame[f.name].dropna().unique().tolist(), key=str)
        value = values[0]
        if f.name in chosen:
            match = [v for v in values if _same_value(v, chosen[f.name])]
            if not match:
                raise InputError(f"--hold: {f.name}={chosen[f.name][:40]!r} not swept; allowed: "
                                 + ", ".join(str(v) for v in values[:20]))
            value = match[0]
        frame = frame[(frame[f.name] == value) | (frame["point"] < 0)]
    return frame


def held_values(held: pd.DataFrame, study: Study, x: str, y: str) -> dict[str, Any]:
    """The values the other factors are held at in a sliced sweep frame (for the reproduce command)."""
    points = held[held["point"] >= 0]
    out = {}
    for f in study.factors:
        if f.name not in (x, y) and f.name in points and points[f.name].nunique() == 1:
            out[f.name] = points[f.name].iloc[0]
    return out


def _same_value(value: Any, text: str) -> bool:
    if isinstance(value, bool):
        return text.lower() in (("true", "1", "on") if value else ("false", "0", "off"))
    if isinstance(value, int | float):
        try:
            return float(text) == float(value)
        except ValueError:
            return False
    return str(value) == text


def preset_rows(study: Study, scenario: str, presets: Sequence[str]) -> pd.DataFrame:
    """The presets' p50 per metric on the study's settings, in the sweep's long format."""
    from engine.run import resolve_scenario
    from engine.sweep import STAT_COLUMNS, run_base
    from policy import get_preset

    rows = []
    p50 = STAT_COLUMNS.index("p50")
    sc = next(resolve_scenario(s) for s in study.scenarios if resolve_scenario(s).name == scenario)
    for name in presets:
        stats = run_base(sc, get_preset(name), paths=study.paths, seed=study.seed, shock_scale=study.shock_scale,
                         assumptions={}, metrics=tuple(study.metrics))["stats"]
        rows += [{"scenario": scenario, "point": -2, "regime": name, "metric": m, "p50": float(stats[j, p50])}
                 for j, m in enumerate(study.metrics)]
    return pd.DataFrame(rows, columns=["scenario", "point", "regime", "metric", "p50"])


def run_view(view: str, options: Mapping[str, Any], *, base_url: str = DEFAULT_BASE_URL) -> AnalysisItem:
    """Run one analysis view from checked options (those of `python -m briefing analysis`) and make
    its item. Raises engine.InputError / ValueError naming a field for input the engine refuses."""
    from engine import analysis as an
    from engine import simulate
    from engine.sweep import run_study
    from policy import get_preset

    o = dict(options)
    paths, seed = o.get("paths", 500), o.get("seed", 0)
    if view in ("map", "frontier"):
        study: Study = o["study"]
        frame = run_study(study)
        scenario = o.get("scenario") or str(frame["scenario"].iloc[0])
        if view == "map":
            names = numeric_factors(study)
            x, y = o.get("x") or names[0], o.get("y") or names[1]
            held = hold(frame[frame["scenario"] == scenario], study, x, y, o.get("hold"))
            return map_item(study, frame, scenario=scenario, metric=o["metric"], x=x, y=y, held=held,
                            base_url=base_url)
        presets = [p for p in o.get("regimes", []) if p != study.base]
        rows = frame[frame["scenario"] == scenario][["scenario", "point", "regime", "metric", "p50"]]
        front = an.frontier(pd.concat([rows, preset_rows(study, scenario, presets)], ignore_index=True),
                            cost=o["cost"], outcome=o["metric"])
        return frontier_item(study, front, scenario=scenario, cost=o["cost"], outcome=o["metric"],
                             presets=list(o.get("regimes", [])), base_url=base_url)
    common = {"paths": paths, "seed": seed, "base_url": base_url}
    regimes = list(o.get("regimes", []))
    if view == "tornado":
        frame = an.tornado(o["scenario"], regimes[0], o["metric"], paths=paths, seed=seed,
                           **({} if o.get("assumptions", True) else {"assumptions": []}))
        return tornado_item(frame, scenario=o["scenario"], base=regimes[0], metric=o["metric"],
                            assumptions=o.get("assumptions", True), **common)
    if view == "attribution":
        frame = an.attribution(o["scenario"], regimes[0], o["baseline"], metric=o["metric"], paths=paths, seed=seed)
        frame.attrs.clear()  # per-path arrays
        return attribution_item(frame, scenario=o["scenario"], regime=regimes[0], baseline=o["baseline"],
                                metric=o["metric"], **common)
    if view == "amplification":
        frame = an.amplification(o["scenario"], regimes[0], paths=paths, seed=seed)
        return amplification_item(frame, scenario=o["scenario"], regime=regimes[0], metric=o["metric"], **common)
    if view == "robustness":
        found = an.robustness(o["scenario"], regimes[0], o["baseline"], o["metric"], samples=o["samples"],
                              paths=paths, seed=seed, lower_is_better=_lower_better(o["metric"]))
        return robustness_item(found, scenario=o["scenario"], a=regimes[0], b=o["baseline"], metric=o["metric"],
                               samples=o["samples"], **common)
    if view == "expected_cost":
        result = simulate(o["scenario"], [get_preset(r) for r in regimes], paths=paths, seed=seed)
        frame = an.expected_cost(result, episode_probability_per_year=o["probability"],
                                 loss_per_episode_usd_bn=o.get("loss"),
                                 breakdown_extra_loss_usd_bn=o.get("extra", 0.0))
        return expected_cost_item(frame, scenario=o["scenario"], regimes=regimes, probability=o["probability"],
                                  loss=o.get("loss"), extra=o.get("extra", 0.0), **common)
    if view == "stress_grid":
        frame = an.stress_test_grid(regimes[0], paths=paths, seed=seed, baseline=o["baseline"])
        return stress_grid_item(frame, regime=regimes[0], baseline=o["baseline"], **common)
    raise ValueError(f"view: {view!r}; allowed: {', '.join(VIEW_TITLES)}")
