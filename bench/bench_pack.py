"""Benchmark of the briefing pack (briefing.pack.build_pack): wall time and where it goes.

    .venv/bin/python bench/bench_pack.py [--repeats 3] [--paths 500] [--scenario NAME ...] [--compare]

Per scenario: 3 regimes (status_quo, clearing_rule, all_guardrails) x 500 paths, seed 0; one cold
build first (a fresh process starts vl-convert's JavaScript runtime and loads fonts, as the app's
first click does), then the median of `--repeats` builds with the split by stage:

    chart specs       chart objects, their data frames and Vega-Lite dicts (Python)
    render svg        vl-convert Vega-Lite -> SVG, in this process (one render per chart)
    render pdf / png  vl-convert SVG -> PDF / PNG (2x); in the helper process these run meanwhile, so
                      they overlap the other stages instead of adding to them
    pdf text          the fpdf text pages (title, summary, tables, assumptions, link)
    wait for pdf/png  time this process waited for the helper
    merge             laying the chart PDFs into the text PDF (pypdf)
    zip               the ZIP (CSVs, regimes, scenario, README)

`--compare` also times builds with PDF and PNG rendered in this process (helper_process=False).
The target (issue): the pack in under 5 s for 3 regimes x 500 paths.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from briefing.pack import build_pack, view_for_result  # noqa: E402
from engine import simulate  # noqa: E402

REGIMES = ["status_quo", "clearing_rule", "all_guardrails"]
SCENARIOS = ["foreign_selloff_2026", "march_2020"]
TARGET_S = 5.0
STAGES = (
    "chart specs",
    "render svg",
    "render pdf",
    "render png",
    "pdf text",
    "wait for pdf/png",
    "merge",
    "zip",
)


def timed(result, view, helper: bool) -> tuple[float, dict[str, float]]:
    timings: dict[str, float] = {}
    start = time.perf_counter()
    build_pack(result, view, timings=timings, helper_process=helper)
    return time.perf_counter() - start, timings


def run_case(scenario: str, paths: int, repeats: int, helper: bool, cold: bool) -> dict:
    result = simulate(scenario, REGIMES, paths=paths, seed=0)
    view = view_for_result(result)
    first = timed(result, view, helper)[0] if cold else None
    runs = [timed(result, view, helper) for _ in range(repeats)]
    totals = [t for t, _ in runs]
    split = {s: statistics.median(r.get(s, 0.0) for _, r in runs) for s in STAGES}
    return {"first": first, "median": statistics.median(totals), "min": min(totals), "max": max(totals),
            "split": split}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--paths", type=int, default=500)
    parser.add_argument("--scenario", action="append", default=None)
    parser.add_argument("--compare", action="store_true", help="also time PDF/PNG rendered in this process")
    args = parser.parse_args(argv)
    scenarios = args.scenario or SCENARIOS
    modes = [("helper process", True)] + ([("in process", False)] if args.compare else [])
    print(
        f"briefing pack, {len(REGIMES)} regimes x {args.paths:,} paths, median of {args.repeats} builds; "
        f"nproc {os.cpu_count()}, {platform.machine()} {platform.system()}, Python {platform.python_version()}"
    )
    print()
    print("| scenario | PDF/PNG | first build (s) | median (s) | min (s) | max (s) | " + " | ".join(STAGES) + " |")
    print("| --- | --- | ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in STAGES) + " |")
    worst = 0.0
    for k, scenario in enumerate(scenarios):
        for mode, helper in modes:
            case = run_case(scenario, args.paths, args.repeats, helper, cold=k == 0 and helper)
            first = "" if case["first"] is None else f"{case['first']:.2f}"
            split = " | ".join(f"{case['split'][s]:.2f}" for s in STAGES)
            print(
                f"| {scenario} | {mode} | {first} | {case['median']:.2f} | {case['min']:.2f} | {case['max']:.2f} "
                f"| {split} |"
            )
            if helper:
                worst = max(worst, case["median"])
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print()
    print("Stage times are medians; with the helper process, render pdf/png overlap the other stages.")
    print(f"Load average at the end: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} (1/5/15 min).")
    met = "met" if worst < TARGET_S else "NOT met"
    print(f"Target: under {TARGET_S:g} s. Slowest median {worst:.2f} s = {worst / TARGET_S:.2f} x the target ({met}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
