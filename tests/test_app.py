"""AppTest: every control of the comparison page drives the live engine, and the page shows what
the engine returns.

No mocks and no strings built with the app's formatter: each number in the comparison table is
parsed back from the rendered HTML and compared with `engine.simulate` for the same inputs, within
the rounding the table promises (whole numbers from 100, one decimal from 1, two below).
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from shown import shown
from streamlit.testing.v1 import AppTest

from briefing.headline import HEADLINE
from engine import METRICS, MODEL_VERSION, assumption_bounds, simulate
from engine.metrics import EXCEEDANCES
from engine.scenario_edit import resolve_edited
from policy import get_preset, lever_specs, preset_names
from policy.query import QUERY_VERSION, ViewState, decode_view, encode_view, regimes_from_view
from ui.state import DEFAULT_SCENARIO, scenario_options
from ui.text import GROUPS

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
PATHS = 100
NUMBER = re.compile(r"[-+]?\$?\d[\d,]*(?:\.\d+)?")


def _app(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"n": str(PATHS), **(params or {})})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _view(at: AppTest) -> ViewState:
    return at.session_state["_view"]


def _uid(at: AppTest, index: int) -> int:
    return at.session_state["_uids"][index]


class _Table(HTMLParser):
    """Rows of the comparison table: [label text, cell text per regime]."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tones: list[list[str]] = []
        self._cell: list[str] | None = None
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
            self.tones.append([])
        elif tag == "td" and self._in_body:
            self._cell = []
        elif self._cell is not None and "class" in attrs:
            for tone in ("better", "worse", "neutral"):
                if tone in attrs["class"].split():
                    self.tones[-1].append(tone)

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data + " ")


def _table(at: AppTest) -> _Table:
    bodies = [h.proto.body for h in at.get("html") if "<table class=\"tmpe-cmp\"" in h.proto.body]
    assert len(bodies) == 1, "the comparison table is shown once"
    parser = _Table()
    parser.feed(bodies[0])
    return parser


def _numbers(text: str) -> list[float]:
    return [float(n.replace("$", "").replace(",", "")) for n in NUMBER.findall(text.replace("Δ", " "))]


def _close(shown: float, true: float) -> bool:
    """`shown` is `true` rounded as the table rounds (plus float slack)."""
    magnitude = abs(true)
    tol = 0.5 if magnitude >= 99.95 else (0.05 if magnitude >= 0.995 else 0.005)
    return abs(shown - true) <= tol + 1e-9


def _result(view: ViewState):
    scenario = resolve_edited(view.scenario, view.scenario_edit, view.custom_scenario)  # the engine's reading
    return simulate(scenario, regimes_from_view(view), paths=view.paths, seed=view.seed,
                    shock_scale=view.shock_scale, assumptions=view.assumptions)


def _check(at: AppTest) -> ViewState:
    """The table's numbers are the engine's for the view in the session."""
    assert not at.exception, [e.value for e in at.exception]
    view = _view(at)
    result = _result(view)
    table = _table(at)
    names = result.regime_names
    base = names[0]
    assert [row[0].split(" (")[0] for row in table.rows] == [m.label for m in HEADLINE]
    summary = result.summary()
    for metric, row in zip(HEADLINE, table.rows, strict=True):
        for name, cell in zip(names, row[1:], strict=True):
            probability = metric.name in EXCEEDANCES or metric.name.endswith("probability_pct")
            if name == base and metric.calm:
                assert cell.startswith("baseline"), cell
                continue
            if probability:
                expected = [float(result.probability(metric.name)[names.index(name)])]
                if name != base and "no change" not in cell:
                    d = result.difference(metric.name, name, base)
                    expected += [d["p50"], d["p5"], d["p95"]]
                shown = _numbers(cell)
                # shares are shown as whole percent, '<1%' or '>99%'
                assert abs(shown[0] - expected[0]) <= 1.0 or ("<1%" in cell and expected[0] < 1) or (
                    ">99%" in cell and expected[0] > 99), (metric.name, name, cell, expected)
                assert all(_close(s, e) for s, e in zip(shown[1:], expected[1:], strict=True)), (cell, expected)
                continue
            stats = summary[name][metric.name]
            if metric.calm:
                d = result.difference(metric.name, name, base)
                expected = [] if cell == "no change" else [d["p50"], d["p5"], d["p95"]]
                if cell == "no change":
                    assert all(abs(x) < 0.005 for x in d.values()), (metric.name, d)
            else:
                expected = [stats["p50"]] + ([stats["p5"], stats["p95"]] if stats["p5"] != stats["p95"] else [])
                if name != base and "no change" not in cell:
                    d = result.difference(metric.name, name, base)
                    expected += [d["p50"], d["p5"], d["p95"]]
            shown = _numbers(cell)
            assert len(shown) == len(expected) and all(
                _close(s, e) for s, e in zip(shown, expected, strict=True)), (metric.name, name, cell, expected)
    return view


