"""Every change to shutdown declarations, their evidence and rosters (STYLE §1, §5).

Enterprise administrators act for their own enterprise (accounts.require_role with the
organisation); labour officers act inside their region subtree (require_role with the region).
Outside either, NotInScope (shown as 404). Each service owns its transaction and writes one
audit event in it.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhipei.accounts.models import Role, User
from zhipei.accounts.services import require_role
from zhipei.audit.services import record
from zhipei.catalog.uploads import check_file
from zhipei.core.errors import Conflict, InvalidInput, NotAllowed, StaleObject, TransitionNotAllowed
from zhipei.enterprises.models import (
    Employment,
    EmploymentKind,
    RosterImport,
    ShutdownDeclaration,
    ShutdownEvidence,
)
from zhipei.orgs.models import Enterprise
from zhipei.orgs.uscc import normalise as normalise_uscc
from zhipei.people.models import Person

S = ShutdownDeclaration.Status

ALLOWED: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
    S.SUBMITTED: {S.CONFIRMED, S.RETURNED, S.REJECTED, S.WITHDRAWN},
    # Returned for correction: corrected and sent again, or given up.
    S.RETURNED: {S.SUBMITTED, S.WITHDRAWN},
}  # confirmed, rejected and withdrawn are terminal (a confirmed one may still be ended early)

EDITABLE = frozenset({S.DRAFT, S.RETURNED})
# A shutdown longer than a year is not a shutdown this programme pays for; a longer period is
# almost certainly a typing mistake.
MAX_SHUTDOWN_DAYS = 366
NOTE_MAX_LENGTH = 2000


def _region_code(enterprise: Enterprise) -> str:
    return enterprise.organisation.region.code


def require_enterprise_admin(by: User, enterprise: Enterprise) -> None:
    """NotAllowed without the role; NotInScope when `by` administers another enterprise."""
    require_role(by, Role.ENTERPRISE_ADMIN, organisation=enterprise.organisation)


def require_officer_for(by: User, enterprise: Enterprise) -> None:
    """NotAllowed without the labour-officer role; NotInScope outside the officer's regions."""
    require_role(by, Role.LABOUR_OFFICER, region=enterprise.organisation.region)


def _clean_text(value: str, *, field: str, required: bool, max_length: int) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(_("This field is required."), field=field)
    if len(value) > max_length:
        raise InvalidInput(
            _("At most %(max)d characters are allowed.") % {"max": max_length}, field=field
        )
    return value


# --- Shutdown declarations --------------------------------------------------------------------


def _check_declaration_fields(
    *,
    kind: str,
    starts_on: date,
    ends_on: date,
    cause: str,
    cause_detail: str,
    affected_employee_count: int | None,
    enterprise: Enterprise,
) -> tuple[str, int | None]:
    if kind not in ShutdownDeclaration.Kind.values:
        raise InvalidInput(_("Choose full or partial shutdown."), field="kind")
    if cause not in ShutdownDeclaration.Cause.values:
        raise InvalidInput(_("Choose the cause of the shutdown."), field="cause")
    detail = _clean_text(
        cause_detail,
        field="cause_detail",
        required=cause == ShutdownDeclaration.Cause.OTHER,
        max_length=NOTE_MAX_LENGTH,
    )
    if ends_on < starts_on:
        raise InvalidInput(_("The last day cannot be before the first day."), field="ends_on")
    if (ends_on - starts_on).days + 1 > MAX_SHUTDOWN_DAYS:
        raise InvalidInput(
            _("A declaration covers at most %(days)d days; declare a longer shutdown in parts.")
            % {"days": MAX_SHUTDOWN_DAYS},
            field="ends_on",
        )
    if kind == ShutdownDeclaration.Kind.FULL:
        return detail, None
    if affected_employee_count is None or affected_employee_count < 1:
        raise InvalidInput(
            _("For a partial shutdown, enter how many employees it affected."),
            field="affected_employee_count",
        )
    if enterprise.employee_count and affected_employee_count > enterprise.employee_count:
        raise InvalidInput(
            _("More employees affected than the enterprise has (%(count)d).")
            % {"count": enterprise.employee_count},
            field="affected_employee_count",
        )
    return detail, affected_employee_count


