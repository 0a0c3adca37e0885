"""Flag parsers shared by both CLIs (`python -m engine`, `python -m briefing`), from the one run spec.

Each parser validates its text through `policy.run_settings.RunSettings`, so a flag is refused
with the words the API, the link codec and the app use. Kept light: no numpy, no pandas.
"""

import argparse
from collections.abc import Callable

from pydantic import ValidationError

from policy.run_settings import ALLOWED, RunMode, RunSettings, describe_settings_error


def setting(field: str, mode: RunMode = "batch") -> Callable[[str], object]:
    """An argparse `type=` for one field of RunSettings (paths, days, seed, shock_scale) under `mode`'s
    limits (the briefing CLI uses the app's, so its pack's link opens in the app)."""
    if field not in ALLOWED:
        raise KeyError(field)

    def parse(text: str) -> object:
        try:
            return getattr(RunSettings.model_validate({"mode": mode, field: text}), field)
        except ValidationError as err:
            # argparse names the flag; the message keeps only the value and what is allowed.
            raise argparse.ArgumentTypeError(describe_settings_error(err, mode).split(": ", 1)[1]) from None

    parse.__name__ = field
    return parse


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse `type=` for a count that is not a run setting (e.g. regimes per batch)."""

    def parse(text: str) -> int:
        value = int(text) if text.strip().lstrip("+").isdigit() and len(text) <= 12 else None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text[:40]!r}; allowed: a whole number from {low:,} to {high:,}")
        return value

    return parse
