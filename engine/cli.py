"""`python -m engine`: list, params, regime, run, backtest, sensitivity, sweep (a stable contract other tools use).

Bad input exits 2 with one line on stderr naming the field and what is allowed; an internal fault
exits 1; a broken market is a result (exit 0).
"""

import argparse
import csv
import io
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.cli_args import OneLineParser, setting, whole_number
from engine.errors import InputError
from policy.run_settings import FUNDAMENTAL_MODES, MAX_REGIMES_BATCH

if TYPE_CHECKING:  # pandas and the model load only inside the commands that need them (fast --help)
    import pandas as pd

CLI_FUNDAMENTAL_MODES = FUNDAMENTAL_MODES[:2]  # the two ways to build a historical scenario's path


def _parser() -> OneLineParser:
    parser = OneLineParser(prog="python -m engine", description="Treasury market stress model", allowed={
        "command": "list, params, regime, run, backtest, sensitivity, sweep",
        "options": "the command's options (python -m engine COMMAND --help)",
    })
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    fmt = {"choices": ["table", "json", "csv"], "default": "table"}
    sub.add_parser("list", help="scenarios and regime presets").add_argument("--format", **fmt)
    sub.add_parser("params", help="every settable regime parameter").add_argument("--format", **fmt)
    regime = sub.add_parser("regime", help="a full regime as JSON")
    regime.add_argument("name", nargs="?")
    regime.add_argument("--regime", dest="regime_file")
    regime.add_argument("--format", choices=["json", "table"], default="json")
    run = sub.add_parser("run", help="simulate a scenario under regimes")
    run.add_argument("--scenario", required=True)
    run.add_argument("--regime", action="append", default=[])
    run.add_argument("--shock-scale", type=setting("shock_scale"), default=1.0)
    run.add_argument("--paths", type=setting("paths"), default=1000)
    run.add_argument("--days", type=setting("days"), default=None)
    run.add_argument("--seed", type=setting("seed"), default=0)
    run.add_argument("--baseline", default=None, metavar="REGIME",
                     help="regime the others are compared with, path by path (default: the first)")
    run.add_argument("--series", action="store_true", help="add daily p5/p50/p95 paths (json)")
    run.add_argument("--fundamental-mode", choices=CLI_FUNDAMENTAL_MODES, default=None,
                     help="historical scenarios: build the fundamental path from a share of the 10y (observed_share) "
                     "or from the 2y with a pre-episode beta (proxy_beta); default: the scenario file's")
    run.add_argument("--format", **fmt)
    back = sub.add_parser("backtest", help="model versus history: March 2020 (tuned), April 2025 and placebos (tests)")
    back.add_argument("--paths", type=setting("paths"), default=2000)
    back.add_argument("--seed", type=setting("seed"), default=0)
    back.add_argument("--fundamental-mode", choices=CLI_FUNDAMENTAL_MODES, default=None)
    back.add_argument("--view", choices=["targets", "inputs", "rmse", "paths", "compare-fundamental"], default="targets",
                      help="targets: the scored table; inputs: what each episode takes from data; rmse: daily 10y "
                      "path errors; paths: daily model vs observed 10y; compare-fundamental: both fundamental paths")
    back.add_argument("--format", **fmt)
    sens = sub.add_parser("sensitivity", help="backtest p50 with each tuned parameter at its range ends")
    sens.add_argument("--paths", type=setting("paths"), default=1000)
    sens.add_argument("--seed", type=setting("seed"), default=0)
    sens.add_argument("--format", **fmt)
    sweep = sub.add_parser("sweep", help="run a study file: a grid, LHS or Sobol sweep of levers and assumptions")
    sweep.add_argument("study", metavar="STUDY.toml")
    sweep.add_argument("--backend", choices=["local", "dask"], default="local")
    sweep.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="dask scheduler address (default: start a local cluster of 2 worker processes)")
    sweep.add_argument("--batch-regimes", type=whole_number(1, MAX_REGIMES_BATCH), default=None,
                       help="regimes per simulate call (default: engine.sweep.DEFAULT_BATCH_REGIMES)")
    sweep.add_argument("--out", default=None, metavar="DIR",
                       help="write results.parquet (or .csv), a copy of the study file and run.json here")
    sweep.add_argument("--out-format", choices=["parquet", "csv"], default="parquet")
    sweep.add_argument("--format", **fmt)
    return parser


