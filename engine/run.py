"""One run, validated as a whole before anything is computed: the object `simulate` executes.

`policy.run_settings.RunSettings` holds the run's bounded settings and every limit; a `Run` adds what
only the engine can check: the scenario itself (a shipped one, a file, an upload or an edited
scenario, all `Scenario` objects by then), the regimes, assumption names and ranges against that
scenario, and the memory estimate against the mode's budget. `simulate`, both CLIs, the app's runner,
analyses and sweeps all reach the kernel through `build_run` and `execute`, so the same input is
refused with the same one-line message on every surface.

    run = build_run("march_2020", ["status_quo", "clearing_rule"], paths=2000, mode="interactive")
    result = execute(run)
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.calibration import CalibratedValue, Calibration, load_calibration
from engine.errors import InputError
from engine.memory import memory_message
from engine.regimes import resolve_regime
from engine.scenario import Scenario, load_scenario, with_fundamental_mode
from policy import PolicyRegime
from policy.run_settings import MEMORY_BUDGET_MB, RunMode, RunSettings, describe_settings_error

Kernel = Literal["compiled", "numpy"]
FUNDAMENTAL_SHARE = "fundamental_share"


def resolve_scenario(scenario: str | Path | Scenario) -> Scenario:
    """A Scenario object from a bundled name or a TOML path."""
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def assumption_ranges(scenario: str | Scenario) -> dict[str, CalibratedValue]:
    """Uncertain values a user may re-centre (the assumptions panel): name -> calibrated value."""
    sc = resolve_scenario(scenario)
    cal = load_calibration(sc.era)
    ranges = {v.name: v for v in cal.values.values() if v.low < v.high}
    if sc.fundamental.mode == "observed_share":
        f = sc.fundamental
        ranges[FUNDAMENTAL_SHARE] = CalibratedValue(
            name=FUNDAMENTAL_SHARE, value=f.share, low=f.share_low, high=f.share_high,
            unit="share of the observed 10y move", source=f.source, status="U", sampled=True,
            description="Part of the observed 10y move due to news rather than market structure",
            layer="scenario",
        )
    return ranges


def assumption_problem(scenario: Scenario, assumptions: Mapping[str, float]) -> str | None:
    """None if every assumption is a known name with a finite value in its range; else one line naming it."""
    if not assumptions:
        return None
    ranges = assumption_ranges(scenario)
    for name, value in assumptions.items():
        if name not in ranges:
            return f"assumptions.{name}: unknown; allowed: {', '.join(sorted(ranges))}"
        item = ranges[name]
        if not (np.isfinite(value) and item.low <= value <= item.high):
            return f"assumptions.{name}: {value} outside the allowed range {item.low:g} to {item.high:g} ({item.unit})"
    return None


class Run(BaseModel):
    """Everything one run is made of, checked together: scenario, regimes, settings and kernel."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario: Scenario = Field(description="The scenario as run: shipped, from a file, uploaded or edited")
    regimes: tuple[PolicyRegime, ...] = Field(min_length=1, description="Policy regimes, on common random numbers")
    settings: RunSettings = Field(description="Paths, days, seed, severity, assumptions and the mode's limits")
    kernel: Kernel = Field(default="compiled", description="compiled (numba) or the numpy reference")

    @model_validator(mode="after")
    def _consistent(self) -> "Run":
        names = [r.name for r in self.regimes]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"regime: name '{duplicates[0]}' appears twice; each regime in a run needs its own name")
        if self.settings.regimes != len(self.regimes):
            raise ValueError(f"settings.regimes: {self.settings.regimes}; the run has {len(self.regimes)} regimes")
        mode = self.settings.fundamental_mode
        if mode is not None and self.scenario.fundamental.mode != mode:
            raise ValueError(f"fundamental_mode: {mode!r}; the scenario builds its path as "
                             f"{self.scenario.fundamental.mode!r} (build_run applies the mode)")
        problem = assumption_problem(self.scenario, self.settings.assumptions)
        if problem:
            raise ValueError(problem)
        s = self.settings
        too_big = memory_message(len(self.regimes), s.paths, s.days, histories=s.histories,
                                 budget_mb=MEMORY_BUDGET_MB[s.mode], mode=s.mode)
        if too_big:
            raise ValueError(too_big)
        return self

    def calibrated(self) -> tuple[Scenario, Calibration]:
        """The scenario and calibration with the run's assumptions applied (copies; nothing shared changes)."""
        return _recentred(self.scenario, self.settings.assumptions)  # checked when the Run was built


