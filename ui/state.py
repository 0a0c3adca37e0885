"""The view in the session and in the URL.

The canonical state is `st.session_state["_view"]`, a `policy.query.ViewState` (plain session
state survives page switches; widget state does not). Each run seeds every widget key that is
missing from the view, renders the widgets with those keys, reads them back into a new view and
writes the URL. Callbacks (preset change, reset, add/remove regime, file upload) edit the view and
drop the affected widget keys, so the widgets re-seed from it on the same run.
"""

from collections.abc import Mapping
from typing import Any

import streamlit as st

from engine import MODEL_VERSION, assumption_bounds, assumption_ranges, load_scenario, scenario_names
from engine.scenario_edit import link_scenario_check, resolve_edited
from policy import PolicyRegime, get_preset, lever_specs, preset_names, regime_value
from policy.query import (
    MAX_REGIMES,
    RegimeView,
    ViewState,
    decode_view,
    encode_view,
    regime_view_of,
    unique_name,
)

VIEW = "_view"
UIDS = "_uids"
NEXT_UID = "_next_uid"
URL_MESSAGES = "_url_messages"
REGIME_ERRORS = "_regime_errors"
RENDERED_NOW = "_rendered_now"
RENDERED_PREV = "_rendered_prev"
ADD_ORDER = ("status_quo", "clearing_rule", "dealer_rule", "leverage_cap", "all_guardrails")

K_SCENARIO, K_SEVERITY, K_PATHS, K_SEED = "w.sc", "w.sev", "w.n", "w.seed"
# What a new session (or a link without a known scenario) opens: the episode the model is tuned on,
# never a placebo episode (those test that the model stays calm when history did).
DEFAULT_SCENARIO = "march_2020"


def is_placebo(name: str) -> bool:
    """A placebo episode: a historical window where markets kept functioning (the scenario file says so)."""
    return load_scenario(name).placebo


def scenario_options() -> list[str]:
    """Scenarios in the order the app lists them (the engine's: placebo episodes last)."""
    return scenario_names()


def default_scenario() -> str:
    options = scenario_options()
    return DEFAULT_SCENARIO if DEFAULT_SCENARIO in options else options[0]


def encode(v: ViewState) -> dict[str, str]:
    """The view as link parameters of the running model."""
    return encode_view(v, model_version=MODEL_VERSION)


def k_preset(uid: int) -> str:
    return f"w.r{uid}.preset"


def k_name(uid: int) -> str:
    return f"w.r{uid}.name"


def k_lever(uid: int, path: str) -> str:
    return f"w.r{uid}.{path}"


def k_assumption(name: str) -> str:
    return f"w.a.{name}"


def k_upload(uid: int) -> str:
    return f"w.r{uid}.upload.{st.session_state.get(f'_upload_nonce.{uid}', 0)}"


# ---------------------------------------------------------------- start of a session


def init_session(params: Mapping[str, Any] | None = None) -> None:
    """Once per session: decode the URL into the view (messages kept for `st.warning`)."""
    if VIEW in st.session_state:
        return
    raw = {k: st.query_params.get_all(k) for k in st.query_params} if params is None else dict(params)
    view, messages = decode_view(
        raw,
        scenarios=scenario_options(),
        assumption_ranges=assumption_bounds,
        model_version=MODEL_VERSION,
        default_scenario=default_scenario(),
        scenario_edit_check=link_scenario_check,
    )
    st.session_state[VIEW] = view
    st.session_state[UIDS] = list(range(len(view.regimes)))
    st.session_state[NEXT_UID] = len(view.regimes)
    st.session_state[URL_MESSAGES] = messages
    st.session_state[REGIME_ERRORS] = {}


def view() -> ViewState:
    return st.session_state[VIEW]


def uids() -> list[int]:
    return st.session_state[UIDS]


def _lever_widget_value(spec, value):
    if spec.type == "int":
        return int(value)
    if spec.type == "float":
        return float(value)
    return value


def seed_widgets() -> None:
    """Put the view's values into every widget key that is missing (first run, page switch, callbacks)."""
    v, state = view(), st.session_state
    state.setdefault(K_SCENARIO, v.scenario)
    state.setdefault(K_SEVERITY, float(v.shock_scale))
    state.setdefault(K_PATHS, int(v.paths))
    state.setdefault(K_SEED, int(v.seed))
    for uid, rv in zip(uids(), v.regimes, strict=True):
        state.setdefault(k_preset(uid), rv.preset)
        state.setdefault(k_name(uid), rv.name)
    # Levers and assumptions may sit in lazy expanders: they are seeded by `prepare` when rendered.
    state[RENDERED_PREV] = state.get(RENDERED_NOW, set())
    state[RENDERED_NOW] = set()


