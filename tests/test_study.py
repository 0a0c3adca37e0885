"""Study files: points as declared (grid, LHS strata, Sobol range), and one-line errors naming the field."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.analysis import tornado, tornado_from_sweep
from engine.errors import InputError
from engine.study import (
    factor_kind,
    factor_range,
    load_study,
    one_at_a_time_plan,
    parse_study,
    study_points,
    unit_points,
)
from engine.sweep import run_study
from policy import get_preset, lever_specs, regime_value

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ROOT / "scenarios" / "studies"


def _study(**fields):
    base = {"name": "t", "scenarios": ["march_2020"], "base": "all_guardrails"}
    return parse_study(base | fields)


def test_grid_size_and_values_as_declared():
    study = _study(factors=[
        {"name": "leverage_cap.max_gross_leverage_x", "low": 10, "high": 40, "levels": 4},
        {"name": "clearing.haircut_floor_pct", "values": [0.0, 1.5, 3.0]},
        {"name": "dislocation_slope_bp", "levels": 2},
    ])
    points = study_points(study)
    assert len(points) == 4 * 3 * 2
    assert sorted({p["leverage_cap.max_gross_leverage_x"] for p in points}) == [10.0, 20.0, 30.0, 40.0]
    assert sorted({p["clearing.haircut_floor_pct"] for p in points}) == [0.0, 1.5, 3.0]
    # An assumption's default range is its calibrated low to high.
    assert sorted({p["dislocation_slope_bp"] for p in points}) == [2.0, 4.5]
    assert len({tuple(p.values()) for p in points}) == len(points)


def test_shipped_policy_map_is_the_400_regime_grid():
    study = load_study(STUDIES / "policy_map.toml")
    points = study_points(study)
    assert len(points) == 400 and study.paths == 500
    assert set(study.scenarios) == {"march_2020", "foreign_selloff_2026"}
    assert sorted({p["clearing.haircut_floor_pct"] for p in points}) == [0.25 * k for k in range(20)]
    assert sorted({p["leverage_cap.max_gross_leverage_x"] for p in points}) == [5.0 + 2 * k for k in range(20)]


def test_shipped_lhs_study_crosses_lever_settings_with_the_hypercube():
    study = load_study(STUDIES / "lhs_assumptions.toml")
    points = study_points(study)
    assert len(points) == 2 * 16
    assert {p["leverage_cap.enabled"] for p in points} == {False, True}


@pytest.mark.parametrize("n,k", [(7, 3), (20, 4), (1, 2)])
def test_lhs_hits_each_stratum_once_per_factor(n, k):
    unit = unit_points("lhs", n, k, seed=3)
    assert unit.shape == (n, k) and ((unit >= 0) & (unit < 1)).all()
    for column in unit.T:
        assert sorted(np.floor(column * n).astype(int)) == list(range(n))


def test_lhs_points_scaled_keep_their_strata():
    study = _study(design="lhs", samples=12, factors=[{"name": "dislocation_slope_bp"}, {"name": "rv_basis_usd_bn"}])
    points = study_points(study)
    assert len(points) == 12
    for factor in study.factors:
        low, high = factor_range(study, factor)
        strata = np.floor((np.array([p[factor.name] for p in points]) - low) / (high - low) * 12).astype(int)
        assert sorted(np.minimum(strata, 11)) == list(range(12))


def test_sobol_points_in_range_and_levers_snapped():
    study = _study(design="sobol", samples=32, factors=[
        {"name": "clearing.haircut_floor_pct", "low": 0.5, "high": 4.0},
        {"name": "leverage_cap.averaging_window_days"},
        {"name": "fundamental_share", "low": 0.1, "high": 0.3},
    ])
    points = study_points(study)
    assert len(points) == 32
    floors = np.array([p["clearing.haircut_floor_pct"] for p in points])
    assert ((floors >= 0.5) & (floors <= 4.0)).all()
    assert np.allclose(floors / 0.25, np.round(floors / 0.25)), "the 0.25pp step"
    windows = [p["leverage_cap.averaging_window_days"] for p in points]
    assert all(isinstance(w, int) and 2 <= w <= 60 for w in windows)
    shares = np.array([p["fundamental_share"] for p in points])
    assert ((shares >= 0.1) & (shares <= 0.3)).all() and len(set(shares)) == 32
    assert study_points(study) == points, "seeded: the same points every time"


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"factors": [{"name": "leverage_cap.max_leverage_x"}]}, "factors.0.name"),
        ({"factors": [{"name": "clearing.haircut_floor_pct", "high": 12.0}]}, "factors.0.high"),
        ({"factors": [{"name": "dislocation_slope_bp", "low": 0.5}]}, "factors.0.low"),
        ({"factors": [{"name": "clearing.haircut_floor_pct", "values": [1.0, 11.0]}]}, "factors.0.values.1"),
        ({"factors": [{"name": "leverage_cap.enabled", "values": ["maybe"]}]}, "factors.0.values.0"),
        ({"metrics": ["peak_10y_yield_change_bp", "peak_joy"]}, "metrics"),
        ({"paths": 0}, "paths"),
        ({"base": "anarchy"}, "base"),
        ({"scenarios": ["atlantis"]}, "scenarios"),
        ({"design": "sobol", "samples": 10}, "samples"),
        ({"design": "lhs"}, "samples"),
        ({"colour": "blue"}, "colour"),
        ({"factors": [{"name": "clearing.haircut_floor_pct", "high": 1.0, "levels": 50}]}, "factors.0.levels"),
    ],
)
def test_bad_study_names_the_field(fields, field):
    data = {"factors": [{"name": "clearing.haircut_floor_pct", "levels": 3}]} | fields
    with pytest.raises(InputError) as err:
        _study(**data)
    message = str(err.value)
    assert message.startswith(f"study: {field}:"), message
    assert "\n" not in message


def test_too_many_points_is_refused():
    with pytest.raises(InputError, match="points per scenario"):
        _study(factors=[{"name": "clearing.haircut_floor_pct", "levels": 41},
                        {"name": "leverage_cap.max_gross_leverage_x", "levels": 96},
                        {"name": "dislocation_slope_bp", "levels": 3}])


def test_scenario_file_relative_to_the_study(tmp_path):
    (tmp_path / "mine.toml").write_bytes((ROOT / "scenarios" / "march_2020.toml").read_bytes())
    (tmp_path / "s.toml").write_text(
        'name = "s"\nscenarios = ["mine.toml"]\n[[factors]]\nname = "clearing.haircut_floor_pct"\nlevels = 2\n'
    )
    study = load_study(tmp_path / "s.toml")
    assert Path(study.scenarios[0]).parent == tmp_path


# ------------------------------------------------------------------ one at a time (a tornado)


def test_one_at_a_time_points_move_one_factor_from_the_base_point():
    study = _study(design="one_at_a_time", factors=[
        {"name": "leverage_cap.max_gross_leverage_x", "low": 10, "high": 40},
        {"name": "fed_backstop.enabled"},
        {"name": "leverage_cap.enforcement"},
        {"name": "dislocation_slope_bp"},
    ])
    points = study_points(study)
    base = points[0]
    # Levers at the base preset (all_guardrails), assumptions None: at their calibrated value.
    assert base == {"leverage_cap.max_gross_leverage_x": 20.0, "fed_backstop.enabled": True,
                    "leverage_cap.enforcement": "averaged", "dislocation_slope_bp": None}
    assert len(points) == 1 + 2 + 2 + 3 + 2
    plan = one_at_a_time_plan(study)
    assert [p for _, _, p in plan] == list(range(1, len(points)))
    for name, setting, point in plan:
        moved = {k for k in base if points[point][k] != base[k]}
        assert points[point][name] == setting and moved <= {name}
    assert [s for n, s, _ in plan if n == "dislocation_slope_bp"] == [2.0, 4.5]  # the calibrated range
    assert [s for n, s, _ in plan if n == "leverage_cap.enforcement"] == ["daily", "averaged", "released"]


@pytest.mark.parametrize(
    "factor,field",
    [
        ({"name": "clearing.haircut_floor_pct", "levels": 3}, "factors.0.levels"),
        ({"name": "clearing.haircut_floor_pct", "values": [1.0, 2.0]}, "factors.0.values"),
        ({"name": "clearing.haircut_floor_pct", "low": 1.0, "high": 1.1}, "factors.0"),
    ],
)
def test_one_at_a_time_refuses_grid_settings(factor, field):
    with pytest.raises(InputError) as err:
        _study(design="one_at_a_time", factors=[factor])
    assert str(err.value).startswith(f"study: {field}:"), str(err.value)


def test_more_than_ten_factors_only_one_at_a_time():
    names = [s.path for s in lever_specs() if s.type == "float"][:14]
    study = _study(design="one_at_a_time", factors=[{"name": n} for n in names])
    assert len(study_points(study)) == 1 + 2 * 14
    with pytest.raises(InputError, match="at most 10"):
        _study(factors=[{"name": n, "levels": 2} for n in names])


def test_shipped_tornado_study_loads():
    study = load_study(STUDIES / "tornado_march_2020.toml")
    assert study.design == "one_at_a_time" and study.base == "all_guardrails" and study.scenarios == ("march_2020",)
    kinds = {factor_kind(study, f) for f in study.factors}
    assert kinds == {"lever", "assumption"}
    assert "p_peak_10y_above_100bp_pct" in study.metrics  # a tail probability is a study metric
    points = study_points(study)
    assert len(points) == 1 + len(one_at_a_time_plan(study))
    # Every rule is on in the base, so each sub-setting acts (tornado_from_sweep notes it otherwise).
    preset = get_preset(study.base)
    switches = {s.path for s in lever_specs() if s.field == "enabled"}
    rules = {f"{f.name.split('.')[0]}.enabled" for f in study.factors} & switches
    assert rules and all(regime_value(preset, switch) for switch in rules)


def _tornado_study(metrics):
    return _study(design="one_at_a_time", paths=60, seed=3, metrics=metrics, factors=[
        {"name": "fed_backstop.enabled"},
        {"name": "futures_margin.initial_margin_pct"},
        {"name": "leverage_cap.enforcement"},
        {"name": "leverage_cap.max_gross_leverage_x"},
        {"name": "fundamental_share"},
        {"name": "dealer_capacity_usd_bn"},
    ])


@pytest.fixture(scope="module")
def tornado_pair():
    metrics = ["peak_10y_yield_change_bp", "p_peak_10y_above_100bp_pct"]
    study = _tornado_study(metrics)
    return study, run_study(study, batch_regimes=3)


@pytest.mark.parametrize("metric", ["peak_10y_yield_change_bp", "p_peak_10y_above_100bp_pct"])
def test_tornado_from_sweep_gives_the_tornado(tornado_pair, metric):
    """Same levers, ranges, seed and paths: the same table as analysis.tornado, effect for effect."""
    study, frame = tornado_pair
    from_sweep = tornado_from_sweep(frame, study, metric)
    levers = [f.name for f in study.factors if factor_kind(study, f) == "lever"]
    assumptions = [f.name for f in study.factors if factor_kind(study, f) == "assumption"]
    direct = tornado("march_2020", study.base, metric, levers=levers, assumptions=assumptions,
                     paths=study.paths, seed=study.seed)
    compared = ["metric", "kind", "name", "label", "base_setting", "low_setting", "high_setting"]
    pd.testing.assert_frame_equal(from_sweep[compared], direct[compared])
    for column in ("low_effect", "high_effect", "swing"):
        # The same per-path differences; np.percentile(50) and np.median may round apart by an ulp.
        np.testing.assert_allclose(from_sweep[column], direct[column], rtol=1e-12, atol=1e-12)
    assert (from_sweep["swing"] > 0).any(), "the factors move the outcome"


def test_tornado_rank_follows_swing(tornado_pair):
    study, frame = tornado_pair
    table = tornado_from_sweep(frame, study, "peak_10y_yield_change_bp")
    assert list(table["rank"]) == list(range(1, len(study.factors) + 1))
    assert table["swing"].is_monotonic_decreasing
    assert np.allclose(table["swing"], (table["high_effect"] - table["low_effect"]).abs())
    choice = table.set_index("name").loc["leverage_cap.enforcement"]
    assert choice["low_effect"] <= choice["high_effect"], "a choice keeps its lowest- and highest-effect options"


def test_tornado_from_sweep_notes_a_rule_off_in_the_base():
    study = _study(design="one_at_a_time", base="status_quo", paths=20, metrics=["peak_10y_yield_change_bp"],
                   factors=[{"name": "clearing.haircut_floor_pct"}])
    table = tornado_from_sweep(run_study(study), study, "peak_10y_yield_change_bp")
    row = table.iloc[0]
    assert "clearing.enabled is off" in row["note"]
    assert row["low_effect"] == row["high_effect"] == 0.0, "a setting of an off rule does nothing"


def test_tornado_from_sweep_needs_a_one_at_a_time_study(tornado_pair):
    _, frame = tornado_pair
    grid = _study(factors=[{"name": "clearing.haircut_floor_pct", "levels": 2}])
    with pytest.raises(InputError, match="one_at_a_time"):
        tornado_from_sweep(frame, grid, "peak_10y_yield_change_bp")
    with pytest.raises(InputError, match="metric"):
        tornado_from_sweep(frame, tornado_pair[0], "forced_sales_usd_bn")


def test_an_uploaded_study_may_name_only_shipped_scenarios():
    from engine.errors import InputError
    from engine.study import parse_study

    data = {"name": "s", "scenarios": ["../../scenarios/march_2020.toml"], "factors": [{"name": "clearing.enabled"}]}
    with pytest.raises(InputError, match=r"is a file; allowed: in an uploaded study, the shipped scenario names \(march_2020"):
        parse_study(data, files=False)
    assert parse_study(data | {"scenarios": ["march_2020"]}, files=False).scenarios == ("march_2020",)
