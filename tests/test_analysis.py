"""The analyses of engine/analysis.py on the real engine (no mocks): frontier, tornado, Shapley
attribution, amplification, robustness, expected cost and the stress-test grid."""

import numpy as np
import pandas as pd
import pytest

from engine import InputError, scenario_names, simulate
from engine.analysis import (
    amplification,
    attribution,
    expected_cost,
    frontier,
    latin_hypercube,
    robustness,
    shapley_values,
    stress_test_grid,
    tornado,
)
from engine.study import parse_study
from engine.sweep import run_study
from policy import get_preset, with_changes

PEAK = "peak_10y_yield_change_bp"


# ---------------------------------------------------------------- frontier


def test_frontier_marks_the_pareto_set_with_ties():
    wide = pd.DataFrame(
        {
            "regime": ["a", "b", "c", "d", "e", "f"],
            "calm_yield_cost_bp": [0.0, 1.0, 1.0, 2.0, 3.0, 1.0],
            PEAK: [50.0, 40.0, 40.0, 45.0, 20.0, 41.0],
        }
    )
    out = frontier(wide).set_index("regime")
    # a (cheapest), b and c (tied: equal points do not dominate each other), e (lowest stress).
    assert set(out.index[out["efficient"]]) == {"a", "b", "c", "e"}
    assert out.loc["d", "dominated_by"] in {"b", "c"}
    assert out.loc["f", "dominated_by"] in {"b", "c"}
    assert pd.isna(out.loc["a", "dominated_by"])


def test_frontier_reads_the_long_sweep_format_and_higher_is_better_outcomes():
    long = pd.DataFrame(
        {
            "regime": ["a", "a", "b", "b", "c", "c"],
            "metric": ["calm_yield_cost_bp", "trough_market_depth_usd_mn"] * 3,
            "p50": [0.0, 30.0, 1.0, 60.0, 2.0, 50.0],
        }
    )
    out = frontier(long, outcome="trough_market_depth_usd_mn").set_index("regime")
    # Depth is better high: c costs more than b and has less depth.
    assert out["efficient"].to_dict() == {"a": True, "b": True, "c": False}
    with pytest.raises(InputError, match="no column"):
        frontier(long, outcome="forced_sales_usd_bn")


def test_frontier_and_expected_cost_read_a_real_sweep():
    study = parse_study({
        "name": "frontier", "scenarios": ["march_2020"], "base": "status_quo", "paths": 60, "seed": 0,
        "metrics": ["calm_yield_cost_bp", PEAK, "calm_interest_cost_usd_bn_per_year",
                    "dysfunction_probability_pct", "broken_market_probability_pct"],
        "factors": [{"name": "leverage_cap.max_gross_leverage_x", "values": [5.0, 10.0, 20.0]},
                    {"name": "leverage_cap.enabled", "values": [True]}],
    })
    sweep = run_study(study)
    out = frontier(sweep)
    assert len(out) == sweep["regime"].nunique() == 4
    # status_quo costs nothing in calm markets (the cost is measured against it): never dominated.
    assert bool(out.set_index("regime").loc["status_quo", "efficient"])
    for _, row in out[~out["efficient"]].iterrows():
        winner = out.set_index("regime").loc[row["dominated_by"]]
        assert winner["calm_yield_cost_bp"] <= row["calm_yield_cost_bp"] and winner[PEAK] <= row[PEAK]
    cost = expected_cost(sweep, episode_probability_per_year=0.1)
    assert set(cost["regime"]) == set(sweep["regime"])


# ---------------------------------------------------------------- tornado


@pytest.fixture(scope="module")
def tornado_frame():
    return tornado(
        "march_2020",
        "status_quo",
        PEAK,
        levers=["fed_backstop.enabled", "fed_backstop.threshold_bp", "clearing.haircut_floor_pct", "leverage_cap.enforcement"],
        assumptions=["volatility_feedback"],
        paths=200,
    )


def test_tornado_ranks_by_swing(tornado_frame):
    t = tornado_frame
    assert list(t["rank"]) == list(range(1, len(t) + 1))
    assert (np.diff(t["swing"].to_numpy()) <= 0).all()
    assert np.allclose(t["swing"], (t["high_effect"] - t["low_effect"]).abs())
    assert set(t["kind"]) == {"lever", "assumption"}


def test_tornado_lever_at_its_base_value_has_no_effect(tornado_frame):
    row = tornado_frame.set_index("name").loc["fed_backstop.enabled"]
    assert bool(row["base_setting"])
    assert row["high_effect"] == 0.0  # on = the base: the same regime on the same draws
    assert row["low_effect"] > 0.0  # without the backstop the peak is higher


