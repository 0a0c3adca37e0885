"""AppTest of the scenario editor ("Build a shock") on a small page that places it as the app will.

The page runs the engine on `scenario_editor.active_scenario(view)` through `ui.runner.run_view`;
every expected number comes from `engine.simulate` on the same scenario object. No mocks.
"""

from pathlib import Path

import pytest
from shown import shown
from streamlit.testing.v1 import AppTest

from engine import load_scenario, simulate
from engine.scenario import history_files
from engine.scenario_edit import apply_edit, make_edit, scenario_to_toml
from policy.query import MAX_LINK_SCENARIO_CHARS, ViewState, regimes_from_view
from ui import scenario_editor

PATHS = 40
PAGE = '''
import streamlit as st

from policy.query import regimes_from_view
from ui import scenario_editor, state
from ui.runner import run_view

state.init_session()
for message in st.session_state.get(state.URL_MESSAGES, []):
    st.warning(f"Link: {message}")
state.seed_widgets()
st.selectbox("Stress scenario", state.scenario_options(), key=state.K_SCENARIO, on_change=state.on_scenario_change)
if st.session_state.get("show_editor", True):  # as a lazy expander or popover would
    with st.expander("Build a shock: edit the scenario", expanded=True):
        scenario_editor.render()
view = state.read_widgets()
state.commit(view)
scenario = scenario_editor.active_scenario(view)
result = run_view(scenario, regimes_from_view(view), paths=view.paths, seed=view.seed,
                  shock_scale=view.shock_scale, assumptions=view.assumptions)
st.session_state["_ran"] = result.scenario
first = result.regime_names[0]
st.metric("Peak 10y change", f"{result.summary()[first]['peak_10y_yield_change_bp']['p50']:.9f}")
'''


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("editor") / "editor_page.py"
    path.write_text(PAGE)
    return str(path)


