"""Edited and uploaded scenarios ("Build a shock"): the edit as data, its link form, TOML and blobs.

An edit (`ScenarioEdit`) changes a few things of one scenario: the horizon, sales by sector, the
volatility, fundamental-path and funding-stress scales, the shock-size uncertainty and the dated
events.
`apply_edit` turns it into a new Scenario validated by the same pydantic models as a scenario
file, so an edit, a file, the CLI and a link give the same messages. An uploaded scenario file is
read by `parse_scenario_upload` with the checks of `engine.scenario.load_scenario` (size, UTF-8,
TOML, fields and ranges, history files confined to the shipped ones).

Link form (the keys of `policy.query.ViewState.scenario_edit`; a link writes them as `se.<key>`):

    days=60                      horizon, trading days, 1 to MAX_DAYS
    sales.foreign_official=300   total sales of a sector, $bn, 0 to 5000; a sector with several flows
                                 is scaled proportionally, one with none gets a new flow over days
                                 1 to min(10, horizon)
    vol=1.5                      volatility_scale, 0.5 to 3 (x)
    fund=1.2                     fundamental_scale, 0 to 3 (x)
    repo=0.5                     funding_scale (repo funding stress), 0 to 3 (x)
    sd=0.2                       shock_size_sd, 0 to 1 (log sd)
    ev0=5:Reserve managers sell  events ev0 to ev11 as day:label; they replace the scenario's events
    ev=none                      the edit removes every event

A whole scenario (an upload that is no edit of the view's scenario) travels as one blob
(`scenario_to_blob`: zlib + base64url of its canonical JSON), link key `sx`.

Horizon: an edited event must lie within the edited horizon (refused otherwise). Flows, and the
events a scenario file brings, may lie beyond its horizon (as in any scenario file, a run with a
longer `days` reaches them); `engine.scenario.horizon_notes` says what a run cuts.
"""

import base64
import binascii
import math
import re
import zlib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.errors import InputError
from engine.scenario import (
    EXOGENOUS_SECTORS,
    FUNDAMENTAL_SCALE_RANGE,
    FUNDING_SCALE_RANGE,
    MAX_DAYS,
    MAX_SALES_USD_BN,
    MAX_SCENARIO_FILE_BYTES,
    VOLATILITY_SCALE_RANGE,
    Event,
    Flow,
    Scenario,
    Sector,
    _parse_scenario,
    describe_scenario_error,
    field_bounds,
    load_scenario,
    range_text,
    scenario_names,
)
from policy.query import format_value, parse_finite
from policy.run_settings import MAX_BLOB_CHARS, MAX_EVENTS

NEW_FLOW_DAYS = 10
NEW_FLOW_SOURCE = "Edited in the app"
EDITED_SUFFIX = "_edited"
_EDIT_NOTE = "\n\nEdited in the app: "
_WAS = re.compile(r"^Edited in the app: was \$[^ ]*bn\. ")
_BLOB = re.compile(r"^[A-Za-z0-9_-]*$")

# The scenario's multipliers and the shock-size sd an edit may set, in link and message order.
_SCALARS = ("volatility_scale", "fundamental_scale", "funding_scale", "shock_size_sd")

SalesTotal = Annotated[float, Field(ge=0, le=MAX_SALES_USD_BN)]


