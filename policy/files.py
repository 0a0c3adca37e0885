"""One reader for every file a user hands us: regimes (JSON or TOML), scenarios and studies (TOML).

It checks, in this order and with one line naming what is allowed: size, binary content, UTF-8,
the syntax, nesting depth, numbers too long to convert (Python refuses integers of more than 4,300
digits with a plain ValueError; the line names the key when it can) and a top-level table. What
the data means is each model's own validation (`PolicyRegime`, `Scenario`, `Study`).
"""

import json
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from policy.run_settings import MAX_NESTING

FileFormat = Literal["json", "toml"]
_LONG_NUMBER = re.compile(r"""^\s*"?([A-Za-z0-9_.]+)"?\s*[=:]\s*[-+]?[0-9_]{1000,}""")
_TABLE = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.]+)\s*\]\]?")
_JSON_LONG_NUMBER = re.compile(r'"([A-Za-z0-9_.]{1,60})"\s*:\s*[-+]?[0-9]{1000,}')


class FileInputError(ValueError):
    """A file that cannot be read; the message starts with the file's name and says what is allowed."""


def _long_number_key(text: str) -> str:
    """'clearing.haircut_floor_pct: ' for the key holding an unreadably long number, '' if not found."""
    in_json = _JSON_LONG_NUMBER.search(text)
    if in_json:
        return f"{in_json.group(1)}: "
    table = ""
    for line in text.splitlines():
        header = _TABLE.match(line)
        if header:
            table = header.group(1) + "."
        found = _LONG_NUMBER.match(line)
        if found:
            return f"{table}{found.group(1)}: "
    return ""


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_NESTING:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def read_data(raw: bytes, *, fmt: FileFormat, origin: str, what: str, max_bytes: int) -> dict[str, Any]:
    """Parsed data of a user's file (a dict), or FileInputError with one line. `what`: e.g. 'a regime file'."""
    if len(raw) > max_bytes:
        raise FileInputError(f"{origin}: file too large; allowed: at most {max_bytes:,} bytes (it has {len(raw):,})")
    if b"\x00" in raw:
        raise FileInputError(f"{origin}: binary file; allowed: {what} ({fmt.upper()} text)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise FileInputError(f"{origin}: not UTF-8 text (byte {err.start}); allowed: a UTF-8 {what.removeprefix('a ')}") from None
    try:
        data: Any = json.loads(text) if fmt == "json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as err:
        raise FileInputError(f"{origin}: malformed {fmt.upper()} ({str(err)[:120]}); allowed: {what}") from None
    except RecursionError:
        raise FileInputError(f"{origin}: nested too deeply; allowed: {what} as documented") from None
    except ValueError as err:  # an integer beyond Python's 4,300-digit conversion limit
        raise FileInputError(
            f"{origin}: {_long_number_key(text)}a number too long to read ({str(err).split(':')[0]}); "
            "allowed: numbers of at most 4,300 digits"
        ) from None
    if not isinstance(data, dict):
        raise FileInputError(f"{origin}: the top level must be an object (a table of fields); allowed: {what}")
    if _depth(data) > MAX_NESTING:
        raise FileInputError(f"{origin}: nested more than {MAX_NESTING} levels deep; allowed: {what} as documented")
    return data


def read_file(path: str | Path, *, what: str, max_bytes: int, formats: tuple[FileFormat, ...] = ("toml",)) -> dict[str, Any]:
    """`read_data` of a file on disk, refusing an unknown suffix or an oversized file before reading it."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in formats:
        raise FileInputError(f"{path.name}: unknown file type; allowed: {' or '.join('.' + f for f in formats)}")
    if not path.is_file():
        raise FileInputError(f"{path.name}: no such file; allowed: {what}")
    if path.stat().st_size > max_bytes:
        raise FileInputError(f"{path.name}: file too large; allowed: at most {max_bytes:,} bytes")
    return read_data(path.read_bytes(), fmt=fmt, origin=path.name, what=what, max_bytes=max_bytes)  # type: ignore[arg-type]
