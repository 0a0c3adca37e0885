"""A study: a declared sweep over regime levers and uncertain assumptions (a TOML file).

    name = "policy_map"
    scenarios = ["march_2020"]
    base = "all_guardrails"
    design = "grid"            # or "lhs" / "sobol" with `samples`, or "one_at_a_time" (a tornado)
    [[factors]]
    name = "leverage_cap.max_gross_leverage_x"   # a lever path (`python -m engine params`)
    low = 5.0
    high = 43.0
    levels = 20
    [[factors]]
    name = "dislocation_slope_bp"                # or an uncertain assumption (`engine.assumption_ranges`)

Everything is checked when the file is read: factor names against the lever spec and the
scenarios' assumptions, ranges against their bounds, metrics against `engine.METRICS` and the
tail probabilities `engine.metrics.EXCEEDANCES`. A bad file
gives one line naming the field and what is allowed (the same form as scenario files). `engine.sweep`
turns a valid study into points and runs them.
"""

import itertools
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from engine.drivers import HEADLINE_METRICS
from engine.errors import InputError
from engine.metrics import EXCEEDANCES, METRICS
from engine.run import assumption_ranges, resolve_scenario
from engine.scenario import describe_scenario_error, scenario_names
from policy import LeverSpec, get_preset, lever_specs, preset_names, regime_value
from policy.files import FileInputError, read_file
from policy.run_settings import (
    MAX_CROSSED_FACTORS,
    MAX_LEVELS,
    MAX_ONE_AT_A_TIME_FACTORS,
    MAX_POINTS,
    MAX_STUDY_FILE_BYTES,
    BatchPaths,
    Seed,
    ShockScale,
)

Design = Literal["grid", "lhs", "sobol", "one_at_a_time"]
ONE_AT_A_TIME: Design = "one_at_a_time"
LeverValue = bool | int | float | str


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Factor(_Strict):
    """One swept input: a regime lever (dot path) or an uncertain assumption, with its range."""

    name: str = Field(min_length=1, max_length=80)
    low: float | None = Field(default=None, description="Range start; default the lever's or assumption's bound.")
    high: float | None = Field(default=None, description="Range end; default the lever's or assumption's bound.")
    levels: int | None = Field(default=None, ge=2, le=MAX_LEVELS, description="Grid levels from low to high.")
    values: tuple[LeverValue, ...] | None = Field(
        default=None, min_length=1, max_length=MAX_LEVELS,
        description="Explicit values; crossed with the other factors in every design.",
    )


