"""The result of a run: named arrays plus tidy pandas frames, one object for every consumer."""

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from engine.dynamics import SECTORS, SERIES
from engine.metrics import EXCEEDANCES, METRICS, PROBABILITY_METRICS
from engine.scenario import Scenario
from engine.transmission import BOOKS
from policy import PolicyRegime

SCHEMA_VERSION = 3
# What each schema version changed, for readers of older files (also in README "Contracts").
SCHEMA_CHANGES: dict[int, str] = {
    1: "model 0.1: one dislocation factor; broken_market_probability_pct = utilization reached its cap",
    2: "model 2.0: separate basis, swap-spread and off-the-run channels; broken_market_probability_pct "
    "now means a breakdown beyond anything observed (dislocation >= 100bp or depth < $10mn, two trading "
    "days running) and "
    "dysfunction_probability_pct is new; calm_* costs priced through intermediation spreads; "
    "leverage is gross notional / net assets; new metrics and series are listed in METRICS and SERIES",
    3: "adds `baseline`, `differences` (each regime minus the baseline: the median and 5th-95th percentile of "
    "the path-by-path difference on common random numbers; for probabilities the difference of shares with a "
    "90% paired-bootstrap interval) and `exceedance_pct` (tail probabilities, engine.metrics.EXCEEDANCES); "
    "every field of version 2 keeps its meaning",
}
BOOTSTRAP_SAMPLES = 1000
STATS = ("p5", "p50", "p95")
_QUANTILES = (5.0, 50.0, 95.0)


def share_difference(regime: np.ndarray, baseline: np.ndarray, seed: int) -> dict[str, float]:
    """p5/p50/p95 of the difference of shares (pp) of two (P,) bool indicators on the same paths:
    p50 the difference itself, p5-p95 its 90% paired bootstrap (paths resampled for both at once).

    Seeded from the run's seed alone, so a pair gives the same interval in any run that holds it
    (a `Result` with both regimes, or a sweep that ran them in different calls).
    """
    diff = regime.astype(np.int8) - baseline
    n = diff.size
    # Resampling paths only moves the counts of paths where the regime is worse (+1) or better
    # (-1): a multinomial draw of those counts is the same bootstrap, without the P x B gather.
    shares = [(diff > 0).mean(), (diff < 0).mean()]
    rng = np.random.default_rng([seed, 20_201])
    counts = rng.multinomial(n, [*shares, 1.0 - sum(shares)], size=BOOTSTRAP_SAMPLES)
    boot = 100.0 * (counts[:, 0] - counts[:, 1]) / n
    low, high = np.percentile(boot, (5.0, 95.0))
    return {"p5": float(low), "p50": float(100.0 * diff.mean()), "p95": float(high)}


class _Summaries:
    """What a full `Result` and a summary-only `SummaryResult` share: summaries, paired differences
    and probabilities from the (R, P) metrics and indicators (the methods are Result's, moved here)."""

    regimes: tuple[PolicyRegime, ...]
    seed: int
    metrics: dict[str, np.ndarray]  # (R, P)

    def indicator(self, name: str) -> np.ndarray:
        raise NotImplementedError

    @property
    def regime_names(self) -> list[str]:
        return [r.name for r in self.regimes]

    def regime_index(self, name: str) -> int:
        return self.regime_names.index(name)

    def regime(self, name: str) -> PolicyRegime:
        return self.regimes[self.regime_index(name)]

    def summary(self) -> dict[str, dict[str, dict[str, float]]]:
        """{regime: {metric: {p5, p50, p95}}} (computed once per result; treat it as read-only)."""
        return self._summary

    @cached_property
    def _summary(self) -> dict[str, dict[str, dict[str, float]]]:
        out: dict[str, dict[str, dict[str, float]]] = {}
        for i, name in enumerate(self.regime_names):
            out[name] = {}
            for metric, values in self.metrics.items():
                q = np.percentile(values[i], _QUANTILES)
                out[name][metric] = {s: float(x) for s, x in zip(STATS, q, strict=True)}
        return out

    def summary_frame(self) -> pd.DataFrame:
        """Tidy table: regime, metric, unit, stat, value."""
        rows = [
            (regime, metric, METRICS[metric].unit, stat, value)
            for regime, metrics in self.summary().items()
            for metric, stats in metrics.items()
            for stat, value in stats.items()
        ]
        return pd.DataFrame(rows, columns=["regime", "metric", "unit", "stat", "value"])

    def paired_difference(self, metric: str, regime: str, baseline: str) -> dict[str, float]:
        """p5/p50/p95 of the path-by-path difference regime - baseline (common random numbers)."""
        diff = self.metrics[metric][self.regime_index(regime)] - self.metrics[metric][self.regime_index(baseline)]
        q = np.percentile(diff, _QUANTILES)
        return {s: float(x) for s, x in zip(STATS, q, strict=True)}

    def probability(self, name: str) -> np.ndarray:
        """(R,) share of paths in % for a probability-type outcome."""
        return 100.0 * self.indicator(name).mean(axis=1)

    def probability_difference(self, name: str, regime: str, baseline: str) -> dict[str, float]:
        """Difference of shares (pp), regime - baseline, with a 90% paired-bootstrap interval.

        Paths are resampled together for both regimes (common random numbers), so the interval is
        the Monte Carlo uncertainty of the difference; p50 holds the difference itself.
        """
        ind = self.indicator(name)
        return share_difference(ind[self.regime_index(regime)], ind[self.regime_index(baseline)], self.seed)

    def difference(self, name: str, regime: str, baseline: str) -> dict[str, float]:
        """The honest difference of a headline number: paired quantiles for metrics, a bootstrap
        interval for probabilities (`PROBABILITY_METRICS` and `EXCEEDANCES`)."""
        if name in PROBABILITY_METRICS or name in EXCEEDANCES:
            return self.probability_difference(name, regime, baseline)
        return self.paired_difference(name, regime, baseline)


