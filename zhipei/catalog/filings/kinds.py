"""The filing kinds of the online approval or filing workflow (线上审批或备案, R20), each defined
in one place: the fields (a Django form class that validates `Filing.data` and renders the
filing form), the attachments a submission needs, who may file (organisation capacity and
role), which level reviews it, the review deadline and how long before it a reminder goes out.

`Filing.data` holds the *cleaned* values as JSON (dates as ISO strings, occupation lists as
lists of {"code", "level"}); every custom field below accepts both what a person types and
that stored JSON, so stored data re-validates unchanged (on submit, after a return).

Policy sources: 培训机构目录 fields 机构名称, 地址, 办学性质, 可开展的培训项目 and own teachers,
site and equipment (人社部发〔2024〕5号, policy-rules §11.1); 开班申请 with roster, teaching plan,
teachers, resources and assessment (policy-rules §11.2); new apprenticeship training period
"一般为1年至2年，特殊情况可延长到3年" (人社部发〔2021〕39号); enterprise self-evaluation of
skill talents (R15, R20).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from zhipei.accounts.models import Role
from zhipei.catalog.models import InstitutionCatalogueEntry, Upload
from zhipei.core.forms import DateBoundsMixin
from zhipei.core.text import ascii_digits
from zhipei.occupations.models import Occupation, SkillLevel
from zhipei.orgs.models import Capacity, Organisation
from zhipei.people.models import Person
from zhipei.regions.models import Region

LEVEL_CHOICES = [("", _("Not specified")), *[(str(v), label) for v, label in SkillLevel.choices]]
_SPLIT_RE = re.compile(r"[\s,，;；]+")
_PAIR_RE = re.compile(r"^([1-8](?:-[0-9]{2}){3})(?:[:：/@]([1-5]))?\Z")


def _occupations_by_code(codes: list[str]) -> dict[str, Occupation]:
    return {
        o.code: o
        for o in Occupation.objects.filter(code__in=codes, level=Occupation.Level.OCCUPATION)
    }


class OccupationLevelsField(forms.Field):
    """Training projects: occupations with an optional skill level each, typed one per line as
    `6-01-02-01:5` (or separated by commas or spaces). Cleaned to a list of
    {"code": str, "level": int | None}; every code must be an occupation (level 4) of the
    classification."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})
    default_error_messages = {
        "form": _(
            "“%(item)s” is not an occupation code with an optional level (e.g. 6-01-02-01:5)."
        ),
        "unknown": _("Unknown occupation code(s): %(codes)s."),
        "repeated": _("Occupation %(code)s is listed twice."),
    }

    def to_python(self, value: Any) -> list[dict[str, Any]]:
        if value in self.empty_values:
            return []
        pairs: list[dict[str, Any]] = []
        if isinstance(value, list):
            for item in value:
                if not isinstance(item, dict) or not isinstance(item.get("code"), str):
                    raise ValidationError(self.error_messages["form"], params={"item": item})
                level = item.get("level")
                text = item["code"] + (f":{level}" if level else "")
                pairs.append(self._pair(text))
        else:
            tokens = _SPLIT_RE.split(str(value).strip())
            pairs.extend(self._pair(token) for token in tokens if token)
        return pairs

    def _pair(self, token: str) -> dict[str, Any]:
        match = _PAIR_RE.match(token.strip())
        if match is None:
            raise ValidationError(
                self.error_messages["form"], code="form", params={"item": token[:40]}
            )
        return {"code": match[1], "level": int(match[2]) if match[2] else None}

    def validate(self, value: list[dict[str, Any]]) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        codes = [pair["code"] for pair in value]
        for code in codes:
            if codes.count(code) > 1:
                raise ValidationError(
                    self.error_messages["repeated"], code="repeated", params={"code": code}
                )
        known = _occupations_by_code(codes)
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise ValidationError(
                self.error_messages["unknown"], code="unknown", params={"codes": ", ".join(unknown)}
            )

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(
                f"{p['code']}:{p['level']}" if p.get("level") else str(p.get("code", ""))
                for p in value
                if isinstance(p, dict)
            )
        return value