def _emit(frame: "pd.DataFrame", data: Any, fmt: str) -> str:
    import pandas as pd

    if fmt == "json":
        return json.dumps(data, indent=2, default=str)
    if fmt == "csv":
        return frame.to_csv(index=False)
    with pd.option_context("display.width", 200, "display.max_colwidth", 70, "display.max_rows", 500):
        return frame.to_string(index=False)


# `list` and `params` print small tables of str, bool, int and float. Importing pandas for them
# cost ~0.6 s of a 1 s start, so they are laid out here the way pandas 3 lays them out
# (`DataFrame.to_string(index=False)` and `to_csv(index=False)`), byte for byte;
# tests/test_cli_startup.py compares the two. A column outside that subset goes to pandas.
_TRIMMABLE_NUMBER = re.compile(r"^\s*[+-]?[0-9]+\.[0-9]*$")
_PLAIN_FLOAT_RANGE = (1e-6, 1e6)  # pandas switches to scientific notation outside it


class _NeedsPandasError(Exception):
    """A column this layout does not reproduce exactly: format it with pandas instead."""


def _column_kind(values: list[Any]) -> str:
    """The dtype pandas infers for a column built from these Python values (str, bool, int,
    float or object), or _NeedsPandasError for values whose layout is not reproduced here."""
    present = [v for v in values if v is not None]
    for value in present:
        if not isinstance(value, str | bool | int | float) or (isinstance(value, float) and not _plain_float(value)):
            raise _NeedsPandasError
        if isinstance(value, str) and any(c in value for c in "\t\r\n"):
            raise _NeedsPandasError  # pandas escapes these in a table
    if not present or (len(present) < len(values) and any(isinstance(v, str | bool) for v in present)):
        raise _NeedsPandasError  # all-None or str/bool with gaps: pandas' NaN/None rules differ per dtype
    if all(isinstance(v, str) for v in present):
        return "str"
    if all(isinstance(v, bool) for v in present):
        return "bool"
    if any(isinstance(v, str | bool) for v in present):
        return "object"
    if all(isinstance(v, int) for v in values):
        return "int"
    return "float"  # numbers with a float or a gap (None becomes NaN)


def _plain_float(value: float) -> bool:
    magnitude = abs(value)
    return value == value and magnitude <= _PLAIN_FLOAT_RANGE[1] and (magnitude == 0 or magnitude >= _PLAIN_FLOAT_RANGE[0])


def _trim_zeros_together(cells: list[str]) -> list[str]:
    """pandas' fixed-width float column: drop trailing zeros from all numbers equally, keep one decimal."""
    numbers = [_TRIMMABLE_NUMBER.match(c) is not None for c in cells]
    if not any(numbers):
        return cells
    while all(c.endswith("0") for c, n in zip(cells, numbers, strict=True) if n):
        cells = [c[:-1] if n else c for c, n in zip(cells, numbers, strict=True)]
    return [c + "0" if n and c.endswith(".") else c for c, n in zip(cells, numbers, strict=True)]


def _table_cells(values: list[Any], kind: str) -> list[str]:
    if kind == "float":
        return _trim_zeros_together(["NaN" if v is None else f"{v:.6f}" for v in values])
    if kind == "object":  # a float among other types: one cell at a time, with a sign space
        return [_trim_single_float(f"{v: .6f}") if isinstance(v, float) else str(v) for v in values]
    return [str(v) for v in values]