@pytest.fixture(scope="module")
def shared() -> AppTest:
    return _app()


def test_default_view_tells_its_story_with_the_engines_numbers(shared):
    view = _check(shared)
    assert view.scenario == DEFAULT_SCENARIO == "march_2020"
    assert [r.preset for r in view.regimes] == ["status_quo", "clearing_rule", "all_guardrails"]
    story = next(m.value for m in shared.markdown if "peaks" in m.value)
    assert "under status" in story and "in history" in story and "paired median" in story
    charts = shared.get("vega_lite_chart")
    assert "Observed" in charts[0].proto.spec  # the key chart comes first, with the observed history
    assert not shared.warning


def test_placebos_come_last(shared):
    options = shared.selectbox(key="w.sc").options
    titles = [o for o in options if "placebo" in o.lower()]
    assert len(titles) == 2 and options[-2:] == titles
    assert scenario_options()[-2:] == ["repo_spike_2019", "term_premium_2023"]


def test_a_zero_calm_cost_is_neutral_and_differences_are_paired():
    at = _app({"sc": "april_2025", "r0": "status_quo", "r1": "status_quo", "r1.name": "same", "r2": "leverage_cap"})
    _check(at)
    table = _table(at)
    calm = [i for i, m in enumerate(HEADLINE) if m.calm]
    for i in calm:
        assert table.tones[i][0] == "neutral", (HEADLINE[i].name, table.rows[i])  # the identical regime
    # The difference shown is the median of path-by-path differences, not the change of medians.
    result = _result(_view(at))
    a, b = (result.metrics["forced_sales_usd_bn"][result.regime_index(n)] for n in ("leverage_cap", "status_quo"))
    row = table.rows[[m.name for m in HEADLINE].index("forced_sales_usd_bn")]
    assert _close(_numbers(row[3])[3], float(np.median(a - b)))


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


def _edit(at: AppTest, index: int) -> int:
    uid = _uid(at, index)
    at.segmented_control(key="w.edit").set_value(uid).run()
    assert at.session_state["_edit_uid"] == uid
    return uid


