"""The one run-settings spec: every surface refuses the same value with the same words, and the
memory estimate is checked before a run and stays above what a run really takes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import engine
from engine.memory import estimate_run_mb, largest_paths
from policy import run_settings as spec
from policy.query import ViewState, decode_view

ROOT = Path(__file__).resolve().parents[1]


def _engine_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("paths", 0, spec.ALLOWED["paths"]),
        ("paths", spec.MAX_PATHS_BATCH + 1, spec.ALLOWED["paths"]),
        ("days", spec.MAX_DAYS + 1, spec.ALLOWED["days"]),
        ("seed", -1, spec.ALLOWED["seed"]),
        ("shock_scale", spec.MAX_SHOCK_SCALE + 0.5, spec.ALLOWED["shock_scale"]),
    ],
)
def test_api_and_cli_refuse_a_setting_with_the_same_words(field, value, allowed):
    with pytest.raises(engine.InputError) as err:
        engine.simulate("march_2020", **({"paths": 4} | {field: value}))
    assert str(err.value) == f"{field}: {value!r}; allowed: {allowed}"
    flag = "--" + field.replace("_", "-")
    out = _engine_cli("run", "--scenario", "march_2020", flag, str(value))
    assert out.returncode == 2
    assert out.stderr.strip() == f"error: {flag}: '{value}'; allowed: {allowed}"


def test_the_link_codec_uses_the_interactive_limits_of_the_spec():
    view, messages = decode_view({"sc": "march_2020", "r0": "status_quo", "n": str(spec.MAX_PATHS_INTERACTIVE + 1)},
                                 scenarios=["march_2020"], assumption_ranges=lambda _: {}, model_version=engine.MODEL_VERSION)
    assert view.paths != spec.MAX_PATHS_INTERACTIVE + 1
    assert any(f"{spec.MAX_PATHS_INTERACTIVE:,}" in m for m in messages)
    assert ViewState.model_fields["paths"].metadata[-1].le == spec.MAX_PATHS_INTERACTIVE
    with pytest.raises(engine.InputError, match=f"allowed: a whole number from 1 to {spec.MAX_PATHS_INTERACTIVE:,} in the app"):
        engine.simulate("march_2020", paths=spec.MAX_PATHS_INTERACTIVE + 1, mode="interactive", histories=False)
    regimes = ["status_quo", "clearing_rule", "dealer_rule", "leverage_cap", "all_guardrails"]
    with pytest.raises(engine.InputError, match=f"regimes: 5; allowed: 1 to {spec.MAX_REGIMES_INTERACTIVE} regimes in the app"):
        engine.simulate("march_2020", regimes, paths=4, mode="interactive")


def test_bools_are_not_counts():
    with pytest.raises(engine.InputError, match="paths: True"):
        engine.simulate("march_2020", paths=True)


def test_a_run_beyond_the_memory_budget_is_refused_before_it_starts():
    regimes = ["status_quo", "clearing_rule", "dealer_rule", "all_guardrails"]
    out = _engine_cli("run", "--scenario", "march_2020", *[arg for r in regimes for arg in ("--regime", r)],
                      "--paths", "100000", "--days", "250")
    assert out.returncode == 2, out.stderr
    line = out.stderr.strip()
    fits = largest_paths(4, 250, histories=True, budget_mb=spec.MEMORY_BUDGET_BATCH_MB)
    assert "memory: 4 regimes x 100,000 paths x 250 days needs about" in line
    assert f"at most {fits:,} paths fit" in line
    # What the message says fits does run within the budget's estimate, and one path more does not.
    assert estimate_run_mb(4, fits, 250, histories=True) <= spec.MEMORY_BUDGET_BATCH_MB
    assert estimate_run_mb(4, fits + 1, 250, histories=True) > spec.MEMORY_BUDGET_BATCH_MB


_MEASURE = """
import json, sys
import engine
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return float(line.split()[1]) / 1024
regimes, paths, days, histories = json.loads(sys.argv[1])
names = ["status_quo", "clearing_rule", "dealer_rule", "all_guardrails"][:regimes]
engine.simulate("foreign_selloff_2026", names, paths=50, days=days, histories=histories)
before = peak_mb()
engine.simulate("foreign_selloff_2026", names, paths=paths, days=days, histories=histories)
print(peak_mb() - before)
"""


@pytest.mark.parametrize("shape", [(2, 6000, 60, True), (3, 20000, 60, False)])
def test_the_memory_estimate_stays_above_the_measured_peak(shape):
    out = subprocess.run([sys.executable, "-c", _MEASURE, json.dumps(shape)], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, check=True)
    measured = float(out.stdout.strip())
    estimate = estimate_run_mb(*shape[:3], histories=shape[3])
    assert measured <= estimate <= 3.0 * measured + 60, (measured, estimate)


def test_the_readme_lists_the_limits_of_the_spec():
    text = (ROOT / "README.md").read_text()
    table = text[text.index("Limits of a run, written once"):]
    table = table[:table.index("Every string that comes from a link")]
    for expected in (f"| paths, batch (CLI, API, sweeps) | {spec.MAX_PATHS_BATCH:,} |",
                     f"| paths, interactive (the app, its links and exports) | {spec.MAX_PATHS_INTERACTIVE:,} |",
                     f"| regimes, batch / interactive | {spec.MAX_REGIMES_BATCH:,} / {spec.MAX_REGIMES_INTERACTIVE} |",
                     f"| horizon | {spec.MAX_DAYS} trading days |",
                     f"| shock severity | 0 to {spec.MAX_SHOCK_SCALE:g} |",
                     f"| seed | 0 to {spec.MAX_SEED} |"):
        assert expected in table, expected
