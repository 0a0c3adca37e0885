"""Backtest: the model against history for March 2020 (tuned), April 2025 and two placebos (tests).

Rows outside their band are the known misses listed in KNOWN_MISSES (and in the README and the
methodology page). A row that starts to miss fails; a known miss that starts to pass fails too, so
the list and the documents are updated together.
"""

import numpy as np
import pytest

from engine.backtest import EPISODES, backtest, compare_fundamental_modes

# (episode, metric): why it misses (measured at 2,000 paths, seed 0).
KNOWN_MISSES: dict[tuple[str, str], str] = {
    ("march_2020", "mean_10y_change_bp"): "dislocation fades too fast after the Fed's $75bn a day: ~12bp vs 28",
    ("april_2025", "peak_long_dislocation_bp"): "the long end cheapens ~20bp against swaps vs 4.5-7bp",
    ("april_2025", "fed_rule_purchases_usd_bn"): "the rule buys on ~6% of April paths (mean ~$16bn) vs none",
    ("repo_spike_2019", "dysfunction_probability_pct"): "~13% of paths dysfunctional vs little",
}


@pytest.fixture(scope="module")
def result():
    return backtest(paths=2000, seed=0)


@pytest.fixture(scope="module")
def table(result):
    return result.table()


def test_every_target_within_band_except_the_known_misses(table):
    missed = {(r.episode, r.metric) for r in table.itertuples() if not r.within_band}
    assert missed - set(KNOWN_MISSES) == set(), table[~table["within_band"]][["episode", "metric", "model"]].to_string()
    assert set(KNOWN_MISSES) - missed == set(), "a known miss now passes: update KNOWN_MISSES, the README and the methodology"


def test_every_episode_and_kind_is_scored(table):
    assert set(table["episode"]) == set(EPISODES)
    assert set(table[table["episode"] == "march_2020"]["role"]) == {"tuned"}
    assert set(table[table["episode"] != "march_2020"]["role"]) == {"test"}
    assert set(table["kind"]) == {"output", "partly inherited"}
    assert table["source"].str.len().min() > 10


def test_the_yield_band_contains_history(table):
    rows = table[table["metric"] == "peak_10y_yield_change_bp"]
    assert (rows["model_p5"] <= rows["history"]).all() and (rows["history"] <= rows["model_p95"]).all()


def test_march_2020_is_far_more_stressed_than_april_2025_and_the_placebos(table):
    by = table.set_index(["episode", "metric"])["model"]
    assert by["march_2020", "trough_market_depth_usd_mn"] < by["april_2025", "trough_market_depth_usd_mn"]
    assert by["march_2020", "dysfunction_probability_pct"] > 3 * by["april_2025", "dysfunction_probability_pct"]
    for placebo in ("repo_spike_2019", "term_premium_2023"):
        assert by[placebo, "forced_sales_usd_bn"] < 0.5 * by["march_2020", "forced_sales_usd_bn"]


def test_the_trades_unwind_the_right_way_round(table):
    """March 2020: the basis book unwinds most; April 2025: the swap-spread book, the basis less than half."""
    by = table.set_index(["episode", "metric"])["model"]
    assert by["march_2020", "basis_share_of_basis_and_swap_sales"] > 0.5
    assert 30.0 <= by["april_2025", "sales_swap_spread_usd_bn"] <= 120.0
    assert by["april_2025", "basis_to_swap_sales_ratio"] < 0.5


def test_paths_frame_aligns_model_and_history(result):
    frame = result.paths_frame()
    march = frame[frame["episode"] == "march_2020"].set_index("date")
    assert march["observed_10y_change_bp"].iloc[0] == 0.0
    assert np.isclose(march.loc["2020-03-18", "observed_10y_change_bp"], 64.0)
    assert (march["model_p5"] <= march["model_p50"]).all() and (march["model_p50"] <= march["model_p95"]).all()


def test_rmse_rows_match_the_paths_frame(result):
    rmse = result.rmse_frame()
    frame = result.paths_frame()
    march = frame[(frame["episode"] == "march_2020") & frame["day"].between(1, 16)]
    expected = float(np.sqrt(np.mean((march["model_p50"] - march["observed_10y_change_bp"]) ** 2)))
    got = rmse[(rmse["episode"] == "march_2020") & rmse["window"].str.contains("days 1-16")]["rmse_bp"].iloc[0]
    assert np.isclose(got, expected)


def test_inputs_table_names_a_source_for_every_input(result):
    inputs = result.inputs_table()
    assert set(inputs["episode"]) == set(EPISODES)
    assert inputs["source"].str.len().min() > 10
    assert (inputs["input"] == "fundamental path").sum() == len(EPISODES)


def test_the_2y_proxy_makes_the_10y_path_an_output_and_both_modes_are_reported():
    wide = compare_fundamental_modes(paths=300, seed=0)
    assert {"model_observed_share", "model_proxy_beta"} <= set(wide.columns)
    peak = wide[(wide["episode"] == "march_2020") & (wide["metric"] == "peak_10y_yield_change_bp")]
    assert peak["model_observed_share"].iloc[0] != peak["model_proxy_beta"].iloc[0]
    assert np.isfinite(wide[["model_observed_share", "model_proxy_beta"]].to_numpy(dtype=float)).all()


def test_the_2y_proxy_misses_a_term_premium_move():
    """The 2y rose 26bp while the 10y rose 101bp in Aug-Oct 2023: a 2y-based fundamental misses it."""
    from engine import simulate

    share = simulate("term_premium_2023", paths=100, fundamental_mode="observed_share")
    proxy = simulate("term_premium_2023", paths=100, fundamental_mode="proxy_beta")
    fundamental = "fundamental_10y_change_bp"
    assert np.median(proxy.series[fundamental][0].max(axis=-1)) < 0.5 * np.median(share.series[fundamental][0].max(axis=-1))