def _group(at: AppTest, group: str) -> None:
    at.pills(key="w.group").set_value(group).run()
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("group", GROUPS)
def test_a_lever_of_each_group_moves_the_table(group):
    at = _app()
    uid = _edit(at, 1)
    _group(at, group)
    spec = next(s for s in lever_specs() if s.group == group and s.type in ("float", "int"))
    key = f"w.r{uid}.{spec.path}"
    switch = f"w.r{uid}.{group}.enabled"
    switched = any(s.path == f"{group}.enabled" for s in lever_specs()) and not at.toggle(key=switch).value
    if switched:  # a rule that is off shows only its switch: turn it on first
        assert not [w for w in at.slider if w.key == key]
        at.toggle(key=switch).set_value(True).run()
    before = _table(at).rows
    current = at.slider(key=key).value
    new = spec.max if current != spec.max else spec.min
    new = int(new) if spec.type == "int" else float(new)
    at.slider(key=key).set_value(new).run()
    view = _check(at)
    assert view.regimes[1].changes[spec.path] == new
    assert at.number_input(key=key + "#n").value == new  # the exact entry follows the slider
    assert f"({1 + switched})" in at.button(key=f"b.reset.{uid}").label
    assert "●" in at.slider(key=key).label  # changed levers are marked
    if group not in ("foreign_demand",):
        assert _table(at).rows != before
    _group(at, "clearing" if group != "clearing" else "dealer_rule")  # hidden: the change stays
    assert _check(at).regimes[1].changes[spec.path] == new


def test_exact_number_entry_sets_the_lever():
    at = _app()
    uid = _edit(at, 2)  # all_guardrails: clearing on
    key = f"w.r{uid}.clearing.haircut_floor_pct"
    at.number_input(key=key + "#n").set_value(3.3).run()
    view = _check(at)
    assert view.regimes[2].changes["clearing.haircut_floor_pct"] == pytest.approx(3.3)
    assert at.slider(key=key).value == pytest.approx(3.3)


def test_toggle_choice_reset_and_preset():
    at = _app()
    uid = _edit(at, 0)
    _group(at, "leverage_cap")
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
    _group(at, "dealer_rule")
    assert at.toggle(key=f"w.r{uid}.dealer_rule.enabled").value is True


def test_add_rename_and_remove_regimes():
    at = _app()
    at.button(key="b.add").click().run()
    view = _check(at)
    assert len(view.regimes) == 4 and at.button(key="b.add").disabled
    uid = _uid(at, 3)
    assert at.session_state["_edit_uid"] == uid  # the added regime is the one being edited
    at.text_input(key=f"w.r{uid}.name").input("tight cap").run()
    assert _check(at).regimes[3].name == "tight cap"
    at.text_input(key=f"w.r{uid}.name").input("status_quo").run()  # duplicate: refused, visible message
    assert any("already used" in shown(e.value) for e in at.error)
    assert _check(at).regimes[3].name == "tight cap"
    assert len(_table(at).rows[0]) == 5  # four regimes as columns
    removed = _edit(at, 1)
    at.button(key=f"b.remove.{removed}").click().run()
    view = _check(at)
    assert [r.name for r in view.regimes] == ["status_quo", "all_guardrails", "tight cap"]


def test_assumptions_are_passed_to_the_engine():
    at = _app()
    at.session_state["x.assumptions"] = True
    at.run()
    key = "w.a.dislocation_slope_bp"
    slider = at.slider(key=key)
    assert "dislocation_slope_bp" not in slider.label  # a human label, the code name in the help
    new = slider.max if slider.value != slider.max else slider.min
    slider.set_value(new)
    at.session_state["x.assumptions"] = True
    at.run()
    assert _check(at).assumptions == {"dislocation_slope_bp": new}
    _open(at, "x.assumptions")
    at.button(key="b.reset.a").click().run()
    assert _check(at).assumptions == {}


def _open(at: AppTest, key: str) -> None:
    """Open a lazy expander (its content renders only while open)."""
    for _ in range(3):  # AppTest may report the expander's old (closed) state on the first run
        at.session_state[key] = True
        at.run()
        if at.session_state[key]:
            return
    raise AssertionError(f"expander {key} did not open")


def _tab(at: AppTest, label: str) -> None:
    at.session_state["t.results"] = label
    at.run()
    assert not at.exception, (label, [e.value for e in at.exception])