class ScenarioEdit(BaseModel):
    """What a user changed of one scenario; None (or a missing sector) keeps the scenario's value."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    base: str = Field(pattern=r"^[a-z0-9_]{1,40}$", description="The scenario edited (by name)")
    days: int | None = Field(
        default=None, ge=1, le=MAX_DAYS, description="Horizon, trading days", json_schema_extra={"unit": "trading days"}
    )
    sales_usd_bn: dict[Sector, SalesTotal] = Field(
        default_factory=dict, description="Total sales of a sector over the episode, $bn", json_schema_extra={"unit": "$bn"}
    )
    volatility_scale: float | None = Field(
        default=None,
        ge=VOLATILITY_SCALE_RANGE[0],
        le=VOLATILITY_SCALE_RANGE[1],
        description=Scenario.model_fields["volatility_scale"].description,
        json_schema_extra={"unit": "x"},
    )
    fundamental_scale: float | None = Field(
        default=None,
        ge=FUNDAMENTAL_SCALE_RANGE[0],
        le=FUNDAMENTAL_SCALE_RANGE[1],
        description=Scenario.model_fields["fundamental_scale"].description,
        json_schema_extra={"unit": "x"},
    )
    funding_scale: float | None = Field(
        default=None,
        ge=FUNDING_SCALE_RANGE[0],
        le=FUNDING_SCALE_RANGE[1],
        description=Scenario.model_fields["funding_scale"].description,
        json_schema_extra={"unit": "x"},
    )
    shock_size_sd: float | None = Field(
        default=None, ge=0, le=1, description="Log sd of the Monte Carlo shock-size multiplier",
        json_schema_extra={"unit": "log sd"},
    )
    events: tuple[Event, ...] | None = Field(
        default=None, max_length=MAX_EVENTS, description="Dated events; replace the scenario's"
    )

    @field_validator("events")
    @classmethod
    def _by_day(cls, events: tuple[Event, ...] | None) -> tuple[Event, ...] | None:
        # One canonical order, so an edit, its link and the scenario it makes agree.
        return None if events is None else tuple(sorted(events, key=lambda e: e.day))

    @property
    def is_empty(self) -> bool:
        return self == ScenarioEdit(base=self.base)


# ---------------------------------------------------------------- ranges, for widgets and messages


def edit_bounds() -> dict[str, tuple[float, float, str]]:
    """{edit field: (low, high, unit)} from the model's Field bounds (the app's widget limits)."""
    out: dict[str, tuple[float, float, str]] = {}
    for name in ("days", *_SCALARS):
        low, high = field_bounds(ScenarioEdit, name)
        extra = ScenarioEdit.model_fields[name].json_schema_extra
        assert low is not None and high is not None and isinstance(extra, dict)
        out[name] = (low, high, str(extra["unit"]))
    low, high = field_bounds(Flow, "total_usd_bn")
    assert low is not None and high is not None
    out["sales_usd_bn"] = (low, high, "$bn")
    return out


def _allowed(field: str) -> str:
    low, high, unit = edit_bounds()[field]
    return range_text(low, high, whole=field == "days", unit=unit)


# ---------------------------------------------------------------- applying an edit


def sector_totals(scenario: Scenario) -> dict[str, float]:
    """Total sales of every exogenous sector over the scenario's flows, $bn (0 for a sector without)."""
    return {s: round(math.fsum(f.total_usd_bn for f in scenario.flows if f.sector == s), 9) for s in EXOGENOUS_SECTORS}


def _label(sector: str) -> str:
    return sector.replace("_", " ")


def _bn(value: float) -> str:
    return f"${value:,.6g}bn"


def _changes(base: Scenario, edit: ScenarioEdit) -> list[str]:
    """The edit in words, one item per changed field, in a fixed order."""
    out = []
    totals = sector_totals(base)
    for sector in EXOGENOUS_SECTORS:
        if sector in edit.sales_usd_bn and edit.sales_usd_bn[sector] != totals[sector]:
            out.append(f"{_label(sector)} sales {_bn(edit.sales_usd_bn[sector])} (was {_bn(totals[sector])})")
    if edit.days is not None and edit.days != base.default_days:
        out.append(f"horizon {edit.days} trading days (was {base.default_days})")
    words = {
        "volatility_scale": "volatility {:g}x (was {:g}x)",
        "fundamental_scale": "fundamental path {:g}x (was {:g}x)",
        "funding_scale": "repo funding stress {:g}x (was {:g}x)",
        "shock_size_sd": "shock-size uncertainty {:g} log sd (was {:g})",
    }
    for name, text in words.items():
        value = getattr(edit, name)
        if value is not None and value != getattr(base, name):
            out.append(text.format(value, getattr(base, name)))
    if edit.events is not None and edit.events != base.events:
        out.append(f"{len(edit.events)} events (was {len(base.events)})")
    return out


def describe_edit(base: Scenario, edit: ScenarioEdit) -> str:
    """'foreign official sales $600bn (was $300bn), horizon 60 trading days (was 40)'; '' for no change."""
    return ", ".join(_changes(base, edit))


def _edited_source(flow: Flow) -> str:
    return f"Edited in the app: was {_bn(flow.total_usd_bn)}. {_WAS.sub('', flow.source)}"


