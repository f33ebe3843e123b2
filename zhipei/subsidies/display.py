"""Parameter values as people read them (yuan, percentages, labels), for pages and previews."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from zhipei.core.money import yuan
from zhipei.subsidies.parameters import ParameterSpec, Unit, specs_for
from zhipei.subsidies.queries import ResolvedParameter, ResolvedPolicy


def format_bp(bp: int) -> str:
    whole, rest = divmod(bp, 100)
    return f"{whole}.{rest:02d}%"


def format_value(spec: ParameterSpec, value: Any) -> str:
    if value is None:
        return ""
    if spec.unit is Unit.FEN:
        return yuan(value)
    if spec.unit is Unit.BASIS_POINTS:
        return format_bp(value)
    if spec.unit is Unit.FLAG:
        return _("Yes") if value else _("No")
    if spec.unit in (Unit.CHOICE, Unit.CHOICES):
        assert spec.choices is not None
        labels = dict(spec.choices.choices)
        values = value if isinstance(value, list) else [value]
        return "、".join(str(labels.get(v, v)) for v in values)
    return str(value)


@dataclass(frozen=True)
class ParameterRow:
    name: str
    label: str
    value: str
    source: ResolvedParameter | None


def resolved_rows(resolved: ResolvedPolicy) -> list[ParameterRow]:
    """One row per parameter of the programme, in order; missing ones have no source."""
    rows = []
    for spec in specs_for(resolved.programme):
        found = resolved.parameters.get(spec.name)
        rows.append(
            ParameterRow(
                name=spec.name,
                label=str(spec.label),
                value=format_value(spec, found.value) if found else "",
                source=found,
            )
        )
    return rows


def version_rows(programme: str, parameters: dict[str, Any]) -> list[ParameterRow]:
    """The parameters one version sets, in the programme's order."""
    return [
        ParameterRow(spec.name, str(spec.label), format_value(spec, parameters[spec.name]), None)
        for spec in specs_for(programme)
        if spec.name in parameters
    ]
