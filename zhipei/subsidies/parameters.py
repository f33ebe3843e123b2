"""The parameters of each programme, as data with a schema (STYLE §1 rule 6).

Each programme has a list of `ParameterSpec`s; from them come the pydantic model that
validates a version's parameters (`validate_parameters`), the officer form's fields
(subsidies.forms) and the labels of the resolved-policy tables. Units, chosen once:

* amounts: integer fen (`*_fen`), never floats;
* ratios: integer basis points (`*_bp`: 9500 = 95.00%), so a ratio is exact and
  `amount_fen * bp // 10000` stays in integers;
* counts, days, months, years, ages: integers;
* lists (eligible groups, shutdown kinds, excluded statuses): enum values.

A version sets any subset of its programme's parameters (the rest comes from the parent
region); `check_complete` applies the rules that span several parameters to a resolved set.

A parameter is offered only if it changes a decision. `RETIRED` names those a programme
used to offer: a new version that sets one is refused with the reason, and resolution reads
only the names in `SPECS`, so a stored value under a retired name is never applied (migration
0006 removed them from the stored versions).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Literal

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    create_model,
)

from zhipei.core.errors import InvalidInput
from zhipei.core.money import MAX_FEN
from zhipei.people.models import PersonCategory
from zhipei.subsidies.models import FundSource, Programme


class Unit(enum.StrEnum):
    FEN = "fen"
    BASIS_POINTS = "bp"
    COUNT = "count"
    DAYS = "days"
    MONTHS = "months"
    YEARS = "years"
    FLAG = "flag"
    CHOICE = "choice"  # one value of `choices`
    CHOICES = "choices"  # a non-empty list of values of `choices`


class ExcludedStatus(models.TextChoices):
    """People excluded from training subsidies (policy-rules §6, Guangdong [L✓])."""

    PUBLIC_SERVICE_STAFF = "public_service_staff", _("Established staff of public bodies")
    FULL_TIME_STUDENT = "full_time_student", _("Full-time student")
    PENSIONER = "pensioner", _("Receiving a pension")


class ShutdownKind(models.TextChoices):
    """Enterprise states that qualify for the online-training subsidy (notice 10号 [N✓]);
    the values match enterprises.ShutdownDeclaration.Kind."""

    FULL = "full", _("Full shutdown")
    PARTIAL = "partial", _("Partial shutdown")


class Payee(models.TextChoices):
    ENTERPRISE = "enterprise", _("The enterprise")
    PERSON = "person", _("The person trained")


C = PersonCategory.Category


class LivingAllowanceGroup(models.TextChoices):
    """The five groups of R14 / notice §1.3 [N✓]; values are people's category values."""

    REGISTERED_POOR_LABOURER = C.REGISTERED_POOR_LABOURER.value, C.REGISTERED_POOR_LABOURER.label
    EMPLOYMENT_DIFFICULTY = C.EMPLOYMENT_DIFFICULTY.value, C.EMPLOYMENT_DIFFICULTY.label
    ZERO_EMPLOYMENT_FAMILY = C.ZERO_EMPLOYMENT_FAMILY.value, C.ZERO_EMPLOYMENT_FAMILY.label
    RURAL_TWO_AFTER_STUDENT = C.RURAL_TWO_AFTER_STUDENT.value, C.RURAL_TWO_AFTER_STUDENT.label
    URBAN_DIBAO_TWO_AFTER_STUDENT = (
        C.URBAN_DIBAO_TWO_AFTER_STUDENT.value,
        C.URBAN_DIBAO_TWO_AFTER_STUDENT.label,
    )


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    label: str | Promise
    unit: Unit
    minimum: int = 0
    maximum: int = MAX_FEN
    choices: type[models.TextChoices] | None = None


def _fen(name: str, label: str | Promise) -> ParameterSpec:
    return ParameterSpec(name, label, Unit.FEN)


def _bp(name: str, label: str | Promise, maximum: int = 10_000) -> ParameterSpec:
    return ParameterSpec(name, label, Unit.BASIS_POINTS, maximum=maximum)