class Study(_Strict):
    """A sweep: scenarios x points of the factors, each compared path by path with the base regime."""

    name: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
    description: str = Field(default="", max_length=2000)
    scenarios: tuple[str, ...] = Field(min_length=1, max_length=12)
    paths: BatchPaths = 500
    seed: Seed = 0
    shock_scale: ShockScale = 1.0
    base: str = Field(default="status_quo", max_length=40)
    design: Design = "grid"
    samples: int | None = Field(default=None, ge=2, le=MAX_POINTS)
    factors: tuple[Factor, ...] = Field(min_length=1, max_length=MAX_ONE_AT_A_TIME_FACTORS)
    metrics: tuple[str, ...] = Field(default=HEADLINE_METRICS, min_length=1, max_length=len(METRICS) + len(EXCEEDANCES))

    @field_validator("scenarios")
    @classmethod
    def _known_scenarios(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        # A scenario file is read relative to the study file, so a study folder can travel.
        root = (info.context or {}).get("root")
        files_allowed = (info.context or {}).get("files", True)
        out = []
        for i, item in enumerate(value):
            text = item
            if not files_allowed and (text.endswith(".toml") or "/" in text or "\\" in text):
                # An uploaded study must not make the server read a file of its choosing.
                raise ValueError(f"item {i}: {text[:60]!r} is a file; allowed: in an uploaded study, the shipped scenario "
                                 f"names ({', '.join(scenario_names())})")
            if text.endswith(".toml") and root is not None and not Path(text).is_absolute():
                text = str(Path(root) / text)
            try:
                resolve_scenario(text)
            except InputError as err:
                raise ValueError(f"item {i}: {str(err).removeprefix('scenario: ')}") from None
            out.append(text)
        if len(set(out)) != len(out):
            raise ValueError("a scenario appears twice; allowed: each scenario once")
        return tuple(out)

    @field_validator("base")
    @classmethod
    def _known_base(cls, value: str) -> str:
        if value not in preset_names():
            raise ValueError(f"unknown preset '{value}'; allowed: {', '.join(preset_names())}")
        return value

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if item not in METRICS and item not in EXCEEDANCES:
                raise ValueError(f"unknown metric '{item}'; allowed: {', '.join([*METRICS, *EXCEEDANCES])}")
        if len(set(value)) != len(value):
            raise ValueError("a metric appears twice; allowed: each metric once")
        return value

    @model_validator(mode="after")
    def _check_factors(self) -> "Study":
        # Raised as "<dot path>: ...; allowed: ..." text; `describe_study_error` shows it as is.
        names = [f.name for f in self.factors]
        if len(set(names)) != len(names):
            raise ValueError("factors: a factor appears twice; allowed: each lever or assumption once")
        if self.design != ONE_AT_A_TIME and len(names) > MAX_CROSSED_FACTORS:
            raise ValueError(
                f"factors: {len(names)} for design {self.design}; allowed: at most {MAX_CROSSED_FACTORS} "
                f"({MAX_ONE_AT_A_TIME_FACTORS} for one_at_a_time)"
            )
        if self.design == ONE_AT_A_TIME:
            if self.samples is not None:
                raise ValueError("samples: only for design lhs or sobol; allowed: leave it out for one_at_a_time")
        elif self.design != "grid":
            if self.samples is None:
                raise ValueError(f"samples: missing; allowed: a whole number from 2 to {MAX_POINTS:,} for {self.design}")
            if self.design == "sobol" and self.samples & (self.samples - 1):
                raise ValueError(
                    f"samples: {self.samples} for sobol; allowed: a power of two (Sobol points balance only then)"
                )
        elif self.samples is not None:
            raise ValueError("samples: only for design lhs or sobol; allowed: leave it out for a grid")
        for i, factor in enumerate(self.factors):
            resolve_factor(self, i, factor)
        if self.design == ONE_AT_A_TIME:
            return self  # 1 + two or a few points per factor: far below MAX_POINTS
        total = 1
        for factor in self.factors:
            total *= len(factor_levels(self, factor)) if _is_crossed(self, factor) else 1
        if self.design != "grid" and any(not _is_crossed(self, f) for f in self.factors):
            total *= self.samples or 1
        if total > MAX_POINTS:
            raise ValueError(f"factors: {total:,} points per scenario; allowed: at most {MAX_POINTS:,}")
        return self


# ------------------------------------------------------------------ factor resolution


def _lever_spec(name: str) -> LeverSpec | None:
    return next((s for s in lever_specs() if s.path == name), None)


def _assumption_bounds(study: Study, name: str) -> tuple[float, float] | None:
    """(low, high) of an assumption over every scenario of the study (all must have it)."""
    lows, highs = [], []
    for sc in study.scenarios:
        ranges = assumption_ranges(resolve_scenario(sc))
        if name not in ranges:
            return None
        lows.append(ranges[name].low)
        highs.append(ranges[name].high)
    return max(lows), min(highs)


def factor_kind(study: Study, factor: Factor) -> Literal["lever", "assumption"]:
    """Whether the factor sets a regime lever or re-centres an assumption of the run."""
    return "lever" if _lever_spec(factor.name) is not None else "assumption"


def factor_range(study: Study, factor: Factor) -> tuple[float, float]:
    """The factor's (low, high): as declared, else the lever's or assumption's bounds."""
    spec = _lever_spec(factor.name)
    if spec is not None:
        assert spec.min is not None and spec.max is not None
        bounds = (spec.min, spec.max)
    else:
        found = _assumption_bounds(study, factor.name)
        assert found is not None
        bounds = found
    low = bounds[0] if factor.low is None else factor.low
    high = bounds[1] if factor.high is None else factor.high
    return low, high


def _is_crossed(study: Study, factor: Factor) -> bool:
    """Factors with explicit values (and on/off or choice levers) are crossed with the design points."""
    if study.design == "grid" or factor.values is not None:
        return True
    spec = _lever_spec(factor.name)
    return spec is not None and spec.type in ("bool", "choice")


def snap(spec: LeverSpec, value: float) -> float | int:
    """A lever value on its step grid (from its minimum) and inside its bounds; whole for int levers."""
    assert spec.min is not None and spec.max is not None
    if spec.step:
        value = spec.min + round((value - spec.min) / spec.step) * spec.step
        # Round off the float noise of k * step so 0.1 * 3 prints and compares as 0.3.
        value = round(value, 10)
    value = min(max(value, spec.min), spec.max)
    return round(value) if spec.type == "int" else float(value)


def factor_levels(study: Study, factor: Factor) -> list[LeverValue]:
    """The values of a crossed factor (grid levels, explicit values or every option)."""
    spec = _lever_spec(factor.name)
    if factor.values is not None:
        return list(factor.values)
    if spec is not None and spec.type == "bool":
        return [False, True]
    if spec is not None and spec.type == "choice":
        return list(spec.choices or ())
    low, high = factor_range(study, factor)
    grid = np.linspace(low, high, factor.levels or 5)
    if spec is None:
        return [float(x) for x in grid]
    return [snap(spec, float(x)) for x in grid]


def resolve_factor(study: Study, index: int, factor: Factor) -> None:
    """Check one factor against the lever spec or the assumptions; raises ValueError naming the field."""
    where = f"factors.{index}"
    spec = _lever_spec(factor.name)
    if spec is None:
        bounds = _assumption_bounds(study, factor.name)
        if bounds is None:
            raise ValueError(
                f"{where}.name: '{factor.name}' is neither a regime lever nor an uncertain assumption of every "
                "scenario; allowed: a path of `python -m engine params` or a name of engine.assumption_ranges"
            )
        kind_text = f"{bounds[0]:g} to {bounds[1]:g} (the assumption's range)"
        whole = False
        numeric = True
    else:
        numeric = spec.type in ("float", "int")
        bounds = (spec.min, spec.max) if numeric else (None, None)
        kind_text = f"{spec.min:g} to {spec.max:g} ({spec.unit})" if numeric else ""
        whole = spec.type == "int"
    if study.design == ONE_AT_A_TIME and factor.levels is not None:
        raise ValueError(f"{where}.levels: only for design grid; allowed: leave it out (one_at_a_time takes low and high)")
    if study.design == ONE_AT_A_TIME and numeric and factor.values is not None:
        raise ValueError(f"{where}.values: one_at_a_time sets a number to its low and high end; allowed: low/high or nothing")
    if not numeric:
        assert spec is not None
        if factor.low is not None or factor.high is not None or factor.levels is not None:
            raise ValueError(f"{where}: {spec.path} is {spec.type}; allowed: `values` only (or nothing: every option)")
        options = [False, True] if spec.type == "bool" else list(spec.choices or ())
        for j, v in enumerate(factor.values or ()):
            if v not in options or (spec.type == "bool") != isinstance(v, bool):
                raise ValueError(f"{where}.values.{j}: {v!r}; allowed: {', '.join(map(str, options))}")
        return
    low_b, high_b = bounds
    assert low_b is not None and high_b is not None
    for field, v in (("low", factor.low), ("high", factor.high)):
        if v is not None and not low_b <= v <= high_b:
            raise ValueError(f"{where}.{field}: {v:g} is outside the bounds; allowed: {kind_text}")
    low, high = factor_range(study, factor)
    if not low < high and factor.values is None:
        raise ValueError(f"{where}.high: {high:g} is not above low {low:g}; allowed: a range with low < high")
    if factor.values is not None:
        if factor.low is not None or factor.high is not None or factor.levels is not None:
            raise ValueError(f"{where}.values: give values or low/high/levels, not both; allowed: one of the two")
        for j, v in enumerate(factor.values):
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            if not ok or not low_b <= v <= high_b or (whole and v != int(v)):
                kind = "a whole number" if whole else "a number"
                raise ValueError(f"{where}.values.{j}: {v!r}; allowed: {kind} from {kind_text}")
        if len(set(factor.values)) != len(factor.values):
            raise ValueError(f"{where}.values: a value appears twice; allowed: each value once")
        return
    if study.design == ONE_AT_A_TIME:
        ends = one_at_a_time_settings(study, factor)
        if len(set(ends)) != len(ends):
            raise ValueError(f"{where}: low {low:g} and high {high:g} are one value on the lever's step; allowed: a wider range")
        return
    if study.design == "grid":
        levels = factor_levels(study, factor)
        if len(set(levels)) != len(levels):
            step = spec.step if spec is not None else None
            raise ValueError(
                f"{where}.levels: {len(levels)} levels from {low:g} to {high:g} collapse to {len(set(levels))} "
                f"on the lever's step of {step:g}; allowed: fewer levels or a wider range"
            )
    elif factor.levels is not None:
        raise ValueError(f"{where}.levels: only for design grid; allowed: leave it out for {study.design}")


# ------------------------------------------------------------------ design points


def unit_points(design: Design, samples: int, dims: int, seed: int) -> np.ndarray:
    """(samples, dims) points in [0, 1): Latin hypercube (each of `samples` strata hit once per
    dimension) or scrambled Sobol; seeded, so a study's points never change between runs."""
    if dims == 0:
        return np.zeros((samples, 0))
    if design == "lhs":
        rng = np.random.default_rng([seed, 7_001])
        strata = np.stack([rng.permutation(samples) for _ in range(dims)], axis=1)
        return (strata + rng.random((samples, dims))) / samples
    if design == "sobol":
        from scipy.stats import qmc  # scipy (about 1 s to import) only for Sobol studies

        return qmc.Sobol(d=dims, scramble=True, rng=np.random.default_rng([seed, 7_002])).random(samples)
    raise ValueError(f"design: {design!r} has no unit points")


def one_at_a_time_settings(study: Study, factor: Factor) -> list[LeverValue]:
    """The settings a one-at-a-time study gives a factor: a number's low and high end (a lever's
    snapped to its step), off and on for a switch, every option of a choice (or its `values`)."""
    spec = _lever_spec(factor.name)
    if spec is not None and spec.type in ("bool", "choice"):
        return factor_levels(study, factor)
    low, high = factor_range(study, factor)
    return [low, high] if spec is None else [snap(spec, low), snap(spec, high)]


def one_at_a_time_plan(study: Study) -> list[tuple[str, LeverValue, int]]:
    """(factor name, setting, point id) of every moved point of a one-at-a-time study, in point order
    (point 0 is the base point)."""
    plan = []
    for factor in study.factors:
        for setting in one_at_a_time_settings(study, factor):
            plan.append((factor.name, setting, len(plan) + 1))
    return plan


def _one_at_a_time_points(study: Study) -> list[dict[str, LeverValue | None]]:
    # The base point holds each lever at the base preset's value and each assumption at None: its
    # calibrated value, which may differ between the study's scenarios.
    base_point = {f.name: base_value(study, f.name) for f in study.factors}
    return [base_point] + [base_point | {name: setting} for name, setting, _ in one_at_a_time_plan(study)]


def study_points(study: Study) -> list[dict[str, LeverValue | None]]:
    """Every point of the study: {factor name: value}, in a fixed order (the point id is the index).
    In a one-at-a-time study an assumption at None is at its calibrated value (the base point)."""
    if study.design == ONE_AT_A_TIME:
        return _one_at_a_time_points(study)
    crossed = [f for f in study.factors if _is_crossed(study, f)]
    sampled = [f for f in study.factors if not _is_crossed(study, f)]
    combos = list(itertools.product(*(factor_levels(study, f) for f in crossed)))
    if study.design == "grid":
        cube: list[dict[str, LeverValue]] = [{}]
    else:
        unit = unit_points(study.design, study.samples or 0, len(sampled), study.seed)
        cube = []
        for row in unit:
            point: dict[str, LeverValue] = {}
            for f, u in zip(sampled, row, strict=True):
                low, high = factor_range(study, f)
                value = low + float(u) * (high - low)
                spec = _lever_spec(f.name)
                point[f.name] = snap(spec, value) if spec is not None else value
            cube.append(point)
    order = [f.name for f in study.factors]
    points: list[dict[str, LeverValue | None]] = []
    for combo in combos:
        fixed = dict(zip((f.name for f in crossed), combo, strict=True))
        for sample in cube:
            merged = fixed | sample
            points.append({name: merged[name] for name in order})
    return points


def lever_changes(study: Study, point: dict[str, LeverValue | None]) -> dict[str, LeverValue | None]:
    """The regime lever part of a point (dot path -> value)."""
    return {k: v for k, v in point.items() if _lever_spec(k) is not None}


def assumption_values(study: Study, point: dict[str, LeverValue | None]) -> dict[str, float]:
    """The assumption part of a point (name -> value), as simulate's `assumptions=` takes it."""
    return {k: float(v) for k, v in point.items() if _lever_spec(k) is None and v is not None}


def base_value(study: Study, name: str) -> Any:
    """The base preset's value of a lever (None for an assumption)."""
    return regime_value(get_preset(study.base), name) if _lever_spec(name) is not None else None


# ------------------------------------------------------------------ reading files


def describe_study_error(err: ValidationError) -> str:
    """One line naming the first bad field of a study and what is allowed."""
    first = err.errors()[0]
    if not first["loc"] and first["type"] == "value_error":
        return str((first.get("ctx") or {}).get("error", first["msg"]))
    text = describe_scenario_error(err, Study)
    return text.replace("see the scenario file format in scenarios/*.toml", "see scenarios/studies/*.toml").replace(
        "see scenarios/*.toml", "see scenarios/studies/*.toml"
    )


def parse_study(data: dict[str, Any], *, root: Path | None = None, origin: str = "study", files: bool = True) -> Study:
    """A Study from parsed TOML data; scenario files are relative to `root`, and refused when `files` is
    False (a study uploaded to the app names shipped scenarios only). Raises InputError."""
    try:
        return Study.model_validate(data, context={"root": root, "files": files})
    except ValidationError as err:
        raise InputError(f"{origin}: {describe_study_error(err)}") from None


def load_study(path: str | Path) -> Study:
    """Read and check a study TOML file; raises InputError with one line naming the field."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path.name}: no such study file; allowed: a .toml file (see scenarios/studies/)")
    try:
        data = read_file(path, what="a TOML study file (see scenarios/studies/)", max_bytes=MAX_STUDY_FILE_BYTES)
    except FileInputError as err:
        raise InputError(str(err)) from None
    return parse_study(data, root=path.parent, origin=path.name)


__all__ = [
    "Factor",
    "Study",
    "assumption_values",
    "base_value",
    "describe_study_error",
    "factor_kind",
    "factor_levels",
    "factor_range",
    "lever_changes",
    "load_study",
    "one_at_a_time_plan",
    "one_at_a_time_settings",
    "parse_study",
    "study_points",
    "unit_points",
]
