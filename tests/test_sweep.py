"""Sweeps on the real engine: paired differences, the same numbers whatever the batching or backend,
and the `python -m engine sweep` contract (one-line errors, --out files)."""

import json
import sys
import time
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engine
import engine.api
import engine.cli
import engine.scenario
from engine.cli import main
from engine.study import parse_study
from engine.sweep import DIFF_COLUMNS, SWEEP_SCHEMA_VERSION, run_study
from policy import get_preset, with_changes

ROOT = Path(__file__).resolve().parents[1]
PATHS = 40


def _study(**fields):
    base = {"name": "t", "scenarios": ["march_2020"], "base": "all_guardrails", "paths": PATHS, "seed": 5,
            "metrics": ["peak_10y_yield_change_bp", "forced_sales_usd_bn", "dysfunction_probability_pct"]}
    return parse_study(base | fields)


@pytest.fixture(scope="module")
def mixed():
    """Lever grid x an assumption: 3 x 3 lever points under 2 assumption sets (9 regimes per group)."""
    study = _study(factors=[
        {"name": "leverage_cap.max_gross_leverage_x", "values": [10.0, 20.0, 60.0]},
        {"name": "clearing.haircut_floor_pct", "values": [0.0, 2.0, 5.0]},
        {"name": "dislocation_slope_bp", "values": [2.5, 4.0]},
    ])
    return study, run_study(study, batch_regimes=1)


def test_frame_is_tidy_and_complete(mixed):
    study, frame = mixed
    points = frame[frame["point"] >= 0]
    assert points["point"].nunique() == 18 and len(points) == 18 * len(study.metrics)
    assert list(frame.columns) == [
        "scenario", "point", "leverage_cap.max_gross_leverage_x", "clearing.haircut_floor_pct",
        "dislocation_slope_bp", "regime", "metric", "p5", "p50", "p95", "mean", *DIFF_COLUMNS,
    ]
    base = frame[frame["point"] == -1]
    assert set(base["regime"]) == {"all_guardrails"} and len(base) == 2 * len(study.metrics)
    assert (base[list(DIFF_COLUMNS)] == 0).all().all()
    ordered = points[points["metric"] == "peak_10y_yield_change_bp"]
    assert (ordered["p5"] <= ordered["p50"]).all() and (ordered["p50"] <= ordered["p95"]).all()


def test_lever_at_its_preset_value_gives_zero_paired_difference(mixed):
    _, frame = mixed
    at_preset = frame[(frame["leverage_cap.max_gross_leverage_x"] == 20.0)
                      & (frame["clearing.haircut_floor_pct"] == 0.0) & (frame["point"] >= 0)]
    assert len(at_preset) == 2 * 3
    assert (at_preset[list(DIFF_COLUMNS)] == 0.0).all().all()
    moved = frame[(frame["clearing.haircut_floor_pct"] == 5.0) & (frame["metric"] == "forced_sales_usd_bn")]
    assert (moved["diff_p50"] != 0).any(), "a 5% haircut floor changes forced sales"


def test_probability_metrics_are_shares_of_paths(mixed):
    _, frame = mixed
    prob = frame[frame["metric"] == "dysfunction_probability_pct"]
    assert (prob["p5"] == prob["mean"]).all() and (prob["p95"] == prob["mean"]).all()
    steps = (prob["mean"] * PATHS / 100).round(6)
    assert (steps == steps.round()).all(), "a share of 40 paths"


@pytest.mark.parametrize("batch", [7, 1000])
def test_batching_gives_identical_frames(mixed, batch):
    study, one = mixed
    pd.testing.assert_frame_equal(run_study(study, batch_regimes=batch), one, check_exact=True)


def test_dask_inproc_gives_the_local_frame(mixed):
    study, local = mixed
    calls = []
    frame = run_study(study, backend="dask", scheduler="inproc", batch_regimes=4,
                      progress=lambda done, total: calls.append((done, total)))
    pd.testing.assert_frame_equal(frame, local, check_exact=True)
    assert calls[-1] == (6, 6) and [c[0] for c in calls] == list(range(1, 7))  # 2 groups x ceil(9 / 4)


def test_dask_worker_processes_give_the_local_frame(monkeypatch):
    # Spawned workers re-import sys.modules["__main__"]. An AppTest earlier in this pytest worker
    # leaves its generated script there (it fails outside AppTest: NameError '__args'), so use a
    # bare main module, as `python -m engine` (guarded) gives.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    study = _study(factors=[{"name": "clearing.haircut_floor_pct", "values": [0.0, 3.0]}],
                   scenarios=["march_2020", "foreign_selloff_2026"])
    start = time.perf_counter()
    frame = run_study(study, backend="dask", scheduler=None)
    took = time.perf_counter() - start
    pd.testing.assert_frame_equal(frame, run_study(study), check_exact=True)
    assert took < 60, f"LocalCluster(processes=True) sweep took {took:.1f} s"


