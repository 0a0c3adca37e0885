"""The comparison page: scenario and run settings, 2-4 regimes side by side, results.

Widgets are generated from `policy.lever_specs()`; charts come from `briefing.charts`; numbers
come from the engine's Result. Nothing here computes economics.
"""

import json
import time
from collections.abc import Callable

import pandas as pd
import streamlit as st

from briefing.numbers import delta_unit, fmt_range, fmt_value
from engine import METRICS, MODEL_VERSION, InputError, assumption_ranges, load_scenario
from engine.dynamics import SERIES
from policy import PRESET_DESCRIPTIONS, RegimeInputError, get_preset, lever_specs, regime_to_json, regime_value
from policy.io import parse_regime_text
from policy.query import MAX_REGIMES, QUERY_VERSION, regime_from_view, regimes_from_view, view_url
from ui import state
from ui.runner import LONG_RUN_PATHS, run_view
from ui.text import FED_NOTE, FUNCTIONING_NOTE

# Headline cards: metric, and whether a higher value is worse (for the colour of the difference).
# Two rows of four: the stress outcome (with the two functioning probabilities side by side), then
# flows and the calm-period cost.
CARD_METRICS: tuple[tuple[str, str], ...] = (
    ("peak_10y_yield_change_bp", "inverse"),
    ("trough_market_depth_usd_mn", "normal"),
    ("dysfunction_probability_pct", "inverse"),
    ("broken_market_probability_pct", "inverse"),
    ("forced_sales_usd_bn", "inverse"),
    ("fed_purchases_usd_bn", "off"),
    ("calm_yield_cost_bp", "inverse"),
    ("calm_interest_cost_usd_bn_per_year", "inverse"),
)
CARDS_PER_ROW = 4
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
FRONT_GROUPS = ("clearing", "dealer_rule", "leverage_cap")
GROUP_TITLES = {
    "clearing": "SEC central clearing rule",
    "dealer_rule": "SEC dealer rule",
    "leverage_cap": "Leverage cap on RV funds",
    "leverage_ratio_relief": "Leverage-ratio (SLR) relief",
    "standing_repo": "Standing repo facility",
    "fed_backstop": "Fed backstop",
    "futures_margin": "Futures margin",
    "foreign_demand": "Foreign demand",
}
STATUS_BADGE = {
    "V": ":green-badge[verified]",
    "V2": ":blue-badge[secondary source]",
    "U": ":orange-badge[unverified]",
}


# ---------------------------------------------------------------- sidebar: scenario and run


def _sidebar() -> None:
    names = state.scenario_options()
    with st.sidebar:
        st.header("Scenario")
        st.selectbox(
            "Stress scenario",
            names,
            key=state.K_SCENARIO,
            format_func=lambda n: load_scenario(n).title,
            on_change=state.on_scenario_change,
        )
        sc = load_scenario(st.session_state[state.K_SCENARIO])
        if state.is_placebo(sc.name):
            st.info(
                "A placebo episode: markets kept functioning, so a sound model stays calm here too. It tests the "
                "model rather than the rules; the Backtest on the Methodology page scores it.",
                icon=":material/science:",
            )
        st.caption(sc.description)
        with st.expander("Shock and its sources"):
            st.markdown(f"**Fundamental 10y path.** {sc.fundamental.source}")
            for flow in sc.flows:
                st.markdown(
                    f"**{flow.sector.replace('_', ' ').capitalize()} sales:** ${flow.total_usd_bn:,.0f}bn over "
                    f"days {flow.start_day}-{flow.end_day}. {flow.source}"
                )
            if sc.events:
                st.markdown("**Events:** " + "; ".join(f"day {e.day}: {e.label}" for e in sc.events))
        st.slider(
            "Shock severity",
            min_value=0.0,
            max_value=5.0,
            step=0.1,
            key=state.K_SEVERITY,
            format="%.1fx",
            help="Multiplies the scenario's flows, its fundamental path (and so that path's volatility) and its "
            "funding stress above calm levels. 1x = the scenario as written; 0 = no shock.\n\n" + FED_NOTE,
        )
        st.number_input(
            "Monte Carlo paths",
            min_value=1,
            max_value=10_000,
            step=100,
            key=state.K_PATHS,
            help="Uncertain parameters are drawn per path; bands are 5th-95th percentiles across paths. "
            "500 is quick; up to 10,000 for a final briefing.",
        )
        st.number_input(
            "Random seed",
            min_value=0,
            max_value=2**32 - 1,
            step=1,
            key=state.K_SEED,
            help="Same inputs and seed give identical results; every regime sees the same draws.",
        )
        st.caption(f"Horizon: {sc.default_days} trading days from {sc.day0:%d %b %Y} (day 0, last calm close).")


