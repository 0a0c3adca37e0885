"""One spec of a run's settings and their limits, and of the limits of what a run reads, written once.

`simulate`, both CLIs (`python -m engine`, `python -m briefing`), the link codec, the sidebar,
studies and sweeps, and the docs read their bounds from here, so every surface refuses the same
values with the same message. A run is either `batch` (CLI, Python API, sweeps: up to 100,000
paths within the batch memory budget) or `interactive` (the app and its links: up to 10,000 paths
and 4 regimes, within a smaller per-run budget, because a shared server runs many sessions).

The memory a run needs is the engine's estimate (`engine.memory.estimate_run_mb`); the budgets are
here because they are a deployment choice, not economics. Both can be lowered for a small server
with the environment variables named below.
"""

import os
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

RunMode = Literal["batch", "interactive"]


def _env_mb(name: str, default: int) -> int:
    """A budget from the environment (whole MB, at least 100), or the default; a bad value keeps the default."""
    text = os.environ.get(name, "")
    return int(text) if text.isdigit() and 100 <= int(text) <= 1_000_000 else default


# Limits, each with its reason. Change a limit here and every surface follows.
MAX_PATHS_BATCH = 100_000  # CLI, API, sweeps: the bands' tails are stable well before this
MAX_PATHS_INTERACTIVE = 10_000  # the app and its links: ~1 s a run on 2 cores, the slider stays usable
MIN_PATHS_ANALYSIS = 20  # the analysis page compares 5th-95th percentiles: fewer paths leave no tails
MAX_DAYS = 250  # one trading year: the longest horizon a stress scenario describes
MAX_SHOCK_SCALE = 5.0  # five times a scenario's shock: far beyond any observed episode
MAX_SEED = 2**32 - 1  # numpy's SeedSequence takes any size; 32 bits keeps links short
MAX_REGIMES_INTERACTIVE = 4  # columns of the comparison table on one screen
MAX_REGIMES_BATCH = 1_000  # regimes in one simulate call; sweeps run 50 at a time
MAX_ASSUMPTIONS = 64  # re-centred assumptions in one run (a calibration has about 40 uncertain values)
# How a historical scenario's fundamental 10y path is built (engine.scenario.Fundamental): the CLI
# offers the first two, a forward-looking scenario has its own points.
FUNDAMENTAL_MODES: tuple[str, ...] = ("observed_share", "proxy_beta", "points")
# Memory a single run may take, estimated before it starts (engine.memory.estimate_run_mb).
MEMORY_BUDGET_BATCH_MB = _env_mb("TMPE_BATCH_MEMORY_MB", 8_000)
MEMORY_BUDGET_INTERACTIVE_MB = _env_mb("TMPE_INTERACTIVE_MEMORY_MB", 1_500)

# Limits of what a run reads: files, links, studies and edited scenarios (each module imports its own).
MAX_REGIME_FILE_BYTES = 256 * 1024  # policy.io: a regime file is a few KB
MAX_SCENARIO_FILE_BYTES = 256 * 1024  # engine.scenario: a scenario with every event is under 10 KB
MAX_STUDY_FILE_BYTES = 64 * 1024  # engine.study
MAX_NESTING = 8  # policy.files: deeper than any format here needs; bounds the recursion of validation too
MAX_PARAMS = 400  # policy.query: parameters read from one link (the rest are dropped, with one message)
MAX_VALUE_CHARS = 200  # policy.query: characters of one link value (a scenario blob has its own limit)
MAX_LINK_NUMBER_CHARS = 64  # policy.query: a number's text; longer is refused unparsed (5,000-digit integers)
# An uploaded scenario in the link (`sx`) may be longer than other values, up to this; a larger one is
# left out of the link (the app offers it as a file). 2,000 keeps a whole link within common limits.
MAX_LINK_SCENARIO_CHARS = 2_000
# A blob never holds more than a scenario file may; its base64 text is about 4/3 of the compressed size.
MAX_BLOB_CHARS = 2 * MAX_SCENARIO_FILE_BYTES
MAX_EVENTS = 12  # engine.scenario_edit: labelled events of an edited scenario
MAX_POINTS = 10_000  # engine.study: points per scenario; 10,000 regimes x 500 paths is about 10 minutes on 2 cores
MAX_LEVELS = 200  # engine.study: levels of one grid factor
MAX_CROSSED_FACTORS = 10  # engine.study: grid, LHS and Sobol; points multiply with each factor
MAX_LOSS_USD_BN = 100_000.0  # expected cost: a loss per episode the user enters, up to ~4x US GDP
MAX_ONE_AT_A_TIME_FACTORS = 40  # engine.study: a tornado adds a few points per factor, so it may list every lever

MAX_PATHS: dict[RunMode, int] = {"batch": MAX_PATHS_BATCH, "interactive": MAX_PATHS_INTERACTIVE}
MAX_REGIMES: dict[RunMode, int] = {"batch": MAX_REGIMES_BATCH, "interactive": MAX_REGIMES_INTERACTIVE}
MEMORY_BUDGET_MB: dict[RunMode, int] = {"batch": MEMORY_BUDGET_BATCH_MB, "interactive": MEMORY_BUDGET_INTERACTIVE_MB}