SHARE_METRICS = ["dysfunction_probability_pct", "p_peak_10y_above_100bp_pct"]


@pytest.fixture(scope="module")
def shares():
    """April 2025 under status quo: dysfunction on some paths, not all, so shares and intervals move.
    A tail probability (an exceedance) is a study metric too."""
    study = _study(scenarios=["april_2025"], base="status_quo", paths=200, metrics=SHARE_METRICS, factors=[
        {"name": "clearing.enabled", "values": [False, True]},
        {"name": "fed_backstop.enabled", "values": [False, True]},
        {"name": "dislocation_slope_bp", "values": [2.0, 4.5]},
    ])
    return study, run_study(study, batch_regimes=1)


def test_probability_diffs_are_result_difference(shares):
    """Each point's diff columns are Result.difference's for the pair (base, point) run together:
    the difference of shares and its 90% paired bootstrap, from the study seed."""
    study, frame = shares
    base = get_preset(study.base)
    intervals = 0
    for _, row in frame[frame["point"] >= 0].drop_duplicates("point").iterrows():
        changes = {"clearing.enabled": bool(row["clearing.enabled"]), "fed_backstop.enabled": bool(row["fed_backstop.enabled"])}
        point = with_changes(base, changes, name="point")
        result = engine.simulate("april_2025", [base, point], paths=study.paths, seed=study.seed,
                                 assumptions={"dislocation_slope_bp": row["dislocation_slope_bp"]})
        for metric in SHARE_METRICS:
            swept = frame[(frame["point"] == row["point"]) & (frame["metric"] == metric)].iloc[0]
            expected = result.difference(metric, "point", base.name)
            assert [swept["diff_p5"], swept["diff_p50"], swept["diff_p95"]] == [expected[k] for k in ("p5", "p50", "p95")]
            assert swept["p50"] == result.probability(metric)[1]
            intervals += swept["diff_p5"] < swept["diff_p50"] < swept["diff_p95"]
    assert intervals >= 2, "some points carry a real interval, not a point difference"


def test_probability_diffs_bracket_the_difference_of_shares(shares):
    _, frame = shares
    by_point = frame[frame["point"] >= 0]
    assert (by_point["diff_p5"] <= by_point["diff_p50"]).all() and (by_point["diff_p50"] <= by_point["diff_p95"]).all()
    base = frame[frame["point"] == -1].set_index(["dislocation_slope_bp", "metric"])["p50"]
    keys = list(zip(by_point["dislocation_slope_bp"], by_point["metric"], strict=True))
    np.testing.assert_allclose(by_point["diff_p50"], by_point["p50"].to_numpy() - base.loc[keys].to_numpy(), atol=1e-9)


@pytest.mark.parametrize("batch", [3, 1000])
def test_probability_intervals_do_not_depend_on_batching(shares, batch):
    study, one = shares
    pd.testing.assert_frame_equal(run_study(study, batch_regimes=batch), one, check_exact=True)


def test_probability_intervals_on_dask_are_the_local_ones(shares):
    study, local = shares
    frame = run_study(study, backend="dask", scheduler="inproc", batch_regimes=2)
    pd.testing.assert_frame_equal(frame, local, check_exact=True)


def test_one_at_a_time_sweep_compares_with_the_base_point():
    """A tornado study: one base row per scenario, and a moved assumption's diffs are to the base point
    (the base regime under calibrated assumptions), the same for any batching or on Dask."""
    study = _study(design="one_at_a_time", paths=30, factors=[
        {"name": "leverage_cap.max_gross_leverage_x"}, {"name": "fundamental_share"},
    ])
    frame = run_study(study, batch_regimes=1)
    assert (frame["point"] == -1).sum() == len(study.metrics)
    assert sorted(set(frame["point"])) == [-1, 0, 1, 2, 3, 4]
    at_base = frame[frame["point"] == 0]
    assert (at_base[list(DIFF_COLUMNS)] == 0).all().all()
    base = get_preset(study.base)
    moved = engine.simulate("march_2020", [base], paths=30, seed=study.seed, assumptions={"fundamental_share": 0.4})
    reference = engine.simulate("march_2020", [base], paths=30, seed=study.seed)
    metric = "peak_10y_yield_change_bp"
    high = frame[(frame["fundamental_share"] == 0.4) & (frame["metric"] == metric)].iloc[0]
    paired = moved.metrics[metric][0] - reference.metrics[metric][0]
    assert high["diff_p50"] == np.percentile(paired, 50) and high["diff_p50"] != 0
    pd.testing.assert_frame_equal(run_study(study, batch_regimes=50), frame, check_exact=True)
    pd.testing.assert_frame_equal(run_study(study, backend="dask", scheduler="inproc"), frame, check_exact=True)


