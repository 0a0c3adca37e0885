"""The whole explorer view as URL query parameters: versioned, compact, validated on the way in.

Format, version 2 (every value is a plain string; order does not matter):

    v=2                          link format version (written by the app; missing = 2, for hand-written links)
    mv=2.0.0                     model version the link was made with (`engine.MODEL_VERSION`, passed in)
    sc=march_2020                scenario name (`engine.scenario_names()`)
    sev=1                        shock severity, the engine's shock scale, 0 to 5
    n=500                        Monte Carlo paths, 1 to 10,000
    seed=0                       random seed, 0 to 2**32 - 1
    r0=status_quo                regime 0 starts from this preset (`policy.preset_names()`); r0..r3
    r0.name=my_reform            regime 0's name, only when it differs from the preset name
    r0.clearing.enabled=1        a lever (dot path of `policy.lever_specs()`) that differs from the preset:
                                 booleans 1/0, numbers in shortest form, choices by name
    a.dislocation_slope_bp=7.5   a re-centred calibrated assumption (`engine.assumption_ranges`)
    se.days=60                   an edit of the scenario ("Build a shock"; the engine's `ScenarioEdit`,
                                 see `engine/scenario_edit.py`): horizon in trading days, 1 to 250
    se.sales.foreign_official=300  total sales of a sector, $bn, 0 to 5000 (sectors foreign_official,
                                 foreign_private, mutual_funds, treasury)
    se.vol=1.5                   volatility scale, 0.5 to 3 (x); se.fund=1.2 fundamental-path scale, 0 to 3;
                                 se.repo=0.5 funding-stress scale, 0 to 3; se.sd=0.2 shock-size sd, 0 to 1
    se.ev0=5:Reserve managers sell  a dated event, day:label (se.ev0 to se.ev11, replacing the scenario's
                                 events; se.ev=none removes them all)
    sx=eJy...                    a whole uploaded scenario: zlib + base64url of its canonical JSON, written
                                 only up to MAX_LINK_SCENARIO_CHARS (2,000) characters (beyond that the link
                                 leaves it out and the app offers the scenario as a file); it replaces `sc`'s
                                 scenario and any se.* edits

Only levers that differ from the preset are written, so a link names exactly what a user changed.
`decode_view` never raises: it returns the best view it can restore plus one human message per
field it dropped or changed, naming the field and what is allowed. A link whose `mv` differs from
the running model gets one message that its numbers may differ.

Version 1 (model 0.1, no `mv`) is still read, with one message that the numbers may differ and
which lever defaults model 2.0 changed (`V1_CHANGED_DEFAULTS`; presets are read with today's
defaults, not converted). Its retired lever names are handled in any version:
`rN.clearing.margin_floor_pct` is read as `rN.clearing.haircut_floor_pct` (the same floor on
cleared repo margin, now on top of the CCP's VaR margin), and `rN.leverage_cap.max_leverage_x` is
dropped (x equity is not the gross notional / net assets the cap now measures; no conversion).

Scenario edits (se.*, sx) are new optional parameters of format 2: a link without them reads as
before. `decode_view` checks them through the caller's `scenario_edit_check` (the engine's
`engine.scenario_edit.link_scenario_check`, the same pydantic models as scenario files); without
one, edits are dropped with a message.

Layering: `policy` does not import `engine`. The scenario list, the assumption ranges, the scenario
edit check and the model version that `encode_view` / `decode_view` use are passed in by the caller
(`engine.scenario_names`, `engine.assumption_bounds`, `engine.scenario_edit.link_scenario_check`,
`engine.MODEL_VERSION`).
"""

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from policy.presets import PRESETS, get_preset, preset_names
from policy.regime import PolicyRegime
from policy.run_settings import MAX_LINK_NUMBER_CHARS as _MAX_LINK_NUMBER_CHARS
from policy.run_settings import (
    MAX_LINK_SCENARIO_CHARS,
    InteractivePaths,
    RunSettings,
    Seed,
    ShockScale,
    allowed,
)
from policy.run_settings import MAX_PARAMS as _MAX_PARAMS
from policy.run_settings import MAX_REGIMES_INTERACTIVE as MAX_REGIMES
from policy.run_settings import MAX_VALUE_CHARS as _MAX_VALUE_CHARS
from policy.spec import LeverSpec, allowed_range, lever_specs, regime_value, with_changes

