"""The compiled day loop (engine/kernel.py) gives the numbers of the numpy channels (engine/channels/).

The numpy path is the readable specification; the kernel is its scalar transcription, run by
default. They must agree on every series, metric, flow and book to a tight tolerance, and on every
dysfunction and breakdown flag exactly, across scenarios, presets and the levers that switch code
paths (lag 0, leverage cap enforcement, the dealer rule, a haircut floor, severity, the 2y proxy).
"""

import ast
from functools import cache
from pathlib import Path

import numpy as np
import pytest

import engine
import policy

SQ = policy.get_preset("status_quo")
VARIANTS = (
    policy.with_changes(SQ, {"fed_backstop.lag_days": 0}, name="lag 0"),
    policy.with_changes(SQ, {"fed_backstop.lag_days": 3, "fed_backstop.persistence_pct": 0.0}, name="lag 3"),
    policy.with_changes(SQ, {"leverage_cap.enabled": True, "leverage_cap.max_gross_leverage_x": 10.0,
                             "leverage_cap.enforcement": "daily"}, name="cap daily"),
    policy.with_changes(SQ, {"leverage_cap.enabled": True, "leverage_cap.max_gross_leverage_x": 10.0,
                             "leverage_cap.enforcement": "averaged", "leverage_cap.averaging_window_days": 5},
                        name="cap averaged"),
    policy.with_changes(SQ, {"dealer_rule.enabled": True, "dealer_rule.covered_share_pct": 100.0,
                             "dealer_rule.net_capital_leverage_limit_x": 8.0}, name="dealer rule"),
    policy.with_changes(SQ, {"clearing.enabled": True, "clearing.haircut_floor_pct": 5.0,
                             "clearing.cross_margin_offset_pct": 50.0}, name="floor 5"),
)
REGIMES = (*policy.preset_names(), *VARIANTS)


@cache
def both(scenario: str, shock_scale: float = 1.0, fundamental_mode: str | None = None) -> tuple[engine.Result, engine.Result]:
    kw = {"paths": 150, "seed": 3, "shock_scale": shock_scale, "fundamental_mode": fundamental_mode}
    return (
        engine.simulate(scenario, list(REGIMES), kernel="compiled", **kw),
        engine.simulate(scenario, list(REGIMES), kernel="numpy", **kw),
    )


def assert_same(a: engine.Result, b: engine.Result) -> None:
    for name in b.series:
        np.testing.assert_allclose(a.series[name], b.series[name], rtol=1e-9, atol=1e-9, err_msg=name)
    for name in b.metrics:
        np.testing.assert_allclose(a.metrics[name], b.metrics[name], rtol=1e-9, atol=1e-9, err_msg=name)
    for sector in b.net_purchases_usd_bn:
        np.testing.assert_allclose(a.net_purchases_usd_bn[sector], b.net_purchases_usd_bn[sector], rtol=1e-9, atol=1e-8)
    for book in b.sales_by_book_usd_bn:
        np.testing.assert_allclose(a.sales_by_book_usd_bn[book], b.sales_by_book_usd_bn[book], rtol=1e-9, atol=1e-8)
    np.testing.assert_array_equal(a.dysfunction, b.dysfunction)
    np.testing.assert_array_equal(a.breakdown, b.breakdown)


@pytest.mark.parametrize("scenario", engine.scenario_names())
def test_compiled_and_numpy_agree_on_every_scenario_and_regime(scenario: str) -> None:
    assert_same(*both(scenario))


@pytest.mark.parametrize("shock_scale", [0.0, 2.5])
def test_compiled_and_numpy_agree_at_other_severities(shock_scale: float) -> None:
    assert_same(*both("march_2020", shock_scale))


def test_compiled_and_numpy_agree_with_the_2y_proxy() -> None:
    assert_same(*both("april_2025", 1.0, "proxy_beta"))


def test_the_kernel_is_the_only_place_that_loops_over_paths_and_it_is_compiled() -> None:
    path = Path(engine.__file__).with_name("kernel.py")
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            decorators = {ast.unparse(d).split("(")[0] for d in node.decorator_list}
            assert "njit" in decorators, f"{node.name} is not compiled"


def test_an_unknown_kernel_is_refused() -> None:
    with pytest.raises(engine.InputError, match="kernel"):
        engine.simulate("march_2020", paths=10, kernel="fortran")  # type: ignore[arg-type]


@pytest.mark.parametrize("scenario", ["march_2020", "april_2025", "foreign_selloff_2026"])
def test_lanes_kernel_gives_the_scalar_kernels_bits(scenario: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Summary-only runs go through engine/kernel_lanes.py (paths in SIMD lanes): the same IEEE operations
    in the same order as stress_kernel(store=False), so every summary row is bit-identical, including a
    final partial block of lanes (203 paths: 3 blocks of 64 and 11 paths)."""
    import engine.kernel_lanes as kernel_lanes
    from engine.kernel import stress_kernel

    calls = []
    lanes = kernel_lanes.stress_kernel_lanes
    monkeypatch.setattr(kernel_lanes, "stress_kernel_lanes", lambda *a: calls.append(a) or lanes(*a))
    regimes = ["status_quo", "clearing_rule", "dealer_rule", "leverage_cap", "all_guardrails"]
    engine.simulate(scenario, regimes, paths=203, seed=5, histories=False)
    (args,) = calls
    inputs, sales, summary = args[:-2], args[-2], args[-1]
    sales_scalar, summary_scalar = np.zeros_like(sales), np.zeros_like(summary)
    empty = np.zeros((0, 0, 0))
    stress_kernel(*inputs, False, *([empty] * 16), sales_scalar, summary_scalar)
    np.testing.assert_array_equal(sales, sales_scalar)
    np.testing.assert_array_equal(summary, summary_scalar)
