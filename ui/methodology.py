"""Methodology page: equations, calibrated parameters, policy levers, metrics, backtest, known limits.

Tables are read from the engine and the policy spec at run time, so the page always shows what the
code actually uses. Every table is for reading: human labels first (the code name in a narrow last
column), numbers rounded with their units by `briefing.numbers`, V / V2 / U in words.
"""

import math
import re
from pathlib import Path

import pandas as pd
import streamlit as st

from briefing.numbers import fmt_lever, fmt_number, fmt_value
from engine import METRICS, MODEL_VERSION, assumption_ranges, load_scenario
from engine.bytecache import ByteLRU
from engine.calibration import ERAS, CalibratedValue, label_from_name, load_calibration
from engine.drivers import STATUS_TEXT
from policy import lever_specs
from ui.text import FED_NOTE, FUNCTIONING_NOTE

EQUATIONS = Path(__file__).with_name("methodology.md")
STATUS_HELP = (
    "How sure: V verified in its source, V2 from a secondary source, U an unverified placeholder with a wide range."
)
CODE_COLUMN = "Code name"
CODE_HELP = "The name in the code, the scenario files, the CLI and the URL"
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
    "metric": CODE_COLUMN,
}
ROLE_TEXT = {"tuned": "tuned on it", "test": "test (not tuned on)"}
STAT_TEXT = {"p50": "median", "mean": "mean", "p5": "5th percentile", "p95": "95th percentile"}
REGIME_TEXT = {"status_quo": "today's rules", "no_fed_backstop": "today's rules, no Fed backstop"}
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


def status_words(status: str) -> str:
    """'U · unverified placeholder': the status code with its words (one wording with engine.drivers)."""
    return f"{status} · {STATUS_TEXT[status]}"


def input_number(x: float) -> str:
    """A calibrated input rounded by briefing.numbers, or as written in its file when rounding would
    misstate it by more than 1% (0.002, 2.326, 1.35 are typed inputs, not Monte Carlo noise)."""
    text = fmt_number(x)
    if not math.isfinite(x) or x == 0 or abs(float(text.replace(",", "")) - x) <= 0.01 * abs(x):
        return text
    return f"{x:,.4g}"


def input_value(x: float, unit: str) -> str:
    """A calibrated input with its unit, placed as briefing.numbers places it ('$190bn', '0.40 share')."""
    text = fmt_value(x, unit)
    exact = input_number(x)
    return text if exact == fmt_number(x) else text.replace(fmt_number(abs(x)), exact.lstrip("-"), 1)


def input_range(item: CalibratedValue) -> str:
    return "fixed" if item.low == item.high else f"{input_number(item.low)} to {input_number(item.high)}"


def _layer_text(layer: str) -> str:
    return layer.replace("era_", "era ") if layer.startswith("era_") else layer


# The page's tables and its backtest and sensitivity runs, shared by every session: their inputs are
# fixed (eras, the three fundamental modes, the page's path counts), so the cache holds a handful of
# small frames, bounded in bytes like every other cache (engine.bytecache).
TABLES = ByteLRU(50 * 1_000_000)


def calibration_table(era: str) -> pd.DataFrame:
    """Every calibrated value of an era: label, value and range, unit, how sure, provenance, code name."""
    return TABLES.get_or_compute(("calibration", era), lambda: _calibration_table(era))


def _calibration_table(era: str) -> pd.DataFrame:
    cal = load_calibration(era)
    rows = [
        {
            "Assumption": v.label,
            "Value": input_number(v.value),
            "Range": input_range(v),
            "Unit": v.unit,
            "How sure": status_words(v.status),
            "Sampled": "yes" if v.sampled else "",
            "Layer": _layer_text(v.layer),
            "What it is": v.description,
            "Tuned to": v.tuned_to or "",
            "Source": v.source,
            CODE_COLUMN: v.name,
        }
        for v in cal.values.values()
    ]
    return pd.DataFrame(rows)