@transaction.atomic
def create_declaration(
    enterprise: Enterprise,
    *,
    kind: str,
    starts_on: date,
    ends_on: date,
    cause: str,
    cause_detail: str = "",
    affected_employee_count: int | None = None,
    by: User,
) -> ShutdownDeclaration:
    """An enterprise administrator drafts a shutdown declaration for their enterprise.

    Raises NotAllowed, NotInScope, InvalidInput (field named) for a bad kind, cause, period
    or affected count.
    """
    require_enterprise_admin(by, enterprise)
    detail, affected = _check_declaration_fields(
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        cause=cause,
        cause_detail=cause_detail,
        affected_employee_count=affected_employee_count,
        enterprise=enterprise,
    )
    declaration = ShutdownDeclaration.objects.create(
        enterprise=enterprise,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        cause=cause,
        cause_detail=detail,
        affected_employee_count=affected,
        created_by=by,
    )
    record(
        "enterprises.shutdown.created",
        actor=by,
        obj=declaration,
        region_code=_region_code(enterprise),
        data={"kind": kind, "starts_on": starts_on, "ends_on": ends_on, "cause": cause},
    )
    return declaration


@transaction.atomic
def update_declaration(
    declaration: ShutdownDeclaration,
    *,
    kind: str,
    starts_on: date,
    ends_on: date,
    cause: str,
    cause_detail: str = "",
    affected_employee_count: int | None = None,
    by: User,
) -> ShutdownDeclaration:
    """Change a draft or returned declaration. Raises NotAllowed, NotInScope, InvalidInput,
    TransitionNotAllowed (not editable in its status) or StaleObject."""
    require_enterprise_admin(by, declaration.enterprise)
    if declaration.status not in EDITABLE:
        raise TransitionNotAllowed(declaration.status, "edited")
    detail, affected = _check_declaration_fields(
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        cause=cause,
        cause_detail=cause_detail,
        affected_employee_count=affected_employee_count,
        enterprise=declaration.enterprise,
    )
    changed = ShutdownDeclaration.objects.filter(
        pk=declaration.pk, status=declaration.status
    ).update(
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        cause=cause,
        cause_detail=detail,
        affected_employee_count=affected,
    )
    if changed != 1:
        raise StaleObject()
    record(
        "enterprises.shutdown.updated",
        actor=by,
        obj=declaration,
        region_code=_region_code(declaration.enterprise),
        data={"kind": kind, "starts_on": starts_on, "ends_on": ends_on, "cause": cause},
    )
    declaration.refresh_from_db()
    return declaration


def _move(
    declaration: ShutdownDeclaration, to: str, *, by: User, note: str = "", **fields: object
) -> ShutdownDeclaration:
    """The one mover: checks the ALLOWED table, compare-and-swaps the status and records the
    transition. A replay (already in `to`) returns the object unchanged."""
    expected = declaration.status
    if expected == to:
        return declaration
    if to not in ALLOWED.get(expected, set()):
        raise TransitionNotAllowed(expected, to)
    now = timezone.now()
    changed = ShutdownDeclaration.objects.filter(pk=declaration.pk, status=expected).update(
        status=to, status_changed_at=now, **fields
    )
    if changed != 1:
        current = ShutdownDeclaration.objects.filter(pk=declaration.pk).values_list(
            "status", flat=True
        )
        if list(current) == [to]:
            # Someone (a double click, a retried request) made the same move first.
            declaration.refresh_from_db()
            return declaration
        raise StaleObject()
    record(
        "enterprises.shutdown." + to,
        actor=by,
        obj=declaration,
        region_code=_region_code(declaration.enterprise),
        data={"from": expected, "to": to, "note": note},
    )
    declaration.refresh_from_db()
    return declaration


