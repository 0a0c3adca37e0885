"""'Build a shock': edit the scenario in the app, upload one, download it, and the scenario to run.

The page places `render()` where it wants the editor (it draws into the current container, e.g. an
`st.expander` or `st.dialog`), runs `active_scenario(view)` instead of the scenario name, may caption
`edit_caption(view)` and may repeat `download_controls(key=...)` outside a dialog. The edit lives in the
view (`ViewState.scenario_edit`, link parameters `se.*`; an uploaded scenario in
`ViewState.custom_scenario`, link parameter `sx`), so the URL carries it; every value is checked by
the engine's pydantic models (`engine/scenario_edit.py`). The form applies on "Apply" only (one
rerun); an error names the field and its range and leaves the scenario in force unchanged.
"""

import pandas as pd
import streamlit as st

from engine import InputError, Scenario, assumption_ranges, load_scenario
from engine.scenario import EXOGENOUS_SECTORS, MAX_DAYS, horizon_notes
from engine.scenario_edit import (
    MAX_EVENTS,
    apply_edit,
    describe_edit,
    edit_bounds,
    edit_of,
    edit_to_params,
    make_edit,
    parse_scenario_upload,
    resolve_edited,
    scenario_to_blob,
    scenario_to_toml,
    sector_totals,
)
from engine.version import MODEL_VERSION
from policy.query import MAX_LINK_SCENARIO_CHARS, ViewState, scenario_fits_link
from ui import state
from ui.text import plain

FORM = "f.scenario"
K_DAYS, K_VOL, K_FUND, K_REPO = "w.se.days", "w.se.vol", "w.se.fund", "w.se.repo"
SEEDED = "_se_seeded"  # which scenario the form's widgets show
EVENTS_NONCE = "_se_events_nonce"
UPLOAD_NONCE = "_se_upload_nonce"
ERROR = "_se_error"
NOTE = "_se_note"
MAX_UPLOAD_MB = 1  # the uploader's limit (Streamlit counts it in MB); the parser refuses files above the engine's own limit
SECTOR_LABELS = {
    "foreign_official": "Foreign official",
    "foreign_private": "Foreign private",
    "mutual_funds": "Bond mutual funds",
    "treasury": "Treasury (unabsorbed auction supply)",
}


def k_sales(sector: str) -> str:
    return f"w.se.sales.{sector}"


def k_events() -> str:
    return f"w.se.events.{st.session_state.get(EVENTS_NONCE, 0)}"


def k_upload() -> str:
    return f"w.se.upload.{st.session_state.get(UPLOAD_NONCE, 0)}"


# ---------------------------------------------------------------- what the page runs


def active_scenario(view: ViewState) -> Scenario:
    """The Scenario to run: the shipped one without edits, else the edited or uploaded one (cached)."""
    return resolve_edited(view.scenario, view.scenario_edit, view.custom_scenario)


def edit_caption(view: ViewState) -> str:
    """A short description of the edit for captions ('' when the shipped scenario runs)."""
    if view.custom_scenario is not None:
        text = f"uploaded scenario: {active_scenario(view).title}"
        return text if scenario_fits_link(view) else text + " (too large for a link; download it as a file)"
    if not view.scenario_edit:
        return ""
    base = load_scenario(view.scenario)
    edit = edit_of(base, active_scenario(view))
    return f"edited: {describe_edit(base, edit)}" if edit is not None else "edited"


# ---------------------------------------------------------------- form seeding and reading


def _identity(view: ViewState) -> tuple:
    return view.scenario, tuple(view.scenario_edit.items()), view.custom_scenario


def _events_frame(scenario: Scenario) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "day": pd.Series([e.day for e in scenario.events], dtype="int64"),
            "label": pd.Series([e.label for e in scenario.events], dtype="object"),
        }
    )


def _seed(view: ViewState, scenario: Scenario) -> None:
    """Show `scenario` in the form when the view's scenario changed (link, Apply, Reset, upload, sidebar)."""
    ss = st.session_state
    # Streamlit forgets a widget's value on a run that does not draw it (a closed lazy expander), so
    # a missing key re-seeds too.
    keys = [*(k_sales(s) for s in EXOGENOUS_SECTORS), K_DAYS, K_VOL, K_FUND, K_REPO]
    if ss.get(SEEDED) == _identity(view) and all(k in ss for k in keys):
        return
    for sector, total in sector_totals(scenario).items():
        ss[k_sales(sector)] = float(total)
    ss[K_DAYS] = int(scenario.default_days)
    ss[K_VOL] = float(scenario.volatility_scale)
    ss[K_FUND] = float(scenario.fundamental_scale)
    ss[K_REPO] = float(scenario.funding_scale)
    ss[EVENTS_NONCE] = ss.get(EVENTS_NONCE, 0) + 1  # a data editor is reset by a new key
    ss[SEEDED] = _identity(view)


