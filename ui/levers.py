"""The lever panel: pick the regime being edited, then one group of its levers.

Only the edited regime's chosen group is rendered (a few widgets per rerun, so a slider move is
fast); every other lever keeps its value in the view. Any lever is two clicks away: the regime,
then the group. Each number lever has a slider and, beside it, an exact number entry kept in step
with it by callbacks.
"""

import streamlit as st

from policy import PRESET_DESCRIPTIONS, get_preset, lever_specs, regime_to_json, regime_value
from policy.io import RegimeInputError, parse_regime_text
from policy.query import MAX_REGIMES, regime_from_view, regimes_from_view
from ui import state
from ui.text import FED_NOTE, GROUP_TITLES, GROUPS, plain

K_EDIT = "w.edit"
K_GROUP = "w.group"
_LAST_EDIT = "_edit_uid"
_LAST_GROUP = "_edit_group"


def edited_uid() -> int:
    """The uid of the regime being edited (the last one chosen, or the first)."""
    uids = state.uids()
    chosen = st.session_state.get(K_EDIT, st.session_state.get(_LAST_EDIT))
    if chosen not in uids:
        chosen = st.session_state.get(_LAST_EDIT)
    if chosen not in uids:
        chosen = uids[0]
    st.session_state[_LAST_EDIT] = chosen
    return chosen


def _group() -> str:
    chosen = st.session_state.get(K_GROUP) or st.session_state.get(_LAST_GROUP) or GROUPS[0]
    st.session_state[_LAST_GROUP] = chosen
    return chosen


def on_add() -> None:
    """Add a regime and edit it at once."""
    before = set(state.uids())
    state.on_add()
    added = [u for u in state.uids() if u not in before]
    if added:
        st.session_state[K_EDIT] = added[0]


def on_remove(uid: int) -> None:
    state.on_remove(uid)
    remaining = state.uids()
    st.session_state[K_EDIT] = remaining[0]


def _changed_in(rv, base, group: str, specs) -> int:
    return sum(state.lever_view_value(rv, s) != regime_value(base, s.path) for s in specs if s.group == group)


def _sync_number(key: str) -> None:
    """The number entry changed: move the slider to it (the slider's value is what the view reads).

    Clicks faster than the reruns can fire this for an entry the last run did not draw (another
    regime or group was shown), whose state Streamlit has dropped: then there is nothing to sync.
    """
    value = st.session_state.get(key + "#n")
    if value is not None:
        st.session_state[key] = value


def _label(spec, changed: bool) -> str:
    unit = "" if spec.type in ("bool", "choice") else f" ({spec.unit})"
    text = f"{spec.label}{unit}"
    return f":orange[**● {text}**]" if changed else text


def lever(uid: int, spec, base, rv) -> bool:
    """One lever's widgets; returns whether it differs from its preset."""
    key = state.k_lever(uid, spec.path)
    default = regime_value(base, spec.path)
    current = state.prepare(key, state.lever_view_value(rv, spec))
    changed = current != default
    help_text = f"{spec.description}\n\nSource: {spec.source}\n\nPreset value: {default}"
    label = _label(spec, changed)
    if spec.type == "bool":
        st.toggle(label, value=bool(current), key=key, help=help_text)
        return changed
    if spec.type == "choice":
        st.selectbox(label, list(spec.choices), index=list(spec.choices).index(current), key=key, help=help_text)
        return changed
    number_key = key + "#n"
    st.session_state[number_key] = current  # the entry always shows what the slider holds
    # Every keyed widget here also gets its value as its default: after clicks faster than the reruns,
    # the browser may mount a widget from an interrupted run without the session value and then
    # report its default as the user's input (an entry at 0.00, a preset reset to the first one).
    cols = st.columns([2.4, 1], vertical_alignment="bottom", gap="small")
    if spec.type == "int":
        low, high, step = int(spec.min), int(spec.max), int(spec.step or 1)
        cols[0].slider(label, low, high, value=int(current), step=step, key=key, help=help_text)
        cols[1].number_input(f"{spec.label}, exact", low, high, value=int(current), step=step, key=number_key,
                             label_visibility="collapsed", on_change=_sync_number, args=(key,))
        return changed
    step = float(spec.step or 0.1)
    decimals = 0 if step >= 1 else (1 if step * 10 == int(step * 10) else 2)
    cols[0].slider(label, float(spec.min), float(spec.max), value=float(current), step=step, key=key,
                   help=help_text, format=f"%.{decimals}f")
    cols[1].number_input(f"{spec.label}, exact", float(spec.min), float(spec.max), value=float(current), step=step,
                         key=number_key,
                         format=f"%.{decimals}f",
                         label_visibility="collapsed", on_change=_sync_number, args=(key,))
    return changed


