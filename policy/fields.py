"""One constructor for every policy lever, so each carries the same metadata.

The metadata (label, unit, step, source) is what drives the sliders, the CLI `params` listing,
the URL encoding and the methodology page: one input spec, many consumers.
"""

from typing import Any

from pydantic import Field


def lever(
    default: Any,
    *,
    label: str,
    unit: str,
    description: str,
    source: str,
    ge: float | None = None,
    le: float | None = None,
    step: float | None = None,
) -> Any:
    """A pydantic field with the lever metadata the UI, CLI and docs read back."""
    extra: dict[str, Any] = {"label": label, "unit": unit, "source": source}
    if step is not None:
        extra["step"] = step
    return Field(default, ge=ge, le=le, description=description, json_schema_extra=extra)
