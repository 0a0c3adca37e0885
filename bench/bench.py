"""Benchmark of the model (engine.simulate): medians over repeated runs after a warm-up.

    .venv/bin/python bench/bench.py [--repeats 7] [--write]
    .venv/bin/python bench/bench.py --fast [--full-map] [--engine-root DIR] [--write]

Cases: 5 regimes x 1,000 paths x 40 days on foreign_selloff_2026 (the target: < 0.2 s),
1 regime x 10,000 paths, and growth with paths (100, 1k, 10k) and days (10, 40, 120, 250).
With --write the table replaces the results block of bench/README.md.

--fast runs the issue 9 targets instead: 5 regimes x 10,000 paths x 40 days (< 0.3 s, < 250 MB)
and the 400-regime x 500-path policy map (< 3 s), each with the full Result and summary-only
(`histories=False`), the map as one call and in batches; peak memory is the max RSS of a fresh
subprocess per case (VmHWM in /proc/self/status), reported as the peak and as the rise over the same
process after its warm-up. --engine-root imports `engine` from another tree (e.g. an export of an
older commit, for before/after in one session); --full-map adds the full-Result map (slow, GBs).
With --write --fast the table replaces the fast-engine block of bench/README.md.
--compare-with DIR times DIR's engine (imported as `engine_before`) against this one, the cases
interleaved in one process: before/after ratios that share the machine's load.
"""

import argparse
import importlib
import inspect
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
if "--engine-root" in sys.argv:  # before `import engine`: the tree to measure
    sys.path.insert(0, str(Path(sys.argv[sys.argv.index("--engine-root") + 1]).resolve()))
sys.path.insert(1 if "--engine-root" in sys.argv else 0, str(ROOT))

import numpy as np  # noqa: E402

import engine  # noqa: E402

SCENARIO = "foreign_selloff_2026"
FIVE = ["status_quo", "clearing_rule", "dealer_rule", "leverage_cap", "all_guardrails"]
TARGET_S = 0.2
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def timed(regimes: list[str], paths: int, days: int, repeats: int) -> list[float]:
    engine.simulate(SCENARIO, regimes, paths=paths, days=days, seed=0)  # warm-up
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        engine.simulate(SCENARIO, regimes, paths=paths, days=days, seed=i)
        times.append(time.perf_counter() - start)
    return times


FAST_BEGIN, FAST_END = "<!-- bench-fast:begin -->", "<!-- bench-fast:end -->"
MAP_SIZE, MAP_PATHS, FAST_PATHS, FAST_DAYS = 400, 500, 10_000, 40
FAST_TARGET_S, FAST_TARGET_MB, MAP_TARGET_S = 0.3, 250.0, 3.0