def _open(page: str, params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(page, default_timeout=60)
    at.query_params.update({"n": str(PATHS), "sc": "foreign_selloff_2026", **(params or {})})
    at.run()
    _ok(at)
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _view(at: AppTest) -> ViewState:
    return at.session_state["_view"]


def _expected_metric(view: ViewState) -> str:
    result = simulate(
        scenario_editor.active_scenario(view), regimes_from_view(view), paths=view.paths, seed=view.seed,
        shock_scale=view.shock_scale, assumptions=view.assumptions,
    )
    return f"{result.summary()[result.regime_names[0]]['peak_10y_yield_change_bp']['p50']:.9f}"


def _query(at: AppTest) -> dict[str, str]:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def _apply(at: AppTest) -> None:
    at.button(key="b.se.apply").click().run()
    _ok(at)


def _events_key(at: AppTest) -> str:
    return f"w.se.events.{at.session_state['_se_events_nonce']}"


def test_the_editor_shows_the_shipped_scenario_with_the_models_bounds(page):
    at = _open(page)
    inputs = {n.key: n for n in at.number_input}
    base = load_scenario("foreign_selloff_2026")
    assert inputs["w.se.sales.foreign_official"].value == 300.0 and inputs["w.se.days"].value == base.default_days
    assert (inputs["w.se.sales.treasury"].min, inputs["w.se.sales.treasury"].max) == (0.0, 5000.0)
    assert (inputs["w.se.vol"].min, inputs["w.se.vol"].max) == (0.5, 3.0)
    assert (inputs["w.se.days"].min, inputs["w.se.days"].max) == (1, 250)
    assert len(at.data_editor) == 1 and list(at.data_editor[0].value["label"]) == [e.label for e in base.events]
    assert at.session_state["_ran"] == base and at.metric[0].value == _expected_metric(_view(at))
    assert not at.error and not at.warning


def test_apply_changes_the_active_scenario_the_view_and_the_link(page):
    at = _open(page)
    before = at.metric[0].value
    at.number_input(key="w.se.sales.foreign_official").set_value(600.0)
    at.number_input(key="w.se.days").set_value(30)
    at.number_input(key="w.se.vol").set_value(1.5)
    _apply(at)
    view = _view(at)
    assert view.scenario_edit == {"days": "30", "sales.foreign_official": "600", "vol": "1.5"}
    base = load_scenario("foreign_selloff_2026")
    expected = apply_edit(base, make_edit(base, sales_usd_bn={"foreign_official": 600.0}, days=30, volatility_scale=1.5))
    assert at.session_state["_ran"] == expected
    assert at.metric[0].value == _expected_metric(view) != before
    query = _query(at)
    assert query["se.sales.foreign_official"] == "600" and query["se.days"] == "30" and query["se.vol"] == "1.5"
    assert any("foreign official sales $600bn (was $300bn)" in c.value for c in at.caption)
    # the same link opens the same edited scenario in a new session
    again = _open(page, {k: v for k, v in query.items() if k.startswith("se.")})
    assert again.session_state["_ran"] == expected and again.metric[0].value == at.metric[0].value

    at.button(key="b.se.reset").click().run()
    _ok(at)
    assert _view(at).scenario_edit == {} and at.session_state["_ran"] == base
    assert not any(k.startswith("se.") for k in _query(at))
    assert at.number_input(key="w.se.sales.foreign_official").value == 300.0


def test_events_are_edited_in_the_data_editor(page):
    at = _open(page)
    at.session_state[_events_key(at)] = {
        "edited_rows": {0: {"label": "Sanctions announced"}},
        "added_rows": [{"day": 30, "label": "Swap lines"}],
        "deleted_rows": [1],
    }
    _apply(at)
    assert _view(at).scenario_edit == {"ev0": "1:Sanctions announced", "ev1": "30:Swap lines"}
    assert [(e.day, e.label) for e in at.session_state["_ran"].events] == [(1, "Sanctions announced"), (30, "Swap lines")]


@pytest.mark.parametrize(
    ("edits", "words"),
    [
        (
            {"added_rows": [{"day": 45, "label": "late"}]},
            "events.2.day: day 45 is beyond the 40-day horizon; allowed: a whole number from 0 to 40",
        ),
        ({"added_rows": [{"day": 3, "label": "x" * 61}]}, "events.2.label: String should have at most 60 characters"),
        ({"added_rows": [{"day": 3}]}, "events row 3: needs both a day and a label"),
    ],
)
def test_a_bad_value_shows_the_field_and_range_and_keeps_the_previous_scenario(page, edits, words):
    at = _open(page)
    at.number_input(key="w.se.sales.mutual_funds").set_value(150.0)
    _apply(at)
    before, ran, metric = _view(at), at.session_state["_ran"], at.metric[0].value
    at.session_state[_events_key(at)] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [], **edits}
    at.number_input(key="w.se.sales.foreign_official").set_value(900.0)
    _apply(at)
    errors = [shown(e.value) for e in at.error]
    assert len(errors) == 1 and words in errors[0] and errors[0].startswith("Scenario not changed: "), errors
    assert _view(at) == before and at.session_state["_ran"] == ran and at.metric[0].value == metric
    # the form keeps what the user typed, so nothing is lost
    assert at.number_input(key="w.se.sales.foreign_official").value == 900.0


def test_a_new_base_scenario_drops_the_edits(page):
    at = _open(page)
    at.number_input(key="w.se.days").set_value(12)
    _apply(at)
    assert _view(at).scenario_edit == {"days": "12"}
    at.selectbox(key="w.sc").set_value("march_2020").run()
    _ok(at)
    assert _view(at).scenario == "march_2020" and _view(at).scenario_edit == {}
    assert at.session_state["_ran"] == load_scenario("march_2020")
    assert at.number_input(key="w.se.days").value == 30  # the form shows the new scenario


def test_an_upload_that_is_an_edit_becomes_readable_link_parameters(page):
    at = _open(page)
    base = load_scenario("foreign_selloff_2026")
    edited = apply_edit(base, make_edit(base, sales_usd_bn={"treasury": 75.0}, fundamental_scale=0.5))
    at.file_uploader(key="w.se.upload.0").set_value(("mine.toml", scenario_to_toml(edited).encode(), "application/toml")).run()
    _ok(at)
    assert not at.error
    assert _view(at).scenario_edit == {"sales.treasury": "75", "fund": "0.5"} and _view(at).custom_scenario is None
    assert at.session_state["_ran"] == edited and at.metric[0].value == _expected_metric(_view(at))
    assert any("Loaded mine.toml" in shown(s.value) for s in at.success)


