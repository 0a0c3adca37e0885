"""The pack's words and the view it links to: everything the briefing says, as plain strings.

The explorer view that reproduces a result (`view_for_result`, the scenario it opens and what its link
cannot carry), the summary paragraphs and their paired-difference sentences, each regime's lever
changes against status quo, the line on an edited scenario, and the cells of the headline and metric
tables. Numbers are the app's: the baseline is the first regime of the view, the headline table is
`briefing.headline.headline_rows` (each regime's median and 5th-95th percentile, and its paired
difference to the baseline, `Result.difference`), the summary opens with `briefing.headline.story`
and states every difference as the median of the path-by-path differences with their band.
The reproducing link is built with `policy.query.view_url`, the app's own encoder; it carries the
model version of the run (`mv`) and an edited scenario (`se.*`, or a whole uploaded one as `sx` when
it fits), so the explorer opens the same view; what a link cannot carry is said in `link_caveats`,
and the ZIP holds the scenario as a TOML file (`scenario_file`) `python -m engine run --scenario FILE.toml` reads.
Laid out on pages by `briefing.pack_pdf`; bundled by `briefing.pack`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import policy
from briefing.headline import Row, story
from briefing.numbers import delta_unit, fmt_band, fmt_lever, fmt_range, rounds_to_zero
from briefing.numbers import fmt_value as fmt
from engine import METRICS, InputError, scenario_names
from engine.run import FUNDAMENTAL_SHARE
from engine.scenario import SCENARIO_DIR, Scenario, load_scenario
from engine.scenario_edit import (
    EDITED_SUFFIX,
    describe_edit,
    edit_of,
    edit_to_params,
    resolve_edited,
    scenario_to_blob,
    scenario_to_toml,
)
from policy.query import (
    MAX_LINK_SCENARIO_CHARS,
    RegimeView,
    ViewState,
    regime_view_of,
    regimes_from_view,
    scenario_fits_link,
)

if TYPE_CHECKING:
    from engine import Result

DEFAULT_BASE_URL = "http://localhost:8501/"
# Colours of the headline table, as in the app (ui/table.py): blue better, vermillion worse, grey neither.
TONE_RGB = {"better": (0, 96, 160), "worse": (192, 74, 0), "neutral": (107, 114, 128), "none": (0, 0, 0)}
GREY_RGB = (107, 114, 128)


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "regime"


# ---------------------------------------------------------------------------------- view / link
def is_shipped(scenario: Scenario) -> bool:
    return scenario.name in scenario_names() and load_scenario(scenario.name) == scenario


def _scenario_link_data(scenario: Scenario) -> tuple[str, dict[str, str], str | None]:
    """(sc, se.* edit, sx blob) that stand for `scenario` in a view, as the app's editor writes them."""
    names = scenario_names()
    if is_shipped(scenario):
        return scenario.name, {}, None
    stem = scenario.name.removesuffix(EDITED_SUFFIX)
    for base_name in dict.fromkeys((stem, scenario.name)):
        if base_name in names:
            edit = edit_of(load_scenario(base_name), scenario)
            if edit is not None:
                return base_name, edit_to_params(edit), None
    # A scenario of its own travels whole; `sc` names the shipped scenario the explorer keeps beside it
    # (the one it edits where there is one, as the app's upload does).
    return (stem if stem in names else names[0]), {}, scenario_to_blob(scenario)


def view_for_result(result: Result) -> ViewState:
    """The explorer view that reproduces `result` (presets stay presets; custom regimes become changes;
    an edited scenario becomes its se.* edit, any other scenario of its own its sx blob)."""
    regimes = []
    for regime in result.regimes:
        try:
            is_preset = policy.get_preset(regime.name) == regime
        except KeyError:
            is_preset = False
        regimes.append(RegimeView(preset=regime.name, name=regime.name) if is_preset else regime_view_of(regime))
    scenario, edit, blob = _scenario_link_data(result.scenario)
    return ViewState(
        scenario=scenario,
        shock_scale=result.shock_scale,
        paths=result.paths,
        seed=result.seed,
        regimes=regimes,
        scenario_edit=edit,
        custom_scenario=blob,
    )


def _with_assumptions(scenario: Scenario, view: ViewState) -> Scenario:
    """The scenario as the engine runs it under the view's assumptions (the one that lives in the
    scenario, the fundamental share, is applied to it by `engine.simulate`)."""
    share = view.assumptions.get(FUNDAMENTAL_SHARE)
    if share is None:
        return scenario
    return scenario.model_copy(update={"fundamental": scenario.fundamental.model_copy(update={"share": float(share)})})