QUERY_VERSION = 2
SUPPORTED_VERSIONS: tuple[int, ...] = (1, 2)
V1_MODEL_VERSION = "0.1"  # the model every version-1 link was made with
DEFAULT_PRESETS: tuple[str, ...] = ("status_quo", "clearing_rule", "all_guardrails")
SCENARIO_EDIT_PREFIX = "se."
CUSTOM_SCENARIO_KEY = "sx"
# (base scenario, se.* edit without the prefix, sx blob) -> (accepted edit, accepted blob, messages)
ScenarioEditCheck = Callable[[str, dict[str, str], str | None], tuple[dict[str, str], str | None, list[str]]]
_REGIME_KEY = re.compile(r"^r(\d{1,3})(?:\.(.+))?$")
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ .\-]*$")
LeverValue = bool | int | float | str
_MODEL_VERSION_PATTERN = re.compile(r"^\d{1,4}(?:\.\d{1,4}){0,3}(?:[-+][A-Za-z0-9.]{1,20})?$")

# Lever defaults of model 0.1 (link format 1) that model 2.0 changed, by today's lever path; the
# version-1 message compares them with today's defaults from `lever_specs()`.
V1_CHANGED_DEFAULTS: dict[str, LeverValue] = {
    "clearing.haircut_floor_pct": 2.0,
    "fed_backstop.threshold_bp": 35.0,
    "fed_backstop.slope_usd_bn_per_bp": 4.0,
    "fed_backstop.lag_days": 2,
    "futures_margin.initial_margin_pct": 2.0,
}
# Retired levers' model-0.1 defaults, for the version-1 message.
V1_RETIRED_DEFAULTS: dict[str, str] = {"leverage_cap.max_leverage_x": "12 x equity"}
# Levers model 2.0 added (a version-1 link always gets their defaults).
V1_NEW_LEVERS: tuple[str, ...] = ("leverage_cap.covered_share_pct", "fed_backstop.persistence_pct")
# Old lever path -> (today's path, why), read under the new name in any link version.
RENAMED_LEVERS: dict[str, tuple[str, str]] = {
    "clearing.margin_floor_pct": (
        "clearing.haircut_floor_pct",
        "the same floor on cleared repo margin, now applied on top of the CCP's VaR margin (the larger "
        "of the two is charged), with a status-quo default of 0 because the SEC rule sets no floor",
    ),
}
# Old lever path -> (today's nearest lever, why it is not converted), dropped in any link version.
RETIRED_LEVERS: dict[str, tuple[str, str]] = {
    "leverage_cap.max_leverage_x": (
        "leverage_cap.max_gross_leverage_x",
        "the cap now measures gross notional exposure / net assets (Form PF), not RV positions per dollar "
        "of equity, so the value was not converted",
    ),
}



class RegimeView(BaseModel):
    """One regime as the user built it: a preset plus the levers changed from it."""

    model_config = ConfigDict(allow_inf_nan=False)

    preset: str
    name: str
    changes: dict[str, LeverValue] = Field(default_factory=dict)


class ViewState(BaseModel):
    """Everything the explorer shows: scenario, run settings, 1 to 4 regimes and assumptions."""

    model_config = ConfigDict(allow_inf_nan=False)

    scenario: str
    shock_scale: ShockScale = 1.0
    paths: InteractivePaths = 500
    seed: Seed = 0
    regimes: list[RegimeView] = Field(min_length=1, max_length=MAX_REGIMES)
    assumptions: dict[str, float] = Field(default_factory=dict)
    # The scenario as the user edited it, as plain link data (policy does not know the engine's model):
    # se.* parameters without the prefix, and an uploaded scenario's blob (see the module docstring).
    scenario_edit: dict[str, str] = Field(default_factory=dict)
    custom_scenario: str | None = None


