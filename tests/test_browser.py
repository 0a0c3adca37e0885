"""Real browser (headless Debian Chromium via pytest-playwright) against `streamlit run`.

Checks the one-screen layout (the lever and the key chart both in the viewport at 1600x1000),
that a lever move changes the key chart and the comparison table, that the address bar and the
in-page link agree, the shock editor, the briefing pack, and saves screenshots to test-results/.

Latencies are recorded, never asserted (test-results/latency.json): keydown on a lever slider to
the moment a MutationObserver sees the key chart's SVG change, 20 moves, for 2 and 4 regimes x
500 paths; a fresh tab's load to the first chart once the server is warm; the pack's click to file.
"""

import json
import statistics
import time
from pathlib import Path

import pytest

from engine import MODEL_VERSION

pytestmark = pytest.mark.browser

OUT = Path(__file__).resolve().parents[1] / "test-results"
CHART = '[data-testid="stVegaLiteChart"]'
TABLE = "table.tmpe-cmp"
MOVES = 20
LEVER = "Maximum gross leverage"  # all_guardrails caps leverage: a tighter cap always moves the results
TWO = f"/?v=2&mv={MODEL_VERSION}&sc=march_2020&n=500&seed=0&r0=status_quo&r1=all_guardrails"
FOUR = TWO + "&r2=clearing_rule&r3=leverage_cap"

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


def _write(name: str, data: dict) -> None:
    """Save a report in test-results/ (merged: pytest-playwright empties the folder per worker)."""
    OUT.mkdir(exist_ok=True)
    path = OUT / name
    old = json.loads(path.read_text()) if path.is_file() else {}
    path.write_text(json.dumps({**old, **data}, indent=2))


def _wait_idle(page) -> None:
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=60_000,
    )


def _open(page, server: str, view: str, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.goto(server + view, wait_until="domcontentloaded")
    page.locator(f"{CHART} svg").first.wait_for(timeout=90_000)
    page.locator(TABLE).wait_for(timeout=60_000)
    _wait_idle(page)
    page.wait_for_timeout(600)


def _in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return bool(box) and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and box["x"] >= 0 and (
        box["x"] + box["width"] <= size["width"])


def _edit(page, regime: str) -> None:
    page.get_by_role("radio", name=regime, exact=True).first.click()
    _wait_idle(page)
    page.get_by_role("radio", name="Leverage cap", exact=True).first.click()
    _wait_idle(page)
    page.get_by_role("slider", name=LEVER).wait_for(timeout=30_000)


def _moves(page, regimes: int) -> dict:
    slider = page.get_by_role("slider", name=LEVER)
    slider.focus()
    table_before = page.locator(TABLE).inner_text()
    page.evaluate(INSTALL_PROBE)
    for i in range(1, MOVES + 1):
        page.keyboard.press("ArrowLeft" if i % 2 else "ArrowRight")  # 20x <-> 19x: every move changes the run
        page.wait_for_function(f"() => window.__lat.length >= {i}", timeout=30_000)
        _wait_idle(page)
        page.wait_for_timeout(150)
        slider.focus()
    latencies = page.evaluate("() => window.__lat")
    assert len(latencies) == MOVES
    page.keyboard.press("ArrowLeft")  # end one step off the start, so the table must differ
    _wait_idle(page)
    page.wait_for_function(f"(v) => document.querySelector('{TABLE}').innerText !== v", arg=table_before,
                           timeout=30_000)
    return {
        "what": f"keydown (ArrowLeft/ArrowRight alternating on '{LEVER}' of all_guardrails) to the key chart's SVG changing",
        "regimes": regimes,
        "paths": 500,
        "moves": MOVES,
        "median_ms": round(statistics.median(latencies), 1),
        "max_ms": round(max(latencies), 1),
        "min_ms": round(min(latencies), 1),
        "all_ms": [round(x, 1) for x in latencies],
    }


def test_one_screen_lever_move_changes_chart_and_table(page, streamlit_server):
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(streamlit_server) else None)
    _open(page, streamlit_server, "/", 1600, 1000)
    page.screenshot(path=str(OUT / "default_1600x1000.png"))
    # One screen: a lever of the edited regime, the table and the key chart are all visible.
    assert _in_viewport(page, page.get_by_role("slider", name="Shock severity"))
    assert _in_viewport(page, page.locator(TABLE))
    assert _in_viewport(page, page.locator(f"{CHART}").first)
    assert _in_viewport(page, page.get_by_text("Lever group", exact=True))
    _edit(page, "all_guardrails")
    assert _in_viewport(page, page.get_by_role("slider", name=LEVER))
    assert _in_viewport(page, page.locator(f"{CHART}").first)

    _open(page, streamlit_server, TWO, 1600, 1000)
    _edit(page, "all_guardrails")
    two = _moves(page, 2)
    _open(page, streamlit_server, FOUR, 1600, 1000)
    page.screenshot(path=str(OUT / "four_regimes_1600x1000.png"))
    _edit(page, "all_guardrails")
    assert _in_viewport(page, page.get_by_role("slider", name=LEVER))
    assert _in_viewport(page, page.locator(f"{CHART}").first)
    four = _moves(page, 4)
    _write("latency.json", {"slider_to_chart_2_regimes": two, "slider_to_chart_4_regimes": four})
    print(f"\nslider to chart: 2 regimes median {two['median_ms']:.0f} ms (max {two['max_ms']:.0f}); "
          f"4 regimes median {four['median_ms']:.0f} ms (max {four['max_ms']:.0f})")
    assert not outside, f"requests left the machine: {outside[:3]}"


