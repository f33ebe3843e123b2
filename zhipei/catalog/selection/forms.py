"""Forms of the selection pages. They check shape only and build the services' inputs; the
services decide (deadlines, scope, scoring rules) and their domain errors are shown on the
field they name (`add_domain_error`)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from zhipei.accounts.models import User
from zhipei.catalog.models import Criterion, PlatformApplication, RubricItem, Upload
from zhipei.catalog.selection.inputs import ApplicationData, CallData, RubricItemData
from zhipei.catalog.uploads import ACCEPT_ATTRIBUTE
from zhipei.core.forms import ZhipeiForm
from zhipei.orgs.models import Organisation
from zhipei.regions.models import Region

# Suggested weights (sum 100) for a new call's rubric; officers change them per call.
DEFAULT_WEIGHTS: dict[str, int] = {
    Criterion.QUALIFICATION: 20,
    Criterion.REPUTATION: 15,
    Criterion.SERVICE_QUALITY: 20,
    Criterion.RESOURCES: 20,
    Criterion.DATA_INTERFACE: 15,
    Criterion.SECURITY: 10,
}
DEFAULT_MAX_SCORE = 10
APPLICATION_DOCUMENT_KINDS = [
    Upload.Kind.BUSINESS_LICENCE,
    Upload.Kind.QUALIFICATION,
    Upload.Kind.SECURITY,
    Upload.Kind.OTHER,
]
_CODE_SPLIT = re.compile(r"[\s,，;；、]+")


class RegionChoiceField(forms.ModelChoiceField[Region]):
    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.name} ({obj.code})"


class UserChoiceField(forms.ModelMultipleChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return str(obj)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class CallForm(ZhipeiForm):
    region = RegionChoiceField(
        label=_("Region"), queryset=Region.objects.none(), to_field_name="code"
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    criteria = forms.CharField(
        label=_("Criteria"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Who may apply and what they must show."),
    )
    opens_at = forms.DateTimeField(label=_("Applications open"), widget=DateTimeLocalInput())
    closes_at = forms.DateTimeField(label=_("Deadline"), widget=DateTimeLocalInput())
    reviewers_required = forms.IntegerField(
        label=_("Reviews needed per application"), min_value=1, max_value=20, initial=2
    )

    def __init__(self, *args: Any, regions: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]
        for criterion in Criterion:
            self.fields[f"weight_{criterion.value}"] = forms.IntegerField(
                label=_("Weight"),
                min_value=1,
                max_value=100,
                initial=DEFAULT_WEIGHTS[criterion.value],
            )
            self.fields[f"max_score_{criterion.value}"] = forms.IntegerField(
                label=_("Highest score"),
                min_value=1,
                max_value=100,
                initial=DEFAULT_MAX_SCORE,
            )

    def rubric_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [
            (str(c.label), self[f"weight_{c.value}"], self[f"max_score_{c.value}"])
            for c in Criterion
        ]

    def to_data(self) -> CallData:
        data = self.cleaned_data
        return CallData(
            region=data["region"],
            title=data["title"],
            description=data["description"],
            criteria=data["criteria"],
            opens_at=data["opens_at"],
            closes_at=data["closes_at"],
            reviewers_required=data["reviewers_required"],
            rubric=[
                RubricItemData(
                    criterion=c.value,
                    weight=data[f"weight_{c.value}"],
                    max_score=data[f"max_score_{c.value}"],
                )
                for c in Criterion
            ],
        )


def split_codes(text: str) -> list[str]:
    return [code for code in _CODE_SPLIT.split(text or "") if code]


class ApplicationForm(ZhipeiForm):
    website = forms.CharField(
        label=_("Platform website"),
        max_length=200,
        help_text=_("The address learners use, starting with https://."),
    )
    summary = forms.CharField(
        label=_("About the platform"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Qualifications, services, learners served, resources."),
    )
    occupation_codes = forms.CharField(
        label=_("Occupations offered"),
        help_text=_(
            "Occupation codes of the 2022 classification, separated by spaces or commas, "
            "e.g. 4-04-05-05."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    offered_courses = forms.CharField(
        label=_("Courses offered"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One course per line."),
    )
    interface_contact_name = forms.CharField(label=_("Data-interface contact"), max_length=100)
    interface_contact_phone = forms.CharField(label=_("Contact phone"), max_length=20)
    interface_contact_email = forms.EmailField(label=_("Contact e-mail"))

    def __init__(
        self, *args: Any, organisations: QuerySet[Organisation] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if organisations is not None:
            field: forms.ModelChoiceField[Organisation] = forms.ModelChoiceField(
                label=_("Applying organisation"),
                queryset=organisations,
                empty_label=None,
            )
            self.fields = {"organisation": field, **self.fields}

    @classmethod
    def initial_from(cls, application: PlatformApplication) -> dict[str, Any]:
        return {
            "website": application.website,
            "summary": application.summary,
            "occupation_codes": " ".join(o.code for o in application.offered_occupations.all()),
            "offered_courses": application.offered_courses,
            "interface_contact_name": application.interface_contact_name,
            "interface_contact_phone": application.interface_contact_phone,
            "interface_contact_email": application.interface_contact_email,
        }

    def to_data(self) -> ApplicationData:
        data = self.cleaned_data
        return ApplicationData(
            website=data["website"],
            summary=data["summary"],
            occupation_codes=split_codes(data["occupation_codes"]),
            offered_courses=data["offered_courses"],
            interface_contact_name=data["interface_contact_name"],
            interface_contact_phone=data["interface_contact_phone"],
            interface_contact_email=data["interface_contact_email"],
        )


class DocumentForm(ZhipeiForm):
    kind = forms.ChoiceField(
        label=_("Kind of document"),
        choices=[(k.value, k.label) for k in APPLICATION_DOCUMENT_KINDS],
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, PNG, JPEG, DOCX or XLSX, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_ATTRIBUTE}),
    )


class ReviewersForm(ZhipeiForm):
    reviewers = UserChoiceField(
        label=_("Reviewers"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, candidates: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].queryset = candidates  # type: ignore[attr-defined]


class DecideForm(ZhipeiForm):
    outcome = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (PlatformApplication.Status.SELECTED, _("Select")),
            (PlatformApplication.Status.NOT_SELECTED, _("Do not select")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ScoreForm(ZhipeiForm):
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, rubric: list[RubricItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scores: dict[str, forms.Field] = {}
        for item in rubric:
            scores[f"score_{item.criterion}"] = forms.IntegerField(
                label=Criterion(item.criterion).label,
                min_value=0,
                max_value=item.max_score,
                help_text=_("0 to %(max)d, weight %(weight)d")
                % {"max": item.max_score, "weight": item.weight},
            )
        self.fields = {**scores, **self.fields}
        self.rubric = rubric

    def scores(self) -> dict[str, int]:
        return {
            item.criterion: self.cleaned_data[f"score_{item.criterion}"] for item in self.rubric
        }


class ConflictForm(ZhipeiForm):
    conflict_note = forms.CharField(
        label=_("Why you cannot review this application"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReasonForm(ZhipeiForm):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
