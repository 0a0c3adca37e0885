"""Swapping the main data into a cached chart spec gives the spec a fresh build would give."""

import pytest

from briefing import charts
from engine import simulate


@pytest.mark.parametrize(
    "series", ["market_depth_usd_mn", "yield_10y_change_bp", "yield_30y_change_bp", "dealer_inventory_usd_bn"]
)
def test_swapped_fan_spec_equals_fresh_spec(series):
    chart, kw, build = "fan", {"series": series}, charts.fan_chart
    first = simulate("foreign_selloff_2026", ["status_quo", "clearing_rule"], paths=60, seed=2)
    second = simulate("foreign_selloff_2026", ["status_quo", "clearing_rule"], paths=60, seed=2, shock_scale=1.7)
    assert charts.template_key(first, chart, **kw) == charts.template_key(second, chart, **kw)
    template = build(first, *kw.values()).to_dict(validate=False)
    name = charts.main_dataset_name(template, charts.chart_frame(first, chart, **kw))
    swapped = charts.with_main_data(template, name, charts.chart_frame(second, chart, **kw))
    fresh = build(second, *kw.values()).to_dict(validate=False)
    fresh_name = charts.main_dataset_name(fresh, charts.chart_frame(second, chart, **kw))
    assert swapped["datasets"][name] == fresh["datasets"][fresh_name]
    assert swapped["datasets"][name] != template["datasets"][name]
    strip = lambda spec: {k: v for k, v in spec.items() if k != "datasets"}  # noqa: E731
    assert repr(strip(swapped)).replace(name, "X") == repr(strip(fresh)).replace(fresh_name, "X")


def test_key_changes_with_what_the_spec_shows():
    a = simulate("april_2025", ["status_quo"], paths=20)
    b = simulate("april_2025", ["status_quo"], paths=30)
    series = "yield_10y_change_bp"
    assert charts.template_key(a, "fan", series=series) != charts.template_key(b, "fan", series=series)


def test_every_series_has_a_unit_for_its_columns():
    from engine.dynamics import SERIES

    units = {name: charts.series_unit(name) for name in SERIES}
    assert units["yield_30y_change_bp"] == "bp" and units["long_dislocation_bp"] == "bp"
    assert units["dealer_long_utilization_pct"] == "pct" and units["dealer_inventory_usd_bn"] == "usd_bn"
    assert units["fund_leverage_x"] == "x"
    assert all(u and u != "value" for u in units.values()), units