def _overlapping_live(declaration: ShutdownDeclaration) -> ShutdownDeclaration | None:
    return (
        ShutdownDeclaration.objects.filter(
            enterprise=declaration.enterprise_id,
            status__in=[S.SUBMITTED, S.CONFIRMED],
            starts_on__lte=declaration.ends_on,
        )
        .exclude(pk=declaration.pk)
        .filter(
            Q(ended_early_on__isnull=True, ends_on__gte=declaration.starts_on)
            | Q(ended_early_on__gte=declaration.starts_on)
        )
        .first()
    )


@transaction.atomic
def submit_declaration(declaration: ShutdownDeclaration, *, by: User) -> ShutdownDeclaration:
    """Send a draft or returned declaration to the labour officers.

    Needs at least one evidence document, and no other submitted or confirmed declaration of
    the enterprise may cover any of its days. Raises NotAllowed, NotInScope, InvalidInput
    (no evidence), Conflict (overlap), TransitionNotAllowed or StaleObject.
    """
    require_enterprise_admin(by, declaration.enterprise)
    if declaration.status == S.SUBMITTED:
        return declaration
    if declaration.status in ALLOWED and S.SUBMITTED in ALLOWED[declaration.status]:
        if not declaration.evidence.exists():
            raise InvalidInput(
                _("Add at least one evidence document before submitting."), field="evidence"
            )
        other = _overlapping_live(declaration)
        if other is not None:
            raise Conflict(
                _("Another declaration (%(start)s to %(end)s) already covers part of this period.")
                % {"start": other.starts_on, "end": other.effective_ends_on}
            )
    return _move(declaration, S.SUBMITTED, by=by, submitted_at=timezone.now())


@transaction.atomic
def withdraw_declaration(declaration: ShutdownDeclaration, *, by: User) -> ShutdownDeclaration:
    """The enterprise withdraws a draft, submitted or returned declaration.
    Raises NotAllowed, NotInScope, TransitionNotAllowed or StaleObject."""
    require_enterprise_admin(by, declaration.enterprise)
    return _move(declaration, S.WITHDRAWN, by=by)


def _decide(
    declaration: ShutdownDeclaration, to: str, *, by: User, note: str, note_required: bool
) -> ShutdownDeclaration:
    require_officer_for(by, declaration.enterprise)
    if declaration.created_by_id == by.pk:
        raise NotAllowed(_("You cannot decide on a declaration you made yourself."))
    clean_note = _clean_text(
        note,
        field="note",
        required=note_required and declaration.status != to,
        max_length=NOTE_MAX_LENGTH,
    )
    return _move(
        declaration,
        to,
        by=by,
        note=clean_note,
        decided_by=by,
        decided_at=timezone.now(),
        decision_note=clean_note,
    )


@transaction.atomic
def confirm_declaration(
    declaration: ShutdownDeclaration, *, by: User, note: str = ""
) -> ShutdownDeclaration:
    """A labour officer of the enterprise's region confirms a submitted declaration: from
    now on `queries.shutdown_on` finds it. Raises NotAllowed, NotInScope, InvalidInput,
    TransitionNotAllowed or StaleObject."""
    return _decide(declaration, S.CONFIRMED, by=by, note=note, note_required=False)


@transaction.atomic
def return_declaration(
    declaration: ShutdownDeclaration, *, by: User, note: str
) -> ShutdownDeclaration:
    """Send a submitted declaration back for correction; the note (required) says what to
    correct. Raises as confirm_declaration, and InvalidInput (field note) without a note."""
    return _decide(declaration, S.RETURNED, by=by, note=note, note_required=True)


@transaction.atomic
def reject_declaration(
    declaration: ShutdownDeclaration, *, by: User, note: str
) -> ShutdownDeclaration:
    """Refuse a submitted declaration for good, with the reason (required). Raises as
    return_declaration."""
    return _decide(declaration, S.REJECTED, by=by, note=note, note_required=True)


