"""Cached engine runs, one cache entry per regime.

The engine draws the same random numbers for every regime of a run and a regime's result does not
depend on the other regimes (ARCHITECTURE.md, common random numbers). Short runs call the engine
once for all regimes. Long runs (>= LONG_RUN_PATHS paths) run and cache each regime on its own,
keyed on JSON strings, report progress regime by regime and stack the per-regime results along
the regime axis, so changing one lever re-runs one regime. The scenario is keyed on its canonical
JSON (`Scenario.model_dump_json()`), so an edited scenario re-runs and an identical one (by name or
as an object, edited back to the shipped values) hits the cache.

Results are held in one `engine.bytecache.ByteLRU` shared by every session (read-only, never
mutated; `st.cache_data` would pickle and copy a few hundred MB per rerun): bounded in bytes, not in
entries, because a 10,000-path result is a hundred times a 500-path one, and a session may hold at
most half of it, so one user's heavy runs cannot push out everyone else's.
"""

import contextlib
import dataclasses
import functools
import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence

import numpy as np
from streamlit.runtime.scriptrunner import get_script_run_ctx

from engine import Result, Scenario, load_scenario, simulate
from engine.bytecache import ByteLRU
from policy import PolicyRegime

LONG_RUN_PATHS = 2_000
# The results cache's budget (MB; TMPE_RESULT_CACHE_MB overrides it) and one session's share of it.
RESULT_CACHE_MB = int(os.environ.get("TMPE_RESULT_CACHE_MB", "1500"))
SESSION_SHARE = 0.5
RESULTS = ByteLRU(RESULT_CACHE_MB * 1_000_000, owner_share=SESSION_SHARE)

Key = tuple[str, str, int, int, float, str]


def session_id() -> str | None:
    """The browser session of this script run (None outside one): the owner of its cache entries."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def _run_one(
    scenario_json: str, regime_json: str, paths: int, seed: int, shock_scale: float, assumptions_json: str
) -> Result:
    def run() -> Result:
        regime = PolicyRegime.model_validate_json(regime_json)
        scenario = Scenario.model_validate_json(scenario_json)
        return simulate(scenario, [regime], paths=paths, seed=seed, shock_scale=shock_scale,
                        assumptions=json.loads(assumptions_json), mode="interactive")

    key = ("one", scenario_json, regime_json, paths, seed, shock_scale, assumptions_json)
    return RESULTS.get_or_compute(key, run, owner=session_id())


def stack_results(parts: Sequence[Result]) -> Result:
    """One Result with the regimes of `parts` (each a single-regime run of the same inputs)."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    fields = {}
    for f in dataclasses.fields(first):
        values = [getattr(p, f.name) for p in parts]
        value = values[0]
        if f.name == "regimes":
            fields[f.name] = tuple(r for v in values for r in v)
        elif isinstance(value, np.ndarray):
            fields[f.name] = np.concatenate(values, axis=0)
        elif isinstance(value, dict) and value and all(isinstance(x, np.ndarray) for x in value.values()):
            fields[f.name] = {k: np.concatenate([v[k] for v in values], axis=0) for k in value}
        else:
            fields[f.name] = value
    return dataclasses.replace(first, **fields)


def _stacked(keys: tuple[Key, ...]) -> Result:
    return RESULTS.get_or_compute(("stacked", keys), lambda: stack_results([_run_one(*k) for k in keys]),
                                  owner=session_id())


def _run_all(keys: tuple[Key, ...]) -> Result:
    """Short runs: all regimes in one engine call (one set of draws, cheaper than one call each)."""
    scenario_json, _, paths, seed, shock_scale, assumptions_json = keys[0]

    def run() -> Result:
        regimes = [PolicyRegime.model_validate_json(k[1]) for k in keys]
        return simulate(Scenario.model_validate_json(scenario_json), regimes, paths=paths, seed=seed,
                        shock_scale=shock_scale, assumptions=json.loads(assumptions_json), mode="interactive")

    return RESULTS.get_or_compute(("all", keys), run, owner=session_id())


def run_view(
    scenario: str | Scenario,
    regimes: Sequence[PolicyRegime],
    *,
    paths: int,
    seed: int,
    shock_scale: float,
    assumptions: dict[str, float],
    progress: Callable[[int, int, str], None] | None = None,
) -> Result:
    """The Result for these inputs, from the cache where possible; `progress(done, total, name)`.

    `scenario` is a shipped scenario's name or a Scenario object (e.g. an edited one).
    """
    assumptions_json = json.dumps(dict(sorted(assumptions.items())))
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    scenario_json = sc.model_dump_json()
    keys = tuple(
        (scenario_json, r.model_dump_json(), int(paths), int(seed), float(shock_scale), assumptions_json) for r in regimes
    )
    if progress is None:
        return _run_all(keys)
    # A long run: regime by regime, one at a time on the server and on fewer cores (see heavy_run).
    for i, (key, regime) in enumerate(zip(keys, regimes, strict=True)):
        progress(i, len(keys), regime.name)
        if RESULTS.get(("one", *key)) is None:
            waiting = functools.partial(progress, i, len(keys), f"{regime.name} (waiting for another long run to finish)")
            with heavy_run(waiting):
                _run_one(*key)
    progress(len(keys), len(keys), "")
    return _stacked(keys)


# Long runs (>= LONG_RUN_PATHS paths) take the compiled kernel's threads for seconds. On a shared
# server they run one at a time, and on all cores but one, so the other sessions' slider moves
# (short runs) keep a core: one user's 10,000-path run does not stall everyone.
_HEAVY = threading.Lock()
HEAVY_RUN_THREADS = max(1, (os.cpu_count() or 2) - 1)


@contextlib.contextmanager
def heavy_run(on_wait: Callable[[], None]) -> Iterator[None]:
    """Hold the server's one long-run slot (calling `on_wait` first if another session has it)."""
    import numba  # the kernel's thread count is per calling thread: this script thread only

    if not _HEAVY.acquire(blocking=False):
        on_wait()
        _HEAVY.acquire()
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(min(before, HEAVY_RUN_THREADS))
        yield
    finally:
        numba.set_num_threads(before)
        _HEAVY.release()