def apply_edit(base: Scenario, edit: ScenarioEdit) -> Scenario:
    """A new validated Scenario: `base` with the edit applied (`base` is never changed).

    Without any change it is an equal copy of `base` (same name, same results). Otherwise its name
    is `<base>_edited`, its title `<title> (edited)`, its description ends with what was changed
    and every changed flow's source says what it was. Raises InputError naming the field and range.
    """
    if edit.base != base.name:
        raise InputError(f"base: the edit is of {edit.base!r}, not of {base.name!r}")
    changes = _changes(base, edit)
    data = base.model_dump()
    if not changes:
        return Scenario.model_validate(data)
    days = base.default_days if edit.days is None else edit.days
    data["default_days"] = days
    flows = [f.model_dump() for f in base.flows]
    totals = sector_totals(base)
    for sector in EXOGENOUS_SECTORS:
        target = edit.sales_usd_bn.get(sector)
        if target is None or target == totals[sector]:
            continue
        mine = [i for i, f in enumerate(base.flows) if f.sector == sector]
        if not mine:
            flows.append(
                {"sector": sector, "total_usd_bn": float(target), "start_day": 1,
                 "end_day": min(NEW_FLOW_DAYS, days), "source": NEW_FLOW_SOURCE}
            )
            continue
        old = totals[sector]
        for k, i in enumerate(mine):
            flow = base.flows[i]
            if len(mine) == 1:
                share = float(target)
            elif old > 0:
                share = target * flow.total_usd_bn / old
            else:  # several flows of nothing: share the new total evenly
                share = target / len(mine)
            if k == len(mine) - 1 and len(mine) > 1:  # the last takes the rounding, so the sector sums to target
                share = max(0.0, target - math.fsum(flows[j]["total_usd_bn"] for j in mine[:-1]))
            flows[i] = flows[i] | {"total_usd_bn": share, "source": _edited_source(flow)}
    data["flows"] = flows
    for name in _SCALARS:
        if getattr(edit, name) is not None:
            data[name] = getattr(edit, name)
    if edit.events is not None:
        for i, event in enumerate(edit.events):
            if event.day > days:
                raise InputError(
                    f"events.{i}.day: day {event.day} is beyond the {days}-day horizon; allowed: a whole number "
                    f"from 0 to {days} (trading day)"
                )
        data["events"] = [e.model_dump() for e in edit.events]
    stem = base.name.removesuffix(EDITED_SUFFIX)
    data["name"] = stem[: 40 - len(EDITED_SUFFIX)] + EDITED_SUFFIX
    title = base.title.removesuffix(" (edited)")
    data["title"] = title[: 80 - len(" (edited)")] + " (edited)"
    data["description"] = base.description.split(_EDIT_NOTE)[0] + _EDIT_NOTE + "; ".join(changes) + "."
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise InputError(describe_scenario_error(err)) from None


def make_edit(
    base: Scenario,
    *,
    days: int | None = None,
    sales_usd_bn: Mapping[str, float] | None = None,
    volatility_scale: float | None = None,
    fundamental_scale: float | None = None,
    funding_scale: float | None = None,
    shock_size_sd: float | None = None,
    events: Sequence[Event | tuple[int, str]] | None = None,
) -> ScenarioEdit:
    """The smallest edit of `base` with these values (fields equal to the base's are left out).

    Raises InputError naming the field and its allowed range (the app's form calls this).
    """
    totals = sector_totals(base)
    low, high, _ = edit_bounds()["sales_usd_bn"]
    for sector, value in (sales_usd_bn or {}).items():
        if value == totals.get(sector):
            continue  # unchanged (an uploaded scenario's several flows may sum beyond one flow's limit)
        if not (isinstance(value, int | float) and math.isfinite(value) and low <= value <= high):
            raise InputError(f"sales_usd_bn.{sector}: {_short(str(value))} refused; allowed: {_allowed('sales_usd_bn')}")
    data: dict = {"base": base.name}
    if days is not None and days != base.default_days:
        data["days"] = days
    sales = {s: v for s, v in (sales_usd_bn or {}).items() if s not in totals or v != totals[s]}
    if sales:
        data["sales_usd_bn"] = sales
    given = (volatility_scale, fundamental_scale, funding_scale, shock_size_sd)
    for name, value in zip(_SCALARS, given, strict=True):
        if value is not None and value != getattr(base, name):
            data[name] = value
    if events is not None:
        data["events"] = [e if isinstance(e, Event) else {"day": e[0], "label": e[1]} for e in events]
    try:
        edit = ScenarioEdit.model_validate(data)
    except ValidationError as err:
        raise InputError(describe_scenario_error(err, ScenarioEdit)) from None
    if edit.events is not None and edit.events == base.events:
        edit = edit.model_copy(update={"events": None})
    apply_edit(base, edit)  # cross-field checks (events within the horizon) now, not at run time
    return edit


