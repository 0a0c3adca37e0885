"""Calibrated parameters as data: value, range, unit, source and (when tuned) what it was tuned to.

Two layers, both in `scenarios/calibration/`: `structural.toml` (behaviour, one set for every era,
tuned on March 2020 only) and `era_YYYY.toml` (positions, market size and calm levels of an era).
An era file may name a `base` era in its `[meta]` table: it then lists only what differs from it
(the placebo eras 2019 and 2023 are the nearest main era with their own sourced positions).
"""

import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CALIBRATION_DIR = Path(__file__).resolve().parents[1] / "scenarios" / "calibration"

Era = Literal["2019", "2020", "2023", "2025"]
ERAS: tuple[str, ...] = ("2019", "2020", "2023", "2025")


class CalibratedValue(BaseModel):
    """One calibrated number with its provenance."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str
    value: float
    low: float
    high: float
    unit: str
    source: str
    status: Literal["V", "V2", "U"]
    sampled: bool = False
    tuned_to: str | None = None
    description: str = ""
    layer: str = Field(default="structural", description="structural or era_YYYY")

    @model_validator(mode="after")
    def _value_in_range(self) -> "CalibratedValue":
        if not self.low <= self.value <= self.high:
            raise ValueError(f"{self.name}: value {self.value} outside [{self.low}, {self.high}]")
        return self


class Calibration(BaseModel):
    """All calibrated values of one era (structural + era layers)."""

    model_config = ConfigDict(frozen=True)

    era: Era
    as_of: str
    description: str
    values: dict[str, CalibratedValue]

    def __getitem__(self, name: str) -> float:
        return self.values[name].value


def _read_layer(path: Path, layer: str) -> dict[str, CalibratedValue]:
    data = tomllib.loads(path.read_text())
    data.pop("meta", None)
    return {name: CalibratedValue(name=name, layer=layer, **entry) for name, entry in data.items()}


def _era_values(era: str) -> dict[str, CalibratedValue]:
    path = CALIBRATION_DIR / f"era_{era}.toml"
    base = tomllib.loads(path.read_text())["meta"].get("base")
    values = _era_values(base) if base else {}
    values.update(_read_layer(path, f"era_{era}"))
    return values


@cache
def load_calibration(era: Era) -> Calibration:
    """The structural layer plus the era's layer (over its base era, if any), validated."""
    meta = tomllib.loads((CALIBRATION_DIR / f"era_{era}.toml").read_text())["meta"]
    values = _read_layer(CALIBRATION_DIR / "structural.toml", "structural")
    values.update(_era_values(era))
    return Calibration(era=era, as_of=meta["as_of"], description=meta["description"], values=values)