def events_from_editor(scenario: Scenario, edits: dict | None) -> list[tuple[int, str]]:
    """The events the data editor shows: `scenario`'s with the editor's edit state applied.

    Raises InputError naming the row when a day or label is missing.
    """
    rows = [{"day": e.day, "label": e.label} for e in scenario.events]
    edits = edits or {}
    for index, changes in (edits.get("edited_rows") or {}).items():
        if 0 <= int(index) < len(rows):
            rows[int(index)].update(changes)
    deleted = {int(i) for i in edits.get("deleted_rows") or []}
    rows = [r for i, r in enumerate(rows) if i not in deleted]
    rows += [dict(r) for r in edits.get("added_rows") or []]
    out = []
    for i, row in enumerate(rows):
        day, label = row.get("day"), row.get("label")
        blank = label is None or (isinstance(label, float) and pd.isna(label)) or not str(label).strip()
        if day is None or pd.isna(day) or blank:
            if (day is None or pd.isna(day)) and blank:
                continue  # an empty row the editor added
            raise InputError(f"events row {i + 1}: needs both a day and a label; allowed: day 0 to {MAX_DAYS}, 1 to 60 characters")
        if float(day) != int(float(day)):
            raise InputError(f"events row {i + 1}: day {day!r}; allowed: a whole number from 0 to {MAX_DAYS} (trading day)")
        out.append((int(float(day)), str(label).strip()))
    return out


def edited_view(view: ViewState, *, days: int, sales: dict[str, float], volatility_scale: float,
                fundamental_scale: float, funding_scale: float, events: list[tuple[int, str]]) -> ViewState:
    """The view with the form's values applied (raises InputError naming the field and its range).

    A shipped scenario's edit is kept relative to the shipped file (readable link parameters); an
    uploaded scenario's is applied to it and travels as a new blob.
    """
    current = active_scenario(view)
    base = current if view.custom_scenario is not None else load_scenario(view.scenario)
    edit = make_edit(
        base, days=days, sales_usd_bn=sales, volatility_scale=volatility_scale, fundamental_scale=fundamental_scale,
        funding_scale=funding_scale, shock_size_sd=current.shock_size_sd, events=events,
    )
    if view.custom_scenario is not None:
        return view.model_copy(update={"custom_scenario": scenario_to_blob(apply_edit(base, edit))})
    return view.model_copy(update={"scenario_edit": edit_to_params(edit)})


def uploaded_view(view: ViewState, scenario: Scenario) -> ViewState:
    """The view running an uploaded scenario: as an edit of the view's scenario where it is one
    (readable link parameters), else as a whole scenario (a blob); assumptions that no longer apply
    are dropped."""
    base = load_scenario(view.scenario)
    edit = edit_of(base, scenario)
    if edit is not None:
        update = {"scenario_edit": edit_to_params(edit), "custom_scenario": None}
    else:
        update = {"scenario_edit": {}, "custom_scenario": scenario_to_blob(scenario)}
    ranges = assumption_ranges(scenario)
    update["assumptions"] = {
        n: x for n, x in view.assumptions.items() if n in ranges and ranges[n].low <= x <= ranges[n].high
    }
    return view.model_copy(update=update)


# ---------------------------------------------------------------- callbacks


def _on_apply() -> None:
    ss = st.session_state
    v = state.read_widgets()
    try:
        events = events_from_editor(active_scenario(v), ss.get(k_events()))
        new = edited_view(
            v,
            days=int(ss[K_DAYS]),
            sales={s: float(ss[k_sales(s)]) for s in EXOGENOUS_SECTORS},
            volatility_scale=float(ss[K_VOL]),
            fundamental_scale=float(ss[K_FUND]),
            funding_scale=float(ss[K_REPO]),
            events=events,
        )
    except InputError as err:
        ss[ERROR] = f"Scenario not changed: {err}"
        return
    ss[ERROR] = None
    state.set_view(new)
    ss[NOTE] = "Applied." if _identity(new) != _identity(v) else "Nothing changed."


def _on_reset() -> None:
    v = state.read_widgets()
    st.session_state[ERROR] = None
    state.set_view(v.model_copy(update={"scenario_edit": {}, "custom_scenario": None}))
    st.session_state[NOTE] = f"Back to the shipped scenario {v.scenario}."


def _on_upload() -> None:
    ss = st.session_state
    uploaded = ss.get(k_upload())
    if uploaded is None:
        return
    try:
        scenario = parse_scenario_upload(uploaded.getvalue(), uploaded.name)
    except InputError as err:
        ss[ERROR] = f"Upload not used: {err}"
        return
    v = state.read_widgets()
    new = uploaded_view(v, scenario)
    state.set_view(new)
    ss[ERROR] = None
    how = "an edit of the shipped scenario" if new.custom_scenario is None else "a scenario of its own"
    ss[NOTE] = f"Loaded {uploaded.name}: {scenario.title} ({how})."
    ss[UPLOAD_NONCE] = ss.get(UPLOAD_NONCE, 0) + 1  # clears the uploader, so the same file can be loaded again


# ---------------------------------------------------------------- the editor


