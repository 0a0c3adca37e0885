"""The policy layer: presets, validation, the lever spec and the regime file formats.

No economics here: these tests pin what a regulator can set, what each preset encodes and that
every bad input is refused with a message naming the dot path and what is allowed.
"""

import json
import math
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import policy
from policy.io import MAX_REGIME_FILE_BYTES, RegimeInputError, parse_regime_text
from policy.presets import PRESETS
from policy.regime import GROUPS, PolicyRegime

SPECS = policy.lever_specs()
AS_IT_HAPPENED = ("as_of_september_2019", "as_of_march_2020", "as_of_april_2025")
NUMERIC = [s for s in SPECS if s.type in ("float", "int")]
STATUS_QUO = policy.get_preset("status_quo")


def _allowed_text(spec: policy.LeverSpec) -> str:
    return f"a number from {spec.min:g} to {spec.max:g}"


# --- presets -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", policy.preset_names())
def test_every_preset_validates_and_round_trips_through_validation(name: str) -> None:
    regime = policy.get_preset(name)
    assert regime.name == name
    assert PolicyRegime.model_validate(regime.model_dump()) == regime
    assert policy.PRESET_DESCRIPTIONS[name] == regime.description
    assert regime.description


@pytest.mark.parametrize("name", policy.preset_names())
def test_presets_are_frozen(name: str) -> None:
    regime = policy.get_preset(name)
    with pytest.raises(ValidationError):
        regime.name = "changed"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        regime.clearing.enabled = not regime.clearing.enabled  # type: ignore[misc]
    with pytest.raises(ValidationError):
        regime.fed_backstop.max_pace_usd_bn_per_day = 1.0  # type: ignore[misc]
    assert policy.get_preset(name) is regime


def test_expected_presets_exist() -> None:
    names = policy.preset_names()
    for name in (
        "status_quo",
        "clearing_rule",
        "dealer_rule",
        "leverage_cap",
        "all_guardrails",
        "no_fed_backstop",
        "as_of_september_2019",
        "as_of_march_2020",
        "as_of_april_2025",
    ):
        assert name in names
    assert names[0] == "status_quo"
    assert names[-len(AS_IT_HAPPENED) :] == list(AS_IT_HAPPENED), "policy presets first, then the rules as they were"


def test_unknown_preset_names_the_allowed_ones() -> None:
    with pytest.raises(KeyError, match="allowed: status_quo"):
        policy.get_preset("no_such_regime")


def test_status_quo_encodes_rules_in_force_on_1_dec_2026() -> None:
    sq = STATUS_QUO
    assert sq.clearing.enabled is False, "clearing mandate: cash 31 Dec 2026, repo 30 Jun 2027"
    assert sq.dealer_rule.enabled is False, "dealer rule vacated Nov 2024"
    assert sq.leverage_cap.enabled is False, "no US leverage cap on funds"
    assert sq.leverage_ratio_relief.enabled is True, "eSLR reform effective 1 Apr 2026"
    assert sq.leverage_ratio_relief.buffer_reduction_pp > 0
    assert sq.leverage_ratio_relief.effective_day == 0
    assert sq.fed_backstop.enabled is True
    assert sq.fed_backstop.purchase_schedule_usd_bn_per_day == ()
    assert sq.standing_repo.enabled is True
    assert sq.foreign_demand.calm_shift_usd_bn == 0


