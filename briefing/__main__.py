"""Command line: build the briefing pack (PDF + ZIP) for a scenario and regimes.

    python -m briefing export --scenario foreign_selloff_2026 --regime status_quo --regime clearing_rule \\
        --paths 500 --seed 0 --out out/
    python -m briefing export --scenario my_shock.toml --regime status_quo --out out/

`--scenario` takes a shipped scenario's name or a scenario TOML file (an edited or uploaded scenario,
e.g. the file in a briefing pack's ZIP), read with the checks of `python -m engine run --scenario`;
the first regime is the baseline the pack compares with. A file that is an edit of a shipped
scenario gives a link with that edit (se.* parameters), as the app writes it.

Exit codes: 0 written; 2 bad input (one line on stderr naming the field and what is allowed);
1 internal fault.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import traceback
import warnings
from pathlib import Path
from typing import NoReturn

from policy.query import MAX_PATHS, MAX_SEED, MAX_SHOCK_SCALE


class UsageError(Exception):
    """Bad command-line input; the message is the one line printed."""


OPTIONS = "--scenario, --regime, --paths, --seed, --shock-scale, --base-url, --out"
_REQUIRED = {
    "{export}": "export",
    "--scenario": "a bundled scenario name or a scenario .toml file",
    "--out": "a directory for the PDF and ZIP (created if missing)",
}


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports bad input as one line on stderr (no usage text) and exits 2."""

    def error(self, message: str) -> NoReturn:
        message = " ".join(message.split())
        if message.startswith("argument "):
            message = message[len("argument ") :]
        if message.startswith("the following arguments are required:"):
            missing = message.split(":", 1)[1].strip().split(",")[0].strip()
            shown = "command" if missing == "{export}" else missing
            message = f"{shown}: required; allowed: {_REQUIRED.get(missing, 'see --help')}"
        elif message.startswith("{export}: invalid choice"):
            message = f"command: {message.split('choice:', 1)[1].split('(')[0].strip()}; allowed: export"
        elif message.startswith("unrecognized arguments:"):
            extra = message.split(":", 1)[1].strip()
            message = f"{extra[:60]}: not an option; allowed: {OPTIONS}"
        self.exit(2, f"briefing: {message}\n")


def _int_in(name: str, low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r}; allowed: a whole number from {low:,} to {high:,}")
        return value

    parse.__name__ = name
    return parse


def _shock_scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0.0 <= value <= MAX_SHOCK_SCALE):
        raise argparse.ArgumentTypeError(f"{text!r}; allowed: a number from 0 to {MAX_SHOCK_SCALE:g}")
    return value


def _base_url(text: str) -> str:
    if not (text.startswith(("http://", "https://")) and len(text) <= 500 and " " not in text):
        raise argparse.ArgumentTypeError(f"{text[:60]!r}; allowed: an http:// or https:// address")
    return text


def make_parser() -> OneLineParser:
    parser = OneLineParser(prog="python -m briefing", description="Briefing exports of the policy explorer.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{export}")
    export = commands.add_parser("export", help="write the briefing PDF and ZIP into a directory")
    export.add_argument("--scenario", required=True, help="bundled scenario name or a scenario .toml file")
    export.add_argument(
        "--regime", action="append", default=None, help="preset name or regime .json/.toml file (repeat, up to 4)"
    )
    export.add_argument("--paths", type=_int_in("paths", 1, MAX_PATHS), default=500, help="Monte Carlo paths")
    export.add_argument("--seed", type=_int_in("seed", 0, MAX_SEED), default=0, help="random seed")
    export.add_argument("--shock-scale", type=_shock_scale, default=1.0, help="shock severity, 0 to 5")
    export.add_argument("--base-url", type=_base_url, default=None, help="explorer address for the link")
    export.add_argument("--out", required=True, help="directory for the PDF and ZIP (created if missing)")
    return parser


def _check_out(text: str) -> Path:
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out: {text!r} is a file; allowed: a directory (created if missing)")
    return out


def _out_dir(text: str) -> Path:
    out = _check_out(text)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"--out: cannot create {text!r} ({err.strerror}); allowed: a writable directory") from None
    if not os.access(out, os.W_OK):
        raise UsageError(f"--out: {text!r} is not writable; allowed: a writable directory")
    return out


def run_export(args: argparse.Namespace) -> list[Path]:
    from briefing.pack import DEFAULT_BASE_URL, build_pack, pack_names, view_for_result
    from engine import InputError, load_scenario, simulate

    regimes = args.regime or None
    if regimes and len(regimes) > 4:
        raise UsageError(f"--regime: {len(regimes)} given; allowed: 1 to 4 regimes")
    _check_out(args.out)
    # The scenario first, on its own: a file's message names the file and its field, after the option.
    try:
        scenario = load_scenario(args.scenario)
    except InputError as err:
        raise UsageError("--scenario: " + " ".join(str(err).split()).removeprefix("scenario: ")) from None
    try:
        result = simulate(scenario, regimes, paths=args.paths, seed=args.seed, shock_scale=args.shock_scale)
    except InputError as err:
        raise UsageError(" ".join(str(err).split())) from None
    out = _out_dir(args.out)
    view = view_for_result(result)
    pdf, zipped = build_pack(result, view, args.base_url or DEFAULT_BASE_URL)
    pdf_name, zip_name = pack_names(result)
    written = []
    for name, data in ((pdf_name, pdf), (zip_name, zipped)):
        path = out / name
        tmp = out / f".{name}.part"
        tmp.write_bytes(data)
        tmp.replace(path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    # numpy RuntimeWarnings from inside the engine are not the user's input problem; keep stderr clean.
    warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"engine\.")
    try:
        written = run_export(args)
    except UsageError as err:
        print(f"briefing: {err}", file=sys.stderr)
        return 2
    except Exception as err:
        if os.environ.get("BRIEFING_DEBUG"):
            traceback.print_exc()
        print(f"briefing: internal error ({type(err).__name__}: {' '.join(str(err).split())[:300]})", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