def _int(name: str, label: str | Promise, unit: Unit, minimum: int, maximum: int) -> ParameterSpec:
    return ParameterSpec(name, label, unit, minimum=minimum, maximum=maximum)


def _flag(name: str, label: str | Promise) -> ParameterSpec:
    return ParameterSpec(name, label, Unit.FLAG)


def _fund() -> ParameterSpec:
    return ParameterSpec("fund", _("Fund paying it"), Unit.CHOICE, choices=FundSource)


def _publicity() -> ParameterSpec:
    return _int(
        "publicity_working_days",
        _("Public notice before payment (working days, 0 = none)"),
        Unit.DAYS,
        0,
        30,
    )


SPECS: dict[str, tuple[ParameterSpec, ...]] = {
    Programme.LEARNER_TRAINING: (
        _fund(),
        _fen("per_class_hour_fen", _("Subsidy per class hour")),
        _fen("per_person_per_project_cap_fen", _("Cap per person per project")),
        _fen("per_person_per_year_cap_fen", _("Cap per person per year")),
        _int(
            "max_times_per_person_per_year",
            _("Subsidised trainings per person per year"),
            Unit.COUNT,
            1,
            12,
        ),
        _flag("same_occupation_level_once", _("Same occupation and level subsidised only once")),
        _flag(
            "next_only_after_previous_finished",
            _("Next training only after the previous one ended"),
        ),
        _int("claim_window_months", _("Months to claim after the certificate"), Unit.MONTHS, 1, 60),
        _int("min_age", _("Minimum age"), Unit.YEARS, 14, 70),
        _int("max_age_male", _("Maximum age (men)"), Unit.YEARS, 16, 80),
        _int("max_age_female", _("Maximum age (women)"), Unit.YEARS, 16, 80),
        ParameterSpec(
            "excluded_statuses", _("Excluded people"), Unit.CHOICES, choices=ExcludedStatus
        ),
        _publicity(),
    ),
    Programme.LIVING_ALLOWANCE: (
        _fund(),
        ParameterSpec(
            "eligible_groups", _("Eligible groups"), Unit.CHOICES, choices=LivingAllowanceGroup
        ),
        _fen(
            "online_rate_per_class_hour_fen",
            _("Online: allowance per class hour (never includes transport)"),
        ),
        _fen("offline_rate_per_day_fen", _("Offline: allowance per day")),
        _flag("offline_rate_includes_transport", _("Offline rate includes transport")),
        _int("max_times_per_year", _("Allowances per person per year"), Unit.COUNT, 1, 12),
        _bp("annual_cap_min_wage_ratio_bp", _("Yearly cap as a share of the monthly minimum wage")),
        _fen("min_monthly_wage_fen", _("Local monthly minimum wage")),
        _flag("same_occupation_level_once", _("Same occupation and level only once")),
        _flag("auto_grant_no_application", _("Proposed to the person without an application")),
        _publicity(),
    ),
    Programme.ENTERPRISE_ONLINE_TRAINING: (
        _fund(),
        _fen("per_class_hour_fen", _("Subsidy per person per class hour")),
        _bp("cost_share_cap_bp", _("Share of the actual cost covered at most")),
        _fen("per_person_per_project_cap_fen", _("Cap per person per project")),
        _fen("per_person_per_year_cap_fen", _("Cap per person per year")),
        _fen(
            "self_run_cost_per_person_hour_fen",
            _("Cost per person-hour of self-run training without receipts"),
        ),
        ParameterSpec(
            "eligible_shutdown_kinds",
            _("Eligible enterprise states"),
            Unit.CHOICES,
            choices=ShutdownKind,
        ),
        ParameterSpec("payee", _("Paid to"), Unit.CHOICE, choices=Payee),
        _flag("include_dispatched_workers", _("Dispatched workers included")),
        _flag("include_platform_workers", _("Platform workers without a labour contract included")),
        _publicity(),
    ),
    Programme.PROJECT_BASED_TRAINING: (
        _fund(),
        _bp("prepay_ratio_max_bp", _("Advance at most (share of the subsidy)")),
        _int("prepay_within_days", _("Advance paid within days of approval"), Unit.DAYS, 1, 90),
        _int(
            "class_opening_review_working_days",
            _("Class opening reviewed within working days"),
            Unit.DAYS,
            1,
            60,
        ),
        _int(
            "class_opening_notice_working_days",
            _("Class opening notice, working days before start"),
            Unit.DAYS,
            0,
            60,
        ),
        _flag("clawback_unfinished", _("Advance for unfinished places is clawed back")),
        _bp(
            "online_uplift_bp", _("Online standard as a share of the offline one"), maximum=100_000
        ),
    ),
    Programme.APPRENTICESHIP: (
        _fund(),
        _fen("min_subsidy_per_person_year_fen", _("Minimum subsidy per apprentice per year")),
        _fen("rate_level_4_fen", _("Per apprentice per year, level 4")),
        _fen("rate_level_3_fen", _("Per apprentice per year, level 3")),
        _fen("rate_level_2_fen", _("Per apprentice per year, level 2")),
        _int("duration_years_min", _("Shortest apprenticeship (years)"), Unit.YEARS, 1, 5),
        _int("duration_years_max", _("Longest apprenticeship (years)"), Unit.YEARS, 1, 5),
        _int("duration_years_max_special", _("Longest in special cases (years)"), Unit.YEARS, 1, 5),
        _int("min_labour_contract_years", _("Shortest labour contract (years)"), Unit.YEARS, 1, 10),
        _bp("prepay_ratio_max_bp", _("Advance at most (share of the subsidy)")),
        _bp("shortage_uplift_max_bp", _("Uplift for occupations in short supply at most")),
    ),
}