def test_tornado_evaluates_sub_settings_of_an_off_rule_with_it_on(tornado_frame):
    row = tornado_frame.set_index("name").loc["clearing.haircut_floor_pct"]
    assert "clearing.enabled on" in row["note"]
    choice = tornado_frame.set_index("name").loc["leverage_cap.enforcement"]
    assert choice["low_effect"] <= choice["high_effect"]


# ---------------------------------------------------------------- attribution


@pytest.fixture(scope="module")
def guardrails_attribution():
    return attribution("march_2020", "all_guardrails", "as_of_march_2020", paths=200)


def test_shapley_sums_to_the_total_on_every_path(guardrails_attribution):
    a = guardrails_attribution
    per_path = a.attrs["per_path_shapley"]
    total = a.attrs["per_path_total"]
    assert len(per_path) >= 3
    assert np.allclose(sum(per_path.values()), total, atol=1e-9, rtol=0.0)
    assert a.attrs["efficiency_max_abs_error"] < 1e-9
    # The total is the paired difference the engine gives for the two regimes themselves.
    direct = simulate("march_2020", ["all_guardrails", "as_of_march_2020"], paths=200, seed=0)
    diff = direct.metrics[PEAK][0] - direct.metrics[PEAK][1]
    assert np.allclose(total, diff, atol=1e-9, rtol=0.0)
    # Interaction = total - sum of one-at-a-time, per path, so its mean adds up too.
    rows = a.set_index("component")
    channels = rows[rows["kind"] == "channel"]
    assert rows.loc["total", "shapley_mean"] == pytest.approx(
        channels["alone_mean"].sum() + rows.loc["interaction", "shapley_mean"], abs=1e-9
    )


def test_shapley_is_symmetric_for_identical_channels():
    a = attribution(
        "march_2020", "no_fed_backstop", "status_quo",
        channels={"backstop": ["fed_backstop"], "same backstop": ["fed_backstop.enabled"]}, paths=100,
    )
    phi = a.attrs["per_path_shapley"]
    assert np.allclose(phi["backstop"], phi["same backstop"], atol=1e-12)
    assert np.allclose(phi["backstop"], a.attrs["per_path_total"] / 2.0, atol=1e-9)
    assert (a.attrs["per_path_total"] != 0).any()


def test_shapley_values_of_a_hand_made_game():
    # v(S) over 2 players: v0 = 0, v1 = 1, v2 = 2, v12 = 5 (interaction 2, split equally).
    values = np.array([[0.0], [1.0], [2.0], [5.0]])
    assert np.allclose(shapley_values(values)[:, 0], [2.0, 3.0])


def test_a_regime_equal_to_the_baseline_gets_zero_attribution():
    same = with_changes(get_preset("status_quo"), {}, name="copy_of_status_quo")
    a = attribution("march_2020", same, "status_quo", paths=50)
    assert list(a["kind"]) == ["interaction", "total"]
    assert (a.filter(like="shapley_").to_numpy() == 0.0).all()


def test_attribution_refuses_more_than_six_channels():
    seven = with_changes(
        get_preset("all_guardrails"),
        {
            "leverage_ratio_relief.enabled": False,
            "standing_repo.enabled": False,
            "fed_backstop.enabled": False,
            "futures_margin.anti_procyclicality_pct": 50.0,
            "foreign_demand.calm_shift_usd_bn": -100.0,
        },
        name="seven",
    )
    with pytest.raises(InputError, match="at most 6"):
        attribution("march_2020", seven, "status_quo", paths=20)


# ---------------------------------------------------------------- amplification


def test_amplification_waterfall_adds_up_from_the_fundamental_path():
    amp = amplification("march_2020", "status_quo", paths=200)
    full = simulate("march_2020", ["status_quo"], paths=200, seed=0)
    for metric, group in amp.groupby("metric"):
        steps = group[group["component"] != "amplification total"].sort_values("step")
        total = group[group["component"] == "amplification total"].iloc[0]
        assert steps["increment_mean"].iloc[1:].sum() == pytest.approx(total["increment_mean"], abs=1e-9)
        assert total["level_p50"] == pytest.approx(float(np.median(full.metrics[metric][0])))
        # Shares of the full change from before the shock add up to 100%.
        assert steps["share_of_change_pct"].sum() == pytest.approx(100.0, abs=1e-6)
    peak = amp[(amp["metric"] == PEAK) & (amp["step"] == 0)].iloc[0]
    assert peak["level_p50"] == pytest.approx(float(np.median(full.series["fundamental_10y_change_bp"][0].max(axis=-1))))
    sales = amp[(amp["metric"] == "forced_sales_usd_bn") & (amp["step"] == 0)].iloc[0]
    assert sales["level_p50"] == 0.0
    # March 2020 is mostly amplification: the full peak is well above the fundamental path.
    total_peak = amp[(amp["metric"] == PEAK) & (amp["component"] == "amplification total")].iloc[0]
    assert total_peak["increment_p50"] > 10.0


