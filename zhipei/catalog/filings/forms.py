"""Forms of the filing pages. The kind's own form (kinds.py) carries the fields; these add the
organisation choice, attachments, decisions and the queue filters. The services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import ErrorDict
from django.utils.translation import gettext_lazy as _

from zhipei.catalog.filings.kinds import KINDS, FilingForm
from zhipei.catalog.models import Filing, Upload
from zhipei.catalog.uploads import ACCEPT_ATTRIBUTE
from zhipei.core.forms import ZhipeiForm
from zhipei.orgs.models import Organisation


def kind_form_with_errors(
    form_class: type[FilingForm], data: dict[str, Any], errors: dict[str, list[str]]
) -> FilingForm:
    """The kind's form showing what was typed and the service's errors only (a draft may leave
    fields empty, so the form's own `required` checks must not speak here)."""
    form = _relax(form_class(data=data))
    # Errors come from the service; setting them keeps full_clean from running.
    form._errors = ErrorDict()  # type: ignore[attr-defined]
    form.cleaned_data = {}
    for name, messages in errors.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
    return form


def _relax(form: FilingForm) -> FilingForm:
    # Drafts may be saved incomplete; submission checks completeness.
    form.use_required_attribute = False
    return form


def kind_form_for_edit(form_class: type[FilingForm], filing: Filing | None) -> FilingForm:
    return _relax(form_class(initial=dict(filing.data) if filing is not None else None))


class OrganisationChoiceField(forms.ModelChoiceField[Organisation]):
    def label_from_instance(self, obj: Organisation) -> str:
        return obj.name


class OrganisationForm(ZhipeiForm):
    organisation = OrganisationChoiceField(
        label=_("Filing organisation"), queryset=Organisation.objects.none()
    )

    def __init__(self, *args: Any, organisations: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organisation"]
        assert isinstance(field, OrganisationChoiceField)
        field.queryset = Organisation.objects.filter(pk__in=[o.pk for o in organisations])
        if len(organisations) == 1:
            field.initial = organisations[0].pk


class AttachForm(ZhipeiForm):
    kind = forms.ChoiceField(label=_("Kind of document"), choices=Upload.Kind.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, PNG, JPEG, DOCX or XLSX, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_ATTRIBUTE}),
    )


class DecisionForm(ZhipeiForm):
    APPROVE, RETURN, REJECT = "approve", "return", "reject"
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (APPROVE, _("Approve")),
            (RETURN, _("Return for correction")),
            (REJECT, _("Reject")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note to the organisation"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when returning or rejecting: say what to correct, or why."),
    )


class QueueFilterForm(ZhipeiForm):
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All kinds")), *[(k.code, k.label) for k in KINDS.values()]],
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("All statuses")),
            *[(v, label) for v, label in Filing.Status.choices if v != Filing.Status.DRAFT],
        ],
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