@dataclass(frozen=True)
class Result(_Summaries):
    """Model output for one scenario and several regimes (arrays: regime x path [x day])."""

    model_version: str
    scenario: Scenario
    regimes: tuple[PolicyRegime, ...]
    seed: int
    paths: int
    days: int
    shock_scale: float
    dates: pd.DatetimeIndex
    metrics: dict[str, np.ndarray]  # (R, P)
    series: dict[str, np.ndarray]  # (R, P, T+1)
    sales_by_book_usd_bn: dict[str, np.ndarray]  # (R, P)
    net_purchases_usd_bn: dict[str, np.ndarray]  # (R, P, T+1), daily
    dysfunction: np.ndarray  # (R, P, T+1) bool: dysfunctional day
    breakdown: np.ndarray  # (R, P, T+1) bool: day beyond anything observed

    @property
    def broken(self) -> np.ndarray:
        """(R, P) bool: the path breaks down on at least one day."""
        return self.breakdown.any(axis=-1)

    def indicator(self, name: str) -> np.ndarray:
        """(R, P) bool of a probability-type outcome: dysfunction, breakdown or an exceedance."""
        if name == "dysfunction_probability_pct":
            return self.dysfunction.any(axis=-1)
        if name == "broken_market_probability_pct":
            return self.broken
        spec = EXCEEDANCES[name]
        values = self.metrics[spec.metric]
        return values > spec.threshold if spec.above else values < spec.threshold

    def series_quantiles(self, name: str) -> np.ndarray:
        """(3, R, T+1): p5, p50, p95 over paths of a daily series."""
        return np.percentile(self.series[name], _QUANTILES, axis=1)

    def _daily_frame(self, columns: dict[str, object], values: dict[str, np.ndarray]) -> pd.DataFrame:
        """One tidy block per regime: regime, day, date, the constant `columns`, the (R, T+1) `values`."""
        days = np.arange(self.days + 1)
        return pd.concat(
            [
                pd.DataFrame({"regime": regime, "day": days, "date": self.dates, **columns}
                             | {k: v[i] for k, v in values.items()})
                for i, regime in enumerate(self.regime_names)
            ],
            ignore_index=True,
        )

    def series_frame(self, names: list[str] | None = None) -> pd.DataFrame:
        """Tidy daily bands: regime, day, date, series, unit label, p5, p50, p95."""
        frames = []
        for name in names or list(SERIES):
            q = self.series_quantiles(name)
            bands = {"p5": q[0], "p50": q[1], "p95": q[2]}
            frames.append(self._daily_frame({"series": name, "label": SERIES[name]}, bands))
        return pd.concat(frames, ignore_index=True)

    def functioning_frame(self) -> pd.DataFrame:
        """Share of paths dysfunctional and broken down on each day: regime, day, date, two columns in %."""
        return self._daily_frame(
            {},
            {
                "dysfunction_share_pct": 100.0 * self.dysfunction.mean(axis=1),
                "breakdown_share_pct": 100.0 * self.breakdown.mean(axis=1),
            },
        )

    def holdings_frame(self) -> pd.DataFrame:
        """Mean cumulative net purchases by sector and day ($bn); sectors sum to zero each day."""
        frames = [
            self._daily_frame(
                {"sector": sector}, {"cumulative_net_purchases_usd_bn": daily.cumsum(axis=-1).mean(axis=1)}
            )
            for sector, daily in self.net_purchases_usd_bn.items()
        ]
        return pd.concat(frames, ignore_index=True)

    def to_dict(self, *, series: bool = False, baseline: str | None = None) -> dict[str, Any]:
        """The CLI's JSON contract (schema `SCHEMA_VERSION`); differences against `baseline`
        (default: the first regime)."""
        summary = self.summary()
        base = baseline or self.regime_names[0]
        if base not in self.regime_names:
            raise ValueError(f"baseline: {base!r} is not one of the regimes {self.regime_names}")
        regimes: dict[str, Any] = {}
        for i, name in enumerate(self.regime_names):
            entry: dict[str, Any] = {
                "summary": summary[name],
                "forced_sales_by_book_usd_bn": {
                    b: float(self.sales_by_book_usd_bn[b][i].mean()) for b in BOOKS
                },
                "net_purchases_usd_bn": {
                    s: float(self.net_purchases_usd_bn[s][i].sum(axis=-1).mean()) for s in SECTORS
                },
                "dysfunction_share_by_day_pct": [float(x) for x in 100.0 * self.dysfunction[i].mean(axis=0)],
                "exceedance_pct": {e: float(self.probability(e)[i]) for e in EXCEEDANCES},
            }
            if name != base:
                entry["differences"] = {
                    m: self.difference(m, name, base) for m in (*self.metrics, *EXCEEDANCES)
                }
            if series:
                entry["series"] = {
                    name: {
                        stat: [float(x) for x in q]
                        for stat, q in zip(STATS, self.series_quantiles(name)[:, i], strict=True)
                    }
                    for name in SERIES
                }
                entry["dates"] = [d.strftime("%Y-%m-%d") for d in self.dates]
            regimes[name] = entry
        return {
            "schema_version": SCHEMA_VERSION,
            "model_version": self.model_version,
            "scenario": self.scenario.name,
            "fundamental_mode": self.scenario.fundamental.mode,
            "seed": self.seed,
            "paths": self.paths,
            "days": self.days,
            "shock_scale": self.shock_scale,
            "baseline": base,
            "regimes": regimes,
        }