def edit_of(base: Scenario, scenario: Scenario) -> ScenarioEdit | None:
    """The edit that makes `scenario` from `base`, or None if no edit does (other fields differ)."""
    if scenario == base:
        return ScenarioEdit(base=base.name)
    try:
        edit = make_edit(
            base,
            days=scenario.default_days,
            sales_usd_bn=sector_totals(scenario),
            volatility_scale=scenario.volatility_scale,
            fundamental_scale=scenario.fundamental_scale,
            funding_scale=scenario.funding_scale,
            shock_size_sd=scenario.shock_size_sd,
            events=scenario.events,
        )
        return edit if apply_edit(base, edit) == scenario else None
    except InputError:
        return None


# ---------------------------------------------------------------- link form

_SCALAR_KEYS = {"vol": "volatility_scale", "fund": "fundamental_scale", "repo": "funding_scale", "sd": "shock_size_sd"}


def edit_to_params(edit: ScenarioEdit) -> dict[str, str]:
    """The edit as link parameters without the `se.` prefix (see the module docstring)."""
    out: dict[str, str] = {}
    if edit.days is not None:
        out["days"] = str(edit.days)
    for sector in EXOGENOUS_SECTORS:
        if sector in edit.sales_usd_bn:
            out[f"sales.{sector}"] = format_value(float(edit.sales_usd_bn[sector]))
    for key, name in _SCALAR_KEYS.items():
        value = getattr(edit, name)
        if value is not None:
            out[key] = format_value(float(value))
    if edit.events is not None:
        if not edit.events:
            out["ev"] = "none"
        for i, event in enumerate(edit.events):
            out[f"ev{i}"] = f"{event.day}:{event.label}"
    return out


_EVENT_KEY = re.compile(r"^ev(\d{1,3})$")
KNOWN_KEYS = (
    "se.days, se.sales.<sector> (" + ", ".join(EXOGENOUS_SECTORS) + "), se.vol, se.fund, se.repo, se.sd, "
    f"se.ev0 to se.ev{MAX_EVENTS - 1} (day:label), se.ev=none"
)


_number = parse_finite  # the link codec's reading of a number (finite, at most 64 characters)


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")


