"""policy/query.py: the view <-> URL round trip, and hostile links that must never raise."""

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import MODEL_VERSION, assumption_bounds, assumption_ranges, scenario_names
from policy import get_preset, lever_specs, preset_names, regime_value
from policy.query import (
    MAX_REGIMES,
    QUERY_VERSION,
    RENAMED_LEVERS,
    RETIRED_LEVERS,
    V1_CHANGED_DEFAULTS,
    RegimeView,
    ViewState,
    default_view,
    regime_view_of,
    regimes_from_view,
    view_url,
)
from policy.query import (
    decode_view as _decode_view,
)
from policy.query import (
    encode_view as _encode_view,
)

SPECS = lever_specs()
DEFAULT_SCENARIO = "march_2020"  # what the app opens (ui.state.DEFAULT_SCENARIO), not the first placebo


def decode_view(params, model_version=MODEL_VERSION):
    """decode_view against the engine's scenarios, assumption ranges and model version, as the app calls it."""
    return _decode_view(params, scenarios=scenario_names(), assumption_ranges=assumption_bounds,
                        model_version=model_version, default_scenario=DEFAULT_SCENARIO)


def encode_view(view):
    return _encode_view(view, model_version=MODEL_VERSION)


def _lever_value(spec):
    if spec.type == "bool":
        return st.booleans()
    if spec.type == "choice":
        return st.sampled_from(spec.choices)
    if spec.type == "int":
        return st.integers(int(spec.min), int(spec.max))
    return st.floats(spec.min, spec.max, allow_nan=False, allow_infinity=False)


@st.composite
def regime_views(draw, index=0):
    preset = draw(st.sampled_from(preset_names()))
    chosen = draw(st.lists(st.sampled_from(SPECS), max_size=6, unique_by=lambda s: s.path))
    base = get_preset(preset)
    changes = {}
    for spec in chosen:
        value = draw(_lever_value(spec))
        if value != regime_value(base, spec.path):
            changes[spec.path] = value
    return RegimeView(preset=preset, name=f"{preset[:30]}_{index}", changes=changes)


@st.composite
def views(draw):
    scenario = draw(st.sampled_from(scenario_names()))
    count = draw(st.integers(1, MAX_REGIMES))
    ranges = assumption_ranges(scenario)
    chosen = draw(st.lists(st.sampled_from(sorted(ranges)), max_size=3, unique=True))
    assumptions = {n: draw(st.floats(ranges[n].low, ranges[n].high, allow_nan=False)) for n in chosen}
    return ViewState(
        scenario=scenario,
        shock_scale=draw(st.floats(0, 5, allow_nan=False)),
        paths=draw(st.integers(1, 10_000)),
        seed=draw(st.integers(0, 2**32 - 1)),
        regimes=[draw(regime_views(i)) for i in range(count)],
        assumptions=assumptions,
    )


@settings(max_examples=150, deadline=None)
@given(views())
def test_round_trip_is_exact(view):
    params = encode_view(view)
    assert params["v"] == str(QUERY_VERSION) == "2"
    assert params["mv"] == MODEL_VERSION
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
    back, messages = decode_view(params)
    assert messages == []
    assert back == view
    assert [r.model_dump() for r in regimes_from_view(back)] == [r.model_dump() for r in regimes_from_view(view)]


@settings(max_examples=30, deadline=None)
@given(views())
def test_view_url_round_trip(view):
    url = view_url("http://127.0.0.1:8501/?old=1#frag", view, model_version=MODEL_VERSION)
    parts = urlsplit(url)
    assert parts.path == "/" and "old" not in parse_qs(parts.query) and not parts.fragment
    params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    back, messages = decode_view(params)
    assert messages == [] and back == view


def test_encoding_is_compact_and_readable():
    view = ViewState(
        scenario="march_2020",
        regimes=[
            RegimeView(preset="status_quo", name="status_quo"),
            RegimeView(preset="clearing_rule", name="tight", changes={"clearing.haircut_floor_pct": 3.0,
                                                                      "dealer_rule.enabled": True}),
        ],
    )
    assert encode_view(view) == {
        "v": "2", "mv": MODEL_VERSION, "sc": "march_2020", "sev": "1", "n": "500", "seed": "0",
        "r0": "status_quo",
        "r1": "clearing_rule", "r1.name": "tight", "r1.clearing.haircut_floor_pct": "3", "r1.dealer_rule.enabled": "1",
    }


def test_regimes_from_view_applies_changes_to_a_copy():
    view = ViewState(scenario="march_2020", regimes=[
        RegimeView(preset="status_quo", name="x", changes={"leverage_cap.enabled": True})])
    (regime,) = regimes_from_view(view)
    assert regime.name == "x" and regime.leverage_cap.enabled
    assert not get_preset("status_quo").leverage_cap.enabled


