"""policy/query.py: the view <-> URL round trip, and hostile links that must never raise."""

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import assumption_bounds, assumption_ranges, scenario_names
from policy import get_preset, lever_specs, preset_names, regime_value
from policy.query import (
    MAX_REGIMES,
    QUERY_VERSION,
    RegimeView,
    ViewState,
    default_view,
    encode_view,
    regime_view_of,
    regimes_from_view,
    view_url,
)
from policy.query import (
    decode_view as _decode_view,
)

SPECS = lever_specs()


def decode_view(params):
    """decode_view against the engine's scenarios and assumption ranges, as the app calls it."""
    return _decode_view(params, scenarios=scenario_names(), assumption_ranges=assumption_bounds)


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
    assert params["v"] == str(QUERY_VERSION)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
    back, messages = decode_view(params)
    assert messages == []
    assert back == view
    assert [r.model_dump() for r in regimes_from_view(back)] == [r.model_dump() for r in regimes_from_view(view)]


@settings(max_examples=30, deadline=None)
@given(views())
def test_view_url_round_trip(view):
    url = view_url("http://127.0.0.1:8501/?old=1#frag", view)
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
            RegimeView(preset="clearing_rule", name="tight", changes={"clearing.margin_floor_pct": 3.0,
                                                                      "dealer_rule.enabled": True}),
        ],
    )
    assert encode_view(view) == {
        "v": "1", "sc": "march_2020", "sev": "1", "n": "500", "seed": "0",
        "r0": "status_quo",
        "r1": "clearing_rule", "r1.name": "tight", "r1.clearing.margin_floor_pct": "3", "r1.dealer_rule.enabled": "1",
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
    assert view == default_view(scenario_names()[0])


def test_lists_take_the_last_value():
    view, messages = decode_view({"v": ["1"], "sc": ["march_2020", "april_2025"], "r0": ["status_quo"]})
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
        ({"r0": "status_quo", "r0.clearing.margin_floor_pct": "NaN"}, "r0.clearing.margin_floor_pct", "0 to 10"),
        ({"r0": "status_quo", "r0.clearing.margin_floor_pct": "-inf"}, "r0.clearing.margin_floor_pct", "0 to 10"),
        ({"r0": "status_quo", "r0.clearing.margin_floor_pct": "11"}, "r0.clearing.margin_floor_pct", "0 to 10"),
        ({"r0": "status_quo", "r0.leverage_cap.averaging_window_days": "2.5"}, "r0.leverage_cap.averaging_window_days",
         "2 to 60"),
        ({"r0": "status_quo", "r0.leverage_cap.enforcement": "weekly"}, "r0.leverage_cap.enforcement", "daily"),
        ({"r0": "status_quo", "r0.clearing.enabled": "perhaps"}, "r0.clearing.enabled", "true or false"),
        ({"r0": "status_quo", "r0.clearing.nonsense": "1"}, "r0.clearing.nonsense", "unknown lever"),
        ({"r0": "status_quo", "r0.name": "<script>"}, "r0.name", "letters, digits"),
        ({"a.dislocation_slope_bp": "1000"}, "a.dislocation_slope_bp", "allowed: a number from"),
        ({"a.no_such_thing": "1"}, "a.no_such_thing", "unknown assumption"),
        ({"v": "2"}, "v", "allowed: 1"),
        ({"zz": "1"}, "zz", "unknown link parameter"),
    ],
)
def test_hostile_values_are_named_and_dropped(params, field, allowed):
    view, messages = decode_view({"v": "1", "sc": "march_2020", "r0": "status_quo", **params})
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
    params = {"sc": "x" * 1_000_000, "r0": "status_quo", "r0.clearing.margin_floor_pct": "9" * 10_000}
    params.update({f"junk{i}": "1" for i in range(5_000)})
    view, messages = decode_view(params)
    assert view.scenario == scenario_names()[0]
    assert all(len(m) < 400 for m in messages)
    assert len(messages) < 500


def test_unknown_version_still_restores_what_it_can():
    view, messages = decode_view({"v": "0", "sc": "april_2025", "r0": "dealer_rule"})
    assert view.scenario == "april_2025" and view.regimes[0].preset == "dealer_rule"
    assert "version" in messages[0]


def test_a_value_equal_to_the_preset_is_not_a_change():
    view, messages = decode_view({"r0": "clearing_rule", "r0.clearing.enabled": "1"})
    assert messages == [] and view.regimes[0].changes == {}
