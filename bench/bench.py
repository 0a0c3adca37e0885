"""Benchmark of the model (engine.simulate): medians over repeated runs after a warm-up.

    .venv/bin/python bench/bench.py [--repeats 7] [--write]

Cases: 5 regimes x 1,000 paths x 40 days on foreign_selloff_2026 (the target: < 0.2 s),
1 regime x 10,000 paths, and growth with paths (100, 1k, 10k) and days (10, 40, 120, 250).
With --write the table replaces the results block of bench/README.md.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="write the results into bench/README.md")
    args = parser.parse_args()
    repeats = max(args.repeats, 7)

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
