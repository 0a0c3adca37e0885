"""The claims of model v2, each checked against the engine (MODEL.md; structural.toml sources).

Thresholds were set after measuring, with a margin; the measured values (seed and path count as in
the test) are in the comments. Runs are cached and small: the file runs in seconds on two cores.
"""

import itertools
import tomllib
from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest

import engine
import engine.scenario as scenario_module
import policy
from engine.calibration import CALIBRATION_DIR, ERAS, load_calibration
from engine.draws import draw
from engine.scenario import Scenario, load_scenario, shock_paths, with_fundamental_mode

SQ = policy.get_preset("status_quo")
NEVER = 10**6  # "first day" of an event that does not happen in the window


def forward(
    name: str,
    *,
    era: str = "2025",
    day0: str = "2026-12-01",
    days: int = 20,
    flows: tuple[tuple[str, float, int, int], ...] = (),
    funding: tuple[tuple[int, float], ...] = ((0, 0.0),),
    regime: str = "status_quo",
) -> Scenario:
    """A forward scenario with no fundamental move, the given sales and funding stress, no size noise."""
    return Scenario.model_validate(
        {
            "name": name,
            "title": name,
            "kind": "forward",
            "era": era,
            "day0": day0,
            "default_days": days,
            "regime": regime,
            "shock_size_sd": 0.0,
            "description": "test scenario",
            "fundamental": {"mode": "points", "points": [[0, 0.0]], "source": "test: no fundamental move"},
            "funding_stress": {"mode": "points", "points": [list(p) for p in funding], "source": "test"},
            "flows": [
                {"sector": s, "total_usd_bn": v, "start_day": a, "end_day": b, "source": "test"} for s, v, a, b in flows
            ],
        }
    )


@cache
def run(
    scenario: str | Scenario,
    regimes: tuple[Any, ...] | None = None,
    paths: int = 300,
    seed: int = 0,
    assumptions: tuple[tuple[str, float], ...] = (),
    fundamental_mode: str | None = None,
) -> engine.Result:
    return engine.simulate(
        scenario,
        list(regimes) if regimes else None,
        paths=paths,
        seed=seed,
        assumptions=dict(assumptions) or None,
        fundamental_mode=fundamental_mode,
    )


def variant(changes: Mapping[str, Any], name: str, base: policy.PolicyRegime = SQ) -> policy.PolicyRegime:
    return policy.with_changes(base, dict(changes), name=name)


def metric(r: engine.Result, name: str, regime: str | None = None) -> np.ndarray:
    return r.metrics[name][r.regime_index(regime) if regime else 0]


def first_day(mask: np.ndarray) -> np.ndarray:
    """Index of the first True along the last axis, NEVER where there is none."""
    return np.where(mask.any(axis=-1), mask.argmax(axis=-1), NEVER)


# --- the Fed's rule: timing, lag, per-path threshold and lag -------------------------------------

# A $250bn one-day sale (Treasury supply dealers must take) on day 2 of a calm 2026 market.
BIG_SALE = forward("big_sale", flows=(("treasury", 250.0, 2, 2),))
LAGS = range(6)
LAG_PATHS, LAG_SEED = 300, 1


def _lag_run(assumptions: tuple[tuple[str, float], ...] = ()) -> engine.Result:
    regs = tuple(variant({"fed_backstop.lag_days": lag}, f"lag {lag}") for lag in LAGS)
    return run(BIG_SALE, regs, paths=LAG_PATHS, seed=LAG_SEED, assumptions=assumptions)


