"""The policy-analysis page: one view at a time of the analyses in `engine.analysis` and the sweeps
of `engine.sweep` (policy map, frontier, tornado, channel attribution, amplification, robustness,
expected cost, stress-test grid).

Each view has a form of the inputs it needs; nothing runs until its "Run" button is pressed. Long
runs show a progress bar and a "Cancel" button (a click stops the run at the next progress step;
the partial results are dropped). Finished results go into ONE byte-bounded cache (`RESULTS`,
`engine.bytecache.ByteLRU`), keyed on the inputs as JSON, with each browser session as an owner, so
the same inputs show again without a rerun. Each view then shows its chart (`briefing.analysis_charts`),
a table with human labels and rounded numbers (`briefing.numbers`), a CSV download, and either the
study as TOML (map, frontier) or a shareable link of a few `an.*` query parameters:

    an.view=tornado  an.scenario=march_2020  an.metric=peak_10y_yield_change_bp  an.regimes=all_guardrails,status_quo

Values read from a link are validated; a bad one is dropped with a message naming the field.
Thin: the numbers come from the engine, the charts from `briefing`.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from briefing import analysis_charts as charts
from briefing import analysis_pack as ap
from briefing.numbers import delta_unit, fmt_lever, fmt_number, fmt_probability, fmt_value
from engine import METRICS, MODEL_VERSION, InputError, load_scenario, scenario_names
from engine import analysis as an
from engine.bytecache import ByteLRU
from engine.run import resolve_scenario
from engine.study import MAX_STUDY_FILE_BYTES, Study, factor_kind, load_study, parse_study
from engine.sweep import STAT_COLUMNS, run_base, run_study
from policy import get_preset, lever_specs, preset_names, regime_value
from policy.files import FileInputError, read_data
from policy.query import RegimeView, ViewState, encode_view
from policy.run_settings import MAX_LOSS_USD_BN, MAX_PATHS_INTERACTIVE, MAX_REGIMES_INTERACTIVE, MAX_SEED, MIN_PATHS_ANALYSIS
from ui.exports import safe_export
from ui.text import plain

VIEWS: dict[str, str] = ap.VIEW_TITLES  # one list of the views, shared with their briefing packs
VIEW_NOTES: dict[str, str] = {
    "map": "A study sweeps two levers over a grid; the map shows an outcome's median at every point.",
    "frontier": "The same study's points and the presets: which regimes are cheapest in calm markets for their "
                "stress outcome (Pareto-efficient)?",
    "tornado": "Every lever (and, optionally, every uncertain assumption) set to its low and high end, one at a time.",
    "attribution": "How much of a regime's difference from a baseline comes from each policy channel (exact Shapley).",
    "amplification": "The shock itself against the market-structure amplification, step by step.",
    "robustness": "Does regime A beat regime B across paths and across the assumption space?",
    "expected_cost": "Stress risk per year against the calm-period cost, given how often such a shock starts.",
    "stress_grid": "One regime against a baseline in every shipped scenario.",
}
DEFAULT_PATHS = 200
DEFAULT_SCENARIO = "march_2020"
DEFAULT_METRIC = "peak_10y_yield_change_bp"
DEFAULT_REGIMES = ("all_guardrails", "status_quo")
MAX_LINK_REGIMES = MAX_REGIMES_INTERACTIVE  # regimes a link may name, as on the comparison page
STUDIES_DIR = Path(__file__).resolve().parents[1] / "scenarios" / "studies"
MAP_X, MAP_Y = "leverage_cap.max_gross_leverage_x", "clearing.haircut_floor_pct"
MAP_LEVELS = 5
# The shipped policy map's ranges (scenarios/studies/policy_map.toml); other levers start at their bounds.
MAP_RANGES: dict[str, tuple[float, float]] = {MAP_X: (5.0, 43.0), MAP_Y: (0.0, 4.75)}
PROGRESS_STEPS = 10  # batches of a sweep (progress bar steps)
# The analysis cache's budget (MB; TMPE_ANALYSIS_CACHE_MB overrides it); a session may hold half.
ANALYSIS_CACHE_MB = int(os.environ.get("TMPE_ANALYSIS_CACHE_MB", "200"))
RESULTS = ByteLRU(ANALYSIS_CACHE_MB * 1_000_000, owner_share=0.5)

P = "an."  # every widget and state key of this page
K_VIEW = P + "w.view"
K_CANCEL = P + "_cancel"
K_LINK = P + "_link"
K_MESSAGES = P + "_messages"
K_OPEN = P + "w.map.open"  # the grid-point chooser (kept in step with a click on the map)
K_MAP_CHART = P + "w.map.chart"
K_MAP_CLICK = P + "_map_click"  # the last map selection seen, so only a new click moves the chooser
K_MAP_NONCE = P + "_map_nonce"  # a new chart (empty selection) after a keyboard choice: any click is new
MAP_SELECTION = "cell"
LINK_KEYS = ("an.view", "an.scenario", "an.metric", "an.regimes", "an.paths", "an.seed")


class RunCancelledError(Exception):
    """Raised by the progress callback when the user pressed Cancel: the run stops, nothing is kept."""


# ---------------------------------------------------------------- session, cache, link


def _session() -> str | None:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def cache_key(inputs: dict[str, Any]) -> str:
    """The cache key of a run: its inputs as canonical JSON."""
    return json.dumps(inputs, sort_keys=True, default=str)


def read_link(params: dict[str, str | list[str]]) -> tuple[dict[str, Any], list[str]]:
    """The an.* values of a link, validated: (accepted values, one message per dropped field)."""
    def one(value: str | list[str]) -> str:
        return str(value[-1] if isinstance(value, list) and value else value)[:400]

    out: dict[str, Any] = {}
    messages: list[str] = []
    if "an.view" in params:
        view = one(params["an.view"])
        if view in VIEWS:
            out["view"] = view
        else:
            messages.append(f"an.view: {view!r} unknown; allowed: {', '.join(VIEWS)}")
    if "an.scenario" in params:
        sc = one(params["an.scenario"])
        if sc in scenario_names():
            out["scenario"] = sc
        else:
            messages.append(f"an.scenario: {sc!r} unknown; allowed: {', '.join(scenario_names())}")
    if "an.metric" in params:
        metric = one(params["an.metric"])
        if metric in METRICS:
            out["metric"] = metric
        else:
            messages.append(f"an.metric: {metric!r} unknown; allowed: {', '.join(METRICS)}")
    if "an.regimes" in params:
        names = [n.strip() for n in one(params["an.regimes"]).split(",") if n.strip()]
        bad = [n for n in names if n not in preset_names()]
        if bad:
            messages.append(f"an.regimes: {bad[0]!r} is not a preset; allowed: {', '.join(preset_names())}")
        good = [n for n in names if n in preset_names()]
        if len(good) > MAX_LINK_REGIMES:
            messages.append(f"an.regimes: {len(good)} regimes; allowed: at most {MAX_LINK_REGIMES} (the first kept)")
        if good:
            out["regimes"] = list(dict.fromkeys(good))[:MAX_LINK_REGIMES]
    for field, low, high in (("paths", MIN_PATHS_ANALYSIS, MAX_PATHS_INTERACTIVE), ("seed", 0, MAX_SEED)):
        if f"an.{field}" in params:
            text = one(params[f"an.{field}"])
            if text.isdigit() and len(text) <= len(str(high)) and low <= int(text) <= high:
                out[field] = int(text)
            else:
                messages.append(f"an.{field}: {text[:40]!r}; allowed: a whole number from {low} to {high:,}")
    return out, messages


def link_params(view: str, scenario: str | None, metric: str | None, regimes: Sequence[str], *,
                paths: int | None = None, seed: int | None = None) -> dict[str, str]:
    """The an.* parameters of a view (only those it uses); shared with the briefing pack's link."""
    return ap.link_params(view, scenario, metric, regimes, paths=paths, seed=seed)