# ---------------------------------------------------------------- helpers


def _specs() -> dict[str, LeverSpec]:
    return {s.path: s for s in lever_specs()}


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def format_value(value: LeverValue) -> str:
    """A lever or setting as URL text: 1/0 for booleans, the shortest exact form for numbers."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


_READERS: dict[str, TypeAdapter] = {
    "bool": TypeAdapter(bool),
    "int": TypeAdapter(int),
    "float": TypeAdapter(Annotated[float, Field(allow_inf_nan=False)]),
}


def _read(kind: str, text: str) -> LeverValue | None:
    if len(text) > _MAX_LINK_NUMBER_CHARS:
        return None
    try:
        return _READERS[kind].validate_python(text.strip())
    except ValidationError:
        return None


def parse_finite(text: str) -> float | None:
    """A link value as a finite number, or None."""
    value = _read("float", text)
    return float(value) if value is not None else None


def _parse_int(text: str) -> int | None:
    value = _read("int", text)
    return int(value) if value is not None else None


def parse_lever(spec: LeverSpec, text: str) -> LeverValue | None:
    """URL text to a lever value of the spec's type (range is checked later), or None."""
    if spec.type in _READERS:
        return _read(spec.type, text)
    return text if spec.choices and text in spec.choices else None


def default_view(scenario: str, presets: Sequence[str] = DEFAULT_PRESETS) -> ViewState:
    """The view a new session starts with."""
    return ViewState(scenario=scenario, regimes=[RegimeView(preset=p, name=p) for p in presets])


def regime_changes(regime: PolicyRegime, preset: str) -> dict[str, LeverValue]:
    """Levers of `regime` that differ from `preset`, in lever order."""
    base = get_preset(preset)
    out: dict[str, LeverValue] = {}
    for spec in lever_specs():
        value = regime_value(regime, spec.path)
        if value != regime_value(base, spec.path):
            out[spec.path] = value
    return out


def closest_preset(regime: PolicyRegime) -> str:
    """The preset a regime differs least from (non-lever data such as a purchase schedule must match)."""
    best, best_count = "status_quo", None
    for name, preset in PRESETS.items():
        if preset.fed_backstop.purchase_schedule_usd_bn_per_day != regime.fed_backstop.purchase_schedule_usd_bn_per_day:
            continue
        count = len(regime_changes(regime, name))
        if best_count is None or count < best_count:
            best, best_count = name, count
    return best


def regime_view_of(regime: PolicyRegime, preset: str | None = None) -> RegimeView:
    """A RegimeView that rebuilds `regime` (levers only) from `preset` or the closest preset."""
    preset = preset or closest_preset(regime)
    return RegimeView(preset=preset, name=regime.name, changes=regime_changes(regime, preset))


def _description(view: RegimeView) -> str:
    base = PRESETS[view.preset].description
    if not view.changes:
        return base
    order = {path: i for i, path in enumerate(_specs())}
    paths = sorted(view.changes, key=lambda p: order.get(p, len(order)))
    changed = ", ".join(f"{path}={format_value(view.changes[path])}" for path in paths)
    text = f"{view.preset} with {changed}. {base}"
    return text if len(text) <= 500 else text[:497] + "..."


def regime_from_view(view: RegimeView) -> PolicyRegime:
    """The regime a RegimeView stands for; raises ValueError naming the bad path and its range."""
    try:
        base = get_preset(view.preset)
    except KeyError as err:
        raise ValueError(str(err.args[0])) from None
    return with_changes(base, dict(view.changes), name=view.name, description=_description(view))


def regimes_from_view(view: ViewState) -> list[PolicyRegime]:
    """The PolicyRegime objects of a view, each a validated copy of its preset with the changes."""
    return [regime_from_view(r) for r in view.regimes]


# ---------------------------------------------------------------- encode


