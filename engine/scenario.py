"""Shock scenarios: TOML files validated by pydantic, turned into daily exogenous paths.

A scenario carries the exogenous shock only (fundamental yield path, sector sales, funding
stress, calendar and events). Historical Fed purchases belong to the as-it-happened regime.

A scenario may name only a history file the project ships (`history_files()`, checked by the
model itself, so a file, an upload, a link and a Scenario built in code are confined alike).
Flows and events may lie beyond `default_days`: a run with a longer `days` reaches them, a shorter
run cuts a flow at its horizon (selling only the days' share of its total) and does not show the
event; `horizon_notes` says so in words (the app shows them).
"""

import datetime as dt
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo

from engine.calibration import Era
from engine.errors import InputError
from policy.files import FileInputError, read_data
from policy.run_settings import FUNDAMENTAL_MODES, MAX_DAYS, MAX_SCENARIO_FILE_BYTES, Days

if TYPE_CHECKING:  # numpy and pandas load inside the functions that build paths: loading and
    # validating a scenario (`python -m engine list`) needs neither, and pandas alone costs ~0.5 s.
    import numpy as np
    import pandas as pd

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"
MAX_SALES_USD_BN = 5000.0
VOLATILITY_SCALE_RANGE = (0.5, 3.0)
FUNDAMENTAL_SCALE_RANGE = (0.0, 3.0)
FUNDING_SCALE_RANGE = (0.0, 3.0)
HISTORY_DIR = SCENARIO_DIR / "history"

Sector = Literal["foreign_official", "foreign_private", "mutual_funds", "treasury"]
EXOGENOUS_SECTORS: tuple[Sector, ...] = ("foreign_official", "foreign_private", "mutual_funds", "treasury")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Flow(_Strict):
    """Sales by one sector, spread evenly over trading days `start_day`..`end_day`."""

    sector: Sector
    total_usd_bn: float = Field(ge=0, le=MAX_SALES_USD_BN, json_schema_extra={"unit": "$bn"})
    start_day: int = Field(ge=1, le=MAX_DAYS)
    end_day: int = Field(ge=1, le=MAX_DAYS)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> "Flow":
        if self.end_day < self.start_day:
            raise ValueError("end_day must not be before start_day")
        return self


FundamentalMode = Literal["observed_share", "proxy_beta", "points"]


class Fundamental(_Strict):
    """The part of the 10y (and 30y) move not due to market structure, in bp from day 0.

    `mode` chooses how it is built:
    - observed_share: a share (sampled in [share_low, share_high]) of the observed DGS10 and DGS30
      moves, so the yield path is partly an input;
    - proxy_beta: the observed move of `proxy_series` (default the 2y, DGS2) times a beta of daily
      10y (and 30y) changes on it, estimated by OLS over `proxy_window_days` trading days ending
      `proxy_gap_days` before day 0; the 10y path is then wholly the model's output;
    - points: given [day, bp] points for the 10y (forward scenarios), and `long_points` for the 30y
      (default: the 10y points).
    A historical scenario may carry the settings of both observed modes; `mode` picks one.
    """

    mode: FundamentalMode
    share: float = Field(default=0.0, ge=0, le=1)
    share_low: float = Field(default=0.0, ge=0, le=1)
    share_high: float = Field(default=0.0, ge=0, le=1)
    proxy_series: Literal["dgs2_pct", "dgs5_pct"] = "dgs2_pct"
    proxy_window_days: int = Field(default=250, ge=40, le=1000)
    proxy_gap_days: int = Field(default=20, ge=0, le=250)
    points: tuple[tuple[int, float], ...] = ()
    long_points: tuple[tuple[int, float], ...] = ()
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "Fundamental":
        if self.mode == "observed_share" and not self.share_low <= self.share <= self.share_high:
            raise ValueError("share must lie within [share_low, share_high]")
        if self.mode == "points":
            _check_points(self.points, -500, 500)
        if self.long_points:
            _check_points(self.long_points, -500, 500)
        return self


