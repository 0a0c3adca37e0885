"""The input spec: every settable lever as data (path, label, unit, bounds, step, default, source).

One spec drives the CLI `params` listing, the app's widgets, the URL encoding and the docs.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, get_args

from pydantic import BaseModel, ValidationError

from policy.regime import GROUPS, PolicyRegime

LeverType = Literal["float", "int", "bool", "choice"]


@dataclass(frozen=True)
class LeverSpec:
    """One settable regime parameter, addressed by its dot path (e.g. `fed_backstop.enabled`)."""

    path: str
    group: str
    field: str
    label: str
    type: LeverType
    unit: str
    min: float | None
    max: float | None
    step: float | None
    choices: tuple[str, ...] | None
    default: Any
    description: str
    source: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form used by `python -m engine params`."""
        return {
            "path": self.path,
            "label": self.label,
            "type": self.type,
            "unit": self.unit,
            "min": self.min,
            "max": self.max,
            "step": self.step,
            "choices": list(self.choices) if self.choices else None,
            "default": self.default,
            "description": self.description,
            "source": self.source,
        }


def _bound(metadata: list[Any], kind: str) -> float | None:
    for item in metadata:
        value = getattr(item, kind, None)
        if value is not None:
            return float(value)
    return None


def _lever_type(annotation: Any) -> tuple[LeverType, tuple[str, ...] | None]:
    if annotation is bool:
        return "bool", None
    if annotation is int:
        return "int", None
    if annotation is float:
        return "float", None
    choices = get_args(annotation)
    if choices and all(isinstance(c, str) for c in choices):
        return "choice", tuple(choices)
    raise TypeError(f"not a lever type: {annotation!r}")


def _group_specs(group: str, model: type[BaseModel]) -> list[LeverSpec]:
    specs = []
    for field_name, info in model.model_fields.items():
        extra = info.json_schema_extra or {}
        assert isinstance(extra, dict)
        try:
            lever_type, choices = _lever_type(info.annotation)
        except TypeError:
            continue  # data series (a purchase schedule), not a lever
        numeric = lever_type in ("float", "int")
        specs.append(
            LeverSpec(
                path=f"{group}.{field_name}",
                group=group,
                field=field_name,
                label=str(extra["label"]),
                type=lever_type,
                unit=str(extra["unit"]),
                min=_bound(info.metadata, "ge") if numeric else None,
                max=_bound(info.metadata, "le") if numeric else None,
                step=float(extra["step"]) if numeric and "step" in extra else None,
                choices=choices,
                default=info.default,
                description=info.description or "",
                source=str(extra["source"]),
            )
        )
    return specs


def lever_specs() -> list[LeverSpec]:
    """Every settable lever of a regime, group by group, in display order (a new list of the frozen specs)."""
    return list(_all_specs())


@cache
def _all_specs() -> tuple[LeverSpec, ...]:
    # Built once: the spec is fixed at import, and a 400-point sweep asked for it 1,600 times (0.5 s).
    specs: list[LeverSpec] = []
    for group in GROUPS:
        model = PolicyRegime.model_fields[group].annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        specs.extend(_group_specs(group, model))
    return tuple(specs)


def regime_value(regime: PolicyRegime, path: str) -> Any:
    """The value at a dot path of a regime."""
    group, _, field = path.partition(".")
    return getattr(getattr(regime, group), field)


def with_changes(
    base: PolicyRegime,
    changes: dict[str, Any],
    *,
    name: str | None = None,
    description: str | None = None,
) -> PolicyRegime:
    """A new regime: `base` with the dot-path changes applied, validated as a whole.

    Every change is checked before anything is built, so there are no partial reforms; the base
    is never mutated. Raises `ValueError` naming the path and the allowed range.
    """
    data = base.model_dump()
    for path, value in changes.items():
        group, _, field = path.partition(".")
        if group not in GROUPS or field not in data[group]:
            raise ValueError(f"{path}: unknown regime parameter")
        data[group][field] = value
    if name is not None:
        data["name"] = name
    if description is not None:
        data["description"] = description
    try:
        return PolicyRegime.model_validate(data)
    except ValidationError as err:
        raise ValueError(describe_validation_error(err)) from None


def allowed_range(path: str) -> str:
    """Human text of what a lever accepts, for error messages."""
    for spec in lever_specs():
        if spec.path == path:
            if spec.type == "bool":
                return "true or false"
            if spec.type == "choice":
                return "one of " + ", ".join(spec.choices or ())
            return f"a number from {spec.min:g} to {spec.max:g} ({spec.unit})"
    return "see `python -m engine params`"


def describe_validation_error(err: ValidationError) -> str:
    """One line naming the first bad field (as a dot path) and what is allowed."""
    first = err.errors()[0]
    path = ".".join(str(p) for p in first["loc"])
    allowed = allowed_range(path)
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        return f"{path}: unknown field"
    return f"{path}: {message}; allowed: {allowed}"
