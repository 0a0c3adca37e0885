"""Briefing exports: chart files are valid and carry title and source, the pack's numbers are the
engine's for the same seed, and the CLI refuses bad input with one line and exit code 2.

Numbers are always compared with a live `engine.simulate` run (the model is being recalibrated).
"""

import io
import json
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

import policy
from briefing import charts, export
from briefing.pack import DEFAULT_BASE_URL, build_pack, fmt, pack_names, view_for_result
from engine import METRICS, MODEL_VERSION, simulate
from engine.scenario import SCENARIO_DIR
from policy.query import QUERY_VERSION, decode_view, view_url

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = "foreign_selloff_2026"
REGIMES = ["status_quo", "clearing_rule"]
PATHS = 80
SEED = 7


@pytest.fixture(scope="module")
def result():
    return simulate(SCENARIO, REGIMES, paths=PATHS, seed=SEED)


@pytest.fixture(scope="module")
def pack(result):
    view = view_for_result(result)
    pdf, zipped = build_pack(result, view, DEFAULT_BASE_URL)
    return view, pdf, zipped


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


# ------------------------------------------------------------------------------ single charts
def test_regime_colors_are_stable_and_distinct():
    colors = charts.regime_colors(["a", "b", "c", "d"])
    assert len(set(colors.values())) == 4
    assert charts.regime_colors(["x", "y"]) == {"x": colors["a"], "y": colors["b"]}


def test_fan_chart_png_is_2x(result):
    chart = charts.fan_chart(result, "yield_10y_change_bp")
    width, height = png_size(export.to_png(chart, scale=2))
    assert width >= 2 * charts.WIDTH and height >= 2 * charts.HEIGHT


def test_svg_parses_with_title_and_source(result):
    svg = export.to_svg(charts.fan_chart(result, "market_depth_usd_mn"))
    root = ET.fromstring(svg)  # noqa: S314 (our own SVG)
    text = " ".join(" ".join(el.itertext()) for el in root.iter() if el.tag.endswith("text"))
    assert "Top-3-level 10y order-book depth: median and 5th-95th percentile range" in text
    assert charts.source_line(result) in text
    assert f"seed {SEED}" in text and f"{PATHS} paths" in text


def test_chart_pdf_opens_with_title(result):
    data = export.to_pdf(charts.tradeoff_chart(result))
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "What each regime costs in calm markets and buys in stress" in text
    assert "Source: Treasury Market Policy Explorer" in text