# The rules in force on 1 December 2026, written out (not read back from the defaults), with the
# parameters a rule would take once in force where it is not (clearing mandate, dealer rule, cap).
RULES_ON_1_DEC_2026: dict[str, Any] = {
    # SEC clearing mandate: cash from 31 Dec 2026, repo from 30 Jun 2027, so not yet in force.
    "clearing.enabled": False,
    "clearing.repo_cleared_share_pct": 85.0,
    "clearing.cash_cleared_share_pct": 70.0,
    "clearing.haircut_floor_pct": 0.0,  # the SEC rule sets no haircut floor
    "clearing.cross_margin_offset_pct": 0.0,
    "clearing.margin_anti_procyclicality_pct": 25.0,
    # SEC dealer rule: vacated N.D. Tex. 21 Nov 2024.
    "dealer_rule.enabled": False,
    "dealer_rule.covered_share_pct": 60.0,
    "dealer_rule.net_capital_leverage_limit_x": 25.0,  # 4% haircut on 5-10y Treasuries
    "dealer_rule.extra_buffer_pct": 25.0,
    "dealer_rule.compliance_exit_pct": 10.0,
    # No US leverage cap on funds (an FSB policy option).
    "leverage_cap.enabled": False,
    "leverage_cap.max_gross_leverage_x": 20.0,
    "leverage_cap.covered_share_pct": 85.0,
    "leverage_cap.enforcement": "averaged",
    "leverage_cap.averaging_window_days": 20,
    # eSLR reform effective 1 Apr 2026: the buffer is about 1pp lower, no Treasury exclusion.
    "leverage_ratio_relief.enabled": True,
    "leverage_ratio_relief.buffer_reduction_pp": 1.0,
    "leverage_ratio_relief.treasury_exclusion_pct": 0.0,
    "leverage_ratio_relief.effective_day": 0,
    # Standing repo facility at the top of the range, $500bn a day, dealers and banks only.
    "standing_repo.enabled": True,
    "standing_repo.rate_spread_bp": 10.0,
    "standing_repo.daily_limit_usd_bn": 500.0,
    "standing_repo.funds_access": False,
    # A market-functioning backstop by rule (calibrated on the 2020 timing), no fixed schedule.
    "fed_backstop.enabled": True,
    "fed_backstop.threshold_bp": 25.0,
    "fed_backstop.slope_usd_bn_per_bp": 5.0,
    "fed_backstop.max_pace_usd_bn_per_day": 75.0,
    "fed_backstop.lag_days": 1,
    "fed_backstop.persistence_pct": 97.0,
    "fed_backstop.purchase_schedule_usd_bn_per_day": (),
    # CME futures margins of about 1% of notional, no extra anti-procyclicality.
    "futures_margin.initial_margin_pct": 1.0,
    "futures_margin.anti_procyclicality_pct": 0.0,
    "foreign_demand.calm_shift_usd_bn": 0.0,
}


def test_status_quo_is_the_rules_in_force_on_1_dec_2026_written_out() -> None:
    assert _flat(STATUS_QUO) == RULES_ON_1_DEC_2026
    assert {s.path for s in SPECS} <= set(RULES_ON_1_DEC_2026), "a new lever needs its 1 Dec 2026 value here"


def test_lever_defaults_are_the_status_quo() -> None:
    """The sliders start at today's rules (the spec's default is what the UI and the CLI show)."""
    for spec in SPECS:
        assert spec.default == RULES_ON_1_DEC_2026[spec.path], spec.path


def test_as_of_march_2020_carries_fed_schedule_and_1_april_exclusion() -> None:
    r = policy.get_preset("as_of_march_2020")
    schedule = r.fed_backstop.purchase_schedule_usd_bn_per_day
    assert len(schedule) >= 30
    assert all(0 <= x <= 200 for x in schedule)
    assert max(schedule) == 75.0, "peak pace $75bn/day, 19 Mar to 1 Apr 2020"
    assert schedule[:3] == (0.0, 0.0, 0.0), "no purchases 10-12 Mar"
    assert sum(schedule[:17]) > 500, "about $775bn bought 15-31 Mar 2020"
    assert r.fed_backstop.enabled is False, "the historical schedule, not a rule"
    lr = r.leverage_ratio_relief
    assert lr.enabled is True
    assert lr.treasury_exclusion_pct == 100.0
    assert lr.effective_day == 17, "1 Apr 2020 is trading day 17 after 9 Mar"
    assert lr.buffer_reduction_pp == 0.0
    assert r.clearing.enabled is False
    assert r.dealer_rule.enabled is False
    assert r.leverage_cap.enabled is False


