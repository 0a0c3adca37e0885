"""Run a study: every point of its factors, in batches of regimes, locally or on a Dask cluster.

How the work is cut (and why the numbers do not depend on it):
- a point's lever values become one `PolicyRegime`, a validated change of the base preset
  (`policy.with_changes`, the mechanism the app's links use; the preset is never mutated);
- a point's assumption values go to `simulate(assumptions=...)`, which is per call, so points are
  grouped by (scenario, assumption set) and each group's regimes run together in batches;
- the base regime runs once per group, and each batch is compared with it path by path. That is
  exact because of common random numbers: a regime's result does not depend on the other regimes
  of its call (ARCHITECTURE.md), so the same seed gives the same frame for any batch size and
  either backend (tests/test_sweep.py checks it);
- a one-at-a-time study (a tornado) compares every point with its base point instead, the base
  regime under the calibrated assumptions, so a moved assumption's row carries its own effect.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from engine.api import simulate
from engine.errors import InputError
from engine.metrics import EXCEEDANCES, PROBABILITY_METRICS
from engine.result import share_difference
from engine.run import build_run, resolve_scenario
from engine.scenario import Scenario
from engine.study import ONE_AT_A_TIME, Study, assumption_values, base_value, lever_changes, study_points
from policy import PolicyRegime, get_preset, with_changes

# Regimes per simulate call. The day loop is vectorized over regimes, so larger calls amortize
# the per-call set-up (draws, calm equilibrium); beyond ~50 regimes x 500 paths the arrays stop
# fitting the cache and the gain is gone (see README "Studies and sweeps" for the measurement).
DEFAULT_BATCH_REGIMES = 50
STAT_COLUMNS: tuple[str, ...] = ("p5", "p50", "p95", "mean")
DIFF_COLUMNS: tuple[str, ...] = ("diff_p5", "diff_p50", "diff_p95")
Backend = Literal["local", "dask"]
ProgressFn = Callable[[int, int], None]  # (finished batches, all batches)
_QUANTILES = (5.0, 50.0, 95.0)
# The meaning of the frame's columns (run.json `sweep_schema_version`), for readers of older results.
SWEEP_SCHEMA_VERSION = 2
SWEEP_SCHEMA_CHANGES: dict[int, str] = {
    1: "diff_p5/diff_p50/diff_p95: quantiles of the path-by-path difference to the base regime of the "
    "point's assumption set; for the probability metrics all three held the difference of shares (no interval)",
    2: "probability metrics (engine.metrics PROBABILITY_METRICS, and EXCEEDANCES, now allowed as study "
    "metrics): diff_p50 is the difference of shares (pp) and diff_p5/diff_p95 its 90% paired bootstrap "
    "interval (engine.result.share_difference, as Result.difference); design one_at_a_time: diffs are to "
    "the base point (base regime, calibrated assumptions), and point -1 appears once per scenario",
}


def is_share_metric(metric: str) -> bool:
    """A probability-type outcome: its stats are one share of paths, its diffs a bootstrap interval."""
    return metric in PROBABILITY_METRICS or metric in EXCEEDANCES


@dataclass(frozen=True)
class _Group:
    """The points of one scenario under one assumption set, with their regimes."""

    scenario: Scenario
    assumptions: tuple[tuple[str, float], ...]
    regimes: tuple[PolicyRegime, ...]  # unique lever points of the group
    rows: tuple[tuple[int, int], ...]  # (point id, index into regimes)
    reference: int  # the group whose base run the diffs compare with (itself, or a tornado's base point)


def run_base(
    scenario: Scenario, base: PolicyRegime, *, paths: int, seed: int, shock_scale: float,
    assumptions: dict[str, float], metrics: Sequence[str],
) -> dict[str, Any]:
    """The base regime's per-path metrics and summary stats (a Dask task: module level, so it pickles)."""
    # Summary-only runs (the fast engine): a sweep needs per-path metrics and flags, never daily series.
    result = simulate(scenario, [base], paths=paths, seed=seed, shock_scale=shock_scale, assumptions=assumptions or None,
                      histories=False)
    # Per-path values for the paired differences: bool indicators for the probability metrics.
    per_path = {m: result.indicator(m)[0] if is_share_metric(m) else result.metrics[m][0] for m in metrics}
    return {"per_path": per_path, "stats": _stats(result, metrics)[0]}


