"""The comparison page: one screen with the levers of the regime being edited beside the results.

Layout (1600x1000 without scrolling): the sidebar holds the scenario, run settings, the shock
editor and the model assumptions; the main area is one fragment with the lever panel on the left
and, on the right, the two-sentence story, the comparison table (regimes as columns) and the key
stress chart. More charts, every metric, the briefing pack and the link follow below in tabs.

A lever move reruns only the fragment. Charts swap their data into a cached spec. Widgets come
from `policy.lever_specs()`, charts from `briefing.charts`, numbers from the engine's Result via
`briefing.headline`. Nothing here computes economics.
"""

import json
import threading
import time
from collections.abc import Callable

import pandas as pd
import streamlit as st

from briefing.headline import HEADLINE, headline_rows, story
from engine import METRICS, MODEL_VERSION, InputError, assumption_ranges, load_scenario
from engine.bytecache import ByteLRU
from engine.dynamics import SERIES
from policy.query import QUERY_VERSION, regimes_from_view, view_url
from policy.run_settings import MAX_PATHS_INTERACTIVE, MAX_SEED, MAX_SHOCK_SCALE
from ui import levers, scenario_editor, state, table
from ui.exports import safe_export
from ui.runner import LONG_RUN_PATHS, SESSION_SHARE, run_view, session_id
from ui.text import FED_NOTE, FUNCTIONING_NOTE
from ui.text import plain as _plain

# The key stress chart's series on the first screen (the small multiples below use the charts' default set).
KEY_SERIES = "yield_10y_change_bp"
# Fan-chart choices, most asked-for first; any other engine series follows in the engine's order.
_FAN_FIRST: tuple[str, ...] = (
    "yield_10y_change_bp",
    "yield_30y_change_bp",
    "dislocation_bp",
    "long_dislocation_bp",
    "market_depth_usd_mn",
    "dealer_utilization_pct",
    "dealer_long_utilization_pct",
    "dealer_inventory_usd_bn",
    "basis_widening_bp",
    "swap_spread_30y_bp",
    "fund_leverage_x",
    "forced_sales_usd_bn",
    "fed_purchases_usd_bn",
)
FAN_SERIES: tuple[str, ...] = tuple(s for s in _FAN_FIRST if s in SERIES) + tuple(s for s in SERIES if s not in _FAN_FIRST)
# Plot width budget of the key chart (px): fits the results column at 1280 px and 1600 px.
KEY_CHART_WIDTH = 620
STATUS_BADGE = {
    "V": ":green-badge[verified]",
    "V2": ":blue-badge[secondary source]",
    "U": ":orange-badge[unverified]",
}
DRIVER_PATHS = 200
_CSS = """
<style>
/* one screen: less empty space above the page and between blocks */
.block-container {padding: 3.9rem 2rem 1rem 2rem;}
section[data-testid="stSidebar"] .block-container {padding-top: 1.5rem;}
div[data-testid="stVerticalBlock"] {gap: 0.55rem;}
</style>
"""


# ---------------------------------------------------------------- sidebar: scenario and run

_SHOCK_OPEN = "_shock_open"
_SHOCK_VIEW = "_shock_view"


def _open_shock_editor() -> None:
    st.session_state[_SHOCK_OPEN] = True
    st.session_state[_SHOCK_VIEW] = json.dumps(state.encode(state.view()), sort_keys=True)


@st.dialog("Build a shock", width="large", on_dismiss=lambda: st.session_state.update({_SHOCK_OPEN: False}))
def _shock_dialog() -> None:
    """The scenario editor in a wide dialog; an applied edit reruns the whole page (sidebar too)."""
    scenario_editor.render()
    now = json.dumps(state.encode(state.view()), sort_keys=True)
    if now != st.session_state.get(_SHOCK_VIEW):
        st.session_state[_SHOCK_OPEN] = False
        st.rerun()