def test_as_of_september_2019_has_no_srf_no_relief_and_no_backstop() -> None:
    r = policy.get_preset("as_of_september_2019")
    assert r.standing_repo.enabled is False, "the SRF was set up in July 2021"
    assert r.leverage_ratio_relief.enabled is False and r.leverage_ratio_relief.buffer_reduction_pp == 0.0
    assert r.fed_backstop.enabled is False
    assert r.fed_backstop.purchase_schedule_usd_bn_per_day == (), "the Fed's repo operations are in the observed SOFR"
    assert not (r.clearing.enabled or r.dealer_rule.enabled or r.leverage_cap.enabled)


def test_no_fed_backstop_is_status_quo_without_the_fed() -> None:
    r = policy.get_preset("no_fed_backstop")
    assert r.fed_backstop.enabled is False and r.fed_backstop.purchase_schedule_usd_bn_per_day == ()
    differs = {p for p, v in _flat(r).items() if v != _flat(STATUS_QUO)[p]}
    assert differs == {"fed_backstop.enabled"}


def test_as_of_april_2025_has_no_relief_and_no_fed_purchases() -> None:
    r = policy.get_preset("as_of_april_2025")
    assert r.fed_backstop.enabled is False
    assert r.fed_backstop.purchase_schedule_usd_bn_per_day == ()
    assert r.leverage_ratio_relief.enabled is False
    assert r.clearing.enabled is False


def test_reform_presets_switch_their_rule_on() -> None:
    assert policy.get_preset("clearing_rule").clearing.enabled
    assert policy.get_preset("dealer_rule").dealer_rule.enabled
    cap = policy.get_preset("leverage_cap").leverage_cap
    assert cap.enabled and cap.enforcement == "averaged", "MODEL.md: the preset uses the averaged form"
    allg = policy.get_preset("all_guardrails")
    assert allg.clearing.enabled and allg.dealer_rule.enabled and allg.leverage_cap.enabled
    assert allg.clearing.cross_margin_offset_pct > 0


def _flat(regime: PolicyRegime) -> dict[str, Any]:
    data = regime.model_dump()
    return {f"{g}.{k}": v for g in GROUPS for k, v in data[g].items()}


@pytest.mark.parametrize("name", [n for n in PRESETS if n != "status_quo"])
def test_presets_are_status_quo_plus_their_declared_changes(name: str) -> None:
    from policy.presets import _CHANGES

    declared = _CHANGES[name][1]
    base, preset = _flat(STATUS_QUO), _flat(policy.get_preset(name))
    for path, value in preset.items():
        if path in declared:
            expected = declared[path]
            assert value == (tuple(expected) if isinstance(expected, tuple) else expected), path
        else:
            assert value == base[path], f"{name} changes {path} without declaring it"


def test_building_presets_did_not_mutate_status_quo() -> None:
    fresh = PolicyRegime(name="status_quo", description=STATUS_QUO.description)
    assert fresh == STATUS_QUO
    assert _flat(fresh) == _flat(STATUS_QUO)


def test_with_changes_returns_a_new_regime_and_leaves_the_base_alone() -> None:
    before = STATUS_QUO.model_dump()
    changed = policy.with_changes(STATUS_QUO, {"clearing.enabled": True, "clearing.haircut_floor_pct": 3.5}, name="x")
    assert changed is not STATUS_QUO
    assert changed.clearing.enabled and changed.clearing.haircut_floor_pct == 3.5
    assert changed.name == "x"
    assert STATUS_QUO.model_dump() == before
    assert policy.get_preset("status_quo").clearing.enabled is False


def test_with_changes_is_all_or_nothing() -> None:
    before = STATUS_QUO.model_dump()
    with pytest.raises(ValueError, match=r"clearing\.haircut_floor_pct"):
        policy.with_changes(STATUS_QUO, {"clearing.enabled": True, "clearing.haircut_floor_pct": 99.0})
    assert STATUS_QUO.model_dump() == before


# --- the lever spec ------------------------------------------------------------------------------


def _group_models() -> dict[str, type[BaseModel]]:
    out = {}
    for group in GROUPS:
        model = PolicyRegime.model_fields[group].annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        out[group] = model
    return out


