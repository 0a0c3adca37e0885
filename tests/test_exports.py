"""A failing export on a download click gives a file that says why, and never raises into the app."""

import io
import zipfile

from pypdf import PdfReader

from briefing.pack import build_pack
from engine import simulate
from policy.query import default_view
from ui.exports import safe_export


def _broken_build() -> bytes:
    # A real failure of the real pack builder: a Result whose regimes do not match the view's.
    result = simulate("march_2020", ["status_quo"], paths=20)
    view = default_view("april_2025")
    return build_pack(result, view, "http://localhost:8501/")[1]


def test_a_failed_zip_export_is_a_zip_that_says_what_failed(caplog):
    data = safe_export(_broken_build, "zip", "briefing pack")()
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        assert bundle.namelist() == ["EXPORT_FAILED.txt"]
        text = bundle.read("EXPORT_FAILED.txt").decode()
    assert text.startswith("The briefing pack could not be built (") and "Nothing in the app was lost" in text
    assert any("export failed" in r.getMessage() for r in caplog.records)  # the trace goes to the server log


def test_a_failed_pdf_export_is_a_pdf_that_says_what_failed():
    data = safe_export(_broken_build, "pdf", "briefing PDF")()
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "The briefing PDF could not be built" in text


def test_a_working_export_is_passed_through():
    assert safe_export(lambda: b"PK-bytes", "zip", "x")() == b"PK-bytes"
