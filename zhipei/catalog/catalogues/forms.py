"""Forms of the course and catalogue pages. They parse and check shape; the services decide
(occupations exist, IRIs are free, scope). A course form turns into a CourseData."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from pydantic import ValidationError

from zhipei.catalog.catalogues.courses import CourseData
from zhipei.catalog.models import (
    CatalogueStatus,
    ContentCategory,
    Course,
    InstitutionCatalogueEntry,
    Lesson,
    ProjectCatalogueEntry,
)
from zhipei.core.forms import ZhipeiForm
from zhipei.core.text import ascii_digits
from zhipei.occupations.models import SkillLevel
from zhipei.regions.models import Region

_SPLIT = re.compile(r"[,，;；、\s]+")
_LINE_SPLIT = re.compile(r"\s*[|｜]\s*")


def add_located_errors(form: forms.Form, errors: list[dict[str, str]]) -> None:
    """Errors located like `lessons.1.activity_iri` go to the form field of their first part
    (with the line number for list fields)."""
    for error in errors:
        parts = error["location"].split(".")
        field = parts[0] if parts[0] in form.fields else None
        message = error["message"]
        if len(parts) > 1 and ascii_digits(parts[1]):
            message = _("Line %(n)s: %(message)s") % {"n": int(parts[1]) + 1, "message": message}
        form.add_error(field, message)


class RegionChoiceField(forms.ModelChoiceField[Region]):
    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.name} ({obj.code})"


def _split_codes(text: str) -> list[str]:
    return [part for part in _SPLIT.split(text or "") if part]


class CourseForm(ZhipeiForm):
    external_id = forms.CharField(
        label=_("Course id (your own)"),
        max_length=100,
        help_text=_("Letters, digits and . _ ~ -; it names the course in the API too."),
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Course.Kind.choices)
    master_name = forms.CharField(
        label=_("Skill master"),
        max_length=100,
        required=False,
        help_text=_("Required for a skill master's micro-course."),
    )
    occupation_codes = forms.CharField(
        label=_("Occupation codes"),
        max_length=400,
        help_text=_("One or more level-4 codes such as 4-04-05-05, separated by commas."),
    )
    trade = forms.CharField(label=_("Trade"), max_length=200, required=False)
    skill_level = forms.TypedChoiceField(
        label=_("Skill level"),
        choices=[("", _("Any level")), *SkillLevel.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    categories = forms.MultipleChoiceField(
        label=_("Content categories"),
        choices=ContentCategory.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    class_hours = forms.DecimalField(
        label=_("Class hours"), max_digits=5, decimal_places=1, min_value=Decimal("0.1")
    )
    online_percent = forms.IntegerField(
        label=_("Online share (%)"), min_value=0, max_value=100, initial=100
    )
    offline_sessions = forms.CharField(
        label=_("Offline practical sessions (blended courses)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_(
            "One per line: start | end | place | region code | capacity, "
            "e.g. 2020-05-01 09:00 | 2020-05-01 17:00 | 实训基地 | 420102 | 30"
        ),
    )
    is_free = forms.BooleanField(label=_("Free of charge"), required=False)
    free_from = forms.DateField(
        label=_("Free from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    free_until = forms.DateField(
        label=_("Free until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    requires_test = forms.BooleanField(label=_("Requires a test"), required=False, initial=True)
    activity_iri = forms.CharField(
        label=_("xAPI activity IRI"),
        max_length=500,
        help_text=_("The activity id under which your platform reports learning on the course."),
    )
    url = forms.CharField(label=_("Course address"), max_length=500)
    lessons = forms.CharField(
        label=_("Lessons"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "One per line: lesson id | title | kind (video, audio, document, text, "
            "micro_course) | activity IRI | media seconds (video and audio)"
        ),
    )

    def __init__(self, *args: Any, fixed_external_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fixed_external_id = fixed_external_id
        if fixed_external_id is not None:
            self.fields["external_id"].disabled = True
            self.fields["external_id"].initial = fixed_external_id
        self.course_data: CourseData | None = None

    @staticmethod
    def initial_for(course: Course) -> dict[str, Any]:
        lessons = "\n".join(
            " | ".join(
                [le.external_id, le.title, le.kind, le.activity_iri]
                + ([str(le.media_duration_seconds)] if le.media_duration_seconds else [])
            )
            for le in course.lessons.all()
        )
        sessions = "\n".join(
            " | ".join(
                [
                    timezone.localtime(s.starts_at).strftime("%Y-%m-%d %H:%M"),
                    timezone.localtime(s.ends_at).strftime("%Y-%m-%d %H:%M"),
                    s.location,
                    s.region.code,
                    str(s.capacity),
                ]
            )
            for s in course.offline_sessions.all()
        )
        return {
            "external_id": course.external_id,
            "title": course.title,
            "description": course.description,
            "kind": course.kind,
            "master_name": course.master_name,
            "occupation_codes": ", ".join(o.code for o in course.occupations.all()),
            "trade": course.trade.name if course.trade else "",
            "skill_level": course.skill_level,
            "categories": list(course.categories),
            "class_hours": course.class_hours,
            "online_percent": course.online_percent,
            "offline_sessions": sessions,
            "is_free": course.is_free,
            "free_from": course.free_from,
            "free_until": course.free_until,
            "requires_test": course.requires_test,
            "activity_iri": course.activity_iri,
            "url": course.url,
            "lessons": lessons,
        }

    def _lessons(self, text: str) -> list[dict[str, Any]]:
        lessons: list[dict[str, Any]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            parts = _LINE_SPLIT.split(line.strip())
            if len(parts) not in (4, 5) or parts[2] not in Lesson.Kind.values:
                self.add_error(
                    "lessons",
                    _("Line %(n)d: write id | title | kind | IRI | seconds.") % {"n": number},
                )
                continue
            seconds = parts[4] if len(parts) == 5 else None
            if seconds is not None and not ascii_digits(seconds):
                self.add_error(
                    "lessons", _("Line %(n)d: seconds must be a whole number.") % {"n": number}
                )
                continue
            lessons.append(
                {
                    "external_id": parts[0],
                    "title": parts[1],
                    "kind": parts[2],
                    "activity_iri": parts[3],
                    "media_duration_seconds": int(seconds) if seconds else None,
                }
            )
        return lessons

    def _sessions(self, text: str) -> list[dict[str, Any]]:
        sessions: list[dict[str, Any]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            parts = _LINE_SPLIT.split(line.strip())
            try:
                if len(parts) != 5:
                    raise ValueError
                starts = timezone.make_aware(datetime.strptime(parts[0], "%Y-%m-%d %H:%M"))  # noqa: DTZ007
                ends = timezone.make_aware(datetime.strptime(parts[1], "%Y-%m-%d %H:%M"))  # noqa: DTZ007
                capacity = int(parts[4])
            except ValueError:
                self.add_error(
                    "offline_sessions",
                    _(
                        "Line %(n)d: write start | end | place | region code | capacity, "
                        "times as YYYY-MM-DD HH:MM."
                    )
                    % {"n": number},
                )
                continue
            sessions.append(
                {
                    "starts_at": starts,
                    "ends_at": ends,
                    "location": parts[2],
                    "region_code": parts[3],
                    "capacity": capacity,
                }
            )
        return sessions

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        lessons = self._lessons(cleaned.get("lessons", ""))
        sessions = self._sessions(cleaned.get("offline_sessions", ""))
        if self.errors:
            return cleaned
        values = {
            "external_id": self.fixed_external_id or cleaned["external_id"],
            "title": cleaned["title"],
            "description": cleaned["description"],
            "kind": cleaned["kind"],
            "master_name": cleaned["master_name"],
            "occupation_codes": _split_codes(cleaned["occupation_codes"]),
            "trade": cleaned["trade"],
            "skill_level": cleaned["skill_level"],
            "categories": cleaned["categories"],
            "class_hours": cleaned["class_hours"],
            "online_percent": cleaned["online_percent"],
            "offline_sessions": sessions,
            "is_free": cleaned["is_free"],
            "free_from": cleaned["free_from"],
            "free_until": cleaned["free_until"],
            "requires_test": cleaned["requires_test"],
            "activity_iri": cleaned["activity_iri"],
            "url": cleaned["url"],
            "lessons": lessons,
        }
        try:
            self.course_data = CourseData.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors():
                loc = [str(p) for p in error["loc"]]
                field = loc[0] if loc and loc[0] in self.fields else None
                message = str(error["msg"]).removeprefix("Value error, ")
                if field and len(loc) > 1 and ascii_digits(loc[1]):
                    message = _("Line %(n)s: %(message)s") % {
                        "n": int(loc[1]) + 1,
                        "message": message,
                    }
                self.add_error(field, message)
        return cleaned


class NoteForm(ZhipeiForm):
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )


class ReasonForm(ZhipeiForm):
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class ImportUploadForm(ZhipeiForm):
    file = forms.FileField(label=_("Excel workbook (.xlsx)"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload


class CatalogueSearchForm(ZhipeiForm):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All statuses")), *CatalogueStatus.choices],
        required=False,
    )


class _EntryPeriod(ZhipeiForm):
    valid_from = forms.DateField(
        label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_to = forms.DateField(
        label=_("Valid to (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for no end."),
    )


class InstitutionEntryForm(_EntryPeriod):
    uscc = forms.CharField(
        label=_("Unified social credit code"), max_length=18, help_text=_("Of the institution.")
    )
    region = RegionChoiceField(label=_("Catalogue of region"), queryset=Region.objects.none())
    nature = forms.ChoiceField(label=_("Nature"), choices=InstitutionCatalogueEntry.Nature.choices)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    occupation_codes = forms.CharField(
        label=_("Occupations it may train"),
        max_length=2000,
        required=False,
        help_text=_("Level-4 codes separated by commas; empty means no restriction."),
    )

    field_order = ["uscc", "region", "nature", "address", "occupation_codes"]

    def __init__(self, *args: Any, regions: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]

    def clean_uscc(self) -> str:
        value: str = self.cleaned_data["uscc"].strip().upper()
        return value

    def clean_occupation_codes(self) -> list[str]:
        return _split_codes(self.cleaned_data["occupation_codes"])


class InstitutionEntryEditForm(_EntryPeriod):
    nature = forms.ChoiceField(label=_("Nature"), choices=InstitutionCatalogueEntry.Nature.choices)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    occupation_codes = forms.CharField(
        label=_("Occupations it may train"), max_length=2000, required=False
    )

    field_order = ["nature", "address", "occupation_codes"]

    def clean_occupation_codes(self) -> list[str]:
        return _split_codes(self.cleaned_data["occupation_codes"])


class ProjectEntryEditForm(_EntryPeriod):
    training_type = forms.ChoiceField(
        label=_("Training type"), choices=ProjectCatalogueEntry.TrainingType.choices
    )
    class_hours = forms.DecimalField(
        label=_("Reference class hours"), max_digits=5, decimal_places=1, required=False
    )
    subsidy_standard = forms.DecimalField(
        label=_("Subsidy standard (yuan)"),
        max_digits=10,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
    )

    field_order = ["training_type", "class_hours", "subsidy_standard"]

    def subsidy_standard_fen(self) -> int | None:
        value = self.cleaned_data.get("subsidy_standard")
        return None if value is None else int(value * 100)


class ProjectEntryForm(ProjectEntryEditForm):
    region = RegionChoiceField(label=_("Catalogue of region"), queryset=Region.objects.none())
    occupation_code = forms.CharField(label=_("Occupation code"), max_length=12)
    trade = forms.CharField(label=_("Trade"), max_length=200, required=False)
    skill_level = forms.TypedChoiceField(
        label=_("Skill level"),
        choices=[("", _("Any level")), *SkillLevel.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )

    field_order = ["region", "occupation_code", "trade", "skill_level", "training_type"]

    def __init__(self, *args: Any, regions: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]


class AttendanceForm(ZhipeiForm):
    """One learner's attendance at an offline practical session."""

    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=100)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    present = forms.BooleanField(label=_("Present"), required=False, initial=True)
