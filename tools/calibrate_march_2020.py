"""Fit the central values of the tuned structural parameters to March 2020 (run by hand).

    .venv/bin/python tools/calibrate_march_2020.py            # evaluate the committed values
    .venv/bin/python tools/calibrate_march_2020.py --fit 250  # Nelder-Mead from them, 250 steps

Objective (prior-weighted least squares, March 2020 only; April 2025 and the placebos never enter):
the daily p50 10y and 30y paths against FRED DGS10/DGS30 over days 1-15; the trough of depth
($38mn) and RV net sales ($173bn) in logs; the basis book unwinding more than the swap-spread book;
the p50 10y peak near +64bp with a p95 no more than 2.2x it; the RV equity drawdown near the -7%
fund return of Kruttli et al. (2021); dysfunction on most paths and breakdown rare as it happened;
and calm-market stability: a one-day $20bn sale in a calm 2020 market must trigger less than $5bn
of RV sales (a market that spirals on routine flows is not the market of 2019-20). Each parameter
has a Gaussian prior around its documented prior centre. Ranges keep their relative width when a
centre moves. The fitted values are then written into scenarios/calibration/ by hand, rounded.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import engine.api as api
from engine import calibration
from engine.scenario import Scenario, history_frame

# name: (search low, search high, prior centre, prior sd)
PARAMETERS: dict[str, tuple[float, float, float, float]] = {
    "dislocation_slope_bp": (3.0, 20.0, 6.0, 4.0),
    "dealer_capacity_usd_bn": (80.0, 500.0, 150.0, 75.0),
    "value_buyer_elasticity_usd_bn_per_bp_per_tn": (0.05, 0.8, 0.15, 0.1),
    "long_value_buyer_depth_ratio": (0.3, 2.0, 1.0, 0.3),
    "dealer_long_capacity_share": (0.15, 0.5, 0.3, 0.1),
    "liquidity_derisking_elasticity": (0.5, 2.5, 1.0, 0.5),
    "basis_balance_sheet_slope_bp": (0.5, 10.0, 3.0, 2.0),
    "volatility_feedback": (0.2, 1.5, 0.6, 0.3),
    "depth_utilization_exponent": (0.05, 1.0, 0.3, 0.3),
    "long_end_comovement_beta": (0.0, 1.0, 0.5, 0.3),
    "calm_utilization": (0.4, 0.8, 0.6, 0.1),
}
_BASE_LOAD = calibration.load_calibration

IMPULSE = Scenario.model_validate(
    {
        "name": "calm_impulse_2020", "title": "A calm-market impulse", "kind": "forward", "era": "2020",
        "day0": "2020-02-03", "default_days": 20, "regime": "as_of_march_2020", "shock_size_sd": 0.0,
        "description": "One $20bn sale on day 1 in a calm market",
        "fundamental": {"mode": "points", "points": [[0, 0.0]], "source": "none"},
        "funding_stress": {"mode": "points", "points": [[0, 0.0]], "source": "none"},
        "flows": [{"sector": "treasury", "total_usd_bn": 20.0, "start_day": 1, "end_day": 1, "source": "impulse"}],
    }
)


def use_values(values: dict[str, float]) -> None:
    """Make the engine run with these central values (ranges keep their relative width)."""

    def patched(era: calibration.Era) -> calibration.Calibration:
        cal = _BASE_LOAD(era)
        items = dict(cal.values)
        for name, value in values.items():
            item = items.get(name)
            if item is None:
                continue
            if item.value > 0 and item.low > 0:
                low, high = value * item.low / item.value, value * item.high / item.value
            else:
                low, high = min(item.low, value), max(item.high, value)
            items[name] = item.model_copy(update={"value": float(value), "low": low, "high": high})
        return cal.model_copy(update={"values": items})

    api.load_calibration = patched  # type: ignore[assignment]


def _observed(result: api.Result, column: str) -> np.ndarray:
    frame = history_frame(result.scenario)
    assert frame is not None
    series = frame[column].reindex(result.dates).ffill()
    return ((series - series.iloc[0]) * 100.0).to_numpy()


def objective(values: dict[str, float], paths: int = 300, verbose: bool = False) -> float:
    use_values(values)
    r = api.simulate("march_2020", paths=paths, seed=0)
    s, m = r.series, r.metrics
    p10 = np.median(s["yield_10y_change_bp"][0], axis=0)
    p30 = np.median(s["yield_30y_change_bp"][0], axis=0)
    rmse10 = float(np.sqrt(np.mean((p10[1:16] - _observed(r, "dgs10_pct")[1:16]) ** 2)))
    rmse30 = float(np.sqrt(np.mean((p30[1:16] - _observed(r, "dgs30_pct")[1:16]) ** 2)))
    peak = np.percentile(m["peak_10y_yield_change_bp"][0], [5, 50, 95])
    depth = float(np.median(m["trough_market_depth_usd_mn"][0]))
    sales = float(np.median(m["forced_sales_usd_bn"][0]))
    basis, swap = (float(r.sales_by_book_usd_bn[b][0].mean()) for b in ("basis", "swap_spread"))
    equity = s["fund_equity_usd_bn"][0]
    drawdown = float(np.median(equity.min(axis=-1) / equity[:, 0] - 1.0))
    dysfunction = float(m["dysfunction_probability_pct"][0][0])
    breakdown = float(m["broken_market_probability_pct"][0][0])
    impulse = api.simulate(IMPULSE, paths=200, seed=0)
    amplification = float(np.median(impulse.metrics["forced_sales_usd_bn"][0])) / 20.0
    loss = (rmse10 / 10) ** 2 + (rmse30 / 15) ** 2
    loss += (np.log(depth / 38) / 0.25) ** 2 + (np.log(sales / 173) / 0.25) ** 2
    loss += (max(0.0, swap - basis) / 20) ** 2 + (np.log(peak[1] / 64) / 0.2) ** 2
    loss += (max(0.0, peak[2] / peak[1] - 2.2) / 0.3) ** 2
    loss += (np.log(max(-drawdown, 1e-3) / 0.07) / 0.5) ** 2
    loss += (max(0.0, breakdown - 5.0) / 5.0) ** 2 + (max(0.0, 60.0 - dysfunction) / 10.0) ** 2
    loss += (max(0.0, amplification - 0.25) / 0.05) ** 2
    loss += sum(((values[k] - centre) / sd) ** 2 for k, (_, _, centre, sd) in PARAMETERS.items())
    if verbose:
        print(json.dumps({k: round(v, 4) for k, v in values.items()}))
        print(
            f"10y path RMSE {rmse10:.1f}bp, 30y {rmse30:.1f}bp | peak p5/p50/p95 {peak.round(1)} | depth {depth:.1f} | "
            f"sales {sales:.1f} (basis {basis:.0f}, swap {swap:.0f}) | drawdown {100 * drawdown:.1f}% | "
            f"dysfunction {dysfunction:.0f}% breakdown {breakdown:.0f}% | calm impulse x{amplification:.2f} | loss {loss:.2f}"
        )
    return loss


def committed_values() -> dict[str, float]:
    cal = _BASE_LOAD("2020")
    return {name: cal[name] for name in PARAMETERS}


def fit(start: dict[str, float], steps: int) -> dict[str, float]:
    """Nelder-Mead in the unit cube of the search ranges."""
    bounds = list(PARAMETERS.values())
    names = list(PARAMETERS)

    def values_of(z: np.ndarray) -> dict[str, float]:
        return {n: lo + float(np.clip(v, 0, 1)) * (hi - lo) for n, v, (lo, hi, _, _) in zip(names, z, bounds, strict=True)}

    z0 = np.array([(start[n] - lo) / (hi - lo) for n, (lo, hi, _, _) in zip(names, bounds, strict=True)])
    simplex = [z0] + [z0 + 0.15 * np.eye(len(z0))[k] for k in range(len(z0))]
    losses = [objective(values_of(z)) for z in simplex]
    for _ in range(steps):
        order = np.argsort(losses)
        simplex, losses = [simplex[k] for k in order], [losses[k] for k in order]
        centre = np.mean(simplex[:-1], axis=0)
        reflected = centre + (centre - simplex[-1])
        f_reflected = objective(values_of(reflected))
        if f_reflected < losses[0]:
            expanded = centre + 2 * (centre - simplex[-1])
            f_expanded = objective(values_of(expanded))
            simplex[-1], losses[-1] = (expanded, f_expanded) if f_expanded < f_reflected else (reflected, f_reflected)
        elif f_reflected < losses[-2]:
            simplex[-1], losses[-1] = reflected, f_reflected
        else:
            contracted = centre + 0.5 * (simplex[-1] - centre)
            f_contracted = objective(values_of(contracted))
            if f_contracted < losses[-1]:
                simplex[-1], losses[-1] = contracted, f_contracted
            else:
                simplex = [simplex[0]] + [simplex[0] + 0.5 * (z - simplex[0]) for z in simplex[1:]]
                losses = [losses[0]] + [objective(values_of(z)) for z in simplex[1:]]
    return values_of(simplex[int(np.argmin(losses))])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", type=int, default=0, help="Nelder-Mead steps (0: evaluate only)")
    args = parser.parse_args()
    values = committed_values()
    objective(values, paths=1000, verbose=True)
    if args.fit:
        best = fit(values, args.fit)
        print("fitted:")
        objective(best, paths=1000, verbose=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