class FundingStress(_Strict):
    """Repo funding stress (bp above calm): observed from SOFR, or given as points."""

    mode: Literal["observed", "points"]
    points: tuple[tuple[int, float], ...] = ()
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "FundingStress":
        if self.mode == "points":
            _check_points(self.points, 0, 500)
        return self


class Event(_Strict):
    """A dated event marked on charts."""

    day: int = Field(ge=0, le=MAX_DAYS, json_schema_extra={"unit": "trading day"})
    label: str = Field(min_length=1, max_length=60)


class Scenario(_Strict):
    """A stress scenario: calendar, exogenous shocks and the regime it happened under."""

    name: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    title: str = Field(min_length=1, max_length=80)
    kind: Literal["historical", "forward"]
    placebo: bool = Field(default=False, description="A calm episode the model must not turn into a fire sale")
    era: Era
    day0: dt.date
    default_days: Days
    regime: str = Field(description="Preset used when no regime is given")
    history: str | None = None
    shock_size_sd: float = Field(
        ge=0, le=1, description="Log sd of the Monte Carlo shock-size multiplier", json_schema_extra={"unit": "log sd"}
    )
    volatility_scale: float = Field(
        default=1.0,
        ge=VOLATILITY_SCALE_RANGE[0],
        le=VOLATILITY_SCALE_RANGE[1],
        description="Multiplier of the exogenous volatility the fundamental path brings (its 5-day realized "
        "RMS; the calm floor is not scaled), x",
        json_schema_extra={"unit": "x"},
    )
    fundamental_scale: float = Field(
        default=1.0,
        ge=FUNDAMENTAL_SCALE_RANGE[0],
        le=FUNDAMENTAL_SCALE_RANGE[1],
        description="Multiplier of the fundamental 10y/30y path only (the shock severity of a run multiplies "
        "flows, the fundamental path and funding stress together), x",
        json_schema_extra={"unit": "x"},
    )
    funding_scale: float = Field(
        default=1.0,
        ge=FUNDING_SCALE_RANGE[0],
        le=FUNDING_SCALE_RANGE[1],
        description="Multiplier of the repo funding stress path (bp above calm) only, x",
        json_schema_extra={"unit": "x"},
    )
    description: str = Field(min_length=1)
    fundamental: Fundamental
    funding_stress: FundingStress
    flows: tuple[Flow, ...] = ()
    events: tuple[Event, ...] = ()

    @field_validator("history")
    @classmethod
    def _shipped_history(cls, value: str | None) -> str | None:
        return None if value is None else check_history(value)

    @model_validator(mode="after")
    def _history_needed(self) -> "Scenario":
        needs = self.fundamental.mode != "points" or self.funding_stress.mode == "observed"
        if needs and not self.history:
            raise ValueError("history: required when a path is observed")
        return self


def history_files() -> tuple[str, ...]:
    """The history files a scenario may name, as written in a scenario (`history/<file>.csv`)."""
    return tuple(f"history/{p.name}" for p in sorted(HISTORY_DIR.glob("*.csv")))


def check_history(value: str) -> str:
    """`value` if it names a history file the project ships; else ValueError naming what is allowed.

    Compared against the listing, never resolved on disk, so no path can reach outside it.
    """
    allowed = ", ".join(history_files())
    shown = repr(value if len(value) <= 60 else value[:60] + "...")
    parts = value.split("/")
    if "\\" in value or value.startswith("/") or ".." in parts or Path(value).is_absolute() or ":" in value:
        raise ValueError(
            f"{shown} is a path outside the project's history files (no '..', absolute paths, drive letters or "
            f"backslashes); allowed: {allowed}"
        )
    if value not in history_files():
        raise ValueError(f"{shown} is not a history file the project ships; allowed: {allowed}")
    return value


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def field_info(model: type[BaseModel], loc: tuple[int | str, ...]) -> FieldInfo | None:
    """The FieldInfo at an error location (`("flows", 0, "total_usd_bn")`) of `model`, if any."""
    current: type[BaseModel] | None = model
    info = None
    for part in loc:
        if isinstance(part, int):
            continue
        if current is None or part not in current.model_fields:
            return info if info is not None and current is None else None
        info = current.model_fields[part]
        current = _inner_model(info.annotation)
    return info


