"""Briefing packs of the analysis views (briefing/analysis_pack.py) and `python -m briefing analysis`:
the ZIP holds the chart in three formats, the view's frame as CSV, the study as TOML (map, frontier)
and a README; the PDF opens and carries the link; the README's command reproduces the table; bad
input exits 2 with one line naming the field."""

import io
import shlex
import tomllib
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

from briefing import analysis_pack as ap
from briefing.__main__ import main
from engine import MODEL_VERSION
from engine import analysis as an
from engine.study import load_study, parse_study
from engine.sweep import run_study

PATHS = 40
SC = "march_2020"
METRIC = "peak_10y_yield_change_bp"
X, Y = "leverage_cap.max_gross_leverage_x", "clearing.haircut_floor_pct"
STUDY = {"name": "pack_test", "scenarios": [SC], "paths": PATHS, "seed": 2, "base": "all_guardrails",
         "design": "grid", "factors": [{"name": X, "low": 5.0, "high": 43.0, "levels": 3},
                                       {"name": Y, "low": 0.0, "high": 4.75, "levels": 3}]}


@pytest.fixture(scope="module")
def study_and_frame():
    study = parse_study(dict(STUDY))
    return study, run_study(study)


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {Path(name).name: zf.read(name) for name in zf.namelist()}


def _pdf_text_and_links(data: bytes) -> tuple[str, list[str], int]:
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() for page in reader.pages)
    links = [a.get_object()["/A"]["/URI"] for page in reader.pages for a in page.get("/Annots", [])
             if "/A" in a.get_object()]
    return text, links, len(reader.pages)