# ---------------------------------------------------------------- regime editors


def _lever_label(spec, changed: bool) -> str:
    unit = "" if spec.type in ("bool", "choice") else f" ({spec.unit})"
    label = f"{spec.label}{unit}"
    return f":orange[**● {label}**]" if changed else label


def _lever_widget(uid: int, spec, base, rv) -> bool:
    key = state.k_lever(uid, spec.path)
    default = regime_value(base, spec.path)
    current = state.prepare(key, state.lever_view_value(rv, spec))
    changed = current != default
    help_text = f"{spec.description}\n\nSource: {spec.source}\n\nPreset value: {default}"
    label = _lever_label(spec, changed)
    # Passing the current value (the session value wins anyway) spares Streamlit a scan of the whole
    # session state per widget, which made reruns with 4 regimes O(widgets^2).
    if spec.type == "bool":
        st.toggle(label, value=bool(current), key=key, help=help_text)
    elif spec.type == "choice":
        st.selectbox(label, list(spec.choices), index=list(spec.choices).index(current), key=key, help=help_text)
    elif spec.type == "int":
        st.slider(label, int(spec.min), int(spec.max), value=int(current), step=int(spec.step or 1), key=key,
                  help=help_text)
    else:
        step = float(spec.step or 0.1)
        decimals = 0 if step >= 1 else (1 if step * 10 == int(step * 10) else 2)
        st.slider(label, float(spec.min), float(spec.max), value=float(current), step=step,
                  key=key, help=help_text, format=f"%.{decimals}f")
    return changed


def _group(uid: int, group: str, specs, base, rv) -> int:
    """A group's levers; a switchable rule that is off shows only its switch (its settings do
    nothing then, and fewer widgets keep reruns fast). Hidden levers keep their values."""
    members = [spec for spec in specs if spec.group == group]
    switch = next((spec for spec in members if spec.field == "enabled"), None)
    changed = 0
    if switch is not None:
        changed += _lever_widget(uid, switch, base, rv)
        if not state.lever_view_value(rv, switch) and not st.session_state.get(state.k_lever(uid, switch.path)):
            hidden = [spec for spec in members if spec is not switch]
            changed += sum(state.lever_view_value(rv, spec) != regime_value(base, spec.path) for spec in hidden)
            st.caption("Its settings apply when the rule is in force.")
            return changed
    for spec in members:
        if spec is not switch:
            changed += _lever_widget(uid, spec, base, rv)
    return changed


def _upload(uid: int) -> None:
    uploaded = st.session_state.get(state.k_upload(uid))
    if uploaded is None:
        return
    fmt = "toml" if uploaded.name.lower().endswith(".toml") else "json"
    try:
        regime = parse_regime_text(uploaded.getvalue(), fmt=fmt, origin=uploaded.name)
    except RegimeInputError as err:
        st.session_state[f"_upload_error.{uid}"] = str(err)
        return
    state.apply_uploaded_regime(uid, regime)
    rebuilt = regime_from_view(state.view().regimes[state.uids().index(uid)])
    skip = {"name", "description"}
    lost = rebuilt.model_dump(exclude=skip) != regime.model_dump(exclude=skip)
    st.session_state[f"_upload_error.{uid}"] = None
    st.session_state[f"_upload_note.{uid}"] = (
        f"Loaded {uploaded.name}."
        + (" Its purchase schedule matches no preset and is not kept; levers were loaded." if lost else "")
    )
    st.session_state[f"_upload_nonce.{uid}"] = st.session_state.get(f"_upload_nonce.{uid}", 0) + 1