def _trim_single_float(text: str) -> str:
    text = text.rstrip("0")
    return text + "0" if text.endswith(".") else text


def _to_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """`pd.DataFrame(rows)[columns].to_string(index=False)` without pandas."""
    laid_out = []
    for name in columns:
        values = [row.get(name) for row in rows]
        kind = _column_kind(values)
        header = " " + name if kind in ("float", "int", "bool") else name  # pandas pads numeric headers
        cells = [header, *_table_cells(values, kind)]
        width = max(len(c) for c in cells)
        laid_out.append([c.rjust(width) for c in cells])
    return "\n".join(" ".join(line) for line in zip(*laid_out, strict=True))


def _to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """`pd.DataFrame(rows)[columns].to_csv(index=False)` without pandas."""
    columns_of_cells = []
    for name in columns:
        values = [row.get(name) for row in rows]
        as_float = _column_kind(values) == "float"  # an int in a float column is written 2.0
        columns_of_cells.append(["" if v is None else str(float(v) if as_float else v) for v in values])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(zip(*columns_of_cells, strict=True))
    return buffer.getvalue()


def _emit_records(rows: list[dict[str, Any]], columns: list[str], data: Any, fmt: str) -> str:
    """JSON of `data`, or `rows` as a table or CSV: the bytes `_emit` gives, without pandas when it can."""
    if fmt == "json":
        return json.dumps(data, indent=2, default=str)
    try:
        return _to_csv(rows, columns) if fmt == "csv" else _to_table(rows, columns)
    except _NeedsPandasError:
        import pandas as pd

        return _emit(pd.DataFrame(rows)[columns], data, fmt)


def _list(fmt: str) -> str:
    from engine.scenario import load_scenario, scenario_names
    from policy import PRESET_DESCRIPTIONS

    scenarios = [{"name": n, "description": load_scenario(n).title} for n in scenario_names()]
    regimes = [{"name": n, "description": d} for n, d in PRESET_DESCRIPTIONS.items()]
    rows = [{"kind": "scenario", **s} for s in scenarios] + [{"kind": "regime", **r} for r in regimes]
    return _emit_records(rows, ["kind", "name", "description"], {"scenarios": scenarios, "regimes": regimes}, fmt)


PARAMS_COLUMNS = ["path", "type", "unit", "min", "max", "step", "default", "label"]


def _params(fmt: str) -> str:
    from policy import lever_specs

    params = [s.as_dict() for s in lever_specs()]
    return _emit_records(params, PARAMS_COLUMNS, {"params": params}, fmt)


def _differences_frame(result, baseline: str) -> "pd.DataFrame":
    """regime, metric, p5, p50, p95 of each regime minus the baseline, path by path (probabilities:
    the difference of shares with a 90% paired-bootstrap interval)."""
    import pandas as pd

    from engine.metrics import EXCEEDANCES

    rows = [
        {"regime": name, "vs": baseline, "metric": metric, **result.difference(metric, name, baseline)}
        for name in result.regime_names
        if name != baseline
        for metric in (*result.metrics, *EXCEEDANCES)
    ]
    return pd.DataFrame(rows, columns=["regime", "vs", "metric", "p5", "p50", "p95"])


