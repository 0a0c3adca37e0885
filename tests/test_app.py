"""AppTest: every widget group drives the live engine, and the app shows what the engine returns.

No mocks and no fixed numbers: each expected value comes from `engine.simulate` with the same
inputs, formatted by the app's own display function.
"""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import METRICS, assumption_bounds, scenario_names, simulate
from policy import lever_specs
from policy.query import ViewState, decode_view, encode_view, regimes_from_view
from ui.compare import CARD_METRICS
from ui.fmt import delta_unit, fmt_value

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
PATHS = 100


def _app(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params.update({"n": str(PATHS), **(params or {})})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _view(at: AppTest) -> ViewState:
    return at.session_state["_view"]


def _cards(at: AppTest) -> list[tuple[str, str, str]]:
    return [(m.label, m.value, m.delta) for m in at.metric]


def _expected_cards(view: ViewState) -> list[tuple[str, str, str]]:
    result = simulate(
        view.scenario,
        regimes_from_view(view),
        paths=view.paths,
        seed=view.seed,
        shock_scale=view.shock_scale,
        assumptions=view.assumptions,
    )
    summary = result.summary()
    names = result.regime_names
    out = []
    for name in names:
        for metric, _ in CARD_METRICS:
            spec = METRICS[metric]
            delta = ""
            if name != names[0]:
                change = summary[name][metric]["p50"] - summary[names[0]][metric]["p50"]
                delta = fmt_value(change, delta_unit(spec.unit), signed=True)
            out.append((spec.label, fmt_value(summary[name][metric]["p50"], spec.unit), delta))
    return out


def _check(at: AppTest) -> ViewState:
    assert not at.exception, [e.value for e in at.exception]
    view = _view(at)
    assert _cards(at) == _expected_cards(view)
    return view


def _uid(at: AppTest, index: int) -> int:
    return at.session_state["_uids"][index]


def _open(at: AppTest, key: str) -> None:
    """Open a lazy expander (its content renders only while open)."""
    for _ in range(3):  # AppTest may report the expander's old (closed) state on the first run
        at.session_state[key] = True
        at.run()
        if at.session_state[key]:
            return
    raise AssertionError(f"expander {key} did not open")


@pytest.fixture(scope="module")
def shared() -> AppTest:
    return _app()


def test_default_view_matches_the_engine(shared):
    view = _check(shared)
    assert [r.preset for r in view.regimes] == ["status_quo", "clearing_rule"]
    assert len(shared.get("vega_lite_chart")) == 1
    assert not shared.warning


def test_scenario_severity_paths_seed(shared):
    at = shared
    at.selectbox(key="w.sc").set_value("april_2025").run()
    assert _check(at).scenario == "april_2025"
    at.slider(key="w.sev").set_value(2.0).run()
    assert _check(at).shock_scale == 2.0
    at.number_input(key="w.seed").set_value(7).run()
    assert _check(at).seed == 7
    at.number_input(key="w.n").set_value(150).run()
    assert _check(at).paths == 150


@pytest.mark.parametrize(
    "group", ["clearing", "dealer_rule", "leverage_cap", "leverage_ratio_relief", "standing_repo",
              "fed_backstop", "futures_margin", "foreign_demand"],
)
def test_a_lever_of_each_group(group):
    at = _app()
    uid = _uid(at, 1)
    spec = next(s for s in lever_specs() if s.group == group and s.type in ("float", "int"))
    key = f"w.r{uid}.{spec.path}"
    at.session_state[f"x.other.{uid}"] = True  # open the "more levers" expander (rendered only when open)
    at.run()
    switch = f"w.r{uid}.{group}.enabled"
    switched = any(s.path == f"{group}.enabled" for s in lever_specs()) and not at.toggle(key=switch).value
    if switched:  # a rule that is off shows only its switch: turn it on first
        assert not [w for w in at.slider if w.key == key]
        at.toggle(key=switch).set_value(True)
        at.session_state[f"x.other.{uid}"] = True
        at.run()
    current = at.slider(key=key).value
    new = spec.max if current != spec.max else spec.min
    new = int(new) if spec.type == "int" else float(new)
    at.slider(key=key).set_value(new)
    at.session_state[f"x.other.{uid}"] = True  # AppTest does not keep an expander open by itself
    at.run()
    view = _check(at)
    assert view.regimes[1].changes[spec.path] == new
    _open(at, f"x.other.{uid}")
    assert f"({1 + switched})" in at.button(key=f"b.reset.{uid}").label
    assert "●" in at.slider(key=key).label  # changed levers are marked
    at.session_state[f"x.other.{uid}"] = False  # closed: the change stays in the view and the URL
    at.run()
    assert _check(at).regimes[1].changes[spec.path] == new


def test_toggle_choice_reset_and_preset():
    at = _app()
    uid = _uid(at, 0)
    at.toggle(key=f"w.r{uid}.leverage_cap.enabled").set_value(True).run()
    at.selectbox(key=f"w.r{uid}.leverage_cap.enforcement").set_value("daily").run()
    view = _check(at)
    assert view.regimes[0].changes == {"leverage_cap.enabled": True, "leverage_cap.enforcement": "daily"}
    at.button(key=f"b.reset.{uid}").click().run()
    view = _check(at)
    assert view.regimes[0].changes == {}
    assert at.toggle(key=f"w.r{uid}.leverage_cap.enabled").value is False
    at.selectbox(key=f"w.r{uid}.preset").set_value("dealer_rule").run()
    view = _check(at)
    assert view.regimes[0].preset == "dealer_rule" and view.regimes[0].name == "dealer_rule"
    assert at.toggle(key=f"w.r{uid}.dealer_rule.enabled").value is True


def test_add_rename_and_remove_regimes():
    at = _app()
    at.button(key="b.add").click().run()
    at.button(key="b.add").click().run()
    view = _check(at)
    assert len(view.regimes) == 4
    assert at.button(key="b.add").disabled
    uid = _uid(at, 3)
    at.text_input(key=f"w.r{uid}.name").input("tight cap").run()
    assert _check(at).regimes[3].name == "tight cap"
    at.text_input(key=f"w.r{uid}.name").input("status_quo").run()  # duplicate: refused, visible message
    assert any("already used" in e.value for e in at.error)
    assert _check(at).regimes[3].name == "tight cap"
    at.button(key=f"b.remove.{_uid(at, 1)}").click().run()
    view = _check(at)
    assert [r.name for r in view.regimes] == ["status_quo", view.regimes[1].name, "tight cap"]


def test_assumptions_are_passed_to_the_engine():
    at = _app()
    at.session_state["x.assumptions"] = True  # open the assumptions panel
    at.run()
    key = "w.a.dislocation_slope_bp"
    slider = at.slider(key=key)
    new = slider.max if slider.value != slider.max else slider.min
    slider.set_value(new)
    at.session_state["x.assumptions"] = True
    at.run()
    view = _check(at)
    assert view.assumptions == {"dislocation_slope_bp": new}
    _open(at, "x.assumptions")
    at.button(key="b.reset.a").click().run()
    assert _check(at).assumptions == {}


def test_summary_table_has_every_metric():
    at = _app()
    at.session_state["t.results"] = "All metrics"
    at.run()
    assert not at.exception
    frames = [d.value for d in at.dataframe]
    assert frames, "summary table not shown"
    table = frames[0]
    assert list(table["metric"]) == [m.label for m in METRICS.values()]
    view = _view(at)
    result = simulate(view.scenario, regimes_from_view(view), paths=view.paths, seed=view.seed)
    summary = result.summary()
    for name in result.regime_names:
        for i, metric in enumerate(METRICS):
            assert table[f"{name} median"][i] == pytest.approx(summary[name][metric]["p50"])


def test_url_round_trip_restores_the_view():
    at = _app()
    uid = _uid(at, 1)
    at.slider(key=f"w.r{uid}.clearing.margin_floor_pct").set_value(4.0).run()
    at.slider(key="w.sev").set_value(1.5).run()
    view = _view(at)
    params = encode_view(view)
    assert dict(at.query_params) == {k: [v] for k, v in params.items()} or all(
        at.query_params[k] in (v, [v]) for k, v in params.items()
    )
    fresh = _app(params)
    assert _view(fresh) == view
    _check(fresh)
    assert decode_view(params, scenarios=scenario_names(), assumption_ranges=assumption_bounds)[0] == view


def test_bad_url_values_warn_and_keep_the_rest():
    at = _app({"sc": "april_2025", "sev": "nan", "r0": "status_quo", "r0.clearing.margin_floor_pct": "99",
               "r1": "nonsense", "r7": "status_quo", "v": "1"})
    warnings = " ".join(w.value for w in at.warning)
    assert "sev" in warnings and "0 to 5" in warnings
    assert "r0.clearing.margin_floor_pct" in warnings and "0 to 10" in warnings
    assert "r1: unknown preset" in warnings
    assert "too many regimes" in warnings
    view = _check(at)
    assert view.scenario == "april_2025"


def test_bad_upload_shows_the_field_and_keeps_state():
    at = _app()
    uid = _uid(at, 1)
    at.slider(key="w.sev").set_value(1.3).run()
    before = _view(at)
    bad = b'{"name": "x", "clearing": {"margin_floor_pct": 50}}'
    at.file_uploader(key=f"w.r{uid}.upload.0").set_value(("bad.json", bad, "application/json")).run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "bad.json" in errors and "clearing.margin_floor_pct" in errors and "0 to 10" in errors
    assert _view(at) == before
    _check(at)


def test_good_upload_replaces_the_regime():
    at = _app()
    uid = _uid(at, 1)
    good = b'{"name": "uploaded", "dealer_rule": {"enabled": true, "covered_share_pct": 80}}'
    at.file_uploader(key=f"w.r{uid}.upload.0").set_value(("mine.json", good, "application/json")).run()
    view = _check(at)
    assert view.regimes[1].name == "uploaded"
    assert view.regimes[1].changes.get("dealer_rule.covered_share_pct") == 80.0


def test_methodology_page_renders():
    at = _app()
    at.switch_page("app_pages/methodology.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Methodology" in t.value for t in at.title)
    assert at.markdown  # equations
    for label in ("Calibrated parameters", "Policy levers", "Summary metrics", "Known limits"):
        at.session_state["t.method"] = label
        at.run()
        assert not at.exception, (label, [e.value for e in at.exception])
    at.session_state["t.method"] = "Backtest"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert {"episode", "history", "model_p50", "within_band"} <= set(at.dataframe[0].value.columns)
    assert len(at.get("vega_lite_chart")) == 1
    at.toggle(key="w.sens").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    sens = at.dataframe[1].value
    assert {"dealer_capacity_usd_bn", "volatility_feedback"} <= set(sens["parameter"])
    assert (sens["tuned_to"].str.contains("March 2020")).all()
    at.session_state["t.method"] = "Policy levers"
    at.run()
    assert len(at.dataframe[0].value) == len(lever_specs())
    at.switch_page("app_pages/compare.py").run()  # state survives the page switch
    _check(at)
