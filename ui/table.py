"""The compact comparison: regimes as columns, headline metrics as rows (HTML, every text escaped).

Numbers come from `briefing.headline.headline_rows` (the pack uses the same rows). Colours: blue
for better, vermillion for worse (a colour-blind-safe pair), grey for no change or no direction.
"""

import html

import streamlit as st

from briefing.headline import Row

CSS = """
<style>
.tmpe-cmp {border-collapse: collapse; width: 100%; font-size: 0.82rem; line-height: 1.25;}
.tmpe-cmp th, .tmpe-cmp td {padding: 2px 6px; border-bottom: 1px solid #e3e7ec; vertical-align: top;}
.tmpe-cmp th {text-align: left; font-weight: 600; background: #f1f4f7; white-space: nowrap;}
.tmpe-cmp td.m {color: #1b1f24; width: 21%; white-space: nowrap;}
.tmpe-cmp td.m span {color: #6b7280; font-size: 0.74rem;}
.tmpe-cmp .v {font-weight: 600; font-variant-numeric: tabular-nums;}
.tmpe-cmp .b {color: #6b7280; font-size: 0.74rem; font-variant-numeric: tabular-nums;}
.tmpe-cmp .d {font-size: 0.76rem; font-variant-numeric: tabular-nums;}
.tmpe-cmp .better {color: #0060a0;} .tmpe-cmp .worse {color: #c04a00;} .tmpe-cmp .neutral {color: #6b7280;}
.tmpe-cmp .sw {display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px;}
.tmpe-cmp tr.calm td {background: #fafbfc;}
/* laptop widths: the same content, tighter */
@media (max-width: 1400px) {
  .tmpe-cmp {font-size: 0.74rem;} .tmpe-cmp .b, .tmpe-cmp .d {font-size: 0.68rem;}
  .tmpe-cmp th, .tmpe-cmp td {padding: 1px 4px;}
}
</style>
"""
_TONE_WORD = {"better": "better for the market", "worse": "worse for the market", "neutral": "", "none": ""}


def table_html(rows: list[Row], names: list[str], colors: dict[str, str], baseline: str) -> str:
    """The table as HTML: every user-given text (regime names) is escaped."""
    esc = html.escape
    head = "".join(
        f'<th><span class="sw" style="background:{esc(colors.get(n, "#555"))}"></span>{esc(n)}'
        + (" <span class='b'>(baseline)</span>" if n == baseline else "")
        + "</th>"
        for n in names
    )
    body = []
    for row in rows:
        unit = "pp" if row.unit == "%" else row.unit
        note = "; Δ " + unit if unit != row.unit else ("; vs baseline" if row.metric.calm else "")
        label = esc(row.metric.label) + f" <span>({esc(row.unit)}{esc(note)})</span>"
        cells = []
        for n in names:
            c = row.cells[n]
            parts = []
            tone_class = c.tone if c.tone != "none" else ""
            value_class = f"v {tone_class}" if row.metric.calm and n != baseline else "v"
            band = f' <span class="b">{esc(c.band)}</span>' if c.band else ""
            parts.append(f'<div><span class="{value_class}">{esc(c.value)}</span>{band}</div>')
            if c.difference:
                word = _TONE_WORD[c.tone]
                title = f' title="{esc(word)}"' if word else ""
                parts.append(f'<div class="d {tone_class}"{title}>Δ {esc(c.difference)}</div>')
            cells.append("<td>" + "".join(parts) + "</td>")
        klass = ' class="calm"' if row.metric.calm else ""
        body.append(f'<tr{klass}><td class="m" title="{esc(row.definition)}">{label}</td>{"".join(cells)}</tr>')
    return (
        '<table class="tmpe-cmp"><thead><tr><th>Median, 5th-95th pct; Δ vs baseline</th>'
        + head
        + "</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table>"
    )


def comparison(rows: list[Row], names: list[str], colors: dict[str, str], baseline: str) -> None:
    st.html(table_html(rows, names, colors, baseline))
