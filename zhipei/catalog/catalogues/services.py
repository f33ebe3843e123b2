"""Every state change of the two catalogues (两目录, 人社部发〔2024〕5号) and of courses.

Catalogue entries: an officer (labour officer whose region subtree contains the entry's region,
or a system administrator) creates them, edits their validity and fields, suspends, reinstates
and removes them. Platform selection enters a selected platform in the institution catalogue
(R16) through `enter_institution_catalogue` and suspends it through
`suspend_institution_entries`. `by=None` is the system (selection run by a command, demo data).

Courses: a platform publishes its own courses (`publish_course`, idempotent by the platform's
own id); labour officers of the course's region review them. Those services live in
catalogues/courses.py and are imported from here (this module is the one place callers use).

Every service is transactional, checks its actor and writes its audit events in the same
transaction. Statuses move through one compare-and-swap mover per model (STYLE §5).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import TypeVar

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhipei.accounts.models import Role, User
from zhipei.accounts.scope import has_role, region_in_scope
from zhipei.audit.services import record
from zhipei.catalog.catalogues.courses import (
    COURSE_ALLOWED,
    NON_MATERIAL_FIELDS,
    CourseData,
    CourseDataInvalid,
    CourseFields,
    LessonData,
    OfflineSessionData,
    approve_course,
    check_course_data,
    find_idempotent_response,
    publish_course,
    record_idempotent_response,
    reject_course,
    return_course,
    submit_course,
    withdraw_course,
)
from zhipei.catalog.models import (
    CatalogueStatus,
    InstitutionCatalogueEntry,
    ProjectCatalogueEntry,
)
from zhipei.core.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotInScope,
    StaleObject,
    TransitionNotAllowed,
)
from zhipei.occupations.models import Occupation, SkillLevel, Trade
from zhipei.orgs.models import Organisation
from zhipei.regions.models import Region

CS = CatalogueStatus

__all__ = [
    "COURSE_ALLOWED",
    "ENTRY_ALLOWED",
    "NON_MATERIAL_FIELDS",
    "SOURCES",
    "SOURCE_FILING",
    "SOURCE_MANUAL",
    "SOURCE_SELECTION",
    "CourseData",
    "CourseDataInvalid",
    "CourseFields",
    "LessonData",
    "OfflineSessionData",
    "approve_course",
    "check_course_data",
    "create_institution_entry",
    "create_project_entry",
    "enter_institution_catalogue",
    "find_idempotent_response",
    "publish_course",
    "record_idempotent_response",
    "reinstate_institution_entries",
    "reinstate_institution_entry",
    "reinstate_project_entry",
    "reject_course",
    "remove_institution_entry",
    "remove_project_entry",
    "require_officer_for",
    "return_course",
    "submit_course",
    "suspend_institution_entries",
    "suspend_institution_entry",
    "suspend_project_entry",
    "update_institution_entry",
    "update_project_entry",
    "withdraw_course",
]

# Catalogue entries: suspended entries may come back; removed is terminal.
ENTRY_ALLOWED: dict[str, set[str]] = {
    CS.ACTIVE: {CS.SUSPENDED, CS.REMOVED},
    CS.SUSPENDED: {CS.ACTIVE, CS.REMOVED},
}

SOURCE_SELECTION = "selection"
SOURCE_FILING = "filing"
SOURCE_MANUAL = "manual"
SOURCES = frozenset({SOURCE_SELECTION, SOURCE_FILING, SOURCE_MANUAL})

Entry = TypeVar("Entry", InstitutionCatalogueEntry, ProjectCatalogueEntry)


# --- Permissions ------------------------------------------------------------------------------


def require_officer_for(by: User | None, region: Region) -> None:
    """A labour officer whose scope covers `region`, or a system administrator; None is the
    system. Raises NotAllowed for the wrong role, NotInScope outside the region."""
    if by is None:
        return
    if not by.is_authenticated or not by.is_active:
        raise NotAllowed()
    if has_role(by, Role.SYSTEM_ADMIN):
        return
    if not has_role(by, Role.LABOUR_OFFICER):
        raise NotAllowed()
    if not region_in_scope(by, region.scope_prefix, roles=frozenset({Role.LABOUR_OFFICER})):
        raise NotInScope()


def _region_code(entry: InstitutionCatalogueEntry | ProjectCatalogueEntry) -> str:
    return str(entry.region.code)


# --- Validation helpers -----------------------------------------------------------------------


def _clean_period(valid_from: date | None, valid_to: date | None) -> tuple[date, date | None]:
    if valid_from is None:
        raise InvalidInput(_("Give the date the entry is valid from."), field="valid_from")
    if valid_to is not None and valid_to < valid_from:
        raise InvalidInput(
            _("The entry cannot end before it starts (valid to is before valid from)."),
            field="valid_to",
        )
    return valid_from, valid_to


def _clean_nature(nature: str) -> str:
    if nature not in InstitutionCatalogueEntry.Nature.values:
        raise InvalidInput(
            _("Unknown nature of the institution: %(value)s.") % {"value": nature},
            field="nature",
        )
    return nature


def _clean_occupations(occupations: Iterable[Occupation]) -> list[Occupation]:
    found = list(occupations)
    wrong = [o.code for o in found if o.level != Occupation.Level.OCCUPATION]
    if wrong:
        raise InvalidInput(
            _("These codes are groups, not occupations: %(codes)s.")
            % {"codes": ", ".join(sorted(wrong))},
            field="occupations",
        )
    return found


def _clean_text(value: str, *, field: str, max_length: int) -> str:
    value = (value or "").strip()
    if len(value) > max_length:
        raise InvalidInput(
            _("Too long: at most %(max)d characters.") % {"max": max_length}, field=field
        )
    return value


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason."), field="reason")
    return reason


# --- One mover for both kinds of catalogue entry ----------------------------------------------


def _move_entry(entry: Entry, to: str, *, by: User | None, reason: str) -> Entry:
    """Compare-and-swap the entry's status and record it. A replay of the state the entry is
    already in returns it unchanged."""
    expected = entry.status
    if expected == to:
        return entry
    if to not in ENTRY_ALLOWED.get(expected, set()):
        raise TransitionNotAllowed(expected, to)
    model = type(entry)
    changed = model._default_manager.filter(pk=entry.pk, status=expected).update(status=to)
    if changed != 1:
        raise StaleObject()
    kind = "institution_entry" if isinstance(entry, InstitutionCatalogueEntry) else "project_entry"
    record(
        f"catalog.{kind}.{to}",
        actor=by,
        obj=entry,
        region_code=_region_code(entry),
        data={"from": expected, "to": to, "reason": reason},
    )
    entry.refresh_from_db(fields=["status"])
    return entry


# --- Institution catalogue (培训机构目录) -----------------------------------------------------


def _create_institution_entry(
    organisation: Organisation,
    *,
    region: Region,
    nature: str,
    occupations: list[Occupation],
    valid_from: date,
    valid_to: date | None,
    address: str,
    source: str,
    source_ref: str,
    by: User | None,
) -> InstitutionCatalogueEntry:
    entry = InstitutionCatalogueEntry.objects.create(
        region=region,
        organisation=organisation,
        nature=nature,
        address=address,
        valid_from=valid_from,
        valid_to=valid_to,
        source=source,
        source_ref=source_ref,
        created_by=by,
        created_at=timezone.now(),
    )
    entry.occupations.set(occupations)
    record(
        "catalog.institution_entry.created",
        actor=by,
        obj=entry,
        region_code=region.code,
        data={
            "organisation_id": organisation.pk,
            "nature": nature,
            "occupations": sorted(o.code for o in occupations),
            "valid_from": valid_from,
            "valid_to": valid_to,
            "source": source,
            "source_ref": source_ref,
        },
    )
    return entry


@transaction.atomic
def enter_institution_catalogue(
    organisation: Organisation,
    *,
    region: Region,
    nature: str,
    occupations: Iterable[Occupation],
    valid_from: date,
    source: str,
    source_ref: str = "",
    by: User | None,
    valid_to: date | None = None,
    address: str = "",
) -> InstitutionCatalogueEntry:
    """Make sure `organisation` has a live entry of `region`'s institution catalogue coming from
    (`source`, `source_ref`) — e.g. ("selection", "<application id>") when a platform is
    selected (R16).

    Idempotent for the same organisation, region, source and source_ref: an active entry is
    returned unchanged, a suspended one is reinstated (audited); only when there is none (or
    only removed ones) is an entry created. Raises InvalidInput, NotAllowed or NotInScope.
    """
    require_officer_for(by, region)
    if source not in SOURCES:
        raise InvalidInput(_("Unknown source: %(value)s.") % {"value": source}, field="source")
    nature = _clean_nature(nature)
    valid_from, valid_to = _clean_period(valid_from, valid_to)
    cleaned = _clean_occupations(occupations)
    source_ref = _clean_text(source_ref, field="source_ref", max_length=64)
    existing = (
        InstitutionCatalogueEntry.objects.filter(
            organisation=organisation, region=region, source=source, source_ref=source_ref
        )
        .exclude(status=CS.REMOVED)
        .select_related("region")
        .order_by("pk")
        .first()
    )
    if existing is not None:
        if existing.status == CS.SUSPENDED:
            return _move_entry(existing, CS.ACTIVE, by=by, reason=f"{source} {source_ref}".strip())
        return existing
    return _create_institution_entry(
        organisation,
        region=region,
        nature=nature,
        occupations=cleaned,
        valid_from=valid_from,
        valid_to=valid_to,
        address=_clean_text(address or organisation.address, field="address", max_length=300),
        source=source,
        source_ref=source_ref,
        by=by,
    )


@transaction.atomic
def create_institution_entry(
    organisation: Organisation,
    *,
    region: Region,
    nature: str,
    occupations: Iterable[Occupation],
    valid_from: date,
    valid_to: date | None = None,
    address: str = "",
    by: User | None,
) -> InstitutionCatalogueEntry:
    """An officer enters an institution in their region's catalogue by hand.

    Refuses (Conflict) when the organisation already has a live entry in that region: edit or
    reinstate that one instead. Raises InvalidInput, NotAllowed, NotInScope or Conflict.
    """
    require_officer_for(by, region)
    nature = _clean_nature(nature)
    valid_from, valid_to = _clean_period(valid_from, valid_to)
    cleaned = _clean_occupations(occupations)
    live = InstitutionCatalogueEntry.objects.filter(
        organisation=organisation, region=region
    ).exclude(status=CS.REMOVED)
    if live.exists():
        raise Conflict(
            _("This organisation already has an entry in this region's catalogue."),
            field="organisation",
        )
    return _create_institution_entry(
        organisation,
        region=region,
        nature=nature,
        occupations=cleaned,
        valid_from=valid_from,
        valid_to=valid_to,
        address=_clean_text(address or organisation.address, field="address", max_length=300),
        source=SOURCE_MANUAL,
        source_ref="",
        by=by,
    )


@transaction.atomic
def update_institution_entry(
    entry: InstitutionCatalogueEntry,
    *,
    nature: str,
    occupations: Iterable[Occupation],
    valid_from: date,
    valid_to: date | None,
    address: str,
    by: User | None,
) -> InstitutionCatalogueEntry:
    """Edit a live entry's fields and validity (a removed entry stays as it was).
    Raises InvalidInput, NotAllowed, NotInScope or TransitionNotAllowed."""
    require_officer_for(by, entry.region)
    if entry.status == CS.REMOVED:
        raise TransitionNotAllowed(entry.status, entry.status)
    nature = _clean_nature(nature)
    valid_from, valid_to = _clean_period(valid_from, valid_to)
    cleaned = _clean_occupations(occupations)
    address = _clean_text(address, field="address", max_length=300)
    before = {
        "nature": entry.nature,
        "address": entry.address,
        "valid_from": entry.valid_from,
        "valid_to": entry.valid_to,
        "occupations": sorted(entry.occupations.values_list("code", flat=True)),
    }
    entry.nature, entry.address = nature, address
    entry.valid_from, entry.valid_to = valid_from, valid_to
    entry.save(update_fields=["nature", "address", "valid_from", "valid_to"])
    entry.occupations.set(cleaned)
    after = {
        "nature": nature,
        "address": address,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "occupations": sorted(o.code for o in cleaned),
    }
    record(
        "catalog.institution_entry.updated",
        actor=by,
        obj=entry,
        region_code=_region_code(entry),
        data={"before": before, "after": after},
    )
    return entry


@transaction.atomic
def suspend_institution_entry(
    entry: InstitutionCatalogueEntry, *, reason: str, by: User | None
) -> InstitutionCatalogueEntry:
    """Suspend an active entry: training by the provider stops counting from now on.
    Raises InvalidInput, NotAllowed, NotInScope, TransitionNotAllowed or StaleObject."""
    require_officer_for(by, entry.region)
    return _move_entry(entry, CS.SUSPENDED, by=by, reason=_clean_reason(reason))


@transaction.atomic
def reinstate_institution_entry(
    entry: InstitutionCatalogueEntry, *, reason: str, by: User | None
) -> InstitutionCatalogueEntry:
    """Make a suspended entry active again."""
    require_officer_for(by, entry.region)
    return _move_entry(entry, CS.ACTIVE, by=by, reason=_clean_reason(reason))


@transaction.atomic
def remove_institution_entry(
    entry: InstitutionCatalogueEntry, *, reason: str, by: User | None
) -> InstitutionCatalogueEntry:
    """Remove an entry for good (the row stays for the record)."""
    require_officer_for(by, entry.region)
    return _move_entry(entry, CS.REMOVED, by=by, reason=_clean_reason(reason))


def _entries_of(
    organisation: Organisation, *, status: str, by: User | None
) -> list[InstitutionCatalogueEntry]:
    entries = list(
        InstitutionCatalogueEntry.objects.filter(organisation=organisation, status=status)
        .select_related("region")
        .order_by("pk")
    )
    if by is not None:
        for entry in entries:
            require_officer_for(by, entry.region)
    return entries


@transaction.atomic
def suspend_institution_entries(
    organisation: Organisation, *, reason: str, by: User | None
) -> list[InstitutionCatalogueEntry]:
    """Suspend every active institution-catalogue entry of `organisation` (a platform was
    suspended or removed). All or nothing: if one of them lies outside the officer's scope,
    none is suspended (NotInScope). Returns the entries suspended (none is fine)."""
    reason = _clean_reason(reason)
    return [
        _move_entry(entry, CS.SUSPENDED, by=by, reason=reason)
        for entry in _entries_of(organisation, status=CS.ACTIVE, by=by)
    ]


@transaction.atomic
def reinstate_institution_entries(
    organisation: Organisation, *, reason: str, by: User | None
) -> list[InstitutionCatalogueEntry]:
    """Reinstate every suspended entry of `organisation` (a suspended platform came back)."""
    reason = _clean_reason(reason)
    return [
        _move_entry(entry, CS.ACTIVE, by=by, reason=reason)
        for entry in _entries_of(organisation, status=CS.SUSPENDED, by=by)
    ]


# --- Project (demand) catalogue (职业技能培训需求指导目录) -------------------------------------


def _clean_project_fields(
    *,
    occupation: Occupation,
    trade: Trade | None,
    skill_level: int | None,
    training_type: str,
    class_hours: Decimal | None,
    subsidy_standard_fen: int | None,
) -> None:
    if occupation.level != Occupation.Level.OCCUPATION:
        raise InvalidInput(
            _("%(code)s is a group, not an occupation.") % {"code": occupation.code},
            field="occupation",
        )
    if trade is not None and trade.occupation_id != occupation.pk:
        raise InvalidInput(_("The trade does not belong to this occupation."), field="trade")
    if skill_level is not None and skill_level not in SkillLevel.values:
        raise InvalidInput(_("Unknown skill level."), field="skill_level")
    if training_type not in ProjectCatalogueEntry.TrainingType.values:
        raise InvalidInput(
            _("Unknown training type: %(value)s.") % {"value": training_type},
            field="training_type",
        )
    if class_hours is not None and (class_hours <= 0 or class_hours != round(class_hours, 1)):
        raise InvalidInput(
            _("Class hours must be more than 0, with at most one decimal."), field="class_hours"
        )
    if subsidy_standard_fen is not None and subsidy_standard_fen < 0:
        raise InvalidInput(_("The subsidy standard cannot be negative."), field="subsidy_standard")


@transaction.atomic
def create_project_entry(
    region: Region,
    *,
    occupation: Occupation,
    training_type: str,
    valid_from: date,
    valid_to: date | None = None,
    trade: Trade | None = None,
    skill_level: int | None = None,
    class_hours: Decimal | None = None,
    subsidy_standard_fen: int | None = None,
    by: User | None,
) -> ProjectCatalogueEntry:
    """Put an occupation (optionally a trade and a level) in `region`'s training-project
    catalogue. Refuses (Conflict) a second live entry for the same occupation, trade and
    level in the region. Raises InvalidInput, NotAllowed, NotInScope or Conflict."""
    require_officer_for(by, region)
    _clean_project_fields(
        occupation=occupation,
        trade=trade,
        skill_level=skill_level,
        training_type=training_type,
        class_hours=class_hours,
        subsidy_standard_fen=subsidy_standard_fen,
    )
    valid_from, valid_to = _clean_period(valid_from, valid_to)
    live = ProjectCatalogueEntry.objects.filter(
        region=region, occupation=occupation, trade=trade, skill_level=skill_level
    ).exclude(status=CS.REMOVED)
    if live.exists():
        raise Conflict(
            _("This occupation is already in this region's project catalogue at this level."),
            field="occupation",
        )
    entry = ProjectCatalogueEntry.objects.create(
        region=region,
        occupation=occupation,
        trade=trade,
        skill_level=skill_level,
        training_type=training_type,
        class_hours=class_hours,
        subsidy_standard_fen=subsidy_standard_fen,
        valid_from=valid_from,
        valid_to=valid_to,
        created_by=by,
        created_at=timezone.now(),
    )
    record(
        "catalog.project_entry.created",
        actor=by,
        obj=entry,
        region_code=region.code,
        data={
            "occupation": occupation.code,
            "trade_id": trade.pk if trade is not None else None,
            "skill_level": skill_level,
            "training_type": training_type,
            "class_hours": class_hours,
            "subsidy_standard_fen": subsidy_standard_fen,
            "valid_from": valid_from,
            "valid_to": valid_to,
        },
    )
    return entry


@transaction.atomic
def update_project_entry(
    entry: ProjectCatalogueEntry,
    *,
    training_type: str,
    valid_from: date,
    valid_to: date | None,
    class_hours: Decimal | None,
    subsidy_standard_fen: int | None,
    by: User | None,
) -> ProjectCatalogueEntry:
    """Edit a live project entry's validity, type, class hours and subsidy standard (the
    occupation, trade and level are what the entry is; enter a new one to change them)."""
    require_officer_for(by, entry.region)
    if entry.status == CS.REMOVED:
        raise TransitionNotAllowed(entry.status, entry.status)
    _clean_project_fields(
        occupation=entry.occupation,
        trade=entry.trade,
        skill_level=entry.skill_level,
        training_type=training_type,
        class_hours=class_hours,
        subsidy_standard_fen=subsidy_standard_fen,
    )
    valid_from, valid_to = _clean_period(valid_from, valid_to)
    fields = ["training_type", "valid_from", "valid_to", "class_hours", "subsidy_standard_fen"]
    before = {name: getattr(entry, name) for name in fields}
    entry.training_type, entry.valid_from, entry.valid_to = training_type, valid_from, valid_to
    entry.class_hours, entry.subsidy_standard_fen = class_hours, subsidy_standard_fen
    entry.save(update_fields=fields)
    record(
        "catalog.project_entry.updated",
        actor=by,
        obj=entry,
        region_code=_region_code(entry),
        data={"before": before, "after": {name: getattr(entry, name) for name in fields}},
    )
    return entry


@transaction.atomic
def suspend_project_entry(
    entry: ProjectCatalogueEntry, *, reason: str, by: User | None
) -> ProjectCatalogueEntry:
    require_officer_for(by, entry.region)
    return _move_entry(entry, CS.SUSPENDED, by=by, reason=_clean_reason(reason))


@transaction.atomic
def reinstate_project_entry(
    entry: ProjectCatalogueEntry, *, reason: str, by: User | None
) -> ProjectCatalogueEntry:
    require_officer_for(by, entry.region)
    return _move_entry(entry, CS.ACTIVE, by=by, reason=_clean_reason(reason))


@transaction.atomic
def remove_project_entry(
    entry: ProjectCatalogueEntry, *, reason: str, by: User | None
) -> ProjectCatalogueEntry:
    require_officer_for(by, entry.region)
    return _move_entry(entry, CS.REMOVED, by=by, reason=_clean_reason(reason))
