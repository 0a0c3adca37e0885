"""Fuzzing (hypothesis, bounded in examples and time) of what strangers hand us: link query
parameters and uploaded regime, scenario and study files. The codec never raises and always
returns a valid view; a reader either returns a validated object or refuses with one line that
starts with the file's name. Never a traceback, never another exception type."""

import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.errors import InputError
from engine.scenario import _parse_scenario
from engine.scenario_edit import link_scenario_check
from engine.study import parse_study
from policy import lever_specs, preset_names
from policy.files import FileInputError, read_data
from policy.io import RegimeInputError, parse_regime_text
from policy.query import ViewState, decode_view, encode_view
from policy.run_settings import MAX_PATHS_INTERACTIVE

BOUNDED = settings(max_examples=150, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SCENARIOS = engine.scenario_names()
LEVER_PATHS = [s.path for s in lever_specs()]

# Text a link may carry: printable ASCII, Markdown/HTML specials, unicode, huge and odd numbers.
_odd_numbers = st.sampled_from(["nan", "inf", "-inf", "1e309", "9" * 5000, "-0", "0x10", "1_000", " 5 ", "", "1e-400",
                                "True", "[1]", "{}", "null"])
_text = st.one_of(st.text(string.printable, max_size=30), st.text(max_size=12), _odd_numbers,
                  st.sampled_from(["![x](http://127.0.0.1:9/t.png)", "[a](http://x)", "<script>", "**b**", ":red[x]"]))
_keys = st.one_of(
    st.sampled_from(["sc", "n", "seed", "sev", "v", "mv", "sx", "r0", "r1", "r2", "r3", "r4", "r999", "a.x"]),
    st.builds(lambda i, p: f"r{i}.{p}", st.integers(0, 5), st.sampled_from([*LEVER_PATHS, "name", "__class__", ""])),
    st.builds(lambda p: f"se.{p}", st.sampled_from(["sales.foreign_official", "vol", "fund", "days", "x", "events"])),
    st.text(max_size=20),
)
_params = st.dictionaries(_keys, st.one_of(_text, st.lists(_text, max_size=3)), max_size=25)


def _ranges(name: str):
    return {k: (v.low, v.high, v.unit) for k, v in engine.assumption_ranges(name).items()}


@BOUNDED
@given(params=_params)
def test_the_link_codec_never_raises_and_always_gives_a_valid_view(params):
    view, messages = decode_view(params, scenarios=SCENARIOS, assumption_ranges=_ranges,
                                 model_version=engine.MODEL_VERSION, scenario_edit_check=link_scenario_check)
    assert isinstance(view, ViewState) and view.scenario in SCENARIOS
    assert 1 <= view.paths <= MAX_PATHS_INTERACTIVE and 1 <= len(view.regimes) <= 4
    assert all(isinstance(m, str) and m for m in messages)
    ViewState.model_validate(view.model_dump())  # the view is valid as data, not only as an object
    # What the codec writes back it reads back to the same view, with nothing to complain about.
    again, more = decode_view(encode_view(view, model_version=engine.MODEL_VERSION), scenarios=SCENARIOS,
                              assumption_ranges=_ranges, model_version=engine.MODEL_VERSION,
                              scenario_edit_check=link_scenario_check)
    assert again == view and not more


# Files: valid-looking structures with hostile values, and raw bytes.
_leaf = st.one_of(st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                  _text, st.none())
_groups = st.sampled_from(["clearing", "dealer_rule", "leverage_cap", "fed_backstop", "futures_margin", "standing_repo",
                           "leverage_ratio_relief", "foreign_demand", "x"])
_regime_data = st.dictionaries(
    st.one_of(st.just("name"), _groups, st.text(max_size=8)),
    st.one_of(_leaf, st.dictionaries(st.text(max_size=25), _leaf, max_size=4)),
    max_size=6,
)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


def _to_toml(data: dict) -> str:
    top = [f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict) and v is not None]
    tables = [f"[{json.dumps(str(k))}]\n" + "\n".join(f"{json.dumps(str(a))} = {_toml_value(b)}" for a, b in v.items()
                                                      if b is not None)
              for k, v in data.items() if isinstance(v, dict)]
    return "\n".join(top) + "\n" + "\n".join(tables)


@BOUNDED
@given(data=_regime_data, fmt=st.sampled_from(["json", "toml"]))
def test_regime_files_validate_or_are_refused_with_one_line(data, fmt):
    raw = (json.dumps(data) if fmt == "json" else _to_toml(data)).encode()
    try:
        regime = parse_regime_text(raw, fmt=fmt, origin="up." + fmt)
    except RegimeInputError as err:
        assert str(err).startswith("up." + fmt + ": ") and "\n" not in str(err)
    else:
        assert regime.name


@BOUNDED
@given(raw=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
       fmt=st.sampled_from(["json", "toml"]))
def test_raw_bytes_are_read_or_refused_with_one_line(raw, fmt):
    try:
        data = read_data(raw, fmt=fmt, origin="f", what="a file", max_bytes=200)
    except FileInputError as err:
        assert str(err).startswith("f: ") and "\n" not in str(err)
    else:
        assert isinstance(data, dict)


@BOUNDED
@given(line=st.sampled_from(["default_days", "day0", "history", "title", "regime", "volatility_scale", "era"]),
       value=st.one_of(_odd_numbers, _text.map(json.dumps), st.integers(-10**9, 10**9).map(str)))
def test_scenario_files_with_a_hostile_value_validate_or_are_refused(line, value):
    from engine.scenario import SCENARIO_DIR

    text = (SCENARIO_DIR / "march_2020.toml").read_text()
    lines = [f"{line} = {value}" if ln.split("=")[0].strip() == line else ln for ln in text.splitlines()]
    try:
        scenario = _parse_scenario("\n".join(lines).encode(), "up.toml")
    except InputError as err:
        assert str(err).startswith("up.toml: ") and "\n" not in str(err)
    else:
        assert scenario.default_days >= 1


@BOUNDED
@given(paths=st.one_of(st.integers(-5, 200_000), _text), seed=st.one_of(st.integers(-5, 2**33), _text),
       factor=st.sampled_from([*LEVER_PATHS[:6], "x", ""]), low=_leaf, high=_leaf, base=st.sampled_from([*preset_names(), "x"]))
def test_studies_validate_or_are_refused_with_one_line(paths, seed, factor, low, high, base):
    data = {"name": "fuzz", "scenarios": ["march_2020"], "paths": paths, "seed": seed, "base": base,
            "factors": [{"name": factor, "low": low, "high": high}]}
    try:
        study = parse_study(data, origin="s.toml")
    except InputError as err:
        assert str(err).startswith("s.toml: ") and "\n" not in str(err)
    else:
        assert study.paths >= 1