@transaction.atomic
def end_declaration_early(
    declaration: ShutdownDeclaration, *, ended_on: date, reason: str, by: User
) -> ShutdownDeclaration:
    """Record that a confirmed shutdown ended before its declared last day: `ended_on` is the
    new last day (from the first day up to the day before the declared last day). The
    enterprise's administrator (work resumed) or a labour officer in scope may do it.

    A replay with the same date returns the declaration unchanged. Raises NotAllowed,
    NotInScope, InvalidInput (fields ended_on, reason), TransitionNotAllowed (not confirmed),
    Conflict (already ended early on another date) or StaleObject.
    """
    enterprise = declaration.enterprise
    try:
        require_enterprise_admin(by, enterprise)
    except NotAllowed:
        require_officer_for(by, enterprise)
    if declaration.status != S.CONFIRMED:
        raise TransitionNotAllowed(declaration.status, "ended_early")
    if declaration.ended_early_on is not None:
        if declaration.ended_early_on == ended_on:
            return declaration
        raise Conflict(
            _("This shutdown was already ended early on %(date)s.")
            % {"date": declaration.ended_early_on},
            field="ended_on",
        )
    if not declaration.starts_on <= ended_on < declaration.ends_on:
        raise InvalidInput(
            _("The last day must be between %(start)s and %(end)s.")
            % {"start": declaration.starts_on, "end": declaration.ends_on - timedelta(days=1)},
            field="ended_on",
        )
    clean_reason = _clean_text(reason, field="reason", required=True, max_length=NOTE_MAX_LENGTH)
    changed = ShutdownDeclaration.objects.filter(
        pk=declaration.pk, status=S.CONFIRMED, ended_early_on__isnull=True
    ).update(ended_early_on=ended_on, end_reason=clean_reason, ended_by=by)
    if changed != 1:
        raise StaleObject()
    record(
        "enterprises.shutdown.ended_early",
        actor=by,
        obj=declaration,
        region_code=_region_code(enterprise),
        data={
            "ended_on": ended_on,
            "declared_ends_on": declaration.ends_on,
            "reason": clean_reason,
        },
    )
    declaration.refresh_from_db()
    return declaration


@transaction.atomic
def add_evidence(
    declaration: ShutdownDeclaration, file: UploadedFile, *, description: str = "", by: User
) -> ShutdownEvidence:
    """Attach a document to a draft or returned declaration. The content is checked as every
    upload is (catalog.uploads.check_file: type from the content, size limit, name matching
    the content) and stored under its SHA-256.

    Raises NotAllowed, NotInScope, InvalidInput (field file or description),
    TransitionNotAllowed (declaration no longer editable).
    """
    require_enterprise_admin(by, declaration.enterprise)
    if declaration.status not in EDITABLE:
        raise TransitionNotAllowed(declaration.status, "evidence_added")
    clean_description = _clean_text(
        description, field="description", required=False, max_length=200
    )
    content, detected, name = check_file(file)
    digest = hashlib.sha256(content).hexdigest()
    evidence = ShutdownEvidence(
        declaration=declaration,
        original_name=name,
        content_type=detected.content_type,
        size_bytes=len(content),
        sha256=digest,
        description=clean_description,
        uploaded_by=by,
        uploaded_at=timezone.now(),
    )
    # The file is written before the row: a rolled-back row leaves an unreferenced file named
    # by its hash, never a row without its file.
    evidence.file.save(digest + detected.extensions[0], ContentFile(content), save=False)
    evidence.save()
    record(
        "enterprises.shutdown.evidence_added",
        actor=by,
        obj=declaration,
        region_code=_region_code(declaration.enterprise),
        data={"evidence": evidence.pk, "name": name, "sha256": digest, "size_bytes": len(content)},
    )
    return evidence


@transaction.atomic
def remove_evidence(evidence: ShutdownEvidence, *, by: User) -> None:
    """Remove a document from a draft or returned declaration (the row; the content-named
    file may be shared with another row and stays). Raises NotAllowed, NotInScope,
    TransitionNotAllowed."""
    declaration = evidence.declaration
    require_enterprise_admin(by, declaration.enterprise)
    if declaration.status not in EDITABLE:
        raise TransitionNotAllowed(declaration.status, "evidence_removed")
    record(
        "enterprises.shutdown.evidence_removed",
        actor=by,
        obj=declaration,
        region_code=_region_code(declaration.enterprise),
        data={"evidence": evidence.pk, "name": evidence.original_name, "sha256": evidence.sha256},
    )
    evidence.delete()


