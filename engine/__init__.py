"""The system model of the US Treasury market under stress: pure numpy/pandas, no UI.

Public verbs: `simulate`, `backtest`, `load_scenario`, `scenario_names`, `assumption_ranges`.
"""

from engine.api import assumption_bounds, assumption_ranges, resolve_regime, resolve_scenario, simulate
from engine.errors import InputError
from engine.metrics import METRICS
from engine.result import Result
from engine.scenario import Scenario, load_scenario, scenario_names
from engine.version import MODEL_VERSION

__all__ = [
    "METRICS",
    "MODEL_VERSION",
    "InputError",
    "Result",
    "Scenario",
    "assumption_bounds",
    "assumption_ranges",
    "load_scenario",
    "resolve_regime",
    "resolve_scenario",
    "scenario_names",
    "simulate",
]
