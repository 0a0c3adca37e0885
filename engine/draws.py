"""Monte Carlo draws with common random numbers.

Every draw depends only on the seed, the path count, the scenario and the calibration, never on
the regimes in the run: every regime sees the same shocks, so differences between regimes are
paired and a regime's result does not depend on its companions.
"""

from dataclasses import dataclass

import numpy as np

from engine.calibration import Calibration
from engine.scenario import Scenario


@dataclass(frozen=True)
class Draws:
    """Per-path draws: calibrated values (P,), shock-size multiplier (P,), flow noise (P, T+1).

    `proxy_beta_z` (P, 2) are standard normals that place each path's 10y and 30y proxy betas
    within their estimation error (used only by the proxy_beta fundamental mode, drawn always so
    the other draws do not depend on the mode).
    """

    values: dict[str, np.ndarray]
    shock_size: np.ndarray
    fundamental_share: np.ndarray
    capacity_multiplier: np.ndarray
    flow_noise: np.ndarray
    proxy_beta_z: np.ndarray

    def value(self, name: str) -> np.ndarray:
        return self.values[name]


def _triangular(rng: np.random.Generator, low: float, mode: float, high: float, n: int) -> np.ndarray:
    if high <= low:
        return np.full(n, mode)
    return rng.triangular(low, mode, high, size=n)


def draw(scenario: Scenario, calibration: Calibration, paths: int, days: int, seed: int) -> Draws:
    """Draw every uncertain input for `paths` Monte Carlo paths."""
    root = np.random.SeedSequence(seed)
    # Separate streams per kind of draw, so adding days does not shift the per-path draws.
    scalar_rng, noise_rng = (np.random.default_rng(s) for s in root.spawn(2))
    values: dict[str, np.ndarray] = {}
    for item in sorted(calibration.values.values(), key=lambda v: v.name):
        if item.sampled:
            values[item.name] = _triangular(scalar_rng, item.low, item.value, item.high, paths)
        else:
            values[item.name] = np.full(paths, item.value)
    shock_size = np.exp(scenario.shock_size_sd * scalar_rng.standard_normal(paths))
    shock_size /= np.exp(0.5 * scenario.shock_size_sd**2)  # mean one
    fundamental = scenario.fundamental
    # Drawn in every mode (ones outside observed_share) so the later draws keep their stream.
    share = _triangular(scalar_rng, fundamental.share_low, fundamental.share, fundamental.share_high, paths)
    if fundamental.mode != "observed_share":
        share = np.ones(paths)
    capacity_sd = calibration["dealer_capacity_uncertainty_sd"]
    capacity = np.exp(capacity_sd * scalar_rng.standard_normal(paths) - 0.5 * capacity_sd**2)
    proxy_beta_z = scalar_rng.standard_normal((paths, 2))
    noise_sd = calibration["flow_noise_sd"]
    # Drawn day-major so that a longer window keeps the first days' draws.
    normal = noise_rng.standard_normal((days + 1, paths)).T
    noise = np.exp(noise_sd * normal - 0.5 * noise_sd**2)
    return Draws(values, shock_size, share, capacity, noise, proxy_beta_z)
