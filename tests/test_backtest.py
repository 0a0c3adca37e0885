"""Backtest: the model reproduces both episodes within the bands of issue 2 (April out of sample)."""

import numpy as np
import pytest

from engine.backtest import backtest


@pytest.fixture(scope="module")
def table():
    return backtest(paths=2000, seed=0).table()


def test_every_target_within_band(table):
    bad = table[~table["within_band"]]
    assert bad.empty, bad[["episode", "metric", "history", "model_p50", "band_low", "band_high"]].to_string()


def test_model_band_contains_history_for_yields(table):
    rows = table[table["metric"] == "peak_10y_yield_change_bp"]
    assert (rows["model_p5"] <= rows["history"]).all() and (rows["history"] <= rows["model_p95"]).all()


def test_march_2020_breaks_down_more_than_april_2025(table):
    depth = table[table["metric"] == "trough_market_depth_usd_mn"].set_index("episode")["model_p50"]
    assert depth["march_2020"] < depth["april_2025"]


def test_paths_frame_aligns_model_and_history():
    frame = backtest(paths=50, seed=1).paths_frame()
    march = frame[frame["episode"] == "march_2020"].set_index("date")
    assert march["observed_10y_change_bp"].iloc[0] == 0.0
    assert np.isclose(march.loc["2020-03-18", "observed_10y_change_bp"], 64.0)