def view_scenario(view: ViewState, *, link_only: bool = False) -> Scenario:
    """The scenario `view` runs (`link_only`: the one its link opens, which leaves out an uploaded
    scenario too large for a link). Raises ValueError for a view the engine cannot resolve."""
    blob = view.custom_scenario if (scenario_fits_link(view) or not link_only) else None
    try:
        return _with_assumptions(resolve_edited(view.scenario, view.scenario_edit, blob), view)
    except InputError as err:
        raise ValueError(f"view: the scenario cannot be resolved ({err})") from None


def scenario_edit_note(view: ViewState) -> str:
    """The title page's line on an edited or uploaded scenario ('' for a shipped one), in the words
    of the app's caption (engine.scenario_edit.describe_edit)."""
    if view.custom_scenario is not None:
        scenario = view_scenario(view)
        text = (
            f"Scenario uploaded in the explorer: '{scenario.name}' ({scenario.title}), a scenario of its own "
            "rather than an edit of a shipped one."
        )
        if not scenario_fits_link(view):
            text += " It is too large for a link; its file is in the ZIP."
        return text
    if not view.scenario_edit:
        return ""
    base = load_scenario(view.scenario)
    edited = resolve_edited(view.scenario, view.scenario_edit)
    edit = edit_of(base, edited)
    how = describe_edit(base, edit) if edit is not None else ""
    return f"Scenario edited in the explorer from the shipped '{base.name}'" + (f": {how}." if how else ".")


def _lever_dump(regime: policy.PolicyRegime) -> dict[str, Any]:
    data = regime.model_dump()
    data.pop("name", None)
    data.pop("description", None)
    return data


def link_caveats(result: Result, view: ViewState) -> list[str]:
    """What the link cannot carry, in words (empty when it reproduces the run exactly)."""
    notes = []
    path = scenario_file(result)[0]
    try:
        opened: Scenario | None = view_scenario(view, link_only=True)
    except ValueError:
        opened = None
    if opened != result.scenario:
        if not scenario_fits_link(view):
            notes.append(
                f"The scenario '{result.scenario.name}' is too large for a link ({len(view.custom_scenario or ''):,} "
                f"characters encoded; a link holds at most {MAX_LINK_SCENARIO_CHARS:,}), so the link opens the "
                f"shipped scenario '{view.scenario}'. Use the scenario file in the ZIP ({path}) to reproduce this run."
            )
        else:
            shown = f"the scenario '{opened.name}'" if opened is not None else "no valid scenario"
            notes.append(
                f"The link opens {shown}, not the scenario '{result.scenario.name}' of this run. Use the scenario "
                f"file in the ZIP ({path}) to reproduce this run."
            )
    try:
        rebuilt = regimes_from_view(view)
    except ValueError as err:
        return [*notes, f"The link's regimes are not valid ({err})."]
    for regime, again in zip(result.regimes, rebuilt, strict=False):
        if _lever_dump(regime) != _lever_dump(again):
            notes.append(
                f"Regime '{regime.name}' holds data the link cannot carry (e.g. a purchase schedule); "
                "use its JSON file in the ZIP."
            )
    return notes


def check_view(result: Result, view: ViewState) -> None:
    mismatches = []
    # The view names the shipped scenario it edits (sc) and the edit; what it runs must be the result's.
    running = view_scenario(view).name
    if running != result.scenario.name:
        mismatches.append(f"scenario {running!r} vs {result.scenario.name!r}")
    if view.paths != result.paths:
        mismatches.append(f"paths {view.paths} vs {result.paths}")
    if view.seed != result.seed:
        mismatches.append(f"seed {view.seed} vs {result.seed}")
    if abs(view.shock_scale - result.shock_scale) > 1e-12:
        mismatches.append(f"shock_scale {view.shock_scale} vs {result.shock_scale}")
    if [r.name for r in view.regimes] != result.regime_names:
        mismatches.append(f"regimes {[r.name for r in view.regimes]} vs {result.regime_names}")
    if mismatches:
        raise ValueError("view: does not match the result (" + "; ".join(mismatches) + ")")


def scenario_file(result: Result) -> tuple[str, bytes]:
    """The scenario as a file of the ZIP: the shipped TOML itself, else the scenario as run in TOML
    (engine.scenario_edit.scenario_to_toml, read back equal by `--scenario FILE.toml`)."""
    name = result.scenario.name
    path = SCENARIO_DIR / f"{name}.toml"
    if is_shipped(result.scenario) and path.is_file():
        return f"scenario/{name}.toml", path.read_bytes()
    header = (
        f"Scenario '{name}' as run in a Treasury Market Policy Explorer briefing pack (model {result.model_version}).\n"
        f"Run it: python -m engine run --scenario {safe_name(name)}.toml; or upload it in the explorer's "
        "'Build a shock'."
    )
    return f"scenario/{safe_name(name)}.toml", scenario_to_toml(result.scenario, header=header).encode("utf-8")