def edit_from_params(
    base_name: str, params: Mapping[str, str], blob: str | None = None
) -> tuple[Scenario, dict[str, str], str | None, list[str]]:
    """Link parameters (without `se.`) and an optional `sx` blob to the scenario they stand for.

    Never raises for bad values: returns (scenario, the accepted parameters in canonical form, the
    accepted blob, one message per dropped value naming the link key and what is allowed). Values
    equal to the scenario's own are dropped silently. Raises InputError only for an unknown base.
    """
    base = load_scenario(base_name) if base_name in scenario_names() else None
    if base is None:
        raise InputError(f"scenario: unknown name {base_name!r}; allowed: {', '.join(scenario_names())}")
    messages: list[str] = []
    if blob:
        try:
            custom = scenario_from_blob(blob)
        except InputError as err:
            messages.append(f"sx: {err}; the link's own scenario was not loaded, showing {base_name}")
        else:
            if params:
                messages.append(
                    f"se.{sorted(params)[0]}: ignored; the link carries a whole scenario (sx), which holds its edits"
                )
            return custom, {}, scenario_to_blob(custom), messages

    fields: dict = {}
    for key, text in params.items():
        if key == "days" or key in _SCALAR_KEYS:
            name = "days" if key == "days" else _SCALAR_KEYS[key]
            value = _number(text)
            if value is not None and name == "days":
                value = int(value) if value.is_integer() else None
            try:
                if value is None:
                    raise ValueError
                ScenarioEdit(base=base_name, **{name: value})
            except (ValueError, ValidationError):
                messages.append(f"se.{key}: {_short(text)} ignored; allowed: {_allowed(name)}")
                continue
            fields[name] = value
        elif key.startswith("sales."):
            sector = key.removeprefix("sales.")
            if sector not in EXOGENOUS_SECTORS:
                messages.append(f"se.{_short(key)[1:-1]}: unknown sector ignored; allowed: {', '.join(EXOGENOUS_SECTORS)}")
                continue
            value = _number(text)
            low, high, _ = edit_bounds()["sales_usd_bn"]
            if value is None or not low <= value <= high:
                messages.append(f"se.{key}: {_short(text)} ignored; allowed: {_allowed('sales_usd_bn')}")
                continue
            fields.setdefault("sales_usd_bn", {})[sector] = value
        elif key != "ev" and not _EVENT_KEY.match(key):
            messages.append(f"se.{_short(key)[1:-1]}: unknown link parameter ignored; allowed: {KNOWN_KEYS}")
    horizon = fields.get("days", base.default_days)
    events = _events_from_params(params, horizon, messages)
    if events is not None:
        fields["events"] = events
    try:
        edit = make_edit(base, **fields)
        scenario = apply_edit(base, edit)
    except InputError as err:  # a combination the checks above let through: keep the scenario as shipped
        messages.append(f"se: {err}; the scenario edits were ignored")
        return base, {}, None, messages
    return scenario, edit_to_params(edit), None, messages


def _events_from_params(params: Mapping[str, str], horizon: int, messages: list[str]) -> list[Event] | None:
    indexed = sorted((int(m.group(1)), k) for k in params if (m := _EVENT_KEY.match(k)))
    if "ev" in params:
        if params["ev"] != "none":
            messages.append(f"se.ev: {_short(params['ev'])} ignored; allowed: none (to remove every event)")
        elif indexed:
            messages.append("se.ev: ignored; the link also lists events (se.ev0 ...)")
        else:
            return []
    if not indexed:
        return None
    events: list[Event] = []
    for index, key in indexed:
        text = params[key]
        if index >= MAX_EVENTS:
            messages.append(f"se.{key}: too many events, ignored; allowed: se.ev0 to se.ev{MAX_EVENTS - 1}")
            continue
        day_text, sep, label = text.partition(":")
        day = _number(day_text.strip())
        if not sep or day is None or not day.is_integer():
            messages.append(f"se.{key}: {_short(text)} ignored; allowed: day:label, e.g. 5:Reserve managers sell")
            continue
        if not 0 <= day <= horizon:
            messages.append(
                f"se.{key}: day {day:g} ignored; allowed: a whole number from 0 to {horizon} (the horizon, trading days)"
            )
            continue
        try:
            events.append(Event(day=int(day), label=label.strip()))
        except ValidationError:
            messages.append(f"se.{key}: label {_short(label)} ignored; allowed: 1 to 60 characters")
    return events or None  # none readable: keep the scenario's own events rather than remove them


def link_scenario_check(
    base_name: str, params: Mapping[str, str], blob: str | None
) -> tuple[dict[str, str], str | None, list[str]]:
    """The check `policy.query.decode_view` takes (`scenario_edit_check`): accepted edit, blob, messages."""
    try:
        _, accepted, accepted_blob, messages = edit_from_params(base_name, params, blob)
    except InputError as err:
        return {}, None, [f"se: {err}; the scenario edits were ignored"]
    return accepted, accepted_blob, messages


@lru_cache(maxsize=64)  # 64 scenarios, each within MAX_SCENARIO_FILE_BYTES of text: under 20 MB in all
def _resolved(base_name: str, params: tuple[tuple[str, str], ...], blob: str | None) -> Scenario:
    return edit_from_params(base_name, dict(params), blob)[0]


def resolve_edited(base_name: str, params: Mapping[str, str], blob: str | None = None) -> Scenario:
    """The Scenario a view's edit stands for (cached; the shipped scenario when there is no edit)."""
    if not params and not blob:
        return load_scenario(base_name)
    return _resolved(base_name, tuple(sorted(params.items())), blob)


