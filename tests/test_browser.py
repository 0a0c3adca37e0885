"""Real browser (headless Debian Chromium via pytest-playwright) against `streamlit run`.

Moves the shock-severity slider with the keyboard, waits for the fan chart and a metric card to
change, saves screenshots to test-results/, and measures in the page the time from the keydown to
the moment a MutationObserver sees the chart's SVG change (20 moves; median in
test-results/latency.json).
"""

import json
import statistics
from pathlib import Path

import pytest

from engine import MODEL_VERSION

pytestmark = pytest.mark.browser

OUT = Path(__file__).resolve().parents[1] / "test-results"
CHART = '[data-testid="stVegaLiteChart"]'
METRIC = '[data-testid="stMetricValue"]'
MOVES = 20

INSTALL_PROBE = """
() => {
  window.__lat = [];
  window.__armed = null;
  const svgText = () => {
    const el = document.querySelector('[data-testid="stVegaLiteChart"] svg');
    return el ? el.innerHTML : '';
  };
  document.addEventListener('keydown', () => {
    window.__armed = {t0: performance.now(), before: svgText()};
  }, true);
  new MutationObserver(() => {
    const a = window.__armed;
    if (!a) return;
    const now = svgText();
    if (now && now !== a.before) {
      window.__lat.push(performance.now() - a.t0);
      window.__armed = null;
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
}
"""


def _write(name: str, text: str) -> None:
    """Save a report in test-results/ (made again here: pytest-playwright empties it when a worker starts)."""
    OUT.mkdir(exist_ok=True)
    (OUT / name).write_text(text)


def _wait_idle(page) -> None:
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=30_000,
    )


def test_slider_moves_chart_and_metric(page, streamlit_server):
    OUT.mkdir(exist_ok=True)
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(streamlit_server) else None)
    page.set_viewport_size({"width": 1500, "height": 1100})
    page.goto(streamlit_server + "/?n=500", wait_until="domcontentloaded")
    page.locator(f"{CHART} svg").first.wait_for(timeout=60_000)
    page.locator(METRIC).first.wait_for(timeout=60_000)
    _wait_idle(page)
    page.wait_for_timeout(500)
    page.screenshot(path=str(OUT / "compare.png"), full_page=True)

    first_metric = page.locator(METRIC).first.inner_text()
    slider = page.get_by_role("slider", name="Shock severity")
    slider.focus()
    page.evaluate(INSTALL_PROBE)

    for i in range(1, MOVES + 1):
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => window.__lat.length >= {i}", timeout=30_000)
        _wait_idle(page)
        page.wait_for_timeout(150)
        slider.focus()

    latencies = page.evaluate("() => window.__lat")
    assert len(latencies) == MOVES
    page.wait_for_function(f"(v) => document.querySelector('{METRIC}').innerText !== v", arg=first_metric, timeout=30_000)
    assert page.locator(METRIC).first.inner_text() != first_metric
    assert "3.0x" in slider.get_attribute("aria-valuetext") or slider.get_attribute("aria-valuenow") in ("3", "3.0")
    page.screenshot(path=str(OUT / "compare_after_moves.png"), full_page=True)
    page.set_viewport_size({"width": 1500, "height": 2300})  # Streamlit scrolls inside the page: use a tall window
    page.wait_for_timeout(800)
    page.screenshot(path=str(OUT / "compare_full.png"))

    median = statistics.median(latencies)
    report = {
        "what": "keydown (ArrowRight on the shock-severity slider) to MutationObserver seeing the fan chart SVG change",
        "moves": MOVES,
        "paths": 500,
        "regimes": 2,
        "median_ms": round(median, 1),
        "min_ms": round(min(latencies), 1),
        "max_ms": round(max(latencies), 1),
        "all_ms": [round(x, 1) for x in latencies],
    }
    _write("latency.json", json.dumps(report, indent=2))
    print(
        f"\nslider-to-chart latency over {MOVES} moves: median {median:.0f} ms (min {min(latencies):.0f}, max {max(latencies):.0f})"
    )
    assert not outside, f"requests left the machine: {outside[:3]}"


def test_methodology_page(page, streamlit_server):
    OUT.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1500, "height": 1100})
    page.goto(streamlit_server + "/methodology", wait_until="domcontentloaded")
    page.get_by_text(f"Model version {MODEL_VERSION}.").wait_for(timeout=60_000)
    page.locator(".katex").first.wait_for(timeout=30_000)  # the equations render
    page.get_by_text(f"model {MODEL_VERSION} · link format").wait_for(timeout=30_000)  # footer
    page.wait_for_timeout(500)
    page.screenshot(path=str(OUT / "methodology.png"), full_page=True)


def test_briefing_pack_download_from_the_browser(page, streamlit_server):
    """One click on the briefing-pack button gives a ZIP with the PDF, charts, CSVs and regimes."""
    import io
    import time
    import zipfile

    OUT.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1500, "height": 2300})
    view = f"/?v=2&mv={MODEL_VERSION}&sc=foreign_selloff_2026&n=500&seed=0&r0=status_quo&r1=clearing_rule&r2=all_guardrails"
    page.goto(streamlit_server + view, wait_until="domcontentloaded")
    page.locator(f"{CHART} svg").first.wait_for(timeout=60_000)
    _wait_idle(page)
    button = page.get_by_role("button", name="Download briefing pack (ZIP: PDF, charts, CSV, regimes)")
    started = time.perf_counter()
    with page.expect_download(timeout=120_000) as info:
        button.click()
    path = info.value.path()
    seconds = time.perf_counter() - started
    with zipfile.ZipFile(io.BytesIO(Path(path).read_bytes())) as pack:
        names = pack.namelist()
    assert any(n.startswith("briefing_") and n.endswith(".pdf") for n in names), names[:10]
    assert sum(n.endswith(".png") for n in names) >= 5 and sum(n.endswith(".csv") for n in names) >= 5
    assert {"status_quo", "clearing_rule", "all_guardrails"} <= {Path(n).stem for n in names if n.endswith(".json")}
    _write("pack_time.json", json.dumps({"regimes": 3, "paths": 500, "click_to_file_s": round(seconds, 2)}))
    print(f"\nbriefing pack, 3 regimes x 500 paths: click to file {seconds:.1f} s")


def test_an_old_link_opens_with_its_message(page, streamlit_server):
    """A link of model 0.1 (format 1, old lever name) opens: the message shows and the results render."""
    OUT.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1500, "height": 1100})
    old = "/?v=1&sc=april_2025&n=200&seed=0&r0=status_quo&r1=clearing_rule&r1.clearing.margin_floor_pct=3"
    page.goto(streamlit_server + old, wait_until="domcontentloaded")
    page.get_by_text("this link was made with model 0.1").wait_for(timeout=60_000)
    page.get_by_text("renamed r1.clearing.haircut_floor_pct").wait_for(timeout=30_000)
    page.locator(f"{CHART} svg").first.wait_for(timeout=60_000)
    page.locator(METRIC).first.wait_for(timeout=60_000)
    _wait_idle(page)
    page.wait_for_function("() => window.location.search.includes('v=2') && window.location.search.includes('mv=')",
                           timeout=30_000)
    assert "margin_floor_pct" not in page.evaluate("() => window.location.search")
    page.screenshot(path=str(OUT / "old_link.png"), full_page=True)