def test_regime_view_of_recovers_the_preset():
    regime = get_preset("as_of_march_2020")
    rv = regime_view_of(regime.model_copy(update={"name": "mine"}))
    assert rv.preset == "as_of_march_2020" and rv.changes == {} and rv.name == "mine"


def test_empty_params_give_the_default_view():
    view, messages = decode_view({})
    assert messages == []
    assert view == default_view(DEFAULT_SCENARIO)


def test_default_scenario_falls_back_to_the_first_when_unknown():
    view, messages = _decode_view({}, scenarios=scenario_names(), assumption_ranges=assumption_bounds,
                                  model_version=MODEL_VERSION, default_scenario="no_such_scenario")
    assert messages == [] and view.scenario == scenario_names()[0]
    view, messages = decode_view({"sc": "mars_2099"})
    assert view.scenario == DEFAULT_SCENARIO and f"showing {DEFAULT_SCENARIO}" in messages[0]


def test_lists_take_the_last_value():
    view, messages = decode_view({"v": ["2"], "sc": ["march_2020", "april_2025"], "r0": ["status_quo"]})
    assert messages == [] and view.scenario == "april_2025"


@pytest.mark.parametrize(
    ("params", "field", "allowed"),
    [
        ({"sev": "nan"}, "sev", "0 to 5"),
        ({"sev": "inf"}, "sev", "0 to 5"),
        ({"sev": "-1"}, "sev", "0 to 5"),
        ({"sev": "5.01"}, "sev", "0 to 5"),
        ({"n": "0"}, "n (paths)", "1 to 10,000"),
        ({"n": "1e12"}, "n (paths)", "1 to 10,000"),
        ({"n": "2.5"}, "n (paths)", "1 to 10,000"),
        ({"seed": "-3"}, "seed", "0 to 4294967295"),
        ({"seed": "x"}, "seed", "0 to 4294967295"),
        ({"sc": "mars_2099"}, "sc", "march_2020"),
        ({"r0": "utopia"}, "r0", "status_quo"),
        ({"r0": "status_quo", "r0.clearing.haircut_floor_pct": "NaN"}, "r0.clearing.haircut_floor_pct", "0 to 10"),
        ({"r0": "status_quo", "r0.clearing.haircut_floor_pct": "-inf"}, "r0.clearing.haircut_floor_pct", "0 to 10"),
        ({"r0": "status_quo", "r0.clearing.haircut_floor_pct": "11"}, "r0.clearing.haircut_floor_pct", "0 to 10"),
        ({"r0": "status_quo", "r0.clearing.margin_floor_pct": "NaN"}, "r0.clearing.margin_floor_pct", "0 to 10"),
        ({"r0": "status_quo", "r0.clearing.margin_floor_pct": "11"}, "r0.clearing.margin_floor_pct", "0 to 10"),
        ({"r0": "status_quo", "r0.leverage_cap.max_leverage_x": "12"}, "r0.leverage_cap.max_leverage_x", "5 to 100"),
        ({"r0": "status_quo", "r0.leverage_cap.max_gross_leverage_x": "4"}, "r0.leverage_cap.max_gross_leverage_x",
         "5 to 100"),
        ({"r0": "status_quo", "r0.fed_backstop.persistence_pct": "101"}, "r0.fed_backstop.persistence_pct", "0 to 100"),
        ({"r0": "status_quo", "r0.leverage_cap.averaging_window_days": "2.5"}, "r0.leverage_cap.averaging_window_days",
         "2 to 60"),
        ({"r0": "status_quo", "r0.leverage_cap.enforcement": "weekly"}, "r0.leverage_cap.enforcement", "daily"),
        ({"r0": "status_quo", "r0.clearing.enabled": "perhaps"}, "r0.clearing.enabled", "true or false"),
        ({"r0": "status_quo", "r0.clearing.nonsense": "1"}, "r0.clearing.nonsense", "unknown lever"),
        ({"r0": "status_quo", "r0.name": "<script>"}, "r0.name", "letters, digits"),
        ({"a.dislocation_slope_bp": "1000"}, "a.dislocation_slope_bp", "allowed: a number from"),
        ({"a.no_such_thing": "1"}, "a.no_such_thing", "unknown assumption"),
        ({"v": "7"}, "v", "allowed: 1, 2"),
        ({"v": "two"}, "v", "allowed: 1, 2"),
        ({"mv": "<script>"}, "mv", "allowed: a model version such as"),
        ({"mv": "1.9.0"}, "mv", "may differ"),
        ({"zz": "1"}, "zz", "unknown link parameter"),
    ],
)
def test_hostile_values_are_named_and_dropped(params, field, allowed):
    view, messages = decode_view({"v": "2", "mv": MODEL_VERSION, "sc": "march_2020", "r0": "status_quo", **params})
    assert len(messages) == 1, messages
    assert messages[0].startswith(field) or messages[0].startswith("'" + field)
    assert allowed in messages[0]
    ViewState.model_validate(view.model_dump())  # what comes back is always valid
    regimes_from_view(view)


