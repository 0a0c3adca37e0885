"""Real browser (headless Debian Chromium via pytest-playwright, tests/conftest.py) against
`streamlit run`: the policy-analysis page's map. A click on a cell chooses that point (the chooser
follows), the address bar holds the view's an.* link, the briefing pack downloads, and "Open as a
regime in the comparison" opens the comparison with r1 = the base plus the clicked cell's levers.

The expected cell comes from the engine: the same 3 x 3 study is run here (the chart draws the
cells in the order of `policy_map_frame`, so the n-th rect is its n-th row).
"""

import io
import json
import time
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from briefing import analysis_charts as charts
from engine.study import parse_study
from engine.sweep import run_study

pytestmark = pytest.mark.browser

OUT = Path(__file__).resolve().parents[1] / "test-results"
CHART = '[data-testid="stVegaLiteChart"]'
X, Y = "leverage_cap.max_gross_leverage_x", "clearing.haircut_floor_pct"
METRIC = "peak_10y_yield_change_bp"
PATHS = 60
CLICKED = 7  # a cell other than the chooser's default (the first)


def _wait_idle(page) -> None:
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=90_000,
    )


# Whether the chosen-point outline (the map's second rect layer) sits on the n-th cell of the first.
_OUTLINE_JS = """(n) => {
  const groups = [...document.querySelectorAll('[data-testid="stVegaLiteChart"] .mark-rect.role-mark')];
  if (groups.length < 2) return false;
  const cell = groups[0].querySelectorAll('path')[n], box = groups[1].querySelector('path');
  if (!cell || !box) return false;
  const a = cell.getBoundingClientRect(), b = box.getBoundingClientRect();
  return Math.abs(a.x - b.x) < 3 && Math.abs(a.y - b.y) < 3 && Math.abs(a.width - b.width) < 4;
}"""


def _cells():
    study = parse_study({"name": "policy_map_app", "scenarios": ["march_2020"], "paths": PATHS, "seed": 0,
                         "base": "all_guardrails", "design": "grid",
                         "factors": [{"name": X, "low": 5.0, "high": 43.0, "levels": 3},
                                     {"name": Y, "low": 0.0, "high": 4.75, "levels": 3}]})
    return charts.policy_map_frame(run_study(study), X, Y, METRIC)


def test_click_a_map_cell_and_open_it_in_the_comparison(page, streamlit_server):
    page.set_viewport_size({"width": 1600, "height": 1100})
    page.goto(streamlit_server + "/analysis?an.view=map", wait_until="domcontentloaded")
    page.get_by_role("button", name="Run").wait_for(timeout=90_000)
    _wait_idle(page)
    for i in range(2):
        box = page.get_by_role("spinbutton", name="Levels").nth(i)
        box.fill("3")
        box.press("Tab")
    page.get_by_role("spinbutton", name="Paths").fill(str(PATHS))
    page.get_by_role("spinbutton", name="Paths").press("Tab")
    page.get_by_role("button", name="Run").click()
    rects = page.locator(f"{CHART} .mark-rect.role-mark").first.locator("path")  # the cells (not the legend)
    rects.nth(8).wait_for(timeout=120_000)
    _wait_idle(page)
    assert "an.view=map" in page.url and "an.metric=" in page.url  # the address bar is the view's link
    cells = _cells()
    assert rects.count() == len(cells) == 9
    name = str(cells.at[CLICKED, "regime"])
    rects.nth(CLICKED).click()
    page.get_by_text(f"Point {name}:").wait_for(timeout=60_000)  # the chooser followed the click
    _wait_idle(page)
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / "analysis_map_clicked.png"), full_page=True)
    page.wait_for_function(_OUTLINE_JS, arg=CLICKED, timeout=30_000)  # the clicked cell is outlined

    # The keyboard alternative: choosing a point in the chooser outlines it on the map.
    other = 1
    chooser = page.get_by_role("combobox", name="Grid point (click a cell on the map, or choose here)")
    chooser.click()
    chooser.press_sequentially(str(cells.at[other, "regime"]))  # the selectbox filters as you type
    chooser.press("Enter")
    page.get_by_text(f"Point {cells.at[other, 'regime']}:").wait_for(timeout=60_000)
    _wait_idle(page)
    page.wait_for_function(_OUTLINE_JS, arg=other, timeout=30_000)
    # ... and a click after it moves the chooser again.
    rects.nth(CLICKED).click()
    page.get_by_text(f"Point {name}:").wait_for(timeout=60_000)
    _wait_idle(page)
    page.wait_for_function(_OUTLINE_JS, arg=CLICKED, timeout=30_000)

    # The briefing pack of the map, built on the click.
    started = time.perf_counter()
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name="Download briefing pack (ZIP: PDF page, chart, CSV)").click()
    seconds = time.perf_counter() - started
    with zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes())) as pack:
        names = {Path(n).name for n in pack.namelist()}
    assert {"chart.pdf", "chart.svg", "chart.png", "table.csv", "study.toml", "README.txt"} <= names
    old = json.loads((OUT / "pack_time.json").read_text()) if (OUT / "pack_time.json").is_file() else {}
    (OUT / "pack_time.json").write_text(json.dumps(
        {**old, "analysis_map_3x3_60_paths_click_to_file_s": round(seconds, 2)}, indent=2))

    page.get_by_role("button", name="Open as a regime in the comparison").click()
    page.wait_for_url(lambda url: "r1.name=" in url and "/analysis" not in url, timeout=60_000)  # compare is "/"
    page.locator(f"{CHART} svg").first.wait_for(timeout=120_000)
    _wait_idle(page)
    query = {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert (query["r0"], query["r1"], query["sc"], query["n"]) == ("all_guardrails", "all_guardrails", "march_2020",
                                                                    str(PATHS))
    assert query["r1.name"] == f"map_{name}"
    for path, column in ((X, "x"), (Y, "y")):
        if f"r1.{path}" in query:
            assert float(query[f"r1.{path}"]) == pytest.approx(float(cells.at[CLICKED, column]))
    assert any(f"r1.{p}" in query for p in (X, Y))  # the clicked cell differs from the base somewhere
    page.get_by_text(f"map_{name}").first.wait_for(timeout=30_000)  # the comparison shows the regime
    page.screenshot(path=str(OUT / "analysis_map_opened_in_compare.png"), full_page=True)
