"""Charts that compare regimes: one panel per regime, paired differences, observed history,
annotations that cannot collide, colour-blind-safe colours, and template-compatible specs.

Every number is checked against the result arrays (or the history files) computed here, not
against the chart code's own helpers.
"""

import itertools
import json
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engine
import policy
from briefing import charts, export
from engine import simulate

ROOT = Path(__file__).resolve().parents[1]
FOUR = ("status_quo", "clearing_rule", "leverage_cap", "all_guardrails")
SERIES3 = ["yield_10y_change_bp", "market_depth_usd_mn", "dealer_utilization_pct"]
PATHS = 120


@pytest.fixture(scope="module")
def march():
    return simulate("march_2020", [policy.get_preset(p) for p in FOUR], paths=PATHS, seed=3)


@pytest.fixture(scope="module")
def forward():
    return simulate("foreign_selloff_2026", list(FOUR), paths=PATHS, seed=3)


def main_data(spec: dict, frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(spec["datasets"][charts.main_dataset_name(spec, frame)])


def layers_of(spec: dict) -> list[dict]:
    """Every unit layer of a spec (through vconcat rows, facets and nested layers)."""
    found: list[dict] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "mark" in node:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in spec.items() if k != "datasets"})
    return found


def band_marks_drawn(chart) -> int:
    """Panels actually drawn: one band (area mark group) per panel in the rendered SVG."""
    return export.to_svg(chart).count('class="mark-area role-mark')


def observed_10y_bp(result) -> np.ndarray:
    """DGS10 change from day 0 in bp, read straight from the history CSV."""
    path = ROOT / "scenarios" / result.scenario.history
    history = pd.read_csv(path, comment="#", parse_dates=["date"]).set_index("date")["dgs10_pct"]
    on_dates = history.reindex(result.dates).ffill()
    return ((on_dates - on_dates.iloc[0]) * 100.0).to_numpy()