def encode_view(view: ViewState, *, model_version: str) -> dict[str, str]:
    """The view as query parameters (format version `QUERY_VERSION`, see the module docstring).

    `model_version` is the running model's (`engine.MODEL_VERSION`); it is written as `mv`, so a
    link opened under another model can say that its numbers may differ.
    """
    specs = _specs()
    order = {path: i for i, path in enumerate(specs)}
    params: dict[str, str] = {
        "v": str(QUERY_VERSION),
        "mv": str(model_version),
        "sc": view.scenario,
        "sev": format_value(float(view.shock_scale)),
        "n": str(view.paths),
        "seed": str(view.seed),
    }
    for i, regime in enumerate(view.regimes):
        params[f"r{i}"] = regime.preset
        if regime.name != regime.preset:
            params[f"r{i}.name"] = regime.name
        for path in sorted(regime.changes, key=lambda p: order.get(p, len(order))):
            params[f"r{i}.{path}"] = format_value(regime.changes[path])
    for name in sorted(view.assumptions):
        params[f"a.{name}"] = format_value(float(view.assumptions[name]))
    for key, value in view.scenario_edit.items():  # in the engine's canonical order
        params[SCENARIO_EDIT_PREFIX + key] = value
    if view.custom_scenario is not None and scenario_fits_link(view):
        params[CUSTOM_SCENARIO_KEY] = view.custom_scenario
    return params


def scenario_fits_link(view: ViewState) -> bool:
    """False when the view's uploaded scenario is too long for a link (it is then left out of it)."""
    return view.custom_scenario is None or len(view.custom_scenario) <= MAX_LINK_SCENARIO_CHARS


def view_url(base_url: str, view: ViewState, *, model_version: str) -> str:
    """A shareable link: `base_url` with its query replaced by the encoded view."""
    parts = urlsplit(base_url)
    query = urlencode(encode_view(view, model_version=model_version))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))


# ---------------------------------------------------------------- decode


def _single(value: str | list[str] | Any) -> str:
    if isinstance(value, list | tuple):
        value = value[-1] if value else ""
    return str(value)