def _run(args: argparse.Namespace) -> str:
    import pandas as pd

    from engine.api import simulate
    from engine.metrics import METRICS

    result = simulate(
        args.scenario, args.regime or None, paths=args.paths, seed=args.seed,
        shock_scale=args.shock_scale, days=args.days, fundamental_mode=args.fundamental_mode,
    )
    baseline = args.baseline or result.regime_names[0]
    if baseline not in result.regime_names:
        raise InputError(f"--baseline: {baseline!r} is not a regime of this run; allowed: {', '.join(result.regime_names)}")
    if args.format == "json":
        return json.dumps(result.to_dict(series=args.series, baseline=baseline), indent=2)
    frame = result.summary_frame()[["regime", "metric", "stat", "value"]]
    diffs = _differences_frame(result, baseline)
    if args.format == "csv":
        paired = diffs.melt(id_vars=["regime", "vs", "metric"], var_name="stat", value_name="value")
        paired["regime"] = paired["regime"] + " - " + paired["vs"]
        return pd.concat([frame, paired.drop(columns="vs")], ignore_index=True).to_csv(index=False)
    wide = frame.pivot_table(index=["metric"], columns=["regime", "stat"], values="value", sort=False)
    wide.index = [f"{m} ({METRICS[m].unit})" for m in wide.index]
    header = (
        f"scenario {result.scenario.name} | {result.paths} paths | {result.days} days | seed {result.seed}"
        f" | shock scale {result.shock_scale:g} | fundamental {result.scenario.fundamental.mode}"
        f" | model {result.model_version}"
    )
    with pd.option_context("display.width", 250, "display.max_columns", 50):
        text = header + "\n" + wide.round(1).to_string()
        if not diffs.empty:
            paired = diffs.pivot_table(index="metric", columns="regime", values=["p50", "p5", "p95"], sort=False)
            paired = paired.swaplevel(0, 1, axis=1).sort_index(axis=1, level=0, sort_remaining=False)
            text += (
                f"\n\nDifference to {baseline}, path by path on common random numbers (p50 = median of the "
                "differences, p5-p95 their spread; probabilities: difference of shares, 90% bootstrap interval)\n"
                + paired.round(1).to_string()
            )
        return text


def _backtest(args: argparse.Namespace) -> str:
    from engine.backtest import backtest, compare_fundamental_modes  # heavy import only when asked

    if args.view == "compare-fundamental":
        frame = compare_fundamental_modes(paths=args.paths, seed=args.seed)
        shown = frame.drop(columns=["label"]) if args.format == "table" else frame
        return _emit(shown.round(2), frame.to_dict(orient="records"), args.format)
    result = backtest(paths=args.paths, seed=args.seed, fundamental_mode=args.fundamental_mode)
    if args.view == "inputs":
        frame = result.inputs_table()
        shown = frame.drop(columns=["source"]) if args.format == "table" else frame
        return _emit(shown, frame.to_dict(orient="records"), args.format)
    if args.view == "rmse":
        frame = result.rmse_frame()
        return _emit(frame.round(1), frame.to_dict(orient="records"), args.format)
    if args.view == "paths":
        frame = result.paths_frame()
        return _emit(frame.round(1), frame.to_dict(orient="records"), args.format)
    table = result.table()
    if args.format == "table":
        shown = table[["episode", "role", "label", "kind", "regime", "unit", "history", "stat", "model",
                       "model_p5", "model_p95", "band_low", "band_high", "within_band"]]
        return _emit(shown.round(2), None, "table")
    return _emit(table.round(3), table.to_dict(orient="records"), args.format)


def _sensitivity(args: argparse.Namespace) -> str:
    from engine.sensitivity import sensitivity

    frame = sensitivity(paths=args.paths, seed=args.seed)
    if args.format == "table":
        wide = frame.pivot_table(
            index=["parameter", "value", "episode", "metric", "model_baseline"],
            columns="setting", values="model_moved", sort=False,
        ).reset_index()
        wide["value"] = wide["value"].round(3)
        return _emit(wide.round({"model_baseline": 1, "low": 1, "high": 1}), None, "table")
    return _emit(frame.round(2), frame.to_dict(orient="records"), args.format)


def _progress_bar(elapsed) -> Any:
    """A plain text bar on stderr, redrawn in place on a terminal: [#####.....] 12/40 batches, 3.1 s."""
    tty = sys.stderr.isatty()

    def show(done: int, total: int) -> None:
        filled = round(20 * done / total) if total else 20
        line = f"[{'#' * filled}{'.' * (20 - filled)}] {done}/{total} batches, {elapsed():.1f} s"
        sys.stderr.write(("\r" + line + ("\n" if done == total else "")) if tty else line + "\n")
        sys.stderr.flush()

    return show