def _sidebar() -> None:
    names = state.scenario_options()
    with st.sidebar:
        chosen = st.session_state.get(state.K_SCENARIO)
        st.selectbox(
            "Stress scenario",
            names,
            index=names.index(chosen) if chosen in names else 0,  # see ui.levers.lever: the default is the value
            key=state.K_SCENARIO,
            format_func=lambda n: load_scenario(n).title,
            on_change=state.on_scenario_change,
        )
        sc = scenario_editor.active_scenario(state.view())
        if state.is_placebo(st.session_state[state.K_SCENARIO]):
            st.info(
                "A placebo episode: markets kept functioning, so a sound model stays calm here too. It tests the "
                "model rather than the rules; the Backtest on the Methodology page scores it.",
                icon=":material/science:",
            )
        with st.expander("About this scenario and its sources"):
            st.caption(_plain(sc.description))
            st.markdown(f"**Fundamental 10y path.** {_plain(sc.fundamental.source)}")
            for flow in sc.flows:
                st.markdown(
                    f"**{flow.sector.replace('_', ' ').capitalize()} sales:** ${flow.total_usd_bn:,.0f}bn over "
                    f"days {flow.start_day}-{flow.end_day}. {_plain(flow.source)}"
                )
            if sc.events:
                st.markdown("**Events:** " + _plain("; ".join(f"day {e.day}: {e.label}" for e in sc.events)))
        edited = scenario_editor.edit_caption(state.view())
        if edited:
            st.caption(_plain(edited[0].upper() + edited[1:]))
        st.button("Build a shock: edit the scenario", key="b.shock", on_click=_open_shock_editor,
                  icon=":material/tune:", width="stretch",
                  help="Change sales by sector, volatility, the fundamental path, the horizon and events, "
                  "or upload a scenario file")
        if st.session_state.get(_SHOCK_OPEN):
            _shock_dialog()
        st.slider(
            "Shock severity",
            min_value=0.0,
            max_value=MAX_SHOCK_SCALE,
            value=float(st.session_state.get(state.K_SEVERITY, 1.0)),
            step=0.1,
            key=state.K_SEVERITY,
            format="%.1fx",
            help="Multiplies the scenario's flows, its fundamental path (and so that path's volatility) and its "
            "funding stress above calm levels. 1x = the scenario as written; 0 = no shock.\n\n" + FED_NOTE,
        )
        cols = st.columns(2)
        cols[0].number_input(
            "Paths",
            min_value=1,
            max_value=MAX_PATHS_INTERACTIVE,
            value=int(st.session_state.get(state.K_PATHS, 1)),
            step=100,
            key=state.K_PATHS,
            help="Monte Carlo paths. Uncertain parameters are drawn per path; bands are 5th-95th percentiles "
            f"across paths. 500 is quick; up to {MAX_PATHS_INTERACTIVE:,} for a final briefing.",
        )
        cols[1].number_input(
            "Seed",
            min_value=0,
            max_value=MAX_SEED,
            value=int(st.session_state.get(state.K_SEED, 0)),
            step=1,
            key=state.K_SEED,
            help="Same inputs and seed give identical results; every regime sees the same draws.",
        )
        st.caption(f"Horizon: {sc.default_days} trading days from {sc.day0:%d %b %Y} (day 0, last calm close).")
        _assumptions(sc)