# Parameters a programme no longer offers, with the reason an officer who sets one is shown.
# policy-rules §15: `requires_certificate: 培训合格证明` names the document a learner-training
# claim rests on (rules.certificate_claim: certificate_present), it is not a switch; class hours
# are credited by the learning app under the region's crediting policy (zhipei/learning/
# policies, §15 `class_hour`) and certificates carry them, so a programme's own "minutes per
# class hour" would change nothing.
_CLASS_HOURS_ELSEWHERE = _(
    "No longer a subsidy parameter: class hours are credited under the region's crediting "
    "policy (learning policies), and certificates carry them."
)
RETIRED: dict[str, dict[str, str | Promise]] = {
    Programme.LEARNER_TRAINING: {
        "requires_certificate": _(
            "No longer a parameter: every learner-training claim rests on a completion certificate."
        ),
        "minutes_per_class_hour": _CLASS_HOURS_ELSEWHERE,
    },
    Programme.ENTERPRISE_ONLINE_TRAINING: {
        "minutes_per_class_hour": _CLASS_HOURS_ELSEWHERE,
    },
}


def specs_for(programme: str) -> tuple[ParameterSpec, ...]:
    try:
        return SPECS[programme]
    except KeyError:
        raise InvalidInput(_("Unknown programme."), field="programme") from None


def spec_named(programme: str, name: str) -> ParameterSpec:
    for spec in specs_for(programme):
        if spec.name == name:
            return spec
    raise KeyError(name)


def _annotation(spec: ParameterSpec) -> Any:
    if spec.unit is Unit.FLAG:
        return StrictBool | None
    if spec.unit in (Unit.CHOICE, Unit.CHOICES):
        assert spec.choices is not None
        allowed = Literal[tuple(spec.choices.values)]  # type: ignore[valid-type]
        if spec.unit is Unit.CHOICE:
            return allowed | None
        return list[allowed] | None  # type: ignore[valid-type]
    return StrictInt | None


def _field(spec: ParameterSpec) -> Any:
    if spec.unit in (Unit.FLAG, Unit.CHOICE):
        return Field(default=None)
    if spec.unit is Unit.CHOICES:
        return Field(default=None, min_length=1)
    return Field(default=None, ge=spec.minimum, le=spec.maximum)


_MODELS: dict[str, type[BaseModel]] = {
    programme: create_model(  # type: ignore[call-overload]
        "Parameters_" + programme,
        __config__=ConfigDict(extra="forbid", strict=True),
        **{spec.name: (_annotation(spec), _field(spec)) for spec in specs},
    )
    for programme, specs in SPECS.items()
}