def _per_path_rule(assumptions: Mapping[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each path's threshold (bp) and lag deviation (days), drawn as the engine draws them."""
    cal = load_calibration("2025")
    if assumptions:
        values = {k: v.model_copy(update={"value": assumptions[k]}) if k in assumptions else v for k, v in cal.values.items()}
        cal = cal.model_copy(update={"values": values})
    d = draw(BIG_SALE, cal, LAG_PATHS, BIG_SALE.default_days, LAG_SEED)
    threshold = np.maximum(SQ.fed_backstop.threshold_bp + d.value("fed_threshold_deviation_bp"), 0.0)
    return threshold, np.rint(d.value("fed_lag_deviation_days")).astype(int)


def test_with_no_lag_the_rule_buys_the_day_the_dislocation_passes_its_threshold() -> None:
    r = _lag_run()
    i = r.regime_index("lag 0")
    dislocation, fed = r.series["dislocation_bp"][i], r.series["fed_purchases_usd_bn"][i]
    threshold, lag_deviation = _per_path_rule()
    same_day = lag_deviation <= 0  # the lag never goes below 0
    assert same_day.mean() > 0.5  # 265 of 300 paths
    crossed = first_day(dislocation > threshold[:, None])
    bought = first_day(fed > 0)
    assert (crossed < NEVER).mean() > 0.9  # the dislocation passes the threshold on 296 of 300 paths
    np.testing.assert_array_equal(bought[same_day], crossed[same_day])
    # The same-day solve: on the first day purchases are slope x (d - threshold) at the day's own d.
    rows = np.flatnonzero(same_day & (bought < NEVER))
    days = bought[rows]
    rule = np.minimum(
        SQ.fed_backstop.slope_usd_bn_per_bp * (dislocation[rows, days] - threshold[rows]), SQ.fed_backstop.max_pace_usd_bn_per_day
    )
    np.testing.assert_allclose(fed[rows, days], rule, rtol=1e-9, atol=1e-9)
    assert np.all(dislocation[rows, days - 1] <= threshold[rows])


def test_every_lag_runs_and_a_longer_lag_never_buys_earlier() -> None:
    r = _lag_run()
    bought = np.stack([first_day(r.series["fed_purchases_usd_bn"][r.regime_index(f"lag {lag}")] > 0) for lag in LAGS])
    assert np.all(np.diff(bought, axis=0) >= 0), "a longer lag bought earlier on some path"
    # Before its first purchase the market is the same under every lag, so the rule first buys
    # exactly `lag` days (the path's own lag) after the dislocation passes the threshold.
    threshold, lag_deviation = _per_path_rule()
    crossed = first_day(r.series["dislocation_bp"][0] > threshold[:, None])
    for lag in LAGS:
        expected = crossed + np.maximum(lag + lag_deviation, 0)
        expected = np.where(expected <= r.days, expected, NEVER)
        np.testing.assert_array_equal(bought[lag], expected, err_msg=f"lag {lag}")
    # Median first purchase on days 2, 3, 4, 5, 6, 7 for lags 0 to 5.
    assert [int(np.median(b)) for b in bought] == [2, 3, 4, 5, 6, 7]
    peaks = [float(np.median(metric(r, "peak_10y_yield_change_bp", f"lag {lag}"))) for lag in LAGS]
    assert all(b > a for a, b in itertools.pairwise(peaks)), peaks  # 42, 55, 70, 81, 89, 94bp


def test_the_rules_threshold_and_lag_are_drawn_per_path() -> None:
    threshold, lag_deviation = _per_path_rule()
    assert threshold.min() < 22.0 and threshold.max() > 30.0, "thresholds spread over 20-35bp"
    assert set(np.unique(lag_deviation)) == {-1, 0, 1}


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [("fed_threshold_deviation_bp", -5.0, 10.0), ("fed_lag_deviation_days", -1.0, 1.0)],
)
def test_re_centring_the_rules_threshold_or_lag_moves_the_result_the_expected_way(name: str, low: float, high: float) -> None:
    """Re-centring moves each path's draw one way (the triangular quantile rises with its mode)."""
    regs = (variant({}, "rule"),)
    early = run(BIG_SALE, regs, paths=LAG_PATHS, seed=LAG_SEED, assumptions=((name, low),))
    late = run(BIG_SALE, regs, paths=LAG_PATHS, seed=LAG_SEED, assumptions=((name, high),))
    bought_early = first_day(early.series["fed_purchases_usd_bn"][0] > 0)
    bought_late = first_day(late.series["fed_purchases_usd_bn"][0] > 0)
    # Measured (300 paths, seed 1): the first purchase comes later on 17% of paths (threshold -5 ->
    # +10bp) and on 75% (lag -1 -> +1 day), never earlier; the median peak rises 54 -> 58bp and 47 -> 59bp,
    # and no path's peak falls.
    assert np.all(bought_late >= bought_early), "a higher threshold or longer lag bought earlier"
    assert np.mean(bought_late > bought_early) > 0.1
    peak_early, peak_late = metric(early, "peak_10y_yield_change_bp"), metric(late, "peak_10y_yield_change_bp")
    assert np.all(peak_late >= peak_early - 1e-9)
    assert np.median(peak_late) > np.median(peak_early) + 2.0


# --- each spread moves with its own driver -------------------------------------------------------

FUNDING_ONLY = forward("funding_only", funding=((0, 0.0), (1, 30.0), (10, 30.0), (11, 0.0)))
SALES_ONLY = forward("sales_only", flows=(("foreign_official", 100.0, 1, 10),))
NO_FED = ("no_fed_backstop",)  # no rule reacting to the 10y, so each driver acts alone


def _peaks(r: engine.Result) -> dict[str, np.ndarray]:
    s = r.series
    swap = s["swap_spread_30y_bp"][0]
    return {
        "basis": s["basis_widening_bp"][0].max(axis=-1),
        "swap_widening": (swap[:, :1] - swap).max(axis=-1),
        "dislocation": s["dislocation_bp"][0].max(axis=-1),
    }


def test_funding_stress_moves_the_basis_far_more_than_the_swap_spread() -> None:
    """The basis has a driver the swap spread lacks: persistent funding stress (basis_funding_pass_through)."""
    funding, sales = _peaks(run(FUNDING_ONLY, NO_FED)), _peaks(run(SALES_ONLY, NO_FED))
    funding_ratio = np.median(funding["basis"] / funding["swap_widening"])
    sales_ratio = np.median(sales["basis"] / sales["swap_widening"])
    # Measured (300 paths, seed 0): basis / swap-spread widening 0.72 under 30bp of funding stress,
    # 0.12 under $100bn of foreign sales (basis 1.5bp vs 2.6bp, swap spread 2.1bp vs 22bp).
    assert funding_ratio > 3.0 * sales_ratio, (funding_ratio, sales_ratio)
    assert np.median(funding["basis"]) > 1.0
    # Its funding part alone is at least pass-through x the persistent stress the funds felt.
    assert np.all(funding["basis"] > 0.0)


def test_the_swap_spread_follows_the_long_segment_and_not_the_10y() -> None:
    lo = run(SALES_ONLY, NO_FED, assumptions=(("long_end_comovement_beta", 0.42),))
    hi = run(SALES_ONLY, NO_FED, assumptions=(("long_end_comovement_beta", 0.78),))
    a, b = _peaks(lo), _peaks(hi)
    # Measured: the swap spread widens 4.2bp more at the median (at least 0.4bp on every path) ...
    assert np.all(b["swap_widening"] > a["swap_widening"])
    assert np.median(b["swap_widening"] - a["swap_widening"]) > 2.0
    # ... while the 10y dislocation moves by at most 1.4% on 95% of paths.
    change = np.abs(b["dislocation"] - a["dislocation"]) / a["dislocation"]
    assert np.percentile(change, 95) < 0.05


def test_more_long_end_flows_move_the_long_end_not_the_10y() -> None:
    lo = run(SALES_ONLY, NO_FED, assumptions=(("long_end_share_of_flows", 0.15),))
    hi = run(SALES_ONLY, NO_FED, assumptions=(("long_end_share_of_flows", 0.35),))
    assert np.all(_peaks(hi)["dislocation"] < _peaks(lo)["dislocation"]), "less flow into 2-10y, less 10y dislocation"
    # The long segment's own cheapening (the 30y's beyond its co-movement with the 10y) rises.
    cal = load_calibration("2025")
    beta = draw(SALES_ONLY, cal, 300, SALES_ONLY.default_days, 0).value("long_end_comovement_beta")[:, None]

    def own(r: engine.Result) -> np.ndarray:
        return (r.series["long_dislocation_bp"][0] - beta * r.series["dislocation_bp"][0]).max(axis=-1)

    # Measured: median 10.3bp -> 13.9bp, higher on 95% of paths.
    assert np.median(own(hi)) > np.median(own(lo)) + 2.0
    assert np.mean(own(hi) > own(lo)) > 0.85


def test_the_off_the_run_spread_is_beta_times_the_10y_dislocation() -> None:
    """other_dislocation_beta prices only the other RV book: its sales respond, the others' barely."""
    lo = run(SALES_ONLY, NO_FED, assumptions=(("other_dislocation_beta", 0.3),))
    hi = run(SALES_ONLY, NO_FED, assumptions=(("other_dislocation_beta", 0.8),))
    ratio = {b: np.median(hi.sales_by_book_usd_bn[b][0] / lo.sales_by_book_usd_bn[b][0]) for b in ("basis", "swap_spread", "other")}
    # Measured: other book x2.65, basis x1.10, swap-spread x1.16 (through the 10y it sells into).
    assert ratio["other"] > 2.0 and ratio["basis"] < 1.3 and ratio["swap_spread"] < 1.3, ratio
    assert np.all(hi.sales_by_book_usd_bn["other"][0] > lo.sales_by_book_usd_bn["other"][0])


# --- placebos: a funding spike and an orderly repricing are not fire sales ------------------------


@pytest.mark.parametrize(
    ("name", "regime", "max_dysfunction_pct"),
    [
        # Measured (400 paths, seed 0): RV sales p50 $37.7bn, breakdown 0%, dysfunction 10.75%
        # (13.25% on 2,000 paths: the +311bp SOFR spike of 17 Sep 2019 still trips a few paths).
        ("repo_spike_2019", "as_of_september_2019", 20.0),
        # Measured: RV sales p50 $34.5bn, breakdown 0%, dysfunction 0%.
        ("term_premium_2023", "as_of_april_2025", 2.0),
    ],
)
def test_placebos_are_calm(name: str, regime: str, max_dysfunction_pct: float) -> None:
    r = run(name, paths=400)
    assert r.regime_names == [regime]
    march = run("march_2020", paths=400)  # RV sales p50 $91bn
    assert np.median(metric(r, "forced_sales_usd_bn")) < 0.5 * np.median(metric(march, "forced_sales_usd_bn"))
    assert metric(r, "broken_market_probability_pct")[0] <= 1.0
    assert metric(r, "dysfunction_probability_pct")[0] <= max_dysfunction_pct
    assert np.all(metric(r, "fed_purchases_usd_bn") == 0), "the rules of the day had no backstop"


# --- March 2020 as it happened -------------------------------------------------------------------

MARCH_PATHS = 2000


def test_march_2020_as_it_happened_dysfunction_common_breakdown_rare() -> None:
    r = run("march_2020", paths=MARCH_PATHS)
    assert r.regime_names == ["as_of_march_2020"]
    # Measured (2,000 paths, seed 0): dysfunction 80.7%, breakdown 10.45%.
    assert metric(r, "dysfunction_probability_pct")[0] > 50.0
    assert metric(r, "broken_market_probability_pct")[0] < 20.0


def test_march_2020_history_lies_inside_the_fan() -> None:
    peaks = metric(run("march_2020", paths=MARCH_PATHS), "peak_10y_yield_change_bp")
    p25, p75 = np.percentile(peaks, [25, 75])  # measured 35.3bp and 81.6bp (p50 53.5)
    observed = 64.0  # DGS10 0.54% on 9 Mar to 1.18% on 18 Mar 2020
    assert p25 <= observed <= p75


def _smoothed_histogram_modes(values: np.ndarray, width: float = 10.0, floor: float = 0.05) -> list[float]:
    """Local maxima of a 10bp histogram smoothed with [1, 2, 1] / 4, ignoring bins under 5% of the peak."""
    counts, edges = np.histogram(values, bins=np.arange(0.0, values.max() + width, width))
    smooth = np.convolve(np.pad(counts.astype(float), 1, mode="edge"), [0.25, 0.5, 0.25], mode="valid")
    padded = np.concatenate([[-np.inf], smooth, [-np.inf]])
    is_max = (padded[1:-1] > padded[:-2]) & (padded[1:-1] >= padded[2:]) & (smooth > floor * smooth.max())
    return [float(edges[i] + width / 2) for i in np.flatnonzero(is_max)]


def test_march_2020_fan_of_the_10y_peak_is_unimodal() -> None:
    peaks = metric(run("march_2020", paths=MARCH_PATHS), "peak_10y_yield_change_bp")
    # Measured: one mode at 35bp (seeds 0-11 all give one; a 20,000-path histogram falls steadily
    # from 30-40bp out to the tail). Without smoothing, 2,000 paths leave sampling bumps in the tail.
    modes = _smoothed_histogram_modes(peaks)
    assert len(modes) == 1, modes
    assert 20.0 <= modes[0] <= 60.0


def test_without_the_fed_march_2020_breaks_down_and_todays_rules_are_no_worse_than_2020s() -> None:
    r = run("march_2020", ("no_fed_backstop", "status_quo", "as_of_march_2020"), paths=MARCH_PATHS)
    peak = {n: metric(r, "peak_10y_yield_change_bp", n) for n in r.regime_names}
    broken = {n: float(metric(r, "broken_market_probability_pct", n)[0]) for n in r.regime_names}
    # Measured (2,000 paths, seed 0): median peak 239bp / 53.0bp / 53.5bp; p95 391 / 90 / 143bp;
    # breakdown 99.8% / 2.65% / 10.45%; dysfunction 100% / 99.9% / 80.7% (the rule waits for 25bp).
    assert np.median(peak["no_fed_backstop"]) > 3.0 * np.median(peak["status_quo"])
    assert broken["no_fed_backstop"] > 80.0 and broken["no_fed_backstop"] > broken["status_quo"] + 50.0
    assert np.all(peak["no_fed_backstop"] >= peak["status_quo"] - 1e-9), "the backstop never raises the peak"
    assert broken["status_quo"] <= broken["as_of_march_2020"]
    assert np.percentile(peak["status_quo"], 95) <= np.percentile(peak["as_of_march_2020"], 95)
    assert np.median(peak["status_quo"]) <= np.median(peak["as_of_march_2020"]) + 5.0


# --- the fundamental path of a historical scenario -----------------------------------------------


def _proxy_fundamental(name: str, paths: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(2, P, T+1): beta_path x the proxy's move, with each path's betas drawn within their errors."""
    sc = with_fundamental_mode(load_scenario(name), "proxy_beta")
    shocks = shock_paths(sc, sc.default_days)
    assert shocks.proxy_betas is not None and shocks.proxy_move_bp is not None
    z = draw(sc, load_calibration(sc.era), paths, sc.default_days, seed).proxy_beta_z
    betas = np.stack([b.beta + b.standard_error * z[:, k] for k, b in enumerate(shocks.proxy_betas)])
    return betas[:, :, None] * shocks.proxy_move_bp[None, None, :], betas


@pytest.mark.parametrize("name", ["march_2020", "april_2025", "repo_spike_2019", "term_premium_2023"])
def test_proxy_beta_mode_builds_the_fundamental_from_the_2y(name: str) -> None:
    r = run(name, paths=300, fundamental_mode="proxy_beta")
    assert r.scenario.fundamental.mode == "proxy_beta" and r.to_dict()["fundamental_mode"] == "proxy_beta"
    expected, betas = _proxy_fundamental(name, 300, 0)
    np.testing.assert_allclose(r.series["fundamental_10y_change_bp"][0], expected[0], atol=1e-9)
    thirty = r.series["yield_30y_change_bp"][0] - r.series["long_dislocation_bp"][0]
    np.testing.assert_allclose(thirty, expected[1], atol=1e-9)
    shocks = shock_paths(r.scenario, r.days)
    assert shocks.proxy_betas is not None
    for k, b in enumerate(shocks.proxy_betas):
        assert np.all(np.abs(betas[k] - b.beta) <= 5.0 * b.standard_error), "betas drawn within their estimation error"
    for name_, values in r.metrics.items():
        assert np.isfinite(values).all(), name_


def test_proxy_beta_mode_does_not_use_the_10y_in_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    sc = load_scenario("march_2020")
    original = scenario_module._history_frame
    day0 = pd.Timestamp(sc.day0)

    def shifted(scenario: Scenario) -> pd.DataFrame:
        frame = original(scenario).copy()
        after = frame.index > day0
        frame.loc[after, ["dgs10_pct", "dgs30_pct"]] += 1.0  # +100bp on every day after day 0
        return frame

    before = {m: engine.simulate(sc, paths=50, seed=3, fundamental_mode=m) for m in ("proxy_beta", "observed_share")}
    monkeypatch.setattr(scenario_module, "_history_frame", shifted)
    scenario_module._shock_paths_cached.cache_clear()  # shock paths are cached per scenario
    after = {m: engine.simulate(sc, paths=50, seed=3, fundamental_mode=m) for m in ("proxy_beta", "observed_share")}
    np.testing.assert_array_equal(
        before["proxy_beta"].series["fundamental_10y_change_bp"], after["proxy_beta"].series["fundamental_10y_change_bp"]
    )
    observed = "observed_share"
    moved = after[observed].series["fundamental_10y_change_bp"] - before[observed].series["fundamental_10y_change_bp"]
    scenario_module._shock_paths_cached.cache_clear()  # drop the shifted history's paths
    assert moved[..., 1:].max() > 10.0, "the observed-share mode does follow the 10y"


@pytest.mark.parametrize(
    ("name", "mode"),
    [("march_2020", "bogus"), ("march_2020", "points"), ("foreign_selloff_2026", "proxy_beta"), ("april_2025", "")],
)
def test_bad_fundamental_modes_raise_input_errors_naming_the_field(name: str, mode: str) -> None:
    with pytest.raises(engine.InputError) as info:
        engine.simulate(name, paths=5, fundamental_mode=mode)
    assert str(info.value).startswith("fundamental_mode:"), str(info.value)


def test_the_fundamental_mode_defaults_to_the_scenario_files() -> None:
    assert run("march_2020", paths=50).to_dict()["fundamental_mode"] == "observed_share"
    same = run("march_2020", paths=50, fundamental_mode="observed_share")
    np.testing.assert_array_equal(run("march_2020", paths=50).series["yield_10y_change_bp"], same.series["yield_10y_change_bp"])


# --- what the rules cost in calm markets ---------------------------------------------------------

CALM_SCENARIOS = ["foreign_selloff_2026", "march_2020"]  # the 2025 and 2020 eras


@pytest.mark.parametrize("scenario", CALM_SCENARIOS)
def test_status_quo_costs_nothing_in_calm_markets(scenario: str) -> None:
    r = run(scenario, ("status_quo",), paths=400)
    for name in engine.METRICS:
        if name.startswith("calm_") and name != "calm_gross_leverage_x":
            assert np.all(metric(r, name) == 0.0), name


@pytest.mark.parametrize("scenario", CALM_SCENARIOS)
def test_the_clearing_mandate_costs_through_a_wider_basis(scenario: str) -> None:
    r = run(scenario, ("clearing_rule",), paths=400)
    # Measured (400 paths, seed 0, 2025 era): basis +0.19 to +2.6bp/yr (p50 0.82); yield cost 0.10 to
    # 1.72bp (p50 0.61); futures longs $0.007-0.13bn/yr. 2020 era: yield cost 0.09 to 1.43bp.
    assert np.all(metric(r, "calm_basis_widening_bp") > 0.0)
    cost = metric(r, "calm_yield_cost_bp")
    assert np.all((cost > 0.0) & (cost < 10.0))
    assert np.all(metric(r, "calm_futures_longs_cost_usd_bn_per_year") >= 0.0)
    assert np.all(metric(r, "calm_swap_spread_change_bp") < 0.0), "Treasuries cheapen against swaps"
    assert np.all(metric(r, "calm_term_premium_cost_bp") >= 0.0)


@pytest.mark.parametrize("scenario", CALM_SCENARIOS)
def test_a_foreign_demand_shift_raises_the_calm_term_premium(scenario: str) -> None:
    r = run(scenario, ("status_quo", variant({"foreign_demand.calm_shift_usd_bn": -500.0}, "foreign -500")), paths=400)
    shifted = metric(r, "calm_term_premium_cost_bp", "foreign -500")
    # Measured: p50 7.1bp (2025 era, $28.8tn debt) and 12.0bp (2020 era, $16.9tn), 4bp per 1% of debt.
    assert np.all(shifted > metric(r, "calm_term_premium_cost_bp", "status_quo"))
    elasticity = draw(r.scenario, load_calibration(r.scenario.era), 400, r.days, 0).value("supply_elasticity_bp_per_pct")
    debt = load_calibration(r.scenario.era)["marketable_debt_usd_bn"]
    np.testing.assert_allclose(shifted, elasticity * 500.0 / debt * 100.0, rtol=1e-9)
    np.testing.assert_array_equal(metric(r, "rv_positions_usd_bn", "foreign -500"), metric(r, "rv_positions_usd_bn", "status_quo"))


@pytest.mark.parametrize("preset", ["dealer_rule", "leverage_cap"])
def test_more_leakage_lowers_the_calm_cost_of_rules_that_cover_some_funds(preset: str) -> None:
    low = run("foreign_selloff_2026", (preset,), paths=400, assumptions=(("rule_leakage_share", 0.0),))
    high = run("foreign_selloff_2026", (preset,), paths=400, assumptions=(("rule_leakage_share", 0.5),))
    a, b = metric(low, "calm_yield_cost_bp"), metric(high, "calm_yield_cost_bp")
    # Measured: dealer rule p50 1.26 -> 1.00bp (lower on every path); leverage cap 0.82 -> 0.66bp
    # (lower on 98% of paths, unchanged where the cap does not bind).
    assert np.all(b <= a + 1e-12)
    assert np.median(b) < 0.9 * np.median(a)


@pytest.mark.parametrize("scenario", CALM_SCENARIOS)
def test_calm_leverage_is_gross_notional_over_net_assets_as_calibrated(scenario: str) -> None:
    r = run(scenario, ("status_quo",), paths=400)
    cal = load_calibration(r.scenario.era)
    drawn = draw(r.scenario, cal, 400, r.days, 0).value("calm_gross_leverage_x")
    np.testing.assert_allclose(metric(r, "calm_gross_leverage_x"), drawn, rtol=1e-9)
    # Triangular(12, 20, 30): measured p50 20.85x against the era's central 20x.
    assert abs(np.median(metric(r, "calm_gross_leverage_x")) - cal["calm_gross_leverage_x"]) < 1.5


# --- a calm market absorbs a routine flow --------------------------------------------------------

# The calm-market check of tools/calibrate_march_2020.py: one $20bn sale on day 1 of a calm early-2020
# market, no fundamental move, no funding stress, the rules of March 2020 (their purchase schedule too).
CALM_IMPULSE = forward(
    "calm_impulse_2020", era="2020", day0="2020-02-03", flows=(("treasury", 20.0, 1, 1),), regime="as_of_march_2020"
)


def test_a_routine_sale_in_a_calm_market_barely_moves_the_10y() -> None:
    r = run(CALM_IMPULSE, paths=200)
    assert r.regime_names == ["as_of_march_2020"]
    moves = np.abs(r.series["yield_10y_change_bp"][0]).max(axis=-1)
    assert np.median(moves) < 5.0  # measured 3.3bp (p95 8.1bp)
    assert metric(r, "dysfunction_probability_pct")[0] == 0.0
    assert metric(r, "broken_market_probability_pct")[0] == 0.0


def test_a_routine_sale_in_a_calm_market_is_absorbed_without_a_spiral() -> None:
    """Calm-market stability: a one-day $20bn sale triggers RV sales well below its own size.

    The March 2020 fit aims at less than $5bn (tools/calibrate_march_2020.py, a soft penalty) and
    reaches about $6.75bn (200 paths, seed 0; x0.34 of the sale; about $5.1bn with every sampled value
    at its centre): reported as a miss in the methodology. Sales come on days 2-4 as the 2.4bp day-1
    dislocation lifts volatility and margins. Asserted here: less than half the sale.
    """
    r = run(CALM_IMPULSE, paths=200)
    assert np.median(metric(r, "forced_sales_usd_bn")) < 10.0


# --- eras: values, provenance and inheritance ----------------------------------------------------


def _era_file(era: str) -> dict[str, Any]:
    return tomllib.loads((CALIBRATION_DIR / f"era_{era}.toml").read_text())


@pytest.mark.parametrize(("era", "base"), [("2019", "2020"), ("2023", "2025")])
def test_a_placebo_era_is_its_base_era_except_what_its_file_lists(era: str, base: str) -> None:
    raw = _era_file(era)
    assert raw["meta"]["base"] == base and raw["meta"]["era"] == era
    listed = set(raw) - {"meta"}
    assert listed, "a placebo era lists what differs"
    child, parent = load_calibration(era).values, load_calibration(base).values
    assert set(child) == set(parent)
    for name in set(child) - listed:
        assert child[name] == parent[name], name
    for name in listed:
        assert child[name].layer == f"era_{era}", name
        entry = raw[name]
        assert (child[name].value, child[name].low, child[name].high) == (entry["value"], entry["low"], entry["high"]), name
    assert {"rv_basis_usd_bn", "marketable_debt_usd_bn", "calm_volatility_bp_per_day"} <= listed


@pytest.mark.parametrize("era", ["2020", "2025"])
def test_main_eras_stand_alone(era: str) -> None:
    assert "base" not in _era_file(era)["meta"]


@pytest.mark.parametrize("era", ERAS)
def test_every_value_of_every_era_has_unit_range_status_and_source(era: str) -> None:
    cal = load_calibration(era)
    assert cal.era == era and cal.as_of and cal.description
    for value in cal.values.values():
        assert value.unit.strip(), value.name
        assert value.source.strip() and len(value.source) > 15, value.name
        assert value.status in ("V", "V2", "U"), value.name
        assert np.isfinite([value.low, value.value, value.high]).all() and value.low <= value.value <= value.high, value.name
        assert value.layer in ("structural", f"era_{era}") or value.layer.startswith("era_"), value.name
        if value.sampled:
            assert value.low < value.high, f"{value.name}: sampled over an empty range"
