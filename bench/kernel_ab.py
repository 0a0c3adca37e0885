"""Kernel-only A/B: stress_kernel(store=False) against stress_kernel_lanes on one run's arguments.

    .venv/bin/python bench/kernel_ab.py [rounds]

Captures the arguments of one 5 regimes x 10,000 paths x 40 days summary-only run, checks both
kernels give the same bits, then times them interleaved (medians and the median ratio lanes/scalar).
"""

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import engine
import engine.kernel_lanes as kernel_lanes
from engine.kernel import stress_kernel

FIVE = ["status_quo", "clearing_rule", "dealer_rule", "leverage_cap", "all_guardrails"]


def main(rounds: int) -> None:
    captured = []
    lanes_kernel = kernel_lanes.stress_kernel_lanes
    kernel_lanes.stress_kernel_lanes = lambda *a: captured.append(a) or lanes_kernel(*a)
    engine.simulate("foreign_selloff_2026", FIVE, paths=10_000, days=40, seed=0, histories=False)
    kernel_lanes.stress_kernel_lanes = lanes_kernel
    args = captured[0]
    inputs, sales, summary = args[:-2], args[-2], args[-1]
    empty = np.zeros((0, 0, 0))

    def scalar() -> tuple[np.ndarray, np.ndarray]:
        s, m = np.zeros_like(sales), np.zeros_like(summary)
        stress_kernel(*inputs, False, *([empty] * 16), s, m)
        return s, m

    def lanes() -> tuple[np.ndarray, np.ndarray]:
        s, m = np.zeros_like(sales), np.zeros_like(summary)
        lanes_kernel(*inputs, s, m)
        return s, m

    a, b = scalar(), lanes()
    print("bit-identical: sales_by_book", np.array_equal(a[0], b[0]), "summary", np.array_equal(a[1], b[1], equal_nan=True))
    ta, tb = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        scalar()
        ta.append(time.perf_counter() - start)
        start = time.perf_counter()
        lanes()
        tb.append(time.perf_counter() - start)
    ratios = [y / x for x, y in zip(ta, tb, strict=True)]
    print(
        f"kernel scalar median {statistics.median(ta):.4f} s, lanes median {statistics.median(tb):.4f} s, "
        f"ratio median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f})"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