def _view_run_settings(view: str) -> tuple[int, int]:
    """The paths and seed a view runs with: its widgets once drawn, else the link's, else the defaults."""
    paths = st.session_state.get(f"{P}w.{view}.paths", _link_default("paths", DEFAULT_PATHS))
    seed = st.session_state.get(f"{P}w.{view}.seed", _link_default("seed", 0))
    return int(paths), int(seed)


def _page_url(path: str, params: dict[str, str]) -> str:
    try:
        url = st.context.url or ""
    except AttributeError:
        url = ""
    parts = urlsplit(url or "http://127.0.0.1:8501/analysis")
    root = parts.path.rsplit("/", 1)[0] if parts.path.rstrip("/").endswith("analysis") else parts.path.rstrip("/")
    return urlunsplit((parts.scheme or "http", parts.netloc or "127.0.0.1:8501", f"{root}/{path}", urlencode(params), ""))


def compare_link(scenario: str, base: str, changes: dict[str, Any], *, paths: int, seed: int, name: str) -> str:
    """A link to the comparison page: r0 = the base preset, r1 = the base with the point's lever values."""
    return _page_url("compare", compare_params(scenario, base, changes, paths=paths, seed=seed, name=name))


def _link_default(name: str, fallback: Any) -> Any:
    return st.session_state.get(K_LINK, {}).get(name, fallback)


# ---------------------------------------------------------------- running with progress and cancel


def progress_fn(bar: Any, is_cancelled: Callable[[], bool], label: str) -> Callable[[int, int], None]:
    """A progress callback `(done, total)` that updates `bar` and raises `RunCancelledError` on request."""
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if is_cancelled():
            raise RunCancelledError
        elapsed = time.perf_counter() - started
        bar.progress(min(1.0, done / max(total, 1)), text=f"{label}: {done} of {total} steps, {elapsed:.1f} s")

    return progress


def _request_cancel() -> None:
    st.session_state[K_CANCEL] = True


def _run(key: str, compute: Callable[[Callable[[int, int], None]], Any], label: str) -> Any | None:
    """Run `compute(progress)` with a progress bar and a Cancel button; keep the result in the cache."""
    st.session_state[K_CANCEL] = False
    box = st.empty()
    with box.container():
        bar = st.progress(0.0, text=f"{label}...")
        st.button("Cancel", key=P + "b.cancel", on_click=_request_cancel, icon=":material/cancel:",
                  help="Stop the run at its next step; what was computed so far is dropped")
    started = time.perf_counter()
    try:
        value = compute(progress_fn(bar, lambda: bool(st.session_state.get(K_CANCEL)), label))
    except RunCancelledError:
        box.empty()
        st.info("Run cancelled: nothing was kept. Press Run to start again.")
        return None
    except InputError as err:
        box.empty()
        st.error(plain(err))
        return None
    box.empty()
    RESULTS.put(key, value, owner=_session())
    st.caption(f"Ran in {time.perf_counter() - started:.1f} s.")
    return value


def _result(view: str, inputs: dict[str, Any], pressed: bool, compute, label: str) -> Any | None:
    key = cache_key({"view": view} | inputs)
    found = RESULTS.get(key)
    if found is not None:
        return found
    if not pressed and st.session_state.get(K_CANCEL):
        st.session_state[K_CANCEL] = False
        st.info("Run cancelled: nothing was kept. Press Run to start again.", icon=":material/cancel:")
        return None
    if not pressed:
        st.info("Set the inputs and press **Run**.", icon=":material/play_arrow:")
        return None
    return _run(key, compute, label)


# ---------------------------------------------------------------- shared widgets


def _scenario_box(key: str, container=st) -> str:
    names = scenario_names()
    default = _link_default("scenario", DEFAULT_SCENARIO)
    return container.selectbox("Stress scenario", names, index=names.index(default) if default in names else 0,
                               key=key, format_func=lambda n: load_scenario(n).title)


def _preset_box(label: str, key: str, default: str, container=st) -> str:
    names = preset_names()
    return container.selectbox(label, names, index=names.index(default) if default in names else 0, key=key)


def _metric_box(key: str, choices: Sequence[str], container=st, default: str | None = None) -> str:
    choices = list(choices)
    wanted = _link_default("metric", default or DEFAULT_METRIC)
    index = choices.index(wanted) if wanted in choices else 0
    return container.selectbox("Outcome", choices, index=index, key=key,
                               format_func=charts.metric_label)  # tail probabilities too


def _regimes_default(i: int, fallback: str) -> str:
    regimes = _link_default("regimes", [])
    return regimes[i] if len(regimes) > i else fallback


def _run_settings(view: str, container=st) -> tuple[int, int]:
    cols = container.columns(2)
    linked_paths, linked_seed = _view_run_settings(view)
    paths = cols[0].number_input("Paths", min_value=MIN_PATHS_ANALYSIS, max_value=MAX_PATHS_INTERACTIVE, value=linked_paths,
                                 step=100, key=f"{P}w.{view}.paths", help="Monte Carlo paths per run; 200 is quick")
    seed = cols[1].number_input("Seed", min_value=0, max_value=MAX_SEED, value=linked_seed, step=1,
                                key=f"{P}w.{view}.seed")
    return int(paths), int(seed)


def _table(frame: pd.DataFrame, raw: pd.DataFrame, stem: str, key: str) -> None:
    st.dataframe(frame, hide_index=True)
    st.download_button("Download the table (CSV)", data=raw.to_csv(index=False), file_name=f"{stem}.csv",
                       mime="text/csv", on_click="ignore", key=f"{P}dl.{key}.csv")


