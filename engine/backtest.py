"""Backtest: model versus history for March 2020 and April 2025, under the as-it-happened regimes.

Structural parameters are tuned on March 2020 only; April 2025 is out of sample (only the era's
positions, rules and the episode's exogenous shocks differ).
"""

import tomllib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.api import simulate
from engine.metrics import METRICS
from engine.result import Result
from engine.scenario import SCENARIO_DIR, history_frame

EPISODES: tuple[str, ...] = ("march_2020", "april_2025")


@dataclass(frozen=True)
class BacktestResult:
    """Model runs of both episodes and the history they are compared with."""

    results: dict[str, Result]
    targets: tuple[dict, ...]

    def table(self) -> pd.DataFrame:
        """episode, metric, unit, history, model_p5, model_p50, model_p95, band_low, band_high, within_band, source."""
        rows = []
        for t in self.targets:
            result = self.results[t["episode"]]
            stats = result.summary()[result.regime_names[0]][t["metric"]]
            rows.append(
                {
                    "episode": t["episode"],
                    "metric": t["metric"],
                    "unit": METRICS[t["metric"]].unit,
                    "history": t["history"],
                    "model_p5": stats["p5"],
                    "model_p50": stats["p50"],
                    "model_p95": stats["p95"],
                    "band_low": t["band_low"],
                    "band_high": t["band_high"],
                    "within_band": bool(t["band_low"] <= stats["p50"] <= t["band_high"]),
                    "source": t["source"],
                }
            )
        return pd.DataFrame(rows)

    def paths_frame(self) -> pd.DataFrame:
        """episode, day, date, observed_10y_change_bp, model_p5, model_p50, model_p95."""
        frames = []
        for episode, result in self.results.items():
            observed = history_frame(result.scenario)
            assert observed is not None
            dgs10 = observed["dgs10_pct"].reindex(result.dates).ffill()
            q = result.series_quantiles("yield_10y_change_bp")[:, 0]
            frames.append(
                pd.DataFrame(
                    {
                        "episode": episode,
                        "day": np.arange(result.days + 1),
                        "date": result.dates,
                        "observed_10y_change_bp": ((dgs10 - dgs10.iloc[0]) * 100.0).to_numpy(),
                        "model_p5": q[0],
                        "model_p50": q[1],
                        "model_p95": q[2],
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)


def backtest(paths: int = 2000, seed: int = 0) -> BacktestResult:
    """Run both episodes under their as-it-happened regimes."""
    targets = tomllib.loads((SCENARIO_DIR / "history" / "targets.toml").read_text())["target"]
    results = {episode: simulate(episode, paths=paths, seed=seed) for episode in EPISODES}
    return BacktestResult(results=results, targets=tuple(targets))