def test_every_results_tab_renders_its_view():
    at = _app()
    expected = {
        "Key series by regime": "Dealer balance-sheet utilization",
        "Difference to baseline": "What each regime changes against status_quo",
        "One series, all regimes": "median and 5th-95th percentile range",
        "Market functioning": "Breakdown (beyond anything observed)",
        "Calm cost vs resilience": "costs in calm markets",
        "Holdings by sector": "who absorbed",
    }
    for label, text in expected.items():
        _tab(at, label)
        specs = [c.proto.spec for c in at.get("vega_lite_chart")]
        assert len(specs) == 2, label  # the key chart and the tab's chart
        assert text.lower() in specs[1].lower(), label
    _tab(at, "All metrics")
    table = at.dataframe[0].value
    assert list(table["metric"]) == [m.label for m in METRICS.values()]
    result = _result(_view(at))
    for name in result.regime_names:
        for i, metric in enumerate(METRICS):
            assert table[f"{name} median"][i] == pytest.approx(result.summary()[name][metric]["p50"])
    _tab(at, "Share and export")
    link = next(c.value for c in at.code if "sc=" in c.value)
    assert f"mv={MODEL_VERSION}" in link and f"v={QUERY_VERSION}" in link
    params = encode_view(_view(at), model_version=MODEL_VERSION)
    assert all(f"{k}=" in link for k in params)


def test_the_difference_tab_is_paired_and_the_key_chart_swaps_only_data():
    at = _app()
    _tab(at, "Difference to baseline")
    at.selectbox(key="w.diff_series").set_value("forced_sales_usd_bn").run()
    assert "Difference: RV net cash sales" in at.get("vega_lite_chart")[1].proto.spec
    spec_before = at.get("vega_lite_chart")[0].proto.spec
    at.slider(key="w.sev").set_value(1.5).run()
    # The key chart's spec is the cached template: a severity move changes only its data.
    assert at.get("vega_lite_chart")[0].proto.spec == spec_before
    _check(at)