def test_an_upload_of_another_scenario_travels_whole(page):
    at = _open(page)
    mine = load_scenario("march_2020").model_copy(update={"name": "my_march", "title": "My March"})
    at.file_uploader(key="w.se.upload.0").set_value(("my.toml", scenario_to_toml(mine).encode(), "application/toml")).run()
    _ok(at)
    view = _view(at)
    assert view.custom_scenario is not None and view.scenario_edit == {} and view.scenario == "foreign_selloff_2026"
    assert at.session_state["_ran"] == mine and at.metric[0].value == _expected_metric(view)
    assert _query(at)["sx"] == view.custom_scenario and not at.warning
    # editing an uploaded scenario keeps it whole (a new blob)
    at.number_input(key="w.se.days").set_value(10)
    _apply(at)
    assert _view(at).custom_scenario != view.custom_scenario and at.session_state["_ran"].default_days == 10
    assert at.session_state["_ran"].name == "my_march_edited"


def test_a_bad_upload_names_the_field_and_keeps_the_scenario(page):
    at = _open(page)
    before, ran = _view(at), at.session_state["_ran"]
    text = scenario_to_toml(load_scenario("march_2020")).replace("history/march_2020.csv", "../../etc/passwd")
    at.file_uploader(key="w.se.upload.0").set_value(("evil.toml", text.encode(), "application/toml")).run()
    _ok(at)
    errors = " ".join(shown(e.value) for e in at.error)
    assert "evil.toml: history: " in errors and "allowed: " + ", ".join(history_files()) in errors
    assert _view(at) == before and at.session_state["_ran"] == ran
    at.file_uploader(key="w.se.upload.0").set_value(("bin.toml", b"\xff\xfe\x00", "application/toml")).run()
    _ok(at)
    assert "bin.toml: binary file" in " ".join(shown(e.value) for e in at.error) and _view(at) == before


def test_a_scenario_too_large_for_the_link_is_offered_as_a_file(page):
    at = _open(page)
    words = " ".join(f"w{i * 7919 % 100003}" for i in range(2500))
    big = load_scenario("foreign_selloff_2026").model_copy(update={"name": "big_one", "description": words})
    at.file_uploader(key="w.se.upload.0").set_value(("big.toml", scenario_to_toml(big).encode(), "application/toml")).run()
    _ok(at)
    view = _view(at)
    assert view.custom_scenario is not None and len(view.custom_scenario) > MAX_LINK_SCENARIO_CHARS
    assert "sx" not in _query(at) and at.session_state["_ran"] == big
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and "too large for a link" in warnings[0] and "download it as a file" in warnings[0]
    assert at.get("download_button"), "the scenario can be downloaded"


def test_bad_edit_links_warn_and_keep_the_rest(page):
    at = _open(page, {"se.vol": "99", "se.days": "20", "se.bogus": "1"})
    warnings = " ".join(w.value for w in at.warning)
    assert "se.vol: '99' ignored; allowed: a number from 0.5 to 3 (x)" in warnings
    assert "se.bogus: unknown link parameter ignored" in warnings
    assert _view(at).scenario_edit == {"days": "20"} and at.session_state["_ran"].default_days == 20


def test_the_real_app_keeps_edit_parameters_in_its_link():
    app = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
    at = AppTest.from_file(app, default_timeout=60)
    at.query_params.update({"n": str(PATHS), "sc": "foreign_selloff_2026", "se.days": "20", "se.vol": "1.5"})
    at.run()
    _ok(at)
    assert _view(at).scenario_edit == {"days": "20", "vol": "1.5"}
    assert _query(at)["se.days"] == "20" and _query(at)["se.vol"] == "1.5"


def test_the_form_shows_the_active_scenario_after_it_was_hidden(page):
    at = _open(page)
    at.number_input(key="w.se.days").set_value(12)
    at.number_input(key="w.se.sales.treasury").set_value(20.0)
    _apply(at)
    at.session_state["show_editor"] = False
    at.run()
    _ok(at)
    assert _view(at).scenario_edit == {"days": "12", "sales.treasury": "20"}  # the edit stays in force
    at.session_state["show_editor"] = True
    at.run()
    _ok(at)
    assert at.number_input(key="w.se.days").value == 12 and at.number_input(key="w.se.sales.treasury").value == 20.0
    _apply(at)  # applying again without changes keeps the edit
    assert _view(at).scenario_edit == {"days": "12", "sales.treasury": "20"}