def history_target(episode: str, metric: str) -> dict:
    targets = tomllib.loads((ROOT / "scenarios" / "history" / "targets.toml").read_text())["target"]
    return next(t for t in targets if t["episode"] == episode and t["metric"] == metric)


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Boxes (x0, x1, y0, y1) overlap with positive area."""
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


# ------------------------------------------------------------------------------ panels
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_small_multiples_one_panel_per_regime_and_series(march, n):
    regimes = list(FOUR[:n])
    chart = charts.small_multiples(march, SERIES3, regimes=regimes)
    spec = chart.to_dict()  # validates the hand-written Vega-Lite against the schema
    assert len(spec["vconcat"]) == len(SERIES3)
    assert all(row["facet"]["column"]["sort"] == regimes for row in spec["vconcat"])
    frame = charts.chart_frame(march, "small_multiples", series=SERIES3, regimes=regimes)
    data = main_data(spec, frame)
    assert set(zip(data["regime"], data["series"], strict=True)) == set(itertools.product(regimes, SERIES3))
    assert band_marks_drawn(chart) == n * len(SERIES3)


def test_default_series_are_the_key_series_the_result_has(march):
    frame = charts.chart_frame(march, "small_multiples")
    assert list(dict.fromkeys(frame["series"])) == [s for s in charts.DEFAULT_SERIES if s in march.series]
    assert set(charts.DEFAULT_SERIES) <= set(engine.dynamics.SERIES)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_stress_chart_one_panel_per_regime(march, n):
    chart = charts.stress_chart(march, regimes=list(FOUR[:n]))
    chart.to_dict()
    assert band_marks_drawn(chart) == n


def test_baseline_reference_line_is_the_baseline_median(march):
    baseline = "leverage_cap"  # not the first regime: the reference must follow the choice
    b = march.regime_index(baseline)
    spec = charts.small_multiples(march, SERIES3, baseline=baseline).to_dict(validate=False)
    frame = charts.chart_frame(march, "small_multiples", series=SERIES3, baseline=baseline)
    data = main_data(spec, frame)
    for series in SERIES3:
        expected = np.percentile(march.series[series][b], 50, axis=0)
        for regime in FOUR:
            rows = data[(data["series"] == series) & (data["regime"] == regime)].sort_values("day")
            np.testing.assert_allclose(rows["baseline_p50"], expected, rtol=0, atol=1e-9)
    refs = [layer for layer in layers_of(spec) if layer["encoding"].get("y", {}).get("field") == "baseline_p50"]
    assert len(refs) == len(SERIES3)
    assert all(layer["mark"]["strokeDash"] and layer["mark"]["color"] == charts.REF_COLOR for layer in refs)
    # The stress chart's reference column is the same median.
    stress = charts.chart_frame(march, "stress", baseline=baseline)
    for regime in FOUR:
        rows = stress[stress["regime"] == regime].sort_values("day")
        np.testing.assert_allclose(
            rows["baseline_p50_bp"], np.percentile(march.series["yield_10y_change_bp"][b], 50, axis=0), atol=1e-9
        )


def test_regime_bands_are_the_regimes_own_quantiles(march):
    frame = charts.chart_frame(march, "stress", series="market_depth_usd_mn")
    for i, regime in enumerate(FOUR):
        rows = frame[frame["regime"] == regime].sort_values("day")
        values = march.series["market_depth_usd_mn"][i]
        np.testing.assert_allclose(rows["p5_usd_mn"], np.percentile(values, 5, axis=0), atol=1e-9)
        np.testing.assert_allclose(rows["p95_usd_mn"], np.percentile(values, 95, axis=0), atol=1e-9)


# -------------------------------------------------------------------------- differences
def test_difference_fan_median_is_the_paired_median(march):
    series = ["yield_10y_change_bp", "market_depth_usd_mn"]
    chart = charts.difference_fan(march, series, "status_quo")
    spec = chart.to_dict()
    frame = charts.chart_frame(march, "difference", series=series, baseline="status_quo")
    data = main_data(spec, frame)
    assert set(data["regime"]) == set(FOUR[1:])
    base = march.series
    some_day_differs = False
    for s in series:
        for regime in FOUR[1:]:
            i = march.regime_index(regime)
            paired = base[s][i] - base[s][0]  # same path, same random numbers
            rows = data[(data["series"] == s) & (data["regime"] == regime)].sort_values("day")
            np.testing.assert_allclose(rows["diff_p50"], np.median(paired, axis=0), atol=1e-9)
            np.testing.assert_allclose(rows["diff_p5"], np.percentile(paired, 5, axis=0), atol=1e-9)
            np.testing.assert_allclose(rows["diff_p95"], np.percentile(paired, 95, axis=0), atol=1e-9)
            unpaired = np.median(base[s][i], axis=0) - np.median(base[s][0], axis=0)
            some_day_differs |= not np.allclose(rows["diff_p50"], unpaired)
    assert some_day_differs, "the paired median should not just be the difference of the medians"
    assert band_marks_drawn(chart) == len(FOUR[1:]) * len(series)
    zero = [layer for layer in layers_of(spec) if layer["encoding"].get("y", {}).get("field") == "zero"]
    assert len(zero) == len(series) and all(layer["data"]["values"] == [{"zero": 0.0}] for layer in zero)


def test_baseline_minus_itself_is_exactly_zero(march):
    frame = charts.chart_frame(march, "difference", series=SERIES3, baseline="clearing_rule", regimes=["clearing_rule"])
    assert len(frame) == len(SERIES3) * (march.days + 1)
    assert (frame[["diff_p5", "diff_p50", "diff_p95"]].to_numpy() == 0.0).all()
    for s in SERIES3:
        assert (charts.paired_difference_bands(march, s, "clearing_rule", "clearing_rule") == 0.0).all()
    with pytest.raises(ValueError, match="regimes"):
        charts.difference_fan(march, "yield_10y_change_bp", "clearing_rule", regimes=["clearing_rule"])


# ---------------------------------------------------------------------- observed history
def _observed_layers(spec: dict) -> tuple[list[dict], list[dict]]:
    layers = layers_of(spec)
    path = [lay for lay in layers if lay["encoding"].get("y", {}).get("field") == "observed_bp"]
    trough = [lay for lay in layers if lay["encoding"].get("y", {}).get("field") == "observed_usd_mn"]
    return path, trough


def test_observed_overlay_equals_the_history_files(march):
    expected = observed_10y_bp(march)
    depth = history_target("march_2020", "trough_market_depth_usd_mn")["history"]
    assert depth == 38.0
    for chart in (
        charts.stress_chart(march),
        charts.fan_chart(march, "yield_10y_change_bp"),
        charts.small_multiples(march, SERIES3),
    ):
        spec = chart.to_dict(validate=False)
        path, _ = _observed_layers(spec)
        assert len(path) == 1
        values = path[0]["data"]["values"]
        assert [v["date"] for v in values] == [d.strftime("%Y-%m-%d") for d in march.dates]
        np.testing.assert_allclose([v["observed_bp"] for v in values], expected, atol=1e-9)
        assert path[0]["mark"]["color"] == "#000000"
        assert '"Observed"' in json.dumps(spec)
    for chart in (
        charts.stress_chart(march, "market_depth_usd_mn"),
        charts.fan_chart(march, "market_depth_usd_mn"),
        charts.small_multiples(march, SERIES3),
    ):
        spec = chart.to_dict(validate=False)
        _, trough = _observed_layers(spec)
        assert len(trough) == 1 and trough[0]["data"]["values"][0]["observed_usd_mn"] == depth
        assert "Observed trough" in json.dumps(spec)
    # Only where it belongs: not on other series, not when switched off.
    for chart in (
        charts.stress_chart(march, "dealer_utilization_pct"),
        charts.stress_chart(march, observed=False),
        charts.fan_chart(march, "yield_10y_change_bp", observed=False),
    ):
        assert _observed_layers(chart.to_dict(validate=False)) == ([], [])


def test_no_observed_overlay_for_forward_scenarios(forward):
    assert forward.scenario.kind == "forward"
    for chart in (
        charts.stress_chart(forward),
        charts.stress_chart(forward, "market_depth_usd_mn"),
        charts.small_multiples(forward),
        charts.fan_chart(forward, "yield_10y_change_bp"),
        charts.fan_chart(forward, "market_depth_usd_mn"),
    ):
        spec = chart.to_dict(validate=False)
        assert _observed_layers(spec) == ([], [])
        assert "Observed" not in json.dumps(spec)


# ---------------------------------------------------------------------- event annotations
@pytest.fixture(scope="module")
def every_scenario():
    return {name: simulate(name, ["status_quo"], paths=8, seed=1) for name in engine.scenario_names()}


@pytest.mark.parametrize("width", [charts.WIDTH, charts.STRESS_WIDTH, charts.PANEL_WIDTH, 120])
def test_event_markers_never_overlap_and_sit_above_the_plot(every_scenario, width):
    assert set(every_scenario) == set(engine.scenario_names())
    for name, result in every_scenario.items():
        placed = charts.event_markers(result, width)
        events = [e for e in result.scenario.events if e.day <= result.days]
        assert len(placed) == len(events), name
        boxes = list(zip(placed["x0_px"], placed["x1_px"], placed["y0_px"], placed["y1_px"], strict=True))
        for a, b in itertools.combinations(boxes, 2):
            assert not overlap(a, b), (name, width, a, b)
        assert (placed["y1_px"] <= 0).all(), name  # above the plot area, where no line runs
        # Each marker sits at its event's date: the share of the date axis times the width.
        span = (result.dates[-1] - result.dates[0]).total_seconds()
        for row in placed.itertuples():
            share = (result.dates[row.day] - result.dates[0]).total_seconds() / span
            assert row.x_px == pytest.approx(share * width)
        # The numbered list is in the chart's subtitle.
        text = json.dumps(charts.fan_chart(result, "yield_10y_change_bp").to_dict(validate=False)["title"])
        for row in placed.itertuples():
            assert f"{row.number} = " in text and row.label.replace("$", "") in text.replace("$", ""), name


def test_same_day_events_stack_instead_of_colliding(every_scenario):
    result = every_scenario["repo_spike_2019"]
    placed = charts.event_markers(result, charts.STRESS_WIDTH)
    same_day = placed[placed["day"] == placed["day"].iloc[0]]
    assert len(same_day) >= 2 and same_day["row"].nunique() == len(same_day)


def test_headers_and_legends_clear_the_marker_strip(march):
    strip = -charts.event_markers(march, charts.STRESS_WIDTH)["y0_px"].min()
    spec = charts.stress_chart(march).to_dict(validate=False)
    assert spec["facet"]["column"]["header"]["labelPadding"] >= strip
    fan = charts.fan_chart(march, "yield_10y_change_bp").to_dict(validate=False)
    strip_fan = -charts.event_markers(march, charts.WIDTH)["y0_px"].min()
    offsets = [lay["encoding"]["color"]["legend"]["offset"] for lay in layers_of(fan) if "color" in lay["encoding"]
               and isinstance(lay["encoding"]["color"], dict) and "legend" in lay["encoding"]["color"]]
    assert offsets and min(offsets) >= strip_fan


# ------------------------------------------------------------------------------ trade-off
def test_tradeoff_labels_never_overlap_even_when_points_coincide():
    base = policy.get_preset("status_quo")
    # Four regimes that differ little (two identical to the status quo): their points nearly coincide.
    regimes = [
        base.model_copy(update={"name": "sq_a"}),
        base.model_copy(update={"name": "sq_b"}),
        base.model_copy(update={"name": "sq_c", "description": "same again"}),
        policy.get_preset("clearing_rule").model_copy(update={"name": "cr"}),
    ]
    result = simulate("march_2020", regimes, paths=60, seed=5)
    points = charts._tradeoff_points(result, result.regime_names)
    assert points["y_px"].max() - points["y_px"].min() < charts.LABEL_BOX_HEIGHT  # they do nearly coincide
    boxes = list(zip(points["label_x0_px"], points["label_x1_px"], points["label_y0_px"], points["label_y1_px"],
                     strict=True))
    for a, b in itertools.combinations(boxes, 2):
        assert not overlap(a, b), (a, b)
    assert (points["label_x0_px"] > charts.TRADEOFF_WIDTH).all()  # beside the plot, not over the points
    assert (points["label_y0_px"] >= 0).all() and (points["label_y1_px"] <= charts.HEIGHT).all()
    # Labels keep the points' vertical order, so leader lines do not swap over.
    by_point = points.sort_values(["y_px", "label_y_px"])["regime"].tolist()
    assert by_point == points.sort_values("label_y_px")["regime"].tolist()
    # The chart draws those positions (pixels, no scale) and its data scales use the fixed domains.
    spec = charts.tradeoff_chart(result).to_dict()
    texts = [lay for lay in layers_of(spec) if lay["mark"]["type"] == "text"]
    assert {lay["encoding"]["y"]["field"] for lay in texts} == {"name_y_px", "detail_y_px"}
    assert all(lay["encoding"]["y"]["scale"] is None for lay in texts)
    domain = [float(points["y_lo"].iloc[0]), float(points["y_hi"].iloc[0])]
    assert any(lay["encoding"].get("y", {}).get("scale", {}) == {"domain": domain, "nice": False, "zero": False}
               for lay in layers_of(spec) if lay["encoding"].get("y", {}).get("scale"))


def test_repel_keeps_order_and_gap():
    desired = [100.0, 101.0, 100.5, 350.0, 349.0]
    placed = charts._repel(desired, 30.0, 15.0, 345.0)
    order = np.argsort(desired, kind="stable")
    assert np.all(np.diff(placed[order]) >= 30.0 - 1e-9)
    assert placed.min() >= 15.0 and placed.max() <= 345.0


# -------------------------------------------------------------------------------- colours
def _lab_after_cvd(color: str, matrix: np.ndarray) -> np.ndarray:
    """CIELAB of an sRGB colour as seen with a colour-vision deficiency (simulated in linear RGB)."""
    rgb = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    linear = np.clip(matrix @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


# Machado, Oliveira & Fernandes (2009), severity 1.0.
CVD = {
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]),
}


def test_first_four_regime_colours_stay_apart_for_colour_blind_readers():
    first_four = charts.OKABE_ITO[:4]
    assert charts.OBSERVED_COLOR not in first_four and charts.REF_COLOR not in first_four
    for name, matrix in CVD.items():
        for a, b in itertools.combinations(first_four, 2):
            distance = np.linalg.norm(_lab_after_cvd(a, matrix) - _lab_after_cvd(b, matrix))
            assert distance > 15, (name, a, b, distance)  # CIE76; ~2 is just noticeable


def test_regime_keeps_its_colour_in_any_subset(march):
    full = charts.regime_colors(march.regime_names)
    assert full["status_quo"] == charts.OKABE_ITO[0]
    spec = charts.stress_chart(march, regimes=["leverage_cap", "all_guardrails"]).to_dict(validate=False)
    scale = next(lay["encoding"]["color"]["scale"] for lay in layers_of(spec) if "color" in lay["encoding"])
    assert scale["range"] == [full["leverage_cap"], full["all_guardrails"]]
    fan = charts.fan_chart(march, "yield_10y_change_bp", regimes=["all_guardrails"]).to_dict(validate=False)
    assert full["all_guardrails"] in json.dumps(fan) and charts.OKABE_ITO[0] not in json.dumps(
        [lay["encoding"].get("color") for lay in layers_of(fan)]
    )
    # Where regimes share a panel (fan chart) the median lines also differ in dash.
    dashes = next(lay["encoding"]["strokeDash"]["scale"]["range"] for lay in layers_of(
        charts.fan_chart(march, "yield_10y_change_bp").to_dict(validate=False)) if "strokeDash" in lay["encoding"])
    assert len({json.dumps(d) for d in dashes}) == len(FOUR)


# ------------------------------------------------------------- template and data swap
BUILDS = {
    "stress": (charts.stress_chart, {"series": "market_depth_usd_mn"}),
    "small_multiples": (charts.small_multiples, {"series": SERIES3}),
    "difference": (charts.difference_fan, {"series": ["yield_10y_change_bp"], "baseline": "status_quo"}),
    "fan": (charts.fan_chart, {"series": "yield_10y_change_bp"}),
}


@pytest.mark.parametrize("scenario", ["march_2020", "foreign_selloff_2026"])
@pytest.mark.parametrize("chart", list(BUILDS))
def test_data_swap_gives_the_fresh_spec(scenario, chart):
    build, kw = BUILDS[chart]
    regimes = ["status_quo", "clearing_rule", "leverage_cap"]
    first = simulate(scenario, regimes, paths=40, seed=2)
    second = simulate(scenario, regimes, paths=40, seed=2, shock_scale=1.6)
    assert charts.template_key(first, chart, **kw) == charts.template_key(second, chart, **kw)
    template = build(first, **kw).to_dict(validate=False)
    name = charts.main_dataset_name(template, charts.chart_frame(first, chart, **kw))
    swapped = charts.with_main_data(template, name, charts.chart_frame(second, chart, **kw))
    fresh = build(second, **kw).to_dict(validate=False)
    fresh_name = charts.main_dataset_name(fresh, charts.chart_frame(second, chart, **kw))
    assert swapped["datasets"][name] == fresh["datasets"][fresh_name]
    assert swapped["datasets"][name] != template["datasets"][name]
    assert len(fresh["datasets"]) == 1  # every number is in the one main dataset

    def strip(spec: dict) -> str:
        return re.sub(r"data-[0-9a-f]+", "X", json.dumps({k: v for k, v in spec.items() if k != "datasets"}))

    assert strip(swapped) == strip(fresh)


def test_template_key_fills_in_defaults_and_follows_the_template(march):
    key = charts.template_key(march, "stress")
    assert key == charts.template_key(
        march, "stress", series="yield_10y_change_bp", regimes=list(FOUR), baseline="status_quo", observed=True
    )
    assert key != charts.template_key(march, "stress", baseline="clearing_rule")
    assert key != charts.template_key(march, "stress", observed=False)
    assert charts.template_key(march, "small_multiples") == charts.template_key(
        march, "small_multiples", series=list(charts.DEFAULT_SERIES)
    )
    assert charts.template_key(march, "difference") == charts.template_key(
        march, "difference", baseline="status_quo", regimes=list(FOUR[1:])
    )


def test_unknown_names_are_refused_with_the_field(march):
    with pytest.raises(ValueError, match="series"):
        charts.small_multiples(march, ["nope"])
    with pytest.raises(ValueError, match="regime"):
        charts.stress_chart(march, regimes=["nope"])
    with pytest.raises(ValueError, match="regime"):
        charts.difference_fan(march, "yield_10y_change_bp", "nope")


# ---------------------------------------------------------------------------- exports
@pytest.mark.parametrize("n", [2, 4])
def test_new_charts_export_to_png_with_title_and_source(march, forward, n):
    for result in (march, forward):
        regimes = list(FOUR[:n])
        for chart in (
            charts.stress_chart(result, regimes=regimes),
            charts.small_multiples(result, SERIES3, regimes=regimes),
            charts.difference_fan(result, SERIES3[:2], "status_quo", regimes=regimes),
        ):
            png = export.to_png(chart, scale=1)
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
            spec = json.dumps(chart.to_dict(validate=False)["title"])
            assert charts.source_line(result) in spec and result.scenario.title in spec