def test_map_pack_contents(study_and_frame):
    study, frame = study_and_frame
    item = ap.map_item(study, frame, scenario=SC, metric=METRIC, x=X, y=Y)
    timings: dict[str, float] = {}
    pdf, zipped = ap.build(item, timings=timings)
    files = _unzip(zipped)
    assert set(files) == {f"{item.stem}.pdf", "chart.pdf", "chart.svg", "chart.png", "table.csv", "study.toml",
                          "README.txt"}
    assert files[f"{item.stem}.pdf"] == pdf
    assert files["chart.pdf"][:5] == b"%PDF-" and files["chart.png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in files["chart.svg"][:500]
    # The CSV is the sweep frame the app shows, at full precision.
    csv = pd.read_csv(io.BytesIO(files["table.csv"]))
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    pd.testing.assert_frame_equal(csv[numeric], frame[numeric].reset_index(drop=True), check_dtype=False)
    assert list(csv.columns) == list(frame.columns)
    # The study file reads back as the study that ran, also through load_study.
    assert parse_study(tomllib.loads(files["study.toml"].decode())) == study
    # The PDF: one or two pages, the reading, the link (as text and as a link), the command.
    text, links, pages = _pdf_text_and_links(pdf)
    assert 1 <= pages <= 2
    assert item.link in links
    assert "an.view=map" in text and "python -m briefing analysis --view map" in " ".join(text.split())
    cells = ap.charts.policy_map_frame(frame, X, Y, METRIC)
    assert min(cells["value_text"], key=lambda t: float(t.split()[0])) in item.reading
    readme = files["README.txt"].decode()
    for line in (f"Model version: {MODEL_VERSION}", f"Scenario: {SC}", f"Paths: {PATHS}", "Seed: 2", item.link,
                 item.command):
        assert line in readme
    assert set(timings) == {"render", "pdf", "zip"}


def test_map_pack_study_loads_from_file(study_and_frame, tmp_path):
    study, frame = study_and_frame
    _, zipped = ap.build(ap.map_item(study, frame, scenario=SC, metric=METRIC, x=X, y=Y))
    path = tmp_path / "study.toml"
    path.write_bytes(_unzip(zipped)["study.toml"])
    assert load_study(path) == study


def test_tornado_pack_csv_is_the_engine_frame():
    frame = an.tornado(SC, "all_guardrails", METRIC, paths=PATHS, seed=0, assumptions=[])
    item = ap.tornado_item(frame, scenario=SC, base="all_guardrails", metric=METRIC, paths=PATHS, seed=0,
                           assumptions=False)
    pdf, zipped = ap.build(item)
    files = _unzip(zipped)
    assert "study.toml" not in files
    csv = pd.read_csv(io.BytesIO(files["table.csv"]))
    pd.testing.assert_frame_equal(csv[["rank", "swing", "low_effect", "high_effect"]],
                                  frame[["rank", "swing", "low_effect", "high_effect"]], check_dtype=False)
    assert list(csv["name"]) == list(frame["name"])
    text, links, _ = _pdf_text_and_links(pdf)
    assert "Tornado" in text
    link = ap.link_params("tornado", SC, METRIC, ["all_guardrails"], paths=PATHS, seed=0)
    assert ap.analysis_link(ap.DEFAULT_BASE_URL, link) in links  # the run settings ride in the link


def test_link_names_only_shipped_scenarios():
    assert ap.link_params("tornado", "my_file_scenario", METRIC, []) == {"an.view": "tornado", "an.metric": METRIC}


def test_link_is_the_app_link_under_any_page_of_the_app():
    params = ap.link_params("robustness", SC, METRIC, ["a", "b"])
    for base in ("http://x:8501/", "http://x:8501/analysis?an.view=map", "http://x:8501/compare"):
        assert ap.analysis_link(base, params).startswith("http://x:8501/analysis?an.view=robustness&an.scenario=")


def _run_cli(args: list[str], capsys) -> tuple[int, str]:
    """main()'s exit code (argparse's own checks exit through SystemExit) and its stderr."""
    try:
        code = main(args)
    except SystemExit as stop:
        code = int(stop.code or 0)
    err = capsys.readouterr().err.strip()
    return code, err


def test_cli_tornado_writes_the_pack_and_its_command_reproduces_it(tmp_path, capsys):
    args = ["analysis", "--view", "tornado", "--scenario", SC, "--regime", "all_guardrails", "--metric", METRIC,
            "--paths", "20", "--no-assumptions", "--out", str(tmp_path / "a")]
    code, err = _run_cli(args, capsys)
    assert code == 0, err
    zips = list((tmp_path / "a").glob("*.zip"))
    pdfs = list((tmp_path / "a").glob("*.pdf"))
    assert len(zips) == 1 and len(pdfs) == 1
    files = _unzip(zips[0].read_bytes())
    engine = an.tornado(SC, "all_guardrails", METRIC, paths=20, seed=0, assumptions=[])
    assert list(pd.read_csv(io.BytesIO(files["table.csv"]))["swing"]) == pytest.approx(list(engine["swing"]))
    # The README's command, run again, gives the same table.
    readme = files["README.txt"].decode()
    line = next(x for x in readme.splitlines() if x.startswith("python -m briefing analysis"))
    again = shlex.split(line)[3:]
    again[again.index("--out") + 1] = str(tmp_path / "b")
    code, err = _run_cli(again, capsys)
    assert code == 0, err
    assert _unzip(next((tmp_path / "b").glob("*.zip")).read_bytes())["table.csv"] == files["table.csv"]


def test_cli_map_from_a_study_file(tmp_path, capsys):
    study = parse_study(dict(STUDY) | {"paths": 20})
    path = tmp_path / "small.toml"
    path.write_text(ap.study_toml(study))
    code, err = _run_cli(["analysis", "--view", "map", "--study", str(path), "--out", str(tmp_path / "o")], capsys)
    assert code == 0, err
    files = _unzip(next((tmp_path / "o").glob("*.zip")).read_bytes())
    assert parse_study(tomllib.loads(files["study.toml"].decode())) == study
    assert len(pd.read_csv(io.BytesIO(files["table.csv"]))) == len(run_study(study))


@pytest.mark.parametrize(("args", "field", "allowed"), [
    (["--view", "nope"], "--view", "map, frontier, tornado"),
    (["--view", "tornado"], "--scenario", SC),
    (["--view", "tornado", "--scenario", "nope"], "--scenario", SC),
    (["--view", "tornado", "--scenario", SC, "--metric", "nope"], "--metric", METRIC),
    (["--view", "tornado", "--scenario", SC, "--regime", "nope"], "--regime", "status_quo"),
    (["--view", "tornado", "--scenario", SC, "--paths", "3"], "--paths", "20"),
    (["--view", "attribution", "--scenario", SC, "--regime", "status_quo"], "--baseline", "other than"),
    (["--view", "map"], "--study", ".toml"),
    (["--view", "map", "--study", "no_such.toml"], "--study", ".toml"),
    (["--view", "map", "--study", "scenarios/studies/policy_map.toml", "--x", "nope"], "--x", X),
    (["--view", "map", "--study", "scenarios/studies/policy_map.toml", "--scenario", "april_2025"], "--scenario",
     "foreign_selloff_2026"),
    (["--view", "expected_cost", "--scenario", SC], "--episode-probability", "0 to 1"),
    (["--view", "expected_cost", "--scenario", SC, "--episode-probability", "2"], "--episode-probability", "0 to 1"),
    (["--view", "amplification", "--scenario", SC, "--bogus"], "--bogus", "--view"),
])
def test_cli_bad_input_exits_2_with_one_line_naming_the_field(args, field, allowed, tmp_path, capsys):
    code, err = _run_cli(["analysis", *args, "--out", str(tmp_path)], capsys)
    assert code == 2
    assert len(err.splitlines()) == 1
    assert err.startswith(f"briefing: {field}")
    assert "allowed:" in err and allowed in err
    assert not list(tmp_path.iterdir())  # nothing written


def test_cli_out_is_a_file(tmp_path, capsys):
    out = tmp_path / "file"
    out.write_text("x")
    code, err = _run_cli(["analysis", "--view", "amplification", "--scenario", SC, "--out", str(out)], capsys)
    assert code == 2 and err.startswith("briefing: --out:")


@pytest.mark.parametrize(("view", "options", "metric"), [
    ("frontier", {"cost": "calm_yield_cost_bp", "regimes": ["status_quo"]}, METRIC),
    ("attribution", {"scenario": SC, "regimes": ["all_guardrails"], "baseline": "status_quo"}, METRIC),
    ("amplification", {"scenario": SC, "regimes": ["all_guardrails"]}, METRIC),
    ("robustness", {"scenario": SC, "regimes": ["all_guardrails"], "baseline": "status_quo", "samples": 0},
     "trough_market_depth_usd_mn"),
    ("expected_cost", {"scenario": SC, "regimes": ["status_quo", "all_guardrails"], "probability": 0.1,
                       "loss": 50.0, "extra": 0.0}, None),
    ("stress_grid", {"regimes": ["all_guardrails"], "baseline": "status_quo"}, None),
])
def test_every_view_builds_a_pack(view, options, metric, study_and_frame):
    study, _ = study_and_frame
    o = {"paths": 20, "seed": 0, "study": study, "metric": metric} | options
    item = ap.run_view(view, o)
    assert item.reading.endswith(".") and len(item.reading) < 400
    pdf, zipped = ap.build(item)
    files = _unzip(zipped)
    assert {"chart.pdf", "chart.svg", "chart.png", "table.csv", "README.txt"} <= set(files)
    assert ("study.toml" in files) == (view == "frontier")
    assert len(pd.read_csv(io.BytesIO(files["table.csv"]))) == len(item.frame)
    text, links, pages = _pdf_text_and_links(pdf)
    assert pages <= 2 and item.link in links and f"an.view={view}" in item.link
    assert ap.VIEW_TITLES[view] in text


def test_cli_map_holds_a_third_factor_and_its_command_says_so(tmp_path, capsys):
    study = parse_study({"name": "three", "scenarios": [SC], "paths": 20, "seed": 0, "base": "all_guardrails",
                         "design": "grid", "factors": [
                             {"name": X, "low": 5.0, "high": 43.0, "levels": 2},
                             {"name": Y, "low": 0.0, "high": 4.75, "levels": 2},
                             {"name": "fed_backstop.enabled", "values": [True, False]}]})
    path = tmp_path / "three.toml"
    path.write_text(ap.study_toml(study))
    base = ["analysis", "--view", "map", "--study", str(path)]
    code, err = _run_cli([*base, "--hold", "fed_backstop.enabled=false", "--out", str(tmp_path / "o")], capsys)
    assert code == 0, err
    files = _unzip(next((tmp_path / "o").glob("*.zip")).read_bytes())
    assert "--hold fed_backstop.enabled=false" in files["README.txt"].decode()
    frame = run_study(study)
    held = frame[(frame["fed_backstop.enabled"] == False) & (frame["metric"] == METRIC)]  # noqa: E712
    cells = ap.charts.policy_map_frame(held, X, Y, METRIC)
    assert min(cells["value_text"], key=lambda t: float(t.split()[0])) in files["README.txt"].decode()
    for bad, field in ((["--hold", "fed_backstop.enabled=maybe"], "--hold"), (["--hold", "nope=1"], "--hold"),
                       (["--hold", "novalue"], "--hold")):
        code, err = _run_cli([*base, *bad, "--out", str(tmp_path / "bad")], capsys)
        assert code == 2 and err.startswith(f"briefing: {field}") and "allowed:" in err, err