def _assumptions(scenario) -> None:
    ranges = assumption_ranges(scenario)
    assumed = state.view().assumptions
    changed = sum(n in assumed and assumed[n] != v.value for n, v in ranges.items())
    title = "Model assumptions" + (f" ({changed} changed)" if changed else "")
    panel = st.expander(title, key="x.assumptions", on_change="rerun")
    with panel:
        if not panel.open:
            return
        st.caption(
            "Re-centre calibrated values within their documented ranges. :green-badge[verified] in its source, "
            ":blue-badge[secondary source] via a relay, :orange-badge[unverified] a placeholder with a wide range. "
            "Sampled values are also drawn across Monte Carlo paths around the value you set."
        )
        st.button("Reset all assumptions", on_click=state.on_reset_assumptions, disabled=not changed, key="b.reset.a")
        for name, item in sorted(ranges.items(), key=lambda kv: kv[1].label):
            key = state.k_assumption(name)
            current = state.prepare(key, float(assumed.get(name, item.value)))
            label = f"{item.label} ({item.unit}) {STATUS_BADGE[item.status]}"
            if current != item.value:
                label = f":orange[**● {item.label}**] ({item.unit}) {STATUS_BADGE[item.status]}"
            help_text = (
                f"{item.description or item.label}\n\n`{name}`: calibrated value {item.value:g}, range {item.low:g} "
                f"to {item.high:g} {item.unit}. Source: {item.source}"
                + (f"\n\nTuned to: {item.tuned_to}" if item.tuned_to else "")
                + ("\n\nSampled across paths." if item.sampled else "")
            )
            span = item.high - item.low
            st.slider(label, float(item.low), float(item.high), value=float(current),
                      step=float(f"{span / 100:.2g}"), key=key, help=help_text)


# ---------------------------------------------------------------- charts (data-only updates)


# Chart templates are shared by every session (read-only specs, a few hundred KB each); briefing
# packs are one session's (a few MB each, at most half the budget per session). Both bounded in bytes.
TEMPLATES = ByteLRU(50 * 1_000_000)
PACKS = ByteLRU(200 * 1_000_000, owner_share=SESSION_SHARE)


def _template(key: str, bare: bool, build: Callable, frame: pd.DataFrame) -> tuple[dict, str]:
    """A chart's spec and its main dataset's name, built once per template (read-only after).
    `bare` drops the title block (the first screen says it in one caption line instead)."""
    return TEMPLATES.get_or_compute((key, bare), lambda: _build_template(bare, build, frame))


def _build_template(bare: bool, _build: Callable, _frame: pd.DataFrame) -> tuple[dict, str]:
    from briefing import charts

    spec = _build().to_dict(validate=False)
    if bare:
        spec.pop("title", None)
    # No ARIA attributes on every mark: the SVG redraw of a lever move is then markedly lighter.
    spec.setdefault("config", {})["aria"] = False
    return _sized(spec), charts.main_dataset_name(spec, _frame)


def _sized(spec: dict) -> dict:
    """Charts at their built size: Streamlit gives layered charts `autosize: fit`, which squeezes a
    plot with a label column (the trade-off chart) into its own width."""
    spec["autosize"] = {"type": "pad", "contains": "padding"}
    return spec


def _chart(result, kind: str, build: Callable, *, bare: bool = False, **kw) -> None:
    """A chart whose spec is cached per template: a lever move only swaps its one dataset."""
    from briefing import charts

    frame = charts.chart_frame(result, kind, **kw)
    try:
        spec, name = _template(charts.template_key(result, kind, **kw), bare, build, frame)
    except ValueError:  # a chart that reshapes its frame (trade-off labels): no data-only path
        spec = build().to_dict(validate=False)
        spec.setdefault("config", {})["aria"] = False
        st.vega_lite_chart(_sized(spec), width="content")
        return
    st.vega_lite_chart(charts.with_main_data(spec, name, frame), width="content")


def _chart_and_downloads(result, kind: str, stem: str, build: Callable, **kw) -> None:
    """A lower-tab chart with its download menu (the CSV is the chart's own frame)."""
    from briefing import charts

    _chart(result, kind, build, **kw)
    _downloads(kind, stem, build, lambda: charts.chart_frame(result, kind, **kw))