def field_bounds(model: type[BaseModel], name: str) -> tuple[float | None, float | None]:
    """(ge, le) of a model field (None where unbounded): the one source of widget and message ranges."""
    info = model.model_fields[name]
    low = next((float(m.ge) for m in info.metadata if getattr(m, "ge", None) is not None), None)
    high = next((float(m.le) for m in info.metadata if getattr(m, "le", None) is not None), None)
    return low, high


def range_text(low: float | None, high: float | None, *, whole: bool, unit: str = "") -> str:
    """'a number from 0 to 5000 ($bn)' and the like, for messages."""
    kind = "a whole number" if whole else "a number"
    unit_text = f" ({unit})" if unit else ""
    if low is not None and high is not None:
        return f"{kind} from {low:g} to {high:g}{unit_text}"
    if low is not None:
        return f"{kind} of at least {low:g}{unit_text}"
    if high is not None:
        return f"{kind} of at most {high:g}{unit_text}"
    return kind + unit_text


def _allowed(info: FieldInfo | None, error: Any) -> str:
    ctx = error.get("ctx") or {}
    if info is not None:
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        low = next((float(m.ge) for m in info.metadata if getattr(m, "ge", None) is not None), None)
        high = next((float(m.le) for m in info.metadata if getattr(m, "le", None) is not None), None)
        if low is not None or high is not None:
            kinds = get_args(info.annotation) or (info.annotation,)
            whole = int in kinds and float not in kinds
            return range_text(low, high, whole=whole, unit=str(extra.get("unit", "")))
        lengths = [(getattr(m, "min_length", None), getattr(m, "max_length", None)) for m in info.metadata]
        short = next((a for a, _ in lengths if a is not None), None)
        long = next((b for _, b in lengths if b is not None), None)
        if long is not None:
            return f"{short or 0} to {long} characters" if info.annotation is str else f"at most {long} items"
        pattern = next((getattr(m, "pattern", None) for m in info.metadata if getattr(m, "pattern", None)), None)
        if pattern:
            return f"text matching {pattern}"
    if "expected" in ctx:
        return str(ctx["expected"])
    for key, text in (("ge", "at least"), ("gt", "more than"), ("le", "at most"), ("lt", "less than")):
        if key in ctx:
            return f"{text} {ctx[key]}"
    return "see the scenario file format in scenarios/*.toml"


def describe_scenario_error(err: ValidationError, model: type[BaseModel] | None = None) -> str:
    """One line naming the first bad field (a dot path), the value given and the allowed range."""
    first = err.errors()[0]
    loc = tuple(first["loc"])
    path = ".".join(str(p) for p in loc) or "scenario"
    if first["type"] == "extra_forbidden":
        return f"{path}: unknown field"
    if first["type"] == "missing":
        return f"{path}: missing; allowed: see the scenario file format in scenarios/*.toml"
    if first["type"] == "value_error":
        text = str((first.get("ctx") or {}).get("error", first["msg"]))
        return f"{path}: {text}" if "allowed:" in text else f"{path}: {text}; allowed: see scenarios/*.toml"
    info = field_info(model or Scenario, loc) if loc else None
    given = first.get("input")
    shown = "" if isinstance(given, dict | list | tuple) or given is None else f" (got {_short_repr(given)})"
    return f"{path}: {first['msg']}{shown}; allowed: {_allowed(info, first)}"


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."


def horizon_notes(scenario: Scenario, days: int | None = None) -> list[str]:
    """Flows and events a run of `days` (default: the scenario's horizon) cuts or does not show."""
    days = scenario.default_days if days is None else days
    notes = []
    for flow in scenario.flows:
        if flow.end_day > days:
            span = flow.end_day - flow.start_day + 1
            inside = max(0, days - flow.start_day + 1)
            notes.append(
                f"{flow.sector.replace('_', ' ')} sales over days {flow.start_day}-{flow.end_day} are cut at the "
                f"{days}-day horizon: ${flow.total_usd_bn * inside / span:,.4g}bn of ${flow.total_usd_bn:,.4g}bn sold"
            )
    late = [e for e in scenario.events if e.day > days]
    if late:
        notes.append(f"{len(late)} event(s) after day {days} not shown: " + "; ".join(f"day {e.day} {e.label}" for e in late))
    return notes


