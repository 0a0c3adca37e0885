"""Sensitivity of the backtest to each tuned parameter: p50 of every target at its range ends.

For a sampled parameter the range end re-centres its Monte Carlo distribution (the mode); for a
fixed one it sets the value. Common random numbers make the differences paired.
"""

import pandas as pd

from engine.api import simulate
from engine.backtest import EPISODES, backtest
from engine.calibration import load_calibration


def tuned_parameters() -> dict[str, str]:
    """Name -> what it was tuned to, over both eras' calibration."""
    tuned: dict[str, str] = {}
    for era in ("2020", "2025"):
        for value in load_calibration(era).values.values():
            if value.tuned_to:
                tuned[value.name] = value.tuned_to
    return tuned


def sensitivity(paths: int = 1000, seed: int = 0) -> pd.DataFrame:
    """parameter, tuned_to, value, setting (low/high), episode, metric, p50 at baseline and moved."""
    base = backtest(paths=paths, seed=seed)
    targets = base.table()
    rows = []
    for name, tuned_to in tuned_parameters().items():
        for episode in EPISODES:
            cal = load_calibration(base.results[episode].scenario.era)
            if name not in cal.values:
                continue
            item = cal.values[name]
            for setting, value in (("low", item.low), ("high", item.high)):
                moved = simulate(episode, paths=paths, seed=seed, assumptions={name: value}).summary()
                regime = base.results[episode].regime_names[0]
                for _, t in targets[targets["episode"] == episode].iterrows():
                    rows.append(
                        {
                            "parameter": name,
                            "tuned_to": tuned_to,
                            "value": item.value,
                            "setting": setting,
                            "set_to": value,
                            "episode": episode,
                            "metric": t["metric"],
                            "p50_baseline": t["model_p50"],
                            "p50_moved": moved[regime][t["metric"]]["p50"],
                        }
                    )
    return pd.DataFrame(rows)