def with_assumptions(scenario: Scenario, assumptions: Mapping[str, float]) -> tuple[Scenario, Calibration]:
    """The scenario and its calibration with `assumptions` re-centred (copies), or InputError naming a bad one."""
    problem = assumption_problem(scenario, assumptions)
    if problem:
        raise InputError(problem)
    return _recentred(scenario, assumptions)


def _recentred(scenario: Scenario, assumptions: Mapping[str, float]) -> tuple[Scenario, Calibration]:
    sc, cal = scenario, load_calibration(scenario.era)
    if not assumptions:
        return sc, cal
    ranges = assumption_ranges(sc)
    values = dict(cal.values)
    for name, value in assumptions.items():
        if name == FUNDAMENTAL_SHARE:
            sc = sc.model_copy(update={"fundamental": sc.fundamental.model_copy(update={"share": float(value)})})
        else:
            values[name] = ranges[name].model_copy(update={"value": float(value)})
    return sc, cal.model_copy(update={"values": values})


def _first_line(err: ValidationError, mode: RunMode) -> str:
    """The Run's own rules already read as one line; a settings field gets the spec's wording."""
    first = err.errors()[0]
    if first["loc"] and first["loc"][0] == "settings":
        return describe_settings_error(err, mode)
    return str(first["msg"]).removeprefix("Value error, ")


def build_run(
    scenario: str | Path | Scenario,
    regimes: Sequence[str | Path | PolicyRegime] | None = None,
    *,
    paths: object = 1000,
    seed: object = 0,
    shock_scale: object = 1.0,
    days: object = None,
    assumptions: Mapping[str, float] | None = None,
    fundamental_mode: str | None = None,
    kernel: object = "compiled",
    histories: object = True,
    mode: object = "batch",
) -> Run:
    """A validated Run from loose inputs (names, paths, numbers), or InputError with one line naming the field.

    Without regimes, a historical scenario runs under its as-it-happened regime and a forward-looking
    one under `status_quo`; without days, the scenario's own horizon.
    """
    if mode not in MEMORY_BUDGET_MB:
        raise InputError(f"mode: {mode!r}; allowed: batch or interactive")
    if kernel not in ("compiled", "numpy"):
        raise InputError(f"kernel: {kernel!r}; allowed: compiled or numpy")
    if not isinstance(histories, bool):
        raise InputError(f"histories: {histories!r}; allowed: True or False")
    sc = with_fundamental_mode(resolve_scenario(scenario), fundamental_mode)
    chosen = tuple(resolve_regime(r) for r in (regimes or [sc.regime]))
    settings = {
        "mode": mode, "paths": paths, "days": sc.default_days if days is None else days, "seed": seed,
        "shock_scale": shock_scale, "regimes": len(chosen), "histories": histories,
        "assumptions": dict(assumptions or {}), "fundamental_mode": fundamental_mode,
    }
    try:
        checked = RunSettings.model_validate(settings)
    except ValidationError as err:
        raise InputError(describe_settings_error(err, mode)) from None  # type: ignore[arg-type]
    try:
        return Run(scenario=sc, regimes=chosen, settings=checked, kernel=kernel)  # type: ignore[arg-type]
    except ValidationError as err:
        raise InputError(_first_line(err, mode)) from None  # type: ignore[arg-type]