def test_several_scenarios_keep_their_order():
    study = _study(factors=[{"name": "leverage_cap.enabled"}], scenarios=["foreign_selloff_2026", "march_2020"])
    frame = run_study(study)
    assert list(dict.fromkeys(frame["scenario"])) == ["foreign_selloff_2026", "march_2020"]
    assert len(frame[frame["point"] >= 0]) == 2 * 2 * 3


# ------------------------------------------------------------------ the CLI


GOOD = """name = "cli"
scenarios = ["march_2020"]
paths = 30
base = "all_guardrails"
metrics = ["peak_10y_yield_change_bp", "broken_market_probability_pct"]
[[factors]]
name = "clearing.haircut_floor_pct"
values = [0.0, 2.5]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "study.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text,field",
    [
        (GOOD.replace("clearing.haircut_floor_pct", "clearing.haircut_ceiling_pct"), "factors.0.name"),
        (GOOD.replace("values = [0.0, 2.5]", "low = 0.0\nhigh = 15.0\nlevels = 3"), "factors.0.high"),
        (GOOD.replace("paths = 30", "paths = " + "9" * 5000), "paths"),
        (GOOD.replace("paths = 30", "paths = 1." + "5" * 5000), "paths"),
        (GOOD.replace('"broken_market_probability_pct"', '"broken_heart_pct"'), "metrics"),
    ],
)
def test_bad_study_file_exits_2_naming_the_field(tmp_path, capsys, text, field):
    code = main(["sweep", str(_write(tmp_path, text))])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: study.toml: {field}:"), err


def test_sweep_out_writes_parquet_study_copy_and_run_json(tmp_path, capsys):
    study = _write(tmp_path, GOOD)
    out = tmp_path / "out"
    code = main(["sweep", str(study), "--out", str(out), "--format", "csv"])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert "1/1 batches" in stderr and "[####################]" in stderr
    frame = pd.read_parquet(out / "results.parquet")
    assert len(frame) == 3 * 2 and set(frame["point"]) == {-1, 0, 1}
    assert (out / "study.toml").read_text() == GOOD
    run = json.loads((out / "run.json").read_text())
    assert run["seed"] == 0 and run["backend"] == "local" and run["model_version"] == engine.MODEL_VERSION
    assert run["sweep_schema_version"] == SWEEP_SCHEMA_VERSION == 2 and run["design"] == "grid"
    assert {"numpy", "pandas", "pyarrow"} <= set(run["packages"]) and run["elapsed_s"] > 0
    printed = pd.read_csv(__import__("io").StringIO(stdout))
    pd.testing.assert_frame_equal(printed, frame, check_dtype=False)


def test_sweep_out_csv(tmp_path, capsys):
    code = main(["sweep", str(_write(tmp_path, GOOD)), "--out", str(tmp_path / "o"), "--out-format", "csv"])
    capsys.readouterr()
    assert code == 0 and len(pd.read_csv(tmp_path / "o" / "results.csv")) == 6


def test_unwritable_out_is_refused_before_the_run(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    code = main(["sweep", str(_write(tmp_path, GOOD)), "--out", str(blocker / "sub")])
    _, err = capsys.readouterr()
    assert code == 2 and err.startswith("error: --out: cannot write to") and "batches" not in err


def test_missing_study_file_exits_2(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "nope.toml")]) == 2
    assert "no such study file" in capsys.readouterr().err


def test_scheduler_needs_the_dask_backend(tmp_path, capsys):
    assert main(["sweep", str(_write(tmp_path, GOOD)), "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert capsys.readouterr().err.startswith("error: --scheduler: only with --backend dask")


def test_unreachable_scheduler_is_an_input_error(tmp_path, capsys):
    start = time.perf_counter()
    code = main(["sweep", str(_write(tmp_path, GOOD)), "--backend", "dask", "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: scheduler: cannot connect"), err
    assert time.perf_counter() - start < 30


def test_sweep_table_names_the_run(tmp_path, capsys):
    assert main(["sweep", str(_write(tmp_path, GOOD))]) == 0
    out = capsys.readouterr().out
    assert out.startswith("study cli | 2 points | 30 paths | seed 0 | base all_guardrails | local")
    assert "clearing.haircut_floor_pct" in out and "diff_p50" in out
