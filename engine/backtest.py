"""Backtest: model versus history for March 2020 (tuned), April 2025 and two placebos (tests).

Every episode runs under its as-it-happened regime, plus `status_quo` (the Fed rule) and
`no_fed_backstop` on the same random numbers. `table()` scores what the model produces against
`scenarios/history/targets.toml`, each row saying whether it is an output or partly inherited
from the inputs; `inputs_table()` lists what the model takes from data; `paths_frame()` and
`rmse_frame()` compare the daily 10y path with FRED DGS10. `fundamental_mode="proxy_beta"` builds
the fundamental path from the 2y instead of the 10y itself, so the yield path is an output too.
"""

import tomllib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.api import simulate
from engine.metrics import METRICS
from engine.result import Result
from engine.scenario import SCENARIO_DIR, history_frame, load_scenario, shock_paths
from engine.transmission import BOOKS

EPISODES: tuple[str, ...] = ("march_2020", "april_2025", "repo_spike_2019", "term_premium_2023")
COMPARISON_REGIMES: tuple[str, ...] = ("status_quo", "no_fed_backstop")
_QUANTILES = (5.0, 50.0, 95.0)

# Quantities the backtest scores that are not summary metrics: label, unit, per-path values.
DERIVED: dict[str, tuple[str, str]] = {
    "sales_basis_usd_bn": ("Basis book sales", "$bn"),
    "sales_swap_spread_usd_bn": ("Swap-spread book sales", "$bn"),
    "sales_other_usd_bn": ("Other RV book sales", "$bn"),
    "basis_share_of_basis_and_swap_sales": ("Basis share of basis + swap-spread sales", "share"),
    "basis_to_swap_sales_ratio": ("Basis sales / swap-spread sales", "ratio"),
    "exposure_cut_pct": ("Largest cut of RV positions", "%"),
    "peak_long_dislocation_bp": ("Peak 30y cheapening against swaps", "bp"),
    "path_rmse_10y_bp": ("RMSE of the daily p50 10y path vs DGS10", "bp"),
    "mean_10y_change_bp": ("Mean 10y change over the window", "bp"),
    "fed_rule_first_purchase_day": ("First purchase day under the Fed rule", "trading day"),
    "fed_rule_purchases_usd_bn": ("Purchases under the Fed rule", "$bn"),
}


def observed_change_bp(result: Result, column: str = "dgs10_pct") -> np.ndarray:
    """The observed change of a history column from day 0 on the result's dates, bp."""
    frame = history_frame(result.scenario)
    assert frame is not None
    series = frame[column].reindex(result.dates).ffill()
    return ((series - series.iloc[0]) * 100.0).to_numpy()


def _window(target: dict, days: int) -> slice:
    first, last = target.get("window", [1, days])
    return slice(first, min(last, days) + 1)


def _path_values(result: Result, regime: int, target: dict) -> np.ndarray | float:
    """Per-path values of a target's metric (an array) or one number for path-free statistics."""
    metric = target["metric"]
    if metric in METRICS:
        return result.metrics[metric][regime]
    sales = {b: result.sales_by_book_usd_bn[b][regime] for b in BOOKS}
    s = result.series
    window = _window(target, result.days)
    if metric.startswith("sales_"):
        return sales[metric.removeprefix("sales_").removesuffix("_usd_bn")]
    if metric == "basis_share_of_basis_and_swap_sales":
        return float(sales["basis"].mean() / max(sales["basis"].mean() + sales["swap_spread"].mean(), 1e-9))
    if metric == "basis_to_swap_sales_ratio":
        return float(sales["basis"].mean() / max(sales["swap_spread"].mean(), 1e-9))
    if metric == "exposure_cut_pct":
        positions = s["rv_positions_usd_bn"][regime]
        return 100.0 * (1.0 - positions.min(axis=-1) / positions[:, 0])
    if metric == "peak_long_dislocation_bp":
        return s["long_dislocation_bp"][regime].max(axis=-1)
    if metric == "path_rmse_10y_bp":
        observed = observed_change_bp(result)[window]
        median = np.median(s["yield_10y_change_bp"][regime], axis=0)[window]
        return float(np.sqrt(np.mean((median - observed) ** 2)))
    if metric == "mean_10y_change_bp":
        return s["yield_10y_change_bp"][regime][:, window].mean(axis=-1)
    if metric == "fed_rule_first_purchase_day":
        buying = s["fed_purchases_usd_bn"][regime] > 0.5
        return np.where(buying.any(axis=-1), buying.argmax(axis=-1), np.nan)
    if metric == "fed_rule_purchases_usd_bn":
        return s["fed_purchases_usd_bn"][regime][:, window].sum(axis=-1)
    raise KeyError(f"backtest metric '{metric}': not a summary metric or one of {', '.join(DERIVED)}")


