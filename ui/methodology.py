"""Methodology page: equations, calibrated parameters, policy levers, metrics, backtest, known limits.

Tables are read from the engine and the policy spec at run time, so the page always shows what the
code actually uses.
"""

import math
import re
from pathlib import Path

import pandas as pd
import streamlit as st

from engine import METRICS, MODEL_VERSION, load_scenario
from engine.calibration import ERAS, load_calibration
from policy import lever_specs
from ui.text import FED_NOTE, FUNCTIONING_NOTE

EQUATIONS = Path(__file__).with_name("methodology.md")
STATUS_TEXT = {"V": "verified in source", "V2": "via a secondary source", "U": "unverified (wide range)"}
BACKTEST_PATHS = 2000  # the CLI's default: p50s are stable to a few bp at this size
SENSITIVITY_PATHS = 500
DEFAULT_ERA = "2025"
ERA_LABELS = {"2019": "2019 (placebo)", "2020": "2020", "2023": "2023 (placebo)", "2025": "2025"}
# Backtest fundamental path: "scenario" keeps each scenario file's own mode (fundamental_mode=None).
FUNDAMENTAL_MODES: dict[str, str] = {
    "scenario": "As in each scenario (a share of the observed move)",
    "proxy_beta": "2y proxy (the 10y path is wholly an output)",
}

# Backtest table: engine column -> what the page calls it, in display order. Columns the engine adds
# later are shown after these under their own names.
BACKTEST_COLUMNS: dict[str, str] = {
    "episode": "Episode",
    "role": "Role",
    "label": "Quantity",
    "kind": "Kind",
    "regime": "Regime",
    "history": "Observed",
    "stat": "Statistic",
    "model": "Model (scored statistic)",
    "model_p5": "Model 5th pct",
    "model_p50": "Model median",
    "model_p95": "Model 95th pct",
    "band_low": "Band low",
    "band_high": "Band high",
    "within_band": "Within band",
    "source": "Source",
    "metric": "Metric name",
}
_VALUE_COLUMNS = ("history", "model", "model_p5", "model_p50", "model_p95", "band_low", "band_high")
_HIDDEN = ("unit",)  # folded into the formatted values

# The equations page (ui/methodology.md) ends with its own known limits; the page shows that section
# in the "Known limits" tab, followed by APP_NOTES. LIMITS is the fallback if the heading is missing.
_LIMITS_HEADING = re.compile(r"^#{2,4}\s*(?:\d+\.\s*)?Known limits\s*$", re.MULTILINE)
APP_NOTES = f"""
- **The Fed in the app.** {FED_NOTE}
- **Dysfunction and breakdown.** {FUNCTIONING_NOTE}
"""

LIMITS = f"""
- **Stylised market.** Two maturity segments (2-10y and 10-30y), three RV books (basis, swap spread,
  other RV) and two dealer segments. There is no auction calendar, no intraday dynamics and no
  individual dealers or funds.
- **Capacity in dollars is not observed.** Dealer balance-sheet capacity, the dislocation slope, the
  volatility feedback and the other structural parameters are tuned on March 2020 only. April 2025 and
  the two placebo episodes (the September 2019 repo spike and the 2023 term-premium selloff, when
  markets kept functioning) are tests that were never tuned on: the Backtest tab reports each miss
  rather than hiding it. Values marked *unverified* are placeholders with wide ranges: treat results
  that hinge on them as scenarios, not forecasts.
- **Fundamental path.** For historical episodes the part of the move due to news is, by default, a
  share (with a range) of the observed 10y and 30y moves, so the yield peak is partly inherited from
  the data. The Backtest tab can instead build it from the observed 2y move and a pre-episode beta,
  which makes the 10y path wholly the model's output.
- **Dysfunction and breakdown are classifications.** {FUNCTIONING_NOTE} What a market beyond anything
  observed would do is outside what the model was fitted to: read breakdown paths as a warning, not
  as a forecast of prices.
- **The Fed.** {FED_NOTE} The rule's threshold and lag are drawn per path, because how the Fed would
  read the next episode is uncertain.
- **Behaviour is fixed across regimes** apart from the channels written above: funds do not invent new
  trades, dealers do not change their business model, and the Fed's reaction follows the stated rule.
- **Calm cost** is priced through the intermediation spreads the smaller RV books earn and a
  term-premium effect at a QE-style supply elasticity; it ignores any benefit of lower tail risk on
  term premia.
- **Monte Carlo bands** show parameter and shock uncertainty within the stated ranges, not model
  uncertainty. The ranges are wide, so outcomes are wide and skewed: a minority of paths spiral.
"""