def _regime_editor(index: int, uid: int, specs) -> None:
    rv = state.view().regimes[index]
    preset = st.session_state.get(state.k_preset(uid), rv.preset)
    base = get_preset(preset)
    role = "baseline for differences" if index == 0 else f"regime {index + 1}"
    # A fixed-height, scrolling card per regime keeps the results in view below the editors.
    with st.container(border=True, height=560):
        top = st.columns([5, 1], vertical_alignment="bottom")
        top[0].text_input(f"Regime name ({role})", key=state.k_name(uid), max_chars=40)
        top[1].button(
            ":material/close:",
            key=f"b.remove.{uid}",
            on_click=state.on_remove,
            args=(uid,),
            disabled=len(state.uids()) <= 1,
            help="Remove this regime from the comparison",
            width="stretch",
        )
        error = st.session_state.get(state.REGIME_ERRORS, {}).get(uid)
        if error:
            st.error(error)
        st.selectbox(
            "Start from preset",
            state.preset_options(),
            key=state.k_preset(uid),
            on_change=state.on_preset_change,
            args=(uid,),
            help="Choosing a preset resets this regime's levers to it.",
        )
        st.caption(PRESET_DESCRIPTIONS[preset])
        if base.fed_backstop.purchase_schedule_usd_bn_per_day:
            st.caption("Its Fed purchases follow the dated historical schedule, scaled with the shock severity.")
        changed = 0
        for group in FRONT_GROUPS:
            st.markdown(f"**{GROUP_TITLES[group]}**")
            changed += _group(uid, group, specs, base, rv)
        other = [g for g in GROUP_TITLES if g not in FRONT_GROUPS]
        other_changed = sum(
            state.lever_view_value(rv, s) != regime_value(base, s.path)
            for s in specs
            if s.group in other
        )
        title = "SLR relief, standing repo, Fed backstop, futures margin, foreign demand"
        if other_changed:
            title += f" ({other_changed} changed)"
        # Rendered only while open (lazy expander): fewer widgets per rerun; closed levers keep their
        # values in the view and re-seed when the expander opens.
        more = st.expander(title, key=f"x.other.{uid}", on_change="rerun")
        with more:
            if more.open:
                for group in other:
                    st.markdown(f"**{GROUP_TITLES[group]}**")
                    if group == "fed_backstop":
                        st.caption(FED_NOTE)
                    _group(uid, group, specs, base, rv)
        changed += other_changed
        bottom = st.columns(2)
        bottom[0].button(
            f"Reset to {preset}" + (f" ({changed})" if changed else ""),
            key=f"b.reset.{uid}",
            on_click=state.on_reset,
            args=(uid,),
            disabled=not changed,
            width="stretch",
            help="Set every lever of this regime back to its preset",
        )
        with bottom[1].popover("File", width="stretch"):
            name = rv.name
            st.download_button(
                "Download regime (JSON)",
                data=lambda i=index: regime_to_json(regimes_from_view(state.view())[i]),
                file_name=f"{name}.json",
                mime="application/json",
                on_click="ignore",
                key=f"dl.regime.{uid}",
            )
            st.file_uploader(
                "Load a regime file (.json or .toml)",
                type=["json", "toml"],
                key=state.k_upload(uid),
                on_change=_upload,
                args=(uid,),
                max_upload_size=1,
            )
        if st.session_state.get(f"_upload_error.{uid}"):
            st.error(st.session_state[f"_upload_error.{uid}"] + " Nothing was changed.")
        elif st.session_state.get(f"_upload_note.{uid}"):
            st.success(st.session_state.pop(f"_upload_note.{uid}"))