def _stats(values: np.ndarray | float) -> tuple[float, float, float, float]:
    """p5, p50, p95 and mean over paths (NaN-aware); a path-free number repeats."""
    if np.isscalar(values):
        x = float(values)
        return x, x, x, x
    arr = np.asarray(values, dtype=float)
    if np.all(np.isnan(arr)):
        return (np.nan,) * 4
    p5, p50, p95 = np.nanpercentile(arr, _QUANTILES)
    return float(p5), float(p50), float(p95), float(np.nanmean(arr))


def metric_label(metric: str) -> tuple[str, str]:
    """(label, unit) of a scored quantity."""
    if metric in METRICS:
        return METRICS[metric].label, METRICS[metric].unit
    return DERIVED[metric]


@dataclass(frozen=True)
class BacktestResult:
    """Model runs of every episode (as it happened, status quo, no backstop) and the targets."""

    results: dict[str, Result]
    targets: tuple[dict, ...]
    fundamental_mode: str | None = None

    def _regime(self, episode: str, target: dict) -> int:
        result = self.results[episode]
        wanted = target.get("regime", "as_it_happened")
        return 0 if wanted == "as_it_happened" else result.regime_index(wanted)

    def table(self) -> pd.DataFrame:
        """One row per target: the model's p5/p50/p95 (and mean), the band, and whether it is met."""
        rows = []
        for t in self.targets:
            result = self.results[t["episode"]]
            regime = self._regime(t["episode"], t)
            p5, p50, p95, mean = _stats(_path_values(result, regime, t))
            stat = t.get("stat", "p50")
            scored = mean if stat == "mean" else p50
            label, unit = metric_label(t["metric"])
            rows.append(
                {
                    "episode": t["episode"],
                    "role": t["role"],
                    "metric": t["metric"],
                    "label": label,
                    "kind": t["kind"],
                    "regime": result.regime_names[regime],
                    "unit": unit,
                    "history": t.get("history", np.nan),
                    "stat": stat,
                    "model": scored,
                    "model_p5": p5,
                    "model_p50": p50,
                    "model_p95": p95,
                    "band_low": t["band_low"],
                    "band_high": t["band_high"],
                    "within_band": bool(t["band_low"] <= scored <= t["band_high"]),
                    "source": t["source"],
                }
            )
        return pd.DataFrame(rows)

    def paths_frame(self) -> pd.DataFrame:
        """episode, day, date, observed_10y_change_bp, model_p5, model_p50, model_p95 (as it happened)."""
        frames = []
        for episode, result in self.results.items():
            q = result.series_quantiles("yield_10y_change_bp")[:, 0]
            frames.append(
                pd.DataFrame(
                    {
                        "episode": episode,
                        "day": np.arange(result.days + 1),
                        "date": result.dates,
                        "observed_10y_change_bp": observed_change_bp(result),
                        "model_p5": q[0],
                        "model_p50": q[1],
                        "model_p95": q[2],
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def rmse_frame(self) -> pd.DataFrame:
        """episode, window, rmse_bp: the daily p50 10y path against DGS10 over named windows."""
        windows: dict[str, dict[str, tuple[int, int]]] = {
            "march_2020": {"10 Mar - 1 Apr (days 1-16)": (1, 16), "after the Fed's $75bn a day (days 8-16)": (8, 16)},
        }
        rows = []
        for episode, result in self.results.items():
            spans = windows.get(episode, {f"days 1-{result.days}": (1, result.days)})
            for name, (first, last) in spans.items():
                rmse = _path_values(result, 0, {"metric": "path_rmse_10y_bp", "window": [first, last]})
                rows.append({"episode": episode, "window": name, "rmse_bp": rmse})
        return pd.DataFrame(rows)

    def inputs_table(self) -> pd.DataFrame:
        """What each episode takes from data (not scored): fundamental path, flows, funding, Fed schedule."""
        rows = []
        for episode, result in self.results.items():
            sc = result.scenario
            f = sc.fundamental
            shocks = shock_paths(sc, result.days)
            if f.mode == "observed_share":
                how = f"{f.share:.0%} ({f.share_low:.0%}-{f.share_high:.0%}) of the observed DGS10/DGS30 moves"
            elif f.mode == "proxy_beta":
                assert shocks.proxy_betas is not None
                b10, b30 = shocks.proxy_betas
                how = (
                    f"{f.proxy_series} change x beta {b10.beta:.2f} (10y, se {b10.standard_error:.2f}) and "
                    f"{b30.beta:.2f} (30y), OLS on {b10.observations} days to {b10.end.date()}"
                )
            else:
                how = "given points"
            rows.append({"episode": episode, "input": "fundamental path", "value": how, "source": f.source})
            for flow in sc.flows:
                rows.append(
                    {
                        "episode": episode,
                        "input": f"{flow.sector} sales, days {flow.start_day}-{flow.end_day}",
                        "value": f"${flow.total_usd_bn:,.0f}bn",
                        "source": flow.source,
                    }
                )
            rows.append(
                {
                    "episode": episode,
                    "input": "funding stress (peak)",
                    "value": f"{shocks.funding_stress_bp.max():.0f}bp",
                    "source": sc.funding_stress.source,
                }
            )
            schedule = result.regimes[0].fed_backstop.purchase_schedule_usd_bn_per_day[: result.days]
            if schedule:
                rows.append(
                    {
                        "episode": episode,
                        "input": "Fed purchases as they happened",
                        "value": f"${sum(schedule):,.0f}bn over the window",
                        "source": "Bloomberg schedule table (V2); Fleming & Ruela, LSE 17 Apr 2020",
                    }
                )
        return pd.DataFrame(rows)


def _load_targets() -> tuple[dict, ...]:
    return tuple(tomllib.loads((SCENARIO_DIR / "history" / "targets.toml").read_text())["target"])


def backtest(
    paths: int = 2000,
    seed: int = 0,
    fundamental_mode: str | None = None,
    episodes: tuple[str, ...] = EPISODES,
    run: Callable[..., Result] = simulate,
) -> BacktestResult:
    """Run every episode under its as-it-happened regime and the comparison regimes."""
    results = {episode: _run_episode(run, episode, paths, seed, fundamental_mode) for episode in episodes}
    targets = tuple(t for t in _load_targets() if t["episode"] in episodes)
    return BacktestResult(results=results, targets=targets, fundamental_mode=fundamental_mode)


def _run_episode(run: Callable[..., Result], episode: str, paths: int, seed: int, mode: str | None) -> Result:
    own = load_scenario(episode).regime
    return run(episode, [own, *COMPARISON_REGIMES], paths=paths, seed=seed, fundamental_mode=mode)


def compare_fundamental_modes(paths: int = 2000, seed: int = 0) -> pd.DataFrame:
    """The backtest table under both fundamental paths, side by side (observed share vs 2y proxy)."""
    keys = ["episode", "metric", "label", "unit", "regime", "stat", "history", "band_low", "band_high"]
    tables = {
        mode: backtest(paths=paths, seed=seed, fundamental_mode=mode).table()[[*keys, "model", "within_band"]]
        for mode in ("observed_share", "proxy_beta")
    }
    return tables["observed_share"].merge(
        tables["proxy_beta"][["episode", "metric", "regime", "model", "within_band"]],
        on=["episode", "metric", "regime"],
        suffixes=("_observed_share", "_proxy_beta"),
    )