def test_laptop_and_narrow_windows_still_work(page, streamlit_server):
    _open(page, streamlit_server, "/", 1280, 800)
    page.screenshot(path=str(OUT / "default_1280x800.png"))
    assert _in_viewport(page, page.locator(TABLE))
    _open(page, streamlit_server, FOUR, 1280, 800)
    page.screenshot(path=str(OUT / "four_regimes_1280x800.png"))
    table = page.locator(TABLE).bounding_box()
    assert table["x"] + table["width"] <= 1280  # four regimes fit the width: no sideways scrolling
    _open(page, streamlit_server, "/", 600, 900)
    page.screenshot(path=str(OUT / "narrow_600.png"))
    assert page.locator(TABLE).is_visible() and page.get_by_role("slider", name="Shock severity").count() == 1


def test_fresh_tab_load_to_first_chart(browser, streamlit_server):
    """Warm server (the default view visited once), then fresh tabs: time from navigation to the chart."""
    warm = browser.new_page()
    warm.goto(streamlit_server + "/", wait_until="domcontentloaded")
    warm.locator(f"{CHART} svg").first.wait_for(timeout=90_000)
    warm.close()
    times = []
    for _ in range(5):
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        tab = context.new_page()
        started = time.perf_counter()
        tab.goto(streamlit_server + "/", wait_until="domcontentloaded")
        tab.locator(f"{CHART} svg").first.wait_for(timeout=90_000)
        times.append(time.perf_counter() - started)
        context.close()
    report = {"what": "fresh browser context: navigation to the key chart's SVG, server warm", "runs": len(times),
              "median_s": round(statistics.median(times), 2), "max_s": round(max(times), 2),
              "all_s": [round(t, 2) for t in times]}
    _write("latency.json", {"load_to_first_chart": report})
    print(f"\nload to first chart (fresh tab, warm server): median {report['median_s']} s, max {report['max_s']} s")
    assert len(times) == 5


def _link_text(page) -> str:
    return page.locator('[data-testid="stCode"]').filter(has_text="sc=").first.inner_text().strip()


def test_address_bar_and_in_page_link_agree(page, streamlit_server):
    _open(page, streamlit_server, TWO, 1600, 1000)
    page.get_by_role("tab", name="Share and export").click()
    _wait_idle(page)
    for action in ("add", "lever", "remove"):
        if action == "add":
            page.get_by_role("button", name="add").click()
        elif action == "lever":
            _edit(page, "all_guardrails")
            slider = page.get_by_role("slider", name=LEVER)
            slider.focus()
            page.keyboard.press("ArrowLeft")
        else:
            page.locator('[data-testid="stBaseButton-secondary"]').filter(has_text="close").first.click()
        _wait_idle(page)
        page.wait_for_timeout(400)
        page.wait_for_function(
            "() => { const c = [...document.querySelectorAll('[data-testid=\"stCode\"]')].find(e => e.innerText.includes('sc='));"
            " return c && c.innerText.trim().endsWith(window.location.search.slice(1)); }",
            timeout=10_000,
        )
        link = _link_text(page)
        assert link.split("?", 1)[1] == page.evaluate("() => window.location.search.slice(1)"), action