# --- Rosters ----------------------------------------------------------------------------------


def clean_dispatcher(kind: str, name: str, uscc: str) -> tuple[str, str]:
    """The dispatching organisation's name and credit code as stored: required (one of the two)
    for a dispatched worker, empty for everyone else. Raises InvalidInput (field
    dispatcher_name or dispatcher_uscc)."""
    name = (name or "").strip()
    uscc = normalise_uscc(uscc or "") if (uscc or "").strip() else ""
    if kind != EmploymentKind.DISPATCHED:
        if name or uscc:
            raise InvalidInput(
                _("Only a dispatched worker has a dispatching organisation."),
                field="dispatcher_name",
            )
        return "", ""
    if not name and not uscc:
        raise InvalidInput(
            _("For a dispatched worker, give the dispatching organisation's name or credit code."),
            field="dispatcher_name",
        )
    if len(name) > 200:
        raise InvalidInput(_("At most 200 characters are allowed."), field="dispatcher_name")
    if uscc and len(uscc) != 18:
        raise InvalidInput(
            _("A unified social credit code has 18 characters."), field="dispatcher_uscc"
        )
    return name, uscc


def overlapping_employment(
    enterprise: Enterprise, person: Person, start_on: date, end_on: date | None = None
) -> Employment | None:
    """A period of the person on this roster that shares a day with [start_on, end_on]."""
    queryset = Employment.objects.filter(enterprise=enterprise, person=person).filter(
        Q(end_on__isnull=True) | Q(end_on__gte=start_on)
    )
    if end_on is not None:
        queryset = queryset.filter(start_on__lte=end_on)
    return queryset.order_by("start_on").first()


def overlap_error(existing: Employment) -> Conflict:
    if existing.end_on is None:
        message = _("This person is already on the roster from %(start)s.") % {
            "start": existing.start_on
        }
    else:
        message = _("This person is already on the roster from %(start)s to %(end)s.") % {
            "start": existing.start_on,
            "end": existing.end_on,
        }
    return Conflict(message, field="start_on")


def _lock_person(person: Person) -> None:
    # Serialises roster changes for one person on PostgreSQL so two concurrent adds cannot both
    # pass the overlap check (SQLite's IMMEDIATE transactions already serialise writers).
    Person.objects.select_for_update().filter(pk=person.pk).exists()


def insert_employment(
    enterprise: Enterprise,
    person: Person,
    *,
    kind: str,
    start_on: date,
    end_on: date | None = None,
    dispatcher_name: str = "",
    dispatcher_uscc: str = "",
    by: User,
    roster_import: RosterImport | None = None,
) -> Employment:
    """The insert shared by add_employment and the Excel import; runs inside the caller's
    transaction, checks kind, period and overlap and records the event. The caller has checked
    `by`. Raises InvalidInput or Conflict (overlap)."""
    if kind not in EmploymentKind.values:
        raise InvalidInput(
            _("Choose employee, dispatched worker or platform worker."), field="kind"
        )
    name, uscc = clean_dispatcher(kind, dispatcher_name, dispatcher_uscc)
    if end_on is not None and end_on < start_on:
        raise InvalidInput(_("The end date cannot be before the start date."), field="end_on")
    _lock_person(person)
    existing = overlapping_employment(enterprise, person, start_on, end_on)
    if existing is not None:
        raise overlap_error(existing)
    try:
        with transaction.atomic():
            employment = Employment.objects.create(
                enterprise=enterprise,
                person=person,
                kind=kind,
                dispatcher_name=name,
                dispatcher_uscc=uscc,
                start_on=start_on,
                end_on=end_on,
                added_by=by,
                source=Employment.Source.IMPORT if roster_import else Employment.Source.MANUAL,
                roster_import=roster_import,
            )
    except IntegrityError:
        raise Conflict(_("This person is already on the roster."), field="start_on") from None
    record(
        "enterprises.employment.added",
        actor=by,
        obj=employment,
        region_code=_region_code(enterprise),
        data={
            "person": person.pk,
            "id_masked": person.id_masked,
            "kind": kind,
            "start_on": start_on,
            "end_on": end_on,
            "import": roster_import.pk if roster_import else None,
        },
    )
    return employment