def prepare(key: str, view_value: Any) -> Any:
    """Before rendering a lever or assumption widget: seed it from the view unless it was live on the
    previous run (then its session value is the user's latest input). Returns the value to show."""
    state = st.session_state
    if key not in state.get(RENDERED_PREV, set()) or key not in state:
        state[key] = view_value
    state[RENDERED_NOW].add(key)
    return state[key]


def lever_view_value(rv: RegimeView, spec) -> Any:
    return _lever_widget_value(spec, rv.changes.get(spec.path, regime_value(get_preset(rv.preset), spec.path)))


def _rendered() -> set[str]:
    """Widget keys rendered on this run or the previous one (read once per pass: session-state
    lookups are slow enough to matter on every lever move)."""
    return st.session_state.get(RENDERED_NOW, set()) | st.session_state.get(RENDERED_PREV, set())


def _live(key: str, fallback: Any, rendered: set[str] | None = None) -> Any:
    """A widget's value if it was rendered (this run, or the previous one inside callbacks), else the view's."""
    if key in (_rendered() if rendered is None else rendered) and key in st.session_state:
        return st.session_state[key]
    return fallback


def _drop_keys(prefix: str) -> None:
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[key]


def _drop_regime_widgets(uid: int) -> None:
    keep = {k_upload(uid)}
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(f"w.r{uid}.")]:
        if key not in keep:
            del st.session_state[key]


def _set_view(new: ViewState) -> None:
    st.session_state[VIEW] = ViewState.model_validate(new.model_dump())


# ---------------------------------------------------------------- reading widgets back


def read_widgets() -> ViewState:
    """The view the widgets currently show (invalid names keep the previous name, with an error noted)."""
    v, state = view(), st.session_state
    scenario = state.get(K_SCENARIO, v.scenario)
    if scenario not in scenario_names():
        scenario = v.scenario
    specs = lever_specs()
    rendered = _rendered()
    errors: dict[int, str] = {}
    regimes: list[RegimeView] = []
    taken: set[str] = set()
    for uid, rv in zip(uids(), v.regimes, strict=True):
        preset = state.get(k_preset(uid), rv.preset)
        base = get_preset(preset)
        changes = {}
        old_base = get_preset(rv.preset)
        for spec in specs:
            key = k_lever(uid, spec.path)
            if key not in rendered:  # not on screen: the view holds its value (no session lookup)
                value = rv.changes.get(spec.path, regime_value(old_base, spec.path))
            else:
                value = _live(key, rv.changes.get(spec.path, regime_value(old_base, spec.path)), rendered)
            if value != regime_value(base, spec.path):
                changes[spec.path] = _lever_widget_value(spec, value)
        name = str(state.get(k_name(uid), rv.name)).strip()
        problem = name_problem(name, taken)
        if problem:
            errors[uid] = problem
            name = rv.name if rv.name not in taken else unique_name(rv.name, taken)
        taken.add(name)
        regimes.append(RegimeView(preset=preset, name=name, changes=changes))
    st.session_state[REGIME_ERRORS] = errors
    # Scenario edits (ui/scenario_editor.py) belong to their base scenario; the assumptions that apply
    # are those of the scenario that runs (an uploaded one may be of another era).
    same = scenario == v.scenario
    edit, custom = (dict(v.scenario_edit), v.custom_scenario) if same else ({}, None)
    ranges = assumption_ranges(resolve_edited(scenario, edit, custom))
    assumptions = {}
    for name, item in ranges.items():
        value = float(_live(k_assumption(name), v.assumptions.get(name, item.value), rendered))
        if value != item.value and item.low <= value <= item.high:
            assumptions[name] = value
    return ViewState(
        scenario=scenario,
        shock_scale=float(state.get(K_SEVERITY, v.shock_scale)),
        paths=int(state.get(K_PATHS, v.paths)),
        seed=int(state.get(K_SEED, v.seed)),
        regimes=regimes,
        assumptions=assumptions,
        scenario_edit=edit,
        custom_scenario=custom,
    )