def _assumptions(scenario: str) -> None:
    ranges = assumption_ranges(scenario)
    assumed = state.view().assumptions
    changed = sum(n in assumed and assumed[n] != v.value for n, v in ranges.items())
    title = "Model assumptions: re-centre calibrated values within their ranges"
    if changed:
        title += f" ({changed} changed)"
    panel = st.expander(title, key="x.assumptions", on_change="rerun")
    with panel:
        if not panel.open:
            return
        st.caption(
            "Each value has a documented range. :green-badge[verified] in its source, "
            ":blue-badge[secondary source] via a relay, :orange-badge[unverified] a placeholder with a wide range. "
            "Sampled values are also drawn across Monte Carlo paths around the value you set."
        )
        st.button("Reset all assumptions", on_click=state.on_reset_assumptions, disabled=not changed, key="b.reset.a")
        cols = st.columns(3)
        for i, (name, item) in enumerate(sorted(ranges.items())):
            key = state.k_assumption(name)
            current = state.prepare(key, float(assumed.get(name, item.value)))
            is_changed = current != item.value
            label = f"{name} ({item.unit}) {STATUS_BADGE[item.status]}"
            if is_changed:
                label = f":orange[**● {name}**] ({item.unit}) {STATUS_BADGE[item.status]}"
            help_text = (
                f"{item.description or name}\n\nCalibrated value {item.value:g}, range {item.low:g} to "
                f"{item.high:g} {item.unit}. Source: {item.source}"
                + (f"\n\nTuned to: {item.tuned_to}" if item.tuned_to else "")
                + ("\n\nSampled across paths." if item.sampled else "")
            )
            span = item.high - item.low
            cols[i % 3].slider(
                label, float(item.low), float(item.high), value=float(current),
                step=float(f"{span / 100:.2g}"), key=key, help=help_text,
            )


# ---------------------------------------------------------------- results


def _cards(result, names: list[str]) -> None:
    """One row of headline cards per regime (metrics side by side), differences against the first."""
    summary = result.summary()
    baseline = names[0]
    for name in names:
        st.markdown(f"**{name}**" + (" (baseline)" if name == baseline else f" vs {baseline}"))
        # rows of CARDS_PER_ROW: wide enough for labels and values
        cols = [col for _ in range(0, len(CARD_METRICS), CARDS_PER_ROW) for col in st.columns(CARDS_PER_ROW)]
        for col, (metric, direction) in zip(cols, CARD_METRICS, strict=False):
            spec = METRICS[metric]
            stats = summary[name][metric]
            delta = None
            help_text = f"{spec.definition}\n\nMedian; 5th-95th percentile: {fmt_range(stats, spec.unit)}."
            if metric == "fed_purchases_usd_bn":
                help_text += f"\n\n{FED_NOTE}"
            if name != baseline:
                # The arrow is the change in the median shown (as in the briefing pack); the
                # path-by-path (paired) difference, whose median can differ, is in the help.
                change = stats["p50"] - summary[baseline][metric]["p50"]
                delta = fmt_value(change, delta_unit(spec.unit), signed=True)
                diff = result.paired_difference(metric, name, baseline)
                help_text += (
                    f"\n\nChange in the median vs {baseline}: {delta}. Path-by-path difference on the same "
                    f"draws: median {fmt_value(diff['p50'], delta_unit(spec.unit), signed=True)}, "
                    f"5th-95th percentile {fmt_range(diff, delta_unit(spec.unit))}."
                )
            with col:
                st.metric(
                    spec.label,
                    fmt_value(stats["p50"], spec.unit),
                    delta=delta,
                    delta_color=direction,
                    help=help_text,
                    border=True,
                )
                if stats["p5"] != stats["p95"]:
                    st.caption(f"5th-95th: {fmt_range(stats, spec.unit)}")


def summary_table(result) -> pd.DataFrame:
    """Every summary metric: rows metric, columns regime x (median, 5th, 95th pct)."""
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


