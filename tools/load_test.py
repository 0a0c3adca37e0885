"""Load test of the comparison page: concurrent browser sessions moving sliders on one real server.

Starts `streamlit run streamlit_app.py` on a free loopback port, opens N sessions (pages of ONE
headless Chromium, each its own Streamlit session and websocket), each from its own link (its own seed; r0=status_quo,
r1=all_guardrails; n paths), picks its own lever of all_guardrails and moves it with the keyboard
for --seconds: each move is one arrow key on the slider, timed in the page from the keydown to the
moment the comparison table's all_guardrails column changes. Meanwhile the server's resident
memory (VmRSS of its process and every process of its session, from /proc) is sampled every 0.5 s.

Recorded: sessions, moves, errors (page exceptions, console errors, Streamlit exception boxes,
timeouts), p50/p95/max update time, peak server RSS, and each session's end state (its URL, its
lever's value, its table). tests/test_load.py runs the same code with smaller numbers and asserts
on the behaviour (never on timings).

    .venv/bin/python tools/load_test.py --sessions 10 --seconds 60 --out test-results/load_manual.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from chromium import CHROMIUM, CHROMIUM_ARGS  # tools/ is on the path (a script here, or tests/conftest.py)

REPO_ROOT = Path(__file__).resolve().parents[1]
TABLE = "table.tmpe-cmp"
EDITED = "all_guardrails"  # r1: every rule in force, so every group's levers are shown and act
EXCEPTION = '[data-testid="stException"]'


@dataclass(frozen=True)
class Lever:
    group: str  # the lever-group pill's short title
    label: str  # the slider's label (accessible name, without the unit)
    path: str  # the link's lever path
    start: float  # all_guardrails' preset value
    step: float
    low: float
    high: float
    direction: int  # -1 ArrowLeft, +1 ArrowRight (bounces at `span` steps or the range's end)
    span: int = 20


# One lever per session, each one that moves the March 2020 numbers at every step from the preset
# in its direction (checked on the engine for seeds 0-9 at 100 paths).
LEVERS: tuple[Lever, ...] = (
    Lever("Dealer rule", "Net-capital leverage limit", "dealer_rule.net_capital_leverage_limit_x", 25, 1, 5, 100, -1),
    Lever("Leverage cap", "Maximum gross leverage", "leverage_cap.max_gross_leverage_x", 20, 1, 5, 100, -1, 15),
    Lever("Fed backstop", "Dislocation threshold", "fed_backstop.threshold_bp", 25, 1, 0, 200, +1),
    Lever("Fed backstop", "Purchase slope", "fed_backstop.slope_usd_bn_per_bp", 5, 0.5, 0, 50, -1, 10),
    Lever("Fed backstop", "Maximum pace", "fed_backstop.max_pace_usd_bn_per_day", 75, 5, 0, 200, -1, 15),
    Lever("Standing repo", "SRF rate over calm repo", "standing_repo.rate_spread_bp", 10, 1, 0, 100, +1),
    Lever("Foreign demand", "Calm-period foreign demand shift", "foreign_demand.calm_shift_usd_bn", 0, 50, -2000, 2000, -1),
    Lever("Dealer rule", "Compliance exit", "dealer_rule.compliance_exit_pct", 10, 1, 0, 50, +1),
    Lever("Clearing", "Cleared share of RV repo", "clearing.repo_cleared_share_pct", 85, 5, 0, 100, -1, 16),
    Lever("Futures margin", "Futures initial margin (calm)", "futures_margin.initial_margin_pct", 1, 0.25, 0.5, 10, +1),
)


def view_link(seed: int, paths: int) -> str:
    return f"/?sc=march_2020&n={paths}&seed={seed}&r0=status_quo&r1={EDITED}"


# ---------------------------------------------------------------- the server and its memory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:  # noqa: S310 - our loopback server
            return r.read().decode().strip() == "ok"
    except OSError:
        return False


@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid


def start_server(port: int, log_path: Path, timeout: float = 60) -> Server:
    """`streamlit run streamlit_app.py` on 127.0.0.1:port (as tests/conftest.py), healthy or raises."""
    url = f"http://127.0.0.1:{port}"
    if healthy(url):
        raise RuntimeError(f"port {port} already answers: a stale server?")
    log = open(log_path, "ab")  # noqa: SIM115 - the child holds it; closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + timeout
    while not healthy(url):
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log_path.read_text()}")
        if time.monotonic() > deadline:
            stop_server(Server(proc, url, port, log_path))
            raise RuntimeError(f"streamlit did not become healthy in {timeout:.0f} s")
        time.sleep(0.2)
    return Server(proc, url, port, log_path)


def stop_server(server: Server) -> None:
    """SIGTERM to the server's process group (it was started in its own session), SIGKILL after 10 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.proc.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.proc.wait(10)


