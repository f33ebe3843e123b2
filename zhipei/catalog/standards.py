"""The register of occupational skill standards and teaching materials (R17), so courses
(Course.standard) and later exams can cite them.

Writes: province-level labour officers create and edit standards and materials (national
standards are adopted province-wide); each write is audited. Reads are public.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhipei.accounts.models import Role, User
from zhipei.accounts.services import require_role
from zhipei.audit.services import record
from zhipei.catalog.models import SkillStandard, TeachingMaterial
from zhipei.core.errors import Conflict, InvalidInput
from zhipei.core.text import ascii_digits
from zhipei.occupations.models import Occupation
from zhipei.regions.models import Region

_LEVELS_RE = re.compile(r"^([1-5])(?:-([1-5]))?\Z")
_ISBN_CHARS_RE = re.compile(r"[\s-]")


def _require_editor(by: User) -> None:
    """A labour officer at province level. Raises NotAllowed."""
    require_role(by, Role.LABOUR_OFFICER, level=Region.Level.PROVINCE)


def _text(value: str, *, field: str, max_length: int, label: str, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(_("%(label)s is required.") % {"label": label}, field=field)
    if len(value) > max_length:
        raise InvalidInput(
            _("%(label)s is longer than %(n)d characters.") % {"label": label, "n": max_length},
            field=field,
        )
    return value


def _occupation(occupation: Occupation | None, *, field: str = "occupation") -> Occupation:
    if occupation is None or occupation.level != Occupation.Level.OCCUPATION:
        raise InvalidInput(
            _("Choose an occupation (a four-part code such as 6-18-01-01)."), field=field
        )
    return occupation


def clean_levels(levels: str) -> str:
    """ "5-1" (levels 5 down to 1), "4-3" or a single "3"; empty for unknown."""
    levels = (levels or "").strip().replace(" ", "")
    if not levels:
        return ""
    match = _LEVELS_RE.match(levels)
    if match is None or (match[2] and int(match[2]) > int(match[1])):
        raise InvalidInput(
            _("Give the levels covered as a range from the lowest, e.g. 5-1 or 4-3, or one level."),
            field="levels",
        )
    return levels


def _url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise InvalidInput(
            _("Enter a web address starting with http:// or https://."), field="url"
        ) from None
    if len(url) > 200:
        raise InvalidInput(_("The web address is too long."), field="url")
    return url


def clean_isbn(isbn: str) -> str:
    """An ISBN-13 (or ISBN-10) with a correct check digit, kept as typed without spaces;
    empty when not given."""
    text = _ISBN_CHARS_RE.sub("", (isbn or "").strip()).upper()
    if not text:
        return ""
    if len(text) == 13 and ascii_digits(text):
        total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(text[:12]))
        valid = (10 - total % 10) % 10 == int(text[12])
    elif len(text) == 10 and ascii_digits(text[:9]) and (ascii_digits(text[9]) or text[9] == "X"):
        total = sum((10 - i) * int(d) for i, d in enumerate(text[:9]))
        check = 10 if text[9] == "X" else int(text[9])
        valid = (total + check) % 11 == 0
    else:
        valid = False
    if not valid:
        raise InvalidInput(
            _("“%(isbn)s” is not a valid ISBN (check the digits).") % {"isbn": isbn.strip()[:20]},
            field="isbn",
        )
    return (isbn or "").strip().replace(" ", "")[:20]


def _year(year: int | None) -> int | None:
    if year is None:
        return None
    if not 1949 <= year <= timezone.localdate().year + 1:
        raise InvalidInput(_("Enter the year of publication."), field="year")
    return year


# --- Skill standards -----------------------------------------------------------------------------


def _standard_fields(
    *, title: str, edition: str, issued_by: str, url: str, levels: str
) -> dict[str, str]:
    return {
        "title": _text(title, field="title", max_length=200, label=str(_("Title")), required=True),
        "edition": _text(
            edition, field="edition", max_length=20, label=str(_("Edition")), required=True
        ),
        "issued_by": _text(
            issued_by, field="issued_by", max_length=200, label=str(_("Issued by")), required=False
        ),
        "url": _url(url),
        "levels": clean_levels(levels),
    }


def _save_standard(standard: SkillStandard) -> None:
    try:
        with transaction.atomic():
            standard.save()
    except IntegrityError:
        raise Conflict(
            _("This occupation already has a standard of this edition."), field="edition"
        ) from None


@transaction.atomic
def create_standard(
    *,
    occupation: Occupation | None,
    title: str,
    edition: str,
    issued_by: str = "",
    url: str = "",
    levels: str = "",
    by: User,
) -> SkillStandard:
    """Register a national occupational skill standard for one occupation.

    Raises NotAllowed (not a province labour officer), InvalidInput (field named), Conflict
    (the occupation already has this edition).
    """
    _require_editor(by)
    fields = _standard_fields(
        title=title, edition=edition, issued_by=issued_by, url=url, levels=levels
    )
    standard = SkillStandard(occupation=_occupation(occupation), **fields)
    _save_standard(standard)
    record(
        "catalog.skill_standard.created",
        actor=by,
        obj=standard,
        data={"occupation": standard.occupation.code, **fields},
    )
    return standard


@transaction.atomic
def update_standard(
    standard: SkillStandard,
    *,
    title: str,
    edition: str,
    issued_by: str = "",
    url: str = "",
    levels: str = "",
    by: User,
) -> SkillStandard:
    """Correct a standard's details (its occupation stays). Raises NotAllowed, InvalidInput,
    Conflict."""
    _require_editor(by)
    fields = _standard_fields(
        title=title, edition=edition, issued_by=issued_by, url=url, levels=levels
    )
    before = {name: getattr(standard, name) for name in fields}
    for name, value in fields.items():
        setattr(standard, name, value)
    _save_standard(standard)
    record(
        "catalog.skill_standard.updated",
        actor=by,
        obj=standard,
        data={"before": before, "after": fields},
    )
    return standard


# --- Teaching materials --------------------------------------------------------------------------


def _material_fields(
    *,
    title: str,
    occupations: Iterable[Occupation],
    publisher: str,
    isbn: str,
    year: int | None,
    standard: SkillStandard | None,
) -> tuple[dict[str, object], list[Occupation]]:
    chosen = list(dict.fromkeys(occupations))
    if not chosen:
        raise InvalidInput(_("Choose at least one occupation."), field="occupations")
    for occupation in chosen:
        _occupation(occupation, field="occupations")
    if standard is not None and standard.occupation_id not in {o.pk for o in chosen}:
        raise InvalidInput(
            _("The standard cited must be for one of the material's occupations."),
            field="standard",
        )
    fields: dict[str, object] = {
        "title": _text(title, field="title", max_length=200, label=str(_("Title")), required=True),
        "publisher": _text(
            publisher, field="publisher", max_length=200, label=str(_("Publisher")), required=False
        ),
        "isbn": clean_isbn(isbn),
        "year": _year(year),
        "standard": standard,
    }
    return fields, chosen


@transaction.atomic
def create_material(
    *,
    title: str,
    occupations: Iterable[Occupation],
    publisher: str = "",
    isbn: str = "",
    year: int | None = None,
    standard: SkillStandard | None = None,
    by: User,
) -> TeachingMaterial:
    """Register a teaching material for one or more occupations, optionally citing a standard.

    Raises NotAllowed, InvalidInput (field named).
    """
    _require_editor(by)
    fields, chosen = _material_fields(
        title=title,
        occupations=occupations,
        publisher=publisher,
        isbn=isbn,
        year=year,
        standard=standard,
    )
    material = TeachingMaterial.objects.create(**fields)
    material.occupations.set(chosen)
    record(
        "catalog.teaching_material.created",
        actor=by,
        obj=material,
        data={
            **{k: v for k, v in fields.items() if k != "standard"},
            "standard": standard.pk if standard else None,
            "occupations": [o.code for o in chosen],
        },
    )
    return material


@transaction.atomic
def update_material(
    material: TeachingMaterial,
    *,
    title: str,
    occupations: Iterable[Occupation],
    publisher: str = "",
    isbn: str = "",
    year: int | None = None,
    standard: SkillStandard | None = None,
    by: User,
) -> TeachingMaterial:
    """Correct a teaching material. Raises NotAllowed, InvalidInput."""
    _require_editor(by)
    fields, chosen = _material_fields(
        title=title,
        occupations=occupations,
        publisher=publisher,
        isbn=isbn,
        year=year,
        standard=standard,
    )
    for name, value in fields.items():
        setattr(material, name, value)
    material.save()
    material.occupations.set(chosen)
    record(
        "catalog.teaching_material.updated",
        actor=by,
        obj=material,
        data={
            **{k: v for k, v in fields.items() if k != "standard"},
            "standard": standard.pk if standard else None,
            "occupations": [o.code for o in chosen],
        },
    )
    return material


# --- Reads (public) ------------------------------------------------------------------------------


def _code_or_name(text: str, code_field: str, name_field: str) -> Q:
    return Q(**{f"{code_field}__startswith": text}) | Q(**{f"{name_field}__icontains": text})


def search_standards(text: str = "") -> QuerySet[SkillStandard]:
    """Standards whose title, occupation name or occupation code (prefix) matches `text`."""
    queryset = SkillStandard.objects.select_related("occupation")
    text = text.strip()
    if text:
        queryset = queryset.filter(
            Q(title__icontains=text) | _code_or_name(text, "occupation__code", "occupation__name")
        )
    return queryset.order_by("occupation__code", "-edition")


def search_materials(text: str = "") -> QuerySet[TeachingMaterial]:
    """Materials whose title, publisher, or an occupation's name or code matches `text`."""
    queryset = TeachingMaterial.objects.select_related("standard").prefetch_related("occupations")
    text = text.strip()
    if text:
        queryset = queryset.filter(
            Q(title__icontains=text)
            | Q(publisher__icontains=text)
            | _code_or_name(text, "occupations__code", "occupations__name")
        ).distinct()
    return queryset.order_by("title", "pk")


def get_standard(pk: int | str) -> SkillStandard:
    try:
        return SkillStandard.objects.select_related("occupation").get(pk=pk)
    except (SkillStandard.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def get_material(pk: int | str) -> TeachingMaterial:
    try:
        return TeachingMaterial.objects.prefetch_related("occupations").get(pk=pk)
    except (TeachingMaterial.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