def _pack_button(stem: str, make: Callable[[str], ap.AnalysisItem]) -> None:
    """'Download briefing pack': the view's PDF page and ZIP (chart as PDF/SVG/PNG, CSV, study,
    README), built only when clicked (Streamlit calls `data` then), so the view is not slowed."""
    base_url = _page_url("analysis", {})

    def zipped() -> bytes:
        return ap.build(make(base_url))[1]

    st.download_button("Download briefing pack (ZIP: PDF page, chart, CSV)",
                       data=safe_export(zipped, "zip", "briefing pack of this view"),
                       file_name=f"briefing_{stem}.zip", mime="application/zip", on_click="ignore",
                       icon=":material/download:", key=f"{P}dl.{stem[:40]}.pack",
                       help="A one-page PDF (reading, chart, source, link), the chart as PDF, SVG and PNG, the table "
                            "as CSV, the study (map, frontier) and a README with the command that reproduces it")


def _chart(chart) -> None:
    spec = chart.to_dict(validate=False)
    # Natural size (as in the PNG export): Streamlit's default for a layered chart is autosize "fit",
    # which squeezes axes, labels and legend into the plot width and collapses the plot.
    spec["autosize"] = {"type": "pad", "contains": "padding"}
    st.vega_lite_chart(spec, width="content")


def publish_link(view: str, scenario: str | None, metric: str | None, regimes: Sequence[str]) -> None:
    """Keep the address bar at this view's link (as the comparison keeps its own), so the URL is
    always the shareable one; written only when it differs (setting it reruns nothing)."""
    paths, seed = _view_run_settings(view)
    params = link_params(view, scenario, metric, regimes, paths=paths, seed=seed)
    current = {k: st.query_params.get(k) for k in st.query_params}
    if current != params:
        st.query_params.from_dict(params)


def _shown_or_linked(key: str, name: str) -> Any:
    """A widget's value once it is on screen, else the link's (for the link before a run)."""
    return st.session_state.get(key, _link_default(name, None))


def _share(view: str, scenario: str | None, metric: str | None, regimes: Sequence[str]) -> None:
    publish_link(view, scenario, metric, regimes)
    paths, seed = _view_run_settings(view)
    url = _page_url("analysis", link_params(view, scenario, metric, regimes, paths=paths, seed=seed))
    st.markdown("**Link to this view** (view, scenario, outcome, regimes, paths and seed):")
    st.code(url, language=None, wrap_lines=True)


def _label(metric: str) -> str:
    return f"{METRICS[metric].label} ({METRICS[metric].unit})" if metric in METRICS else metric


# ---------------------------------------------------------------- studies (policy map and frontier)


def numeric_levers() -> list:
    return [s for s in lever_specs() if s.type in ("float", "int")]


def study_toml(study: Study) -> str:
    """The study as a TOML file (the format of scenarios/studies/*.toml)."""
    return ap.study_toml(study)


def shipped_studies() -> list[str]:
    return sorted(p.name for p in STUDIES_DIR.glob("*.toml"))


def _lever_study_inputs() -> dict[str, Any] | None:
    """Two levers, their ranges and levels, base preset and scenario: a study dict (in a form)."""
    specs = {s.path: s for s in numeric_levers()}
    paths_list = list(specs)
    label = charts.factor_label
    cols = st.columns(2)
    x = cols[0].selectbox("Lever across (x)", paths_list, index=paths_list.index(MAP_X), key=P + "w.map.x",
                          format_func=label)
    y = cols[1].selectbox("Lever up (y)", paths_list, index=paths_list.index(MAP_Y), key=P + "w.map.y",
                          format_func=label)
    if x == y:
        st.error("Lever up (y): the same lever as across (x); allowed: two different levers")
        return None
    with st.form(P + "f.map"):
        factors = []
        cols = st.columns(2)
        for col, path in ((cols[0], x), (cols[1], y)):
            spec = specs[path]
            lo, hi = MAP_RANGES.get(path, (float(spec.min), float(spec.max)))
            inner = col.columns(3)
            low = inner[0].number_input("From", float(spec.min), float(spec.max), lo, key=f"{P}w.map.{path}.low")
            high = inner[1].number_input("To", float(spec.min), float(spec.max), hi, key=f"{P}w.map.{path}.high")
            levels = inner[2].number_input("Levels", 2, 20, MAP_LEVELS, key=f"{P}w.map.{path}.levels")
            factors.append({"name": path, "low": float(low), "high": float(high), "levels": int(levels)})
        cols = st.columns(3)
        scenario = _scenario_box(P + "w.map.scenario", cols[0])
        base = _preset_box("Base regime (the other levers)", P + "w.map.base", "all_guardrails", cols[1])
        with cols[2]:
            paths, seed = _run_settings("map")
        pressed = st.form_submit_button("Run", type="primary")
    data = {"name": "policy_map_app", "scenarios": [scenario], "paths": paths, "seed": seed, "base": base,
            "design": "grid", "factors": factors}
    return {"data": data, "pressed": pressed}


def _study_inputs(view: str) -> tuple[Study | None, bool]:
    """The study of the map and frontier views: two levers, a shipped study or an upload."""
    modes = ["Two levers", "A shipped study", "Upload a study (TOML)"]
    mode = st.radio("Study", modes, horizontal=True, key=f"{P}w.{view}.mode")
    if mode == "Two levers":
        got = _lever_study_inputs()
        if got is None:
            return None, False
        data, pressed = got["data"], got["pressed"]
    else:
        with st.form(f"{P}f.{view}.study"):
            if mode == "A shipped study":
                files = shipped_studies()
                name = st.selectbox("Study file", files, key=f"{P}w.{view}.file",
                                    index=files.index("policy_map.toml") if "policy_map.toml" in files else 0)
                upload = None
            else:
                name = None
                upload = st.file_uploader("Study file (.toml, see scenarios/studies/)", type=["toml"],
                                          key=f"{P}w.{view}.upload")
            paths, seed = _run_settings(view)
            st.caption("The page's paths and seed replace the study's own (200 paths keep it interactive).")
            pressed = st.form_submit_button("Run", type="primary")
        try:
            if name is not None:
                study = load_study(STUDIES_DIR / name)
                data = study.model_dump()
            elif upload is None:
                st.info("Choose a study file, then press **Run**.")
                return None, False
            else:
                try:  # the one reader of every uploaded file (size, encoding, syntax, nesting, long numbers)
                    data = read_data(upload.getvalue(), fmt="toml", origin=upload.name, what="a TOML study file",
                                     max_bytes=MAX_STUDY_FILE_BYTES)
                except FileInputError as err:
                    raise InputError(str(err)) from None
        except InputError as err:
            st.error(plain(err))
            return None, False
        data = dict(data) | {"paths": paths, "seed": seed}
    try:
        return parse_study(data, files=mode != modes[2]), pressed  # an upload names shipped scenarios only
    except InputError as err:
        st.error(plain(err))
        return None, False