def _check_points(points: tuple[tuple[int, float], ...], lo: float, hi: float) -> None:
    if not points:
        raise ValueError("points: at least one [day, value] pair")
    days = [d for d, _ in points]
    if days != sorted(days) or days[0] != 0 or days[-1] > MAX_DAYS:
        raise ValueError(f"points: days must rise from 0 to at most {MAX_DAYS}")
    if any(not lo <= v <= hi for _, v in points):
        raise ValueError(f"points: values must lie in [{lo}, {hi}]")


@dataclass(frozen=True)
class ProxyBeta:
    """OLS of daily 10y (or 30y) changes on the proxy's daily changes before the episode."""

    beta: float
    standard_error: float
    r_squared: float
    observations: int
    start: "pd.Timestamp"
    end: "pd.Timestamp"


@dataclass(frozen=True)
class ShockPaths:
    """Daily exogenous inputs for days 0..T (index = trading day), before the shock scale.

    Fundamental paths are given per segment (0 = the 10y, 1 = the 30y) in one of three forms:
    observed moves (to be multiplied by a sampled share), a proxy move with betas, or points.
    """

    dates: "pd.DatetimeIndex"
    mode: str
    observed_move_bp: "np.ndarray | None"  # (2, T+1) DGS10 and DGS30 changes from day 0
    proxy_move_bp: "np.ndarray | None"  # (T+1,) change of the proxy series from day 0
    proxy_betas: tuple[ProxyBeta, ProxyBeta] | None  # 10y and 30y on the proxy
    fundamental_points_bp: "np.ndarray | None"  # (2, T+1) forward scenarios
    funding_stress_bp: "np.ndarray"
    flows_usd_bn: "dict[str, np.ndarray]"  # sector -> daily sales, day 0 = 0
    fundamental_scale: float = 1.0  # the scenario's multiplier of the fundamental path (dynamics applies it)
    volatility_scale: float = 1.0  # the scenario's multiplier of that path's realized volatility


def _history_frame(scenario: Scenario) -> "pd.DataFrame":
    import pandas as pd

    assert scenario.history is not None
    # Checked again here: a Scenario made with model_construct skips its validators.
    try:
        check_history(scenario.history)
    except ValueError as err:
        raise InputError(f"history: {err}") from None
    frame = pd.read_csv(SCENARIO_DIR / scenario.history, comment="#", parse_dates=["date"])
    return frame.set_index("date")


def history_frame(scenario: Scenario) -> "pd.DataFrame | None":
    """Observed daily series of a historical scenario (None for forward-looking ones)."""
    return _history_frame(scenario) if scenario.history else None


@cache
def _trading_day() -> "pd.offsets.CustomBusinessDay":
    """Trading days beyond observed history: weekdays less US federal holidays (the SIFMA bond-market
    calendar closes on these too; its early closes and Good Friday are not modelled). Built on first
    use: the holiday calendar alone took ~0.2 s of every import of this module."""
    import pandas as pd
    from pandas.tseries.holiday import USFederalHolidayCalendar

    return pd.offsets.CustomBusinessDay(calendar=USFederalHolidayCalendar())


def _calendar(scenario: Scenario, days: int) -> "pd.DatetimeIndex":
    import pandas as pd

    day0 = pd.Timestamp(scenario.day0)
    if scenario.history:
        observed = _history_frame(scenario).index
        observed = observed[observed >= day0]
        if len(observed) > days:
            return pd.DatetimeIndex(observed[: days + 1])
        extra = pd.date_range(observed[-1], periods=days + 2 - len(observed), freq=_trading_day())[1:]
        return pd.DatetimeIndex(observed.append(extra)[: days + 1])
    return pd.date_range(day0, periods=days + 1, freq=_trading_day())


