"""The system model of the US Treasury market under stress: pure numpy/pandas, no UI.

Public verbs: `simulate` (= `execute(build_run(...))`, the validated `Run` in between), `backtest`,
`load_scenario`, `scenario_names`, `assumption_ranges`.

Names load on first use (PEP 562 `__getattr__`), so `python -m engine --help` and commands that
need no model start without importing numpy, pandas and the compiled kernel.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from engine.version import MODEL_VERSION

if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load lazily
    from engine.api import assumption_bounds, execute, simulate
    from engine.errors import InputError
    from engine.metrics import METRICS
    from engine.regimes import resolve_regime
    from engine.result import Result
    from engine.run import Run, assumption_ranges, build_run, resolve_scenario
    from engine.scenario import Scenario, load_scenario, scenario_names

_LAZY: dict[str, str] = {
    "assumption_bounds": "engine.api",
    "assumption_ranges": "engine.run",
    "build_run": "engine.run",
    "execute": "engine.api",
    "resolve_regime": "engine.regimes",
    "resolve_scenario": "engine.run",
    "Run": "engine.run",
    "simulate": "engine.api",
    "InputError": "engine.errors",
    "METRICS": "engine.metrics",
    "Result": "engine.result",
    "Scenario": "engine.scenario",
    "load_scenario": "engine.scenario",
    "scenario_names": "engine.scenario",
}

__all__ = [
    "METRICS",
    "MODEL_VERSION",
    "InputError",
    "Result",
    "Run",
    "Scenario",
    "assumption_bounds",
    "assumption_ranges",
    "build_run",
    "execute",
    "load_scenario",
    "resolve_regime",
    "resolve_scenario",
    "scenario_names",
    "simulate",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