# ---------------------------------------------------------------- robustness


def test_robustness_of_a_strictly_better_regime_is_one():
    out = robustness(
        "march_2020", "all_guardrails", "no_fed_backstop", PEAK,
        assumptions=["volatility_feedback", "dislocation_slope_bp", "fundamental_share"], samples=4, paths=100,
    )
    assert out["path_share"] == 1.0
    assert out["space_share"] == 1.0 and out["corner_share"] == 1.0 and out["lhs_share"] == 1.0
    points = out["points"]
    assert list(points["kind"]).count("corner") == 8 and list(points["kind"]).count("lhs") == 4


def test_robustness_shares_are_shares():
    out = robustness(
        "april_2025", "clearing_rule", "status_quo", "forced_sales_usd_bn",
        assumptions=["volatility_feedback"], samples=3, paths=60,
    )
    for key in ("path_share", "space_share", "keeps_sign_share", "corner_share", "lhs_share"):
        assert 0.0 <= out[key] <= 1.0


def test_latin_hypercube_puts_one_point_in_each_stratum():
    unit = latin_hypercube(8, 3, np.random.default_rng(1))
    assert unit.shape == (8, 3)
    for column in unit.T:
        assert sorted(np.floor(column * 8).astype(int)) == list(range(8))


# ---------------------------------------------------------------- expected cost


def test_expected_cost_arithmetic():
    frame = pd.DataFrame(
        {
            "regime": ["status_quo", "reform"],
            "calm_interest_cost_usd_bn_per_year": [0.0, 5.0],
            "dysfunction_probability_pct": [40.0, 10.0],
            "broken_market_probability_pct": [10.0, 0.0],
        }
    )
    apart = expected_cost(frame, episode_probability_per_year=0.1)
    assert "expected_stress_loss_usd_bn_per_year" not in apart.columns
    assert apart["annual_dysfunction_probability_pct"].tolist() == pytest.approx([4.0, 1.0])
    assert apart["annual_breakdown_probability_pct"].tolist() == pytest.approx([1.0, 0.0])
    out = expected_cost(frame, episode_probability_per_year=0.1, loss_per_episode_usd_bn=200.0, breakdown_extra_loss_usd_bn=1000.0)
    # 0.1 x (0.4 x 200 + 0.1 x 1000) = 18; 0.1 x (0.1 x 200) = 2, plus the calm cost 5.
    assert out["expected_stress_loss_usd_bn_per_year"].tolist() == pytest.approx([18.0, 2.0])
    assert out["expected_total_cost_usd_bn_per_year"].tolist() == pytest.approx([18.0, 7.0])
    with pytest.raises(InputError, match="episode_probability_per_year"):
        expected_cost(frame, episode_probability_per_year=2.0)


def test_expected_cost_from_a_result():
    result = simulate("march_2020", ["status_quo", "no_fed_backstop"], paths=100, seed=0)
    out = expected_cost(result, episode_probability_per_year=0.05, loss_per_episode_usd_bn=100.0).set_index("regime")
    assert out.loc["no_fed_backstop", "broken_market_probability_pct"] == pytest.approx(
        float(result.probability("broken_market_probability_pct")[1])
    )
    assert (out["dysfunction_probability_pct"] >= out["broken_market_probability_pct"]).all()


# ---------------------------------------------------------------- stress-test grid


def test_stress_test_grid_covers_every_scenario():
    grid = stress_test_grid("all_guardrails", paths=40)
    assert set(grid["scenario"]) == set(scenario_names())
    assert grid.groupby("scenario").size().nunique() == 1
    row = grid[(grid["scenario"] == "march_2020") & (grid["metric"] == "calm_interest_cost_usd_bn_per_year")].iloc[0]
    assert row["baseline_p50"] == 0.0 and row["regime_p50"] > 0.0
    same = stress_test_grid("status_quo", scenarios=["april_2025"], paths=20)
    assert (same[["diff_p5", "diff_p50", "diff_p95"]].to_numpy() == 0.0).all()
