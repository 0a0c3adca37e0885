"""The summary-only engine (`simulate(..., histories=False)`, issue 9) gives the full path's numbers.

The kernel keeps running peaks, troughs, sums and the functioning flags per path instead of
(regime, path, day) histories. Its metrics, summary, probabilities and paired differences must be
those of the full `Result` of the same run, its flags identical, and a regime's numbers must not
depend on the other regimes of the call (common random numbers).
"""

import tracemalloc
from functools import cache

import numpy as np
import pytest

import engine
import policy
from engine.kernel import MAX_SUMMED_DAYS, _pairwise_sum
from engine.metrics import EXCEEDANCES, PROBABILITY_METRICS
from engine.result import SummaryResult

THREE = ["status_quo", "clearing_rule", "all_guardrails"]
SCENARIOS = ("march_2020", "april_2025", "foreign_selloff_2026")
# Peaks, troughs, day-0 values and counts are the same floating-point operations as over the
# histories; sums are too (numpy's pairwise order), but only closeness is part of the contract.
RTOL = 1e-9


def batch(n: int) -> list[policy.PolicyRegime]:
    """n distinct regimes: leverage caps and Fed lags across their ranges."""
    sq = policy.get_preset("status_quo")
    return [
        policy.with_changes(
            sq,
            {"leverage_cap.enabled": True, "leverage_cap.max_gross_leverage_x": 5.0 + 15.0 * (i % 10) / 9,
             "fed_backstop.lag_days": 0 if i % 2 else 5},
            name=f"regime {i}",
        )
        for i in range(n)
    ]


@cache
def pair(scenario: str, days: int | None = None) -> tuple[engine.Result, SummaryResult]:
    kw = {"paths": 400, "seed": 11, "days": days}
    return engine.simulate(scenario, THREE, **kw), engine.simulate(scenario, THREE, histories=False, **kw)


def close(a: float, b: float) -> bool:
    return abs(a - b) <= RTOL * max(abs(a), abs(b)) + 1e-12


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_summary_only_metrics_summary_and_flags_are_the_full_results(scenario: str) -> None:
    full, fast = pair(scenario)
    assert isinstance(fast, SummaryResult) and not hasattr(fast, "series")
    assert list(fast.metrics) == list(full.metrics)
    for name, values in full.metrics.items():
        np.testing.assert_allclose(fast.metrics[name], values, rtol=RTOL, atol=1e-12, err_msg=name)
    np.testing.assert_array_equal(fast.dysfunctional, full.dysfunction.any(axis=-1))
    np.testing.assert_array_equal(fast.broken, full.broken)
    np.testing.assert_array_equal(fast.metrics["dysfunction_days"], full.metrics["dysfunction_days"])
    s_full, s_fast = full.summary(), fast.summary()
    assert list(s_fast) == list(s_full)
    for regime, metrics in s_full.items():
        assert list(s_fast[regime]) == list(metrics)
        for metric, stats in metrics.items():
            for stat, value in stats.items():
                assert close(s_fast[regime][metric][stat], value), (regime, metric, stat)
    assert fast.summary_frame().drop(columns="value").equals(full.summary_frame().drop(columns="value"))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_summary_only_probabilities_and_differences_are_the_full_results(scenario: str) -> None:
    full, fast = pair(scenario)
    for name in (*PROBABILITY_METRICS, *EXCEEDANCES):
        np.testing.assert_array_equal(fast.indicator(name), full.indicator(name), err_msg=name)
        np.testing.assert_array_equal(fast.probability(name), full.probability(name), err_msg=name)
    for regime in THREE[1:]:
        for name in (*full.metrics, *EXCEEDANCES):
            a, b = fast.difference(name, regime, THREE[0]), full.difference(name, regime, THREE[0])
            assert all(close(a[s], b[s]) for s in b), (name, regime, a, b)
            if name in full.metrics:
                p_a, p_b = fast.paired_difference(name, regime, THREE[0]), full.paired_difference(name, regime, THREE[0])
                assert all(close(p_a[s], p_b[s]) for s in p_b), (name, regime)
    for book, sales in full.sales_by_book_usd_bn.items():
        np.testing.assert_array_equal(fast.sales_by_book_usd_bn[book], sales)


@pytest.mark.parametrize("days", [1, 7, 130, 250])
def test_summary_only_matches_at_short_and_long_windows(days: int) -> None:
    full, fast = pair("march_2020", days)
    for name, values in full.metrics.items():
        np.testing.assert_allclose(fast.metrics[name], values, rtol=RTOL, atol=1e-12, err_msg=f"{name} {days}")
    np.testing.assert_array_equal(fast.broken, full.broken)
    np.testing.assert_array_equal(fast.dysfunctional, full.dysfunction.any(axis=-1))


def test_a_regime_alone_and_in_a_batch_of_20_gets_the_same_summary() -> None:
    regimes = batch(20)
    together = engine.simulate("foreign_selloff_2026", regimes, paths=300, seed=5, histories=False)
    for i in (0, 7, 19):
        alone = engine.simulate("foreign_selloff_2026", [regimes[i]], paths=300, seed=5, histories=False)
        for name, values in alone.metrics.items():
            np.testing.assert_array_equal(together.metrics[name][i], values[0], err_msg=f"{name} regime {i}")
        np.testing.assert_array_equal(together.broken[i], alone.broken[0])
        np.testing.assert_array_equal(together.dysfunctional[i], alone.dysfunctional[0])


def test_the_numpy_reference_gives_a_summary_result_with_the_same_numbers() -> None:
    kw = {"paths": 60, "seed": 2, "histories": False}
    compiled = engine.simulate("march_2020", THREE, **kw)
    reference = engine.simulate("march_2020", THREE, kernel="numpy", **kw)
    assert isinstance(reference, SummaryResult)
    for name, values in reference.metrics.items():
        np.testing.assert_allclose(compiled.metrics[name], values, rtol=1e-9, atol=1e-9, err_msg=name)
    np.testing.assert_array_equal(compiled.broken, reference.broken)
    np.testing.assert_array_equal(compiled.dysfunctional, reference.dysfunctional)


def test_summary_only_stores_no_daily_history() -> None:
    regimes, paths, days = batch(20), 500, 200
    one_history = len(regimes) * paths * (days + 1) * 8  # bytes of one (R, P, T+1) float64 series
    engine.simulate("march_2020", regimes[:2], paths=10, days=days, histories=False)  # load the kernel
    tracemalloc.start()
    try:
        engine.simulate("march_2020", regimes, paths=paths, days=days, histories=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < one_history, f"peak {peak / 1e6:.1f} MB, one history {one_history / 1e6:.1f} MB"


def test_the_default_is_the_full_result_and_histories_must_be_a_bool() -> None:
    assert isinstance(engine.simulate("march_2020", paths=5), engine.Result)
    with pytest.raises(engine.InputError, match="histories"):
        engine.simulate("march_2020", paths=5, histories="no")  # type: ignore[call-overload]


def test_the_kernel_sums_in_numpys_pairwise_order() -> None:
    rng = np.random.default_rng(0)
    for n in (*range(1, 140), 250, 251, 257, 463, 700, MAX_SUMMED_DAYS - 1):
        row = rng.standard_normal(n) * 10.0 ** rng.uniform(-4, 4, n)
        assert _pairwise_sum(row, 0, n) == row.sum(), n
