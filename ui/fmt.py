"""Number formatting for cards and tables (display only: one function, used by the app and its tests)."""

import math


def _digits(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_value(value: float, unit: str, *, signed: bool = False) -> str:
    """`value` with its unit, e.g. '64.2 bp', '$38.1mn', '12.0%', '$1,234bn', '$12.5bn/yr', '31.0x'."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if abs(value) < 0.005:
        value = 0.0  # no "-0.00"
    sign = "+" if signed and value > 0 else ""
    body = _digits(value)
    if unit.startswith("$"):
        negative = body.startswith("-")
        body = body.lstrip("-")
        rest = unit[1:]
        return f"{'-' if negative else sign}${body}{rest}"
    if unit in ("%", "x"):
        return f"{sign}{body}{unit}"
    return f"{sign}{body} {unit}".rstrip()


def fmt_range(stats: dict[str, float], unit: str) -> str:
    """'p5 to p95' text of a {p5, p50, p95} dict."""
    return f"{fmt_value(stats['p5'], unit)} to {fmt_value(stats['p95'], unit)}"


def delta_unit(unit: str) -> str:
    """Unit of a difference: a difference of percentages is in percentage points."""
    return "pp" if unit == "%" else unit