def session_pids(sid: int) -> list[int]:
    """Every live process whose session id is `sid` (the server and any children it started)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state ppid pgrp session ...
        if int(fields[3]) == sid:
            pids.append(int(entry))
    return pids


def cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def rss_mb(pids: list[int]) -> float:
    total_kb = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
                    break
        except OSError:
            continue
    return total_kb / 1024


class RssSampler:
    """Samples the summed VmRSS of a server's session every `every` seconds in a thread."""

    def __init__(self, sid: int, every: float = 0.5) -> None:
        self.sid, self.every = sid, every
        self.samples: list[tuple[float, float]] = []
        self.cpu: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        t0 = time.monotonic()
        while not self._stop.is_set():
            pids, now = session_pids(self.sid), round(time.monotonic() - t0, 2)
            self.samples.append((now, round(rss_mb(pids), 1)))
            self.cpu.append((now, round(cpu_s(pids), 1)))
            self._stop.wait(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)

    @property
    def peak_mb(self) -> float:
        return max((mb for _, mb in self.samples), default=0.0)


# ---------------------------------------------------------------- one browser session

# Times one keydown to the change of the edited regime's column of the comparison table.
PROBE = """
(name) => {
  window.__lat = [];
  window.__armed = null;
  const column = () => {
    const table = document.querySelector('table.tmpe-cmp');
    if (!table) return '';
    const heads = [...table.querySelectorAll('thead th')];
    const i = heads.findIndex(th => th.innerText.trim().startsWith(name));
    if (i < 0) return '';
    return [...table.querySelectorAll('tbody tr')].map(tr => (tr.children[i] || {}).innerText || '').join('|');
  };
  window.__column = column;
  document.addEventListener('keydown', () => { window.__armed = {t0: performance.now(), before: column()}; }, true);
  new MutationObserver(() => {
    const a = window.__armed;
    if (!a) return;
    const now = column();
    if (now && now !== a.before) { window.__lat.push(performance.now() - a.t0); window.__armed = null; }
  }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
}
"""
IDLE = ("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')")
COLUMNS = """
() => {
  const table = document.querySelector('table.tmpe-cmp');
  const heads = [...table.querySelectorAll('thead th')].map(th => th.innerText.trim());
  const rows = [...table.querySelectorAll('tbody tr')].map(tr => [...tr.children].map(td => td.innerText.trim()));
  return {heads, rows};
}
"""


@dataclass
class SessionReport:
    index: int
    seed: int
    lever: str
    link: str
    open_s: float = 0.0
    moves: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    value: float = 0.0
    url_search: str = ""
    entry_value: str = ""
    start_table: dict = field(default_factory=dict)
    end_table: dict = field(default_factory=dict)


async def _idle(page, timeout_ms: float) -> None:
    await page.wait_for_function(IDLE, timeout=timeout_ms)


