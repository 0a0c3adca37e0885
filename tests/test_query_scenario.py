"""The link codec's scenario edits (se.*) and uploaded scenarios (sx), checked by the engine's models.

`policy.query` never imports the engine: the check is passed in, as the app does
(`engine.scenario_edit.link_scenario_check`).
"""

from urllib.parse import parse_qsl, urlsplit

from engine import MODEL_VERSION, assumption_bounds, load_scenario, scenario_names
from engine.scenario_edit import (
    apply_edit,
    edit_to_params,
    link_scenario_check,
    make_edit,
    resolve_edited,
    scenario_from_blob,
    scenario_to_blob,
)
from policy.query import (
    MAX_LINK_SCENARIO_CHARS,
    ViewState,
    decode_view,
    default_view,
    encode_view,
    scenario_fits_link,
    view_url,
)

NAMES = scenario_names()


def _decode(params, check=link_scenario_check):
    return decode_view(
        params,
        scenarios=NAMES,
        assumption_ranges=assumption_bounds,
        model_version=MODEL_VERSION,
        default_scenario="march_2020",
        scenario_edit_check=check,
    )


def _encode(view: ViewState) -> dict[str, str]:
    return encode_view(view, model_version=MODEL_VERSION)


def _edited_view() -> ViewState:
    base = load_scenario("foreign_selloff_2026")
    edit = make_edit(
        base, days=60, sales_usd_bn={"foreign_official": 600.0}, volatility_scale=1.5, fundamental_scale=1.2,
        funding_scale=0.5, shock_size_sd=0.2, events=[(5, "Reserve managers sell"), (20, "Swap lines: a: b")],
    )
    return default_view("foreign_selloff_2026").model_copy(update={"scenario_edit": edit_to_params(edit)})


def test_links_without_edits_read_exactly_as_before():
    for params in (
        {},
        {"v": "2", "mv": MODEL_VERSION, "sc": "april_2025", "sev": "1.5", "n": "200", "r0": "status_quo"},
        {"sc": "march_2020", "a.dislocation_slope_bp": "7.5", "r0": "clearing_rule", "r1": "dealer_rule"},
        {"sc": "nope", "n": "0"},
    ):
        with_check, messages = _decode(params)
        without, old_messages = _decode(params, check=None)
        assert with_check == without and messages == old_messages
        assert with_check.scenario_edit == {} and with_check.custom_scenario is None
    view = default_view("march_2020")
    assert not any(k.startswith("se.") or k == "sx" for k in _encode(view))


def test_the_edit_round_trips_through_readable_parameters():
    view = _edited_view()
    params = _encode(view)
    assert params["se.days"] == "60" and params["se.sales.foreign_official"] == "600"
    assert (params["se.vol"], params["se.fund"], params["se.repo"], params["se.sd"]) == ("1.5", "1.2", "0.5", "0.2")
    assert params["se.ev0"] == "5:Reserve managers sell" and params["se.ev1"] == "20:Swap lines: a: b"
    back, messages = _decode(params)
    assert messages == [] and back == view
    assert resolve_edited(back.scenario, back.scenario_edit) == resolve_edited(view.scenario, view.scenario_edit)
    # ...and through a real URL (percent-encoding of spaces and colons)
    url = view_url("http://127.0.0.1:8501/compare", view, model_version=MODEL_VERSION)
    again, messages = _decode(dict(parse_qsl(urlsplit(url).query)))
    assert messages == [] and again == view


def test_without_a_check_edits_are_dropped_with_one_message():
    params = {**_encode(_edited_view())}
    view, messages = _decode(params, check=None)
    assert view.scenario_edit == {} and view.custom_scenario is None
    assert len(messages) == 1 and "scenario edits are not read here" in messages[0]


