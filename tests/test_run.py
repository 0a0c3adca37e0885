"""The Run object: one validated model a run is made from, on every surface (engine.run)."""

import numpy as np
import pytest
from pydantic import ValidationError

from engine import InputError, build_run, execute, load_scenario, simulate
from engine.scenario_edit import ScenarioEdit, apply_edit
from engine.study import parse_study
from engine.sweep import run_study
from policy import get_preset
from policy.run_settings import MAX_PATHS_INTERACTIVE, MEMORY_BUDGET_MB


def test_simulate_is_execute_of_build_run():
    run = build_run("march_2020", ["status_quo", "clearing_rule"], paths=64, seed=4, days=12)
    direct = simulate("march_2020", ["status_quo", "clearing_rule"], paths=64, seed=4, days=12)
    via_run = execute(run)
    for name, values in direct.metrics.items():
        np.testing.assert_array_equal(values, via_run.metrics[name], err_msg=name)


def test_a_run_is_frozen_and_carries_the_scenario_it_ran():
    run = build_run("april_2025", paths=10, days=5)
    assert run.scenario.name == "april_2025"
    assert run.regimes[0].name == run.scenario.regime  # the as-it-happened regime by default
    assert run.settings.days == 5 and run.settings.regimes == 1
    with pytest.raises(ValidationError):
        run.settings.__class__.model_validate(run.settings.model_dump() | {"paths": 0})
    with pytest.raises(ValidationError, match="frozen"):
        run.kernel = "numpy"  # type: ignore[misc]


def test_default_days_come_from_the_scenario():
    sc = load_scenario("march_2020")
    assert build_run(sc, paths=10).settings.days == sc.default_days


def test_an_edited_scenario_runs_as_a_run_and_its_edits_show_in_the_result():
    base = load_scenario("foreign_selloff_2026")
    edited = apply_edit(base, ScenarioEdit(base=base.name, days=9))
    run = build_run(edited, ["status_quo"], paths=32)
    assert run.settings.days == 9
    assert execute(run).days == 9


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"regimes": ["status_quo", "status_quo"]}, "regime: name 'status_quo' appears twice"),
        ({"paths": 0}, "paths: 0; allowed: a whole number from 1 to 100,000"),
        ({"paths": MAX_PATHS_INTERACTIVE + 1, "mode": "interactive"}, "paths: 10001; allowed: a whole number from 1 to 10,000"),
        ({"regimes": ["status_quo", "clearing_rule", "dealer_rule", "leverage_cap", "all_guardrails"],
          "mode": "interactive"}, "regimes: 5; allowed: 1 to 4 regimes"),
        ({"assumptions": {"no_such_value": 1.0}}, "assumptions.no_such_value: unknown; allowed:"),
        ({"assumptions": {"fundamental_share": 7.0}}, "assumptions.fundamental_share: 7.0 outside the allowed range"),
        ({"kernel": "gpu"}, "kernel: 'gpu'; allowed: compiled or numpy"),
        ({"mode": "turbo"}, "mode: 'turbo'; allowed: batch or interactive"),
        ({"paths": 100_000, "days": 250, "regimes": ["status_quo", "clearing_rule", "dealer_rule", "leverage_cap"]},
         "memory: 4 regimes x 100,000 paths x 250 days needs about"),
    ],
)
def test_every_part_of_a_run_is_refused_with_one_line_naming_it(kwargs, message):
    kwargs = {"paths": 10, "days": 5} | kwargs
    regimes = kwargs.pop("regimes", None)
    with pytest.raises(InputError) as err:
        build_run("march_2020", regimes, **kwargs)
    assert str(err.value).startswith(message), str(err.value)
    assert "\n" not in str(err.value)


def test_the_run_model_rejects_a_mismatch_built_by_hand():
    run = build_run("march_2020", ["status_quo"], paths=10, days=5)
    with pytest.raises(ValidationError, match=r"settings\.regimes: 1; the run has 2 regimes"):
        type(run)(scenario=run.scenario, regimes=(get_preset("status_quo"), get_preset("clearing_rule")),
                  settings=run.settings)


def test_a_study_too_big_for_the_budget_is_refused_before_its_first_batch(monkeypatch):
    study = parse_study({
        "name": "too_big", "scenarios": ["march_2020"], "paths": 20_000, "seed": 0, "base": "all_guardrails",
        "design": "grid",
        "factors": [{"name": "leverage_cap.max_gross_leverage_x", "low": 5.0, "high": 43.0, "levels": 4}],
    })
    monkeypatch.setitem(MEMORY_BUDGET_MB, "batch", 100)
    calls: list[tuple[int, int]] = []
    with pytest.raises(InputError, match="memory: 4 regimes x 20,000 paths"):
        run_study(study, progress=lambda done, total: calls.append((done, total)))
    assert calls == []  # nothing ran