def render() -> None:
    """The scenario editor, drawn into the current container (the page puts it in an expander)."""
    view = state.view()
    scenario = active_scenario(view)
    _seed(view, scenario)
    bounds = edit_bounds()
    caption = edit_caption(view)
    st.caption(
        f"Running **{scenario.title}**" + (f" - {caption}." if caption else " as shipped.")
        + " Sales scale every flow of a sector in proportion; a sector without one sells evenly over days 1 to 10. "
        "Severity in the sidebar still multiplies the whole shock."
    )
    with st.form(FORM, border=False, enter_to_submit=False):
        low, high, unit = bounds["sales_usd_bn"]
        totals = sector_totals(scenario)
        cols = st.columns(len(EXOGENOUS_SECTORS))
        for col, sector in zip(cols, EXOGENOUS_SECTORS, strict=True):
            # An uploaded scenario's several flows may sum beyond one flow's limit: show it, accept no more.
            top = max(float(high), totals[sector])
            col.number_input(
                f"{SECTOR_LABELS[sector]} sales ({unit})", min_value=float(low), max_value=top, step=10.0,
                key=k_sales(sector), help="Total sales over the episode; 0 removes the sector's selling.",
            )
        cols = st.columns(4)
        low, high, unit = bounds["days"]
        cols[0].number_input(
            f"Horizon ({unit})", min_value=int(low), max_value=int(high), step=1, key=K_DAYS,
            help="Trading days the run covers after day 0; flows running past the horizon are cut at it.",
        )
        for col, key, field, label, why in (
            (cols[1], K_VOL, "volatility_scale", "Volatility scale", "Multiplies the volatility the fundamental path "
             "brings (above the calm floor)."),
            (cols[2], K_FUND, "fundamental_scale", "Fundamental path scale", "Multiplies the fundamental 10y/30y "
             "path only (news, not market structure)."),
            (cols[3], K_REPO, "funding_scale", "Repo funding stress scale", "Multiplies the repo funding stress "
             "path only."),
        ):
            low, high, unit = bounds[field]
            col.number_input(f"{label} ({unit})", min_value=float(low), max_value=float(high), step=0.1, key=key,
                             help=why)
        st.data_editor(
            _events_frame(scenario),
            key=k_events(),
            num_rows="dynamic",
            hide_index=True,
            column_config={
                "day": st.column_config.NumberColumn("Day", min_value=0, max_value=MAX_DAYS, step=1, required=True),
                "label": st.column_config.TextColumn("Event (marked on the charts)", max_chars=60, required=True),
            },
        )
        st.caption(f"At most {MAX_EVENTS} events, each within the horizon.")
        cols = st.columns(2)
        cols[0].form_submit_button("Apply", type="primary", on_click=_on_apply, key="b.se.apply")
        edited = bool(view.scenario_edit) or view.custom_scenario is not None
        cols[1].form_submit_button("Reset to the shipped scenario", on_click=_on_reset, disabled=not edited,
                                   key="b.se.reset")
    if st.session_state.get(ERROR):
        st.error(plain(st.session_state[ERROR]))
    elif st.session_state.get(NOTE):
        st.success(plain(st.session_state.pop(NOTE)))
    for note in horizon_notes(scenario):
        st.caption(plain(note))

    cols = st.columns(2)
    cols[0].file_uploader(
        "Upload a scenario (TOML, as downloaded here or in scenarios/*.toml)", type=["toml"], key=k_upload(),
        on_change=_on_upload, max_upload_size=MAX_UPLOAD_MB,
        help="Checked like a scenario file of the CLI; its history file must be one the project ships.",
    )
    with cols[1]:
        download_controls(view, scenario)


def download_controls(view: ViewState | None = None, scenario: Scenario | None = None, *, key: str = "dl.scenario") -> None:
    """The download button for the running scenario (TOML), with a warning when it is too large for a link.

    `render()` draws it; a page may draw it elsewhere too (e.g. beside the link when the editor sits in
    a dialog that closes on Apply), with another `key` if both appear on one run.
    """
    view = view or state.view()
    scenario = scenario or active_scenario(view)
    st.download_button(
        "Download this scenario (TOML)",
        data=lambda: scenario_to_toml(scenario, header=_toml_header(view, scenario)),
        file_name=f"{scenario.name}.toml",
        mime="application/toml",
        on_click="ignore",
        key=key,
    )
    if not scenario_fits_link(view):
        st.warning(
            f"This scenario is too large for a link ({len(view.custom_scenario or ''):,} characters encoded; a link "
            f"carries at most {MAX_LINK_SCENARIO_CHARS:,}); download it as a file to share it. The link opens "
            f"{view.scenario} as shipped."
        )


def _toml_header(view: ViewState, scenario: Scenario) -> str:
    caption = edit_caption(view)
    return (
        f"Scenario from the Treasury Market Policy Explorer (model {MODEL_VERSION})"
        + (f", {caption}" if caption else "")
        + f".\nRun it with: python -m engine run --scenario {scenario.name}.toml"
    )