def run_batch(
    scenario: Scenario, regimes: Sequence[PolicyRegime], base: dict[str, Any], *, paths: int, seed: int,
    shock_scale: float, assumptions: dict[str, float], metrics: Sequence[str],
) -> dict[str, np.ndarray]:
    """Summary stats (R, M, 4) and paired differences to the base (R, M, 3) of a batch of regimes.

    A Dask task (module level, so it pickles); only these small arrays travel back.
    """
    result = simulate(
        scenario, list(regimes), paths=paths, seed=seed, shock_scale=shock_scale, assumptions=assumptions or None,
        histories=False,
    )
    diffs = np.empty((len(regimes), len(metrics), len(DIFF_COLUMNS)))
    for j, m in enumerate(metrics):
        if is_share_metric(m):
            # Result.probability_difference's bootstrap, seeded by the study seed alone: the same
            # interval whatever batch or worker the regime ran in.
            indicators = result.indicator(m)
            for r in range(len(regimes)):
                interval = share_difference(indicators[r], base["per_path"][m], seed)
                diffs[r, j, :] = [interval["p5"], interval["p50"], interval["p95"]]
            continue
        # The same statistic as Result.paired_difference, against the base run once for the group.
        diff = result.metrics[m] - base["per_path"][m][None, :]
        diffs[:, j, :] = np.percentile(diff, _QUANTILES, axis=1).T
    return {"stats": _stats(result, metrics), "diffs": diffs}


def _stats(result: Any, metrics: Sequence[str]) -> np.ndarray:
    """(R, M, 4): p5, p50, p95, mean over paths; the share of paths for the probability metrics."""
    out = np.empty((len(result.regimes), len(metrics), len(STAT_COLUMNS)))
    for j, m in enumerate(metrics):
        if is_share_metric(m):
            out[:, j, :] = result.probability(m)[:, None]  # one share per regime, not a per-path spread
        else:
            values = result.metrics[m]
            out[:, j, :3] = np.percentile(values, _QUANTILES, axis=1).T
            out[:, j, 3] = values.mean(axis=1)
    return out


def _point_name(point: int, width: int) -> str:
    return f"p{point:0{width}d}"


def _groups(study: Study, points: list[dict[str, Any]]) -> list[_Group]:
    """Points grouped by (scenario, assumption set); a scenario's groups are in the order of their
    first point, so a one-at-a-time study's base point (point 0) opens its scenario's first group."""
    base = get_preset(study.base)
    width = max(4, len(str(len(points) - 1)))
    groups: list[_Group] = []
    for sc_text in study.scenarios:
        scenario = resolve_scenario(sc_text)
        first = len(groups)
        by_assumption: dict[tuple[tuple[str, float], ...], list[int]] = {}
        for pid, point in enumerate(points):
            key = tuple(sorted(assumption_values(study, point).items()))
            by_assumption.setdefault(key, []).append(pid)
        for key, pids in by_assumption.items():
            regimes: list[PolicyRegime] = []
            index: dict[tuple[tuple[str, Any], ...], int] = {}
            rows = []
            for pid in pids:
                changes = lever_changes(study, points[pid])
                lever_key = tuple(sorted(changes.items()))
                if lever_key not in index:
                    index[lever_key] = len(regimes)
                    try:
                        regimes.append(with_changes(base, changes, name=_point_name(pid, width)))
                    except ValueError as err:  # a combination the regime model rejects as a whole
                        raise InputError(f"point {pid}: {err}") from None
                rows.append((pid, index[lever_key]))
            reference = first if study.design == ONE_AT_A_TIME else len(groups)
            groups.append(_Group(scenario, key, tuple(regimes), tuple(rows), reference))
    return groups