def test_lever_specs_cover_every_field_of_every_group() -> None:
    paths = {s.path for s in SPECS}
    assert len(paths) == len(SPECS), "duplicate lever paths"
    assert {s.group for s in SPECS} == set(GROUPS)
    for group, model in _group_models().items():
        for field, info in model.model_fields.items():
            path = f"{group}.{field}"
            if info.annotation == tuple[float, ...]:
                assert path not in paths, "a data series is not a lever"
                continue
            assert path in paths, f"{path} has no lever spec"
    assert set(PolicyRegime.model_fields) == {"name", "description", *GROUPS}


@pytest.mark.parametrize("spec", SPECS, ids=[s.path for s in SPECS])
def test_lever_spec_metadata_is_complete(spec: policy.LeverSpec) -> None:
    assert spec.path == f"{spec.group}.{spec.field}"
    assert spec.label.strip() and spec.unit.strip() and spec.source.strip() and spec.description.strip()
    as_dict = spec.as_dict()
    json.dumps(as_dict)
    assert as_dict["path"] == spec.path
    if spec.type in ("float", "int"):
        assert spec.min is not None and spec.max is not None and spec.step is not None
        assert math.isfinite(spec.min) and math.isfinite(spec.max) and math.isfinite(spec.step)
        assert spec.min < spec.max
        assert 0 < spec.step <= spec.max - spec.min
        assert spec.min <= spec.default <= spec.max
        if spec.type == "int":
            assert float(spec.step).is_integer()
        assert spec.choices is None
    elif spec.type == "bool":
        assert isinstance(spec.default, bool)
        assert spec.min is None and spec.max is None and spec.choices is None
    else:
        assert spec.choices and len(spec.choices) >= 2
        assert spec.default in spec.choices


@pytest.mark.parametrize("spec", NUMERIC, ids=[s.path for s in NUMERIC])
def test_every_lever_default_lies_on_its_slider_grid(spec: policy.LeverSpec) -> None:
    """A slider moves in steps from its minimum: a default off the grid cannot be reached again.

    Fails for fed_backstop.persistence_pct (default 97 with step 5 from 0) in policy/regime.py.
    """
    assert spec.min is not None and spec.step is not None
    steps = (spec.default - spec.min) / spec.step
    assert abs(steps - round(steps)) < 1e-9, f"default {spec.default} off the grid {spec.min:g} + k x {spec.step:g}"


# --- validation errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("spec", NUMERIC, ids=[s.path for s in NUMERIC])
def test_out_of_range_values_are_refused_with_path_and_range(spec: policy.LeverSpec) -> None:
    assert spec.min is not None and spec.max is not None and spec.step is not None
    for bad in (spec.max + spec.step, spec.min - spec.step):
        bad_value = int(bad) if spec.type == "int" else bad
        with pytest.raises(ValueError) as info:
            policy.with_changes(STATUS_QUO, {spec.path: bad_value})
        message = str(info.value)
        assert message.startswith(f"{spec.path}:"), message
        assert _allowed_text(spec) in message, message
    for edge in (spec.min, spec.max):
        value = int(edge) if spec.type == "int" else edge
        assert policy.regime_value(policy.with_changes(STATUS_QUO, {spec.path: value}), spec.path) == value


@pytest.mark.parametrize("spec", NUMERIC, ids=[s.path for s in NUMERIC])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_nan_and_inf_are_refused(spec: policy.LeverSpec, bad: float) -> None:
    with pytest.raises(ValueError) as info:
        policy.with_changes(STATUS_QUO, {spec.path: bad})
    message = str(info.value)
    assert message.startswith(f"{spec.path}:"), message
    assert _allowed_text(spec) in message, message


