"""Long runs on a shared server: one at a time, on all cores but one (ui.runner.heavy_run)."""


def test_long_runs_take_the_one_slot_in_turn_on_fewer_threads():
    """Two sessions' long runs: the second waits (and is told so) until the first is done, and a long
    run's kernel runs on all cores but one, restored afterwards."""
    import threading
    import time

    import numba

    from ui.runner import HEAVY_RUN_THREADS, heavy_run

    events: list[str] = []
    first_inside = threading.Event()
    release_first = threading.Event()

    def first() -> None:
        with heavy_run(lambda: events.append("first waited")):
            events.append(f"first in, {numba.get_num_threads()} threads")
            first_inside.set()
            release_first.wait(10)
        events.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    assert first_inside.wait(10)
    before = numba.get_num_threads()

    def release_soon() -> None:
        time.sleep(0.3)
        release_first.set()

    threading.Thread(target=release_soon).start()
    with heavy_run(lambda: events.append("second waited")):
        events.append("second in")
    thread.join(10)
    assert events == [f"first in, {min(before, HEAVY_RUN_THREADS)} threads", "second waited", "first out", "second in"] or \
        events == [f"first in, {min(before, HEAVY_RUN_THREADS)} threads", "second waited", "second in", "first out"]
    assert events.index("second waited") < events.index("second in") and "first waited" not in events
    assert numba.get_num_threads() == before  # restored in this thread
