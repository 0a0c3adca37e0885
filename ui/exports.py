"""Exports built on a download click (Streamlit calls `data` then): a failure must not break the app.

A deferred download that raises gives the browser a failed download and the user no reason. So a
failing build is logged on the server with its trace and the user gets a file of the expected
kind that says what failed and what to do: a ZIP holding EXPORT_FAILED.txt, or a one-page PDF.
The page itself keeps running, with nothing lost.
"""

import io
import logging
import zipfile
from collections.abc import Callable
from typing import Literal

from fpdf import FPDF

LOG = logging.getLogger("tmpe.exports")
ExportKind = Literal["zip", "pdf"]


def failure_text(what: str, err: BaseException) -> str:
    reason = " ".join(str(err).split())[:300] or type(err).__name__
    return (f"The {what} could not be built ({type(err).__name__}: {reason}).\n"
            "Nothing in the app was lost: change a setting or press the button again; the server log has the details.\n")


def failure_file(kind: ExportKind, what: str, err: BaseException) -> bytes:
    """A file of the expected kind that says the export failed (plain ASCII text, no markup)."""
    text = failure_text(what, err)
    if kind == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as bundle:
            bundle.writestr("EXPORT_FAILED.txt", text)
        return buffer.getvalue()
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=11)
    doc.multi_cell(0, 6, text.encode("latin-1", "replace").decode("latin-1"))
    return bytes(doc.output())


def safe_export(build: Callable[[], bytes], kind: ExportKind, what: str) -> Callable[[], bytes]:
    """`build` for a deferred download button, returning a failure file instead of raising."""

    def data() -> bytes:
        try:
            return build()
        except Exception as err:  # any failure of an export: logged, reported in the file, app unharmed
            LOG.exception("export failed: %s", what)
            return failure_file(kind, what, err)

    return data
