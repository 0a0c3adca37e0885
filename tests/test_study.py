"""Study files: points as declared (grid, LHS strata, Sobol range), and one-line errors naming the field."""

from pathlib import Path

import numpy as np
import pytest

from engine.errors import InputError
from engine.study import factor_range, load_study, parse_study, study_points, unit_points

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
