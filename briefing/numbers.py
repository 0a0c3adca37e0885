"""The one number formatter of the app and the briefing pack: rounded values with their units.

Rounding follows what a reader can use: whole numbers from 100 up (with thousands separators),
one decimal from 1 to 100, two below 1. A value that rounds to zero is shown as a plain zero
(never "-0" or "+0"): zero is neutral. ASCII minus, so the PDF font never lacks the glyph.
"""

import math
from typing import Any


def _decimals(magnitude: float) -> int:
    if magnitude >= 99.95:
        return 0
    if magnitude >= 0.995:
        return 1
    return 2


def rounds_to_zero(value: float) -> bool:
    """True when `value` is shown as zero (the card colour and the words "about the same" use it)."""
    return math.isfinite(value) and abs(value) < 0.005


def fmt_number(value: float, *, signed: bool = False) -> str:
    """`value` rounded for reading: 1,234 / 64.2 / 0.35; '+' on request for non-zero values."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if rounds_to_zero(value):
        return "0"
    magnitude = abs(value)
    body = f"{magnitude:,.{_decimals(magnitude)}f}"
    sign = "-" if value < 0 else ("+" if signed else "")
    return sign + body


def fmt_value(value: float, unit: str, *, signed: bool = False) -> str:
    """`value` with its unit: '64.2 bp', '$38.1mn', '12.0%', '$1,234bn', '$12.5bn/yr', '31.0x', '+3.0 pp'."""
    number = fmt_number(value, signed=signed)
    if number == "n/a":
        return number
    if unit.startswith("$"):
        sign = number[0] if number[0] in "+-" else ""
        return f"{sign}${number.lstrip('+-')}{unit[1:]}"
    if unit in ("%", "x"):
        return f"{number}{unit}"
    return f"{number} {unit}".rstrip()


def delta_unit(unit: str) -> str:
    """Unit of a difference: a difference of percentages is in percentage points."""
    return "pp" if unit == "%" else unit


def fmt_range(stats: dict[str, float], unit: str, *, signed: bool = False) -> str:
    """'p5 to p95' of a {p5, p50, p95} dict: '40.2 to 88.0 bp', '$12.4mn to $50.2mn' (the unit once,
    except for money, whose sign goes before the '$')."""
    high = fmt_value(stats["p95"], unit, signed=signed)
    low = fmt_value(stats["p5"], unit, signed=signed) if unit.startswith("$") else fmt_number(stats["p5"], signed=signed)
    return f"{low} to {high}"


def fmt_band(stats: dict[str, float], unit: str, *, signed: bool = False) -> str:
    """'151 bp (113 to 191 bp)': the median with the 5th-95th percentile range."""
    return f"{fmt_value(stats['p50'], unit, signed=signed)} ({fmt_range(stats, unit, signed=signed)})"


def fmt_lever(value: Any, unit: str) -> str:
    """A lever's value as a reader sees it: on/off for switches, the number with its unit otherwise."""
    if isinstance(value, bool):
        return "on" if value else "off"
    text = f"{value:g}" if isinstance(value, float) else str(value)
    if unit in ("on/off", "choice", ""):
        return text
    if unit in ("%", "x"):
        return f"{text}{unit}"
    return f"{text} {unit}"


def fmt_probability(pct: float) -> str:
    """A share of paths, in percent: '0%', '<1%', '12%', '>99%', '100%' (Monte Carlo shares are not exact)."""
    if not math.isfinite(pct):
        return "n/a"
    if pct <= 0:
        return "0%"
    if pct < 1:
        return "<1%"
    if pct >= 100:
        return "100%"
    if pct > 99:
        return ">99%"
    return f"{pct:.0f}%"
