"""What a reader sees of app text that the UI escaped for Markdown (ui.text.plain adds backslashes)."""

import re


def shown(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)
