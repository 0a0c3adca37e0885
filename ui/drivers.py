""""What drives this?": the calibrated assumptions that move one headline number (engine.drivers).

Where the page calls it: in a lazy popover next to the headline numbers (`ui.compare._drivers_popover`,
"What drives these numbers?", with a choice of number and regime), so the ~120 runs happen only
when a reader opens it (a popover's content otherwise runs on every rerun)::

    pop = st.popover("What drives these numbers?", key="p.drivers", on_change="rerun", type="tertiary")
    with pop:
        if pop.open:
            show_drivers(result.scenario, list(result.regimes), metric, paths=min(view.paths, DRIVER_PATHS),
                         seed=view.seed, shock_scale=view.shock_scale, assumptions=view.assumptions,
                         baseline=None if regime == baseline else baseline, regime=regime)

(`@st.dialog` works as well: call `show_drivers` in the dialog function.) The result is cached in a
byte-bounded `ByteLRU` (half per session), keyed on JSON strings of the inputs (a Scenario or
regime object by its `model_dump_json()`), so reopening it is instant.
"""

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from briefing.numbers import delta_unit, fmt_number, fmt_probability, fmt_value
from engine import METRICS, InputError, Scenario
from engine.bytecache import ByteLRU
from engine.drivers import drivers
from policy import PolicyRegime
from ui.runner import SESSION_SHARE, session_id
from ui.text import plain

TOP = 8
DRIVER_PATHS = 200  # enough to rank: effects are paired (common random numbers)
# How sure: a coloured badge with words, as in the assumptions panel of the comparison page.
STATUS_COLOURS = {"V": "#1b7f3b", "V2": "#1f5fa8", "U": "#b35c00"}
STATUS_WORDS = {"V": "V · verified in its source", "V2": "V2 · secondary source", "U": "U · unverified placeholder"}
END_COLOURS = {"low end": "#7a9cc6", "high end": "#d08c3c"}
# Units short enough to repeat on the value and both range ends; longer ones are said once.
_SHORT_UNITS = ("bp", "bp/day", "%", "x")

RegimeLike = str | Path | PolicyRegime


def _key(item: Any) -> str:
    """A JSON string for an input that may be an object (scenario, regime) or a name."""
    if isinstance(item, Scenario | PolicyRegime):
        return json.dumps({"json": item.model_dump_json()})
    return json.dumps({"name": None if item is None else str(item)})


def _scenario(key: str) -> str | Scenario:
    data = json.loads(key)
    return Scenario.model_validate_json(data["json"]) if "json" in data else data["name"]


def _regime(key: str) -> str | PolicyRegime | None:
    data = json.loads(key)
    return PolicyRegime.model_validate_json(data["json"]) if "json" in data else data["name"]


# Drivers tables are small (a row per calibrated value) but each costs a run per assumption end:
# kept in a byte-bounded cache shared by the sessions, half of it at most per session.
DRIVERS = ByteLRU(50 * 1_000_000, owner_share=SESSION_SHARE)