@st.cache_data(max_entries=64, show_spinner=False)
def _spec(run_key: str, chart: str, arg: str, _build: Callable) -> dict:
    """The Vega-Lite spec of a briefing chart, cached per run (the URL encoding determines the run).

    Altair's JSON-schema validation is skipped: briefing.charts is validated by its own tests, and
    validation cost about 100 ms per rerun.
    """
    return _build().to_dict(validate=False)


def _chart(run_key: str, chart: str, arg: str, build: Callable) -> None:
    st.vega_lite_chart(_spec(run_key, chart, arg, build), width="stretch")


@st.cache_resource(max_entries=32, show_spinner=False)
def _fan_template(key: str, _result, series: str) -> tuple[dict, str]:
    """Fan-chart spec and its main dataset name, built once per template key (read-only)."""
    from briefing import charts

    spec = charts.fan_chart(_result, series).to_dict(validate=False)
    return spec, charts.main_dataset_name(spec, charts.chart_frame(_result, "fan", series=series))


def _fan(result, series: str) -> None:
    """The fan chart: a slider move changes only its data, so the cached spec gets the new data."""
    from briefing import charts

    template, name = _fan_template(charts.template_key(result, "fan", series=series), result, series)
    frame = charts.chart_frame(result, "fan", series=series)
    st.vega_lite_chart(charts.with_main_data(template, name, frame), width="stretch")


def _results(result, view) -> None:
    from briefing import charts

    names = result.regime_names
    run_key = json.dumps(state.encode(view), sort_keys=True)
    st.subheader("Headline results")
    st.caption(
        f"Medians over {result.paths:,} paths (seed {result.seed}, severity {result.shock_scale:g}x, "
        f"{result.days} trading days from {result.dates[0]:%d %b %Y}); arrows show the change in the "
        f"median against {names[0]} (hover for the path-by-path difference). Model {result.model_version}."
    )
    _cards(result, names)

    tabs = st.tabs(
        ["Stress paths", "Market functioning", "All metrics", "Holdings by sector", "Calm cost vs resilience"],
        key="t.results",
        on_change="rerun",
    )
    stem = f"{result.scenario.name}"
    with tabs[0]:
        if tabs[0].open:
            series = st.selectbox("Series", FAN_SERIES, format_func=lambda s: SERIES[s], key="w.series")
            series = series if series in SERIES else FAN_SERIES[0]
            _fan(result, series)
            _downloads(
                "fan", f"{stem}_{series}",
                lambda: charts.fan_chart(result, series),
                lambda: charts.chart_frame(result, "fan", series=series),
            )
    with tabs[1]:
        if tabs[1].open:
            st.caption(
                f"Share of paths on which the market is dysfunctional or broken down, day by day. {FUNCTIONING_NOTE} "
                "The headline probabilities count the paths with at least one such day."
            )
            _chart(run_key, "functioning", "", lambda: charts.functioning_chart(result))
            _downloads(
                "functioning", f"{stem}_functioning",
                lambda: charts.functioning_chart(result),
                lambda: charts.chart_frame(result, "functioning"),
            )
    with tabs[2]:
        if tabs[2].open:
            table = summary_table(result)
            st.dataframe(table, hide_index=True, column_config={
                c: st.column_config.NumberColumn(format="%.2f") for c in table.columns[2:]
            })
            st.download_button("Download table (CSV)", data=lambda: table.to_csv(index=False),
                               file_name=f"{stem}_summary.csv", mime="text/csv", on_click="ignore", key="dl.table")
    with tabs[3]:
        if tabs[3].open:
            regime = st.selectbox("Regime", names, key="w.holdings_regime")
            regime = regime if regime in names else names[0]
            _chart(run_key, "holdings", regime, lambda: charts.holdings_chart(result, regime))
            _downloads(
                "holdings", f"{stem}_holdings_{regime}",
                lambda: charts.holdings_chart(result, regime),
                lambda: charts.chart_frame(result, "holdings", regime=regime),
            )
    with tabs[4]:
        if tabs[4].open:
            _chart(run_key, "tradeoff", "", lambda: charts.tradeoff_chart(result))
            _downloads(
                "tradeoff", f"{stem}_tradeoff",
                lambda: charts.tradeoff_chart(result),
                lambda: charts.chart_frame(result, "tradeoff"),
            )
    _briefing_pack(result, view)


