"""AppTest of the methodology page: every table is for reading (labels, units, rounded numbers, words).

Rendered tables are read back from the running page: no raw metric ids or code names where a label
belongs, no float columns, no number with more than two decimals (calibrated inputs excepted where
rounding would misstate what the file says), and the backtest views still switch.
"""

import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from engine import METRICS, assumption_ranges
from engine.backtest import DERIVED, backtest
from engine.calibration import ERAS, load_calibration
from engine.drivers import STATUS_TEXT
from engine.sensitivity import tuned_parameters
from policy import lever_specs
from ui.methodology import input_number

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
DECIMALS = re.compile(r"\d\.(\d+)")
CODE_IDS = set(METRICS) | set(DERIVED)
BACKTEST_NUMBERS = ("Observed", "Model (scored statistic)", "Model 5th pct", "Model median", "Model 95th pct",
                    "Band low", "Band high")
SENSITIVITY_NUMBERS = ("Model at the calibrated value", "Model at range low", "Model at range high")


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update({"n": "60"})
    at.run()
    at.switch_page("app_pages/methodology.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _tab(at: AppTest, label: str) -> None:
    at.session_state["t.method"] = label
    at.run()
    assert not at.exception, (label, [e.value for e in at.exception])


def _most_decimals(values) -> int:
    return max((len(m) for v in values for m in DECIMALS.findall(str(v))), default=0)


def _no_floats(table: pd.DataFrame) -> None:
    floats = [c for c in table.columns if pd.api.types.is_float_dtype(table[c])]
    assert not floats, f"raw float columns: {floats}"


@pytest.fixture(scope="module")
def page() -> AppTest:
    return _app()


def test_summary_metrics_show_labels_and_units(page):
    _tab(page, "Summary metrics")
    table = page.dataframe[0].value
    assert list(table["Metric"]) == [m.label for m in METRICS.values()]
    assert not set(table["Metric"]) & CODE_IDS
    assert list(table["Unit"]) == [m.unit for m in METRICS.values()]
    assert list(table["Code name"]) == list(METRICS)


def test_policy_levers_show_labels_first(page):
    _tab(page, "Policy levers")
    table = page.dataframe[0].value
    specs = lever_specs()
    assert list(table.columns[:1]) == ["Lever"] and list(table["Lever"]) == [s.label for s in specs]
    assert list(table["Code name"]) == [s.path for s in specs]
    assert not any("." in x and "_" in x for x in table["Lever"])  # no lever paths where a label belongs
    _no_floats(table)
    assert _most_decimals(table["Default (status quo)"]) <= 2 and _most_decimals(table["Range"]) <= 2


@pytest.mark.parametrize("era", ERAS)
def test_calibration_tables_are_human(page, era):
    _tab(page, "Calibrated parameters")
    page.segmented_control(key="w.era").set_value(era).run()
    assert not page.exception, [e.value for e in page.exception]
    table = page.dataframe[0].value
    values = load_calibration(era).values  # type: ignore[arg-type]
    assert list(table["Code name"]) == list(values)
    assert list(table["Assumption"]) == [v.label for v in values.values()]
    assert all(label and label != name for label, name in zip(table["Assumption"], table["Code name"], strict=True))
    assert set(table["How sure"]) <= {f"{s} · {t}" for s, t in STATUS_TEXT.items()}
    _no_floats(table)
    for shown, item in zip(table["Value"], values.values(), strict=True):
        # Rounded to two decimals at most, unless rounding would misstate the value the file gives.
        assert _most_decimals([shown]) <= 2 or shown == input_number(item.value) == f"{item.value:,.4g}", (item.name, shown)
        assert float(shown.replace(",", "")) == pytest.approx(item.value, rel=0.011), (item.name, shown)


def test_backtest_table_is_human_and_its_views_switch(page):
    _tab(page, "Backtest")
    table = page.dataframe[0].value
    assert len(table) == len(backtest(paths=50, seed=0).table())
    assert not set(table["Quantity"]) & CODE_IDS  # labels, not metric ids
    assert set(table["Code name"]) <= CODE_IDS
    assert not any("_" in r for r in table["Regime"]) and not any("_" in q for q in table["Quantity"])
    assert set(table["Statistic"]) <= {"median", "mean"}
    _no_floats(table)
    for column in BACKTEST_NUMBERS:
        assert all(isinstance(x, str) for x in table[column]), column
        assert _most_decimals(table[column]) <= 2, (column, [x for x in table[column] if _most_decimals([x]) > 2][:3])
    rmse = next(d.value for d in page.dataframe[1:] if any("RMSE" in c for c in d.value.columns))
    _no_floats(rmse)
    inputs = next(d.value for d in page.dataframe if "Input" in d.value.columns)
    assert not any("_" in x for x in inputs["Input"])
    page.segmented_control(key="w.bt_mode").set_value("proxy_beta").run()
    assert not page.exception, [e.value for e in page.exception]
    proxied = page.dataframe[0].value
    assert len(proxied) == len(table) and not proxied["Model median"].equals(table["Model median"])
    page.segmented_control(key="w.bt_mode").set_value("scenario").run()
    assert page.dataframe[0].value["Model median"].equals(table["Model median"])


def test_sensitivity_table_is_human_and_complete(page):
    _tab(page, "Backtest")
    page.toggle(key="w.sens").set_value(True).run()
    assert not page.exception and not page.error, [e.value for e in page.error]
    sens = next(d.value for d in page.dataframe if "Parameter" in d.value.columns)
    tuned = tuned_parameters()
    assert set(sens["Parameter"]) <= set(tuned) and len(sens)
    assert not set(sens["Quantity"]) & CODE_IDS
    assert all(a and a != p for a, p in zip(sens["Assumption"], sens["Parameter"], strict=True))
    # One row per parameter, episode and quantity, each with both range ends (no empty combinations).
    assert not sens.duplicated(["Parameter", "Episode", "Quantity"]).any()
    for column in SENSITIVITY_NUMBERS:
        assert all(isinstance(x, str) and x for x in sens[column]), column
        assert _most_decimals(sens[column]) <= 2, column
    _no_floats(sens)
    labels = {name: item.label for name, item in assumption_ranges("march_2020").items()}
    march = sens[sens["Episode"] == "March 2020: the dash for cash"]
    assert all(labels[p] == a for p, a in zip(march["Parameter"], march["Assumption"], strict=True))


def test_equations_describe_what_drives_this(page):
    _tab(page, "Equations")
    text = " ".join(m.value for m in page.markdown)
    assert "What drives this?" in text and "common random numbers" in text and "one at a time" in text