def test_too_many_regimes_keep_the_first_four():
    params = {f"r{i}": "status_quo" for i in range(7)}
    view, messages = decode_view(params)
    assert len(view.regimes) == MAX_REGIMES
    assert any("too many regimes" in m and "1 to 4" in m for m in messages)
    assert len({r.name for r in view.regimes}) == MAX_REGIMES  # duplicate names made unique


def test_huge_strings_and_many_params_do_not_hurt():
    params = {"sc": "x" * 1_000_000, "r0": "status_quo", "r0.clearing.haircut_floor_pct": "9" * 10_000,
              "mv": "9" * 300, "r0.clearing.margin_floor_pct": "9" * 150}
    params.update({f"junk{i}": "1" for i in range(5_000)})
    view, messages = decode_view(params)
    assert view.scenario == DEFAULT_SCENARIO
    assert all(len(m) < 400 for m in messages)
    assert len(messages) < 500


def test_unknown_version_still_restores_what_it_can():
    view, messages = decode_view({"v": "0", "sc": "april_2025", "r0": "dealer_rule"})
    assert view.scenario == "april_2025" and view.regimes[0].preset == "dealer_rule"
    assert "version" in messages[0]


def test_a_value_equal_to_the_preset_is_not_a_change():
    view, messages = decode_view({"r0": "clearing_rule", "r0.clearing.enabled": "1"})
    assert messages == [] and view.regimes[0].changes == {}


# ---------------------------------------------------------------- links of model 0.1 (format 1) and other models

# A link as the model-0.1 app wrote it (format 1: no mv, the old lever names).
V1_LINK = {
    "v": "1", "sc": "foreign_selloff_2026", "sev": "1.5", "n": "300", "seed": "4",
    "r0": "status_quo",
    "r1": "clearing_rule", "r1.name": "tight", "r1.clearing.margin_floor_pct": "3", "r1.dealer_rule.enabled": "1",
    "r2": "leverage_cap", "r2.leverage_cap.max_leverage_x": "8",
}
SPEC_BY_PATH = {s.path: s for s in SPECS}


def test_a_v1_link_gets_one_message_on_the_model_and_the_changed_defaults():
    view, messages = decode_view({"v": "1", "sc": "april_2025", "r0": "status_quo", "r1": "dealer_rule"})
    assert len(messages) == 1, messages
    text = messages[0]
    assert text.startswith("v: ")
    assert "model 0.1" in text and "link format 1" in text and "may differ" in text and MODEL_VERSION in text
    for path, old in V1_CHANGED_DEFAULTS.items():
        new = SPEC_BY_PATH[path].default
        assert f"{path}" in text and f"{old:g} -> {new:g}" in text, path
    assert "was margin_floor_pct" in text
    assert "leverage_cap.max_leverage_x 12 x equity -> leverage_cap.max_gross_leverage_x 20" in text
    assert "leverage_cap.covered_share_pct" in text and "fed_backstop.persistence_pct" in text
    assert "allowed link formats: 1, 2" in text.lower()
    # Everything else is restored as written (presets with today's defaults, not converted).
    assert view.scenario == "april_2025" and [r.preset for r in view.regimes] == ["status_quo", "dealer_rule"]
    assert all(r.changes == {} for r in view.regimes)