class OccupationCodeField(forms.CharField):
    """One occupation (level 4) code of the classification."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 12)
        kwargs.setdefault("widget", forms.TextInput(attrs={"spellcheck": "false"}))
        super().__init__(**kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and not _occupations_by_code([value]):
            raise ValidationError(
                _("Unknown occupation code: %(code)s."), code="unknown", params={"code": value}
            )


class LinesField(forms.Field):
    """A list of short texts, one per line (names of teachers or evaluators)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, *, max_items: int = 200, max_length: int = 100, **kwargs: Any) -> None:
        self.max_items, self.max_length = max_items, max_length
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:
        if value in self.empty_values:
            return []
        items = value if isinstance(value, list) else str(value).splitlines()
        lines = [str(item).strip() for item in items if str(item).strip()]
        if len(lines) > self.max_items:
            raise ValidationError(
                _("At most %(n)d lines."), code="too_many", params={"n": self.max_items}
            )
        for line in lines:
            if len(line) > self.max_length:
                raise ValidationError(
                    _("“%(line)s…” is longer than %(n)d characters."),
                    code="too_long",
                    params={"line": line[:20], "n": self.max_length},
                )
        return lines

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(str(v) for v in value) if isinstance(value, list) else value


class PersonIdsField(forms.Field):
    """Learners or apprentices named by their Zhipei person numbers (never ID numbers), one per
    line or separated by commas. Every number must belong to a registered person."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})

    def to_python(self, value: Any) -> list[int]:
        if value in self.empty_values:
            return []
        tokens = value if isinstance(value, list) else _SPLIT_RE.split(str(value).strip())
        ids: list[int] = []
        for token in tokens:
            text = str(token).strip()
            if not text:
                continue
            if not ascii_digits(text) or len(text) > 12:
                raise ValidationError(
                    _("“%(item)s” is not a person number."), code="form", params={"item": text[:20]}
                )
            if int(text) not in ids:
                ids.append(int(text))
        if len(ids) > 1000:
            raise ValidationError(_("At most 1000 people per filing."), code="too_many")
        return ids

    def validate(self, value: list[int]) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        found = set(Person.objects.filter(pk__in=value).values_list("pk", flat=True))
        missing = [str(pk) for pk in value if pk not in found]
        if missing:
            raise ValidationError(
                _("No person with number(s) %(ids)s."),
                code="unknown",
                params={"ids": ", ".join(missing[:10])},
            )

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(str(v) for v in value) if isinstance(value, list) else value


class InstitutionCodeField(forms.CharField):
    """A training institution named by its unified social credit code."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 18)
        kwargs.setdefault("widget", forms.TextInput(attrs={"spellcheck": "false"}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        return str(super().to_python(value)).strip().upper()

    def validate(self, value: Any) -> None:
        super().validate(value)
        if (
            value
            and not Organisation.objects.filter(
                uscc=value, training_institution__isnull=False
            ).exists()
        ):
            raise ValidationError(
                _("No training institution with credit code %(code)s is registered."),
                code="unknown",
                params={"code": value},
            )


class FilingForm(DateBoundsMixin, forms.Form):
    """Base of the kinds' forms: labels without Django's trailing colon; `check_dates` pairs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _level_field(*, required: bool = False) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=_("Skill level"),
        choices=LEVEL_CHOICES if not required else LEVEL_CHOICES[1:],
        coerce=int,
        empty_value=None,
        required=required,
    )


class TrainingInstitutionForm(FilingForm):
    name = forms.CharField(label=_("Institution name"), max_length=200)
    address = forms.CharField(label=_("Address"), max_length=300)
    nature = forms.ChoiceField(
        label=_("Nature of the institution"), choices=InstitutionCatalogueEntry.Nature.choices
    )
    projects = OccupationLevelsField(
        label=_("Training projects"),
        help_text=_("Occupation codes with the level, one per line, e.g. 4-10-01-02:5."),
    )
    teachers_count = forms.IntegerField(label=_("Number of own teachers"), min_value=1)
    site = forms.CharField(
        label=_("Training site"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Address, floor area and rooms."),
    )
    equipment = forms.CharField(
        label=_("Equipment"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class TrainingProjectForm(FilingForm):
    course = forms.CharField(
        label=_("Course"),
        max_length=200,
        required=False,
        help_text=_("The course taught, or leave empty and give the occupation."),
    )
    occupation = OccupationCodeField(label=_("Occupation code"), required=False)
    level = _level_field()
    start_on = forms.DateField(label=_("Starts on"), widget=forms.DateInput(attrs={"type": "date"}))
    end_on = forms.DateField(label=_("Ends on"), widget=forms.DateInput(attrs={"type": "date"}))
    learners = PersonIdsField(
        label=_("Learners"),
        required=False,
        help_text=_("Person numbers, one per line; or attach the roster as a file instead."),
    )
    teaching_plan = forms.CharField(
        label=_("Teaching plan"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    teachers = LinesField(label=_("Teachers"), help_text=_("One name per line."))
    resources = forms.CharField(
        label=_("Training resources"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Courses, platforms, site and equipment used."),
    )
    assessment_plan = forms.CharField(
        label=_("Assessment plan"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start_on"), cleaned.get("end_on")
        if start and end and end < start:
            self.add_error("end_on", _("The class cannot end before it starts."))
        if (
            "course" in cleaned
            and "occupation" in cleaned
            and not cleaned.get("course")
            and not cleaned.get("occupation")
            and not self.errors.get("occupation")
        ):
            self.add_error("course", _("Give the course or the occupation (or both)."))
        return cleaned


class ApprenticeshipForm(FilingForm):
    apprentices = PersonIdsField(
        label=_("Apprentices"), help_text=_("Person numbers of the apprentices, one per line.")
    )
    occupation = OccupationCodeField(label=_("Occupation code"))
    level = _level_field(required=True)
    institution = InstitutionCodeField(
        label=_("Training institution"), help_text=_("Its unified social credit code.")
    )
    # 人社部发〔2021〕39号: 学徒培养期一般为1年至2年，特殊情况可延长到3年.
    months = forms.IntegerField(
        label=_("Training period (months)"),
        min_value=12,
        max_value=36,
        help_text=_("Usually 12 to 24 months; at most 36."),
    )


class SelfEvaluationForm(FilingForm):
    occupations = OccupationLevelsField(
        label=_("Occupations and levels evaluated"),
        help_text=_("Occupation codes with the level, one per line, e.g. 6-18-01-01:4."),
    )
    evaluators = LinesField(label=_("Evaluators"), help_text=_("One name per line."))
    plan = forms.CharField(
        label=_("Evaluation plan"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )


def _projects_title(data: Mapping[str, Any]) -> str:
    return str(data.get("name") or "")


def _roster_given(data: Mapping[str, Any], attachment_kinds: set[str]) -> dict[str, str]:
    """开班: the learners are named in the form or by an uploaded roster."""
    if data.get("learners") or Upload.Kind.ROSTER in attachment_kinds:
        return {}
    return {"learners": str(_("Name the learners or attach the roster."))}


@dataclass(frozen=True)
class FilingKind:
    """One kind of filing, configured in one place.

    `review_level` is the responsible level (a Region.Level value); the filing goes to the
    region at that level above the filer's region, or to the nearest one above it that has
    labour officers (services.route_review_region). `rules` checks what the fields alone
    cannot (e.g. a roster given either way) and returns errors by field.
    """

    code: str
    label: str | Promise
    form_class: type[FilingForm]
    filer_capacities: frozenset[str]
    filer_roles: frozenset[str]
    review_level: str
    deadline_days: int
    reminder_lead_days: int
    required_attachments: tuple[str, ...] = ()
    title: Callable[[Mapping[str, Any]], str] = field(default=lambda data: "")
    rules: Callable[[Mapping[str, Any], set[str]], dict[str, str]] = field(
        default=lambda data, kinds: {}
    )

    def clean(
        self, data: Mapping[str, Any], *, partial: bool
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """Validate `data` (typed text or stored JSON) with the kind's form.

        Returns (cleaned JSON-ready values, errors by field). With `partial` (a draft), empty
        fields are left out instead of being errors; values given must still be valid.
        """
        form = self.form_class(data=_as_form_data(self.form_class, data))
        form.is_valid()
        errors: dict[str, list[str]] = {}
        for name, messages in form.errors.items():
            raw = data.get(name) if name != "__all__" else None
            if partial and name != "__all__" and raw in (None, "", [], {}):
                continue
            if partial and name == "course":
                continue  # "course or occupation" is a completeness rule, checked on submit
            errors[name] = [str(m) for m in messages]
        cleaned: dict[str, Any] = {}
        for name in form.fields:
            if name in form.cleaned_data and name not in errors:
                value = form.cleaned_data[name]
                if value in (None, "", []):
                    continue
                cleaned[name] = _to_json(value)
        return cleaned, errors


def _as_form_data(form_class: type[FilingForm], data: Mapping[str, Any]) -> dict[str, Any]:
    """Only the form's own fields, with stored ints/None turned into what a form expects."""
    names = form_class.base_fields.keys()
    out: dict[str, Any] = {}
    for name in names:
        value = data.get(name)
        if value is None:
            continue
        out[name] = str(value) if isinstance(value, int | Decimal) else value
    return out


def _to_json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


_INSTITUTION_STAFF = frozenset({Role.INSTITUTION_OPERATOR})
_ENTERPRISE_STAFF = frozenset({Role.ENTERPRISE_ADMIN})

KINDS: dict[str, FilingKind] = {
    kind.code: kind
    for kind in (
        FilingKind(
            code="training_institution",
            label=_("Training institution filing"),
            form_class=TrainingInstitutionForm,
            filer_capacities=frozenset({Capacity.TRAINING_INSTITUTION}),
            filer_roles=_INSTITUTION_STAFF,
            # The institution catalogue is kept per city (人社部发〔2024〕5号).
            review_level=Region.Level.PREFECTURE,
            deadline_days=20,
            reminder_lead_days=3,
            required_attachments=(Upload.Kind.BUSINESS_LICENCE, Upload.Kind.QUALIFICATION),
            title=_projects_title,
        ),
        FilingKind(
            code="training_project",
            label=_("Training class (opening) filing"),
            form_class=TrainingProjectForm,
            filer_capacities=frozenset({Capacity.TRAINING_INSTITUTION, Capacity.ENTERPRISE}),
            filer_roles=_INSTITUTION_STAFF | _ENTERPRISE_STAFF,
            review_level=Region.Level.COUNTY,
            deadline_days=5,
            reminder_lead_days=1,
            required_attachments=(Upload.Kind.TEACHING_PLAN,),
            title=lambda data: str(data.get("course") or data.get("occupation") or ""),
            rules=_roster_given,
        ),
        FilingKind(
            code="apprenticeship",
            label=_("Enterprise new apprenticeship filing"),
            form_class=ApprenticeshipForm,
            filer_capacities=frozenset({Capacity.ENTERPRISE}),
            filer_roles=_ENTERPRISE_STAFF,
            review_level=Region.Level.PREFECTURE,
            deadline_days=15,
            reminder_lead_days=3,
            required_attachments=(Upload.Kind.CONTRACT,),
            title=lambda data: str(data.get("occupation") or ""),
        ),
        FilingKind(
            code="self_evaluation",
            label=_("Enterprise skill-talent self-evaluation filing"),
            form_class=SelfEvaluationForm,
            filer_capacities=frozenset({Capacity.ENTERPRISE}),
            filer_roles=_ENTERPRISE_STAFF,
            review_level=Region.Level.PROVINCE,
            deadline_days=20,
            reminder_lead_days=5,
            required_attachments=(Upload.Kind.OTHER,),
        ),
    )
}


def get_kind(code: str) -> FilingKind | None:
    return KINDS.get(code)