def decode_view(
    params: Mapping[str, str | list[str]],
    *,
    scenarios: Sequence[str],
    assumption_ranges: Callable[[str], Mapping[str, tuple[float, float, str]]],
    model_version: str,
    default_scenario: str | None = None,
    scenario_edit_check: ScenarioEditCheck | None = None,
) -> tuple[ViewState, list[str]]:
    """Query parameters to a ViewState, never raising.

    Returns the best state it can restore and one message per dropped or corrected field, naming
    the field and the allowed values. The caller passes the scenario names,
    `assumption_ranges(scenario) -> {name: (low, high, unit)}` and the running model version (the
    engine's, in the app), so `policy` stays below `engine`. `default_scenario` is what a link
    without a (known) `sc` opens; None means the first of `scenarios`. `scenario_edit_check(scenario,
    edit, blob)` validates the se.* edit and the sx scenario (None: no edits are accepted).
    """
    messages: list[str] = []
    names = [str(n) for n in scenarios]
    fallback = default_scenario if default_scenario in names else (names[0] if names else str(default_scenario or ""))
    ranges_of = assumption_ranges
    raw: dict[str, str] = {}
    try:
        items = list(params.items())
    except Exception:
        items = []
        messages.append("link: could not read the query parameters; showing the defaults")
    if len(items) > _MAX_PARAMS:
        messages.append(f"link: {len(items):,} parameters; allowed: at most {_MAX_PARAMS}; the rest were ignored")
        items = items[:_MAX_PARAMS]
    for key, value in items:
        key, text = str(key)[:120], _single(value)
        limit = MAX_LINK_SCENARIO_CHARS if key == CUSTOM_SCENARIO_KEY else _MAX_VALUE_CHARS
        if len(text) > limit:
            messages.append(f"{key}: value of {len(text):,} characters ignored; allowed: at most {limit:,}")
            continue
        raw[key] = text

    version = _link_version(raw.pop("v", None), raw.pop("mv", None), str(model_version), messages)

    # scenario and run settings
    scenario = fallback
    if "sc" in raw:
        text = raw.pop("sc")
        if text in names:
            scenario = text
        else:
            messages.append(f"sc: unknown scenario {_short(text)}; allowed: {', '.join(names)}; showing {fallback}")
    view = default_view(scenario)
    run_settings = {"sev": view.shock_scale, "n": view.paths, "seed": view.seed}
    # Link key -> (field of the run spec, what the message calls it): pydantic coerces the text and the
    # spec's interactive limits bound it, so a link is refused in the words of every other surface.
    link_settings = {"sev": ("shock_scale", "sev (shock severity)"), "n": ("paths", "n (paths)"), "seed": ("seed", "seed")}
    for key, (field, label) in link_settings.items():
        if key in raw:
            text = raw.pop(key)
            try:
                run_settings[key] = getattr(RunSettings.model_validate({"mode": "interactive", field: text}), field)
            except ValidationError:
                messages.append(f"{label}: {_short(text)} ignored; allowed: {allowed(field, 'interactive')}")
    shock_scale, paths, seed = run_settings["sev"], run_settings["n"], run_settings["seed"]

    # regimes
    regime_keys: dict[int, dict[str, str]] = {}
    assumption_keys: dict[str, str] = {}
    edit_keys: dict[str, str] = {}
    blob: str | None = None
    for key, text in raw.items():
        match = _REGIME_KEY.match(key)
        if match:
            regime_keys.setdefault(int(match.group(1)), {})[match.group(2) or ""] = text
        elif key.startswith("a."):
            assumption_keys[key[2:]] = text
        elif key.startswith(SCENARIO_EDIT_PREFIX):
            edit_keys[key[len(SCENARIO_EDIT_PREFIX):]] = text
        elif key == CUSTOM_SCENARIO_KEY:
            blob = text
        else:
            messages.append(f"{_short(key)}: unknown link parameter ignored")
    indices = sorted(regime_keys)
    dropped = [i for i in indices if i >= MAX_REGIMES]
    if dropped:
        messages.append(
            f"r{dropped[0]}: too many regimes; allowed: 1 to {MAX_REGIMES} (r0 to r{MAX_REGIMES - 1}); "
            f"{len(dropped)} ignored"
        )
    regimes = [_decode_regime(i, regime_keys[i], messages) for i in indices if i < MAX_REGIMES]
    regimes = [r for r in regimes if r is not None]
    _unique_names(regimes, messages)
    if not regimes:
        regimes = view.regimes

    # assumptions
    assumptions: dict[str, float] = {}
    if assumption_keys:
        try:
            ranges = dict(ranges_of(scenario))
        except Exception:
            ranges = {}
        for name, text in assumption_keys.items():
            if name not in ranges:
                older = f" in model {model_version} (the link is from model {V1_MODEL_VERSION})" if version == 1 else ""
                messages.append(f"a.{_short(name)[1:-1]}: unknown assumption for {scenario}{older}; ignored")
                continue
            low, high, unit = ranges[name]
            value = parse_finite(text)
            if value is None or not low <= value <= high:
                messages.append(
                    f"a.{name}: {_short(text)} ignored; allowed: a number from {low:g} to {high:g} ({unit})"
                )
            else:
                assumptions[name] = value

    scenario_edit, custom = _decode_scenario_edit(scenario, edit_keys, blob, scenario_edit_check, messages)
    state = ViewState(
        scenario=scenario, shock_scale=shock_scale, paths=paths, seed=seed, regimes=regimes, assumptions=assumptions,
        scenario_edit=scenario_edit, custom_scenario=custom,
    )
    return state, messages


