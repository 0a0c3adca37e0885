"""Paired differences and tail probabilities: what the cards, the pack and the CLI report."""

import json

import numpy as np
import pytest

import engine
import policy
from engine.cli import main
from engine.metrics import EXCEEDANCES, PROBABILITY_METRICS


@pytest.fixture(scope="module")
def result():
    regimes = [policy.get_preset(p) for p in ("status_quo", "all_guardrails", "no_fed_backstop")]
    return engine.simulate("march_2020", regimes, paths=300, seed=3)


def test_paired_difference_is_the_median_of_path_by_path_differences(result):
    a = result.metrics["peak_10y_yield_change_bp"][1]
    b = result.metrics["peak_10y_yield_change_bp"][0]
    d = result.difference("peak_10y_yield_change_bp", "all_guardrails", "status_quo")
    assert d["p50"] == pytest.approx(float(np.median(a - b)))
    assert d["p5"] <= d["p50"] <= d["p95"]
    # The change in medians is a different number: the app must not show it as the difference.
    assert float(np.median(a) - np.median(b)) != pytest.approx(d["p50"], abs=1e-9)


@pytest.mark.parametrize("name", [*PROBABILITY_METRICS, *EXCEEDANCES])
def test_a_regime_against_itself_differs_by_exactly_zero(result, name):
    assert result.difference(name, "status_quo", "status_quo") == {"p5": 0.0, "p50": 0.0, "p95": 0.0}


def test_exceedance_counts_paths_past_the_threshold(result):
    spec = EXCEEDANCES["p_peak_10y_above_100bp_pct"]
    peak = result.metrics[spec.metric]
    expected = 100.0 * (peak > spec.threshold).mean(axis=1)
    assert np.allclose(result.probability("p_peak_10y_above_100bp_pct"), expected)
    depth = EXCEEDANCES["p_depth_below_march_2020_low_pct"]
    assert np.allclose(
        result.probability("p_depth_below_march_2020_low_pct"),
        100.0 * (result.metrics[depth.metric] < depth.threshold).mean(axis=1),
    )
    # Without the Fed backstop the tail is fatter than under today's rules.
    p = result.probability("p_peak_10y_above_100bp_pct")
    assert p[2] > p[0]


def test_probability_difference_interval_brackets_the_difference(result):
    d = result.difference("broken_market_probability_pct", "no_fed_backstop", "status_quo")
    direct = result.probability("broken_market_probability_pct")
    assert d["p50"] == pytest.approx(direct[2] - direct[0])
    assert d["p5"] <= d["p50"] <= d["p95"] and d["p95"] - d["p5"] > 0
    # reproducible: the bootstrap is seeded by the run's seed
    assert result.difference("broken_market_probability_pct", "no_fed_backstop", "status_quo") == d


def test_cli_json_carries_paired_differences_against_the_chosen_baseline(capsys):
    code = main(["run", "--scenario", "april_2025", "--regime", "status_quo", "--regime", "clearing_rule",
                 "--paths", "60", "--baseline", "clearing_rule", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["schema_version"] == 3 and out["baseline"] == "clearing_rule"
    assert "differences" not in out["regimes"]["clearing_rule"]
    diff = out["regimes"]["status_quo"]["differences"]
    check = engine.simulate("april_2025", ["status_quo", "clearing_rule"], paths=60, seed=0)
    assert diff["forced_sales_usd_bn"] == check.paired_difference("forced_sales_usd_bn", "status_quo", "clearing_rule")
    assert set(out["regimes"]["status_quo"]["exceedance_pct"]) == set(EXCEEDANCES)


def test_cli_table_prints_the_paired_block(capsys):
    code = main(["run", "--scenario", "april_2025", "--regime", "status_quo", "--regime", "clearing_rule",
                 "--paths", "40"])
    out = capsys.readouterr().out
    assert code == 0 and "Difference to status_quo, path by path" in out and "p_peak_10y_above_100bp_pct" in out
