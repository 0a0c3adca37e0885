"""How much memory a run needs, estimated before it starts (checked against policy.run_settings' budgets).

The coefficients are measured, not derived: the peak resident-set rise of `simulate` in a fresh
process (VmHWM after minus before the run, foreign_selloff_2026, 1 Dec 2026), fitted as bytes per
element of the arrays a run holds, rounded up:

    (regimes, paths, days, histories)    measured rise   this estimate
    (1, 10,000, 40, full)                   137 MB          204 MB
    (4, 10,000, 40, full)                   426 MB          511 MB
    (1, 10,000, 250, full)                  759 MB          970 MB
    (4, 20,000, 120, full)                2,417 MB        2,708 MB
    (4, 10,000, 40, summary only)            67 MB          117 MB
    (1, 100,000, 40, summary only)          563 MB          602 MB
    (4, 50,000, 250, summary only)        1,413 MB        1,699 MB
    (4, 100,000, 250, full)              ~24 GB (MemoryError in issue 10's probe)  27,444 MB

A full run keeps about 30 float64 (regime, path, day) arrays (the recorded series, the derived
ones and the flags); every run keeps about 15 (path, day) arrays of draws and shocks and about 50
(regime, path) arrays of parameters, calm state and metrics. tests/test_memory.py re-measures two
cases and checks the estimate stays above the rise.
"""

BYTES_PER_REGIME_PATH_DAY = 240  # full histories only
BYTES_PER_PATH_DAY = 125
BYTES_PER_REGIME_PATH = 400
OVERHEAD_MB = 50


def estimate_run_mb(regimes: int, paths: int, days: int, *, histories: bool) -> float:
    """Estimated peak memory of one `simulate` call, in MB (10**6 bytes)."""
    steps = days + 1
    total = BYTES_PER_PATH_DAY * paths * steps + BYTES_PER_REGIME_PATH * regimes * paths
    if histories:
        total += BYTES_PER_REGIME_PATH_DAY * regimes * paths * steps
    return total / 1e6 + OVERHEAD_MB


def largest_paths(regimes: int, days: int, *, histories: bool, budget_mb: float) -> int:
    """The most paths a run of this shape may have within the budget (0 if none fits)."""
    per_path_mb = estimate_run_mb(regimes, 1, days, histories=histories) - OVERHEAD_MB
    return max(int((budget_mb - OVERHEAD_MB) / per_path_mb), 0)


def memory_message(regimes: int, paths: int, days: int, *, histories: bool, budget_mb: float, mode: str) -> str | None:
    """None if the run fits the budget; else one line saying what it needs and what fits."""
    need = estimate_run_mb(regimes, paths, days, histories=histories)
    if need <= budget_mb:
        return None
    fits = largest_paths(regimes, days, histories=histories, budget_mb=budget_mb)
    shape = f"{regimes} regime{'s' if regimes != 1 else ''} x {paths:,} paths x {days} days"
    advice = f"at most {fits:,} paths fit this shape" if fits else "fewer regimes or days"
    if histories:
        lean = estimate_run_mb(regimes, paths, days, histories=False)
        if lean <= budget_mb:
            advice += f", or the same run with histories=False in the Python API (summaries only, about {lean:,.0f} MB)"
    return (f"memory: {shape} needs about {need:,.0f} MB; the {mode} budget is {budget_mb:,.0f} MB; "
            f"allowed: {advice}")
