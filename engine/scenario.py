"""Shock scenarios: TOML files validated by pydantic, turned into daily exogenous paths.

A scenario carries the exogenous shock only (fundamental yield path, sector sales, funding
stress, calendar and events). Historical Fed purchases belong to the as-it-happened regime.
"""

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pandas.tseries.holiday import USFederalHolidayCalendar
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.calibration import Era
from engine.errors import InputError
from policy.spec import describe_validation_error

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"
MAX_SCENARIO_FILE_BYTES = 256 * 1024
MAX_DAYS = 250

Sector = Literal["foreign_official", "foreign_private", "mutual_funds", "treasury"]
EXOGENOUS_SECTORS: tuple[Sector, ...] = ("foreign_official", "foreign_private", "mutual_funds", "treasury")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Flow(_Strict):
    """Sales by one sector, spread evenly over trading days `start_day`..`end_day`."""

    sector: Sector
    total_usd_bn: float = Field(ge=0, le=5000)
    start_day: int = Field(ge=1, le=MAX_DAYS)
    end_day: int = Field(ge=1, le=MAX_DAYS)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> "Flow":
        if self.end_day < self.start_day:
            raise ValueError("end_day must not be before start_day")
        return self


FundamentalMode = Literal["observed_share", "proxy_beta", "points"]
FUNDAMENTAL_MODES: tuple[str, ...] = ("observed_share", "proxy_beta", "points")


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

    day: int = Field(ge=0, le=MAX_DAYS)
    label: str = Field(min_length=1, max_length=60)


class Scenario(_Strict):
    """A stress scenario: calendar, exogenous shocks and the regime it happened under."""

    name: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    title: str = Field(min_length=1, max_length=80)
    kind: Literal["historical", "forward"]
    placebo: bool = Field(default=False, description="A calm episode the model must not turn into a fire sale")
    era: Era
    day0: dt.date
    default_days: int = Field(ge=1, le=MAX_DAYS)
    regime: str = Field(description="Preset used when no regime is given")
    history: str | None = None
    shock_size_sd: float = Field(ge=0, le=1, description="Log sd of the Monte Carlo shock-size multiplier")
    description: str = Field(min_length=1)
    fundamental: Fundamental
    funding_stress: FundingStress
    flows: tuple[Flow, ...] = ()
    events: tuple[Event, ...] = ()

    @model_validator(mode="after")
    def _history_needed(self) -> "Scenario":
        needs = self.fundamental.mode != "points" or self.funding_stress.mode == "observed"
        if needs and not self.history:
            raise ValueError("history: required when a path is observed")
        return self


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
    start: pd.Timestamp
    end: pd.Timestamp


@dataclass(frozen=True)
class ShockPaths:
    """Daily exogenous inputs for days 0..T (index = trading day), before the shock scale.

    Fundamental paths are given per segment (0 = the 10y, 1 = the 30y) in one of three forms:
    observed moves (to be multiplied by a sampled share), a proxy move with betas, or points.
    """

    dates: pd.DatetimeIndex
    mode: str
    observed_move_bp: np.ndarray | None  # (2, T+1) DGS10 and DGS30 changes from day 0
    proxy_move_bp: np.ndarray | None  # (T+1,) change of the proxy series from day 0
    proxy_betas: tuple[ProxyBeta, ProxyBeta] | None  # 10y and 30y on the proxy
    fundamental_points_bp: np.ndarray | None  # (2, T+1) forward scenarios
    funding_stress_bp: np.ndarray
    flows_usd_bn: dict[str, np.ndarray]  # sector -> daily sales, day 0 = 0


def _history_frame(scenario: Scenario) -> pd.DataFrame:
    assert scenario.history is not None
    frame = pd.read_csv(SCENARIO_DIR / scenario.history, comment="#", parse_dates=["date"])
    return frame.set_index("date")


def history_frame(scenario: Scenario) -> pd.DataFrame | None:
    """Observed daily series of a historical scenario (None for forward-looking ones)."""
    return _history_frame(scenario) if scenario.history else None


