"""The briefing pack for app v2: edited and uploaded scenarios, the app's headline table and honest
(paired) differences, the first regime as baseline, zero as "no change", and the CLI's --scenario FILE.

Real engine runs and real packs throughout (no mocks). Expected numbers come from `Result.difference`
and are compared with the PDF's text numerically within its rounding; they are never formatted here
with the app's formatter.
"""

import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from pypdf import PdfReader

import policy
from briefing import charts, export
from briefing.pack import build_pack, link_caveats, paired_words, view_for_result
from engine import MODEL_VERSION, assumption_bounds, load_scenario, scenario_names, simulate
from engine.scenario_edit import (
    apply_edit,
    describe_edit,
    edit_to_params,
    link_scenario_check,
    make_edit,
    resolve_edited,
    scenario_to_blob,
    scenario_to_toml,
)
from policy.query import MAX_LINK_SCENARIO_CHARS, RegimeView, ViewState, decode_view, scenario_fits_link

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = "foreign_selloff_2026"
REGIMES = ["status_quo", "clearing_rule"]
PATHS = 60
SEED = 11
NUMBER = r"[+-]?\d[\d,]*(?:\.\d+)?"


def pdf_pages(pdf: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    return " ".join(text.split())


def link_params(zipped: bytes) -> dict[str, str]:
    run = json.loads(zipfile.ZipFile(io.BytesIO(zipped)).read("run.json"))
    return {k: v[-1] for k, v in parse_qs(urlsplit(run["link"]).query).items()}


def decoded(params: dict[str, str]) -> tuple[ViewState, list[str]]:
    return decode_view(params, scenarios=scenario_names(), assumption_ranges=assumption_bounds,
                       model_version=MODEL_VERSION, scenario_edit_check=link_scenario_check)


def close_to(text: str, exact: float) -> bool:
    """True when `text` (a number as the PDF shows it) is `exact` rounded to the decimals shown."""
    value = float(text.replace(",", ""))
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(value - exact) <= 0.5 * 10.0**-decimals + 1e-9


def app_view(scenario: str, regimes: list[str], **update) -> ViewState:
    """The view as the app holds it: presets by name, the shipped scenario plus its edit."""
    return ViewState(scenario=scenario, paths=PATHS, seed=SEED,
                     regimes=[RegimeView(preset=n, name=n) for n in regimes], **update)


# ------------------------------------------------------------------------------- edited scenario
@pytest.fixture(scope="module")
def edit():
    base = load_scenario(SCENARIO)
    return make_edit(base, sales_usd_bn={"foreign_official": 600.0}, volatility_scale=1.5, days=50,
                     events=[(0, "Sanctions announced"), (4, "Reserve managers sell")])


@pytest.fixture(scope="module")
def edited_pack(edit):
    scenario = apply_edit(load_scenario(SCENARIO), edit)
    result = simulate(scenario, REGIMES, paths=PATHS, seed=SEED)
    view = app_view(SCENARIO, REGIMES, scenario_edit=edit_to_params(edit))
    pdf, zipped = build_pack(result, view)
    return result, view, pdf, zipped


def test_edited_scenario_pack_links_the_edit(edit, edited_pack):
    result, view, pdf, zipped = edited_pack
    assert result.scenario.name == f"{SCENARIO}_edited"
    params = link_params(zipped)
    assert params["sc"] == SCENARIO and "sx" not in params
    expected = {f"se.{k}": v for k, v in edit_to_params(edit).items()}
    assert expected and {k: v for k, v in params.items() if k.startswith("se.")} == expected
    # The link opens this very view, without a message, and the scenario it resolves is the run's.
    view_back, messages = decoded(params)
    assert messages == [] and view_back == view
    assert resolve_edited(view_back.scenario, view_back.scenario_edit) == result.scenario
    # The CLI's path (the view rebuilt from the result) gives the app's view.
    assert view_for_result(result) == view
    assert link_caveats(result, view) == []
    text = flat("\n".join(pdf_pages(pdf)))
    assert "use the scenario file in the zip" not in text.lower()
    title = flat(pdf_pages(pdf)[0])
    how = describe_edit(load_scenario(SCENARIO), edit)
    assert how and f"Scenario edited in the explorer from the shipped '{SCENARIO}': {how}." in title
    assert "foreign official sales $600bn (was $300bn)" in title


def test_edited_scenario_toml_loads_back_equal(edited_pack, tmp_path):
    result, _, _, zipped = edited_pack
    zf = zipfile.ZipFile(io.BytesIO(zipped))
    name = f"scenario/{SCENARIO}_edited.toml"
    assert name in zf.namelist() and not any(n.endswith(".json") and n.startswith("scenario/") for n in zf.namelist())
    path = tmp_path / Path(name).name
    path.write_bytes(zf.read(name))
    assert load_scenario(path) == result.scenario
    assert name in zf.read("README.txt").decode()
    # The engine's own command line reads it and runs the same scenario.
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "run", "--scenario", str(path), "--paths", "20", "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["scenario"] == result.scenario.name and out["days"] == result.days == 50


def test_historical_edit_with_history_file_packs_and_loads_back(tmp_path):
    """An edit of march_2020 keeps its shipped history file, so its TOML loads from anywhere."""
    base = load_scenario("march_2020")
    edit = make_edit(base, funding_scale=1.4)
    result = simulate(apply_edit(base, edit), ["as_of_march_2020"], paths=20, seed=SEED)
    view = view_for_result(result)
    assert view.scenario == "march_2020" and view.scenario_edit == edit_to_params(edit) == {"repo": "1.4"}
    _, zipped = build_pack(result, view)
    path = tmp_path / "march_2020_edited.toml"
    path.write_bytes(zipfile.ZipFile(io.BytesIO(zipped)).read("scenario/march_2020_edited.toml"))
    assert load_scenario(path) == result.scenario and result.scenario.history


# ------------------------------------------------------------------------------ uploaded scenario
def _upload(description: str) -> object:
    base = load_scenario(SCENARIO)
    return base.model_copy(update={"name": "my_upload", "title": "My uploaded shock", "description": description})


def test_uploaded_scenario_too_large_for_a_link_says_use_the_file(tmp_path):
    # Hex of a hash chain does not compress, so its blob passes the link's limit.
    import hashlib

    words, seed = [], b"0"
    for _ in range(120):
        seed = hashlib.sha256(seed).hexdigest().encode()
        words.append(seed.decode()[:24])
    scenario = _upload(" ".join(words))
    result = simulate(scenario, ["status_quo"], paths=20, seed=SEED)
    view = view_for_result(result)
    assert view.custom_scenario == scenario_to_blob(scenario) and not scenario_fits_link(view)
    assert len(view.custom_scenario) > MAX_LINK_SCENARIO_CHARS
    pdf, zipped = build_pack(result, view)
    params = link_params(zipped)
    assert "sx" not in params and not any(k.startswith("se.") for k in params)
    caveats = link_caveats(result, view)
    assert len(caveats) == 1 and "too large for a link" in caveats[0]
    assert "Use the scenario file in the ZIP (scenario/my_upload.toml)" in caveats[0]
    assert "Use the scenario file in the ZIP (scenario/my_upload.toml)" in flat("\n".join(pdf_pages(pdf)))
    assert "Scenario uploaded in the explorer" in flat(pdf_pages(pdf)[0])
    path = tmp_path / "my_upload.toml"
    path.write_bytes(zipfile.ZipFile(io.BytesIO(zipped)).read("scenario/my_upload.toml"))
    assert load_scenario(path) == scenario


def test_uploaded_scenario_that_fits_travels_in_the_link_without_a_caveat():
    scenario = _upload("A short uploaded shock.")
    result = simulate(scenario, ["status_quo"], paths=20, seed=SEED)
    view = view_for_result(result)
    assert scenario_fits_link(view) and view.custom_scenario is not None
    assert link_caveats(result, view) == []
    # A view with a different edit of the same name is a run the link does not reproduce: said, not hidden.
    other = view.model_copy(update={"custom_scenario": scenario_to_blob(_upload("Another text."))})
    assert any("not the scenario 'my_upload' of this run" in c for c in link_caveats(result, other))


# ---------------------------------------------------------------- headline table and the baseline
@pytest.fixture(scope="module")
def reordered():
    """The first regime is not status_quo: it is still the baseline, as in the app."""
    regimes = ["clearing_rule", "status_quo", "all_guardrails"]
    result = simulate(SCENARIO, regimes, paths=120, seed=SEED)
    pdf, zipped = build_pack(result, view_for_result(result))
    return result, pdf, zipped


def _headline_page(pdf: bytes) -> str:
    return next(p for p in pdf_pages(pdf) if p.startswith("Headline comparison"))


def test_headline_table_shows_the_paired_difference_of_peak_10y(reordered):
    result, pdf, _ = reordered
    page = _headline_page(pdf)
    row = page[page.index("Peak 10y yield rise"):page.index("P(peak 10y rise")]
    shown = re.findall(rf"Δ ({NUMBER}) \(({NUMBER}) to ({NUMBER})\)", row)
    others = result.regime_names[1:]
    assert len(shown) == len(others)  # one Δ per regime but the baseline
    for (p50, p5, p95), name in zip(shown, others, strict=True):
        d = result.difference("peak_10y_yield_change_bp", name, "clearing_rule")
        assert close_to(p50, d["p50"]) and close_to(p5, d["p5"]) and close_to(p95, d["p95"]), (name, d, shown)
    # Regime 2's paired median differs from the difference of medians on this run: the table shows the former.
    s = result.summary()
    naive = s["status_quo"]["peak_10y_yield_change_bp"]["p50"] - s["clearing_rule"]["peak_10y_yield_change_bp"]["p50"]
    d = result.difference("peak_10y_yield_change_bp", "status_quo", "clearing_rule")
    if not close_to(shown[0][0], naive):
        assert close_to(shown[0][0], d["p50"])
    # Probabilities: the difference of shares (pp) with its paired interval.
    row = page[page.index("Breakdown probability"):page.index("RV funds' forced sales")]
    shown = re.findall(rf"Δ ({NUMBER}) \(({NUMBER}) to ({NUMBER})\)|Δ no change", row)
    d = result.difference("broken_market_probability_pct", "status_quo", "clearing_rule")
    assert shown, row
    if shown[0][0]:
        assert close_to(shown[0][0], d["p50"]) and close_to(shown[0][1], d["p5"]) and close_to(shown[0][2], d["p95"])


def test_baseline_is_the_first_regime(reordered):
    result, pdf, zipped = reordered
    pages = pdf_pages(pdf)
    assert "Baseline: clearing_rule (the first regime" in flat(pages[0])
    assert "clearing_rule (baseline)" in _headline_page(pdf)
    summary = flat(next(p for p in pages if p.startswith("What changed")))
    assert "status_quo compared with clearing_rule:" in summary
    assert "all_guardrails compared with clearing_rule:" in summary
    assert "compared with status_quo" not in summary
    zf = zipfile.ZipFile(io.BytesIO(zipped))
    assert json.loads(zf.read("run.json"))["baseline"] == "clearing_rule"
    diffs = pd.read_csv(io.BytesIO(zf.read("data/paired_differences.csv")))
    assert set(diffs["baseline"]) == {"clearing_rule"} and set(diffs["regime"]) == {"status_quo", "all_guardrails"}
    for row in diffs.itertuples():
        d = result.difference(row.metric, row.regime, "clearing_rule")
        assert (row.p5, row.p50, row.p95) == pytest.approx((d["p5"], d["p50"], d["p95"]), rel=1e-12, abs=1e-12)


# ------------------------------------------------------------------------------ zero is neutral
def test_zero_differences_read_no_change():
    same = policy.get_preset("status_quo").model_copy(update={"name": "same_rules"})
    result = simulate(SCENARIO, ["status_quo", same], paths=40, seed=SEED)
    pdf, _ = build_pack(result, view_for_result(result))
    pages = pdf_pages(pdf)
    summary = flat(next(p for p in pages if p.startswith("What changed")))
    part = summary[summary.index("same_rules compared with status_quo:"):]
    assert part.count("no change against status_quo, path by path") >= 6  # four metrics, two shares
    assert "Cost in calm markets: no change against status_quo" in part
    headline = _headline_page(pdf)
    assert headline.count("Δ no change") == 8  # every row but the three calm-cost rows
    for text in (part, flat(headline)):
        assert not re.search(r"(?<![\d.])[+-]?0(\.0+)?(\s?\S+)? (higher|lower)\b", text), text
        assert not re.search(r"[+-]0(\.0+)?\b", text), text  # zero is never signed


def test_paired_words_are_neutral_at_zero_and_say_path_by_path():
    assert paired_words({"p5": 0.0, "p50": 0.0, "p95": 0.0}, "bp", "b", "band") == "no change against b, path by path"
    about = paired_words({"p5": -2.0, "p50": 0.001, "p95": 3.0}, "bp", "b", "band")
    assert about.startswith("about the same as under b, path by path (band -2.0 to +3.0 bp")
    lower = paired_words({"p5": -9.0, "p50": -4.0, "p95": 1.0}, "bp", "b", "band")
    assert lower.startswith("4.0 bp lower than under b, path by path")


# ------------------------------------------------------------------------------------------- CLI
def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "briefing", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ('name = "broken"\ntitle = "Broken"\n', "kind"),
        ("volatility_scale = 9.0\n" + scenario_to_toml(load_scenario(SCENARIO)), "volatility_scale"),
        ("this is not toml = = =\n", "malformed TOML"),
    ],
)
def test_cli_bad_scenario_file_exits_2_naming_the_field(tmp_path, content, field):
    bad = tmp_path / "bad.toml"
    bad.write_text(content)
    out = tmp_path / "out"
    proc = run_cli("export", "--scenario", str(bad), "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("briefing: --scenario: bad.toml"), proc.stderr
    assert field in lines[0] and "Traceback" not in proc.stderr
    assert not out.exists() or not any(out.iterdir())


def test_cli_edited_scenario_file_gives_the_edit_in_the_link(edit, tmp_path):
    scenario = apply_edit(load_scenario(SCENARIO), edit)
    path = tmp_path / "my_shock.toml"
    path.write_text(scenario_to_toml(scenario))
    out = tmp_path / "out"
    proc = run_cli("export", "--scenario", str(path), "--regime", "status_quo", "--paths", "30", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    zipped = next(out.glob("*.zip")).read_bytes()
    params = link_params(zipped)
    assert params["sc"] == SCENARIO
    assert {k[3:]: v for k, v in params.items() if k.startswith("se.")} == edit_to_params(edit)
    assert decoded(params)[1] == []


# ------------------------------------------------------------------- rendering in a helper process
def test_helper_process_renders_the_same_files_and_falls_back_when_it_dies():
    result = simulate(SCENARIO, REGIMES, paths=20, seed=SEED)
    svgs = {"tradeoff": export.to_svg(charts.tradeoff_chart(result)),
            "holdings": export.to_svg(charts.holdings_chart(result, "status_quo"))}
    here = export.Rasteriser(2, in_process=True)
    for key, svg in svgs.items():
        here.submit(key, svg)
    expected = here.results()
    assert set(expected) == set(svgs)

    def same(files: dict[str, dict[str, bytes]]) -> None:
        # PNGs are byte-identical; vl-convert orders a PDF's resources differently from call to call
        # (even in one process), so PDFs are compared by page size and text.
        assert set(files) == set(expected)
        for key, got in files.items():
            assert got["png"] == expected[key]["png"], key
            mine, theirs = (PdfReader(io.BytesIO(f["pdf"])).pages for f in (got, expected[key]))
            assert len(mine) == len(theirs) == 1 and mine[0].mediabox == theirs[0].mediabox
            assert mine[0].extract_text() == theirs[0].extract_text()

    helper = export.Rasteriser(2)
    for key, svg in svgs.items():
        helper.submit(key, svg)
    same(helper.results())
    # A helper that is gone (killed, or never started) costs time, never files.
    dead = export.Rasteriser(2)
    assert dead._proc is not None
    dead._proc.kill()
    dead._proc.wait()
    for key, svg in svgs.items():
        dead.submit(key, svg)
    same(dead.results())