@transaction.atomic
def add_employment(
    enterprise: Enterprise,
    person: Person,
    *,
    kind: str,
    start_on: date,
    end_on: date | None = None,
    dispatcher_name: str = "",
    dispatcher_uscc: str = "",
    by: User,
) -> Employment:
    """An enterprise administrator puts a known person on the roster from `start_on` (and up
    to `end_on` when given). Periods of one person on one roster never overlap.

    Raises NotAllowed, NotInScope, InvalidInput (kind, dates, dispatcher), Conflict (overlap).
    """
    require_enterprise_admin(by, enterprise)
    return insert_employment(
        enterprise,
        person,
        kind=kind,
        start_on=start_on,
        end_on=end_on,
        dispatcher_name=dispatcher_name,
        dispatcher_uscc=dispatcher_uscc,
        by=by,
    )


@transaction.atomic
def end_employment(employment: Employment, *, end_on: date, reason: str, by: User) -> Employment:
    """Take a person off the roster: `end_on` is their last day (not before the start). A
    replay with the same date returns the employment unchanged.

    Raises NotAllowed, NotInScope, InvalidInput (end_on, reason), Conflict (already ended on
    another date) or StaleObject.
    """
    require_enterprise_admin(by, employment.enterprise)
    if employment.end_on is not None:
        if employment.end_on == end_on:
            return employment
        raise Conflict(
            _("This period already ended on %(date)s.") % {"date": employment.end_on},
            field="end_on",
        )
    if end_on < employment.start_on:
        raise InvalidInput(
            _("The last day cannot be before the start date (%(date)s).")
            % {"date": employment.start_on},
            field="end_on",
        )
    clean_reason = _clean_text(reason, field="reason", required=True, max_length=NOTE_MAX_LENGTH)
    changed = Employment.objects.filter(pk=employment.pk, end_on__isnull=True).update(
        end_on=end_on,
        end_reason=clean_reason,
        removed_by=by,
        removed_at=timezone.now(),
    )
    if changed != 1:
        raise StaleObject()
    record(
        "enterprises.employment.ended",
        actor=by,
        obj=employment,
        region_code=_region_code(employment.enterprise),
        data={"person": employment.person_id, "end_on": end_on, "reason": clean_reason},
    )
    employment.refresh_from_db()
    return employment


@transaction.atomic
def add_employment_by_id_number(
    enterprise: Enterprise,
    *,
    name: str,
    id_number: str,
    phone: str = "",
    kind: str,
    start_on: date,
    dispatcher_name: str = "",
    dispatcher_uscc: str = "",
    by: User,
) -> Employment:
    """The roster form: find the person by ID number (blind index) or register them through
    people.services.create_person in the enterprise's region, then add the period. A known
    person's registered name must match what was typed.

    Raises NotAllowed, NotInScope, InvalidInput (name, id_number, phone, kind, dates,
    dispatcher), Conflict (overlap).
    """
    from zhipei.people.queries import find_person_by_id_number
    from zhipei.people.services import create_person

    require_enterprise_admin(by, enterprise)
    person = find_person_by_id_number(id_number)
    if person is None:
        person = create_person(
            name=name,
            id_number=id_number,
            region=enterprise.organisation.region,
            phone=phone,
            by=by,
        )
    elif person.name != name.strip():
        raise InvalidInput(
            _("The name does not match the name registered for this ID number."), field="name"
        )
    return insert_employment(
        enterprise,
        person,
        kind=kind,
        start_on=start_on,
        dispatcher_name=dispatcher_name,
        dispatcher_uscc=dispatcher_uscc,
        by=by,
    )