def _downloads(key: str, stem: str, chart_fn: Callable, frame_fn: Callable) -> None:
    from briefing import export

    with st.popover("Download chart", width="content"):
        st.download_button("PNG", data=lambda: export.to_png(chart_fn()), file_name=f"{stem}.png",
                           mime="image/png", on_click="ignore", key=f"dl.{key}.png")
        st.download_button("SVG", data=lambda: export.to_svg(chart_fn()), file_name=f"{stem}.svg",
                           mime="image/svg+xml", on_click="ignore", key=f"dl.{key}.svg")
        st.download_button("PDF", data=lambda: export.to_pdf(chart_fn()), file_name=f"{stem}.pdf",
                           mime="application/pdf", on_click="ignore", key=f"dl.{key}.pdf")
        st.download_button("CSV (data)", data=lambda: frame_fn().to_csv(index=False), file_name=f"{stem}.csv",
                           mime="text/csv", on_click="ignore", key=f"dl.{key}.csv")


def _key_chart(result, baseline: str) -> None:
    from briefing import charts

    n = len(result.regime_names)
    width = int(max(130, min(300, (KEY_CHART_WIDTH - 30 * (n - 1)) / n)))
    kw = {"series": KEY_SERIES, "baseline": baseline, "width": width, "height": 140}
    observed = " Black: observed (FRED DGS10)." if result.scenario.kind == "historical" else ""
    events = "; ".join(f"{i} {e.label}" for i, e in enumerate(result.scenario.events, start=1))
    st.markdown(
        f"**10y yield change from day 0 (bp)** :gray[median and 5th-95th pct; dashed: {_plain(baseline)}."
        f"{observed}" + (f" {_plain(events)}" if events else "") + "]"
    )
    _chart(result, "stress", lambda: charts.stress_chart(result, **kw), bare=True, **kw)


# ---------------------------------------------------------------- results


def summary_table(result) -> pd.DataFrame:
    """Every summary metric with its human label: rows metric, columns regime x (median, 5th, 95th pct)."""
    summary = result.summary()
    rows = []
    for metric, spec in METRICS.items():
        row = {"metric": spec.label, "unit": spec.unit}
        for name in result.regime_names:
            stats = summary[name][metric]
            row[f"{name} median"] = stats["p50"]
            row[f"{name} p5"] = stats["p5"]
            row[f"{name} p95"] = stats["p95"]
        rows.append(row)
    return pd.DataFrame(rows)


def _drivers_popover(view, result, baseline: str) -> None:
    pop = st.popover("What drives these numbers?", key="p.drivers", on_change="rerun", type="tertiary",
                     help="The calibrated assumptions that move a headline number most, and how sure each is")
    with pop:
        if not pop.open:
            return
        from ui.drivers import show_drivers

        choices = [m.name for m in HEADLINE if m.name in METRICS]
        metric = st.selectbox("Headline number", choices, format_func=lambda m: METRICS[m].label, key="w.drv.metric")
        names = result.regime_names
        regime = st.selectbox("Regime", names, index=len(names) - 1, key="w.drv.regime")
        regime = regime if regime in names else names[-1]
        show_drivers(
            result.scenario, list(result.regimes), metric, paths=min(view.paths, DRIVER_PATHS), seed=view.seed,
            shock_scale=view.shock_scale, assumptions=view.assumptions,
            baseline=None if regime == baseline else baseline, regime=regime,
        )


def _first_screen(view, result) -> None:
    from briefing import charts

    names = result.regime_names
    baseline = names[0]
    first, second = story(result, baseline)
    st.markdown(f"**{_plain(first)}** {_plain(second)}")
    table.comparison(headline_rows(result, baseline), names, charts.regime_colors(names), baseline)
    cols = st.columns([4, 1.3], vertical_alignment="center")
    cols[0].caption(
        f"Δ: difference to {_plain(baseline)}, path by path on the same draws (median, 5th-95th pct; "
        f"probabilities: 90% interval). {result.paths:,} paths, seed {result.seed}. Hover a row for its definition."
    )
    with cols[1]:
        _drivers_popover(view, result, baseline)
    _key_chart(result, baseline)