# Trading days beyond observed history: weekdays less US federal holidays (the SIFMA bond-market
# calendar closes on these too; its early closes and Good Friday are not modelled).
_TRADING_DAY = pd.offsets.CustomBusinessDay(calendar=USFederalHolidayCalendar())


def _calendar(scenario: Scenario, days: int) -> pd.DatetimeIndex:
    day0 = pd.Timestamp(scenario.day0)
    if scenario.history:
        observed = _history_frame(scenario).index
        observed = observed[observed >= day0]
        if len(observed) > days:
            return pd.DatetimeIndex(observed[: days + 1])
        extra = pd.date_range(observed[-1], periods=days + 2 - len(observed), freq=_TRADING_DAY)[1:]
        return pd.DatetimeIndex(observed.append(extra)[: days + 1])
    return pd.date_range(day0, periods=days + 1, freq=_TRADING_DAY)


def _interpolate(points: tuple[tuple[int, float], ...], days: int) -> np.ndarray:
    xs = np.array([p[0] for p in points], dtype=float)
    ys = np.array([p[1] for p in points], dtype=float)
    return np.interp(np.arange(days + 1), xs, ys)


def _observed_funding_stress(frame: pd.DataFrame, dates: pd.DatetimeIndex) -> np.ndarray:
    spread_bp = (frame["sofr_pct"].ffill() - frame["policy_rate_pct"]) * 100.0
    calm = spread_bp.loc[: dates[0]].tail(20).mean()
    excess = (spread_bp - calm).clip(lower=0.0).reindex(dates).ffill().fillna(0.0)
    return excess.to_numpy(dtype=float, copy=True)


def proxy_beta(frame: pd.DataFrame, target: str, fundamental: Fundamental, day0: pd.Timestamp) -> ProxyBeta:
    """Beta of daily `target` changes on the proxy's, over the window ending before day 0."""
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
        raise InputError(f"fundamental: {describe_validation_error(err)}") from None
    return scenario.model_copy(update={"fundamental": fundamental})


def shock_paths(scenario: Scenario, days: int) -> ShockPaths:
    """Daily exogenous paths for `days` trading days after day 0."""
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
    funding[0] = 0.0
    flows = {sector: np.zeros(days + 1) for sector in EXOGENOUS_SECTORS}
    for flow in scenario.flows:
        start, end = flow.start_day, min(flow.end_day, days)
        if start > days:
            continue
        span = flow.end_day - flow.start_day + 1
        flows[flow.sector][start : end + 1] += flow.total_usd_bn / span
    return ShockPaths(dates, fundamental.mode, observed, proxy, betas, points, funding, flows)


def _parse_scenario(raw: bytes, origin: str) -> Scenario:
    if len(raw) > MAX_SCENARIO_FILE_BYTES:
        raise InputError(f"{origin}: file too large; allowed: at most {MAX_SCENARIO_FILE_BYTES:,} bytes")
    if b"\x00" in raw:
        raise InputError(f"{origin}: binary file; allowed: a TOML scenario file")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise InputError(f"{origin}: malformed TOML ({err})") from None
    except RecursionError:
        raise InputError(f"{origin}: nested too deeply; allowed: a scenario file as documented") from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise InputError(f"{origin}: {describe_validation_error(err)}") from None


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
        scenario = _parse_scenario(path.read_bytes(), path.name)
        if scenario.history and not (SCENARIO_DIR / scenario.history).is_file():
            raise InputError(f"{path.name}: history: no bundled file '{scenario.history}'")
        return scenario
    if (SCENARIO_DIR / f"{text}.toml").is_file() and text.replace("_", "").isalnum():
        return _bundled(text)
    allowed = ", ".join(p.stem for p in sorted(SCENARIO_DIR.glob("*.toml")))
    raise InputError(f"scenario: unknown name or file '{text}'; allowed: {allowed}, or a .toml file")