@pytest.mark.parametrize("spec", NUMERIC, ids=[s.path for s in NUMERIC])
def test_nan_in_a_regime_file_is_refused(spec: policy.LeverSpec) -> None:
    data = json.loads(policy.regime_to_json(STATUS_QUO))
    data[spec.group][spec.field] = "__NAN__"
    raw = json.dumps(data).replace('"__NAN__"', "NaN").encode()
    with pytest.raises(RegimeInputError) as info:
        parse_regime_text(raw, fmt="json", origin="r.json")
    message = str(info.value)
    assert message.startswith(f"r.json: {spec.path}:"), message
    assert _allowed_text(spec) in message
    toml = f'name = "x"\n[{spec.group}]\n{spec.field} = nan\n'.encode()
    with pytest.raises(RegimeInputError, match=rf"r\.toml: {spec.path}:.*allowed: {_allowed_text(spec)}"):
        parse_regime_text(toml, fmt="toml", origin="r.toml")


def test_bool_and_choice_levers_name_what_is_allowed() -> None:
    with pytest.raises(ValueError, match=r"^clearing\.enabled: .*allowed: true or false"):
        policy.with_changes(STATUS_QUO, {"clearing.enabled": "perhaps"})
    with pytest.raises(ValueError, match=r"^leverage_cap\.enforcement: .*allowed: one of daily, averaged, released"):
        policy.with_changes(STATUS_QUO, {"leverage_cap.enforcement": "weekly"})


def test_extra_fields_are_forbidden_everywhere() -> None:
    with pytest.raises(ValueError, match=r"^clearing\.no_such_field: unknown"):
        policy.with_changes(STATUS_QUO, {"clearing.no_such_field": 1})
    with pytest.raises(ValueError, match=r"^no_such_group\.enabled: unknown"):
        policy.with_changes(STATUS_QUO, {"no_such_group.enabled": True})
    with pytest.raises(ValidationError):
        PolicyRegime.model_validate({"name": "x", "surprise": 1})
    for group, model in _group_models().items():
        with pytest.raises(ValidationError):
            model.model_validate({"surprise": 1})
        with pytest.raises(RegimeInputError, match=rf"^r\.json: {group}\.surprise: unknown field"):
            parse_regime_text(json.dumps({"name": "x", group: {"surprise": 1}}).encode(), fmt="json", origin="r.json")
    with pytest.raises(RegimeInputError, match=r"^r\.json: surprise: unknown field"):
        parse_regime_text(b'{"name": "x", "surprise": 1}', fmt="json", origin="r.json")


def test_schedule_values_out_of_range_name_the_day() -> None:
    with pytest.raises(ValueError, match=r"fed_backstop\.purchase_schedule_usd_bn_per_day.*day 2"):
        policy.with_changes(STATUS_QUO, {"fed_backstop.purchase_schedule_usd_bn_per_day": (1.0, 250.0)})
    with pytest.raises(ValueError, match=r"fed_backstop\.purchase_schedule_usd_bn_per_day"):
        policy.with_changes(STATUS_QUO, {"fed_backstop.purchase_schedule_usd_bn_per_day": (1.0, math.nan)})
    with pytest.raises(ValueError, match=r"fed_backstop\.purchase_schedule_usd_bn_per_day"):
        policy.with_changes(STATUS_QUO, {"fed_backstop.purchase_schedule_usd_bn_per_day": (1.0,) * 251})


@pytest.mark.parametrize("name", ["", "a" * 41, "bad/name", "../etc", "<script>", "x\ny"])
def test_bad_regime_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match=r"^name: "):
        policy.with_changes(STATUS_QUO, {}, name=name)


# --- regime files --------------------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)  # a basic TOML string is a JSON string for our plain text


def _to_toml(regime: PolicyRegime) -> str:
    data = regime.model_dump()
    lines = [f"name = {_toml_value(data['name'])}", f"description = {_toml_value(data['description'])}"]
    for group in GROUPS:
        lines.append(f"\n[{group}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in data[group].items()]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", policy.preset_names())
def test_regime_json_and_toml_files_round_trip(name: str, tmp_path: Path) -> None:
    regime = policy.get_preset(name)
    json_file = tmp_path / f"{name}.json"
    json_file.write_text(policy.regime_to_json(regime))
    assert policy.load_regime_file(json_file) == regime
    toml_file = tmp_path / f"{name}.toml"
    toml_file.write_text(_to_toml(regime))
    assert policy.load_regime_file(toml_file) == regime