def _writable_out(text: str) -> Path:
    """The --out folder, created and probed before the run (so a long sweep cannot fail at the end)."""
    out = Path(text)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write_probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise InputError(f"--out: cannot write to {text} ({err.strerror or err}); allowed: a writable folder") from None
    return out


def _package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("numpy", "pandas", "pydantic", "numba", "pyarrow", "scipy", "dask", "distributed"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def _sweep(args: argparse.Namespace) -> str:
    import platform
    import shutil

    from engine.study import load_study
    from engine.sweep import DEFAULT_BATCH_REGIMES, SWEEP_SCHEMA_VERSION, Stopwatch, run_study
    from engine.version import MODEL_VERSION

    if args.scheduler is not None and args.backend != "dask":
        raise InputError("--scheduler: only with --backend dask; allowed: leave it out, or add --backend dask")
    study = load_study(args.study)
    out = _writable_out(args.out) if args.out else None
    clock = Stopwatch()
    frame = run_study(study, backend=args.backend, scheduler=args.scheduler, progress=_progress_bar(clock),
                      batch_regimes=args.batch_regimes)
    elapsed = clock()
    meta = {
        "sweep_schema_version": SWEEP_SCHEMA_VERSION,  # the meaning of the diff columns (engine.sweep.SWEEP_SCHEMA_CHANGES)
        "study": study.name,
        "design": study.design,
        "seed": study.seed,
        "paths": study.paths,
        "scenarios": list(frame["scenario"].unique()),
        "points": int(frame.loc[frame["point"] >= 0, "point"].nunique()),
        "rows": len(frame),
        "model_version": MODEL_VERSION,
        "backend": args.backend,
        "scheduler": args.scheduler,
        "batch_regimes": args.batch_regimes or DEFAULT_BATCH_REGIMES,
        "elapsed_s": round(elapsed, 3),
        "python": platform.python_version(),
        "packages": _package_versions(),
    }
    if out is not None:
        try:
            if args.out_format == "parquet":
                frame.to_parquet(out / "results.parquet", index=False, engine="pyarrow")
            else:
                frame.to_csv(out / "results.csv", index=False)
            shutil.copyfile(args.study, out / Path(args.study).name)
            (out / "run.json").write_text(json.dumps(meta, indent=2) + "\n")
        except OSError as err:
            raise InputError(f"--out: cannot write to {args.out} ({err.strerror or err}); allowed: a writable folder") from None
    if args.format == "json":
        return json.dumps({"run": meta, "rows": frame.to_dict(orient="records")}, indent=2, default=str)
    if args.format == "csv":
        return frame.to_csv(index=False)
    factors = [f.name for f in study.factors]
    shown = frame[["scenario", "point", *factors, "metric", "p50", "diff_p50"]]
    header = (f"study {study.name} | {meta['points']} points | {study.paths} paths | seed {study.seed} | "
              f"base {study.base} | {args.backend} | {elapsed:.1f} s | model {MODEL_VERSION}")
    return header + "\n" + _emit(shown.round(2), None, "table")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    try:
        args = _parser().parse_args(argv)
        if args.command == "list":
            text = _list(args.format)
        elif args.command == "params":
            text = _params(args.format)
        elif args.command == "regime":
            source = args.regime_file or args.name
            if not source:
                raise InputError("regime: give a preset NAME or --regime FILE")
            from engine.regimes import resolve_regime  # policy only: no model, no numpy (fast start)
            from policy import regime_to_json

            text = regime_to_json(resolve_regime(source))
        elif args.command == "run":
            text = _run(args)
        elif args.command == "sweep":
            text = _sweep(args)
        elif args.command == "backtest":
            text = _backtest(args)
        else:
            text = _sensitivity(args)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # an internal fault, not the user's input
        print(f"internal error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    sys.stdout.write(text.rstrip("\n") + "\n")
    return 0
