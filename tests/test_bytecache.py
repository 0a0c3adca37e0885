"""The byte-bounded cache: sizes are measured, the budget and an owner's share hold, LRU order."""

import threading

import numpy as np
import pandas as pd
import pytest

import engine
from engine.bytecache import ByteLRU, size_of

MB = 1_000_000


def test_size_of_counts_buffers_once_and_results_by_their_arrays():
    a = np.zeros(1_000_000)  # 8 MB
    assert 8 * MB <= size_of(a) < 8 * MB + 1_000
    assert size_of([a, a[:10], a.reshape(1000, 1000)]) < 8 * MB + 2_000  # views share the buffer
    frame = pd.DataFrame({"x": np.arange(100_000, dtype=float)})
    assert size_of(frame) >= 800_000
    small = engine.simulate("april_2025", ["status_quo"], paths=50, seed=0)
    big = engine.simulate("april_2025", ["status_quo"], paths=500, seed=0)
    series_bytes = sum(v.nbytes for v in big.series.values())
    assert size_of(big) >= series_bytes and size_of(big) > 5 * size_of(small)


def test_the_budget_holds_and_the_least_recently_used_goes_first():
    cache = ByteLRU(30 * MB)
    for key in "abc":
        assert cache.put(key, np.zeros(1_000_000))  # 8 MB each
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("d", np.zeros(1_000_000))
    assert "b" not in cache and {"a", "c", "d"} <= {k for k in "abcd" if k in cache}
    assert cache.bytes <= cache.max_bytes
    assert not cache.put("huge", np.zeros(5_000_000))  # 40 MB: refused, nothing evicted for it
    assert len(cache) == 3 and cache.stats()["refused"] == 1


def test_an_owner_cannot_take_more_than_its_share():
    cache = ByteLRU(40 * MB, owner_share=0.5)
    cache.put("other", np.zeros(1_000_000), owner="s2")
    for i in range(5):
        cache.put(("heavy", i), np.zeros(1_000_000), owner="s1")
    held = [i for i in range(5) if ("heavy", i) in cache]
    assert held == [3, 4]  # at most 20 MB for s1: its own oldest went first
    assert "other" in cache  # the other session kept its entry


def test_get_or_compute_and_threads():
    cache = ByteLRU(10 * MB)
    calls = []

    def compute():
        calls.append(1)
        return np.ones(1000)

    first = cache.get_or_compute("k", compute)
    assert cache.get_or_compute("k", compute) is first and len(calls) == 1

    def worker(n):
        for i in range(200):
            cache.put((n, i), np.zeros(10_000))
            cache.get((n, i - 1))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.bytes <= cache.max_bytes
    assert cache.bytes == sum(entry.size for entry in cache._entries.values())  # the books balance


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        ByteLRU(0)
    with pytest.raises(ValueError):
        ByteLRU(10, owner_share=0)


def test_the_apps_results_cache_is_bounded_in_bytes():
    from ui import runner

    runner.RESULTS.clear()
    kwargs = {"paths": 300, "seed": 11, "shock_scale": 1.0, "assumptions": {}}
    first = runner.run_view("april_2025", [engine.resolve_regime("status_quo")], **kwargs)
    again = runner.run_view("april_2025", [engine.resolve_regime("status_quo")], **kwargs)
    assert again is first  # a cache hit: the same object
    assert 0 < runner.RESULTS.bytes <= runner.RESULTS.max_bytes
    assert runner.RESULTS.bytes >= size_of(first)
    assert runner.RESULTS.max_bytes == runner.RESULT_CACHE_MB * 1_000_000