def _batch_size(study: Study) -> int:
    points = 1
    for f in study.factors:
        points *= f.levels or len(f.values or ()) or (study.samples or 1)
    return max(1, math.ceil(points / PROGRESS_STEPS))


def _study_run(study: Study, pressed: bool) -> pd.DataFrame | None:
    inputs = {"study": study.model_dump(mode="json")}
    return _result("study", inputs, pressed,
                   lambda progress: run_study(study, progress=progress, batch_regimes=_batch_size(study)),
                   f"Running {study.name}")


def _slice(frame: pd.DataFrame, study: Study, view: str, x: str, y: str) -> pd.DataFrame:
    """Other factors of the study fixed at a chosen value (one selectbox each)."""
    for f in study.factors:
        if f.name in (x, y):
            continue
        values = sorted(frame[f.name].dropna().unique().tolist(), key=str)
        chosen = st.selectbox(f"Hold {charts.factor_label(f.name)} at", values, key=f"{P}w.{view}.hold.{f.name}")
        frame = frame[(frame[f.name] == chosen) | (frame["point"] < 0)]
    return frame


def view_map() -> None:
    study, pressed = _study_inputs("map")
    linked_metric = _shown_or_linked(P + "w.map.metric", "metric")
    publish_link("map", study.scenarios[0] if study else _link_default("scenario", None), linked_metric, [])
    if study is None:
        return
    frame = _study_run(study, pressed)
    if frame is None:
        return
    if study.design != "grid":
        st.error(f"design: the map needs a grid study, this one is {study.design}; allowed: design = \"grid\" "
                 "(the frontier view reads any design)")
        return
    numeric = [f.name for f in study.factors if factor_kind(study, f) == "assumption"
               or any(s.path == f.name for s in numeric_levers())]
    if len(numeric) < 2:
        st.error("factors: the map needs two numeric factors (levers or assumptions); this study has fewer")
        return
    cols = st.columns(4)
    scenario = cols[0].selectbox("Scenario shown", list(dict.fromkeys(frame["scenario"])), key=P + "w.map.show_sc")
    metric = _metric_box(P + "w.map.metric", list(study.metrics), cols[1])
    publish_link("map", scenario, metric, [])
    x = cols[2].selectbox("Across (x)", numeric, index=0, key=P + "w.map.ax", format_func=charts.factor_label)
    y = cols[3].selectbox("Up (y)", numeric, index=1, key=P + "w.map.ay", format_func=charts.factor_label)
    if x == y:
        st.error("Up (y): the same factor as across (x); allowed: two different factors")
        return
    sub = _slice(frame[frame["scenario"] == scenario], study, "map", x, y)
    source = charts.analysis_source(scenario, study.paths, study.seed, f"study {study.name}, base {study.base}")
    try:
        cells = charts.policy_map_frame(sub, x, y, metric)
    except ValueError as err:
        st.error(plain(err))
        return
    # A click (the chart's state, already known at the start of the run) moves the chooser first, so
    # the outline drawn below is the chosen point, clicked or chosen with the keyboard.
    chart_key = f"{K_MAP_CHART}.{st.session_state.get(K_MAP_NONCE, 0)}"
    _sync_clicked_point(cells, st.session_state.get(chart_key))
    chosen = st.session_state.get(K_OPEN)
    selected = str(cells.at[chosen, "regime"]) if chosen in cells.index else None
    map_spec = charts.policy_map_chart(sub, x, y, metric, presets=preset_names(), source=source,
                                       select=MAP_SELECTION, selected=selected).to_dict(validate=False)
    map_spec["autosize"] = {"type": "pad", "contains": "padding"}  # natural size, as `_chart`
    st.vega_lite_chart(map_spec, width="content", on_select="rerun", selection_mode=MAP_SELECTION, key=chart_key)
    unit = METRICS[metric].unit
    table = pd.DataFrame({
        "Point": cells["regime"],
        charts.factor_label(x): [fmt_number(v) for v in cells["x"]],
        charts.factor_label(y): [fmt_number(v) for v in cells["y"]],
        f"{METRICS[metric].label}, median": cells["value_text"],
        "5th-95th pct": cells["band_text"],
        f"Difference to {study.base} (median)": [fmt_value(v, delta_unit(unit), signed=True) for v in cells["diff_p50"]],
    })
    _table(table, frame, f"{study.name}_{scenario}", "map")
    _pack_button(f"map_{study.name}_{scenario}", lambda base: ap.map_item(
        study, frame, scenario=scenario, metric=metric, x=x, y=y, held=sub, base_url=base))
    st.download_button("Download the study (TOML)", data=study_toml(study), file_name=f"{study.name}.toml",
                       mime="application/toml", on_click="ignore", key=P + "dl.map.toml")
    _open_point(cells, study, scenario, x, y, metric)


def point_from_selection(cells: pd.DataFrame, selection: Any) -> int | None:
    """The row of `cells` (`briefing.analysis_charts.policy_map_frame`) a map click selected, or None.

    `selection` is the chart's selection state for the map's cell parameter: Streamlit hands over
    a list of the clicked points' fields; Vega's own form, {field: [values]}, is read too. A point
    is matched on its name, else on its two lever values (the name is the sweep's, unique per cell)."""
    if isinstance(selection, Mapping) and "regime" in selection:
        values = selection["regime"]
        points = [{"regime": v} for v in (values if isinstance(values, list | tuple) else [values])]
    elif isinstance(selection, list | tuple):
        points = [p for p in selection if isinstance(p, Mapping)]
    else:
        return None
    for point in points[-1:]:  # the map selects one cell; the latest click wins
        if "regime" in point:
            hits = cells.index[cells["regime"].astype(str) == str(point["regime"])]
        elif "x" in point and "y" in point:
            try:
                x, y = float(point["x"]), float(point["y"])
            except (TypeError, ValueError):
                return None
            hits = cells.index[(cells["x"].astype(float) == x) & (cells["y"].astype(float) == y)]
        else:
            return None
        if len(hits):
            return int(hits[0])
    return None


def _sync_clicked_point(cells: pd.DataFrame, event: Any) -> None:
    """A new click on the map moves the point chooser to the clicked cell (before the chooser is drawn).

    Only a changed selection moves it, so a later choice in the chooser is not overridden on rerun."""
    selection = (event.get("selection") or {}).get(MAP_SELECTION, []) if event is not None else []
    token = json.dumps(selection, sort_keys=True, default=str)
    if token == st.session_state.get(K_MAP_CLICK):
        return
    st.session_state[K_MAP_CLICK] = token
    row = point_from_selection(cells, selection)
    if row is not None:
        st.session_state[K_OPEN] = row