@dataclass(frozen=True)
class SummaryResult(_Summaries):
    """A summary-only run (`simulate(..., histories=False)`): the metrics and flags of every path,
    no daily history (arrays: regime x path).

    `summary()`, `metrics`, `probability()`, `paired_difference()` and `difference()` give what the
    full `Result` of the same run gives; series, frames by day and `to_dict` need `histories=True`.
    """

    model_version: str
    scenario: Scenario
    regimes: tuple[PolicyRegime, ...]
    seed: int
    paths: int
    days: int
    shock_scale: float
    dates: pd.DatetimeIndex
    metrics: dict[str, np.ndarray]  # (R, P)
    sales_by_book_usd_bn: dict[str, np.ndarray]  # (R, P)
    dysfunctional: np.ndarray  # (R, P) bool: at least one dysfunctional day
    broken: np.ndarray  # (R, P) bool: the path breaks down on at least one day

    @classmethod
    def from_result(cls, result: Result) -> "SummaryResult":
        """The summary-only view of a full result (drops the histories)."""
        return cls(
            model_version=result.model_version,
            scenario=result.scenario,
            regimes=result.regimes,
            seed=result.seed,
            paths=result.paths,
            days=result.days,
            shock_scale=result.shock_scale,
            dates=result.dates,
            metrics=result.metrics,
            sales_by_book_usd_bn=result.sales_by_book_usd_bn,
            dysfunctional=result.dysfunction.any(axis=-1),
            broken=result.broken,
        )

    def indicator(self, name: str) -> np.ndarray:
        """(R, P) bool of a probability-type outcome: dysfunction, breakdown or an exceedance."""
        if name == "dysfunction_probability_pct":
            return self.dysfunctional
        if name == "broken_market_probability_pct":
            return self.broken
        spec = EXCEEDANCES[name]
        values = self.metrics[spec.metric]
        return values > spec.threshold if spec.above else values < spec.threshold