def test_a_partial_regime_file_takes_status_quo_defaults(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\n[clearing]\nenabled = true\nhaircut_floor_pct = 3.0\n')
    regime = policy.load_regime_file(path)
    assert regime.clearing.enabled and regime.clearing.haircut_floor_pct == 3.0
    expected = policy.with_changes(STATUS_QUO, {"clearing.enabled": True, "clearing.haircut_floor_pct": 3.0})
    assert _flat(regime) == _flat(expected)


def test_edited_regime_file_round_trips_with_changes(tmp_path: Path) -> None:
    changes = {spec.path: spec.max for spec in NUMERIC if spec.type == "float"}
    regime = policy.with_changes(STATUS_QUO, changes, name="all max")
    path = tmp_path / "max.json"
    path.write_text(policy.regime_to_json(regime))
    assert policy.load_regime_file(path) == regime


@pytest.mark.parametrize(
    ("filename", "content", "pattern"),
    [
        ("bin.json", b"\x00\x01\x02binary", "binary file"),
        ("bin.toml", b'name = "x"\x00', "binary file"),
        ("latin.json", '{"name": "caf\u00e9"}'.encode("latin-1"), "not UTF-8"),
        ("bad.json", b'{"name": "x",', "malformed JSON"),
        ("bad.toml", b"name = = 'x'", "malformed TOML"),
        ("list.json", b"[1, 2, 3]", "top level must be an object"),
        ("string.json", b'"status_quo"', "top level must be an object"),
        ("number.json", b"42", "top level must be an object"),
        ("null.json", b"null", "top level must be an object"),
        ("empty.json", b"", "malformed JSON"),
        ("noname.json", b"{}", "name"),
        ("wrongtype.json", b'{"name": "x", "clearing": 5}', "clearing"),
        ("wrongtype.toml", b'name = "x"\nclearing = "on"\n', "clearing"),
        ("numname.toml", b"name = 5\n", "name"),
        ("regime.yaml", b"name: x\n", r"unknown file type; allowed: \.json or \.toml"),
        ("regime", b'{"name": "x"}', r"unknown file type"),
    ],
)
def test_hostile_regime_files_are_refused_with_a_clear_message(filename: str, content: bytes, pattern: str, tmp_path: Path) -> None:
    path = tmp_path / filename
    path.write_bytes(content)
    with pytest.raises(RegimeInputError, match=pattern) as info:
        policy.load_regime_file(path)
    assert str(info.value).startswith(filename), "the message names the file"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("suffix", ["json", "toml"])
def test_oversized_regime_files_are_refused_before_parsing(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"huge.{suffix}"
    body = '{"name": "x", "description": "' if suffix == "json" else 'name = "x"\ndescription = "'
    path.write_text(body + "a" * (MAX_REGIME_FILE_BYTES + 10) + ('"}' if suffix == "json" else '"\n'))
    with pytest.raises(RegimeInputError, match="too large"):
        policy.load_regime_file(path)
    with pytest.raises(RegimeInputError, match="allowed: at most"):
        parse_regime_text(path.read_bytes(), fmt=suffix, origin=path.name)


@pytest.mark.parametrize(
    ("fmt", "raw"),
    [
        ("json", b"[" * 100_000 + b"]" * 100_000),
        ("toml", b"a = " + b"[" * 100_000 + b"]" * 100_000),
    ],
)
def test_deeply_nested_file_is_refused_with_regime_input_error(fmt: str, raw: bytes) -> None:
    assert len(raw) <= MAX_REGIME_FILE_BYTES
    with pytest.raises(RegimeInputError, match="nested too deeply"):
        parse_regime_text(raw, fmt=fmt, origin=f"deep.{fmt}")


def test_long_description_is_refused() -> None:
    with pytest.raises(RegimeInputError, match=r"^r\.json: description: "):
        parse_regime_text(json.dumps({"name": "x", "description": "d" * 501}).encode(), fmt="json", origin="r.json")


def test_missing_file_is_not_silently_a_regime(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        policy.load_regime_file(tmp_path / "absent.json")