def _chooser_moved() -> None:
    """A choice in the chooser: the next map is a new chart, so a click on the cell selected before
    (which the old chart would not report again) still moves the chooser."""
    st.session_state[K_MAP_NONCE] = st.session_state.get(K_MAP_NONCE, 0) + 1


def point_regime(cells: pd.DataFrame, row: int, study: Study, x: str, y: str) -> dict[str, Any]:
    """The lever changes (from the base preset) of a map point: only what differs from the base."""
    levers = {s.path: s for s in lever_specs()}

    def typed(path: str, v: Any) -> Any:
        return round(float(v)) if levers[path].type == "int" else float(v)

    base = get_preset(study.base)
    point = cells.loc[row]
    # Only what differs from the base preset (as the comparison writes its own links).
    return {p: typed(p, point[a]) for p, a in ((x, "x"), (y, "y")) if typed(p, point[a]) != regime_value(base, p)}


def compare_params(scenario: str, base: str, changes: dict[str, Any], *, paths: int, seed: int,
                   name: str) -> dict[str, str]:
    """The comparison page's query parameters: r0 = the base preset, r1 = the base with the point's levers."""
    view = ViewState(scenario=scenario, paths=paths, seed=seed,
                     regimes=[RegimeView(preset=base, name=base), RegimeView(preset=base, name=name, changes=changes)])
    return encode_view(view, model_version=MODEL_VERSION)


def _open_in_compare(params: dict[str, str]) -> None:
    """Switch to the comparison page with `params` as its link. The comparison reads its link once
    per session and seeds its widgets only where they hold no value, so its stored view and its
    widget values (keys "w.*", this page's are "an.*") are dropped first: it then opens as the link."""
    from ui import state as compare_state

    for key in (compare_state.VIEW, compare_state.RENDERED_PREV, compare_state.RENDERED_NOW):
        st.session_state.pop(key, None)
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith("w.")]:
        del st.session_state[key]
    st.switch_page("app_pages/compare.py", query_params=params)


def _open_point(cells: pd.DataFrame, study: Study, scenario: str, x: str, y: str, metric: str) -> None:
    """The chosen grid point (a click on the map or this chooser) and a button opening it as a regime
    in the comparison: r0 = the base preset, r1 = the base plus the point's levers."""
    levers = {s.path: s for s in lever_specs()}
    if x not in levers or y not in levers:
        return
    options = list(cells.index)
    if st.session_state.get(K_OPEN) not in options:
        st.session_state.pop(K_OPEN, None)  # a cell of an earlier map
    fmt = {i: f"{cells.at[i, 'regime']}: {fmt_lever(cells.at[i, 'x'], levers[x].unit)}, "
              f"{fmt_lever(cells.at[i, 'y'], levers[y].unit)}" for i in options}
    choice = st.selectbox("Grid point (click a cell on the map, or choose here)", options, format_func=fmt.get,
                          key=K_OPEN, on_change=_chooser_moved)
    row = cells.loc[choice]
    unit = charts.metric_unit(metric)
    # Plain text: point names come from the study file.
    st.text(f"Point {row['regime']}: {study.base} with {charts.factor_label(x)} = {fmt_lever(row['x'], levers[x].unit)}"
            f" and {charts.factor_label(y)} = {fmt_lever(row['y'], levers[y].unit)}\n"
            f"{ap.metric_name(metric)}: median {row['value_text']} (5th-95th pct {row['band_text']}); "
            f"difference to {study.base} {fmt_value(row['diff_p50'], delta_unit(unit), signed=True)}")
    changes = point_regime(cells, choice, study, x, y)
    params = compare_params(scenario, study.base, changes, paths=study.paths, seed=study.seed,
                            name=f"map_{row['regime']}")
    if st.button("Open as a regime in the comparison", icon=":material/compare_arrows:", key=P + "b.map.open",
                 help=f"The comparison page with {study.base} against {study.base} plus this point's levers "
                      "(same scenario, paths and seed)"):
        _open_in_compare(params)
    st.caption("Link to that comparison:")
    st.code(_page_url("compare", params), language=None, wrap_lines=True)


def view_frontier() -> None:
    study, pressed = _study_inputs("frontier")
    if study is None:
        publish_link("frontier", _link_default("scenario", None), _shown_or_linked(P + "w.fr.metric", "metric"),
                     _link_default("regimes", []))
        return
    presets = st.multiselect("Presets to add (labelled)", preset_names(),
                             default=_link_default("regimes", ["status_quo", "clearing_rule", "all_guardrails"]),
                             key=P + "w.frontier.presets")
    publish_link("frontier", study.scenarios[0], _shown_or_linked(P + "w.fr.metric", "metric"), presets)
    frame = _study_run(study, pressed)
    if frame is None:
        return
    costs = [m for m in ("calm_yield_cost_bp", "calm_interest_cost_usd_bn_per_year") if m in study.metrics]
    if not costs:
        st.error("metrics: the study measures no calm cost; allowed: include calm_yield_cost_bp in its metrics")
        return
    cols = st.columns(3)
    scenario = cols[0].selectbox("Scenario shown", list(dict.fromkeys(frame["scenario"])), key=P + "w.fr.show_sc")
    cost = cols[1].selectbox("Calm cost", costs, key=P + "w.fr.cost", format_func=_label)
    outcomes = [m for m in study.metrics if not m.startswith("calm_")]
    outcome = _metric_box(P + "w.fr.metric", outcomes, cols[2])
    publish_link("frontier", scenario, outcome, presets)
    extra = _preset_rows(study, scenario, [p for p in presets if p != study.base])
    if extra is None:
        return
    rows = frame[frame["scenario"] == scenario][["scenario", "point", "regime", "metric", "p50"]]
    try:
        front = an.frontier(pd.concat([rows, extra], ignore_index=True), cost=cost, outcome=outcome)
    except InputError as err:
        st.error(plain(err))
        return
    source = charts.analysis_source(scenario, study.paths, study.seed, f"study {study.name}, base {study.base}")
    labelled = [study.base, *presets]
    _chart(charts.frontier_chart(front, cost, outcome, labelled=labelled, source=source))
    table = pd.DataFrame({
        "Regime": front["regime"],
        _label(cost): [fmt_value(v, METRICS[cost].unit) for v in front[cost]],
        _label(outcome): [fmt_value(v, METRICS[outcome].unit) for v in front[outcome]],
        "Pareto-efficient": ["yes" if e else "no" for e in front["efficient"]],
        "Dominated by": [d if isinstance(d, str) else "" for d in front["dominated_by"]],
    })
    _table(table, front, f"{study.name}_{scenario}_frontier", "frontier")
    _pack_button(f"frontier_{study.name}_{scenario}", lambda base: ap.frontier_item(
        study, front, scenario=scenario, cost=cost, outcome=outcome, presets=presets, base_url=base))
    st.download_button("Download the study (TOML)", data=study_toml(study), file_name=f"{study.name}.toml",
                       mime="application/toml", on_click="ignore", key=P + "dl.frontier.toml")


