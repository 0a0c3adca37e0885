"""Regime files (JSON or TOML): read with hard limits and clear errors, written as JSON."""

from pathlib import Path

from pydantic import ValidationError

from policy.files import FileInputError, read_data
from policy.regime import PolicyRegime
from policy.run_settings import MAX_REGIME_FILE_BYTES
from policy.spec import describe_validation_error

# Fields that model 2.0 renamed or retired: a file that still uses them is refused with what changed.
RETIRED_FIELDS: dict[tuple[str, str], str] = {
    ("clearing", "margin_floor_pct"): "renamed clearing.haircut_floor_pct in model 2.0: the same floor on "
    "cleared repo margin, now charged only where it exceeds the CCP's VaR margin (default 0: the SEC rule "
    "sets none); rename the field",
    ("leverage_cap", "max_leverage_x"): "replaced by leverage_cap.max_gross_leverage_x in model 2.0: the cap "
    "now measures gross notional / net assets (Form PF), not positions per dollar of equity, so the value "
    "cannot be converted; set max_gross_leverage_x (5 to 100)",
}


class RegimeInputError(ValueError):
    """A regime file or text that cannot be used; the message names the field and what is allowed."""


def parse_regime_text(raw: bytes, *, fmt: str, origin: str) -> PolicyRegime:
    """Validate regime bytes (`fmt` is 'json' or 'toml'); `origin` names the source in messages."""
    if fmt not in ("json", "toml"):
        raise RegimeInputError(f"{origin}: unknown file type; allowed: .json or .toml")
    try:
        data = read_data(raw, fmt=fmt, origin=origin, what="a JSON or TOML regime file", max_bytes=MAX_REGIME_FILE_BYTES)
    except FileInputError as err:
        raise RegimeInputError(str(err)) from None
    for (group, field), change in RETIRED_FIELDS.items():
        if isinstance(data.get(group), dict) and field in data[group]:
            raise RegimeInputError(f"{origin}: {group}.{field}: {change}")
    try:
        return PolicyRegime.model_validate(data)
    except ValidationError as err:
        raise RegimeInputError(f"{origin}: {describe_validation_error(err)}") from None


def load_regime_file(path: str | Path) -> PolicyRegime:
    """Read a `.json` or `.toml` regime file."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("json", "toml"):
        raise RegimeInputError(f"{path.name}: unknown file type; allowed: .json or .toml")
    if path.stat().st_size > MAX_REGIME_FILE_BYTES:
        raise RegimeInputError(f"{path.name}: file too large; allowed: at most {MAX_REGIME_FILE_BYTES:,} bytes")
    return parse_regime_text(path.read_bytes(), fmt=fmt, origin=path.name)


def regime_to_json(regime: PolicyRegime) -> str:
    """The full regime as indented JSON (the file format `load_regime_file` reads back)."""
    return regime.model_dump_json(indent=2)
