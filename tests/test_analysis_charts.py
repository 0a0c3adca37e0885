"""The analysis charts (briefing/analysis_charts.py): each builds a valid Vega-Lite dict from the
engine's own frame, carries a title and a source line, uses only the bundled font's glyphs, and
renders to PNG once."""

import itertools
import json

import pytest

from briefing import analysis_charts as charts_mod
from briefing.export import to_png
from engine import analysis, simulate
from engine.study import parse_study
from engine.sweep import run_study
from policy import get_preset

PATHS = 40
X, Y = "leverage_cap.max_gross_leverage_x", "clearing.haircut_floor_pct"


@pytest.fixture(scope="module")
def study_frame():
    study = parse_study({
        "name": "t", "scenarios": ["march_2020"], "paths": PATHS, "base": "all_guardrails",
        "factors": [{"name": X, "low": 5, "high": 43, "levels": 3}, {"name": Y, "low": 0, "high": 4.75, "levels": 3}],
    })
    return run_study(study)


def _charts(study_frame):
    metric = "peak_10y_yield_change_bp"
    res = simulate("march_2020", [get_preset(n) for n in ("status_quo", "all_guardrails")], paths=PATHS, seed=0)
    rob = analysis.robustness("march_2020", "all_guardrails", "status_quo", metric, paths=PATHS, samples=2,
                       assumptions=["dislocation_slope_bp"])
    return {
        "map": charts_mod.policy_map_chart(study_frame, X, Y, metric, presets=["all_guardrails", "status_quo"]),
        "frontier": charts_mod.frontier_chart(analysis.frontier(study_frame)),
        "tornado": charts_mod.tornado_chart(analysis.tornado("march_2020", "all_guardrails", metric, paths=PATHS,
                                             levers=["fed_backstop.enabled", "leverage_cap.enabled"],
                                             assumptions=["dislocation_slope_bp"]), metric),
        "attribution": charts_mod.attribution_chart(
            analysis.attribution("march_2020", "all_guardrails", "status_quo", paths=PATHS)),
        "amplification": charts_mod.amplification_chart(analysis.amplification("march_2020", "all_guardrails", paths=PATHS)),
        "robustness": charts_mod.robustness_chart(rob["points"], metric, "all_guardrails", "status_quo"),
        "expected_cost": charts_mod.expected_cost_chart(analysis.expected_cost(res, episode_probability_per_year=0.1,
                                                               loss_per_episode_usd_bn=50.0)),
        "stress_grid": charts_mod.stress_grid_chart(analysis.stress_test_grid("all_guardrails", ["march_2020", "april_2025"],
                                                              paths=PATHS)),
    }


def _texts(spec) -> list[str]:
    out = []
    if isinstance(spec, dict):
        for k, v in spec.items():
            if k in ("text", "subtitle", "title") and isinstance(v, str | list):
                out += [v] if isinstance(v, str) else [t for t in v if isinstance(t, str)]
            out += _texts(v)
    elif isinstance(spec, list):
        for v in spec:
            out += _texts(v)
    return out


def test_every_chart_is_valid_titled_sourced_and_renders(study_frame):
    charts = _charts(study_frame)
    pngs = {}
    for name, chart in charts.items():
        spec = chart.to_dict()  # validated against the Vega-Lite schema
        title = spec["title"]
        assert title["text"], name
        assert any(line.startswith("Source: Treasury Market Policy Explorer") for line in title["subtitle"]), name
        for text in _texts(spec):
            assert all(ord(c) < 128 or c == "\u2013" for c in text), (name, text)
        json.dumps(spec)
        pngs[name] = to_png(chart, scale=1)
    for name, png in pngs.items():
        assert png[:8] == b"\x89PNG\r\n\x1a\n", name


def test_policy_map_frame_matches_the_sweep(study_frame):
    metric = "trough_market_depth_usd_mn"
    cells = charts_mod.policy_map_frame(study_frame, X, Y, metric)
    assert len(cells) == 9
    rows = study_frame[(study_frame["metric"] == metric) & (study_frame["point"] >= 0)]
    assert sorted(cells["p50"]) == sorted(rows["p50"])
    # cells tile the plane: each right edge is the next left edge
    xs = sorted(set(zip(cells["x0"], cells["x1"], strict=True)))
    assert all(a[1] == pytest.approx(b[0]) for a, b in itertools.pairwise(xs))


def test_preset_marks_skip_rules_that_are_off_and_merge_coincident(study_frame):
    cells = charts_mod.policy_map_frame(study_frame, X, Y, "peak_10y_yield_change_bp")
    marks = charts_mod.preset_marks(["status_quo", "all_guardrails", "no_such"], X, Y, cells)
    assert list(marks["preset"]) == ["all_guardrails"]  # status_quo has no leverage cap


def test_frontier_labels_never_overlap(study_frame):
    fr = analysis.frontier(study_frame)
    names = list(fr["regime"])
    pts = charts_mod.frontier_points(fr, "calm_yield_cost_bp", "peak_10y_yield_change_bp", names)
    ys = sorted(pts["label_y_px"])
    assert all(b - a >= charts_mod.LABEL_BOX - 1e-9 for a, b in itertools.pairwise(ys))


def test_bad_inputs_name_the_field(study_frame):
    with pytest.raises(ValueError, match="metric"):
        charts_mod.policy_map_frame(study_frame, X, Y, "no_metric")
    with pytest.raises(ValueError, match="factor"):
        charts_mod.policy_map_frame(study_frame, "nope", Y, "peak_10y_yield_change_bp")


def test_policy_map_outlines_the_chosen_cell_only_in_the_app(study_frame):
    metric = "peak_10y_yield_change_bp"
    plain = charts_mod.policy_map_chart(study_frame, X, Y, metric).to_dict()
    app = charts_mod.policy_map_chart(study_frame, X, Y, metric, select="cell", selected="p0004").to_dict()
    assert "params" not in plain and len(app["layer"]) == len(plain["layer"]) + 1
    assert app["title"] == plain["title"]  # the scenario line is unchanged
    outline = app["layer"][-1]
    assert outline["mark"]["stroke"] == "black"
    rows = app["datasets"][outline["data"]["name"]]
    assert [r["regime"] for r in rows] == ["p0004"]