# ---------------------------------------------------------------------------------------- words
def baseline_name(result: Result) -> str:
    """The regime others are compared with: the first, as in the app (not status_quo by name)."""
    return result.regime_names[0]


def regime_changes_text(regime: policy.PolicyRegime) -> list[str]:
    """'Label: new (status quo: old)' for every lever that differs from status_quo."""
    base = policy.get_preset("status_quo")
    out = []
    for spec in policy.lever_specs():
        new, old = policy.regime_value(regime, spec.path), policy.regime_value(base, spec.path)
        if new != old:
            out.append(f"{spec.label}: {fmt_lever(new, spec.unit)} (status quo: {fmt_lever(old, spec.unit)})")
    if regime.fed_backstop.purchase_schedule_usd_bn_per_day != base.fed_backstop.purchase_schedule_usd_bn_per_day:
        out.append("Fed purchases follow a historical schedule (see the regime JSON)")
    return out


def _all_zero(diff: dict[str, float]) -> bool:
    return all(rounds_to_zero(v) for v in diff.values())


def paired_words(diff: dict[str, float], unit: str, base: str, interval: str) -> str:
    """A paired difference in words: '3.8 bp lower than under status_quo, path by path (median of the
    differences; 5th to 95th percentile -21.6 to +2.3 bp)'. Zero is neutral: 'no change' when every
    statistic rounds to zero, 'about the same' when only the median does (never '0 higher')."""
    if _all_zero(diff):
        return f"no change against {base}, path by path"
    d = diff["p50"]
    if rounds_to_zero(d):
        head = f"about the same as under {base}, path by path"
    else:
        head = f"{fmt(abs(d), unit)} {'higher' if d > 0 else 'lower'} than under {base}, path by path"
    return f"{head} ({interval} {fmt_range(diff, unit, signed=True)})"