def _preset_rows(study: Study, scenario: str, presets: list[str]) -> pd.DataFrame | None:
    """The presets' p50 per metric on the study's settings, in the sweep's long format (cached)."""
    if not presets:
        return pd.DataFrame(columns=["scenario", "point", "regime", "metric", "p50"])
    inputs = {"scenario": scenario, "presets": presets, "paths": study.paths, "seed": study.seed,
              "shock_scale": study.shock_scale, "metrics": list(study.metrics)}
    key = cache_key({"view": "frontier_presets"} | inputs)
    found = RESULTS.get(key)
    if found is not None:
        return found
    sc = next(resolve_scenario(s) for s in study.scenarios if resolve_scenario(s).name == scenario)
    rows = []
    p50 = STAT_COLUMNS.index("p50")
    with st.spinner("Running the presets..."):
        for name in presets:
            stats = run_base(sc, get_preset(name), paths=study.paths, seed=study.seed,
                             shock_scale=study.shock_scale, assumptions={}, metrics=tuple(study.metrics))["stats"]
            rows += [{"scenario": scenario, "point": -2, "regime": name, "metric": m, "p50": float(stats[j, p50])}
                     for j, m in enumerate(study.metrics)]
    out = pd.DataFrame(rows)
    RESULTS.put(key, out, owner=_session())
    return out


# ---------------------------------------------------------------- the analyses


def view_tornado() -> None:
    with st.form(P + "f.tornado"):
        cols = st.columns(4)
        scenario = _scenario_box(P + "w.tornado.scenario", cols[0])
        base = _preset_box("Base regime", P + "w.tornado.base", _regimes_default(0, "all_guardrails"), cols[1])
        metric = _metric_box(P + "w.tornado.metric", list(METRICS), cols[2])
        with cols[3]:
            paths, seed = _run_settings("tornado")
        assumptions = st.checkbox("Include the uncertain assumptions (one more run per end of each)", value=True,
                                  key=P + "w.tornado.assumptions")
        pressed = st.form_submit_button("Run", type="primary")
    publish_link("tornado", scenario, metric, [base])
    inputs = {"scenario": scenario, "base": base, "metric": metric, "paths": paths, "seed": seed,
              "assumptions": assumptions}
    frame = _result("tornado", inputs, pressed, lambda progress: tornado_run(inputs, progress), "Tornado")
    if frame is None:
        return
    source = charts.analysis_source(scenario, paths, seed, f"base {base}")
    _chart(charts.tornado_chart(frame, metric, source=source))
    unit = delta_unit(METRICS[metric].unit)
    table = pd.DataFrame({
        "Rank": frame["rank"],
        "Input": [charts.factor_label(n) if k == "lever" else lab
                  for n, k, lab in zip(frame["name"], frame["kind"], frame["label"], strict=True)],
        "Kind": frame["kind"],
        "Base setting": [setting_text(v) for v in frame["base_setting"]],
        "Low end": [setting_text(v) for v in frame["low_setting"]],
        "Effect at the low end": [fmt_value(v, unit, signed=True) for v in frame["low_effect"]],
        "High end": [setting_text(v) for v in frame["high_setting"]],
        "Effect at the high end": [fmt_value(v, unit, signed=True) for v in frame["high_effect"]],
        "Swing": [fmt_value(v, unit) for v in frame["swing"]],
        "Note": frame["note"],
    })
    _table(table, frame, f"tornado_{scenario}_{base}_{metric}", "tornado")
    _pack_button(f"tornado_{scenario}_{base}", lambda url: ap.tornado_item(
        frame, scenario=scenario, base=base, metric=metric, paths=paths, seed=seed, assumptions=assumptions,
        base_url=url))
    _share("tornado", scenario, metric, [base])