# What each bounded setting allows, in the words every message uses (per mode where limits differ).
ALLOWED: dict[str, str] = {
    "paths": f"a whole number from 1 to {MAX_PATHS_BATCH:,}",
    "days": f"a whole number from 1 to {MAX_DAYS}",
    "seed": f"a whole number from 0 to {MAX_SEED}",
    "shock_scale": f"a finite number from 0 to {MAX_SHOCK_SCALE:g}",
    "regimes": f"1 to {MAX_REGIMES_BATCH:,} regimes",
    "assumptions": f"at most {MAX_ASSUMPTIONS} names, each with a finite number within its range",
    "fundamental_mode": ", ".join(FUNDAMENTAL_MODES),
}
ALLOWED_INTERACTIVE: dict[str, str] = ALLOWED | {
    "paths": f"a whole number from 1 to {MAX_PATHS_INTERACTIVE:,} in the app and its exports ({MAX_PATHS_BATCH:,} in batch runs)",
    "regimes": f"1 to {MAX_REGIMES_INTERACTIVE} regimes in the app and its exports",
}


def allowed(field: str, mode: RunMode = "batch") -> str:
    """What `field` allows under `mode`'s limits."""
    return (ALLOWED_INTERACTIVE if mode == "interactive" else ALLOWED)[field]


# The bounded settings as types: RunSettings, the app's ViewState, studies and analyses all use these,
# so a bound is written once (here) and every model refuses the same values.
BatchPaths = Annotated[int, Field(ge=1, le=MAX_PATHS_BATCH, description="Monte Carlo paths", json_schema_extra={"unit": "paths"})]
InteractivePaths = Annotated[int, Field(ge=1, le=MAX_PATHS_INTERACTIVE, description="Monte Carlo paths (the app's limit)",
                                        json_schema_extra={"unit": "paths"})]
Days = Annotated[int, Field(ge=1, le=MAX_DAYS, description="Horizon", json_schema_extra={"unit": "trading days"})]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED, description="Random seed (common random numbers)")]
ShockScale = Annotated[float, Field(ge=0.0, le=MAX_SHOCK_SCALE, allow_inf_nan=False, description="Shock severity",
                                    json_schema_extra={"unit": "x the scenario's shock"})]


class RunSettings(BaseModel):
    """The settings of one run, validated: what `simulate` and every surface in front of it accept."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    mode: RunMode = Field(default="batch", description="batch (CLI, API, sweeps) or interactive (the app)")
    paths: BatchPaths = 1000
    days: Days = 60
    seed: Seed = 0
    shock_scale: ShockScale = 1.0
    regimes: int = Field(default=1, ge=1, le=MAX_REGIMES_BATCH, description="Regimes in the run")
    assumptions: dict[str, float] = Field(default_factory=dict, max_length=MAX_ASSUMPTIONS,
                                          description="Re-centred uncertain values (name -> value; ranges per scenario)")
    fundamental_mode: Literal["observed_share", "proxy_beta", "points"] | None = Field(
        default=None, description="How the fundamental 10y path is built (None: the scenario's own)")
    histories: bool = Field(default=True, description="Keep daily (regime, path, day) series (False: summaries only)")

    @field_validator("paths", "days", "seed", "regimes", "shock_scale", mode="before")
    @classmethod
    def _no_bool(cls, value: object) -> object:
        # pydantic's lax mode reads True as 1; a switch given as a count is a mistake, not a count.
        if isinstance(value, bool):
            raise ValueError("a bool")
        return value

    @model_validator(mode="after")
    def _interactive_limits(self) -> "RunSettings":
        if self.mode == "interactive":
            if self.paths > MAX_PATHS_INTERACTIVE:
                raise ValueError(f"paths: {self.paths!r}; allowed: {allowed('paths', 'interactive')}")
            if self.regimes > MAX_REGIMES_INTERACTIVE:
                raise ValueError(f"regimes: {self.regimes!r}; allowed: {allowed('regimes', 'interactive')}")
        return self


def describe_settings_error(err: ValidationError, mode: RunMode = "batch") -> str:
    """One line naming the first bad field and what is allowed, as every surface prints it."""
    first = err.errors()[0]
    field = ".".join(str(p) for p in first["loc"])
    if not field:  # a model-level rule already names its field
        return str(first["msg"]).removeprefix("Value error, ")
    value = first.get("input")
    shown = f"{value[:40]!r}..." if isinstance(value, str) and len(value) > 40 else repr(value)
    shown = shown if len(shown) <= 60 else shown[:60] + "..."
    top = str(first["loc"][0])
    words = allowed(top, mode) if top in ALLOWED else str(first["msg"])
    return f"{field}: {shown}; allowed: {words}"


def run_settings(**values: object) -> RunSettings:
    """RunSettings from keyword values, or ValueError with `describe_settings_error`'s one line."""
    try:
        return RunSettings(**values)  # type: ignore[arg-type]
    except ValidationError as err:
        mode = values.get("mode")
        raise ValueError(describe_settings_error(err, mode if mode == "interactive" else "batch")) from None