CALIBRATION_COLUMNS = {
    "Assumption": st.column_config.TextColumn(pinned=True),
    "Range": st.column_config.TextColumn(help="The documented range; sampled values are drawn across it per path"),
    "How sure": st.column_config.TextColumn(help=STATUS_HELP),
    "Sampled": st.column_config.TextColumn(help="Drawn per Monte Carlo path from triangular(low, value, high)"),
    "Layer": st.column_config.TextColumn(help="structural: one set for every era; era YYYY: that era's positions"),
    CODE_COLUMN: st.column_config.TextColumn(width="small", help=CODE_HELP),
}


def lever_table() -> pd.DataFrame:
    rows = []
    for s in lever_specs():
        if s.type == "choice":
            rng = ", ".join(s.choices or ())
        elif s.type == "bool":
            rng = "on/off"
        else:
            rng = f"{fmt_lever(float(s.min), '')} to {fmt_lever(float(s.max), '')}"
        rows.append(
            {
                "Lever": s.label,
                "Unit": "" if s.type in ("bool", "choice") else s.unit,
                "Default (status quo)": fmt_lever(s.default, "" if s.type in ("bool", "choice") else s.unit),
                "Range": rng,
                "Step": "" if s.step is None else fmt_lever(float(s.step), ""),
                "Meaning": s.description,
                "Source": s.source,
                CODE_COLUMN: s.path,
            }
        )
    return pd.DataFrame(rows)


def metric_table() -> pd.DataFrame:
    return pd.DataFrame(
        [{"Metric": m.label, "Unit": m.unit, "Definition": m.definition, CODE_COLUMN: name} for name, m in METRICS.items()]
    )


CODE_ONLY = {CODE_COLUMN: st.column_config.TextColumn(width="small", help=CODE_HELP)}


def _backtest(paths: int, version: str, fundamental_mode: str | None = None):
    from engine.backtest import backtest

    def run():
        if fundamental_mode in (None, "scenario"):
            return backtest(paths=paths, seed=0)
        return backtest(paths=paths, seed=0, fundamental_mode=fundamental_mode)

    return TABLES.get_or_compute(("backtest", paths, version, fundamental_mode), run)


def _sensitivity(paths: int, version: str) -> pd.DataFrame:
    from engine.sensitivity import sensitivity

    return TABLES.get_or_compute(("sensitivity", paths, version),
                                 lambda: sensitivity_display(sensitivity(paths=paths, seed=0)))


def _assumption(episode: str, name: str) -> CalibratedValue | None:
    try:
        return assumption_ranges(episode).get(name)
    except Exception:  # an episode the engine no longer ships: fall back to the code name
        return None