_SIMPLE_MESSAGES = {
    "extra_forbidden": _("This parameter does not belong to the programme."),
    "int_type": _("Enter a whole number."),
    "int_parsing": _("Enter a whole number."),
    "int_from_float": _("Enter a whole number."),
    "bool_type": _("Enter yes or no."),
    "literal_error": _("Not one of the allowed values."),
    "list_type": _("Choose at least one value."),
    "too_short": _("Choose at least one value."),
}


def _message(error: dict[str, Any]) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _SIMPLE_MESSAGES:
        return str(_SIMPLE_MESSAGES[kind])
    if kind == "greater_than_equal":
        return _g("Must be at least %(limit)s.") % {"limit": ctx.get("ge")}
    if kind == "less_than_equal":
        return _g("Must be at most %(limit)s.") % {"limit": ctx.get("le")}
    return str(error.get("msg", _g("Not valid.")))


class InvalidParameters(InvalidInput):
    """Parameter values that break the programme's schema; `errors` maps parameter name (or
    "__all__") to messages, for field errors on the form."""

    code = "invalid_parameters"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        first_field = next(iter(errors))
        super().__init__(
            "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in errors.items()),
            field=first_field,
        )


def validate_parameters(programme: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The parameters a version sets, checked against the programme's schema and returned in
    their stored form (only the keys given; `None` values are dropped = inherit). Raises
    InvalidParameters."""
    if not isinstance(raw, dict):
        raise InvalidParameters({"__all__": [_g("Parameters must be an object.")]})
    given = {k: v for k, v in raw.items() if v is not None}
    try:
        model = _MODELS[programme].model_validate(given)
    except KeyError:
        raise InvalidInput(_("Unknown programme."), field="programme") from None
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        retired = RETIRED.get(programme, {})
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "__all__"
            if error["type"] == "extra_forbidden" and name in retired:
                message = str(retired[name])
            else:
                message = _message(dict(error))
            errors.setdefault(name, []).append(message)
        raise InvalidParameters(errors) from None
    cleaned = model.model_dump(exclude_none=True)
    for spec in specs_for(programme):
        if spec.unit is Unit.CHOICES and spec.name in cleaned:
            values = cleaned[spec.name]
            if len(set(values)) != len(values):
                raise InvalidParameters({spec.name: [_g("A value is listed twice.")]})
    return dict(cleaned)


def check_complete(programme: str, values: dict[str, Any]) -> dict[str, list[str]]:
    """Rules that span several parameters, applied to a resolved set; returns errors by
    parameter (empty when consistent). Missing parameters are not errors here."""
    errors: dict[str, list[str]] = {}

    def refuse(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    def both(a: str, b: str) -> bool:
        return a in values and b in values

    if programme == Programme.LEARNER_TRAINING:
        for upper in ("max_age_male", "max_age_female"):
            if both("min_age", upper) and values[upper] <= values["min_age"]:
                refuse(upper, _g("The maximum age must be above the minimum age."))
    if (
        programme in (Programme.LEARNER_TRAINING, Programme.ENTERPRISE_ONLINE_TRAINING)
        and both("per_person_per_project_cap_fen", "per_person_per_year_cap_fen")
        and values["per_person_per_project_cap_fen"] > values["per_person_per_year_cap_fen"]
    ):
        refuse(
            "per_person_per_project_cap_fen",
            _g("The cap per project cannot exceed the cap per year."),
        )
    if programme == Programme.APPRENTICESHIP:
        if both("duration_years_min", "duration_years_max") and (
            values["duration_years_max"] < values["duration_years_min"]
        ):
            refuse("duration_years_max", _g("The longest duration is below the shortest."))
        if both("duration_years_max", "duration_years_max_special") and (
            values["duration_years_max_special"] < values["duration_years_max"]
        ):
            refuse(
                "duration_years_max_special", _g("The special-case duration is below the longest.")
            )
        for level in ("rate_level_4_fen", "rate_level_3_fen", "rate_level_2_fen"):
            if both("min_subsidy_per_person_year_fen", level) and (
                values[level] < values["min_subsidy_per_person_year_fen"]
            ):
                refuse(level, _g("Below the minimum subsidy per apprentice per year."))
    return errors