def setting_text(value: Any) -> str:
    """A lever or assumption setting for the table: on/off, a number in shortest form, a choice's name."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float):
        return f"{float(value):g}"
    return str(value)


def tornado_run(inputs: dict[str, Any], progress: Callable[[int, int], None]) -> pd.DataFrame:
    """`engine.analysis.tornado`, the assumptions in chunks so the bar moves and Cancel can stop it.

    The same numbers as one call: every chunk runs the base on the same seed, and the rows are
    ranked as the engine ranks them (stable sort by swing, levers first)."""
    from engine import assumption_ranges

    common = {"paths": inputs["paths"], "seed": inputs["seed"]}
    names = list(assumption_ranges(load_scenario(inputs["scenario"]))) if inputs["assumptions"] else []
    chunks = [names[i:i + 8] for i in range(0, len(names), 8)]
    total = 1 + len(chunks)
    parts = [an.tornado(inputs["scenario"], inputs["base"], inputs["metric"], assumptions=[], **common)]
    progress(1, total)
    for i, chunk in enumerate(chunks, start=2):
        parts.append(an.tornado(inputs["scenario"], inputs["base"], inputs["metric"], levers=[], assumptions=chunk,
                                **common))
        progress(i, total)
    return an.rank_by_swing(pd.concat(parts, ignore_index=True))


def view_attribution() -> None:
    with st.form(P + "f.attribution"):
        cols = st.columns(5)
        scenario = _scenario_box(P + "w.attr.scenario", cols[0])
        regime = _preset_box("Regime", P + "w.attr.regime", _regimes_default(0, "all_guardrails"), cols[1])
        baseline = _preset_box("Baseline", P + "w.attr.baseline", _regimes_default(1, "status_quo"), cols[2])
        metric = _metric_box(P + "w.attr.metric", list(METRICS), cols[3])
        with cols[4]:
            paths, seed = _run_settings("attribution")
        pressed = st.form_submit_button("Run", type="primary")
    publish_link("attribution", scenario, metric, [regime, baseline])
    if regime == baseline:
        st.error("Baseline: the same preset as the regime; allowed: two different presets")
        return
    inputs = {"scenario": scenario, "regime": regime, "baseline": baseline, "metric": metric, "paths": paths,
              "seed": seed}

    def compute(progress):
        out = an.attribution(scenario, regime, baseline, metric=metric, paths=paths, seed=seed)
        out.attrs.clear()  # per-path arrays: not needed on the page
        progress(1, 1)
        return out

    frame = _result("attribution", inputs, pressed, compute, "Attribution")
    if frame is None:
        return
    _chart(charts.attribution_chart(frame, source=charts.analysis_source(scenario, paths, seed)))
    unit = delta_unit(METRICS[metric].unit)
    table = pd.DataFrame({
        "Channel": frame["component"],
        "Levers switched": ["; ".join(charts.factor_label(x) for x in parts.split(", ")) if kind == "channel" else parts
                            for parts, kind in zip(frame["parts"], frame["kind"], strict=True)],
        "Shapley value (mean)": [fmt_value(v, unit, signed=True) for v in frame["shapley_mean"]],
        "Shapley 5th-95th pct": [f"{fmt_number(a, signed=True)} to {fmt_value(b, unit, signed=True)}"
                                 for a, b in zip(frame["shapley_p5"], frame["shapley_p95"], strict=True)],
        "One at a time (mean)": [fmt_value(v, unit, signed=True) if k == "channel" else ""
                                 for v, k in zip(frame["alone_mean"], frame["kind"], strict=True)],
    })
    _table(table, frame, f"attribution_{scenario}_{regime}_vs_{baseline}", "attribution")
    _pack_button(f"attribution_{scenario}_{regime}_vs_{baseline}", lambda base: ap.attribution_item(
        frame, scenario=scenario, regime=regime, baseline=baseline, metric=metric, paths=paths, seed=seed,
        base_url=base))
    _share("attribution", scenario, metric, [regime, baseline])


def view_amplification() -> None:
    with st.form(P + "f.amplification"):
        cols = st.columns(3)
        scenario = _scenario_box(P + "w.amp.scenario", cols[0])
        regime = _preset_box("Regime", P + "w.amp.regime", _regimes_default(0, "all_guardrails"), cols[1])
        with cols[2]:
            paths, seed = _run_settings("amplification")
        pressed = st.form_submit_button("Run", type="primary")
    publish_link("amplification", scenario, _shown_or_linked(P + "w.amp.metric", "metric"), [regime])
    inputs = {"scenario": scenario, "regime": regime, "paths": paths, "seed": seed}

    def compute(progress):
        out = an.amplification(scenario, regime, paths=paths, seed=seed)
        progress(1, 1)
        return out

    frame = _result("amplification", inputs, pressed, compute, "Amplification")
    if frame is None:
        return
    metric = _metric_box(P + "w.amp.metric", list(dict.fromkeys(frame["metric"])))
    _chart(charts.amplification_chart(frame, metric, source=charts.analysis_source(scenario, paths, seed)))
    sub = frame[frame["metric"] == metric]
    unit = METRICS[metric].unit
    table = pd.DataFrame({
        "Step": sub["component"],
        "What is switched": sub["switches"],
        "Level (median)": [fmt_value(v, unit) for v in sub["level_p50"]],
        "Increment (median)": [fmt_value(v, unit, signed=True) for v in sub["increment_p50"]],
        "Increment 5th-95th pct": [f"{fmt_number(a, signed=True)} to {fmt_value(b, unit, signed=True)}"
                                   for a, b in zip(sub["increment_p5"], sub["increment_p95"], strict=True)],
    })
    _table(table, frame, f"amplification_{scenario}_{regime}", "amplification")
    _pack_button(f"amplification_{scenario}_{regime}", lambda base: ap.amplification_item(
        frame, scenario=scenario, regime=regime, metric=metric, paths=paths, seed=seed, base_url=base))
    _share("amplification", scenario, metric, [regime])


def view_robustness() -> None:
    with st.form(P + "f.robustness"):
        cols = st.columns(5)
        scenario = _scenario_box(P + "w.rob.scenario", cols[0])
        a = _preset_box("Regime A", P + "w.rob.a", _regimes_default(0, "all_guardrails"), cols[1])
        b = _preset_box("Regime B", P + "w.rob.b", _regimes_default(1, "status_quo"), cols[2])
        metric = _metric_box(P + "w.rob.metric", list(METRICS), cols[3])
        with cols[4]:
            paths, seed = _run_settings("robustness")
        samples = st.number_input("Latin hypercube points over every uncertain assumption", 0, 200, 8,
                                  key=P + "w.rob.samples")
        pressed = st.form_submit_button("Run", type="primary")
    publish_link("robustness", scenario, metric, [a, b])
    if a == b:
        st.error("Regime B: the same preset as regime A; allowed: two different presets")
        return
    lower = metric not in an.HIGHER_IS_BETTER
    inputs = {"scenario": scenario, "a": a, "b": b, "metric": metric, "paths": paths, "seed": seed,
              "samples": int(samples)}

    def compute(progress):
        out = an.robustness(scenario, a, b, metric, samples=int(samples), paths=paths, seed=seed,
                            lower_is_better=lower)
        progress(1, 1)
        return out

    found = _result("robustness", inputs, pressed, compute, "Robustness")
    if found is None:
        return
    source = charts.analysis_source(scenario, paths, seed)
    _chart(charts.robustness_chart(found["points"], metric, a, b, lower_is_better=lower, source=source))

    def share(v):
        return "n/a" if v is None else fmt_probability(100 * v)

    unit = delta_unit(METRICS[metric].unit)
    table = pd.DataFrame({
        "Measure": ["Difference A - B at the calibrated values (centre)", "Paths where A beats B",
                    "Assumption points where A beats B", "Corners where A beats B", "Hypercube points where A beats B",
                    "Points keeping the calibrated sign"],
        "Value": [fmt_value(found["base_difference"], unit, signed=True), share(found["path_share"]),
                  share(found["space_share"]), share(found["corner_share"]), share(found["lhs_share"]),
                  share(found["keeps_sign_share"])],
    })
    _table(table, found["points"], f"robustness_{scenario}_{a}_vs_{b}", "robustness")
    _pack_button(f"robustness_{scenario}_{a}_vs_{b}", lambda base: ap.robustness_item(
        found, scenario=scenario, a=a, b=b, metric=metric, paths=paths, seed=seed, samples=int(samples),
        base_url=base))
    _share("robustness", scenario, metric, [a, b])


def view_expected_cost() -> None:
    with st.form(P + "f.cost"):
        cols = st.columns(3)
        scenario = _scenario_box(P + "w.cost.scenario", cols[0])
        regimes = cols[1].multiselect("Regimes", preset_names(), key=P + "w.cost.regimes",
                                      default=_link_default("regimes", ["status_quo", "clearing_rule",
                                                                        "all_guardrails"]),
                                      max_selections=8)
        with cols[2]:
            paths, seed = _run_settings("expected_cost")
        cols = st.columns(3)
        f = cols[0].number_input("Episode probability per year (required)", 0.0, 1.0, value=None, step=0.01,
                                 key=P + "w.cost.f", placeholder="e.g. 0.05",
                                 help="The chance that a shock like the scenario's starts in a given year; "
                                 "no default: the evidence base has no count of episodes to derive one from")
        loss = cols[1].number_input("Loss per dysfunctional episode ($bn, optional)", 0.0, MAX_LOSS_USD_BN, value=None,
                                    step=10.0, key=P + "w.cost.loss")
        extra = cols[2].number_input("Further loss on a breakdown ($bn)", 0.0, MAX_LOSS_USD_BN, value=0.0, step=10.0,
                                     key=P + "w.cost.extra")
        pressed = st.form_submit_button("Run", type="primary")
    publish_link("expected_cost", scenario, None, list(regimes))
    if not regimes:
        st.info("Regimes: choose at least one preset.")
        return
    if f is None:
        st.info("Episode probability per year: required (0 to 1); then press **Run**.")
        return
    inputs = {"scenario": scenario, "regimes": list(regimes), "paths": paths, "seed": seed, "f": float(f),
              "loss": None if loss is None else float(loss), "extra": float(extra)}

    def compute(progress):
        from engine import simulate

        result = simulate(scenario, [get_preset(r) for r in regimes], paths=paths, seed=seed)
        progress(1, 2)
        out = an.expected_cost(result, episode_probability_per_year=float(f), loss_per_episode_usd_bn=inputs["loss"],
                               breakdown_extra_loss_usd_bn=float(extra))
        progress(2, 2)
        return out

    frame = _result("expected_cost", inputs, pressed, compute, "Expected cost")
    if frame is None:
        return
    _chart(charts.expected_cost_chart(frame, source=charts.analysis_source(scenario, paths, seed)))
    data = {
        "Regime": frame["regime"],
        "Calm interest cost ($bn/yr)": [fmt_value(v, "$bn/yr") for v in frame["calm_interest_cost_usd_bn_per_year"]],
        "P(dysfunction or breakdown) per episode": [fmt_probability(v) for v in frame["dysfunction_probability_pct"]],
        "P(breakdown) per episode": [fmt_probability(v) for v in frame["broken_market_probability_pct"]],
        "Annual P(dysfunction or breakdown)": [fmt_value(v, "%") for v in frame["annual_dysfunction_probability_pct"]],
        "Annual P(breakdown)": [fmt_value(v, "%") for v in frame["annual_breakdown_probability_pct"]],
    }
    if "expected_stress_loss_usd_bn_per_year" in frame.columns:
        data["Expected stress loss ($bn/yr)"] = [fmt_value(v, "$bn/yr")
                                                 for v in frame["expected_stress_loss_usd_bn_per_year"]]
        data["Expected total cost ($bn/yr)"] = [fmt_value(v, "$bn/yr")
                                                for v in frame["expected_total_cost_usd_bn_per_year"]]
    _table(pd.DataFrame(data), frame, f"expected_cost_{scenario}", "expected_cost")
    _pack_button(f"expected_cost_{scenario}", lambda base: ap.expected_cost_item(
        frame, scenario=scenario, regimes=list(regimes), paths=paths, seed=seed, probability=inputs["f"],
        loss=inputs["loss"], extra=inputs["extra"], base_url=base))
    _share("expected_cost", scenario, None, list(regimes))


def view_stress_grid() -> None:
    with st.form(P + "f.grid"):
        cols = st.columns(3)
        regime = _preset_box("Regime", P + "w.grid.regime", _regimes_default(0, "all_guardrails"), cols[0])
        baseline = _preset_box("Baseline", P + "w.grid.baseline", _regimes_default(1, "status_quo"), cols[1])
        with cols[2]:
            paths, seed = _run_settings("stress_grid")
        pressed = st.form_submit_button("Run", type="primary")
    publish_link("stress_grid", None, None, [regime, baseline])
    inputs = {"regime": regime, "baseline": baseline, "paths": paths, "seed": seed}

    def compute(progress):
        names = scenario_names()
        parts = []
        for i, sc in enumerate(names, start=1):
            parts.append(an.stress_test_grid(regime, [sc], paths=paths, seed=seed, baseline=baseline))
            progress(i, len(names))
        return pd.concat(parts, ignore_index=True)

    frame = _result("stress_grid", inputs, pressed, compute, "Stress-test grid")
    if frame is None:
        return
    _chart(charts.stress_grid_chart(frame, source=charts.analysis_source(None, paths, seed)))
    table = pd.DataFrame({
        "Scenario": frame["scenario"],
        "Outcome": [_label(m) for m in frame["metric"]],
        regime: [fmt_value(v, u) for v, u in zip(frame["regime_p50"], frame["unit"], strict=True)],
        baseline: [fmt_value(v, u) for v, u in zip(frame["baseline_p50"], frame["unit"], strict=True)],
        "Difference (median)": [fmt_value(v, delta_unit(u), signed=True)
                                for v, u in zip(frame["diff_p50"], frame["unit"], strict=True)],
        "Difference 5th-95th pct": [f"{fmt_number(a, signed=True)} to {fmt_value(b, delta_unit(u), signed=True)}"
                                    for a, b, u in zip(frame["diff_p5"], frame["diff_p95"], frame["unit"],
                                                       strict=True)],
    })
    _table(table, frame, f"stress_grid_{regime}_vs_{baseline}", "stress_grid")
    _pack_button(f"stress_grid_{regime}_vs_{baseline}", lambda base: ap.stress_grid_item(
        frame, regime=regime, baseline=baseline, paths=paths, seed=seed, base_url=base))
    _share("stress_grid", None, None, [regime, baseline])


RENDER: dict[str, Callable[[], None]] = {
    "map": view_map,
    "frontier": view_frontier,
    "tornado": view_tornado,
    "attribution": view_attribution,
    "amplification": view_amplification,
    "robustness": view_robustness,
    "expected_cost": view_expected_cost,
    "stress_grid": view_stress_grid,
}


def page() -> None:
    if K_LINK not in st.session_state:
        params = {k: st.query_params.get_all(k) for k in LINK_KEYS if k in st.query_params}
        link, messages = read_link(params)
        st.session_state[K_LINK] = link
        st.session_state[K_MESSAGES] = messages
    messages = st.session_state.get(K_MESSAGES, [])
    if messages:
        st.warning(f"This link had {len(messages)} problem(s); the rest of it was used.", icon=":material/link_off:")
        for message in messages[:50]:  # plain text, capped: a link's words never render as Markdown
            st.text(message)
    st.subheader("Policy analysis")
    views = list(VIEWS)
    default = _link_default("view", "tornado")
    view = st.selectbox("Analysis", views, index=views.index(default), format_func=VIEWS.get, key=K_VIEW)
    st.caption(VIEW_NOTES[view] + " Nothing runs until you press Run; results are kept for the same inputs.")
    RENDER[view]()