def test_bad_edit_values_name_the_key_and_range_and_keep_the_rest():
    params = {
        "sc": "foreign_selloff_2026",
        "sev": "1.2",
        "se.sales.foreign_official": "1e9",
        "se.sales.mutual_funds": "150",
        "se.days": "0",
        "se.vol": "99",
        "se.ev0": "45:late",
        "se.colour": "blue",
    }
    view, messages = _decode(params)
    assert view.shock_scale == 1.2 and view.scenario_edit == {"sales.mutual_funds": "150"}
    text = "\n".join(messages)
    assert "se.sales.foreign_official: '1e9' ignored; allowed: a number from 0 to 5000 ($bn)" in text
    assert "se.days: '0' ignored; allowed: a whole number from 1 to 250 (trading days)" in text
    assert "se.vol: '99' ignored; allowed: a number from 0.5 to 3 (x)" in text
    assert "se.ev0: day 45 ignored; allowed: a whole number from 0 to 40" in text
    assert "se.colour: unknown link parameter ignored" in text
    assert len(messages) == 5


def test_a_5000_digit_value_is_refused_by_the_general_limit():
    view, messages = _decode({"sc": "march_2020", "se.days": "9" * 5000})
    assert view.scenario_edit == {} and messages == ["se.days: value of 5,000 characters ignored; allowed: at most 200"]


def test_an_uploaded_scenario_travels_as_sx_within_the_limit():
    custom = load_scenario("april_2025").model_copy(update={"name": "my_april", "title": "My April"})
    blob = scenario_to_blob(custom)
    assert len(blob) <= MAX_LINK_SCENARIO_CHARS
    view = default_view("march_2020").model_copy(update={"custom_scenario": blob})
    params = _encode(view)
    assert params["sx"] == blob and scenario_fits_link(view)
    back, messages = _decode(params)
    assert messages == [] and back.custom_scenario == blob
    assert scenario_from_blob(back.custom_scenario) == custom
    assert resolve_edited(back.scenario, back.scenario_edit, back.custom_scenario) == custom


def test_a_scenario_too_large_for_a_link_is_left_out_of_it():
    big = load_scenario("april_2025").model_copy(
        update={"description": " ".join(f"word{i * 7919 % 100003}" for i in range(3000))}
    )
    blob = scenario_to_blob(big)
    assert len(blob) > MAX_LINK_SCENARIO_CHARS
    view = default_view("march_2020").model_copy(update={"custom_scenario": blob})
    assert not scenario_fits_link(view) and "sx" not in _encode(view)
    back, messages = _decode({"sc": "march_2020", "sx": blob})
    assert back.custom_scenario is None
    assert messages == [f"sx: value of {len(blob):,} characters ignored; allowed: at most {MAX_LINK_SCENARIO_CHARS:,}"]


def test_damaged_sx_and_sx_with_se_are_reported():
    _, messages = _decode({"sc": "march_2020", "sx": "not-a-scenario"})
    assert messages and messages[0].startswith("sx: not a scenario blob")
    blob = scenario_to_blob(apply_edit(load_scenario("march_2020"), make_edit(load_scenario("march_2020"), days=9)))
    view, messages = _decode({"sc": "march_2020", "sx": blob, "se.days": "12"})
    assert view.custom_scenario == blob and view.scenario_edit == {}
    assert "se.days: ignored; the link carries a whole scenario (sx)" in messages[0]


def test_a_check_that_raises_never_breaks_the_link():
    def broken(*_):
        raise RuntimeError("boom")

    view, messages = _decode({"sc": "april_2025", "se.days": "5", "n": "50"}, check=broken)
    assert view.scenario == "april_2025" and view.paths == 50 and view.scenario_edit == {}
    assert messages == ["se.days: the scenario edit could not be read (boom); ignored"]


def test_edits_are_checked_against_the_links_scenario():
    # An event on day 40 is beyond march_2020's 30-day horizon, and within term_premium_2023's 58 days.
    _, messages = _decode({"sc": "march_2020", "se.ev0": "40:later"})
    assert "allowed: a whole number from 0 to 30" in messages[0]
    view, messages = _decode({"sc": "term_premium_2023", "se.ev0": "40:later"})
    assert messages == [] and view.scenario_edit == {"ev0": "40:later"}