def name_problem(name: str, taken: set[str]) -> str | None:
    try:
        PolicyRegime(name=name)
    except ValueError:
        return (
            f"Name {name[:40]!r} not used; allowed: 1 to 40 letters, digits, spaces, _ . - "
            "(not starting with a space, dot or dash)"
        )
    if name in taken:
        return f"Name {name!r} is already used by another regime; each regime needs its own name"
    return None


def commit(new: ViewState) -> None:
    """Store the view and keep the URL in step with it."""
    _set_view(new)
    params = encode(new)
    current = {k: st.query_params.get(k) for k in st.query_params}
    if current != params:
        st.query_params.from_dict(params)


# ---------------------------------------------------------------- callbacks


def on_scenario_change() -> None:
    """Assumptions belong to a scenario's era: drop their widgets; keep values that still apply.
    Scenario edits belong to the scenario they edit: a new base scenario starts unedited."""
    v = read_widgets()
    ranges = assumption_ranges(v.scenario)
    kept = {n: x for n, x in view().assumptions.items() if n in ranges and ranges[n].low <= x <= ranges[n].high}
    _drop_keys("w.a.")
    _set_view(v.model_copy(update={"assumptions": kept, "scenario_edit": {}, "custom_scenario": None}))


def on_preset_change(uid: int) -> None:
    """Start the regime afresh from the chosen preset (its name follows the preset unless renamed)."""
    preset = st.session_state.get(k_preset(uid))
    if preset is None or uid not in uids():  # a late event from a regime no longer drawn or removed
        return
    v = read_widgets()
    i = uids().index(uid)
    old = view().regimes[i]
    others = {r.name for j, r in enumerate(v.regimes) if j != i}
    name = v.regimes[i].name
    if name == old.preset or name.startswith(old.preset + "_"):
        name = unique_name(preset, others)
    regimes = list(v.regimes)
    regimes[i] = RegimeView(preset=preset, name=name, changes={})
    _drop_regime_widgets(uid)
    _set_view(v.model_copy(update={"regimes": regimes}))


def on_reset(uid: int) -> None:
    """Every lever of the regime back to its preset."""
    if uid not in uids():  # a second click, queued before the first removed the regime
        return
    v = read_widgets()
    i = uids().index(uid)
    regimes = list(v.regimes)
    regimes[i] = regimes[i].model_copy(update={"changes": {}})
    _drop_regime_widgets(uid)
    _set_view(v.model_copy(update={"regimes": regimes}))


def on_add() -> None:
    v = read_widgets()
    if len(v.regimes) >= MAX_REGIMES:
        return
    used = {r.preset for r in v.regimes}
    preset = next((p for p in ADD_ORDER if p not in used), "status_quo")
    name = unique_name(preset, {r.name for r in v.regimes})
    uid = st.session_state[NEXT_UID]
    st.session_state[NEXT_UID] = uid + 1
    st.session_state[UIDS] = [*uids(), uid]
    _set_view(v.model_copy(update={"regimes": [*v.regimes, RegimeView(preset=preset, name=name)]}))


def on_remove(uid: int) -> None:
    v = read_widgets()
    if len(v.regimes) <= 1 or uid not in uids():  # the last regime stays; a double click removes one
        return
    i = uids().index(uid)
    regimes = [r for j, r in enumerate(v.regimes) if j != i]
    st.session_state[UIDS] = [u for u in uids() if u != uid]
    _drop_regime_widgets(uid)
    _set_view(v.model_copy(update={"regimes": regimes}))


def on_reset_assumptions() -> None:
    v = read_widgets()
    _drop_keys("w.a.")
    _set_view(v.model_copy(update={"assumptions": {}}))


def apply_uploaded_regime(uid: int, regime: PolicyRegime) -> None:
    """Replace regime `uid` with an uploaded one (levers relative to its closest preset)."""
    v = read_widgets()
    i = uids().index(uid)
    rv = regime_view_of(regime)
    others = {r.name for j, r in enumerate(v.regimes) if j != i}
    rv = rv.model_copy(update={"name": unique_name(rv.name, others)})
    regimes = list(v.regimes)
    regimes[i] = rv
    _drop_regime_widgets(uid)
    _set_view(v.model_copy(update={"regimes": regimes}))


def preset_options() -> list[str]:
    return preset_names()


def set_view(new: ViewState) -> None:
    """Store a new view from a callback of another module (the scenario editor); validated."""
    _set_view(new)