async def _session(context, base: str, index: int, lever: Lever, paths: int, stop_at: list[float],
                   opened: asyncio.Barrier, timeout_s: float) -> SessionReport:
    seed = index
    link = view_link(seed, paths)
    rep = SessionReport(index=index, seed=seed, lever=lever.path, link=link)
    page = await context.new_page()
    page.on("pageerror", lambda e: rep.errors.append(f"page exception: {e}"))
    page.on("console", lambda m: rep.errors.append(f"console error: {m.text[:300]}") if m.type == "error" else None)
    ms = timeout_s * 1000
    try:
        started = time.monotonic()
        await page.goto(base + link, wait_until="domcontentloaded")
        await page.locator(f"{TABLE}, {EXCEPTION}").first.wait_for(timeout=ms * 3)
        await _idle(page, ms * 3)
        if await page.locator(EXCEPTION).count():
            raise RuntimeError("exception box: " + (await page.locator(EXCEPTION).first.inner_text())[:300])
        await page.get_by_role("radio", name=EDITED, exact=True).first.click()
        await _idle(page, ms)
        await page.get_by_role("radio", name=lever.group, exact=True).first.click()
        await _idle(page, ms)
        slider = page.get_by_role("slider", name=lever.label)
        await slider.wait_for(timeout=ms)
        rep.open_s = round(time.monotonic() - started, 2)
        rep.start_table = await page.evaluate(COLUMNS)
        await page.evaluate(PROBE, EDITED)
    except Exception as err:  # a failed open is an error of this session, the others go on
        rep.errors.append(f"open: {type(err).__name__}: {str(err).splitlines()[0][:200]}")
        await opened.wait()
        await page.close()
        return rep
    await opened.wait()  # everyone moves together
    value, direction, steps = lever.start, lever.direction, 0
    while time.monotonic() < stop_at[0] or value == lever.start:  # end off the preset: the link must name it
        nxt = round(value + direction * lever.step, 6)
        if steps >= lever.span or not lever.low <= nxt <= lever.high:
            direction, steps = -direction, 0
            nxt = round(value + direction * lever.step, 6)
        try:
            await slider.focus()
            await page.keyboard.press("ArrowRight" if direction > 0 else "ArrowLeft")
            await page.wait_for_function(f"() => window.__lat.length >= {rep.moves + 1}", timeout=ms)
            value, steps = nxt, steps + 1
            rep.moves += 1
            await _idle(page, ms)
            if await page.locator(EXCEPTION).count():
                rep.errors.append(f"exception box after move {rep.moves}: "
                                  + (await page.locator(EXCEPTION).first.inner_text())[:300])
                break
            await page.wait_for_timeout(150)  # a user's pause between moves
        except Exception as err:
            rep.errors.append(f"move {rep.moves + 1}: {type(err).__name__}: {str(err).splitlines()[0][:200]}")
            break
    rep.latencies_ms = [round(x, 1) for x in await page.evaluate("() => window.__lat")]
    rep.value = value
    with contextlib.suppress(Exception):
        await _idle(page, ms)
        await page.wait_for_timeout(300)
        rep.url_search = await page.evaluate("() => window.location.search")
        rep.entry_value = await page.get_by_role("spinbutton", name=f"{lever.label}, exact").input_value()
        rep.end_table = await page.evaluate(COLUMNS)
        if await page.locator(EXCEPTION).count():
            rep.errors.append("exception box at the end")
    await page.close()
    return rep


async def _drive(base: str, sessions: int, seconds: float, paths: int, timeout_s: float,
                 chromium: str, chromium_args: list[str], marks: dict) -> tuple[list[SessionReport], float]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=chromium_args, headless=True)
        # One context, one page (one Streamlit session: its own websocket and session state) per
        # user: the pages share the browser's caches, as tabs of one browser do.
        context = await browser.new_context(viewport={"width": 1600, "height": 1000})
        stop_at = [float("inf")]
        opened = asyncio.Barrier(sessions + 1)
        tasks = [asyncio.create_task(_session(context, base, i, LEVERS[i % len(LEVERS)], paths, stop_at, opened,
                                              timeout_s)) for i in range(sessions)]
        await opened.wait()
        moving_started = time.monotonic()
        stop_at[0] = moving_started + seconds
        reports = await asyncio.gather(*tasks)
        moving_s = time.monotonic() - moving_started
        marks["moving"] = (moving_started, time.monotonic())
        await browser.close()
    return list(reports), moving_s


