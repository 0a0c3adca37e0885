"""The pack's figures: which charts, sized for a landscape A4 page, rendered once for the PDF and the ZIP.

The app's comparison panels (key series in small multiples, path-by-path differences to the
baseline), market functioning, the trade-off and each regime's holdings, each with its data frame
(the ZIP's CSV) and a how-to-read line. `RenderedCharts` renders each chart once: SVG here, then
vl-convert's vector PDF and a PNG in a helper process while the PDF's text is laid out. `stage`
records the wall time of the build stages (bench/bench_pack.py prints the split).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from briefing import charts, export
from briefing.pack_text import baseline_name, safe_name

if TYPE_CHECKING:
    from engine import Result

# The key series of the app's small multiples, in two figures of three rows: six rows on one
# landscape page would leave each panel too flat to read.
KEY_SERIES_FIGURES: tuple[tuple[str, ...], ...] = (
    ("yield_10y_change_bp", "market_depth_usd_mn", "dealer_utilization_pct"),
    ("basis_widening_bp", "swap_spread_30y_bp", "forced_sales_usd_bn"),
)
# Series of the difference figure (regime minus baseline, path by path).
DIFFERENCE_SERIES = ("yield_10y_change_bp", "market_depth_usd_mn", "dealer_utilization_pct", "forced_sales_usd_bn")
READING = {
    "multiples": "Columns: regimes; rows: series (y shared within a row). Line: median across simulated paths; "
    "band: 5th to 95th percentile of paths; grey dashed: the baseline's median. Numbered markers above the "
    "plot are the scenario's events.",
    "difference": "Each panel: the regime's value minus the baseline's on the same simulated path (common random "
    "numbers). Line: median of those differences; band: their 5th to 95th percentile; black: zero (no change).",
    "tradeoff": "Each point is a regime: further right costs more in calm markets, further down means a smaller "
    "yield spike in stress; bigger points reach a breakdown (beyond anything observed) on more paths.",
    "functioning": "Solid lines: share of paths on which the market is dysfunctional that day; dashed lines: share "
    "broken down (beyond anything observed). Dashed vertical lines mark the scenario's events.",
    "holdings": "Lines above zero are net buyers, below zero net sellers, cumulated from day 0 (mean over paths).",
}
PNG_SCALE = 2  # the ZIP's PNGs are for slides; the PDF itself embeds the vector PDFs

# A4 landscape, in mm (fpdf) and points (pypdf).
PAGE_W_MM, PAGE_H_MM = 297.0, 210.0
MARGIN_MM = 14.0
MM = 72.0 / 25.4
# The chart box of a figure page, in px at scale 1 (1 px = 1 pt in vl-convert's PDF): charts are
# built to about this size so they are placed near 1:1 and their text keeps its intended size.
CHART_BOX_PT = ((PAGE_W_MM - 2 * MARGIN_MM) * MM, 150.0 * MM)


@contextmanager
def stage(timings: dict[str, float] | None, key: str) -> Iterator[None]:
    """Adds the block's wall time to timings[key] (bench/bench_pack.py prints the split)."""
    if timings is None:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[key] = timings.get(key, 0.0) + time.perf_counter() - start


@dataclass(frozen=True)
class ChartItem:
    key: str
    caption: str
    reading: str
    chart: Any
    frame: pd.DataFrame


def _panel_width(columns: int) -> int:
    """Panel width (px) so a row of `columns` panels fills the page's chart box at about 1:1."""
    usable = CHART_BOX_PT[0] - 90 - 12 * (columns - 1)  # y axis and title, gaps between panels
    return int(max(140, min(300, usable / columns)))


def chart_items(result: Result) -> list[ChartItem]:
    """Every chart of the pack, with its data frame (the CSV) and a how-to-read line.

    The app's comparison panels replace the one-chart-per-series fans: the key series in small
    multiples (a column per regime) and, against the baseline, the path-by-path differences.
    """
    base = baseline_name(result)
    names = result.regime_names
    width = _panel_width(len(names))
    items = []
    for k, series in enumerate(KEY_SERIES_FIGURES, start=1):
        kw: dict[str, Any] = {"series": list(series), "baseline": base, "width": width, "height": 105}
        labels = ", ".join(charts.SERIES[s].split(" (")[0] for s in series)
        items.append(
            ChartItem(
                f"key_series_{k}",
                f"Key stress series under each regime ({k} of {len(KEY_SERIES_FIGURES)}): {labels}",
                READING["multiples"].replace("the baseline's", f"the baseline's ({base})"),
                charts.small_multiples(result, **kw),
                charts.chart_frame(result, "small_multiples", **kw),
            )
        )
    if len(names) > 1:
        kw = {"series": list(DIFFERENCE_SERIES), "baseline": base, "width": _panel_width(len(names) - 1),
              "height": 82}
        items.append(
            ChartItem(
                "difference",
                f"What each regime changes against {base}, path by path",
                READING["difference"].replace("the baseline's", f"{base}'s"),
                charts.difference_fan(result, **kw),
                charts.chart_frame(result, "difference", **kw),
            )
        )
    items.append(
        ChartItem(
            "functioning",
            "Market functioning: share of paths dysfunctional or broken down each day",
            READING["functioning"],
            charts.functioning_chart(result),
            charts.chart_frame(result, "functioning"),
        )
    )
    items.append(
        ChartItem(
            "tradeoff",
            "Calm-period cost against stress-period outcome",
            READING["tradeoff"],
            charts.tradeoff_chart(result),
            charts.chart_frame(result, "tradeoff"),
        )
    )
    for name in names:
        items.append(
            ChartItem(
                f"holdings_{safe_name(name)}",
                f"Who sold and who absorbed under {name}",
                READING["holdings"],
                charts.holdings_chart(result, name),
                charts.chart_frame(result, "holdings", regime=name),
            )
        )
    return items


class RenderedCharts:
    """The pack's charts rendered once each: spec (built without Altair's schema validation, which
    costs more than some renders and only checks our own chart code, done by the tests) to SVG here,
    then PDF and PNG from that SVG in a helper process (`export.Rasteriser`) while the PDF's text
    is laid out; `files()` waits for them."""

    def __init__(self, result: Result, *, timings: dict[str, float] | None = None, helper_process: bool = True) -> None:
        self.timings = timings
        with stage(timings, "chart specs"):
            self.items = chart_items(result)
            specs = {item.key: export.spec_of(item.chart) for item in self.items}
            self.csv = {item.key: export.to_csv(item.frame) for item in self.items}
        self._raster = export.Rasteriser(PNG_SCALE, in_process=not helper_process)
        try:
            for item in self.items:
                with stage(timings, "render svg"):
                    svg = export.to_svg(specs[item.key])
                self._raster.submit(item.key, svg)
        except BaseException:
            self._raster.__exit__(None, None, None)
            raise
        self._files: dict[str, dict[str, Any]] | None = None

    def files(self) -> dict[str, dict[str, Any]]:
        """{key: {'svg', 'pdf', 'png', 'csv'}} (waits for the helper once)."""
        if self._files is None:
            with stage(self.timings, "wait for pdf/png"):
                raster = self._raster.results()
            if self.timings is not None:
                for ext, spent in self._raster.timings.items():
                    key = f"render {ext}"
                    self.timings[key] = self.timings.get(key, 0.0) + spent
            self._files = {
                key: {"svg": svg, **raster[key], "csv": self.csv[key]} for key, svg in self._raster.svgs.items()
            }
        return self._files

    def close(self) -> None:
        """End the helper and remove its files if `files()` was never reached (an error on the way)."""
        if self._files is None:
            self._raster.__exit__(None, None, None)