def _more(view, result) -> None:
    from briefing import charts

    names = result.regime_names
    baseline = names[0]
    stem = result.scenario.name
    # The path-by-path difference opens first: it is what a rule changes, and it is light to redraw.
    # The small multiples (six series per regime) cost the browser about 150 ms per lever move, so
    # they draw only when their tab is chosen.
    tabs = st.tabs(
        ["Key series by regime", "Difference to baseline", "One series, all regimes", "Market functioning",
         "Calm cost vs resilience", "Holdings by sector", "All metrics", "Share and export"],
        key="t.results",
        on_change="rerun",
        default="Difference to baseline",
    )
    with tabs[0]:
        if tabs[0].open:
            n = len(names)
            kw = {"series": charts.DEFAULT_SERIES, "baseline": baseline, "width": int(max(150, min(280, 900 / n - 40))),
                  "height": 110}
            _chart_and_downloads(result, "small_multiples", f"{stem}_key_series",
                                 lambda: charts.small_multiples(result, **kw), **kw)
    with tabs[1]:
        if tabs[1].open:
            if len(names) < 2:
                st.info("Add a regime to see its path-by-path difference to the baseline.")
            else:
                series = st.selectbox("Series", FAN_SERIES, format_func=lambda s: SERIES[s], key="w.diff_series")
                series = series if series in SERIES else FAN_SERIES[0]
                kw = {"series": series, "baseline": baseline}
                _chart_and_downloads(result, "difference", f"{stem}_{series}_difference",
                                     lambda: charts.difference_fan(result, **kw), **kw)
    with tabs[2]:
        if tabs[2].open:
            series = st.selectbox("Series", FAN_SERIES, format_func=lambda s: SERIES[s], key="w.series")
            series = series if series in SERIES else FAN_SERIES[0]
            _chart_and_downloads(result, "fan", f"{stem}_{series}", lambda: charts.fan_chart(result, series),
                                 series=series)
    with tabs[3]:
        if tabs[3].open:
            st.caption(
                f"Share of paths on which the market is dysfunctional or broken down, day by day. {FUNCTIONING_NOTE} "
                "The headline probabilities count the paths with at least one such day."
            )
            _chart_and_downloads(result, "functioning", f"{stem}_functioning",
                                 lambda: charts.functioning_chart(result))
    with tabs[4]:
        if tabs[4].open:
            _chart_and_downloads(result, "tradeoff", f"{stem}_tradeoff", lambda: charts.tradeoff_chart(result))
    with tabs[5]:
        if tabs[5].open:
            regime = st.selectbox("Regime", names, key="w.holdings_regime")
            regime = regime if regime in names else names[0]
            _chart_and_downloads(result, "holdings", f"{stem}_holdings_{regime}",
                                 lambda: charts.holdings_chart(result, regime), regime=regime)
    with tabs[6]:
        if tabs[6].open:
            frame = summary_table(result)
            st.dataframe(frame, hide_index=True, column_config={
                c: st.column_config.NumberColumn(format="%.2f") for c in frame.columns[2:]
            })
            st.download_button("Download table (CSV)", data=lambda: frame.to_csv(index=False),
                               file_name=f"{stem}_summary.csv", mime="text/csv", on_click="ignore", key="dl.table")
    with tabs[7]:
        if tabs[7].open:
            _briefing_pack(result, view)


def _base_url() -> str:
    try:
        url = st.context.url or ""
    except AttributeError:
        url = ""
    return url.split("?")[0] or "http://127.0.0.1:8501/"


_WARM = threading.Event()


def _warm_exports() -> None:
    """Once per server, after the first results are on screen: import the PDF libraries and start
    vl-convert's JavaScript runtime in the background, so the first pack click does not pay for
    them (about 1.6 s)."""
    if _WARM.is_set():
        return
    _WARM.set()

    def warm() -> None:
        from briefing import export, pack  # noqa: F401 - imported for their start-up cost

        export.to_svg({"mark": "point", "data": {"values": [{"x": 1}]}, "encoding": {"x": {"field": "x"}}})

    threading.Thread(target=warm, name="warm-exports", daemon=True).start()


