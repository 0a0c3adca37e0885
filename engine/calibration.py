"""Calibrated parameters as data: value, range, unit, source and (when tuned) what it was tuned to.

Two layers, both in `scenarios/calibration/`: `structural.toml` (behaviour, one set for every era,
tuned on March 2020 only) and `era_YYYY.toml` (positions, market size and calm levels of an era).
"""

import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CALIBRATION_DIR = Path(__file__).resolve().parents[1] / "scenarios" / "calibration"

Era = Literal["2020", "2025"]


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

    def sampled(self) -> list[CalibratedValue]:
        """The values the Monte Carlo draws, in a stable order."""
        return [v for v in self.values.values() if v.sampled]


def _read_layer(path: Path, layer: str) -> dict[str, CalibratedValue]:
    data = tomllib.loads(path.read_text())
    data.pop("meta", None)
    return {name: CalibratedValue(name=name, layer=layer, **entry) for name, entry in data.items()}


@cache
def load_calibration(era: Era) -> Calibration:
    """The structural layer plus the era's layer, validated."""
    era_path = CALIBRATION_DIR / f"era_{era}.toml"
    meta = tomllib.loads(era_path.read_text())["meta"]
    values = _read_layer(CALIBRATION_DIR / "structural.toml", "structural")
    values.update(_read_layer(era_path, f"era_{era}"))
    return Calibration(era=era, as_of=meta["as_of"], description=meta["description"], values=values)
