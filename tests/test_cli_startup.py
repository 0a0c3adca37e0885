"""Commands that run no model start without pandas, numpy-heavy modules or the compiled kernel (issue 9).

Each command runs in a fresh interpreter, as `python -m engine` would, and reports the modules it
loaded: an assertion about what was imported, not about timing (bench/bench_startup.py times it).
The pandas-free table and CSV layouts of `list` and `params` are compared with pandas' own output.
"""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from engine import cli

ROOT = Path(__file__).resolve().parents[1]

# Runs the CLI as `python -m engine ARGS` does, then prints the top-level packages it imported.
_PROBE = """
import json, runpy, sys
sys.argv = ["engine", *sys.argv[1:]]
try:
    runpy.run_module("engine", run_name="__main__", alter_sys=True)
except SystemExit as stop:
    code = stop.code
else:
    code = 0
sys.stdout.flush()
sys.stderr.write("\\nMODULES " + json.dumps({"code": code, "modules": sorted({m.split('.')[0] for m in sys.modules})}))
"""

HEAVY = {"pandas", "numba", "pyarrow", "dask", "distributed", "scipy"}
SUBCOMMANDS = ["list", "params", "regime", "run", "backtest", "sensitivity", "sweep"]
LIGHT_COMMANDS = [
    ["--help"],
    ["list"],
    ["list", "--format", "json"],
    ["list", "--format", "csv"],
    ["params"],
    ["params", "--format", "json"],
    ["params", "--format", "csv"],
    ["regime", "clearing_rule"],
    *[[name, "--help"] for name in SUBCOMMANDS],
]


def _run_probe(args: list[str]) -> tuple[int, str, set[str]]:
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    _, _, report = done.stderr.rpartition("\nMODULES ")
    assert report, f"the probe did not finish: {done.stderr[-2000:]}"
    data = json.loads(report)
    return data["code"], done.stdout, set(data["modules"])


@pytest.mark.parametrize("args", LIGHT_COMMANDS, ids=" ".join)
def test_light_command_imports_no_pandas_or_kernel(args: list[str]) -> None:
    code, out, modules = _run_probe(args)
    assert code == 0
    assert out.strip()
    assert not modules & HEAVY, f"{' '.join(args)} imported {sorted(modules & HEAVY)}"
    assert "engine.kernel" not in modules and "numpy" not in modules


def test_a_model_command_still_loads_the_model() -> None:
    """The probe sees imports at all: a real run loads pandas and numpy."""
    code, out, modules = _run_probe(["run", "--scenario", "march_2020", "--paths", "20", "--format", "json"])
    assert code == 0 and json.loads(out)["paths"] == 20
    assert {"pandas", "numpy"} <= modules


def _pandas_table(rows: list[dict], columns: list[str]) -> str:
    frame = pd.DataFrame(rows)[columns]
    return cli._emit(frame, None, "table")


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_list_and_params_match_the_pandas_layout(fmt: str) -> None:
    """Byte for byte what `_emit` (pandas) gave before the pandas-free layout."""
    from engine.scenario import load_scenario, scenario_names
    from policy import PRESET_DESCRIPTIONS, lever_specs

    params = [s.as_dict() for s in lever_specs()]
    listing = [{"kind": "scenario", "name": n, "description": load_scenario(n).title} for n in scenario_names()]
    listing += [{"kind": "regime", "name": n, "description": d} for n, d in PRESET_DESCRIPTIONS.items()]
    for rows, columns, text in ((params, cli.PARAMS_COLUMNS, cli._params(fmt)),
                                (listing, ["kind", "name", "description"], cli._list(fmt))):
        expected = cli._emit(pd.DataFrame(rows)[columns], None, fmt)
        assert text == expected


MIXED_ROWS = [
    {"name": "a", "flag": True, "count": 3, "share": 0.25, "gap": None, "mixed": 85.0, "whole": 2},
    {"name": "bb, quoted \"x\"", "flag": False, "count": -12, "share": 100.0, "gap": 7, "mixed": "averaged", "whole": None},
    {"name": "ccc", "flag": True, "count": 0, "share": -3.5, "gap": 0.125, "mixed": False, "whole": 60},
]


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_layout_matches_pandas_on_mixed_columns(fmt: str) -> None:
    columns = list(MIXED_ROWS[0])
    frame = pd.DataFrame(MIXED_ROWS)[columns]
    expected = frame.to_csv(index=False) if fmt == "csv" else _pandas_table(MIXED_ROWS, columns)
    assert cli._emit_records(MIXED_ROWS, columns, None, fmt) == expected


@pytest.mark.parametrize("odd", [1e9, 1e-9, float("nan"), None, "tab\there", [1, 2]])
def test_values_outside_the_subset_go_to_pandas(odd: object) -> None:
    """Scientific notation, all-gap or escaped columns are pandas' own: the fallback gives its bytes."""
    rows = [{"name": "a", "value": odd}, {"name": "b", "value": None if odd is None else odd}]
    for fmt in ("table", "csv"):
        expected = cli._emit(pd.DataFrame(rows)[["name", "value"]], None, fmt)
        assert cli._emit_records(rows, ["name", "value"], None, fmt) == expected