def _pack(run_key: str, base_url: str, result, view) -> tuple[bytes, bytes]:
    """(PDF, ZIP) of a run, built once: the PDF-only button after the ZIP costs nothing."""
    from briefing.pack import build_pack

    return PACKS.get_or_compute((run_key, base_url), lambda: build_pack(result, view, base_url), owner=session_id())


def _briefing_pack(result, view) -> None:
    cols = st.columns([2, 3])
    base_url = _base_url()
    link = view_url(base_url, view, model_version=MODEL_VERSION)
    run_key = json.dumps(state.encode(view), sort_keys=True) + result.scenario.model_dump_json()
    cols[0].download_button(
        "Download briefing pack (ZIP: PDF, charts, CSV, regimes)",
        data=safe_export(lambda: _pack(run_key, base_url, result, view)[1], "zip", "briefing pack"),
        file_name=f"briefing_{result.scenario.name}.zip",
        mime="application/zip",
        on_click="ignore",
        type="primary",
        key="dl.pack",
    )
    cols[0].download_button(
        "Download briefing (PDF only)",
        data=safe_export(lambda: _pack(run_key, base_url, result, view)[0], "pdf", "briefing PDF"),
        file_name=f"briefing_{result.scenario.name}.pdf",
        mime="application/pdf",
        on_click="ignore",
        key="dl.pack_pdf",
    )
    cols[1].markdown("**Link to this view** (scenario and its edits, settings, every regime and assumption):")
    cols[1].code(link, language=None, wrap_lines=True)
    cols[1].caption(
        f"Made with model {MODEL_VERSION} (link format {QUERY_VERSION}); opened under another model version, "
        "the link says that its numbers may differ."
    )


# ---------------------------------------------------------------- the workspace (one fragment)


def _run(view):
    try:
        regimes = regimes_from_view(view)
    except ValueError as err:
        st.error(_plain(f"A regime could not be built: {err}"))
        return None
    progress = None
    if view.paths >= LONG_RUN_PATHS:
        bar = st.progress(0.0, text="Running the model...")
        started = time.perf_counter()

        def progress(done: int, total: int, name: str) -> None:
            text = f"Running {name}: regime {done + 1} of {total}, {view.paths:,} paths" if name else "Done"
            bar.progress(done / total, text=text)

    try:
        result = run_view(
            scenario_editor.active_scenario(view),
            regimes,
            paths=view.paths,
            seed=view.seed,
            shock_scale=view.shock_scale,
            assumptions=view.assumptions,
            progress=progress,
        )
    except InputError as err:
        st.error(_plain(err))
        return None
    if progress is not None:
        bar.progress(1.0, text=f"Ran {len(regimes)} regimes x {view.paths:,} paths in {time.perf_counter() - started:.1f} s")
    return result


@st.fragment
def _workspace() -> None:
    """Levers beside results: a lever move reruns only this."""
    state.commit(state.read_widgets())
    left, right = st.columns([1.05, 2.95], gap="medium")
    with left, st.container(border=True):
        levers.panel()
    view = state.read_widgets()
    state.commit(view)
    with right:
        result = _run(view)
        if result is None:
            return
        _first_screen(view, result)
    _more(view, result)
    _warm_exports()


def page() -> None:
    state.init_session()
    st.html(_CSS + table.CSS)  # page-level, so a lever move does not re-inject styles
    messages = st.session_state.get(state.URL_MESSAGES, [])
    if messages:
        # Link text is shown as plain text only (never Markdown), grouped under one warning.
        st.warning(f"This link had {len(messages)} problem(s); everything else in it was restored.",
                   icon=":material/link_off:")
        with st.expander("What the link got wrong", expanded=len(messages) <= 3):
            for message in messages[:50]:
                st.text(message)
            if len(messages) > 50:
                st.text(f"... and {len(messages) - 50} more")
    state.seed_widgets()
    state.read_widgets()  # validates names before the editors render, so their messages show on this run
    _sidebar()
    state.commit(state.read_widgets())
    _workspace()

