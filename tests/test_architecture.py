"""Who may import whom (ARCHITECTURE.md): the model knows nothing of the app or the charts."""

import ast
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


def test_no_python_loop_over_paths_in_the_dynamics():
    source = (ROOT / "engine" / "dynamics.py").read_text()
    loops = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.For)]
    # The only loops: over days, and over the exogenous sectors when writing flows.
    targets = sorted(ast.unparse(n.iter) for n in loops)
    assert targets == ["EXOGENOUS_SECTORS", "range(1, t_len)"], targets
