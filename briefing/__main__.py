"""Command line: build the briefing pack (PDF + ZIP) for a scenario and regimes.

    python -m briefing export --scenario foreign_selloff_2026 --regime status_quo --regime clearing_rule \\
        --paths 500 --seed 0 --out out/
    python -m briefing export --scenario my_shock.toml --regime status_quo --out out/

    python -m briefing analysis --view map --study scenarios/studies/policy_map.toml --out out/
    python -m briefing analysis --view tornado --scenario march_2020 --regime all_guardrails \
        --metric peak_10y_yield_change_bp --out out/
    python -m briefing analysis --view amplification --scenario march_2020 --out out/

`analysis` writes the briefing pack of one view of the app's "Policy analysis" page (PDF + ZIP,
`briefing.analysis_pack`); `--view` is one of map, frontier, tornado, attribution, amplification,
robustness, expected_cost, stress_grid, each with the options of its form in the app.

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

from engine.cli_args import OneLineParser, setting, whole_number
from engine.errors import InputError
from policy.run_settings import MAX_LOSS_USD_BN, MAX_PATHS_INTERACTIVE, MAX_REGIMES_INTERACTIVE


class UsageError(Exception):
    """Bad command-line input; the message is the one line printed."""


OPTIONS = "--scenario, --regime, --paths, --seed, --shock-scale, --base-url, --out"
ANALYSIS_OPTIONS = ("--view, --study, --scenario, --regime, --baseline, --metric, --cost, --x, --y, --hold, --paths, "
                    "--seed, --samples, --no-assumptions, --episode-probability, --loss, --breakdown-loss, "
                    "--base-url, --out")
# What each required flag or the command allows, in the parser's one-line messages.
ALLOWED = {
    "command": "export, analysis",
    "--view": "map, frontier, tornado, attribution, amplification, robustness, expected_cost, stress_grid",
    "--scenario": "a bundled scenario name or a scenario .toml file",
    "--out": "a directory for the PDF and ZIP (created if missing)",
}


def _base_url(text: str) -> str:
    if not (text.startswith(("http://", "https://")) and len(text) <= 500 and " " not in text):
        raise argparse.ArgumentTypeError(f"{text[:60]!r}; allowed: an http:// or https:// address")
    return text


def make_parser() -> OneLineParser:
    parser = OneLineParser(prog="python -m briefing", description="Briefing exports of the policy explorer.",
                           allowed=ALLOWED | {"options": "export, analysis"})
    commands = parser.add_subparsers(dest="command", required=True, metavar="{export,analysis}")
    export = commands.add_parser("export", help="write the briefing PDF and ZIP into a directory",
                                 allowed=ALLOWED | {"options": OPTIONS})
    export.add_argument("--scenario", required=True, help="bundled scenario name or a scenario .toml file")
    export.add_argument(
        "--regime", action="append", default=None,
        help=f"preset or regime .json/.toml file (repeat, up to {MAX_REGIMES_INTERACTIVE})",
    )
    export.add_argument("--paths", type=setting("paths", "interactive"), default=500, help="Monte Carlo paths")
    export.add_argument("--seed", type=setting("seed"), default=0, help="random seed")
    export.add_argument("--shock-scale", type=setting("shock_scale"), default=1.0, help="shock severity, 0 to 5")
    export.add_argument("--base-url", type=_base_url, default=None, help="explorer address for the link")
    export.add_argument("--out", required=True, help="directory for the PDF and ZIP (created if missing)")
    _analysis_parser(commands)
    return parser


def _number_in(low: float, high: float):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"{text!r}; allowed: a number from {low:g} to {high:g}")
        return value

    return parse


def _analysis_parser(commands: argparse._SubParsersAction) -> None:
    from briefing.analysis_pack import VIEW_TITLES

    def view(text: str) -> str:
        if text not in VIEW_TITLES:
            raise argparse.ArgumentTypeError(f"{text[:60]!r}; allowed: {', '.join(VIEW_TITLES)}")
        return text

    a = commands.add_parser("analysis", help="write the briefing PDF and ZIP of one policy-analysis view",
                            allowed=ALLOWED | {"options": ANALYSIS_OPTIONS})
    a.add_argument("--view", type=view, required=True, help=", ".join(VIEW_TITLES))
    a.add_argument("--study", help="study .toml file (map, frontier)")
    a.add_argument("--scenario", help="shipped scenario name (for map and frontier: one of the study's)")
    a.add_argument("--regime", action="append", default=None,
                   help="preset: the regime (tornado: the base; robustness: A); expected_cost and frontier: repeat")
    a.add_argument("--baseline", help="preset the regime is set against (attribution, robustness, stress_grid)")
    a.add_argument("--metric", help="outcome (default peak_10y_yield_change_bp)")
    a.add_argument("--cost", help="frontier: calm cost metric (default calm_yield_cost_bp)")
    a.add_argument("--x", help="map: factor across (default the study's first numeric factor)")
    a.add_argument("--y", help="map: factor up (default its second)")
    a.add_argument("--hold", action="append", default=None, metavar="FACTOR=VALUE",
                   help="map: hold another factor of the study at a swept value (default its first; repeat)")
    a.add_argument("--paths", type=whole_number(20, MAX_PATHS_INTERACTIVE), default=200,
                   help="Monte Carlo paths (not map/frontier)")
    a.add_argument("--seed", type=setting("seed"), default=0, help="random seed (not map/frontier)")
    a.add_argument("--samples", type=whole_number(0, 200), default=8, help="robustness: Latin hypercube points")
    a.add_argument("--no-assumptions", action="store_true", help="tornado: levers only")
    a.add_argument("--episode-probability", type=_number_in(0.0, 1.0), help="expected_cost: episodes per year")
    a.add_argument("--loss", type=_number_in(0.0, MAX_LOSS_USD_BN), help="expected_cost: $bn lost per episode")
    a.add_argument("--breakdown-loss", type=_number_in(0.0, MAX_LOSS_USD_BN), default=0.0,
                   help="expected_cost: further $bn lost on a breakdown")
    a.add_argument("--base-url", type=_base_url, default=None, help="explorer address for the link")
    a.add_argument("--out", required=True, help="directory for the PDF and ZIP (created if missing)")


def _check_out(text: str) -> Path:
    if not text.strip():  # Path("") is the current folder: an empty --out is a mistake, not a choice
        raise UsageError("--out: empty; allowed: a directory (created if missing)")
    out = Path(text)
    try:
        is_file = out.exists() and not out.is_dir()
    except OSError as err:  # e.g. a name longer than the file system allows
        raise UsageError(f"--out: {text[:60]!r} cannot be used ({err.strerror}); allowed: a writable directory") from None
    if is_file:
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


def _write_all(out: Path, files) -> list[Path]:
    """Write each (name, bytes) into `out` atomically (a partial file never has the final name)."""
    written = []
    for name, data in files:
        path = out / name
        tmp = out / f".{name}.part"
        tmp.write_bytes(data)
        tmp.replace(path)
        written.append(path)
    return written


def run_export(args: argparse.Namespace) -> list[Path]:
    from briefing.pack import DEFAULT_BASE_URL, build_pack, pack_names, view_for_result
    from engine import InputError, load_scenario, simulate

    regimes = args.regime or None
    if regimes and len(regimes) > MAX_REGIMES_INTERACTIVE:
        raise UsageError(f"--regime: {len(regimes)} given; allowed: 1 to {MAX_REGIMES_INTERACTIVE} regimes")
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
    return _write_all(out, zip(pack_names(result), (pdf, zipped), strict=True))


def _one_of(field: str, value: str | None, allowed: list[str], default: str | None = None) -> str:
    if value is None:
        if default is None:
            raise UsageError(f"{field}: required for this view; allowed: {', '.join(allowed)}")
        return default
    if value not in allowed:
        raise UsageError(f"{field}: {value[:60]!r} unknown; allowed: {', '.join(allowed)}")
    return value


def analysis_options(args: argparse.Namespace) -> dict:
    """The view's options, checked: one UsageError naming the field and what is allowed."""
    from engine import METRICS, InputError, scenario_names
    from engine.study import load_study
    from policy import preset_names

    view, presets, metrics = args.view, preset_names(), list(METRICS)
    regimes = [_one_of("--regime", r, presets) for r in args.regime or []]
    out: dict = {"paths": args.paths, "seed": args.seed}
    if view in ("map", "frontier"):
        from briefing.analysis_pack import numeric_factors

        if args.study is None:
            raise UsageError("--study: required for this view; allowed: a study .toml file (see scenarios/studies/)")
        try:
            study = load_study(args.study)
        except (InputError, OSError) as err:
            raise UsageError("--study: " + " ".join(str(err).split())) from None
        out["study"] = study
        from engine.run import resolve_scenario

        names = [resolve_scenario(s).name for s in study.scenarios]  # a file's scenario by its own name
        out["scenario"] = _one_of("--scenario", args.scenario, names, names[0])
        if view == "map":
            if study.design != "grid":
                raise UsageError(f"--study: design {study.design!r} cannot be mapped; allowed: design = \"grid\"")
            factors = numeric_factors(study)
            if len(factors) < 2:
                raise UsageError("--study: fewer than two numeric factors; allowed: a study of two numeric factors")
            out["x"] = _one_of("--x", args.x, factors, factors[0])
            out["y"] = _one_of("--y", args.y, [f for f in factors if f != out["x"]],
                               next(f for f in factors if f != out["x"]))
            others = [f.name for f in study.factors if f.name not in (out["x"], out["y"])]
            out["hold"] = {}
            for text in args.hold or []:
                name, sep, value = text.partition("=")
                if not sep or not value:
                    raise UsageError(f"--hold: {text[:60]!r}; allowed: FACTOR=VALUE, FACTOR one of "
                                     f"{', '.join(others) or 'none (the study has no other factors)'}")
                out["hold"][_one_of("--hold", name, others)] = value
            out["metric"] = _one_of("--metric", args.metric, list(study.metrics),
                                    "peak_10y_yield_change_bp" if "peak_10y_yield_change_bp" in study.metrics
                                    else study.metrics[0])
        else:
            costs = [m for m in ("calm_yield_cost_bp", "calm_interest_cost_usd_bn_per_year") if m in study.metrics]
            if not costs:
                raise UsageError("--study: measures no calm cost; allowed: a study with calm_yield_cost_bp in metrics")
            out["cost"] = _one_of("--cost", args.cost, costs, costs[0])
            outcomes = [m for m in study.metrics if not m.startswith("calm_")]
            out["metric"] = _one_of("--metric", args.metric, outcomes, outcomes[0] if outcomes else None)
            out["regimes"] = regimes or ["status_quo", "clearing_rule", "all_guardrails"]
        return out
    if view != "stress_grid":
        out["scenario"] = _one_of("--scenario", args.scenario, scenario_names())
    if view in ("tornado", "attribution", "amplification", "robustness"):
        out["metric"] = _one_of("--metric", args.metric, metrics, "peak_10y_yield_change_bp")
    if view == "expected_cost":
        if args.episode_probability is None:
            raise UsageError("--episode-probability: required for this view; allowed: a number from 0 to 1")
        out |= {"probability": args.episode_probability, "loss": args.loss, "extra": args.breakdown_loss,
                "regimes": regimes or ["status_quo", "clearing_rule", "all_guardrails"]}
        if len(out["regimes"]) > 8:
            raise UsageError(f"--regime: {len(out['regimes'])} given; allowed: 1 to 8 presets")
        return out
    if len(regimes) > 1:
        raise UsageError(f"--regime: {len(regimes)} given; allowed: one preset for this view")
    out["regimes"] = regimes or ["all_guardrails"]
    if view == "tornado":
        out["assumptions"] = not args.no_assumptions
    if view == "robustness":
        out["samples"] = args.samples
    if view in ("attribution", "robustness", "stress_grid"):
        out["baseline"] = _one_of("--baseline", args.baseline, presets, "status_quo")
        if view != "stress_grid" and out["baseline"] == out["regimes"][0]:
            raise UsageError(f"--baseline: the same preset as --regime; allowed: a preset other than "
                             f"{out['baseline']}")
    return out


def run_analysis(args: argparse.Namespace) -> list[Path]:
    from briefing.analysis_pack import DEFAULT_BASE_URL, build, pack_names, run_view
    from engine import InputError

    options = analysis_options(args)
    _check_out(args.out)
    try:
        item = run_view(args.view, options, base_url=args.base_url or DEFAULT_BASE_URL)
    except InputError as err:
        raise UsageError(" ".join(str(err).split())) from None
    out = _out_dir(args.out)
    pdf, zipped = build(item)
    return _write_all(out, zip(pack_names(item), (pdf, zipped), strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    try:
        args, extra = parser.parse_known_args(argv)
    except InputError as err:
        print(f"briefing: {err}", file=sys.stderr)
        return 2
    if extra:  # named after the command's own options (argparse would list export's)
        options = ANALYSIS_OPTIONS if args.command == "analysis" else OPTIONS
        print(f"briefing: {' '.join(extra)[:60]}: not an option; allowed: {options}", file=sys.stderr)
        return 2
    # numpy RuntimeWarnings from inside the engine are not the user's input problem; keep stderr clean.
    warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"engine\.")
    try:
        written = run_analysis(args) if args.command == "analysis" else run_export(args)
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