# ---------------------------------------------------------------- blob (a whole scenario in a link)


def scenario_to_blob(scenario: Scenario) -> str:
    """zlib + base64url (no padding) of the scenario's canonical JSON (defaults left out)."""
    text = scenario.model_dump_json(exclude_defaults=True).encode("utf-8")
    return base64.urlsafe_b64encode(zlib.compress(text, 9)).decode("ascii").rstrip("=")


def scenario_from_blob(blob: str) -> Scenario:
    """The scenario of a blob, checked like a scenario file; raises InputError saying what is wrong."""
    if len(blob) > MAX_BLOB_CHARS:
        raise InputError(f"{len(blob):,} characters; allowed: at most {MAX_BLOB_CHARS:,}")
    if not _BLOB.match(blob):
        raise InputError("not a scenario blob; allowed: the base64url text the app writes")
    try:
        packed = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, MAX_SCENARIO_FILE_BYTES + 1)
    except (binascii.Error, ValueError, zlib.error):
        raise InputError("not a scenario blob (damaged or cut short); allowed: the base64url text the app writes") from None
    if len(raw) > MAX_SCENARIO_FILE_BYTES:
        raise InputError(f"scenario too large; allowed: at most {MAX_SCENARIO_FILE_BYTES:,} bytes")
    if not inflater.eof:
        raise InputError("not a scenario blob (cut short); allowed: the base64url text the app writes")
    try:
        return Scenario.model_validate_json(raw)
    except ValidationError as err:
        raise InputError(describe_scenario_error(err)) from None


# ---------------------------------------------------------------- TOML text and uploads


def parse_scenario_upload(raw: bytes, origin: str) -> Scenario:
    """An uploaded scenario file, with the checks `load_scenario` applies to a file (raises InputError)."""
    return _parse_scenario(raw, origin)


def _toml_string(text: str) -> str:
    escaped = []
    for ch in text:
        if ch in '"\\':
            escaped.append("\\" + ch)
        elif ch in "\n\t\r\b\f":
            escaped.append({"\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            escaped.append(f"\\u{ord(ch):04X}")
        else:
            escaped.append(ch)
    body = "".join(escaped)
    if len(body) <= 90:
        return f'"{body}"'
    # Long text as a multi-line string wrapped with line-ending backslashes (read back unchanged):
    # break only after a single space followed by a non-space, since the backslash eats the next
    # line's leading whitespace.
    lines, start, last_break = [], 0, None
    for i in range(1, len(body)):
        if body[i - 1] == " " and body[i] not in " \t" and (i < 2 or body[i - 2] != " "):
            last_break = i
        if i - start >= 96 and last_break is not None and last_break > start:
            lines.append(body[start:last_break] + "\\")
            start = last_break
    lines.append(body[start:])
    return '"""\n' + "\n".join(lines) + '"""'


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def scenario_to_toml(scenario: Scenario, *, header: str | None = None) -> str:
    """The scenario as a TOML file that `load_scenario` reads back to an equal Scenario.

    Written by hand (the project has no TOML writer): top-level fields, then [fundamental],
    [funding_stress], [[flows]] and [[events]], as in scenarios/*.toml; defaults are left out.
    """
    data = scenario.model_dump(mode="json", exclude_defaults=True)
    lines = [f"# {line}" for line in (header or "").splitlines()]
    tables, arrays = [], []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            arrays.append((key, value))
        elif value is not None:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, table in tables:
        lines += ["", f"[{key}]", *(f"{k} = {_toml_value(v)}" for k, v in table.items() if v is not None)]
    for key, items in arrays:
        for item in items:
            lines += ["", f"[[{key}]]", *(f"{k} = {_toml_value(v)}" for k, v in item.items() if v is not None)]
    return "\n".join(lines) + "\n"


__all__ = [
    "MAX_EVENTS",
    "ScenarioEdit",
    "apply_edit",
    "describe_edit",
    "edit_bounds",
    "edit_from_params",
    "edit_of",
    "edit_to_params",
    "link_scenario_check",
    "make_edit",
    "parse_scenario_upload",
    "resolve_edited",
    "scenario_from_blob",
    "scenario_to_blob",
    "scenario_to_toml",
    "sector_totals",
]