def _decode_scenario_edit(
    scenario: str,
    edit: dict[str, str],
    blob: str | None,
    check: ScenarioEditCheck | None,
    messages: list[str],
) -> tuple[dict[str, str], str | None]:
    """The accepted se.* edit and sx scenario (the caller's check names each dropped field)."""
    if not edit and not blob:
        return {}, None
    keys = [SCENARIO_EDIT_PREFIX + k for k in edit] + ([CUSTOM_SCENARIO_KEY] if blob else [])
    if check is None:
        messages.append(f"{_short(keys[0])[1:-1]}: scenario edits are not read here; {len(keys)} parameter(s) ignored")
        return {}, None
    try:
        accepted, accepted_blob, found = check(scenario, dict(edit), blob)
    except Exception as err:  # the check is the caller's: never let it break the link
        messages.append(f"{_short(keys[0])[1:-1]}: the scenario edit could not be read ({err}); ignored")
        return {}, None
    messages.extend(str(m) for m in found)
    return {str(k): str(v) for k, v in accepted.items()}, accepted_blob


def _decode_regime(index: int, fields: dict[str, str], messages: list[str]) -> RegimeView | None:
    prefix = f"r{index}"
    preset = fields.pop("", None)
    if preset is None:
        messages.append(f"{prefix}: regime settings without a preset; allowed presets: {', '.join(preset_names())}")
        preset = "status_quo"
    elif preset not in PRESETS:
        messages.append(
            f"{prefix}: unknown preset {_short(preset)}; allowed: {', '.join(preset_names())}; using status_quo"
        )
        preset = "status_quo"
    name = preset
    if "name" in fields:
        text = fields.pop("name").strip()
        if 1 <= len(text) <= 40 and _NAME_PATTERN.match(text):
            name = text
        else:
            messages.append(
                f"{prefix}.name: {_short(text)} ignored; allowed: 1 to 40 letters, digits, space, _ . - "
                "(not starting with a space, dot or dash)"
            )
    specs = _specs()
    base = get_preset(preset)
    changes: dict[str, LeverValue] = {}
    for given, text in fields.items():
        path, note = _current_path(prefix, given, text, fields, messages)
        if path is None:
            continue
        spec = specs.get(path)
        if spec is None:
            messages.append(f"{prefix}.{_short(path)[1:-1]}: unknown lever ignored")
            continue

        def problem(detail: str, path: str = path, note: str | None = note) -> None:
            messages.append(f"{note}; {detail}" if note else f"{prefix}.{path}: {detail}")

        value = parse_lever(spec, text)
        if value is None:
            problem(f"{_short(text)} ignored; allowed: {allowed_range(path)}")
            continue
        try:
            with_changes(base, {path: value})
        except ValueError as err:
            detail = str(err)
            if note is None and detail.startswith(path):
                messages.append(f"{prefix}.{detail}")
            else:
                problem(detail.removeprefix(f"{path}: "))
            continue
        if note:
            messages.append(f"{note}; value {format_value(value)} kept")
        if value != regime_value(base, path):
            changes[path] = value
    try:
        with_changes(base, changes, name=name)
    except ValueError as err:  # a combination the regime model rejects as a whole
        messages.append(f"{prefix}: {err}; lever changes of this regime ignored")
        changes = {}
    return RegimeView(preset=preset, name=name, changes=changes)


def _link_version(text: str | None, link_model: str | None, model_version: str, messages: list[str]) -> int:
    """The link format to read (1 or 2), with the messages on the format and the link's model version."""
    version = QUERY_VERSION
    if text is not None:
        parsed = _parse_int(text)
        if parsed in SUPPORTED_VERSIONS:
            version = int(parsed)
        else:
            messages.append(
                f"v: link format version {_short(text)} is not supported; allowed: "
                f"{', '.join(str(v) for v in SUPPORTED_VERSIONS)}. The link was read as version {QUERY_VERSION} "
                "where possible; check the settings below."
            )
    if version == 1:
        messages.append(v1_message(model_version))
    elif link_model is not None:
        if not _MODEL_VERSION_PATTERN.match(link_model):
            messages.append(f"mv: {_short(link_model)} ignored; allowed: a model version such as {model_version}")
        elif link_model != model_version:
            messages.append(
                f"mv: this link was made with model {link_model} and this is model {model_version}, so its numbers "
                "may differ from the ones it was shared with (its settings were read as they are)"
            )
    return version


