"""Static exports of Altair charts through vl-convert (offline, bundled Liberation Sans fonts).

PNG and PDF embed their fonts; SVG keeps text as <text font-family="sans-serif"> (the viewer's
font), so the PDF is the self-contained vector file.

`Rasteriser` turns SVGs into PDF and PNG in a helper process while the caller goes on: vl-convert
holds the GIL for the whole of every call (measured with vl-convert 1.9: a Python thread spinning
beside a render barely advances), so threads cannot overlap renders, but a second process can.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
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


def spec_of(chart: alt.TopLevelMixin | dict) -> dict:
    """The chart's Vega-Lite dict, without Altair's JSON-schema validation: it only checks our own
    chart code (the tests build every chart validated) and cost up to a tenth of a second a chart."""
    return chart if isinstance(chart, dict) else chart.to_dict(validate=False)


def _kw() -> dict[str, Any]:
    return {"config": CONFIG, "format_locale": FORMAT_LOCALE, "allowed_base_urls": []}


def to_png(chart: alt.TopLevelMixin | dict, scale: float = 2) -> bytes:
    """PNG at `scale` x the chart's CSS pixel size (2 = crisp on slides and retina screens)."""
    return vlc.vegalite_to_png(spec_of(chart), scale=scale, **_kw())


def to_svg(chart: alt.TopLevelMixin | dict) -> str:
    """SVG text (fonts not embedded)."""
    return vlc.vegalite_to_svg(spec_of(chart), **_kw())


def to_pdf(chart: alt.TopLevelMixin | dict) -> bytes:
    """Single-page vector PDF with embedded, subset Liberation Sans."""
    return vlc.vegalite_to_pdf(spec_of(chart), **_kw())


def svg_to_png(svg: str, scale: float = 2) -> bytes:
    """PNG of an SVG `to_svg` wrote (the resvg rasteriser `to_png` uses internally)."""
    return vlc.svg_to_png(svg, scale=scale)


def svg_to_pdf(svg: str) -> bytes:
    """Vector PDF of an SVG `to_svg` wrote, fonts embedded (as `to_pdf`)."""
    return vlc.svg_to_pdf(svg)


def render_all(chart: alt.TopLevelMixin | dict, scale: float = 2) -> dict[str, bytes | str]:
    """{'svg', 'png', 'pdf'} from one Vega render: the SVG is rasterised / converted by vl-convert
    (the same resvg path `to_png`/`to_pdf` take internally), which saves two renders per chart."""
    svg = to_svg(chart)
    return {"svg": svg, "png": svg_to_png(svg, scale=scale), "pdf": svg_to_pdf(svg)}


def to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV without the index; floats at full precision so numbers round-trip."""
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


# The helper imports only vl_convert (about 0.05 s to start) and converts each SVG named on stdin;
# files, not pipes, carry the data, so neither side can block on a full pipe. Each output is
# written under a temporary name and renamed, so a file that exists is complete.
_WORKER = r"""
import json, sys, time
from pathlib import Path
import vl_convert as vlc
folder, scale = Path(sys.argv[1]), float(sys.argv[2])
spent = {"pdf": 0.0, "png": 0.0}
for line in sys.stdin:
    key = line.strip()
    if not key:
        continue
    svg = (folder / (key + ".svg")).read_text("utf-8")
    for ext, render in (("pdf", lambda: vlc.svg_to_pdf(svg)), ("png", lambda: vlc.svg_to_png(svg, scale=scale))):
        start = time.perf_counter()
        data = render()
        spent[ext] += time.perf_counter() - start
        (folder / (key + "." + ext + ".part")).write_bytes(data)
        (folder / (key + "." + ext + ".part")).replace(folder / (key + "." + ext))
(folder / "timings.json").write_text(json.dumps(spent))
"""


class Rasteriser:
    """SVG -> {'pdf', 'png'} in a helper process, so the caller's next renders and text layout run
    meanwhile. `submit` hands over an SVG; `results` waits and returns every output. Anything the
    helper does not deliver (it could not start, failed or timed out) is rendered here instead, so
    the outputs are the same either way. `in_process=True` renders everything here (for comparison)."""

    def __init__(self, scale: float = 2, *, in_process: bool = False, timeout_s: float = 120.0) -> None:
        self.scale = scale
        self.timeout_s = timeout_s
        self.svgs: dict[str, str] = {}
        self.timings: dict[str, float] = {}  # seconds per format spent by whoever rendered it
        self._dir = Path(tempfile.mkdtemp(prefix="briefing_raster_"))
        self._proc: subprocess.Popen[str] | None = None
        if not in_process:
            try:
                with (self._dir / "stderr.txt").open("w") as err:  # the helper keeps its own handle
                    self._proc = subprocess.Popen(
                        [sys.executable, "-c", _WORKER, str(self._dir), repr(float(scale))],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.DEVNULL,
                        stderr=err,
                        text=True,
                    )
            except OSError:
                self._proc = None

    def submit(self, key: str, svg: str) -> None:
        if not key.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"key: {key!r}; allowed: letters, digits, '_' and '-'")
        self.svgs[key] = svg
        if self._proc is None or self._proc.stdin is None:
            return
        try:
            (self._dir / f"{key}.svg").write_text(svg, "utf-8")
            self._proc.stdin.write(key + "\n")
            self._proc.stdin.flush()
        except OSError:  # the helper is gone: what it did not finish is rendered here
            self._stop()

    def _stop(self) -> None:
        if self._proc is not None:
            if self._proc.stdin is not None:
                with contextlib.suppress(OSError):  # already closed by a helper that died
                    self._proc.stdin.close()
            try:
                self._proc.wait(timeout=self.timeout_s)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def results(self) -> dict[str, dict[str, bytes]]:
        """{key: {'pdf', 'png'}} for every submitted SVG (waits for the helper)."""
        helper = self._proc is not None
        self._stop()
        if helper and (self._dir / "timings.json").is_file():
            for ext, spent in json.loads((self._dir / "timings.json").read_text()).items():
                self.timings[ext] = self.timings.get(ext, 0.0) + float(spent)
        out: dict[str, dict[str, bytes]] = {}
        for key, svg in self.svgs.items():
            files: dict[str, bytes] = {}
            for ext in ("pdf", "png"):
                path = self._dir / f"{key}.{ext}"
                if path.is_file():
                    files[ext] = path.read_bytes()
                else:
                    start = time.perf_counter()
                    files[ext] = svg_to_pdf(svg) if ext == "pdf" else svg_to_png(svg, scale=self.scale)
                    self.timings[ext] = self.timings.get(ext, 0.0) + time.perf_counter() - start
            out[key] = files
        shutil.rmtree(self._dir, ignore_errors=True)
        return out

    def __enter__(self) -> Rasteriser:
        return self

    def __exit__(self, *exc: object) -> None:
        # On an error in the caller: end the helper and remove its files.
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
        shutil.rmtree(self._dir, ignore_errors=True)