def equations_and_limits(text: str) -> tuple[str, str]:
    """(equations, known limits) of the methodology text: its known-limits section, if it has one,
    moves to its own tab with the app's notes; otherwise the limits are `LIMITS`."""
    match = _LIMITS_HEADING.search(text)
    if match is None:
        return text, LIMITS
    return text[: match.start()].rstrip() + "\n", text[match.end():].strip() + "\n" + APP_NOTES


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


@st.cache_resource(show_spinner=False, max_entries=4)
def _backtest(paths: int, version: str, fundamental_mode: str | None = None):
    from engine.backtest import backtest

    if fundamental_mode in (None, "scenario"):
        return backtest(paths=paths, seed=0)
    return backtest(paths=paths, seed=0, fundamental_mode=fundamental_mode)


@st.cache_resource(show_spinner=False, max_entries=2)
def _sensitivity(paths: int, version: str) -> pd.DataFrame:
    from engine.sensitivity import sensitivity

    return sensitivity_display(sensitivity(paths=paths, seed=0))


def sensitivity_display(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per parameter, episode and scored quantity: the model at the calibrated value and at
    each end of the parameter's range (works with the engine's p50_* or model_* column names)."""
    moved = next(c for c in ("model_moved", "p50_moved") if c in frame)
    base = next((c for c in ("model_baseline", "p50_baseline") if c in frame), None)
    index = [c for c in ("parameter", "tuned_to", "value", "episode", "metric", base) if c and c in frame]
    wide = frame.pivot_table(index=index, columns="setting", values=moved, sort=False, dropna=False).reset_index()
    wide.columns = [str(c) for c in wide.columns]
    if "episode" in wide:
        wide["episode"] = wide["episode"].map(_episode_title)
    if "metric" in wide:
        wide["metric"] = [_quantity_label(m) for m in wide["metric"]]
    for column in [c for c in (base, "low", "high") if c in wide]:
        wide[column] = wide[column].round(2)
    names = {
        "parameter": "Parameter",
        "tuned_to": "Tuned to",
        "value": "Calibrated value",
        "episode": "Episode",
        "metric": "Quantity",
        base: "Model at the calibrated value",
        "low": "Model at range low",
        "high": "Model at range high",
    }
    return wide.rename(columns={c: names.get(c, c) for c in wide.columns})


def _quantity_label(metric: str) -> str:
    if metric in METRICS:
        return METRICS[metric].label
    try:
        from engine.backtest import metric_label

        return metric_label(metric)[0]
    except Exception:
        return str(metric)


def _number(value, unit: str) -> str:
    """A backtest number with its unit, rounded for reading ('' when the source gives none):
    whole numbers without decimals, else 1 decimal (2 below 1), e.g. '64 bp', '$96.7bn', '0.61', 'day 5'."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    if not math.isfinite(x):
        return ""
    magnitude = abs(x)
    decimals = 0 if x.is_integer() or magnitude >= 100 else (1 if magnitude >= 1 else 2)
    body = f"{magnitude:,.{decimals}f}"
    sign = "-" if x < 0 and body.strip("0.,") else ""
    if unit == "trading day":
        return f"day {sign}{body}"
    if unit.startswith("$"):
        return f"{sign}${body}{unit[1:]}"
    if unit in ("%", "x"):
        return f"{sign}{body}{unit}"
    if unit in ("share", "ratio", ""):
        return f"{sign}{body}"
    return f"{sign}{body} {unit}"


def _episode_title(name: str) -> str:
    try:
        return load_scenario(name).title
    except Exception:
        return str(name)


def backtest_display(table: pd.DataFrame) -> pd.DataFrame:
    """The backtest table for reading: human column names, episode titles, values rounded with units.

    Works with whatever columns the engine returns: known ones are renamed and ordered, others
    follow under their own names.
    """
    out = pd.DataFrame(index=table.index)
    units = table["unit"] if "unit" in table else pd.Series("", index=table.index)
    if "label" not in table and "metric" in table:
        table = table.assign(label=[METRICS[m].label if m in METRICS else m for m in table["metric"]])
    known = [c for c in BACKTEST_COLUMNS if c in table]
    extra = [c for c in table.columns if c not in BACKTEST_COLUMNS and c not in _HIDDEN]
    for column in [*known, *extra]:
        values = table[column]
        if column == "episode":
            values = values.map(_episode_title)
        elif column in _VALUE_COLUMNS:
            values = pd.Series([_number(v, u) for v, u in zip(values, units, strict=True)], index=table.index)
        elif column == "within_band":
            values = values.astype(bool)
        elif pd.api.types.is_float_dtype(values):
            values = values.round(2)
        out[BACKTEST_COLUMNS.get(column, column.replace("_", " ").capitalize())] = values
    return out.reset_index(drop=True)


