"""Shared pytest fixtures."""

# ---- app / browser fixtures (issue 3) ----------------------------------------------------------
import os as _os
import signal as _signal
import socket as _socket
import subprocess as _subprocess
import sys as _sys
import time as _time
import urllib.request as _urlreq
from pathlib import Path as _Path

import pytest as _pytest

REPO_ROOT = _Path(__file__).resolve().parents[1]
_sys.path.insert(0, str(REPO_ROOT / "tools"))  # the Chromium settings shared with tools/load_test.py
from chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


@_pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright: use Debian's Chromium (never `playwright install`)."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def _free_port() -> int:
    with _socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@_pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory):
    """`streamlit run streamlit_app.py` on a free loopback port; yields its base URL."""
    port = int(_os.environ.get("E2E_PORT") or _free_port())
    url = f"http://127.0.0.1:{port}"
    try:
        _urlreq.urlopen(url + "/_stcore/health", timeout=1)
        _pytest.fail(f"port {port} already answers: a stale server?")
    except OSError:
        pass
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed at teardown
    proc = _subprocess.Popen(
        [
            _sys.executable,
            "-m",
            "streamlit",
            "run",
            "streamlit_app.py",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
        ],
        cwd=REPO_ROOT,
        stdin=_subprocess.DEVNULL,
        stdout=log,
        stderr=_subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = _time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            _pytest.fail(f"streamlit exited early:\n{log_path.read_text()}")
        try:
            with _urlreq.urlopen(url + "/_stcore/health", timeout=1) as r:
                if r.read().decode().strip() == "ok":
                    break
        except OSError:
            pass
        if _time.monotonic() > deadline:
            _pytest.fail("streamlit did not become healthy in 60 s")
        _time.sleep(0.2)
    yield url
    _os.killpg(proc.pid, _signal.SIGTERM)
    try:
        proc.wait(10)
    except _subprocess.TimeoutExpired:
        _os.killpg(proc.pid, _signal.SIGKILL)
    log.close()


@_pytest.fixture(autouse=True)
def _show_app_errors_in_tests():
    """The app hides error details from users (.streamlit/config.toml); AppTest failures should show them."""
    from streamlit import config

    config.set_option("client.showErrorDetails", "full")
    yield