def _group_levers(uid: int, group: str, specs, base, rv) -> None:
    """A group's levers; a switchable rule that is off shows only its switch (its settings do
    nothing then). Hidden levers keep their values."""
    members = [spec for spec in specs if spec.group == group]
    switch = next((spec for spec in members if spec.field == "enabled"), None)
    if group == "fed_backstop":
        st.caption(FED_NOTE)
    if switch is not None:
        lever(uid, switch, base, rv)
        if not st.session_state.get(state.k_lever(uid, switch.path)):
            st.caption("Its settings apply when the rule is in force.")
            return
    for spec in members:
        if spec is not switch:
            lever(uid, spec, base, rv)


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


def _file_menu(uid: int, index: int, name: str) -> None:
    with st.popover("File", width="stretch", help="Download this regime, or load one from a file"):
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


def panel() -> None:
    """The lever panel of the regime being edited (draws into the current container)."""
    specs = lever_specs()
    uids = state.uids()
    uid = edited_uid()
    index = uids.index(uid)
    names = {u: r.name for u, r in zip(uids, state.view().regimes, strict=True)}
    st.segmented_control(
        "Regime being edited",
        uids,
        default=uid,
        key=K_EDIT,
        format_func=lambda u: names.get(u, "?") + (" (baseline)" if u == uids[0] else ""),
        help="The first regime is the baseline: every difference is measured against it, path by path.",
    )
    uid = edited_uid()
    index = uids.index(uid)
    rv = state.view().regimes[index]
    preset = st.session_state.get(state.k_preset(uid), rv.preset)
    base = get_preset(preset)

    top = st.columns([1, 1], vertical_alignment="bottom", gap="small")
    presets = state.preset_options()
    top[0].selectbox(
        "Start from preset", presets, index=presets.index(preset) if preset in presets else 0, key=state.k_preset(uid),
        on_change=state.on_preset_change, args=(uid,), help="Choosing a preset resets this regime's levers to it.",
    )
    top[1].text_input("Name", value=str(st.session_state.get(state.k_name(uid), rv.name)), key=state.k_name(uid), max_chars=40)
    error = st.session_state.get(state.REGIME_ERRORS, {}).get(uid)
    if error:
        st.error(plain(error))
    st.caption(PRESET_DESCRIPTIONS[preset])
    if base.fed_backstop.purchase_schedule_usd_bn_per_day:
        st.caption("Its Fed purchases follow the dated historical schedule, scaled with the shock severity.")

    counts = {g: _changed_in(rv, base, g, specs) for g in GROUPS}
    group = _group()
    st.pills(
        "Lever group", GROUPS, default=group, key=K_GROUP,
        format_func=lambda g: GROUP_TITLES[g][1] + (f" ({counts[g]})" if counts[g] else ""),
        help="The policy levers, by rule. A number in brackets counts the levers changed from the preset.",
    )
    group = _group()
    st.markdown(f"**{GROUP_TITLES[group][0]}**")
    _group_levers(uid, group, specs, base, rv)

    changed = sum(counts.values())
    bottom = st.columns([1.3, 1, 1], gap="small")
    bottom[0].button(
        "Reset" + (f" ({changed})" if changed else ""), key=f"b.reset.{uid}", on_click=state.on_reset,
        args=(uid,), disabled=not changed, width="stretch", help=f"Set every lever of this regime back to {preset}",
    )
    bottom[1].button(
        ":material/add:", key="b.add", on_click=on_add, disabled=len(uids) >= MAX_REGIMES, width="stretch",
        help=f"Add a regime (up to {MAX_REGIMES}) and edit it",
    )
    bottom[2].button(
        ":material/close:", key=f"b.remove.{uid}", on_click=on_remove, args=(uid,), disabled=len(uids) <= 1,
        width="stretch", help="Remove this regime from the comparison",
    )
    _file_menu(uid, index, rv.name)
    if st.session_state.get(f"_upload_error.{uid}"):
        st.error(plain(st.session_state[f"_upload_error.{uid}"] + " Nothing was changed."))
    elif st.session_state.get(f"_upload_note.{uid}"):
        st.success(plain(st.session_state.pop(f"_upload_note.{uid}")))
