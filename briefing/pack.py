"""The one-click briefing pack: the ZIP bundle of the briefing PDF and every chart and table behind it.

This module bundles: `build_pack` builds the charts once (`briefing.pack_charts`), the PDF
(`briefing.pack_pdf`) and the ZIP (every chart as PNG/SVG/PDF with its CSV, the summary, series,
holdings, paired differences and assumptions as CSV, each regime as JSON, the scenario as TOML,
run.json and a README), named by `pack_names`. The words of the pack are `briefing.pack_text`'s.
The names other modules import from `briefing.pack` are re-exported here.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

import policy
from briefing import export
from briefing.numbers import delta_unit, fmt_band
from briefing.numbers import fmt_value as fmt
from briefing.pack_charts import (
    CHART_BOX_PT,
    DIFFERENCE_SERIES,
    KEY_SERIES_FIGURES,
    MARGIN_MM,
    MM,
    PAGE_H_MM,
    PAGE_W_MM,
    PNG_SCALE,
    READING,
    ChartItem,
    RenderedCharts,
    chart_items,
    stage,
)
from briefing.pack_pdf import FONT, FONT_DIR, SUMMARY_METRICS, build_pdf, pdf_text
from briefing.pack_text import (
    DEFAULT_BASE_URL,
    GREY_RGB,
    TONE_RGB,
    CellText,
    Text,
    baseline_name,
    check_view,
    headline_table,
    link_caveats,
    paired_words,
    regime_changes_text,
    safe_name,
    scenario_edit_note,
    scenario_file,
    summary_paragraphs,
    view_for_result,
    view_scenario,
)
from engine import METRICS
from engine.calibration import load_calibration
from engine.metrics import EXCEEDANCES
from policy.query import QUERY_VERSION, ViewState, view_url
from policy.run_settings import MAX_PATHS_INTERACTIVE as MAX_PATHS  # re-exported: the pack's path limit is the app's

if TYPE_CHECKING:
    from engine import Result


# -------------------------------------------------------------------------------------- the ZIP
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
        files[f"regimes/{safe_name(regime.name)}.json"] = policy.regime_to_json(regime).encode("utf-8")
    scenario_path, scenario_bytes = scenario_file(result)
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


# ------------------------------------------------------------------------------------- the pack
def pack_names(result: Result) -> tuple[str, str]:
    stem = f"briefing_{safe_name(result.scenario.name)}_seed{result.seed}"
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
    check_view(result, view)
    rendered = RenderedCharts(result, timings=timings, helper_process=helper_process)
    try:
        pdf = build_pdf(result, view, base_url, _rendered=rendered, timings=timings)
        with stage(timings, "zip"):
            zipped = build_zip(result, view, base_url, pack_names(result)[0], rendered, pdf=pdf)
    finally:
        rendered.close()
    return pdf, zipped


__all__ = [
    "CHART_BOX_PT",
    "DEFAULT_BASE_URL",
    "DIFFERENCE_SERIES",
    "FONT",
    "FONT_DIR",
    "GREY_RGB",
    "KEY_SERIES_FIGURES",
    "MARGIN_MM",
    "MAX_PATHS",
    "MM",
    "PAGE_H_MM",
    "PAGE_W_MM",
    "PNG_SCALE",
    "READING",
    "SUMMARY_METRICS",
    "TONE_RGB",
    "CellText",
    "ChartItem",
    "RenderedCharts",
    "Text",
    "baseline_name",
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
    "pdf_text",
    "regime_changes_text",
    "scenario_edit_note",
    "summary_paragraphs",
    "view_for_result",
    "view_scenario",
]