def test_what_drives_these_numbers_opens_one_click_away():
    at = _app({"n": "60"})
    at.session_state["p.drivers"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "one at a time" in text.lower()
    frames = [d.value for d in at.dataframe]
    assert frames and len(frames[0]) >= 3


def test_url_round_trip_restores_the_view():
    at = _app()
    uid = _edit(at, 1)
    at.toggle(key=f"w.r{uid}.clearing.enabled").set_value(True).run()
    at.slider(key=f"w.r{uid}.clearing.haircut_floor_pct").set_value(4.0).run()
    at.slider(key="w.sev").set_value(1.5).run()
    view = _view(at)
    params = encode_view(view, model_version=MODEL_VERSION)
    assert all(at.query_params[k] in (v, [v]) for k, v in params.items())
    fresh = _app(params)
    assert _view(fresh) == view
    _check(fresh)
    decoded, messages = decode_view(params, scenarios=scenario_options(), assumption_ranges=assumption_bounds,
                                    model_version=MODEL_VERSION, default_scenario=DEFAULT_SCENARIO)
    assert decoded == view and messages == []


def test_bad_url_values_are_grouped_as_plain_text_and_the_rest_kept():
    at = _app({"sc": "april_2025", "sev": "nan", "r0": "status_quo", "r0.clearing.haircut_floor_pct": "99",
               "r1": "nonsense", "r7": "status_quo", "v": "2", "[CLICK](http://127.0.0.1:9/p)": "1"})
    assert len(at.warning) == 1 and "problem" in at.warning[0].value
    texts = " ".join(t.value for t in at.text)
    assert "sev" in texts and "0 to 5" in texts
    assert "r0.clearing.haircut_floor_pct" in texts and "0 to 10" in texts
    assert "r1: unknown preset" in texts and "too many regimes" in texts
    assert "[CLICK]" in texts  # shown as typed, never as a link
    assert _check(at).scenario == "april_2025"


def test_new_presets_are_selectable():
    at = _app()
    uid = _edit(at, 1)
    options = at.selectbox(key=f"w.r{uid}.preset").options
    assert {"no_fed_backstop", "as_of_september_2019"} <= set(options) and list(options) == preset_names()
    at.selectbox(key=f"w.r{uid}.preset").set_value("no_fed_backstop").run()
    view = _check(at)
    assert view.regimes[1].preset == "no_fed_backstop" and view.regimes[1].changes == {}
    assert regimes_from_view(view)[1] == get_preset("no_fed_backstop")
    _group(at, "fed_backstop")
    assert at.toggle(key=f"w.r{uid}.fed_backstop.enabled").value is False


def test_an_old_v1_link_opens_with_a_message_and_the_app_keeps_running():
    old = {"v": "1", "sc": "april_2025", "sev": "1.2", "seed": "3", "r0": "status_quo",
           "r1": "clearing_rule", "r1.name": "floor3", "r1.clearing.margin_floor_pct": "3",
           "r2": "leverage_cap", "r2.leverage_cap.max_leverage_x": "8"}
    at = _app(old)
    texts = [t.value for t in at.text]
    assert any("model 0.1" in t and "may differ" in t for t in texts)
    assert any("r1.clearing.margin_floor_pct" in t and "renamed r1.clearing.haircut_floor_pct" in t for t in texts)
    assert any("r2.leverage_cap.max_leverage_x" in t and "not converted" in t for t in texts)
    view = _check(at)
    assert (view.scenario, view.shock_scale, view.seed) == ("april_2025", 1.2, 3)
    assert [r.name for r in view.regimes] == ["status_quo", "floor3", "leverage_cap"]
    assert view.regimes[1].changes == {"clearing.haircut_floor_pct": 3.0}
    assert at.query_params["v"] in (str(QUERY_VERSION), [str(QUERY_VERSION)])
    assert "r1.clearing.margin_floor_pct" not in at.query_params
    at.slider(key="w.sev").set_value(1.0).run()
    assert _check(at).shock_scale == 1.0


def test_bad_upload_shows_the_field_and_keeps_state():
    at = _app()
    uid = _edit(at, 1)
    at.slider(key="w.sev").set_value(1.3).run()
    before = _view(at)
    bad = b'{"name": "x", "clearing": {"haircut_floor_pct": 50}}'
    at.file_uploader(key=f"w.r{uid}.upload.0").set_value(("bad.json", bad, "application/json")).run()
    assert not at.exception
    errors = " ".join(shown(e.value) for e in at.error)
    assert "bad.json" in errors and "clearing.haircut_floor_pct" in errors and "0 to 10" in errors
    assert _view(at) == before
    _check(at)


def test_good_upload_replaces_the_regime():
    at = _app()
    uid = _edit(at, 1)
    good = b'{"name": "uploaded", "dealer_rule": {"enabled": true, "covered_share_pct": 80}}'
    at.file_uploader(key=f"w.r{uid}.upload.0").set_value(("mine.json", good, "application/json")).run()
    view = _check(at)
    assert view.regimes[1].name == "uploaded"
    assert view.regimes[1].changes.get("dealer_rule.covered_share_pct") == 80.0


def test_the_shock_dialog_runs_an_edited_scenario():
    at = _app()
    before = _table(at).rows
    at.button(key="b.shock").click().run()
    assert not at.exception, [e.value for e in at.exception]
    at.number_input(key="w.se.sales.foreign_official").set_value(600.0)
    at.button(key="b.se.apply").click().run()
    view = _check(at)  # the table is the engine's for the edited scenario
    assert view.scenario_edit.get("sales.foreign_official") in ("600", "600.0")
    assert at.query_params["se.sales.foreign_official"] in (view.scenario_edit["sales.foreign_official"],
                                                           [view.scenario_edit["sales.foreign_official"]])
    assert _table(at).rows != before
    assert any("peaks" in m.value and "edited" in m.value for m in at.markdown)  # the story names the edit
    assert any("foreign official sales" in c.value.lower() for c in at.caption)