def _interpolate(points: tuple[tuple[int, float], ...], days: int) -> "np.ndarray":
    import numpy as np

    xs = np.array([p[0] for p in points], dtype=float)
    ys = np.array([p[1] for p in points], dtype=float)
    return np.interp(np.arange(days + 1), xs, ys)


def _observed_funding_stress(frame: "pd.DataFrame", dates: "pd.DatetimeIndex") -> "np.ndarray":
    spread_bp = (frame["sofr_pct"].ffill() - frame["policy_rate_pct"]) * 100.0
    calm = spread_bp.loc[: dates[0]].tail(20).mean()
    excess = (spread_bp - calm).clip(lower=0.0).reindex(dates).ffill().fillna(0.0)
    return excess.to_numpy(dtype=float, copy=True)


def proxy_beta(frame: "pd.DataFrame", target: str, fundamental: Fundamental, day0: "pd.Timestamp") -> ProxyBeta:
    """Beta of daily `target` changes on the proxy's, over the window ending before day 0."""
    import numpy as np

    before = frame.loc[frame.index < day0, [target, fundamental.proxy_series]].dropna()
    changes = before.diff().dropna() * 100.0
    if fundamental.proxy_gap_days:
        changes = changes.iloc[: -fundamental.proxy_gap_days]
    changes = changes.iloc[-fundamental.proxy_window_days :]
    if len(changes) < 40:
        raise InputError(f"fundamental.proxy_window_days: only {len(changes)} days of history before day 0; allowed: at least 40")
    x = changes[fundamental.proxy_series].to_numpy()
    y = changes[target].to_numpy()
    x_c, y_c = x - x.mean(), y - y.mean()
    beta = float(x_c @ y_c / (x_c @ x_c))
    residual = y_c - beta * x_c
    n = len(x)
    se = float(np.sqrt(residual @ residual / (n - 2) / (x_c @ x_c)))
    r2 = float(1.0 - residual @ residual / (y_c @ y_c))
    return ProxyBeta(beta, se, r2, n, changes.index[0], changes.index[-1])


def with_fundamental_mode(scenario: Scenario, mode: str | None) -> Scenario:
    """The scenario with its fundamental path built another way (None keeps its own)."""
    if mode is None or mode == scenario.fundamental.mode:
        return scenario
    if mode not in FUNDAMENTAL_MODES:
        raise InputError(f"fundamental_mode: '{mode}'; allowed: {', '.join(FUNDAMENTAL_MODES)}")
    if (mode == "points") != (scenario.fundamental.mode == "points"):
        allowed = "points" if scenario.fundamental.mode == "points" else "observed_share or proxy_beta"
        raise InputError(f"fundamental_mode: '{mode}' does not apply to {scenario.name} ({scenario.kind}); allowed: {allowed}")
    try:
        fundamental = Fundamental.model_validate(scenario.fundamental.model_dump() | {"mode": mode})
    except ValidationError as err:
        raise InputError(f"fundamental: {describe_scenario_error(err, Fundamental)}") from None
    return scenario.model_copy(update={"fundamental": fundamental})


def shock_paths(scenario: Scenario, days: int) -> ShockPaths:
    """Daily exogenous paths for `days` trading days after day 0 (cached: a lever move re-runs the
    same scenario, and reading its history and calendar was a third of a 2 x 500-path run).
    The arrays are read-only, so the shared copy cannot be changed by a caller."""
    try:
        hash(scenario)
    except TypeError:  # a scenario built without validation (model_construct) may hold dicts
        return _shock_paths(scenario, days)
    return _shock_paths_cached(scenario, days)


@lru_cache(maxsize=32)  # 32 x a few (MAX_DAYS + 1) arrays, read-only: under 2 MB in all
def _shock_paths_cached(scenario: Scenario, days: int) -> ShockPaths:
    paths = _shock_paths(scenario, days)
    arrays = [paths.observed_move_bp, paths.proxy_move_bp, paths.fundamental_points_bp, paths.funding_stress_bp,
              *paths.flows_usd_bn.values()]
    for array in arrays:
        if array is not None:
            array.setflags(write=False)
    return paths


