"""Static exports of Altair charts through vl-convert (offline, bundled Liberation Sans fonts).

PNG and PDF embed their fonts; SVG keeps text as <text font-family="sans-serif"> (the viewer's
font), so the PDF is the self-contained vector file.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import vl_convert as vlc

# d3-format en-US with an ASCII hyphen-minus, so exported numbers copy and search as plain text.
FORMAT_LOCALE: dict[str, Any] = {
    "decimal": ".",
    "thousands": ",",
    "grouping": [3],
    "currency": ["$", ""],
    "minus": "-",
}
# Only the bundled Liberation Sans: a font family vl-convert always has, so no glyph falls back.
CONFIG: dict[str, Any] = {"font": "Liberation Sans", "background": "white"}


def _spec(chart: alt.TopLevelMixin | dict) -> dict:
    return chart if isinstance(chart, dict) else chart.to_dict()


def _kw() -> dict[str, Any]:
    return {"config": CONFIG, "format_locale": FORMAT_LOCALE, "allowed_base_urls": []}


def to_png(chart: alt.TopLevelMixin | dict, scale: float = 2) -> bytes:
    """PNG at `scale` x the chart's CSS pixel size (2 = crisp on slides and retina screens)."""
    return vlc.vegalite_to_png(_spec(chart), scale=scale, **_kw())


def to_svg(chart: alt.TopLevelMixin | dict) -> str:
    """SVG text (fonts not embedded)."""
    return vlc.vegalite_to_svg(_spec(chart), **_kw())


def to_pdf(chart: alt.TopLevelMixin | dict) -> bytes:
    """Single-page vector PDF with embedded, subset Liberation Sans."""
    return vlc.vegalite_to_pdf(_spec(chart), **_kw())


def render_all(chart: alt.TopLevelMixin | dict, scale: float = 2) -> dict[str, bytes | str]:
    """{'svg', 'png', 'pdf'} from one Vega render: the SVG is rasterised / converted by vl-convert
    (the same resvg path `to_png`/`to_pdf` take internally), which saves two renders per chart."""
    svg = to_svg(chart)
    return {"svg": svg, "png": vlc.svg_to_png(svg, scale=scale), "pdf": vlc.svg_to_pdf(svg)}


def to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV without the index; floats at full precision so numbers round-trip."""
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