def test_fan_csv_round_trips_engine_numbers(result):
    frame = charts.chart_frame(result, "fan", series="yield_10y_change_bp")
    back = pd.read_csv(io.BytesIO(export.to_csv(frame)))
    assert list(back.columns) == ["regime", "day", "date", "series", "p5_bp", "p50_bp", "p95_bp"]
    q = result.series_quantiles("yield_10y_change_bp")
    for i, regime in enumerate(result.regime_names):
        rows = back[back["regime"] == regime].sort_values("day")
        np.testing.assert_allclose(rows["p50_bp"], q[1, i], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(rows["p5_bp"], q[0, i], rtol=1e-12, atol=1e-12)
        assert rows["date"].iloc[0] == result.dates[0].strftime("%Y-%m-%d")


def test_holdings_frame_sums_to_zero(result):
    frame = charts.chart_frame(result, "holdings", regime="clearing_rule")
    totals = frame.groupby("day")["cumulative_net_purchases_usd_bn"].sum()
    assert np.allclose(totals, 0.0, atol=1e-6)
    charts.holdings_chart(result, "clearing_rule").to_dict()


def test_tradeoff_frame_is_the_summary(result):
    frame = charts.chart_frame(result, "tradeoff")
    summary = result.summary()
    for row in frame.itertuples():
        assert row.p50 == pytest.approx(summary[row.regime][row.metric]["p50"])
        assert row.unit == METRICS[row.metric].unit


def test_functioning_frame_is_the_engine_share_of_paths(result):
    frame = charts.chart_frame(result, "functioning")
    assert list(frame.columns) == ["regime", "day", "date", "measure", "share_of_paths_pct"]
    assert set(frame["measure"]) == set(charts.FUNCTIONING_MEASURES.values())
    for i, regime in enumerate(result.regime_names):
        rows = frame[(frame["regime"] == regime) & (frame["measure"] == charts.FUNCTIONING_MEASURES["dysfunction_share_pct"])]
        np.testing.assert_allclose(rows.sort_values("day")["share_of_paths_pct"], 100.0 * result.dysfunction[i].mean(axis=0))
    text = pdf_text(export.to_pdf(charts.functioning_chart(result)))
    assert "Market functioning" in text and "Source: Treasury Market Policy Explorer" in text


def test_tradeoff_labels_say_breakdown_and_dysfunction(result):
    points = charts._tradeoff_points(result, result.regime_names)
    assert all("dysfunction" in label and "breakdown" in label and "broken" not in label for label in points["label"])
    spec = json.dumps(charts.tradeoff_chart(result).to_dict())
    assert "Point size: breakdown probability" in spec and "broken-market" not in spec


def test_backtest_chart_from_contract_frame():
    dates = pd.bdate_range("2020-03-02", periods=5)
    frame = pd.DataFrame(
        {
            "episode": ["march_2020"] * 5,
            "day": range(5),
            "date": dates,
            "observed_10y_change_bp": [0, 5, -3, 20, 40],
            "model_p5": [0, -2, -5, 5, 10],
            "model_p50": [0, 4, 6, 18, 30],
            "model_p95": [0, 10, 15, 35, 60],
        }
    )
    png = export.to_png(charts.backtest_chart(frame), scale=2)
    assert png_size(png)[0] > 600
    assert "model_p50_bp" in charts.chart_frame(None, "backtest", paths_frame=frame).columns


def test_unknown_series_or_regime_names_the_field(result):
    with pytest.raises(ValueError, match="series"):
        charts.fan_chart(result, "nope")
    with pytest.raises(ValueError, match="regime"):
        charts.fan_chart(result, "yield_10y_change_bp", regimes=["nope"])


# ------------------------------------------------------------------------------------ the pack
def test_pack_pdf_pages_link_and_numbers(result, pack):
    view, pdf, _ = pack
    reader = PdfReader(io.BytesIO(pdf))
    # title, summary, headline table, all metrics, 2 key-series small multiples + differences + functioning +
    # trade-off + holdings per regime, >= 2 assumption pages, reproduce
    n_charts = 2 + 1 + 1 + 1 + len(REGIMES)
    assert len(reader.pages) >= 4 + n_charts + 2 + 1
    assert sum("Figure " in (page.extract_text() or "") for page in reader.pages) >= n_charts
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    link = view_url(DEFAULT_BASE_URL, view, model_version=result.model_version)
    assert f"mv={MODEL_VERSION}" in link and f"v={QUERY_VERSION}" in link
    assert link in "".join(text.split())  # long links may wrap across lines in the text layer
    uris = [
        annot.get_object()["/A"]["/URI"]
        for page in reader.pages
        for annot in page.get("/Annots", [])
        if "/A" in annot.get_object()
    ]
    assert link in uris
    assert SCENARIO in text and "Foreign selloff" in text
    assert f"seed {SEED}" in text
    # The numbers are the engine's for the same seed (a fresh run, not the result passed in).
    fresh = simulate(SCENARIO, REGIMES, paths=PATHS, seed=SEED).summary()
    flat = " ".join(text.split())
    for regime in REGIMES:
        for metric in ("peak_10y_yield_change_bp", "forced_sales_usd_bn", "calm_yield_cost_bp"):
            unit = METRICS[metric].unit
            assert fmt(fresh[regime][metric]["p50"], unit) in flat, (regime, metric)
    # Functioning in words: dysfunction and breakdown (beyond anything observed), never "broken market".
    base = fresh["status_quo"]
    assert f"dysfunctional (10y dislocation and dealer utilization both past their thresholds, as on 10-18 March 2020) " \
           f"on at least one day on {fmt(base['dysfunction_probability_pct']['p50'], '%')} of paths" in flat
    assert f"breakdown (beyond anything observed) on {fmt(base['broken_market_probability_pct']['p50'], '%')}" in flat
    assert "Dysfunction (as on 10-18 March 2020): on" in flat and "Breakdown (beyond anything observed): on" in flat
    assert "broken market" not in flat.lower() and "market breaks" not in flat.lower()
    assert "Dysfunction probability" in flat and "Breakdown probability" in flat  # headline table rows
    every = next(page.extract_text() for page in reader.pages if "All metrics: median" in page.extract_text())
    assert every.index("Dysfunction probability") < every.index("Lowest 30y swap spread")  # headline metrics first
    assert f"Model version: {MODEL_VERSION}" in flat and f"mv={MODEL_VERSION}" in "".join(text.split())
    assert "Market functioning" in text
    # Every chart page carries the chart's own (vector) text.
    assert "Who sold and who absorbed" in text
    assert "Calibration sources in the methodology".lower() in text.lower()


def test_pack_zip_contents_match_engine(result, pack):
    view, _, zipped = pack
    zf = zipfile.ZipFile(io.BytesIO(zipped))
    names = set(zf.namelist())
    keys = ["key_series_1", "key_series_2", "difference", "functioning", "tradeoff"] + [f"holdings_{r}" for r in REGIMES]
    for key in keys:
        for ext in ("png", "svg", "pdf", "csv"):
            assert f"charts/{key}.{ext}" in names
        assert png_size(zf.read(f"charts/{key}.png"))[0] >= 2 * charts.WIDTH
        ET.fromstring(zf.read(f"charts/{key}.svg"))  # noqa: S314 (our own SVG)
        assert len(PdfReader(io.BytesIO(zf.read(f"charts/{key}.pdf"))).pages) == 1
    for name in ("README.txt", "data/summary.csv", "data/series.csv", "run.json"):
        assert name in names
    readme = zf.read("README.txt").decode()
    link = view_url(DEFAULT_BASE_URL, view, model_version=result.model_version)
    assert link in readme and f"seed: {SEED}" in readme and result.model_version in readme
    for name in names - {"README.txt"}:
        assert name in readme
    fresh = simulate(SCENARIO, REGIMES, paths=PATHS, seed=SEED)
    summary = pd.read_csv(io.BytesIO(zf.read("data/summary.csv")))
    expected = fresh.summary()
    for row in summary.itertuples():
        assert row.value == pytest.approx(expected[row.regime][row.metric][row.stat], rel=1e-12, abs=1e-12)
    assert len(summary) == len(fresh.summary_frame())
    for regime in fresh.regimes:
        loaded = policy.PolicyRegime.model_validate_json(zf.read(f"regimes/{regime.name}.json"))
        assert loaded == regime
    assert zf.read(f"scenario/{SCENARIO}.toml") == (SCENARIO_DIR / f"{SCENARIO}.toml").read_bytes()
    run = json.loads(zf.read("run.json"))
    assert run["link"] == link and run["model_version"] == MODEL_VERSION and run["link_format"] == QUERY_VERSION
    # The pack's link opens the same view in the app, without any message.
    params = {k: v[-1] for k, v in parse_qs(urlsplit(link).query).items()}
    decoded, messages = decode_view(params, scenarios=[SCENARIO], assumption_ranges=lambda _: {},
                                    model_version=MODEL_VERSION)
    assert decoded == view and messages == []


def test_pack_refuses_a_view_of_another_run(result):
    view = view_for_result(result).model_copy(update={"seed": SEED + 1})
    with pytest.raises(ValueError, match="seed"):
        build_pack(result, view)


# ---------------------------------------------------------------------------------------- CLI
def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "briefing", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def test_cli_happy_path_writes_pdf_and_zip_only(tmp_path):
    out = tmp_path / "out"
    proc = run_cli("export", "--scenario", SCENARIO, "--regime", "all_guardrails", "--paths", "50", "--seed", "3",
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    # The engine is compared in a fresh process too, so both sides see the same engine code on disk.
    fresh = simulate(SCENARIO, ["all_guardrails"], paths=50, seed=3)
    pdf_name, zip_name = pack_names(fresh)
    assert sorted(p.name for p in out.iterdir()) == sorted([pdf_name, zip_name])
    summary = pd.read_csv(io.BytesIO(zipfile.ZipFile(out / zip_name).read("data/summary.csv")))
    p50 = summary[(summary.metric == "peak_10y_yield_change_bp") & (summary.stat == "p50")].set_index("regime")
    for regime, stats in fresh.summary().items():
        assert p50.loc[regime, "value"] == pytest.approx(stats["peak_10y_yield_change_bp"]["p50"], rel=1e-12)
    assert "all_guardrails" in pdf_text((out / pdf_name).read_bytes())


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--scenario", SCENARIO, "--regime", "no_such_regime", "--out", "OUT"], "regime"),
        (["--scenario", SCENARIO, "--paths", "0", "--out", "OUT"], "--paths"),
        (["--scenario", SCENARIO, "--paths", "many", "--out", "OUT"], "--paths"),
        (["--scenario", SCENARIO], "--out"),
        (["--scenario", "no_such_scenario", "--out", "OUT"], "scenario"),
        (["--scenario", SCENARIO, "--shock-scale", "9", "--out", "OUT"], "--shock-scale"),
        (["--scenario", SCENARIO, "--no-such-option", "--out", "OUT"], "--no-such-option"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(tmp_path, args, field):
    out = tmp_path / "out"
    proc = run_cli("export", *[str(out) if a == "OUT" else a for a in args])
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert field in lines[0] and "allowed" in lines[0]
    assert "Traceback" not in proc.stderr and "usage" not in proc.stderr.lower()
    assert not out.exists() or not any(out.iterdir())