def policy_map(n: int = MAP_SIZE) -> list:
    """n distinct regimes, as a policy map would sweep them: leverage caps x Fed lags x clearing."""
    import policy

    sq = policy.get_preset("status_quo")
    return [
        policy.with_changes(
            sq,
            {"leverage_cap.enabled": True, "leverage_cap.max_gross_leverage_x": 5.0 + 15.0 * (i % 20) / 19,
             "fed_backstop.lag_days": i // 20 % 10, "clearing.enabled": i >= n // 2},
            name=f"map {i}",
        )
        for i in range(n)
    ]


def summary_supported() -> bool:
    return "histories" in inspect.signature(engine.simulate).parameters


def fast_run(case: str, seed: int, eng: ModuleType = engine) -> None:
    """One run of a fast-engine case: `five-full`, `five-summary`, `map-full`, `map-summary-B` (B per call)."""
    kind, mode, *batch = case.split("-")
    regimes, paths = (FIVE, FAST_PATHS) if kind == "five" else (policy_map(), MAP_PATHS)
    kw = {"histories": False} if mode == "summary" else {}
    size = int(batch[0]) if batch else len(regimes)
    for start in range(0, len(regimes), size):
        eng.simulate(SCENARIO, regimes[start:start + size], paths=paths, days=FAST_DAYS, seed=seed, **kw)


def load_before(tree: Path) -> ModuleType:
    """Another tree's engine as the package `engine_before` (its imports rewritten), next to this one."""
    dest = Path(tempfile.mkdtemp(prefix="bench-before-"))
    shutil.copytree(tree / "engine", dest / "engine_before", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(tree / "scenarios", dest / "scenarios")  # found next to the package
    for path in (dest / "engine_before").rglob("*.py"):
        text = re.sub(r"\b(from|import) engine\b", r"\1 engine_before", path.read_text())
        # module names in strings too (engine/__init__.py loads its names lazily from "engine.api", ...):
        # without this engine_before.simulate was this tree's engine, and A/B compared a tree with itself
        path.write_text(re.sub(r"([\"'])engine\.", r"\1engine_before.", text))
    sys.path.insert(0, str(dest))
    return importlib.import_module("engine_before")


def compare_main(tree: Path, repeats: int) -> None:
    """Interleaved before/after: each round runs every case once, old and new engine alternating."""
    before = load_before(tree)
    cases = [
        ("before", "five-full", before), ("after", "five-full", engine), ("after", "five-summary", engine),
        ("before", "map-full", before), ("after", "map-summary", engine), ("after", "map-summary-50", engine),
    ]
    policy_map()
    for _, case, eng in cases:
        fast_run(case, 0, eng)  # warm-up (the before engine compiles its kernel here)
    times: dict[tuple[str, str], list[float]] = {(w, c): [] for w, c, _ in cases}
    cpu: dict[tuple[str, str], list[float]] = {(w, c): [] for w, c, _ in cases}
    for i in range(repeats):
        for which, case, eng in cases:
            start, start_cpu = time.perf_counter(), time.process_time()
            fast_run(case, i, eng)
            times[which, case].append(time.perf_counter() - start)
            cpu[which, case].append(time.process_time() - start_cpu)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"before: {tree}; medians of {repeats} interleaved rounds; load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| engine | case | wall median (s) | wall min (s) | wall max (s) | CPU median (s, both threads) |")
    for (which, case), t in times.items():
        print(f"| {which} | {case} | {med[which, case]:.3f} | {min(t):.3f} | {max(t):.3f} | "
              f"{statistics.median(cpu[which, case]):.3f} |")
    print(f"5 x 10k: summary-only / before full = {med['after', 'five-summary'] / med['before', 'five-full']:.2f}, "
          f"full after / before = {med['after', 'five-full'] / med['before', 'five-full']:.2f}")
    print(f"map: one summary call / before full = {med['after', 'map-summary'] / med['before', 'map-full']:.2f}, "
          f"batches of 50 / before = {med['after', 'map-summary-50'] / med['before', 'map-full']:.2f}")


def fast_timed(cases: list[str], repeats: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Run times per case, the cases interleaved (one run of each per round) so that a shared
    machine's load falls on all of them alike and their ratios are fair."""
    policy_map()  # building the regimes is the sweep's work, not the model's
    for case in cases:
        fast_run(case, 0)  # warm-up
    times: dict[str, list[float]] = {case: [] for case in cases}
    cpu: dict[str, list[float]] = {case: [] for case in cases}  # process CPU time, all threads
    for i in range(repeats):
        for case in cases:
            start, start_cpu = time.perf_counter(), time.process_time()
            fast_run(case, i)
            times[case].append(time.perf_counter() - start)
            cpu[case].append(time.process_time() - start_cpu)
    return times, cpu


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def fast_memory(case: str) -> tuple[float, float]:
    """(peak MB, rise MB over the warmed-up process) of one run in a fresh subprocess.

    The peak is the child's VmHWM (/proc/self/status), its max RSS: `getrusage`'s ru_maxrss would
    carry the parent's peak over fork and exec (it read 770 MB for every case here).
    """
    code = (
        "import sys, json; sys.argv = sys.argv[:1] + sys.argv[2:]; "
        f"sys.path.insert(0, {str(ROOT / 'bench')!r}); import bench; "
        "regimes = bench.policy_map(); "  # built before the baseline: inputs, not model memory
        "bench.engine.simulate(bench.SCENARIO, bench.FIVE[:2], paths=50, days=40); "  # load the kernel
        "base = bench._status_mb('VmHWM'); "
        f"bench.fast_run({case!r}, 0); "
        "peak = bench._status_mb('VmHWM'); "
        "print(json.dumps([peak, peak - base]))"
    )
    argv = [sys.executable, "-c", code, "--"]
    if "--engine-root" in sys.argv:
        argv += ["--engine-root", sys.argv[sys.argv.index("--engine-root") + 1]]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    peak, rise = json.loads(out.strip().splitlines()[-1])
    return peak, rise


def fast_main(repeats: int, write: bool, full_map: bool) -> None:
    summary = summary_supported()
    cases = [("five-full", "5 regimes x 10,000 paths x 40 days, full Result")]
    if summary:
        cases.append(("five-summary", "5 regimes x 10,000 paths x 40 days, histories=False"))
    if full_map or not summary:
        cases.append(("map-full", "400 regimes x 500 paths x 40 days, full Result, one call"))
    if summary:
        cases += [
            ("map-summary", "400 regimes x 500 paths x 40 days, histories=False, one call"),
            ("map-summary-50", "400 x 500 x 40, histories=False, 8 calls of 50 regimes"),
            ("map-summary-25", "400 x 500 x 40, histories=False, 16 calls of 25 regimes"),
        ]
    rows = []
    timings, cpu_times = fast_timed([case for case, _ in cases], repeats)
    for case, label in cases:
        t = timings[case]
        peak, rise = fast_memory(case)
        med, cpu = statistics.median(t), statistics.median(cpu_times[case])
        rows.append((label, med, min(t), max(t), cpu, peak, rise))
        print(f"{label:<62} median {med:7.3f} s (min {min(t):.3f}, max {max(t):.3f}, CPU {cpu:.3f})  "
              f"peak {peak:7.0f} MB, rise {rise:7.0f} MB", flush=True)
    lines = [
        FAST_BEGIN,
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, model {engine.MODEL_VERSION}, "
        f"scenario `{SCENARIO}`, engine from `{Path(engine.__file__).parent}`, medians of {repeats} runs after "
        f"one warm-up run; nproc {os.cpu_count()}, load average at the end "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min).",
        "",
        "Times: the cases interleaved, one run of each per round, so load on the shared machine falls on all "
        "alike. Peak memory: max RSS (VmHWM) of a fresh subprocess per case that imports the engine, loads "
        "the kernel with a small run, then runs the case once; 'rise' is that peak minus the same process's "
        "max RSS before the case (the model's own memory; the import alone is the rest).",
        "",
        "| case | median (s) | min (s) | max (s) | CPU median (s) | peak RSS (MB) | rise (MB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(f"| {label} | {med:.3f} | {lo:.3f} | {hi:.3f} | {cpu:.3f} | {peak:.0f} | {rise:.0f} |"
          for label, med, lo, hi, cpu, peak, rise in rows),
        "",
        f"Targets: 5 x 10k x 40 under {FAST_TARGET_S} s and {FAST_TARGET_MB:.0f} MB; the 400 x 500 map under "
        f"{MAP_TARGET_S} s.",
        FAST_END,
    ]
    block = "\n".join(lines)
    print()
    print(block)
    if write:
        readme = ROOT / "bench" / "README.md"
        text = readme.read_text()
        start, end = text.index(FAST_BEGIN), text.index(FAST_END) + len(FAST_END)
        readme.write_text(text[:start] + block + text[end:])
        print(f"\nwrote {readme.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="write the results into bench/README.md")
    parser.add_argument("--fast", action="store_true", help="the fast-engine targets of issue 9")
    parser.add_argument("--full-map", action="store_true", help="with --fast: also the full-Result policy map")
    parser.add_argument("--engine-root", help="import engine from this tree (before/after comparisons)")
    parser.add_argument("--compare-with", help="interleave this tree's engine (before) with this one (after)")
    args = parser.parse_args()
    repeats = max(args.repeats, 7)
    if args.compare_with:
        compare_main(Path(args.compare_with).resolve(), repeats)
        return
    if args.fast:
        fast_main(repeats, args.write, args.full_map)
        return

    rows: list[tuple[str, float, float, float]] = []

    def case(label: str, regimes: list[str], paths: int, days: int, reps: int = repeats) -> float:
        t = timed(regimes, paths, days, reps)
        med = statistics.median(t)
        rows.append((label, med, min(t), max(t)))
        print(f"{label:<44} median {med:8.4f} s  (min {min(t):.4f}, max {max(t):.4f}, n={reps})", flush=True)
        return med

    headline = case("5 regimes x 1,000 paths x 40 days", FIVE, 1000, 40)
    one_k = case("1 regime x 1,000 paths x 40 days", ["status_quo"], 1000, 40)
    ten_k = case("1 regime x 10,000 paths x 40 days", ["status_quo"], 10_000, 40)
    by_paths = {100: case("1 regime x 100 paths x 40 days", ["status_quo"], 100, 40), 1000: one_k, 10_000: ten_k}
    by_days = {}
    for days in (10, 40, 120, 250):
        by_days[days] = case(f"1 regime x 1,000 paths x {days} days", ["status_quo"], 1000, days)

    ratio = headline / TARGET_S
    env = {
        "nproc": os.cpu_count(),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {platform.system()} {platform.release()}",
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "not set"),
        "model_version": engine.MODEL_VERSION,
        "load": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    lines = [
        BEGIN,
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, model {env['model_version']}, "
        f"scenario `{SCENARIO}`, medians of {repeats} runs after one warm-up run.",
        "",
        f"Machine: nproc {env['nproc']}, {env['machine']}, Python {env['python']}, numpy {env['numpy']}, "
        f"OPENBLAS_CORETYPE {env['OPENBLAS_CORETYPE']}; load average at the end {env['load']} (1/5/15 min).",
        "",
        "| case | median (s) | min (s) | max (s) |",
        "| --- | ---: | ---: | ---: |",
        *(f"| {label} | {med:.4f} | {lo:.4f} | {hi:.4f} |" for label, med, lo, hi in rows),
        "",
        f"Target: 5 x 1,000 x 40 under {TARGET_S} s. Measured {headline:.3f} s = "
        f"{ratio:.2f} x the target ({'met' if headline < TARGET_S else 'NOT met'}).",
        "",
        "Growth, measured in the same run (1 regime, 40 days unless stated):",
        "",
        f"- paths 100 -> 1k -> 10k: {by_paths[100]:.4f} -> {by_paths[1000]:.4f} -> {by_paths[10_000]:.4f} s "
        f"(x{by_paths[1000] / by_paths[100]:.1f}, x{by_paths[10_000] / by_paths[1000]:.1f})",
        f"- days 10 -> 40 -> 120 -> 250 (1k paths): {by_days[10]:.4f} -> {by_days[40]:.4f} -> "
        f"{by_days[120]:.4f} -> {by_days[250]:.4f} s (250/10 days: x{by_days[250] / by_days[10]:.1f}; "
        f"per day {by_days[40] / 40 * 1e3:.2f} ms at 40 days, {by_days[250] / 250 * 1e3:.2f} ms at 250)",
        f"- 5 regimes vs 1 regime (1k x 40): x{headline / one_k:.2f}",
        END,
    ]
    block = "\n".join(lines)
    print()
    print(block)
    if args.write:
        readme = ROOT / "bench" / "README.md"
        text = readme.read_text()
        start, end = text.index(BEGIN), text.index(END) + len(END)
        readme.write_text(text[:start] + block + text[end:])
        print(f"\nwrote {readme.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