def test_a_v1_link_restores_what_it_can_with_one_message_per_old_lever():
    view, messages = decode_view(V1_LINK)
    assert len(messages) == 3, messages
    assert messages[0].startswith("v: ") and "model 0.1" in messages[0]
    renamed = next(m for m in messages if m.startswith("r1.clearing.margin_floor_pct"))
    assert "renamed r1.clearing.haircut_floor_pct" in renamed and "VaR margin" in renamed
    assert "SEC rule sets no floor" in renamed and "value 3 kept" in renamed
    dropped = next(m for m in messages if m.startswith("r2.leverage_cap.max_leverage_x"))
    assert "dropped" in dropped and "gross notional exposure / net assets" in dropped and "not converted" in dropped
    assert "'8' ignored" in dropped and "r2.leverage_cap.max_gross_leverage_x" in dropped and "5 to 100" in dropped
    assert (view.scenario, view.shock_scale, view.paths, view.seed) == ("foreign_selloff_2026", 1.5, 300, 4)
    assert [r.name for r in view.regimes] == ["status_quo", "tight", "leverage_cap"]
    assert view.regimes[1].changes == {"clearing.haircut_floor_pct": 3.0, "dealer_rule.enabled": True}
    assert view.regimes[2].changes == {}
    (_, tight, capped) = regimes_from_view(view)
    assert tight.clearing.haircut_floor_pct == 3.0
    assert capped.leverage_cap.max_gross_leverage_x == SPEC_BY_PATH["leverage_cap.max_gross_leverage_x"].default
    # Re-encoded, the link is format 2 with today's names and reads back without messages.
    again = encode_view(view)
    assert again["v"] == "2" and again["mv"] == MODEL_VERSION
    assert "r1.clearing.haircut_floor_pct" in again and not any("margin_floor" in k or "max_leverage_x" in k for k in again)
    assert decode_view(again) == (view, [])


@pytest.mark.parametrize("version", [None, "1", "2"])
def test_old_lever_names_are_handled_in_any_version(version):
    params = {"r0": "clearing_rule", "r0.clearing.margin_floor_pct": "2.5", "r0.leverage_cap.max_leverage_x": "15"}
    if version:
        params["v"] = version
    view, messages = decode_view(params)
    lever_messages = [m for m in messages if m.startswith("r0.")]
    assert len(lever_messages) == 2
    assert view.regimes[0].changes == {"clearing.haircut_floor_pct": 2.5}
    assert len(messages) == (3 if version == "1" else 2)


def test_renamed_and_retired_tables_point_at_real_levers():
    for old, (new, why) in {**RENAMED_LEVERS, **RETIRED_LEVERS}.items():
        assert old not in SPEC_BY_PATH and new in SPEC_BY_PATH and why
    for path in V1_CHANGED_DEFAULTS:
        assert path in SPEC_BY_PATH


def test_old_and_new_name_together_keep_the_new_one():
    view, messages = decode_view({"r0": "status_quo", "r0.clearing.margin_floor_pct": "1",
                                  "r0.clearing.haircut_floor_pct": "2"})
    assert view.regimes[0].changes == {"clearing.haircut_floor_pct": 2.0}
    assert len(messages) == 1 and messages[0].startswith("r0.clearing.margin_floor_pct")
    assert "r0.clearing.haircut_floor_pct" in messages[0]


def test_a_v1_assumption_the_model_no_longer_has_is_named():
    view, messages = decode_view({"v": "1", "sc": "march_2020", "a.utilization_limit": "0.9"})
    assert len(messages) == 2
    assert messages[1].startswith("a.utilization_limit: unknown assumption for march_2020")
    assert f"model {MODEL_VERSION}" in messages[1] and "model 0.1" in messages[1]
    assert view.assumptions == {}


def test_another_model_version_gets_one_message():
    link = encode_view(default_view("april_2025"))
    assert decode_view(link) == (default_view("april_2025"), [])
    view, messages = decode_view(link, model_version="2.1.0")
    assert view == default_view("april_2025")
    assert len(messages) == 1
    assert messages[0].startswith("mv: ") and MODEL_VERSION in messages[0] and "2.1.0" in messages[0]
    assert "may differ" in messages[0]


def test_a_link_without_mv_or_v_is_read_quietly():
    # hand-written links such as ?sc=april_2025&n=200 carry neither v nor mv
    view, messages = decode_view({"sc": "april_2025", "n": "200"})
    assert messages == [] and view.paths == 200
    view, messages = decode_view({"v": "2", "sc": "april_2025"})
    assert messages == []


_KEYS = ["v", "mv", "sc", "sev", "n", "seed", "r0", "r1", "r0.name", "r0.clearing.margin_floor_pct",
         "r0.clearing.haircut_floor_pct", "r1.leverage_cap.max_leverage_x", "r1.fed_backstop.persistence_pct",
         "a.dislocation_slope_bp", "r9", "zz"]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.one_of(st.sampled_from(_KEYS), st.text(max_size=12)),
                       st.one_of(st.sampled_from(["1", "2", "0", "-1", "nan", "2.0.0", "status_quo", "", "1e400"]),
                                 st.text(max_size=30)),
                       max_size=12))
def test_any_link_decodes_without_raising(params):
    view, messages = decode_view(params)
    ViewState.model_validate(view.model_dump())
    regimes_from_view(view)
    assert all(isinstance(m, str) and m for m in messages)