def rmse_display(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "episode" in out:
        out["episode"] = out["episode"].map(_episode_title)
    if "rmse_bp" in out:
        out["rmse_bp"] = [_number(v, "bp") for v in out["rmse_bp"]]
    names = {"episode": "Episode", "window": "Window", "rmse_bp": "RMSE, daily model median vs observed 10y"}
    return out.rename(columns={c: names.get(c, c.replace("_", " ").capitalize()) for c in out.columns})


def _backtest_tab() -> None:
    from briefing.charts import backtest_chart

    mode = st.segmented_control(
        "Fundamental 10y path",
        list(FUNDAMENTAL_MODES),
        format_func=lambda m: FUNDAMENTAL_MODES[m],
        default="scenario",
        required=True,
        key="w.bt_mode",
    ) or "scenario"
    with st.spinner("Running the backtest..."):
        bt = _backtest(BACKTEST_PATHS, MODEL_VERSION, mode)
    st.markdown(
        f"Each historical episode run under the rules of its day ({BACKTEST_PATHS:,} paths, seed 0). March 2020 "
        "is the episode the structural parameters were tuned on; April 2025 and the placebo episodes are tests. "
        "*Within band* means the model's scored statistic lies inside the band stated for that observation. "
        "*Kind*: an *output* is produced by the model; *partly inherited* means the input already carries part "
        "of it (the default fundamental path is a share of the observed 10y move)."
    )
    table = bt.table()
    st.dataframe(backtest_display(table), hide_index=True)
    st.download_button(
        "Download backtest table (CSV, full precision)",
        data=lambda: table.to_csv(index=False),
        file_name=f"backtest_model_{MODEL_VERSION}.csv",
        mime="text/csv",
        on_click="ignore",
        key="dl.backtest",
    )
    st.altair_chart(backtest_chart(bt.paths_frame(), MODEL_VERSION), width="stretch")
    st.markdown("**Daily 10y path against history** (root-mean-square error of the model median):")
    st.dataframe(rmse_display(bt.rmse_frame()), hide_index=True)
    with st.expander("What each episode takes from data (inputs, not scored)"):
        inputs = bt.inputs_table().assign(episode=lambda f: f["episode"].map(_episode_title))
        st.dataframe(inputs.rename(columns=lambda c: c.replace("_", " ").capitalize()), hide_index=True)
    st.markdown(
        "**Tuned parameters and their sensitivity.** Structural parameters were tuned on March 2020 only. "
        "The table shows each target's median with the parameter at the low and high end of its range "
        "(`python -m engine sensitivity`)."
    )
    if st.toggle(f"Compute the sensitivity table ({SENSITIVITY_PATHS} paths, a few seconds)", key="w.sens"):
        with st.spinner("Running the backtest at each range end..."):
            try:
                sens = _sensitivity(SENSITIVITY_PATHS, MODEL_VERSION)
            except Exception as err:  # the engine's sensitivity run is not part of the page's contract
                st.error(f"The sensitivity table could not be computed ({type(err).__name__}: {err}).")
            else:
                st.dataframe(sens, hide_index=True)


def page() -> None:
    st.title("Methodology")
    st.caption(f"Model version {MODEL_VERSION}. Every table below is read from the code that runs the model.")
    tabs = st.tabs(
        ["Equations", "Calibrated parameters", "Policy levers", "Summary metrics", "Backtest", "Known limits"],
        key="t.method",
        on_change="rerun",
    )
    equations, limits = equations_and_limits(EQUATIONS.read_text())
    with tabs[0]:
        if tabs[0].open:
            st.markdown(equations)
    with tabs[1]:
        if tabs[1].open:
            era = st.segmented_control(
                "Era", list(ERAS), format_func=lambda e: ERA_LABELS.get(e, e), default=DEFAULT_ERA, key="w.era",
                required=True,
            ) or DEFAULT_ERA
            cal = load_calibration(era)
            st.caption(f"{cal.description} As of {cal.as_of}.")
            st.dataframe(calibration_table(era), hide_index=True)
    with tabs[2]:
        if tabs[2].open:
            st.caption(f"Defaults are the status quo. {FED_NOTE}")
            st.dataframe(lever_table(), hide_index=True)
    with tabs[3]:
        if tabs[3].open:
            st.caption(FUNCTIONING_NOTE)
            st.dataframe(metric_table(), hide_index=True)
    with tabs[4]:
        if tabs[4].open:
            _backtest_tab()
    with tabs[5]:
        if tabs[5].open:
            st.markdown(limits)
