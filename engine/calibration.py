"""Calibrated parameters as data: value, range, unit, source and (when tuned) what it was tuned to.

Two layers, both in `scenarios/calibration/`: `structural.toml` (behaviour, one set for every era,
tuned on March 2020 only) and `era_YYYY.toml` (positions, market size and calm levels of an era).
An era file may name a `base` era in its `[meta]` table: it then lists only what differs from it
(the placebo eras 2019 and 2023 are the nearest main era with their own sourced positions).
"""

import tomllib
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CALIBRATION_DIR = Path(__file__).resolve().parents[1] / "scenarios" / "calibration"

Era = Literal["2019", "2020", "2023", "2025"]
ERAS: tuple[str, ...] = ("2019", "2020", "2023", "2025")


_UNIT_SUFFIXES = ("_usd_bn", "_usd_mn", "_bp", "_pct", "_per_day", "_days", "_years", "_x")


def label_from_name(name: str) -> str:
    """A readable fallback label from a code name: 'fundamental_share' -> 'Fundamental share'."""
    stem = name
    while suffix := next((x for x in _UNIT_SUFFIXES if stem.endswith(x) and len(stem) > len(x)), None):
        stem = stem.removesuffix(suffix)
    return stem.replace("_", " ").strip().capitalize() or name


class CalibratedValue(BaseModel):
    """One calibrated number with its provenance."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str
    label: str = Field(default="", description="short human label; every shipped value has one in its TOML file")
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

    @model_validator(mode="before")
    @classmethod
    def _default_label(cls, data: Any) -> Any:
        # Values built in code (the scenario's fundamental share) may omit a label: fall back to the name.
        if isinstance(data, dict) and not data.get("label") and isinstance(data.get("name"), str):
            data = {**data, "label": label_from_name(data["name"])}
        return data

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