def v1_message(model_version: str) -> str:
    """The one message a version-1 link gets: made with model 0.1, numbers may differ, what changed."""
    specs = _specs()
    was = {new: old for old, (new, _) in RENAMED_LEVERS.items()}
    changed = []
    for path, old in V1_CHANGED_DEFAULTS.items():
        spec = specs.get(path)
        if spec is None or spec.default == old:
            continue
        renamed = f" (was {was[path].split('.', 1)[1]})" if path in was else ""
        changed.append(f"{path}{renamed} {format_value(old)} -> {format_value(spec.default)} {spec.unit}")
    for old_path, (new_path, _) in RETIRED_LEVERS.items():
        spec = specs.get(new_path)
        if spec is not None:
            old = V1_RETIRED_DEFAULTS.get(old_path, "")
            changed.append(f"{old_path} {old} -> {new_path} {format_value(spec.default)} {spec.unit}".replace("  ", " "))
    new = [f"{p} {format_value(specs[p].default)} {specs[p].unit}" for p in V1_NEW_LEVERS if p in specs]
    return (
        f"v: this link was made with model {V1_MODEL_VERSION} (link format 1) and this is model {model_version}, "
        "so its numbers may differ. Lever defaults that changed (presets now use the new ones): "
        + "; ".join(changed)
        + (f"; new levers: {'; '.join(new)}" if new else "")
        + f". Allowed link formats: {', '.join(str(v) for v in SUPPORTED_VERSIONS)}."
    )


def _current_path(
    prefix: str, given: str, text: str, fields: Mapping[str, str], messages: list[str]
) -> tuple[str | None, str | None]:
    """Today's path of a lever key and a note if it was renamed; None (with a message) if it is retired."""
    if given in RETIRED_LEVERS:
        new_path, why = RETIRED_LEVERS[given]
        messages.append(
            f"{prefix}.{given}: dropped, {why} ({_short(text)} ignored); to cap leverage set {prefix}.{new_path}, "
            f"allowed: {allowed_range(new_path)}"
        )
        return None, None
    if given in RENAMED_LEVERS:
        new_path, why = RENAMED_LEVERS[given]
        if new_path in fields:
            messages.append(f"{prefix}.{given}: ignored; the link also sets {prefix}.{new_path}, its new name")
            return None, None
        return new_path, f"{prefix}.{given}: renamed {prefix}.{new_path} in model 2.0, {why}"
    return given, None


def _unique_names(regimes: list[RegimeView], messages: list[str]) -> None:
    seen: set[str] = set()
    for i, regime in enumerate(regimes):
        if regime.name in seen:
            new = unique_name(regime.name, seen)
            messages.append(f"r{i}.name: {regime.name!r} is used twice; renamed to {new!r} (names must be unique)")
            regime.name = new
        seen.add(regime.name)


def unique_name(name: str, taken: set[str] | Sequence[str]) -> str:
    """`name`, or `name_2`, `name_3`, ... if it is taken (kept within the 40-character limit)."""
    if name not in taken:
        return name
    k = 2
    while True:
        candidate = f"{name[:36]}_{k}"
        if candidate not in taken:
            return candidate
        k += 1


__all__ = [
    "MAX_LINK_SCENARIO_CHARS",
    "MAX_REGIMES",
    "QUERY_VERSION",
    "RENAMED_LEVERS",
    "RETIRED_LEVERS",
    "SUPPORTED_VERSIONS",
    "V1_CHANGED_DEFAULTS",
    "RegimeView",
    "ValidationError",
    "ViewState",
    "closest_preset",
    "decode_view",
    "default_view",
    "encode_view",
    "format_value",
    "regime_changes",
    "regime_from_view",
    "regime_view_of",
    "regimes_from_view",
    "scenario_fits_link",
    "unique_name",
    "v1_message",
    "view_url",
]
