"""The `python -m engine` contract: JSON shapes, presets, and one-line errors with exit 2."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ["status_quo", "clearing_rule", "dealer_rule", "leverage_cap", "all_guardrails", "no_fed_backstop"]
AS_IT_HAPPENED = ["as_of_september_2019", "as_of_march_2020", "as_of_april_2025"]
SCENARIOS = [
    "repo_spike_2019",
    "march_2020",
    "term_premium_2023",
    "april_2025",
    "foreign_selloff_2026",
    "weak_auction_term_premium",
]


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_names_scenarios_and_presets(capsys):
    code, out, _ = run_cli(capsys, "list", "--format", "json")
    data = json.loads(out)
    assert code == 0
    names = [s["name"] for s in data["scenarios"]]
    assert set(SCENARIOS) <= set(names)
    assert names.index("march_2020") < names.index("foreign_selloff_2026") < names.index("repo_spike_2019")
    regimes = [r["name"] for r in data["regimes"]]
    assert set(PRESETS) | set(AS_IT_HAPPENED) <= set(regimes)
    assert all(r["description"] for r in data["regimes"])


def test_params_lists_every_lever_with_bounds(capsys):
    code, out, _ = run_cli(capsys, "params", "--format", "json")
    params = json.loads(out)["params"]
    assert code == 0 and len(params) > 25
    keys = {"path", "label", "type", "unit", "min", "max", "step", "choices", "default", "description", "source"}
    paths = {p["path"] for p in params}
    assert {
        "clearing.haircut_floor_pct",
        "leverage_cap.max_gross_leverage_x",
        "leverage_cap.covered_share_pct",
        "fed_backstop.persistence_pct",
    } <= paths
    assert not {"clearing.margin_floor_pct", "leverage_cap.max_leverage_x"} & paths, "v1 names are gone"
    for p in params:
        assert set(p) == keys
        if p["type"] in ("float", "int"):
            assert p["min"] < p["max"] and p["step"] > 0
        else:
            assert p["min"] is None and p["max"] is None


def test_regime_round_trips_through_a_file(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "regime", "all_guardrails")
    assert code == 0
    path = tmp_path / "mine.json"
    path.write_text(out)
    code, again, _ = run_cli(capsys, "regime", "--regime", str(path))
    assert code == 0 and json.loads(again) == json.loads(out)


def test_run_all_presets_every_metric_finite(capsys):
    args = ["run", "--scenario", "foreign_selloff_2026", "--paths", "200", "--format", "json"]
    for name in PRESETS:
        args += ["--regime", name]
    code, out, _ = run_cli(capsys, *args)
    data = json.loads(out)
    assert code == 0 and list(data["regimes"]) == PRESETS
    assert (data["schema_version"], data["model_version"], data["fundamental_mode"]) == (3, "2.0.0", "points")
    for entry in data["regimes"].values():
        for stats in entry["summary"].values():
            assert all(isinstance(v, float) and v == v and abs(v) < 1e12 for v in stats.values())
        assert abs(sum(entry["net_purchases_usd_bn"].values())) < 1e-6
        assert set(entry["forced_sales_by_book_usd_bn"]) == {"basis", "swap_spread", "other"}
        daily = entry["dysfunction_share_by_day_pct"]
        assert len(daily) == data["days"] + 1 and all(0.0 <= x <= 100.0 for x in daily)


def test_historical_scenario_defaults_to_its_own_regime(capsys):
    code, out, _ = run_cli(capsys, "run", "--scenario", "march_2020", "--paths", "50", "--format", "json", "--series")
    data = json.loads(out)
    assert code == 0 and list(data["regimes"]) == ["as_of_march_2020"]
    assert data["fundamental_mode"] == "observed_share"
    series = data["regimes"]["as_of_march_2020"]["series"]
    assert len(series["yield_10y_change_bp"]["p50"]) == data["days"] + 1
    for name in ("basis_widening_bp", "swap_spread_30y_bp", "long_dislocation_bp", "dealer_long_utilization_pct"):
        assert len(series[name]["p50"]) == data["days"] + 1, name


@pytest.mark.parametrize(
    ("scenario", "regime"), [("repo_spike_2019", "as_of_september_2019"), ("term_premium_2023", "as_of_april_2025")]
)
def test_placebo_scenarios_run_under_their_own_rules(capsys, scenario, regime):
    code, out, _ = run_cli(capsys, "run", "--scenario", scenario, "--paths", "20", "--format", "json")
    assert code == 0 and list(json.loads(out)["regimes"]) == [regime]


def test_csv_is_one_tidy_table(capsys):
    code, out, _ = run_cli(capsys, "run", "--scenario", "april_2025", "--paths", "30", "--format", "csv")
    assert code == 0 and out.splitlines()[0] == "regime,metric,stat,value"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["run", "--scenario", "nope"], "scenario"),
        (["run", "--scenario", "march_2020", "--paths", "0"], "--paths"),
        (["run", "--scenario", "march_2020", "--paths", "1e9"], "--paths"),
        (["run", "--scenario", "march_2020", "--shock-scale", "nan"], "--shock-scale"),
        (["run", "--scenario", "march_2020", "--shock-scale", "9"], "--shock-scale"),
        (["run", "--scenario", "march_2020", "--days", "0"], "--days"),
        (["run", "--scenario", "march_2020", "--seed", "-1"], "--seed"),
        (["run", "--scenario", "march_2020", "--regime", "nope"], "regime"),
        (["run", "--scenario", "march_2020", "--regime", "status_quo", "--regime", "status_quo"], "regime"),
        (["run", "--scenario", "march_2020", "--bogus"], "--bogus: not an option"),
        (["run", "--scenario", "march_2020", "--regime", "status_quo", "--baseline", "nope"], "--baseline"),
        (["frobnicate"], "command: 'frobnicate'; allowed: list, params"),
        ([], "command: required; allowed: list, params"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, args, field):
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and field in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b'{"name": "x", "clearing": {"haircut_floor_pct": 50}}', "clearing.haircut_floor_pct"),
        (b'{"name": "x", "clearing": {"haircut_floor_pct": NaN}}', "clearing.haircut_floor_pct"),
        (b'{"name": "x", "clearing": {"margin_floor_pct": 2}}', "clearing.margin_floor_pct: renamed clearing.haircut_floor_pct"),
        (b'{"name": "x", "leverage_cap": {"max_leverage_x": 10}}', "leverage_cap.max_leverage_x: replaced by"),
        (b'{"name": "x", "wat": 1}', "wat"),
        (b"\x00\x01\x02", "binary"),
        (b"{not json", "malformed"),
    ],
)
def test_bad_regime_file_exits_2(capsys, tmp_path, content, field):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    code, _, err = run_cli(capsys, "run", "--scenario", "april_2025", "--paths", "10", "--regime", str(path))
    assert code == 2 and field in err and len(err.strip().splitlines()) == 1


def test_module_entry_point_runs():
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "run", "--scenario", "nope"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