def summary_paragraphs(result: Result) -> list[tuple[str, list[str]]]:
    """Plain-language summary as (paragraph, bullets): the two sentences of the app's story, the
    baseline outcome, then each regime's paired difference to the baseline (median of the path-by-
    path differences with their 5th-95th percentile; shares with a 90% paired-bootstrap interval)
    and its calm-market cost against the baseline."""
    s = result.summary()
    base = baseline_name(result)
    sb = s[base]
    sc = result.scenario
    first, second = story(result, base)
    out: list[tuple[str, list[str]]] = [
        (f"{first} {second}", []),
        (
            f"Baseline: {base}, the first regime of the view (as in the explorer). Every difference below is a "
            f"regime minus {base} on the same simulated path (common random numbers): the median of those "
            "path-by-path differences, with their 5th to 95th percentile.",
            [],
        ),
        (
            f"Scenario: {sc.title} ({sc.name}), {result.days} business days from {result.dates[0]:%d %b %Y}, "
            f"shock scale {result.shock_scale:g}. {sc.description.strip()}",
            [],
        ),
    ]
    base_bullets = [
        f"the 10y yield rises at its peak by {fmt_band(sb['peak_10y_yield_change_bp'], 'bp')};",
        f"the market is dysfunctional (10y dislocation and dealer utilization both past their thresholds, as "
        f"on 10-18 March 2020) on at least one day on {fmt(sb['dysfunction_probability_pct']['p50'], '%')} "
        f"of paths (dysfunctional days per path: {fmt_band(sb['dysfunction_days'], 'days')});",
        f"it reaches a breakdown (beyond anything observed) on "
        f"{fmt(sb['broken_market_probability_pct']['p50'], '%')} of paths;",
        f"market depth falls to {fmt_band(sb['trough_market_depth_usd_mn'], '$mn')};",
        f"RV funds sell {fmt_band(sb['forced_sales_usd_bn'], '$bn')} and the Fed buys "
        f"{fmt_band(sb['fed_purchases_usd_bn'], '$bn')}.",
    ]
    if base != "status_quo" and not rounds_to_zero(sb["calm_yield_cost_bp"]["p50"]):
        base_bullets[-1] = base_bullets[-1].removesuffix(".") + ";"
        base_bullets.append(
            f"in calm markets its rules cost {fmt_band(sb['calm_yield_cost_bp'], 'bp')} of 10y yield against "
            "status-quo rules (the differences below are to this)."
        )
    out.append(
        (f"Under {base} (median, with the 5th to 95th percentile of {result.paths:,} simulated paths):", base_bullets)
    )
    spread = "5th to 95th percentile of the differences"
    for name in result.regime_names:
        if name == base:
            continue
        sr = s[name]
        bullets = []
        for metric, what in (
            ("peak_10y_yield_change_bp", "Peak 10y yield rise"),
            ("trough_market_depth_usd_mn", "Trough market depth"),
            ("forced_sales_usd_bn", "RV forced sales"),
            ("fed_purchases_usd_bn", "Fed purchases"),
        ):
            unit = METRICS[metric].unit
            d = result.difference(metric, name, base)
            bullets.append(
                f"{what} under {name}: {paired_words(d, unit, base, spread)}; medians "
                f"{fmt(sr[metric]['p50'], unit)} and {fmt(sb[metric]['p50'], unit)}."
            )
        for metric, what in (
            ("dysfunction_probability_pct", "Dysfunction (as on 10-18 March 2020)"),
            ("broken_market_probability_pct", "Breakdown (beyond anything observed)"),
        ):
            d = result.difference(metric, name, base)
            words = paired_words(d, "pp", base, "90% paired-bootstrap interval").replace(" pp", " percentage points")
            bullets.append(
                f"{what}: on {fmt(sr[metric]['p50'], '%')} of paths vs {fmt(sb[metric]['p50'], '%')} under {base}; "
                f"{words}."
            )
        calm = {
            m: result.difference(m, name, base)
            for m in ("calm_yield_cost_bp", "calm_first_year_interest_cost_usd_bn", "calm_interest_cost_usd_bn_per_year")
        }
        if all(_all_zero(d) for d in calm.values()):
            bullets.append(f"Cost in calm markets: no change against {base}, path by path.")
        else:
            y, first_year, repriced = calm.values()
            bullets.append(
                f"Cost in calm markets against {base}, path by path (median difference, 5th to 95th percentile): "
                f"{_signed(y, 'bp')} of 10y yield, {_signed(first_year, '$bn')} of interest in the first year and "
                f"{_signed(repriced, '$bn/yr')} a year once all debt has repriced."
            )
        out.append((f"{name} compared with {base}:", bullets))
    out.append(
        (
            "All regimes see the same random draws (common random numbers), so differences are measured path by "
            "path. Ranges reflect uncertainty in calibrated parameters and shocks, not model uncertainty. Calm-market "
            "costs are defined against status-quo rules in the model and shown here as differences to the baseline.",
            [],
        )
    )
    return out


def _signed(diff: dict[str, float], unit: str) -> str:
    if _all_zero(diff):
        return "no change"
    return f"{fmt(diff['p50'], unit, signed=True)} ({fmt_range(diff, unit, signed=True)})"


# ---------------------------------------------------------------------------------- table cells
@dataclass(frozen=True)
class Text:
    """One paragraph of a table cell, wrapped to the column in its own weight, colour and size."""

    text: str
    bold: bool = False
    color: tuple[int, int, int] = (0, 0, 0)
    size: float | None = None  # None: the table's size


CellText = str | Sequence[Text]


def metric_cell(stats: dict[str, float], unit: str) -> str:
    if fmt(stats["p5"], unit) == fmt(stats["p95"], unit):
        return fmt(stats["p50"], unit)
    return fmt_band(stats, unit)


def headline_table(rows: list[Row], names: list[str], base: str) -> list[list[CellText]]:
    """The app's comparison table (ui/table.py) as grid rows: the same strings from `headline_rows`."""
    table: list[list[CellText]] = [
        ["Median, 5th-95th pct; Δ vs baseline", *(f"{n} (baseline)" if n == base else n for n in names)]
    ]
    for row in rows:
        du = delta_unit(row.unit)
        unit = f"({row.unit}; Δ {du})" if du != row.unit else f"({row.unit})"
        label = [Text(row.metric.label, bold=True), Text(unit, color=GREY_RGB, size=7.5)]
        if row.metric.calm:
            label.append(Text(f"difference to {base}, path by path", color=GREY_RGB, size=7.5))
        cells: list[CellText] = [label]
        for n in names:
            c = row.cells[n]
            color = TONE_RGB[c.tone] if row.metric.calm and n != base else (0, 0, 0)
            parts = [Text(c.value, bold=True, color=color)]
            if c.band:
                parts.append(Text(c.band, color=GREY_RGB, size=7.5))
            if c.difference:
                parts.append(Text(f"Δ {c.difference}", color=TONE_RGB[c.tone], size=8))
            cells.append(parts)
        table.append(cells)
    return table
