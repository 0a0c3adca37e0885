"""Who may import whom (ARCHITECTURE.md): the model knows nothing of the app or the charts."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "policy": {"engine", "briefing", "ui", "streamlit", "altair", "numpy", "pandas"},
    "engine": {"briefing", "ui", "streamlit", "altair", "vl_convert"},
    "briefing": {"ui", "streamlit"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_it_may(package):
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_roots(path) & FORBIDDEN[package]
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


# The only Python loops the day loop and its channels may run (everything else is vectorized over
# regime x path), by what they iterate over: days (the day loop, the EWMA of funding stress), named
# tuples (sectors, books, segments), or the regimes (e.g. the trailing equity average of an averaged
# leverage cap, one window length per regime). Never paths.
DAY_LOOP_MODULES = ["engine/dynamics.py", *sorted(f"engine/channels/{p.name}" for p in (ROOT / "engine" / "channels").glob("*.py"))]
ALLOWED_ITERABLES = {
    "days": re.compile(r"^range\(1, (t_len|series\.shape\[-1\])\)$"),
    "named tuples": re.compile(r"^(enumerate\()?(EXOGENOUS_SECTORS|SECTORS|BOOKS|SEGMENTS)\)?$"),
    "regimes": re.compile(r"^(enumerate\()?(capped|regimes|rp\.names|rp\.cap_window_days\[:, 0\]|range\(len\(rp\.names\)\))\)?$"),
}


@pytest.mark.parametrize("module", DAY_LOOP_MODULES)
def test_no_python_loop_over_paths_in_the_dynamics(module):
    tree = ast.parse((ROOT / module).read_text())
    for node in ast.walk(tree):
        assert not isinstance(node, ast.While), f"{module}: a while loop"
        if isinstance(node, ast.For):
            iterable = ast.unparse(node.iter)
            kinds = [k for k, pattern in ALLOWED_ITERABLES.items() if pattern.match(iterable)]
            assert kinds, f"{module}:{node.lineno} loops over {iterable!r}: not days, sectors, books or regimes"


def test_the_day_loop_runs_over_days():
    tree = ast.parse((ROOT / "engine" / "dynamics.py").read_text())
    loops = [ast.unparse(n.iter) for n in ast.walk(tree) if isinstance(n, ast.For)]
    assert "range(1, t_len)" in loops


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "engine" / "channels").glob("*.py")), ids=lambda p: p.name)
def test_channels_see_only_the_state_and_the_transmission(path):
    """A channel reads the day's state and the rules' parameters; it never reaches back into the loop or the API."""
    allowed = {"numpy", "engine.state", "engine.transmission"}
    bad = {m for m in _imported_modules(path) if m not in allowed and not m.startswith("engine.channels")}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def _decorators(path: Path) -> list[tuple[str, ast.expr]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found += [(node.name, d) for d in node.decorator_list]
    return found


def test_every_cache_is_bounded_in_bytes():
    """The app's caches are engine.bytecache.ByteLRU (bounded in bytes, a share per session); no
    st.cache_data / st.cache_resource (bounded by entries, if at all); an lru_cache has a maxsize
    (its comment states the bytes that bounds) and a bare functools.cache only takes fixed inputs."""
    packages = ("ui", "briefing", "engine", "policy")
    sources = [ROOT / "streamlit_app.py", *sorted(p for d in packages for p in (ROOT / d).rglob("*.py"))]
    unbounded_allowed = {  # @cache on inputs from a fixed, shipped set (eras, bundled files, the spec)
        "load_calibration", "_trading_day", "_bundled", "_font_cmap", "_history_targets", "_all_specs",
    }
    for path in sources:
        for name, deco in _decorators(path):
            assert not (isinstance(deco, ast.Attribute) and deco.attr.startswith("cache_")), f"{path}:{name}"
            assert not (isinstance(deco, ast.Call) and getattr(deco.func, "attr", "").startswith("cache_")), f"{path}:{name}"
            if isinstance(deco, ast.Call) and getattr(deco.func, "id", "") == "lru_cache":
                size = {k.arg: k.value for k in deco.keywords}.get("maxsize")
                assert isinstance(size, ast.Constant) and isinstance(size.value, int), f"{path}:{name}"
            elif getattr(deco, "id", "") == "cache":
                assert name in unbounded_allowed, f"{path}:{name}: functools.cache on open inputs"