def _shock_paths(scenario: Scenario, days: int) -> ShockPaths:
    import numpy as np
    import pandas as pd

    dates = _calendar(scenario, days)
    frame = history_frame(scenario)
    fundamental = scenario.fundamental
    observed = proxy = betas = points = None
    if fundamental.mode == "points":
        ten = _interpolate(fundamental.points, days)
        thirty = _interpolate(fundamental.long_points, days) if fundamental.long_points else ten
        points = np.stack([ten, thirty])
    else:
        assert frame is not None
        window = frame.reindex(dates).ffill()
        moves = [(window[c] - window[c].iloc[0]).to_numpy(dtype=float) * 100.0 for c in ("dgs10_pct", "dgs30_pct")]
        observed = np.stack(moves)
        if fundamental.mode == "proxy_beta":
            series = window[fundamental.proxy_series]
            proxy = (series - series.iloc[0]).to_numpy(dtype=float) * 100.0
            day0 = pd.Timestamp(scenario.day0)
            betas = (
                proxy_beta(frame, "dgs10_pct", fundamental, day0),
                proxy_beta(frame, "dgs30_pct", fundamental, day0),
            )
    if scenario.funding_stress.mode == "observed":
        assert frame is not None
        funding = _observed_funding_stress(frame, dates)
    else:
        funding = _interpolate(scenario.funding_stress.points, days)
    funding = funding * scenario.funding_scale  # 1.0 leaves the path bit-identical
    funding[0] = 0.0
    flows = {sector: np.zeros(days + 1) for sector in EXOGENOUS_SECTORS}
    for flow in scenario.flows:
        start, end = flow.start_day, min(flow.end_day, days)
        if start > days:
            continue
        span = flow.end_day - flow.start_day + 1
        flows[flow.sector][start : end + 1] += flow.total_usd_bn / span
    return ShockPaths(
        dates, fundamental.mode, observed, proxy, betas, points, funding, flows,
        fundamental_scale=scenario.fundamental_scale, volatility_scale=scenario.volatility_scale,
    )


def _parse_scenario(raw: bytes, origin: str) -> Scenario:
    try:
        data = read_data(raw, fmt="toml", origin=origin, what="a TOML scenario file", max_bytes=MAX_SCENARIO_FILE_BYTES)
    except FileInputError as err:
        raise InputError(str(err)) from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise InputError(f"{origin}: {describe_scenario_error(err)}") from None


def scenario_names() -> list[str]:
    """Names of the bundled scenarios: stress episodes by date, forward-looking ones, then placebos."""
    found = [load_scenario(p.stem) for p in sorted(SCENARIO_DIR.glob("*.toml"))]
    return [s.name for s in sorted(found, key=lambda s: (s.placebo, s.kind != "historical", s.day0))]


@cache
def _bundled(name: str) -> Scenario:
    path = SCENARIO_DIR / f"{name}.toml"
    return _parse_scenario(path.read_bytes(), path.name)


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A bundled scenario by name, or a scenario TOML file by path."""
    text = str(name_or_path)
    path = Path(text)
    if path.suffix == ".toml" and path.is_file():
        if path.stat().st_size > MAX_SCENARIO_FILE_BYTES:
            raise InputError(
                f"{path.name}: file too large; allowed: at most {MAX_SCENARIO_FILE_BYTES:,} bytes"
            )
        # The history confinement is the model's own check (Scenario.history, `check_history`).
        return _parse_scenario(path.read_bytes(), path.name)
    if (SCENARIO_DIR / f"{text}.toml").is_file() and text.replace("_", "").isalnum():
        return _bundled(text)
    allowed = ", ".join(p.stem for p in sorted(SCENARIO_DIR.glob("*.toml")))
    raise InputError(f"scenario: unknown name or file '{text}'; allowed: {allowed}, or a .toml file")
