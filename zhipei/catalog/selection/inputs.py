"""What the selection services take in (plain dataclasses, so views, the demo and tests all
pass the same shapes) and how it is checked. Every check raises InvalidInput naming the field
at fault, before anything is written."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from zhipei.catalog.models import Criterion
from zhipei.core.errors import InvalidInput
from zhipei.core.text import ascii_digits
from zhipei.occupations.models import Occupation
from zhipei.regions.models import Region

# --- Data passed in ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RubricItemData:
    criterion: str
    weight: int
    max_score: int
    guidance: str = ""


@dataclass(frozen=True)
class CallData:
    region: Region
    title: str
    criteria: str
    opens_at: datetime
    closes_at: datetime
    rubric: Sequence[RubricItemData]
    reviewers_required: int = 2
    description: str = ""


@dataclass(frozen=True)
class ApplicationData:
    website: str
    summary: str
    occupation_codes: Sequence[str]
    interface_contact_name: str
    interface_contact_phone: str
    interface_contact_email: str
    offered_courses: str = ""


# --- Validation helpers -----------------------------------------------------------------------


def clean_text(
    value: str, *, field: str, label: str | Promise, max_length: int, required: bool = True
) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(_("%(field)s is required.") % {"field": label}, field=field)
    if len(value) > max_length:
        raise InvalidInput(
            _("%(field)s is too long: at most %(max)d characters.")
            % {"field": label, "max": max_length},
            field=field,
        )
    return value


def clean_reason(reason: str) -> str:
    return clean_text(reason, field="reason", label=_("Reason"), max_length=2000)


def clean_rubric(rubric: Sequence[RubricItemData]) -> list[RubricItemData]:
    seen: set[str] = set()
    for item in rubric:
        if item.criterion not in Criterion.values:
            raise InvalidInput(
                _("Unknown criterion: %(value)s.") % {"value": item.criterion}, field="rubric"
            )
        if item.criterion in seen:
            raise InvalidInput(
                _("The criterion “%(label)s” appears twice.")
                % {"label": Criterion(item.criterion).label},
                field="rubric",
            )
        seen.add(item.criterion)
        label = Criterion(item.criterion).label
        if not 1 <= item.weight <= 100:
            raise InvalidInput(
                _("The weight of “%(label)s” must be a whole number from 1 to 100.")
                % {"label": label},
                field=f"weight_{item.criterion}",
            )
        if not 1 <= item.max_score <= 100:
            raise InvalidInput(
                _("The highest score of “%(label)s” must be a whole number from 1 to 100.")
                % {"label": label},
                field=f"max_score_{item.criterion}",
            )
    missing = [Criterion(c).label for c in Criterion.values if c not in seen]
    if missing:
        raise InvalidInput(
            _("The rubric must score every criterion; missing: %(names)s.")
            % {"names": ", ".join(str(m) for m in missing)},
            field="rubric",
        )
    order = {c: i for i, c in enumerate(Criterion.values)}
    return sorted(rubric, key=lambda item: order[item.criterion])


def clean_occupations(codes: Iterable[str]) -> list[Occupation]:
    wanted = list(dict.fromkeys(code.strip() for code in codes if code and code.strip()))
    if not wanted:
        raise InvalidInput(
            _("Name at least one occupation the platform trains for."), field="occupation_codes"
        )
    found = {
        o.code: o
        for o in Occupation.objects.filter(code__in=wanted).only("pk", "code", "level", "name")
    }
    unknown = [code for code in wanted if code not in found]
    if unknown:
        raise InvalidInput(
            _("Unknown occupation code: %(codes)s.") % {"codes": ", ".join(unknown)},
            field="occupation_codes",
        )
    groups = [code for code in wanted if found[code].level != Occupation.Level.OCCUPATION]
    if groups:
        raise InvalidInput(
            _(
                "These codes name groups of the classification, not occupations: %(codes)s. "
                "Give four-part occupation codes such as 4-04-05-05."
            )
            % {"codes": ", ".join(groups)},
            field="occupation_codes",
        )
    return [found[code] for code in wanted]


def clean_application(data: ApplicationData) -> tuple[dict[str, str], list[Occupation]]:
    website = clean_text(data.website, field="website", label=_("Website"), max_length=200)
    try:
        URLValidator(schemes=["http", "https"])(website)
    except ValidationError:
        raise InvalidInput(
            _("The website must be a full http:// or https:// address."), field="website"
        ) from None
    email = clean_text(
        data.interface_contact_email,
        field="interface_contact_email",
        label=_("Data-interface contact e-mail"),
        max_length=254,
    )
    try:
        EmailValidator()(email)
    except ValidationError:
        raise InvalidInput(
            _("Enter a valid e-mail address for the data-interface contact."),
            field="interface_contact_email",
        ) from None
    phone = clean_text(
        data.interface_contact_phone,
        field="interface_contact_phone",
        label=_("Data-interface contact phone"),
        max_length=20,
    )
    if (
        not all(ascii_digits(ch) or ch in "+- " for ch in phone)
        or sum(ascii_digits(ch) for ch in phone) < 7
    ):
        raise InvalidInput(
            _("Enter the data-interface contact's phone number (digits, at least 7)."),
            field="interface_contact_phone",
        )
    fields = {
        "website": website,
        "summary": clean_text(data.summary, field="summary", label=_("Summary"), max_length=5000),
        "offered_courses": clean_text(
            data.offered_courses,
            field="offered_courses",
            label=_("Courses offered"),
            max_length=10000,
            required=False,
        ),
        "interface_contact_name": clean_text(
            data.interface_contact_name,
            field="interface_contact_name",
            label=_("Data-interface contact"),
            max_length=100,
        ),
        "interface_contact_phone": phone,
        "interface_contact_email": email,
    }
    return fields, clean_occupations(data.occupation_codes)
