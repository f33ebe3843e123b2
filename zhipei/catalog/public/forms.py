"""Forms of the public catalogue (search and filters) and of the standards register."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from zhipei.catalog.models import ContentCategory, SkillStandard
from zhipei.core.forms import ZhipeiForm
from zhipei.occupations.models import Occupation, SkillLevel
from zhipei.regions.models import Region

_OCCUPATION_PREFIX_RE = r"^[1-8](-[0-9]{2}){0,3}$"


class RegionField(forms.ModelChoiceField[Region]):
    def label_from_instance(self, obj: Region) -> str:
        return obj.name


class CourseSearchForm(ZhipeiForm):
    FREE, PAID = "free", "paid"

    q = forms.CharField(
        label=_("Search courses"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Course or platform")}),
    )
    occupation = forms.RegexField(
        label=_("Occupation code"),
        regex=_OCCUPATION_PREFIX_RE,
        required=False,
        max_length=12,
        error_messages={"invalid": _("Enter a classification code such as 4-04 or 6-18-01-01.")},
    )
    category = forms.ChoiceField(
        label=_("Content"),
        required=False,
        choices=[("", _("All content")), *ContentCategory.choices],
    )
    level = forms.TypedChoiceField(
        label=_("Skill level"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("All levels")), *[(str(v), label) for v, label in SkillLevel.choices]],
    )
    region = RegionField(
        label=_("Region"),
        required=False,
        to_field_name="code",
        empty_label=_("All regions"),
        queryset=Region.objects.filter(valid_to_year__isnull=True).order_by("code"),
    )
    price = forms.ChoiceField(
        label=_("Price"),
        required=False,
        choices=[("", _("Free and paid")), (FREE, _("Free now")), (PAID, _("Paid"))],
    )

    def free(self) -> bool | None:
        price = self.cleaned_data.get("price")
        return None if not price else price == self.FREE


class StandardSearchForm(ZhipeiForm):
    q = forms.CharField(
        label=_("Occupation, code or title"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )


class OccupationCodeField(forms.Field):
    """An occupation typed by its code; cleaned to the Occupation (a group code too: the
    service says it is not an occupation)."""

    widget = forms.TextInput(attrs={"spellcheck": "false"})

    def to_python(self, value: Any) -> Any:
        code = str(value or "").strip()
        if not code:
            return None
        if len(code) > 12:
            raise forms.ValidationError(
                _("Unknown occupation code: %(code)s."), params={"code": code[:12]}
            )
        occupation = Occupation.objects.filter(code=code).first()
        if occupation is None:
            raise forms.ValidationError(
                _("Unknown occupation code: %(code)s."), params={"code": code}
            )
        return occupation


class OccupationCodesField(forms.Field):
    widget = forms.TextInput(attrs={"spellcheck": "false"})

    def to_python(self, value: Any) -> Any:
        codes = [c for c in str(value or "").replace(",", " ").replace("，", " ").split() if c]
        if len(codes) > 50:
            raise forms.ValidationError(_("At most 50 occupations."))
        found = {o.code: o for o in Occupation.objects.filter(code__in=codes)}
        unknown = [c for c in codes if c not in found]
        if unknown:
            raise forms.ValidationError(
                _("Unknown occupation code(s): %(codes)s."), params={"codes": ", ".join(unknown)}
            )
        return [found[c] for c in codes]


class StandardForm(ZhipeiForm):
    occupation = OccupationCodeField(label=_("Occupation code"), help_text=_("e.g. 6-18-01-01"))
    title = forms.CharField(label=_("Title"), max_length=200)
    edition = forms.CharField(label=_("Edition"), max_length=20, help_text=_("e.g. 2018"))
    issued_by = forms.CharField(label=_("Issued by"), max_length=200, required=False)
    url = forms.CharField(label=_("Web address"), max_length=200, required=False)
    levels = forms.CharField(
        label=_("Levels covered"), max_length=5, required=False, help_text=_("e.g. 5-1")
    )


class StandardChoiceField(forms.ModelChoiceField[SkillStandard]):
    def label_from_instance(self, obj: SkillStandard) -> str:
        return f"{obj.occupation.code} {obj.title} ({obj.edition})"


class MaterialForm(ZhipeiForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    occupations = OccupationCodesField(
        label=_("Occupation codes"), help_text=_("One or more, separated by spaces.")
    )
    publisher = forms.CharField(label=_("Publisher"), max_length=200, required=False)
    isbn = forms.CharField(label=_("ISBN"), max_length=20, required=False)
    year = forms.IntegerField(label=_("Year"), required=False)
    standard = StandardChoiceField(
        label=_("Standard cited"),
        required=False,
        queryset=SkillStandard.objects.select_related("occupation").order_by(
            "occupation__code", "-edition"
        ),
    )
