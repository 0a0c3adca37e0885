"""The argument parser and flag parsers shared by both CLIs (`python -m engine`, `python -m briefing`).

`OneLineParser` turns every argparse complaint into one `InputError` line naming the flag and
what is allowed (each CLI prints it with its prefix and exits 2). The flag parsers validate their
text through `policy.run_settings.RunSettings`, so a flag is refused with the words the API, the
link codec and the app use. Kept light: no numpy, no pandas.
"""

import argparse
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from pydantic import ValidationError

from engine.errors import InputError
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


def one_line(message: str, allowed: Mapping[str, str]) -> str:
    """argparse's complaint as 'FIELD: VALUE; allowed: ...' (`allowed` by flag, 'command' and 'options')."""
    message = " ".join(message.split()).removeprefix("argument ")
    if message.startswith("the following arguments are required:"):
        missing = message.split(":", 1)[1].strip().split(", ")[0]
        name = "command" if missing.startswith("{") else missing
        return f"{name}: required; allowed: {allowed.get(name, 'see --help')}"
    if ": invalid choice:" in message:
        flag, rest = message.split(": invalid choice:", 1)
        value = rest.split("(choose from")[0].strip()
        name = "command" if flag.startswith("{") else flag
        choices = rest.split("(choose from", 1)[1].strip(" )").replace("'", "") if "(choose from" in rest else "see --help"
        return f"{name}: {value}; allowed: {allowed.get(name, choices)}"
    if message.startswith("unrecognized arguments:"):
        extra = message.split(":", 1)[1].strip()
        return f"{extra[:60]}: not an option; allowed: {allowed.get('options', 'see --help')}"
    return message


class OneLineParser(argparse.ArgumentParser):
    """argparse that raises one InputError line for bad input (no usage text, no exit of its own)."""

    def __init__(self, *args: Any, allowed: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        self.allowed = dict(allowed or {})
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise InputError(one_line(message, self.allowed))
