"""AppTest of the policy-analysis page (ui/analysis.py): every view runs on its Run button with small
inputs (60 paths, a 3 x 3 map), shows the engine's numbers (the same engine call is made here and
formatted with briefing.numbers), offers a CSV, and raises nothing; a bad link value gets a message
naming its field; the progress callback stops a run on Cancel; the comparison link decodes."""

import tomllib
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pandas as pd
import pytest
from shown import shown
from streamlit.testing.v1 import AppTest

from briefing import analysis_charts as charts
from briefing.numbers import delta_unit, fmt_value
from engine import METRICS, MODEL_VERSION, assumption_bounds, scenario_names, simulate
from engine import analysis as an
from engine.study import parse_study
from engine.sweep import STAT_COLUMNS, run_base, run_study
from policy import get_preset, regime_value
from policy.query import decode_view
from ui import analysis as page
from ui import state as ui_state

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
PATHS = 60
SC = "march_2020"
METRIC = "peak_10y_yield_change_bp"
X, Y = page.MAP_X, page.MAP_Y


@pytest.fixture(scope="module")
def at() -> AppTest:
    page.RESULTS.clear()
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.switch_page("app_pages/analysis.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _open(at: AppTest, view: str) -> None:
    at.selectbox(key=page.K_VIEW).set_value(view).run()
    assert not at.exception, [e.value for e in at.exception]


def _run(at: AppTest, view: str, paths_key: str | None = None, **values) -> pd.DataFrame:
    """Set the form's widgets (by key) and press Run; returns the table shown."""
    at.number_input(key=paths_key or f"an.w.{view}.paths").set_value(PATHS)
    for key, value in values.items():
        widget = next(w for w in (*at.number_input, *at.selectbox, *at.checkbox, *at.multiselect) if w.key == key)
        widget.set_value(value)
    next(b for b in at.button if b.label == "Run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    labels = [d.proto.label for d in at.get("download_button")]
    assert "Download the table (CSV)" in labels
    assert "Download briefing pack (ZIP: PDF page, chart, CSV)" in labels  # after every view's run
    pack = next(d for d in at.get("download_button") if d.proto.label.startswith("Download briefing pack"))
    assert pack.proto.HasField("deferred_file_id")  # built on the click, not on every rerun of the view
    assert at.get("vega_lite_chart"), "no chart"
    return at.dataframe[0].value


def test_tornado(at):
    _open(at, "tornado")
    table = _run(at, "tornado", **{"an.w.tornado.assumptions": False})
    engine = an.tornado(SC, "all_guardrails", METRIC, assumptions=[], paths=PATHS, seed=0)
    unit = delta_unit(METRICS[METRIC].unit)
    assert list(table["Effect at the high end"]) == [fmt_value(v, unit, signed=True) for v in engine["high_effect"]]
    assert list(table["Rank"]) == list(engine["rank"])
    assert "an.view=tornado" in at.get("code")[0].proto.code_text


def test_tornado_in_chunks_equals_one_engine_call():
    inputs = {"scenario": "repo_spike_2019", "base": "status_quo", "metric": METRIC, "paths": 20, "seed": 1,
              "assumptions": True}
    mine = page.tornado_run(inputs, lambda done, total: None)
    engine = an.tornado("repo_spike_2019", "status_quo", METRIC, paths=20, seed=1)
    pd.testing.assert_frame_equal(mine, engine, check_dtype=False)


def test_attribution(at):
    _open(at, "attribution")
    table = _run(at, "attribution")
    engine = an.attribution(SC, "all_guardrails", "status_quo", metric=METRIC, paths=PATHS, seed=0)
    unit = delta_unit(METRICS[METRIC].unit)
    assert list(table["Shapley value (mean)"]) == [fmt_value(v, unit, signed=True) for v in engine["shapley_mean"]]


def test_amplification(at):
    _open(at, "amplification")
    table = _run(at, "amplification")
    engine = an.amplification(SC, "all_guardrails", paths=PATHS, seed=0)
    sub = engine[engine["metric"] == METRIC]
    assert list(table["Level (median)"]) == [fmt_value(v, "bp") for v in sub["level_p50"]]


def test_robustness(at):
    _open(at, "robustness")
    table = _run(at, "robustness", **{"an.w.rob.samples": 2})
    engine = an.robustness(SC, "all_guardrails", "status_quo", METRIC, samples=2, paths=PATHS, seed=0)
    assert table["Value"].iloc[0] == fmt_value(engine["base_difference"], "bp", signed=True)


def test_expected_cost(at):
    _open(at, "expected_cost")
    table = _run(at, "expected_cost", **{"an.w.cost.f": 0.1, "an.w.cost.loss": 100.0})
    names = ["status_quo", "clearing_rule", "all_guardrails"]
    result = simulate(SC, [get_preset(n) for n in names], paths=PATHS, seed=0)
    engine = an.expected_cost(result, episode_probability_per_year=0.1, loss_per_episode_usd_bn=100.0)
    assert list(table["Expected total cost ($bn/yr)"]) == [
        fmt_value(v, "$bn/yr") for v in engine["expected_total_cost_usd_bn_per_year"]]


def test_stress_grid(at):
    _open(at, "stress_grid")
    table = _run(at, "stress_grid")
    engine = an.stress_test_grid("all_guardrails", paths=PATHS, seed=0)
    assert list(table["Difference (median)"]) == [
        fmt_value(v, delta_unit(u), signed=True) for v, u in zip(engine["diff_p50"], engine["unit"], strict=True)]
    assert set(table["Scenario"]) == set(scenario_names())


def _study():
    return parse_study({
        "name": "policy_map_app", "scenarios": [SC], "paths": PATHS, "seed": 0, "base": "all_guardrails",
        "design": "grid", "factors": [{"name": X, "low": 5.0, "high": 43.0, "levels": 3},
                                      {"name": Y, "low": 0.0, "high": 4.75, "levels": 3}],
    })


def test_policy_map(at):
    _open(at, "map")
    levels = {f"an.w.map.{X}.levels": 3, f"an.w.map.{Y}.levels": 3}
    table = _run(at, "map", **levels)
    frame = run_study(_study())
    rows = frame[(frame["metric"] == METRIC) & (frame["point"] >= 0)]
    assert len(table) == 9
    assert sorted(table[f"{METRICS[METRIC].label}, median"]) == sorted(fmt_value(v, "bp") for v in rows["p50"])
    assert "Download the study (TOML)" in [d.proto.label for d in at.get("download_button")]
    # The TOML download is a study that reads back as the one run.
    assert parse_study(tomllib.loads(page.study_toml(_study()))) == _study()
    # The chosen point (the chooser, as a click on the map sets it) shows its regime as plain text.
    at.selectbox(key=page.K_OPEN).set_value(4).run()
    cells = charts.policy_map_frame(frame[frame["point"] >= 0], X, Y, METRIC)
    shown = " ".join(t.value for t in at.text)
    assert f"Point {cells.at[4, 'regime']}" in shown
    assert f"median {cells.at[4, 'value_text']} (5th-95th pct {cells.at[4, 'band_text']})" in shown
    assert any(b.label == "Open as a regime in the comparison" for b in at.button)


def test_map_selection_maps_to_the_clicked_cell():
    frame = run_study(_study())
    cells = charts.policy_map_frame(frame, X, Y, METRIC)
    row = 5
    name, x, y = cells.at[row, "regime"], float(cells.at[row, "x"]), float(cells.at[row, "y"])
    assert page.point_from_selection(cells, [{"regime": name, "x": x, "y": y}]) == row  # Streamlit's list
    assert page.point_from_selection(cells, {"regime": [name], "x": [x], "y": [y]}) == row  # Vega's store
    assert page.point_from_selection(cells, [{"x": x, "y": y}]) == row
    assert page.point_from_selection(cells, []) is None
    assert page.point_from_selection(cells, {}) is None
    assert page.point_from_selection(cells, [{"regime": "no_such_point"}]) is None
    assert page.point_from_selection(cells, [{"x": "a", "y": None}]) is None
    # The map's click selection reports exactly those fields.
    spec = charts.policy_map_chart(frame, X, Y, METRIC, select=page.MAP_SELECTION).to_dict()
    params = [p for p in spec.get("params", []) if p.get("name") == page.MAP_SELECTION]
    assert params and params[0]["select"]["fields"] == list(charts.MAP_SELECT_FIELDS)


def test_open_point_switches_to_the_comparison_with_its_levers():
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()  # the comparison first, so its session already holds a view
    app.switch_page("app_pages/analysis.py").run()
    _open(app, "map")
    _run(app, "map", **{f"an.w.map.{X}.levels": 3, f"an.w.map.{Y}.levels": 3})
    app.selectbox(key=page.K_OPEN).set_value(1).run()
    cells = charts.policy_map_frame(run_study(_study()), X, Y, METRIC)
    next(b for b in app.button if b.label == "Open as a regime in the comparison").click().run()
    assert not app.exception, [e.value for e in app.exception]
    view, messages = decode_view({k: app.query_params[k] for k in app.query_params}, scenarios=scenario_names(),
                                 assumption_ranges=assumption_bounds, model_version=MODEL_VERSION)
    assert messages == []
    assert [r.preset for r in view.regimes] == ["all_guardrails", "all_guardrails"]
    base = get_preset("all_guardrails")
    want = {p: float(cells.at[1, a]) for p, a in ((X, "x"), (Y, "y")) if float(cells.at[1, a]) != regime_value(base, p)}
    assert view.regimes[1].changes == want
    assert (view.scenario, view.paths, view.seed) == (SC, PATHS, 0)
    # The comparison page itself shows the point: its state is the link's, not the earlier view.
    assert app.session_state[ui_state.VIEW].regimes[1].changes == want


def test_frontier(at):
    _open(at, "frontier")
    levels = {f"an.w.map.{X}.levels": 3, f"an.w.map.{Y}.levels": 3}
    table = _run(at, "frontier", "an.w.map.paths", **levels)  # the two-lever study form is the map's
    study = _study()
    frame = run_study(study)
    rows = [frame[["scenario", "point", "regime", "metric", "p50"]]]
    p50 = STAT_COLUMNS.index("p50")
    for name in ("status_quo", "clearing_rule"):
        stats = run_base(page.resolve_scenario(SC), get_preset(name), paths=PATHS, seed=0, shock_scale=1.0,
                         assumptions={}, metrics=tuple(study.metrics))["stats"]
        rows.append(pd.DataFrame([{"scenario": SC, "point": -2, "regime": name, "metric": m,
                                   "p50": float(stats[j, p50])} for j, m in enumerate(study.metrics)]))
    engine = an.frontier(pd.concat(rows, ignore_index=True))
    assert list(table["Regime"]) == list(engine["regime"])
    assert list(table["Pareto-efficient"]) == ["yes" if e else "no" for e in engine["efficient"]]
    assert list(table["Peak 10y yield change (bp)"]) == [fmt_value(v, "bp") for v in engine[METRIC]]


def test_bad_link_values_name_the_field():
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update({"an.metric": "bogus", "an.regimes": "status_quo,nope", "an.view": "attribution"})
    app.switch_page("app_pages/analysis.py").run()  # the link opens the analysis page itself
    assert not app.exception, [e.value for e in app.exception]
    texts = " ".join(t.value for t in app.text)
    assert "an.metric: 'bogus' unknown" in texts
    assert "an.regimes: 'nope' is not a preset" in texts
    assert app.selectbox(key=page.K_VIEW).value == "attribution"  # the good values were used


def test_read_link_and_link_params_round_trip():
    params = page.link_params("robustness", SC, METRIC, ["all_guardrails", "status_quo"])
    got, messages = page.read_link(params)
    assert messages == []
    assert got == {"view": "robustness", "scenario": SC, "metric": METRIC, "regimes": ["all_guardrails", "status_quo"]}
    _, messages = page.read_link({"an.view": "x", "an.scenario": "y"})
    assert [m.split(":")[0] for m in messages] == ["an.view", "an.scenario"]
    got, messages = page.read_link(page.link_params("tornado", SC, METRIC, [], paths=300, seed=7))
    assert (got["paths"], got["seed"], messages) == (300, 7, [])
    _, messages = page.read_link({"an.paths": "5", "an.seed": "-1"})
    assert messages == ["an.paths: '5'; allowed: a whole number from 20 to 10,000",
                        "an.seed: '-1'; allowed: a whole number from 0 to 4,294,967,295"]
    _, messages = page.read_link({"an.paths": "9" * 5000})
    assert messages[0].startswith("an.paths: '9999") and "allowed: a whole number from 20 to 10,000" in messages[0]


def test_a_link_with_paths_and_seed_opens_the_view_with_them():
    link = page.link_params("amplification", SC, METRIC, ["all_guardrails"], paths=340, seed=11)
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update(link)
    app.switch_page("app_pages/analysis.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.number_input(key="an.w.amplification.paths").value == 340
    assert app.number_input(key="an.w.amplification.seed").value == 11
    assert _address_bar(app) == link


def test_progress_stops_on_cancel():
    class Bar:
        def __init__(self) -> None:
            self.calls: list[float] = []

        def progress(self, value, text=""):
            self.calls.append(value)

    bar = Bar()
    page.progress_fn(bar, lambda: False, "x")(1, 4)
    assert bar.calls == [0.25]
    with pytest.raises(page.RunCancelledError):
        page.progress_fn(bar, lambda: True, "x")(2, 4)


def test_compare_link_decodes_to_the_point():
    url = page.compare_link(SC, "all_guardrails", {X: 10.0, Y: 2.5}, paths=PATHS, seed=3, name="map_p0004")
    parts = urlsplit(url)
    assert parts.path.endswith("/compare")
    view, messages = decode_view(dict(parse_qsl(parts.query)), scenarios=scenario_names(),
                                 assumption_ranges=assumption_bounds, model_version=MODEL_VERSION)
    assert messages == []
    assert [r.preset for r in view.regimes] == ["all_guardrails", "all_guardrails"]
    assert view.regimes[1].changes == {X: 10.0, Y: 2.5}
    assert (view.paths, view.seed) == (PATHS, 3)


def _address_bar(app: AppTest) -> dict[str, str]:
    return {k: app.query_params[k] for k in app.query_params}


def test_link_restores_the_view_and_the_address_bar_follows_the_inputs():
    link = page.link_params("robustness", "repo_spike_2019", "trough_market_depth_usd_mn",
                            ["leverage_cap", "clearing_rule"])
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update(link)
    app.switch_page("app_pages/analysis.py").run()
    assert not app.exception, [e.value for e in app.exception]
    # Reading the link back restores the view's widgets ...
    assert app.selectbox(key=page.K_VIEW).value == "robustness"
    assert app.selectbox(key="an.w.rob.scenario").value == "repo_spike_2019"
    assert app.selectbox(key="an.w.rob.metric").value == "trough_market_depth_usd_mn"
    assert (app.selectbox(key="an.w.rob.a").value, app.selectbox(key="an.w.rob.b").value) == (
        "leverage_cap", "clearing_rule")
    # ... and the address bar holds exactly that link (nothing of another page's), with the view's
    # run settings (the defaults: the link named none).
    assert _address_bar(app) == link | {"an.paths": str(page.DEFAULT_PATHS), "an.seed": "0"}
    # Another view: the address bar becomes that view's link (the linked values it can use kept).
    _open(app, "tornado")
    assert _address_bar(app) == page.link_params("tornado", "repo_spike_2019", "trough_market_depth_usd_mn",
                                                 ["leverage_cap"], paths=page.DEFAULT_PATHS, seed=0)
    # A form's inputs, once submitted, are in the address bar too.
    app.selectbox(key="an.w.tornado.base").set_value("dealer_rule")
    app.selectbox(key="an.w.tornado.metric").set_value(METRIC)
    app.checkbox(key="an.w.tornado.assumptions").set_value(False)
    app.number_input(key="an.w.tornado.paths").set_value(20)
    next(b for b in app.button if b.label == "Run").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert _address_bar(app) == page.link_params("tornado", "repo_spike_2019", METRIC, ["dealer_rule"], paths=20, seed=0)
    # The link shown on the page is the address bar's.
    code = app.get("code")[-1].proto.code_text
    assert dict(parse_qsl(urlsplit(code).query)) == _address_bar(app)


def test_bad_link_values_are_dropped_from_the_address_bar():
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update({"an.view": "stress_grid", "an.regimes": "status_quo,<b>nope</b>"})
    app.switch_page("app_pages/analysis.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert "an.regimes: '<b>nope</b>' is not a preset" in " ".join(t.value for t in app.text)
    assert app.selectbox(key="an.w.grid.regime").value == "status_quo"
    assert _address_bar(app) == page.link_params("stress_grid", None, None, ["status_quo", "status_quo"],
                                                 paths=page.DEFAULT_PATHS, seed=0)


def _sync_script() -> None:
    """The map's click handling alone, on a real 3 x 3 sweep: the event as Streamlit hands it over."""
    import streamlit as st

    from briefing import analysis_charts as charts
    from engine.study import parse_study
    from engine.sweep import run_study
    from ui import analysis as page

    study = parse_study({"name": "sync", "scenarios": ["march_2020"], "paths": 20, "base": "all_guardrails",
                         "factors": [{"name": page.MAP_X, "low": 5.0, "high": 43.0, "levels": 3},
                                     {"name": page.MAP_Y, "low": 0.0, "high": 4.75, "levels": 3}]})
    cells = charts.policy_map_frame(run_study(study), page.MAP_X, page.MAP_Y, "peak_10y_yield_change_bp")
    page._sync_clicked_point(cells, st.session_state.get("event"))
    st.text(f"chosen={st.session_state.get(page.K_OPEN)}")


def test_only_a_new_click_moves_the_chooser():
    app = AppTest.from_function(_sync_script, default_timeout=60)

    def click(name: str | None) -> str:
        app.session_state["event"] = {"selection": {page.MAP_SELECTION: [] if name is None else [{"regime": name}]}}
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        return app.text[0].value

    assert click(None) == "chosen=None"
    assert click("p0005") == "chosen=5"
    app.session_state[page.K_OPEN] = 2  # a choice with the keyboard after the click ...
    assert click("p0005") == "chosen=2"  # ... is kept on reruns that bring the same selection
    assert click("p0007") == "chosen=7"  # a new click moves it
    assert click("no_such_point") == "chosen=7"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'name = "s"\nscenarios = ["march_2020"]\npaths = ' + b"9" * 5000 + b'\n[[factors]]\nname = "clearing.enabled"\n',
         "evil.toml: paths: a number too long to read"),
        (b'name = "s"\nscenarios = ["/etc/ssl/openssl.toml"]\n[[factors]]\nname = "clearing.enabled"\n',
         "is a file; allowed: in an uploaded study, the shipped scenario names"),
        (b"\xff\xfe\x00", "evil.toml: binary file"),
    ],
)
def test_a_hostile_uploaded_study_is_refused_with_one_line_and_the_page_keeps_working(content, words):
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.switch_page("app_pages/analysis.py").run()
    app.selectbox(key=page.K_VIEW).set_value("map").run()
    app.radio(key="an.w.map.mode").set_value("Upload a study (TOML)").run()
    app.file_uploader(key="an.w.map.upload").set_value(("evil.toml", content, "application/toml"))
    next(b for b in app.button if b.label == "Run").click().run()  # the uploader sits in the Run form
    assert not app.exception, [e.value for e in app.exception]
    errors = [shown(e.value) for e in app.error]
    assert len(errors) == 1 and words in errors[0], (errors, [i.value for i in app.info])