def test_scenario_editor_runs_an_edited_shock(page, streamlit_server):
    _open(page, streamlit_server, TWO, 1600, 1000)
    before = page.locator(TABLE).inner_text()
    page.get_by_role("button", name="Build a shock: edit the scenario").click()
    page.get_by_role("dialog").wait_for(timeout=30_000)
    _wait_idle(page)
    field = page.get_by_role("spinbutton", name="Foreign official sales ($bn)")
    field.fill("600")
    page.get_by_role("button", name="Apply").click()
    _wait_idle(page)
    page.wait_for_function(f"(v) => document.querySelector('{TABLE}').innerText !== v", arg=before, timeout=30_000)
    page.wait_for_function("() => window.location.search.includes('se.')", timeout=10_000)
    assert "se.sales.foreign_official=600" in page.evaluate("() => window.location.search")
    page.screenshot(path=str(OUT / "edited_shock_1600x1000.png"))
    # The edited shock goes into the briefing pack: its scenario file and the PDF say so.
    import io
    import zipfile

    from pypdf import PdfReader

    page.get_by_role("tab", name="Share and export").click()
    _wait_idle(page)
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name="Download briefing pack (ZIP: PDF, charts, CSV, regimes)").click()
    with zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes())) as pack:
        names = pack.namelist()
        toml = next(n for n in names if n.startswith("scenario/") and n.endswith(".toml"))
        text = pack.read(toml).decode()
        pdf = PdfReader(io.BytesIO(pack.read(next(n for n in names if n.endswith(".pdf")))))
    assert "march_2020_edited" in toml and "total_usd_bn = 600" in text.replace("600.0", "600")
    first_page = pdf.pages[0].extract_text()
    assert "edited" in first_page.lower() and "se.sales.foreign_official=600" in "".join(
        p.extract_text() for p in pdf.pages).replace("\n", "")


def test_briefing_pack_download_from_the_browser(page, streamlit_server):
    """One click on the briefing-pack button gives a ZIP with the PDF, charts, CSVs and regimes."""
    import io
    import zipfile

    view = f"/?v=2&mv={MODEL_VERSION}&sc=foreign_selloff_2026&n=500&seed=0&r0=status_quo&r1=clearing_rule&r2=all_guardrails"
    _open(page, streamlit_server, view, 1600, 1000)
    page.get_by_role("tab", name="Share and export").click()
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
    _write("pack_time.json", {"regimes": 3, "paths": 500, "click_to_file_s": round(seconds, 2)})
    print(f"\nbriefing pack, 3 regimes x 500 paths: click to file {seconds:.1f} s")


def test_methodology_page(page, streamlit_server):
    page.set_viewport_size({"width": 1500, "height": 1100})
    page.goto(streamlit_server + "/methodology", wait_until="domcontentloaded")
    page.get_by_text(f"Model version {MODEL_VERSION}.").wait_for(timeout=60_000)
    page.locator(".katex").first.wait_for(timeout=30_000)  # the equations render
    page.get_by_text(f"model {MODEL_VERSION} · link format").wait_for(timeout=30_000)  # footer
    page.wait_for_timeout(500)
    assert page.locator('[data-testid="stException"]').count() == 0  # no section failed to build
    assert page.locator(".katex").count() >= 5  # the model's equations, not one stray formula
    page.screenshot(path=str(OUT / "methodology.png"), full_page=True)


def test_an_old_link_opens_with_its_message(page, streamlit_server):
    """A link of model 0.1 (format 1, old lever name) opens: the message shows and the results render."""
    old = "/?v=1&sc=april_2025&n=200&seed=0&r0=status_quo&r1=clearing_rule&r1.clearing.margin_floor_pct=3"
    _open(page, streamlit_server, old, 1500, 1100)
    page.get_by_text("this link was made with model 0.1").wait_for(timeout=60_000)
    page.get_by_text("renamed r1.clearing.haircut_floor_pct").wait_for(timeout=30_000)
    page.wait_for_function("() => window.location.search.includes('v=2') && window.location.search.includes('mv=')",
                           timeout=30_000)
    assert "margin_floor_pct" not in page.evaluate("() => window.location.search")


def test_fast_clicks_in_the_lever_panel_settle_on_the_clicked_regime(page, streamlit_server):
    """Clicks faster than the reruns (regime, group, regime, ...) end on the last click's panel, with
    that regime's own lever values, and never an exception: a number entry's late change event for
    a lever the last run did not draw once crashed the page (KeyError in its callback)."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    view = f"/?v=2&mv={MODEL_VERSION}&sc=march_2020&n=100&seed=0&r0=status_quo&r1=clearing_rule&r1.clearing.haircut_floor_pct=3"
    _open(page, streamlit_server, view, 1600, 1000)
    search = page.evaluate("() => window.location.search")
    entry = page.get_by_role("spinbutton", name="Regulatory haircut floor on cleared repo, exact")
    for _ in range(5):
        for name in ("clearing_rule", "status_quo (baseline)", "clearing_rule"):  # no wait between clicks
            page.get_by_role("radio", name=name, exact=True).first.click()
        for group in ("Dealer rule", "Leverage cap", "Clearing (1)"):
            page.get_by_role("radio", name=group, exact=True).first.click()
        page.get_by_role("radio", name="Clearing (1)", exact=True).wait_for(timeout=30_000)
        _wait_idle(page)
        page.wait_for_timeout(800)  # a rerun still in flight would start within this
        _wait_idle(page)
        assert page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count() == 0
        assert float(entry.input_value()) == 3.0
        assert page.evaluate("() => window.location.search") == search  # looking changed nothing
    assert not errors, errors
