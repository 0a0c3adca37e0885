"""AppTest: every widget group drives the live engine, and the app shows what the engine returns.

No mocks and no fixed numbers: each expected value comes from `engine.simulate` with the same
inputs, formatted by the app's own display function.
"""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from briefing.numbers import delta_unit, fmt_value
from engine import METRICS, MODEL_VERSION, assumption_bounds, simulate
from engine.dynamics import SERIES
from policy import get_preset, lever_specs, preset_names
from policy.query import QUERY_VERSION, ViewState, decode_view, encode_view, regimes_from_view
from ui.compare import CARD_METRICS, FAN_SERIES
from ui.state import DEFAULT_SCENARIO, scenario_options

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


def test_default_scenario_is_march_2020_and_placebos_come_last(shared):
    assert _view(shared).scenario == DEFAULT_SCENARIO == "march_2020"
    options = shared.selectbox(key="w.sc").options
    titles = [o for o in options if "placebo" in o.lower()]
    assert len(titles) == 2 and options[-2:] == titles  # listed, but after the stress scenarios
    assert scenario_options()[-2:] == ["repo_spike_2019", "term_premium_2023"]


def test_cards_show_dysfunction_next_to_breakdown(shared):
    labels = [m.label for m in shared.metric][: len(CARD_METRICS)]
    assert "Breakdown probability" in labels and "Dysfunction probability" in labels
    assert labels.index("Breakdown probability") == labels.index("Dysfunction probability") + 1
    assert METRICS["broken_market_probability_pct"].label == "Breakdown probability"


def test_model_version_is_shown(shared):
    captions = " ".join(c.value for c in shared.caption)
    assert f"model {MODEL_VERSION}" in captions.lower() and f"link format {QUERY_VERSION}" in captions
    link = next(c.value for c in shared.code if "sc=" in c.value)
    assert f"mv={MODEL_VERSION}" in link and f"v={QUERY_VERSION}" in link
    assert shared.query_params["mv"] in (MODEL_VERSION, [MODEL_VERSION])


def test_fan_chart_offers_the_new_series(shared):
    at = shared
    for series in ("yield_30y_change_bp", "long_dislocation_bp", "dealer_long_utilization_pct", "dealer_inventory_usd_bn"):
        assert series in FAN_SERIES
    assert set(FAN_SERIES) == set(SERIES)
    at.selectbox(key="w.series").set_value("dealer_inventory_usd_bn").run()
    assert not at.exception, [e.value for e in at.exception]
    spec = at.get("vega_lite_chart")[0].proto.spec
    assert "Dealer Treasury inventory added since day 0" in spec
    at.selectbox(key="w.series").set_value(FAN_SERIES[0]).run()
    _check(at)


def test_market_functioning_tab():
    at = _app()
    at.session_state["t.results"] = "Market functioning"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    spec = at.get("vega_lite_chart")[0].proto.spec
    assert "Market functioning" in spec and "Breakdown (beyond anything observed)" in spec


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
    at.slider(key=f"w.r{uid}.clearing.haircut_floor_pct").set_value(4.0).run()
    at.slider(key="w.sev").set_value(1.5).run()
    view = _view(at)
    params = encode_view(view, model_version=MODEL_VERSION)
    assert dict(at.query_params) == {k: [v] for k, v in params.items()} or all(
        at.query_params[k] in (v, [v]) for k, v in params.items()
    )
    fresh = _app(params)
    assert _view(fresh) == view
    _check(fresh)
    decoded, messages = decode_view(params, scenarios=scenario_options(), assumption_ranges=assumption_bounds,
                                    model_version=MODEL_VERSION, default_scenario=DEFAULT_SCENARIO)
    assert decoded == view and messages == []


def test_bad_url_values_warn_and_keep_the_rest():
    at = _app({"sc": "april_2025", "sev": "nan", "r0": "status_quo", "r0.clearing.haircut_floor_pct": "99",
               "r1": "nonsense", "r7": "status_quo", "v": "2"})
    warnings = " ".join(w.value for w in at.warning)
    assert "sev" in warnings and "0 to 5" in warnings
    assert "r0.clearing.haircut_floor_pct" in warnings and "0 to 10" in warnings
    assert "r1: unknown preset" in warnings
    assert "too many regimes" in warnings
    view = _check(at)
    assert view.scenario == "april_2025"


def test_new_presets_are_selectable():
    at = _app()
    uid = _uid(at, 1)
    options = at.selectbox(key=f"w.r{uid}.preset").options
    assert {"no_fed_backstop", "as_of_september_2019"} <= set(options) and list(options) == preset_names()
    at.selectbox(key=f"w.r{uid}.preset").set_value("no_fed_backstop").run()
    view = _check(at)
    assert view.regimes[1].preset == "no_fed_backstop" and view.regimes[1].name == "no_fed_backstop"
    assert view.regimes[1].changes == {}
    assert regimes_from_view(view)[1] == get_preset("no_fed_backstop")
    fed = next(m for m in at.metric[len(CARD_METRICS):] if m.label == METRICS["fed_purchases_usd_bn"].label)
    assert fed.value == fmt_value(0.0, "$bn")  # no backstop: no purchases, whatever happens
    at.session_state[f"x.other.{uid}"] = True
    at.run()
    assert at.toggle(key=f"w.r{uid}.fed_backstop.enabled").value is False
    at.selectbox(key=f"w.r{uid}.preset").set_value("as_of_september_2019").run()
    view = _check(at)
    assert view.regimes[1].preset == "as_of_september_2019"
    assert at.query_params["r1"] in ("as_of_september_2019", ["as_of_september_2019"])