def run_load(base: str, sid: int, *, sessions: int = 10, seconds: float = 60, paths: int = 100, timeout_s: float = 30,
             chromium: str = CHROMIUM, chromium_args: list[str] | None = None) -> dict:
    """Drive `sessions` concurrent sessions against the server at `base` (its process session `sid`);
    the figures and each session's end state (asyncio in its own thread, so it runs under pytest too)."""
    out: dict = {}
    marks: dict = {}

    def target() -> None:
        try:
            out["value"] = asyncio.run(_drive(base, sessions, seconds, paths, timeout_s, chromium,
                                              chromium_args or CHROMIUM_ARGS, marks))
        except BaseException as err:
            out["error"] = err

    started = time.monotonic()
    load_before = os.getloadavg()[0]
    with RssSampler(sid) as rss:
        thread = threading.Thread(target=target)
        thread.start()
        thread.join(seconds + timeout_s * 6 + 120)  # a hard bound on the whole run
    if thread.is_alive():
        raise TimeoutError("the load run did not finish within its hard bound")
    if "error" in out:
        raise out["error"]
    reports, moving_s = out["value"]
    t_open, t_end = (t - started for t in marks.get("moving", (started, started)))

    def cpu_at(t: float) -> float:
        return next((c for s, c in rss.cpu if s >= t), rss.cpu[-1][1] if rss.cpu else 0.0)

    cpu = {"opening": round(cpu_at(t_open) - cpu_at(0), 1), "opening_wall": round(t_open, 1),
           "moving": round(cpu_at(t_end) - cpu_at(t_open), 1), "moving_wall": round(t_end - t_open, 1)}
    latencies = sorted(x for r in reports for x in r.latencies_ms)

    def pct(q: float) -> float | None:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1) if latencies else None

    return {
        "what": ("concurrent browser sessions (pages of one headless Chromium), each from its own link "
                 f"(seed=i, sc=march_2020, n={paths}, r0=status_quo, r1={EDITED}) moving its own lever of "
                 f"{EDITED} with the arrow keys; update time = keydown to the table's {EDITED} column changing"),
        "sessions": sessions,
        "paths": paths,
        "moving_seconds_target": seconds,
        "moving_seconds": round(moving_s, 1),
        "wall_seconds": round(time.monotonic() - started, 1),
        "moves": sum(r.moves for r in reports),
        "errors": sum(len(r.errors) for r in reports),
        "error_messages": [f"session {r.index}: {e}" for r in reports for e in r.errors][:50],
        "update_ms": {"p50": pct(0.50), "p95": pct(0.95), "max": latencies[-1] if latencies else None,
                      "mean": round(statistics.fmean(latencies), 1) if latencies else None},
        "open_s": {"median": round(statistics.median(r.open_s for r in reports), 2),
                   "max": max(r.open_s for r in reports)},
        "server_cpu_s": cpu,
        "machine": {"cpus": os.cpu_count(), "loadavg_1m_before": round(load_before, 2),
                    "loadavg_1m_after": round(os.getloadavg()[0], 2)},
        "server_rss_mb": {"peak": rss.peak_mb, "first": rss.samples[0][1] if rss.samples else None,
                          "last": rss.samples[-1][1] if rss.samples else None, "samples": len(rss.samples),
                          "every_s": rss.every},
        "per_session": [
            {"index": r.index, "seed": r.seed, "lever": r.lever, "moves": r.moves, "open_s": r.open_s,
             "final_value": r.value, "entry_value": r.entry_value, "url": r.url_search,
             "p50_ms": round(statistics.median(r.latencies_ms), 1) if r.latencies_ms else None,
             "errors": r.errors}
            for r in reports
        ],
        "_reports": reports,
    }


def query(search: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(search).query or search.lstrip("?")).items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--paths", type=int, default=100)
    ap.add_argument("--timeout", type=float, default=30, help="per wait (s)")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "test-results" / "load_manual.json")
    args = ap.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    server = start_server(free_port(), args.out.with_suffix(".server.log"))
    try:
        report = run_load(server.url, server.pid, sessions=args.sessions, seconds=args.seconds, paths=args.paths,
                          timeout_s=args.timeout)
    finally:
        stop_server(server)
    report.pop("_reports")
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps({k: report[k] for k in ("sessions", "moves", "errors", "update_ms", "server_rss_mb", "server_cpu_s", "open_s",
                                             "moving_seconds", "wall_seconds")}, indent=2))
    for message in report["error_messages"]:
        print(message)


if __name__ == "__main__":
    main()
