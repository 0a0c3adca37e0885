"""CLI start-up (issue 9): wall time of `python -m engine` commands that run no model.

    .venv/bin/python bench/bench_startup.py [--repeats 7] [--root DIR] [--write]

Each command runs `--repeats` times in a fresh interpreter (cold: a new process every run, with the
bytecode cache as the repository has it) from the folder `--root` (default: this checkout), so an
older tree unpacked elsewhere (`git archive COMMIT | tar -x -C DIR`) is timed with the same script
and interpreter. The table gives the median, min and max wall time per command, in the order the
runs are interleaved (round robin, so a burst of load hits every command alike). `--write` replaces
the block between `<!-- bench-startup:begin -->` and `<!-- bench-startup:end -->` in bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "bench" / "README.md"
BEGIN, END = "<!-- bench-startup:begin -->", "<!-- bench-startup:end -->"
TARGET_S = 1.0
COMMANDS: list[list[str]] = [
    ["--help"],
    ["list"],
    ["list", "--format", "json"],
    ["params"],
    ["params", "--format", "csv"],
    ["regime", "clearing_rule"],
    ["run", "--help"],
    ["sweep", "--help"],
]


def time_command(root: Path, args: list[str]) -> float:
    """Wall time of one cold `python -m engine ARGS` run in `root` (output discarded)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "engine", *args], cwd=root, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(root: Path, repeats: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {" ".join(c): [] for c in COMMANDS}
    for command in COMMANDS:  # one untimed run each: writes any missing bytecode, as a first use would
        time_command(root, command)
    for _ in range(repeats):
        for command in COMMANDS:
            times[" ".join(command)].append(time_command(root, command))
    return times


def report(times: dict[str, list[float]], root: Path, repeats: int) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"Measured {now}, tree `{root.name}`, medians of {repeats} cold runs (a new process each) after one untimed run.",
        "",
        f"Machine: nproc {os.cpu_count()}, {platform.machine()} {platform.system()}, Python {platform.python_version()};"
        f" load average at the end {load} (1/5/15 min).",
        "",
        "| command | median (s) | min (s) | max (s) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for command, values in times.items():
        lines.append(f"| `python -m engine {command}` | {statistics.median(values):.3f} | {min(values):.3f} | {max(values):.3f} |")
    slowest = max(statistics.median(v) for v in times.values())
    verdict = "met" if slowest < TARGET_S else "not met"
    lines += ["", f"Target: every command above under {TARGET_S:g} s. Slowest median {slowest:.3f} s ({verdict})."]
    return "\n".join(lines)


def write_readme(text: str) -> None:
    readme = README.read_text()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(readme):
        raise SystemExit(f"{README} has no {BEGIN} ... {END} block")
    README.write_text(pattern.sub(lambda _: f"{BEGIN}\n{text}\n{END}", readme))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--root", type=Path, default=ROOT, help="the tree to time (default: this checkout)")
    parser.add_argument("--write", action="store_true", help="replace the results block in bench/README.md")
    args = parser.parse_args()
    root = args.root.resolve()
    text = report(measure(root, args.repeats), root, args.repeats)
    print(text)
    if args.write:
        write_readme(text)


if __name__ == "__main__":
    main()