def test_an_old_v1_link_opens_with_a_message_and_the_app_keeps_running():
    # A link as the model-0.1 app wrote it: format 1, no mv, the old lever names.
    old = {"v": "1", "sc": "april_2025", "sev": "1.2", "seed": "3", "r0": "status_quo",
           "r1": "clearing_rule", "r1.name": "floor3", "r1.clearing.margin_floor_pct": "3",
           "r2": "leverage_cap", "r2.leverage_cap.max_leverage_x": "8"}
    at = _app(old)
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 3, warnings
    assert "model 0.1" in warnings[0] and "link format 1" in warnings[0] and "may differ" in warnings[0]
    assert "fed_backstop.threshold_bp 35 -> 25" in warnings[0]
    assert any("r1.clearing.margin_floor_pct" in w and "renamed r1.clearing.haircut_floor_pct" in w for w in warnings)
    assert any("r2.leverage_cap.max_leverage_x" in w and "not converted" in w for w in warnings)
    view = _check(at)  # the cards are the engine's for the restored view
    assert (view.scenario, view.shock_scale, view.seed) == ("april_2025", 1.2, 3)
    assert [r.name for r in view.regimes] == ["status_quo", "floor3", "leverage_cap"]
    assert view.regimes[1].changes == {"clearing.haircut_floor_pct": 3.0}
    uid = _uid(at, 1)
    assert at.slider(key=f"w.r{uid}.clearing.haircut_floor_pct").value == 3.0
    # The URL is rewritten in today's format, and the app goes on working.
    assert at.query_params["v"] in ("2", ["2"]) and at.query_params["mv"] in (MODEL_VERSION, [MODEL_VERSION])
    assert "r1.clearing.margin_floor_pct" not in at.query_params
    at.slider(key="w.sev").set_value(1.0).run()
    assert _check(at).shock_scale == 1.0


def test_a_link_from_another_model_version_says_numbers_may_differ():
    at = _app({"v": "2", "mv": "1.9.0", "sc": "april_2025", "r0": "status_quo"})
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and "1.9.0" in warnings[0] and MODEL_VERSION in warnings[0] and "may differ" in warnings[0]
    assert _check(at).scenario == "april_2025"


def test_bad_upload_shows_the_field_and_keeps_state():
    at = _app()
    uid = _uid(at, 1)
    at.slider(key="w.sev").set_value(1.3).run()
    before = _view(at)
    bad = b'{"name": "x", "clearing": {"haircut_floor_pct": 50}}'
    at.file_uploader(key=f"w.r{uid}.upload.0").set_value(("bad.json", bad, "application/json")).run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "bad.json" in errors and "clearing.haircut_floor_pct" in errors and "0 to 10" in errors
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
    limits = " ".join(m.value for m in at.markdown)
    assert "dated (historical) Fed purchase schedule" in limits and "scaled with the shock" in limits
    assert "responds by itself" in limits and "Known limits" not in limits.split("\n")[0]
    at.session_state["t.method"] = "Backtest"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert {"Episode", "Quantity", "Kind", "Observed", "Model median", "Within band", "Source"} <= set(table.columns)
    from engine.backtest import backtest

    bt = backtest(paths=200, seed=0)
    assert len(table) == len(bt.table())
    assert "March 2020: the dash for cash" in set(table["Episode"])
    assert set(table["Kind"]) <= {"output", "partly inherited"}
    assert all(isinstance(x, str) for x in table["Model median"])  # rounded, with units
    assert len(at.get("vega_lite_chart")) == 1
    assert any("RMSE" in " ".join(d.value.columns) for d in at.dataframe[1:])
    at.segmented_control(key="w.bt_mode").set_value("proxy_beta").run()
    assert not at.exception, [e.value for e in at.exception]
    proxied = at.dataframe[0].value
    assert len(proxied) == len(table) and not proxied["Model median"].equals(table["Model median"])
    at.toggle(key="w.sens").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    from engine.sensitivity import tuned_parameters

    assert not at.error, [e.value for e in at.error]
    sens = next(d.value for d in at.dataframe if "Parameter" in d.value.columns)
    assert set(sens["Parameter"]) <= set(tuned_parameters()) and len(sens)
    assert {"Model at range low", "Model at range high", "Tuned to"} <= set(sens.columns)
    at.session_state["t.method"] = "Calibrated parameters"
    at.run()
    for era in ("2019", "2023"):
        at.segmented_control(key="w.era").set_value(era).run()
        assert not at.exception, [e.value for e in at.exception]
        assert len(at.dataframe[0].value) > 0
    at.session_state["t.method"] = "Policy levers"
    at.run()
    assert len(at.dataframe[0].value) == len(lever_specs())
    at.switch_page("app_pages/compare.py").run()  # state survives the page switch
    _check(at)