def sensitivity_display(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per parameter, episode and scored quantity: the model at the calibrated value and at
    each end of the parameter's range, rounded with the quantity's unit (works with the engine's
    p50_* or model_* column names)."""
    moved = next(c for c in ("model_moved", "p50_moved") if c in frame)
    base = next((c for c in ("model_baseline", "p50_baseline") if c in frame), None)
    keys = ["parameter", "episode", "metric"]
    ends = {end: frame[frame["setting"] == end].set_index(keys)[moved] for end in ("low", "high")}
    rows = []
    for row in frame.drop_duplicates(keys).itertuples(index=False):
        key = (row.parameter, row.episode, row.metric)
        item = _assumption(row.episode, row.parameter)
        label, unit = _quantity_label_unit(row.metric)
        out = {
            "Assumption": item.label if item else label_from_name(row.parameter),
            "Parameter": row.parameter,
            "Episode": _episode_title(row.episode),
            "Quantity": label,
        }
        if "value" in frame:
            out["Calibrated value"] = input_value(row.value, item.unit) if item else input_number(row.value)
        if item is not None:
            out["Range"] = input_range(item)
        if base is not None:
            out["Model at the calibrated value"] = _number(getattr(row, base), unit)
        for end in ("low", "high"):
            value = ends[end].get(key) if key in ends[end].index else None
            out[f"Model at range {end}"] = _number(value, unit)
        if "tuned_to" in frame:
            out["Tuned to"] = row.tuned_to
        rows.append(out)
    return pd.DataFrame(rows)


SENSITIVITY_COLUMNS = {
    "Assumption": st.column_config.TextColumn(pinned=True),
    "Parameter": st.column_config.TextColumn(width="small", help=CODE_HELP),
}


def _quantity_label_unit(metric: str) -> tuple[str, str]:
    if metric in METRICS:
        return METRICS[metric].label, METRICS[metric].unit
    try:
        from engine.backtest import metric_label

        return metric_label(metric)
    except Exception:
        return str(metric), ""


def _quantity_label(metric: str) -> str:
    return _quantity_label_unit(metric)[0]


def _number(value, unit: str) -> str:
    """A model or observed number with its unit via briefing.numbers ('' when there is none):
    e.g. '64.2 bp', '$96.7bn', '0.61' (a share or ratio), 'day 5' (a trading day)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    if not math.isfinite(x):
        return ""
    if unit == "trading day":
        return f"day {fmt_number(x)}"
    if unit in ("share", "ratio", ""):
        return fmt_number(x)
    return fmt_value(x, unit)


def _regime_text(name: str, episode: str) -> str:
    """The regime as a reader knows it: the rules of the episode's day, or today's rules."""
    try:
        own = load_scenario(episode).regime
    except Exception:  # an episode the engine no longer ships: the name alone
        own = None
    if name == own:
        return "rules of the day (as it happened)"
    return REGIME_TEXT.get(name, name.replace("_", " "))


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
        elif column == "regime" and "episode" in table:
            values = pd.Series([_regime_text(r, e) for r, e in zip(values, table["episode"], strict=True)], index=table.index)
        elif column == "role":
            values = values.map(lambda r: ROLE_TEXT.get(r, r))
        elif column == "stat":
            values = values.map(lambda v: STAT_TEXT.get(v, v))
        elif column in _VALUE_COLUMNS:
            values = pd.Series([_number(v, u) for v, u in zip(values, units, strict=True)], index=table.index)
        elif column == "within_band":
            values = values.astype(bool)
        elif pd.api.types.is_float_dtype(values):
            values = values.round(2)
        out[BACKTEST_COLUMNS.get(column, column.replace("_", " ").capitalize())] = values
    return out.reset_index(drop=True)


def inputs_display(frame: pd.DataFrame) -> pd.DataFrame:
    """What each episode takes from data, with episode titles and sector names in words."""
    out = frame.copy()
    if "episode" in out:
        out["episode"] = out["episode"].map(_episode_title)
    if "input" in out:
        out["input"] = [re.sub(r"^([a-z]+(?:_[a-z]+)+)", lambda m: m.group(1).replace("_", " "), str(x)).capitalize()
                        for x in out["input"]]
    return out.rename(columns=lambda c: c.replace("_", " ").capitalize())


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
    st.dataframe(backtest_display(table), hide_index=True, column_config=CODE_ONLY)
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
        st.dataframe(inputs_display(bt.inputs_table()), hide_index=True)
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
                st.dataframe(sens, hide_index=True, column_config=SENSITIVITY_COLUMNS)


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
            st.caption(f"{cal.description} As of {cal.as_of}. {STATUS_HELP}")
            st.dataframe(calibration_table(era), hide_index=True, column_config=CALIBRATION_COLUMNS)
    with tabs[2]:
        if tabs[2].open:
            st.caption(f"Defaults are the status quo. {FED_NOTE}")
            st.dataframe(lever_table(), hide_index=True, column_config=CODE_ONLY)
    with tabs[3]:
        if tabs[3].open:
            st.caption(FUNCTIONING_NOTE)
            st.dataframe(metric_table(), hide_index=True, column_config=CODE_ONLY)
    with tabs[4]:
        if tabs[4].open:
            _backtest_tab()
    with tabs[5]:
        if tabs[5].open:
            st.markdown(limits)