def _base_url() -> str:
    try:
        url = st.context.url or ""
    except AttributeError:
        url = ""
    return url.split("?")[0] or "http://127.0.0.1:8501/"


@st.cache_resource(max_entries=4, show_spinner=False)
def _pack(run_key: str, base_url: str, _result, _view) -> tuple[bytes, bytes]:
    """(PDF, ZIP) of a run, built once: the PDF-only button after the ZIP costs nothing."""
    from briefing.pack import build_pack

    return build_pack(_result, _view, base_url)


def _briefing_pack(result, view) -> None:
    st.divider()
    cols = st.columns([2, 3])
    base_url = _base_url()
    link = view_url(base_url, view, model_version=MODEL_VERSION)
    run_key = json.dumps(state.encode(view), sort_keys=True)

    cols[0].download_button(
        "Download briefing pack (ZIP: PDF, charts, CSV, regimes)",
        data=lambda: _pack(run_key, base_url, result, view)[1],
        file_name=f"briefing_{result.scenario.name}.zip",
        mime="application/zip",
        on_click="ignore",
        type="primary",
        key="dl.pack",
    )
    cols[0].download_button(
        "Download briefing (PDF only)",
        data=lambda: _pack(run_key, base_url, result, view)[0],
        file_name=f"briefing_{result.scenario.name}.pdf",
        mime="application/pdf",
        on_click="ignore",
        key="dl.pack_pdf",
    )
    cols[1].markdown("**Link to this view** (scenario, settings, every regime and assumption):")
    cols[1].code(link, language=None, wrap_lines=True)
    cols[1].caption(
        f"Made with model {MODEL_VERSION} (link format {QUERY_VERSION}); opened under another model version, "
        "the link says that its numbers may differ."
    )


# ---------------------------------------------------------------- page


def page() -> None:
    state.init_session()
    for message in st.session_state.get(state.URL_MESSAGES, []):
        st.warning(f"Link: {message}")
    state.seed_widgets()
    state.read_widgets()  # validates names before the editors render, so their messages show on this run
    _sidebar()

    st.title("Treasury Market Policy Explorer")
    st.caption(
        "What would central clearing, the dealer rule, a leverage cap, SLR relief, the standing repo facility "
        "or a Fed backstop do to the US Treasury market under stress? Compare up to four regimes on the same "
        "random draws."
    )
    specs = lever_specs()
    uids = state.uids()
    cols = st.columns(len(uids))
    for i, (col, uid) in enumerate(zip(cols, uids, strict=True)):
        with col:
            _regime_editor(i, uid, specs)
    st.button(
        "Add regime",
        on_click=state.on_add,
        disabled=len(uids) >= MAX_REGIMES,
        help=f"Compare up to {MAX_REGIMES} regimes",
        key="b.add",
    )
    scenario = st.session_state[state.K_SCENARIO]
    _assumptions(scenario)

    view = state.read_widgets()
    state.commit(view)

    try:
        regimes = regimes_from_view(view)
    except ValueError as err:
        st.error(f"A regime could not be built: {err}")
        return
    progress = None
    if view.paths >= LONG_RUN_PATHS:
        bar = st.progress(0.0, text="Running the model...")
        started = time.perf_counter()

        def progress(done: int, total: int, name: str) -> None:
            text = f"Running {name}: regime {done + 1} of {total}, {view.paths:,} paths" if name else "Done"
            bar.progress(done / total, text=text)

    try:
        result = run_view(
            view.scenario,
            regimes,
            paths=view.paths,
            seed=view.seed,
            shock_scale=view.shock_scale,
            assumptions=view.assumptions,
            progress=progress,
        )
    except InputError as err:
        st.error(str(err))
        return
    if progress is not None:
        bar.progress(1.0, text=f"Ran {len(regimes)} regimes x {view.paths:,} paths in {time.perf_counter() - started:.1f} s")
    _results(result, view)
