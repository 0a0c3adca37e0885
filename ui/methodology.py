"""Methodology page: equations, calibrated parameters, policy levers, metrics, backtest, known limits.

Tables are read from the engine and the policy spec at run time, so the page always shows what the
code actually uses.
"""

from pathlib import Path

import pandas as pd
import streamlit as st

from engine import METRICS, MODEL_VERSION
from engine.calibration import load_calibration
from policy import lever_specs

EQUATIONS = Path(__file__).with_name("methodology.md")
STATUS_TEXT = {"V": "verified in source", "V2": "via a secondary source", "U": "unverified (wide range)"}
BACKTEST_PATHS = 2000  # the CLI's default: p50s are stable to a few bp at this size
SENSITIVITY_PATHS = 500

LIMITS = """
- **Stylised market.** One representative 10y point, three RV books and one dealer sector. There is no
  curve, no auction calendar, no intraday dynamics and no individual dealers or funds.
- **Capacity in dollars is not observed.** Dealer balance-sheet capacity, the dislocation slope and the
  volatility feedback are tuned on March 2020 (the 10y peak, the trough of depth and hedge-fund net sales).
  April 2025 is out of sample. Values marked *unverified* are placeholders with wide ranges: treat
  results that hinge on them as scenarios, not forecasts.
- **Fundamental share.** For historical episodes the part of the 10y move not due to market structure
  is an assumption (a share with a range), because no OIS or swap series is available here.
- **Behaviour is fixed across regimes** apart from the channels written above: funds do not invent new
  trades, dealers do not change their business model, and the Fed's reaction follows the stated rule.
- **Calm cost** is a partial-equilibrium supply effect (QE-style elasticity) and ignores any benefit of
  lower tail risk on term premia.
- **Broken markets are flagged, not modelled.** Once dealers reach the utilization limit the model caps
  the dislocation and keeps unsold assets with their sellers; what happens beyond is outside the model.
- **Monte Carlo bands** show parameter and shock uncertainty within the stated ranges, not model uncertainty.
  The ranges are wide, so the distribution of outcomes is wide and skewed: a minority of paths spiral to
  the utilization limit (March 2020 as it happened: about 40% of paths break; April 2025: about 5%).
- **One dislocation factor.** Basis, swap spreads and off-the-run spreads all move with the same
  dealer-driven dislocation, with fixed sensitivities. In April 2025 the model unwinds about $30bn of
  basis trades and $20bn of swap-spread trades (medians); history saw the swap-spread trade unwind
  (about $60bn) and no basis unwind. The model's April depth (median about $88mn) is also higher than
  the $67mn observed: its April volatility, built from daily closes, understates the intraday swings.
- **April 2025 is only partly out of sample.** The rule that funds target the volatility of their
  hedged spread books (not outright rate volatility) was adopted after the first April comparison, on
  the economics of hedged trades; it left March 2020 unchanged and moved April's 10y peak from about
  +72bp to +50bp.
- **Volatility counts both ways.** The feedback term treats a sharp narrowing of the dislocation (for
  example when Fed purchases arrive) as volatility too, so on some paths a faster backstop triggers a
  later round of de-risking and a higher peak; medians are not affected.
"""


@st.cache_data(show_spinner=False)
def calibration_table(era: str) -> pd.DataFrame:
    cal = load_calibration(era)
    rows = [
        {
            "parameter": v.name,
            "value": v.value,
            "low": v.low,
            "high": v.high,
            "unit": v.unit,
            "status": f"{v.status}: {STATUS_TEXT[v.status]}",
            "sampled": "yes" if v.sampled else "",
            "layer": v.layer,
            "description": v.description,
            "tuned to": v.tuned_to or "",
            "source": v.source,
        }
        for v in cal.values.values()
    ]
    return pd.DataFrame(rows)


def lever_table() -> pd.DataFrame:
    rows = []
    for s in lever_specs():
        rng = ", ".join(s.choices or ()) if s.type == "choice" else ("on/off" if s.type == "bool" else f"{s.min:g} to {s.max:g}")
        rows.append(
            {
                "lever": s.path,
                "label": s.label,
                "unit": s.unit,
                "default (status quo)": str(s.default),
                "range": rng,
                "step": "" if s.step is None else f"{s.step:g}",
                "meaning": s.description,
                "source": s.source,
            }
        )
    return pd.DataFrame(rows)


def metric_table() -> pd.DataFrame:
    return pd.DataFrame(
        [{"metric": name, "label": m.label, "unit": m.unit, "definition": m.definition} for name, m in METRICS.items()]
    )


@st.cache_resource(show_spinner=False, max_entries=2)
def _backtest(paths: int, version: str):
    from engine.backtest import backtest

    return backtest(paths=paths, seed=0)


@st.cache_resource(show_spinner=False, max_entries=2)
def _sensitivity(paths: int, version: str) -> pd.DataFrame:
    from engine.sensitivity import sensitivity

    frame = sensitivity(paths=paths, seed=0)
    wide = frame.pivot_table(
        index=["parameter", "tuned_to", "value", "episode", "metric", "p50_baseline"],
        columns="setting",
        values="p50_moved",
        sort=False,
    ).reset_index()
    return wide.rename(columns={"low": "p50 at range low", "high": "p50 at range high"})


def _backtest_tab() -> None:
    from briefing.charts import backtest_chart

    with st.spinner("Running the backtest..."):
        bt = _backtest(BACKTEST_PATHS, MODEL_VERSION)
    st.markdown(
        f"Each historical episode run under the rules of its day ({BACKTEST_PATHS} paths, seed 0). "
        "*Within band* means the model's median lies inside the band stated for that observation."
    )
    table = bt.table()
    st.dataframe(table, hide_index=True)
    st.altair_chart(backtest_chart(bt.paths_frame()), width="stretch")
    st.markdown(
        "**Tuned parameters and their sensitivity.** Structural parameters were tuned on March 2020 only. "
        "The table shows each target's median with the parameter at the low and high end of its range "
        "(`python -m engine sensitivity`)."
    )
    if st.toggle(f"Compute the sensitivity table ({SENSITIVITY_PATHS} paths, a few seconds)", key="w.sens"):
        with st.spinner("Running the backtest at each range end..."):
            st.dataframe(_sensitivity(SENSITIVITY_PATHS, MODEL_VERSION), hide_index=True)


def page() -> None:
    st.title("Methodology")
    st.caption(f"Model version {MODEL_VERSION}. Every table below is read from the code that runs the model.")
    tabs = st.tabs(
        ["Equations", "Calibrated parameters", "Policy levers", "Summary metrics", "Backtest", "Known limits"],
        key="t.method",
        on_change="rerun",
    )
    with tabs[0]:
        if tabs[0].open:
            st.markdown(EQUATIONS.read_text())
    with tabs[1]:
        if tabs[1].open:
            era = st.segmented_control("Era", ["2020", "2025"], default="2025", key="w.era", required=True) or "2025"
            cal = load_calibration(era)
            st.caption(f"{cal.description} As of {cal.as_of}.")
            st.dataframe(calibration_table(era), hide_index=True)
    with tabs[2]:
        if tabs[2].open:
            st.dataframe(lever_table(), hide_index=True)
    with tabs[3]:
        if tabs[3].open:
            st.dataframe(metric_table(), hide_index=True)
    with tabs[4]:
        if tabs[4].open:
            _backtest_tab()
    with tabs[5]:
        if tabs[5].open:
            st.markdown(LIMITS)