def _batches(group: _Group, size: int) -> list[tuple[int, int]]:
    return [(i, min(i + size, len(group.regimes))) for i in range(0, len(group.regimes), size)]


def run_study(
    study: Study,
    *,
    backend: Backend = "local",
    scheduler: str | None = None,
    progress: ProgressFn | None = None,
    batch_regimes: int | None = None,
) -> pd.DataFrame:
    """Every point of `study` under every scenario, as a tidy frame (one row per point and metric).

    Columns: scenario, point (-1 marks the base regime itself, once per assumption set; once per
    scenario in a one-at-a-time study), one column per factor, regime, metric, p5, p50, p95, mean
    (for probability metrics, `is_share_metric`, all four are the share of paths, %), diff_p5,
    diff_p50, diff_p95: the p5/p50/p95 of the path-by-path difference to the base regime (of the
    point's assumption set; of the base point in a one-at-a-time study); for probability metrics the
    difference of shares (pp, diff_p50) with its 90% paired bootstrap interval (diff_p5, diff_p95),
    the numbers `Result.difference` gives for the same pair (`SWEEP_SCHEMA_VERSION` 2).
    `backend="dask"` runs one task per batch on a `distributed` cluster: `scheduler=None` starts a
    local one (2 worker processes) and closes it, `"inproc"` a thread-based one (tests), anything else
    is a scheduler address. `progress(done, total)` is called after each finished batch. Same seed,
    same numbers, whatever the batching.
    """
    size = DEFAULT_BATCH_REGIMES if batch_regimes is None else batch_regimes
    if not (isinstance(size, int) and size >= 1):
        raise InputError(f"batch_regimes: {size!r}; allowed: a whole number of at least 1")
    if backend not in ("local", "dask"):
        raise InputError(f"backend: {backend!r}; allowed: local or dask")
    if scheduler is not None and backend != "dask":
        raise InputError("scheduler: only with backend dask; allowed: leave it out for local")
    points = study_points(study)
    groups = _groups(study, points)
    base = get_preset(study.base)
    common = {"paths": study.paths, "seed": study.seed, "shock_scale": study.shock_scale,
              "metrics": tuple(study.metrics)}
    for g in groups:  # every batch validated as a Run before the first one runs (memory, assumptions)
        build_run(g.scenario, list(g.regimes[:size]), paths=study.paths, seed=study.seed,
                  shock_scale=study.shock_scale, assumptions=dict(g.assumptions), histories=False)
    total = sum(len(_batches(g, size)) for g in groups)
    bases: list[dict[str, Any]] = []
    results: dict[tuple[int, int], dict[str, np.ndarray]] = {}
    if backend == "local":
        done = 0
        for g in groups:
            bases.append(run_base(g.scenario, base, **common | {"assumptions": dict(g.assumptions)}))
        for gi, g in enumerate(groups):
            kw = common | {"assumptions": dict(g.assumptions)}
            for start, stop in _batches(g, size):
                results[(gi, start)] = run_batch(g.scenario, g.regimes[start:stop], bases[g.reference], **kw)
                done += 1
                if progress is not None:
                    progress(done, total)
    else:
        bases, results = _run_dask(groups, base, common, size, scheduler, progress, total)
    return _frame(study, points, groups, bases, results, size)


