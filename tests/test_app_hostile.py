"""Hostile links and files against the real app (AppTest, real engine): text from a link or a file is
never rendered as Markdown or HTML, warnings from one link are grouped and capped, and the page keeps
working with a clear message."""

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
LINK = re.compile(r"(?<!\\)\]\((?:https?:)?//")  # a Markdown link or image target that is not escaped
HOSTILE = {
    "[CLICK TO LOGIN](http://127.0.0.1:9/p)": "1",
    "sc": "![x](http://127.0.0.1:9/t.png)",
    "r0": "status_quo",
    "r0.__class__": "**bold**",
    "r1": "<img src=x onerror=alert(1)>",
    "n": "100",
}


def _markdown_bodies(at: AppTest) -> list[str]:
    """Every text the page renders through Markdown (markdown, captions, alerts)."""
    kinds = ("markdown", "caption", "warning", "error", "info", "success")
    return [str(e.value) for kind in kinds for e in getattr(at, kind)]


def test_a_hostile_link_renders_no_link_image_or_html_and_one_grouped_warning():
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update(HOSTILE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    bodies = _markdown_bodies(at)
    assert not [b for b in bodies if LINK.search(b)], "a link or image from the link would render"
    assert not [b for b in bodies if "<img" in b], "HTML from the link would render"
    assert not [b for b in bodies if "**bold**" in b], "emphasis from the link would render"
    warnings = [w.value for w in at.warning if "This link had" in w.value]
    assert len(warnings) == 1
    texts = [t.value for t in at.text]
    assert any("CLICK TO LOGIN" in t for t in texts) and any("![x]" in t for t in texts)  # shown literally
    # The page still works: the table and the default scenario are there.
    assert at.session_state["_view"].scenario == "march_2020"


def test_a_link_with_hundreds_of_parameters_gives_one_capped_list():
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update({f"junk{i}": "x" for i in range(450)} | {"n": "100"})
    at.run()
    assert not at.exception
    assert len([w for w in at.warning if "This link had" in w.value]) == 1
    assert len(at.text) <= 52  # at most 50 messages and one "... and N more" line shown


def test_the_server_config_hides_error_details_and_bounds_uploads():
    import tomllib

    config = tomllib.loads((Path(APP).parent / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"  # no traces or server paths for users
    from engine.scenario import MAX_SCENARIO_FILE_BYTES
    from policy.files import MAX_NESTING  # noqa: F401 - the reader every upload goes through
    from policy.io import MAX_REGIME_FILE_BYTES

    # The server refuses a body above maxUploadSize (MB) itself; our files are far below it.
    assert config["server"]["maxUploadSize"] * 1_000_000 >= max(MAX_REGIME_FILE_BYTES, MAX_SCENARIO_FILE_BYTES)
    assert config["server"]["maxUploadSize"] <= 1
