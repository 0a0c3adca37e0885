"""Sensitivity of the backtest to each tuned parameter: the scored statistic at its range ends.

For a sampled parameter the range end re-centres its Monte Carlo distribution (the mode); for a
fixed one it sets the value. Common random numbers make the differences paired. Era-level tuned
values (dealer capacity, calm utilization) move only the episodes of their era.
"""

from functools import partial

import pandas as pd

from engine.api import simulate
from engine.backtest import EPISODES, backtest
from engine.calibration import ERAS, load_calibration
from engine.run import assumption_ranges


def tuned_parameters() -> dict[str, str]:
    """Name -> what it was tuned to, over every era's calibration."""
    tuned: dict[str, str] = {}
    for era in ERAS:
        for value in load_calibration(era).values.values():  # type: ignore[arg-type]
            if value.tuned_to:
                tuned[value.name] = value.tuned_to
    return tuned


def sensitivity(paths: int = 1000, seed: int = 0, episodes: tuple[str, ...] = EPISODES) -> pd.DataFrame:
    """parameter, tuned_to, value, setting (low/high), set_to, episode, metric, model at baseline and moved."""
    base = backtest(paths=paths, seed=seed, episodes=episodes).table()
    rows = []
    for name, tuned_to in tuned_parameters().items():
        relevant = [e for e in episodes if name in assumption_ranges(e)]
        for setting in ("low", "high"):
            moved_tables = []
            for episode in relevant:
                item = assumption_ranges(episode)[name]
                value = item.low if setting == "low" else item.high
                run = partial(simulate, assumptions={name: value})
                table = backtest(paths=paths, seed=seed, episodes=(episode,), run=run).table()
                moved_tables.append(table.assign(set_to=value))
            if not moved_tables:
                continue
            moved = pd.concat(moved_tables, ignore_index=True)
            merged = base.merge(
                moved[["episode", "metric", "regime", "model", "set_to"]],
                on=["episode", "metric", "regime"],
                suffixes=("_baseline", "_moved"),
            )
            for _, row in merged.iterrows():
                rows.append(
                    {
                        "parameter": name,
                        "tuned_to": tuned_to,
                        "value": assumption_ranges(row["episode"])[name].value,
                        "setting": setting,
                        "set_to": row["set_to"],
                        "episode": row["episode"],
                        "metric": row["metric"],
                        "model_baseline": row["model_baseline"],
                        "model_moved": row["model_moved"],
                    }
                )
    return pd.DataFrame(rows)