def _drivers_cached(
    scenario: str, regimes: str, metric: str, paths: int, seed: int, shock_scale: float,
    assumptions: str, baseline: str, regime: str | None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    key = (scenario, regimes, metric, paths, seed, shock_scale, assumptions, baseline, regime)
    return DRIVERS.get_or_compute(key, lambda: _compute_drivers(*key), owner=session_id())


def _compute_drivers(
    scenario: str, regimes: str, metric: str, paths: int, seed: int, shock_scale: float,
    assumptions: str, baseline: str, regime: str | None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    frame = drivers(
        _scenario(scenario),
        [_regime(r) for r in json.loads(regimes)],
        metric,
        paths=paths,
        seed=seed,
        shock_scale=shock_scale,
        assumptions=json.loads(assumptions),
        baseline=_regime(baseline),
        regime=regime,
    )
    return frame, dict(frame.attrs)  # attrs returned apart: the table a caller shows need not carry them


def _short(unit: str) -> bool:
    return unit in _SHORT_UNITS or (unit.startswith("$") and " " not in unit)


def value_text(value: float, low: float, high: float, unit: str) -> str:
    """'$190bn ($130bn to $300bn)' or, for a long unit, '0.11 (0.07 to 0.15) $bn per bp per $tn'."""
    if _short(unit):
        return f"{fmt_value(value, unit)} ({fmt_value(low, unit)} to {fmt_value(high, unit)})"
    return f"{fmt_number(value)} ({fmt_number(low)} to {fmt_number(high)}) {unit}".rstrip()


def number_text(value: float, metric: str) -> str:
    """The headline number as the cards show it (a probability as a share of paths)."""
    unit = METRICS[metric].unit
    return fmt_probability(value) if unit == "%" and metric.endswith("probability_pct") else fmt_value(value, unit)


def display_table(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The drivers for reading: label, how sure, value with range, the effect at each end, source."""
    unit = delta_unit(METRICS[metric].unit)
    return pd.DataFrame(
        {
            "Assumption": frame["label"],
            "How sure": frame["status"].map(STATUS_WORDS),
            "Value (range)": [
                value_text(v, lo, hi, u)
                for v, lo, hi, u in zip(frame["value"], frame["low"], frame["high"], frame["unit"], strict=True)
            ],
            "At low end": [fmt_value(x, unit, signed=True) for x in frame["effect_low"]],
            "At high end": [fmt_value(x, unit, signed=True) for x in frame["effect_high"]],
            "Source": [
                s + (f" Tuned to: {t}" if t else "") for s, t in zip(frame["source"], frame["tuned_to"], strict=True)
            ],
            "Code name": frame["name"],
        }
    )


def tornado_chart(frame: pd.DataFrame, metric: str) -> alt.Chart:
    """Horizontal bars: the effect at the low and the high end of each assumption's range."""
    unit = delta_unit(METRICS[metric].unit)
    rows = [
        {"Assumption": r.label, "end": end, "effect": float(effect), "text": fmt_value(effect, unit, signed=True)}
        for r in frame.itertuples()
        for end, effect in (("low end", r.effect_low), ("high end", r.effect_high))
    ]
    order = list(frame["label"])
    return (
        alt.Chart(pd.DataFrame(rows))
        .mark_bar(height=7)
        .encode(
            x=alt.X("effect:Q", title=f"Change ({unit})"),
            y=alt.Y("Assumption:N", sort=order, title=None, axis=alt.Axis(labelLimit=240)),
            yOffset=alt.YOffset("end:N", sort=list(END_COLOURS)),
            color=alt.Color(
                "end:N",
                scale=alt.Scale(domain=list(END_COLOURS), range=list(END_COLOURS.values())),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            tooltip=[alt.Tooltip("Assumption:N"), alt.Tooltip("end:N", title="Range end"), alt.Tooltip("text:N", title="Change")],
        )
        .properties(height=alt.Step(18))
    )


def method_sentence(attrs: Mapping[str, Any]) -> str:
    """One sentence on how the table was computed."""
    label = METRICS[attrs["metric"]].label.lower()
    if attrs.get("baseline"):
        measure = (
            f"the median path-by-path difference in {label}, {attrs['regime']} minus {attrs['baseline']} "
            f"(now {fmt_value(attrs['base'], delta_unit(METRICS[attrs['metric']].unit), signed=True)})"
        )
    else:
        measure = f"the median {label} under {attrs['regime']} (now {number_text(attrs['base'], attrs['metric'])})"
    return (
        f"Each of the {attrs['assumptions']} assumptions moved one at a time to the low and then the high end of its "
        f"documented range, the others as set; {attrs['paths']:,} paths, seed {attrs['seed']}, common random numbers "
        f"(every run sees the same draws, so each change is paired). Shown: the change in {measure}. A sampled "
        "assumption's range end becomes the most likely value of its draw. Ranked by the swing across the range."
    )


def _style(table: pd.DataFrame) -> Any:
    colours = {v: STATUS_COLOURS[k] for k, v in STATUS_WORDS.items()}
    return table.style.map(
        lambda v: f"background-color: {colours[v]}; color: white; font-weight: 600" if v in colours else "",
        subset=["How sure"],
    )


def show_drivers(
    scenario: str | Scenario,
    regimes: Sequence[RegimeLike],
    metric: str,
    *,
    paths: int,
    seed: int,
    shock_scale: float,
    assumptions: Mapping[str, float] | None,
    baseline: RegimeLike | None,
    regime: str | None = None,
) -> None:
    """The top drivers of one headline number (see the module docstring for where to call it).

    `regime` is the regime whose number it is (default: the first of `regimes` that is not
    `baseline`); with `baseline` the number is the paired difference regime - baseline.
    """
    try:
        with st.spinner("Moving each assumption across its range..."):
            frame, attrs = _drivers_cached(
                _key(scenario),
                json.dumps([_key(r) for r in regimes]),
                metric,
                int(paths),
                int(seed),
                float(shock_scale),
                json.dumps(dict(sorted((assumptions or {}).items()))),
                _key(baseline),
                regime,
            )
    except InputError as err:
        st.error(plain(f"The drivers could not be computed: {err}"))
        return
    top = frame.head(TOP)
    spec = METRICS[metric]
    st.markdown(f"**What drives {spec.label.lower()}**")
    st.dataframe(
        _style(display_table(top, metric)),
        hide_index=True,
        column_config={
            "Assumption": st.column_config.TextColumn(help="The calibrated assumption (code name in the last column)"),
            "How sure": st.column_config.TextColumn(
                help="V: verified in its source; V2: from a secondary source; U: an unverified placeholder with a wide range"
            ),
            "Value (range)": st.column_config.TextColumn(help="Value in this run and its documented range"),
            "At low end": st.column_config.TextColumn(help="Change in the number with the assumption at its range low"),
            "At high end": st.column_config.TextColumn(help="Change in the number with the assumption at its range high"),
            "Source": st.column_config.TextColumn(help="Hover a cell for the full source", width="small"),
            "Code name": st.column_config.TextColumn(width="small"),
        },
    )
    if len(top) and float(top["swing"].max()) > 0:
        st.altair_chart(tornado_chart(top, metric), width="stretch")
    st.caption(method_sentence(attrs))