def _run_dask(
    groups: list[_Group], base: PolicyRegime, common: dict[str, Any], size: int, scheduler: str | None,
    progress: ProgressFn | None, total: int,
) -> tuple[list[dict[str, Any]], dict[tuple[int, int], dict[str, np.ndarray]]]:
    from distributed import Client, LocalCluster, as_completed  # only when asked: ~0.5 s to import

    cluster = None
    if scheduler is None:
        # One numba thread per worker: the worker processes are the parallelism here, and two
        # workers each running numba's prange on every core oversubscribe them (6.3 s against
        # 3.7 s for the 400-regime map on 2 cores). Numbers are the same either way.
        cluster = LocalCluster(
            processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None, host="127.0.0.1",
            env={"NUMBA_NUM_THREADS": "1"},
        )
    elif scheduler == "inproc":
        # Threads in this process: starts in ~0.01 s. No host= here: the inproc transport rejects it.
        cluster = LocalCluster(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None)
    try:
        # A wrong address fails in 10 s rather than distributed's default 30 s.
        client = Client(cluster) if cluster is not None else Client(scheduler, timeout="10s")
    except (OSError, ValueError, TimeoutError) as err:
        if cluster is not None:
            cluster.close()
        raise InputError(f"scheduler: cannot connect to {scheduler!r} ({err}); allowed: a reachable address") from None
    try:
        base_futures = []
        keys = {}
        futures = []
        for g in groups:
            kw = common | {"assumptions": dict(g.assumptions)}
            base_futures.append(client.submit(run_base, g.scenario, base, pure=False, **kw))
        for gi, g in enumerate(groups):
            kw = common | {"assumptions": dict(g.assumptions)}
            # The reference base runs once; its future is an argument of the batches, so Dask
            # schedules them after it and ships its per-path arrays to the workers.
            bf = base_futures[g.reference]
            for start, stop in _batches(g, size):
                f = client.submit(run_batch, g.scenario, g.regimes[start:stop], bf, pure=False, **kw)
                keys[f.key] = (gi, start)
                futures.append(f)
        results: dict[tuple[int, int], dict[str, np.ndarray]] = {}
        for done, f in enumerate(as_completed(futures), start=1):
            results[keys[f.key]] = f.result()
            f.release()
            if progress is not None:
                progress(done, total)
        bases = client.gather(base_futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return bases, results


def _frame(
    study: Study, points: list[dict[str, Any]], groups: list[_Group], bases: list[dict[str, Any]],
    results: dict[tuple[int, int], dict[str, np.ndarray]], size: int,
) -> pd.DataFrame:
    metrics = list(study.metrics)
    factors = [f.name for f in study.factors]
    records: list[dict[str, Any]] = []
    n_stats = len(STAT_COLUMNS)
    for gi, g in enumerate(groups):
        stats = np.concatenate([results[(gi, start)]["stats"] for start, _ in _batches(g, size)])
        diffs = np.concatenate([results[(gi, start)]["diffs"] for start, _ in _batches(g, size)])
        assumed = dict(g.assumptions)
        base_point = {f: assumed.get(f, base_value(study, f)) for f in factors}
        # A tornado's other groups are its moved assumptions: their base regime is a point already.
        base_rows = [(-1, study.base, base_point, bases[gi]["stats"], np.zeros((len(metrics), 3)))] if g.reference == gi else []
        point_rows = [(pid, g.regimes[ri].name, points[pid], stats[ri], diffs[ri]) for pid, ri in g.rows]
        for pid, regime, point, st, df in base_rows + point_rows:
            for j, m in enumerate(metrics):
                record: dict[str, Any] = {"scenario": g.scenario.name, "point": pid}
                record.update({f: point[f] for f in factors})
                record.update({"regime": regime, "metric": m})
                record.update({c: float(st[j, k]) for k, c in zip(range(n_stats), STAT_COLUMNS, strict=True)})
                record.update({c: float(df[j, k]) for k, c in enumerate(DIFF_COLUMNS)})
                records.append(record)
    frame = pd.DataFrame.from_records(records)
    order = {s: i for i, s in enumerate(dict.fromkeys(g.scenario.name for g in groups))}
    frame["_s"] = frame["scenario"].map(order)
    frame["_m"] = frame["metric"].map({m: i for i, m in enumerate(metrics)})
    # Base rows of several assumption sets share point -1: order them by their assumption values.
    frame = frame.sort_values(["_s", "point", *factors, "_m"], kind="stable").drop(columns=["_s", "_m"])
    return frame.reset_index(drop=True)


class Stopwatch:
    """Elapsed seconds since creation (for run.json and the progress bar)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.start
