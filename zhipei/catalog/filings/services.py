"""Every write of the online approval or filing workflow (线上审批或备案, R20).

Organisation staff create and edit a draft, attach documents and submit; labour officers at
the responsible level review: approve, return for correction (the filer edits and submits
again) or reject; the filer may withdraw until a decision. Statuses move only through `_move`
(compare-and-swap on the status, one audit event in the same transaction; STYLE §5).

    draft     → submitted, withdrawn
    submitted → approved, returned, rejected, withdrawn
    returned  → submitted, withdrawn
    approved, rejected, withdrawn: final

A deadline job (tasks.py → send_due_reminders) reminds the reviewing officers of filings whose
review deadline approaches or has passed.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.accounts.queries import LEVEL_RANK
from zhipei.accounts.services import require_role
from zhipei.audit.services import record
from zhipei.catalog.catalogues.services import SOURCE_FILING, enter_institution_catalogue
from zhipei.catalog.filings.kinds import KINDS, FilingKind
from zhipei.catalog.models import Filing, Upload
from zhipei.catalog.uploads import store_upload
from zhipei.core.errors import (
    InvalidInput,
    NotAllowed,
    NotInScope,
    OnHold,
    StaleObject,
    TransitionNotAllowed,
)
from zhipei.occupations.models import Occupation
from zhipei.orgs.models import Organisation
from zhipei.orgs.queries import has_active_hold
from zhipei.regions.models import Region

S = Filing.Status

ALLOWED: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
    S.SUBMITTED: {S.APPROVED, S.RETURNED, S.REJECTED, S.WITHDRAWN},
    S.RETURNED: {S.SUBMITTED, S.WITHDRAWN},
}  # approved, rejected and withdrawn are final

EDITABLE = frozenset({S.DRAFT, S.RETURNED})
NOTE_MAX_LENGTH = 2000
TITLE_MAX_LENGTH = 200


class FilingDataInvalid(InvalidInput):
    """The filing's fields (or its attachments) do not satisfy its kind; `errors` gives every
    problem by field name ("attachments" for missing documents)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        first_field = next(iter(errors))
        super().__init__(errors[first_field][0], field=first_field)


class OwnOrganisation(NotAllowed):
    """An officer may not decide a filing of an organisation they work for."""

    code = "own_organisation"
    default_message = _("You may not review a filing of an organisation you work for.")


# --- Routing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Routing:
    """Where a filing is reviewed and why: `exact` is False when the responsible level does not
    exist above the filer's region (e.g. 仙桃市, a county-level city directly under the
    province, has no city above it) or has no labour officers, and the filing went to the
    nearest region above that has some."""

    region: Region
    responsible_level: str
    exact: bool


def _chain(region: Region) -> list[Region]:
    """`region` and the regions above it, nearest first (at most three levels)."""
    chain = [Region.objects.select_related("parent__parent").get(pk=region.pk)]
    while chain[-1].parent_id is not None and len(chain) < 5:
        parent = chain[-1].parent
        assert parent is not None
        chain.append(parent)
    return chain


def _regions_with_officers(regions: list[Region]) -> set[int]:
    return set(
        RoleAssignment.objects.filter(
            role=Role.LABOUR_OFFICER, revoked_at__isnull=True, region__in=regions
        ).values_list("region_id", flat=True)
    )


def route_review_region(region: Region, level: str) -> Routing:
    """The region whose labour officers review a filing from `region` at the responsible
    `level`: the region at that level above (or equal to) `region`; where the chain has no such
    level, or nobody holds the labour-officer role there, the nearest region above it that has
    labour officers; failing all, the top of the chain (the province)."""
    target_rank = LEVEL_RANK[level]
    candidates = [r for r in _chain(region) if LEVEL_RANK.get(r.level, 99) <= target_rank]
    if not candidates:  # the filer's region sits above the level (cannot happen for a chain)
        candidates = [region]
    staffed = _regions_with_officers(candidates)
    for candidate in candidates:
        if candidate.pk in staffed:
            return Routing(candidate, level, exact=candidate.level == level)
    return Routing(candidates[-1], level, exact=candidates[-1].level == level)


# --- Helpers -----------------------------------------------------------------------------------


def _kind_of(filing: Filing) -> FilingKind:
    kind = KINDS.get(filing.kind)
    if kind is None:  # a kind removed from code while filings of it remain
        raise InvalidInput(_("Unknown kind of filing."), field="kind")
    return kind


def require_filer(by: User, organisation: Organisation, kind: FilingKind) -> None:
    """`by` works for `organisation` in one of the kind's filer roles, and the organisation
    acts in one of the kind's capacities. Raises NotAllowed (no such role at all, or the
    organisation lacks the capacity) or NotInScope (the role is for another organisation)."""
    if not by.is_authenticated or not by.is_active:
        raise NotAllowed()
    held = set(
        RoleAssignment.objects.filter(
            user=by, role__in=kind.filer_roles, revoked_at__isnull=True
        ).values_list("organisation_id", flat=True)
    )
    if not held:
        raise NotAllowed()
    if organisation.pk not in held:
        raise NotInScope()
    if not set(organisation.capacities()) & kind.filer_capacities:
        raise NotAllowed(
            _("This organisation is not registered in a capacity that files this kind.")
        )


def _require_reviewer(filing: Filing, by: User) -> None:
    """A labour officer at the review region's own level whose scope covers it, who works for
    no role of the filing organisation."""
    review_region = filing.review_region
    require_role(by, Role.LABOUR_OFFICER, region=review_region, level=review_region.level)
    if RoleAssignment.objects.filter(
        user=by, organisation_id=filing.organisation_id, revoked_at__isnull=True
    ).exists():
        raise OwnOrganisation()


def _clean_note(note: str, *, required: bool) -> str:
    note = (note or "").strip()
    if required and not note:
        raise InvalidInput(_("Say what must be corrected or why."), field="note")
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(
            _("The note is longer than %(n)d characters.") % {"n": NOTE_MAX_LENGTH}, field="note"
        )
    return note


def _title(kind: FilingKind, data: Mapping[str, Any], organisation: Organisation) -> str:
    return (kind.title(data) or organisation.name)[:TITLE_MAX_LENGTH]


def _new_reference(kind: FilingKind, now: datetime) -> str:
    # e.g. TRA-20260315-9F3A61C2; 32 random bits per day and kind, checked by the unique index.
    return (
        f"{kind.code[:3].upper()}-{timezone.localdate(now):%Y%m%d}-{secrets.token_hex(4).upper()}"
    )


def _move(
    filing: Filing,
    to: str,
    *,
    by: User | None,
    note: str = "",
    fields: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> Filing:
    expected = filing.status
    if to not in ALLOWED.get(expected, set()):
        raise TransitionNotAllowed(expected, to)
    now = timezone.now()
    changes = {"status": to, "status_changed_at": now, **(fields or {})}
    changed = Filing.objects.filter(pk=filing.pk, status=expected).update(**changes)
    if changed != 1:
        raise StaleObject()
    record(
        "catalog.filing." + to,
        actor=by,
        obj=filing,
        region_code=filing.region.code,
        data={
            "reference": filing.reference,
            "kind": filing.kind,
            "from": expected,
            "to": to,
            "note": note,
            **(data or {}),
        },
    )
    filing.refresh_from_db()
    return filing


# --- Organisation staff ------------------------------------------------------------------------


@transaction.atomic
def create_filing(
    organisation: Organisation, *, kind: str, data: Mapping[str, Any], by: User
) -> Filing:
    """A draft filing of `kind` for `organisation`. Fields given must be valid (empty ones may
    wait until submission). The review region is routed now and again on submission.

    Raises InvalidInput (unknown kind), FilingDataInvalid, NotAllowed, NotInScope.
    """
    filing_kind = KINDS.get(kind)
    if filing_kind is None:
        raise InvalidInput(_("Unknown kind of filing."), field="kind")
    require_filer(by, organisation, filing_kind)
    cleaned, errors = filing_kind.clean(data, partial=True)
    if errors:
        raise FilingDataInvalid(errors)
    routing = route_review_region(organisation.region, filing_kind.review_level)
    now = timezone.now()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                filing = Filing.objects.create(
                    kind=kind,
                    reference=_new_reference(filing_kind, now),
                    organisation=organisation,
                    region=organisation.region,
                    review_region=routing.region,
                    title=_title(filing_kind, cleaned, organisation),
                    data=cleaned,
                    status=S.DRAFT,
                    status_changed_at=now,
                    created_by=by,
                    created_at=now,
                )
            break
        except IntegrityError:  # the random reference was taken; draw again
            continue
    else:  # pragma: no cover - three collisions of 32 random bits
        raise StaleObject()
    record(
        "catalog.filing.created",
        actor=by,
        obj=filing,
        region_code=organisation.region.code,
        data={
            "reference": filing.reference,
            "kind": kind,
            "review_region": routing.region.code,
            "responsible_level": routing.responsible_level,
            "routed_exactly": routing.exact,
            "fields": sorted(cleaned),
        },
    )
    return filing


@transaction.atomic
def update_filing(filing: Filing, *, data: Mapping[str, Any], by: User) -> Filing:
    """Replace the fields of a draft or returned filing (same rules as create_filing).

    Raises FilingDataInvalid, NotAllowed, NotInScope, TransitionNotAllowed (already submitted
    or decided), StaleObject (it moved since it was loaded).
    """
    kind = _kind_of(filing)
    require_filer(by, filing.organisation, kind)
    if filing.status not in EDITABLE:
        raise TransitionNotAllowed(filing.status, filing.status)
    cleaned, errors = kind.clean(data, partial=True)
    if errors:
        raise FilingDataInvalid(errors)
    changed = Filing.objects.filter(pk=filing.pk, status=filing.status).update(
        data=cleaned, title=_title(kind, cleaned, filing.organisation)
    )
    if changed != 1:
        raise StaleObject()
    record(
        "catalog.filing.edited",
        actor=by,
        obj=filing,
        region_code=filing.region.code,
        data={"reference": filing.reference, "fields": sorted(cleaned)},
    )
    filing.refresh_from_db()
    return filing


@transaction.atomic
def attach_document(filing: Filing, file: UploadedFile, *, kind: str, by: User) -> Upload:
    """Attach a document (checked by zhipei.catalog.uploads.store_upload: type from the
    content, size) to a draft or returned filing.

    Raises InvalidInput (field "file" or "kind"), NotAllowed, NotInScope, TransitionNotAllowed.
    """
    require_filer(by, filing.organisation, _kind_of(filing))
    if filing.status not in EDITABLE:
        raise TransitionNotAllowed(filing.status, filing.status)
    return store_upload(file, kind=kind, by=by, filing=filing)


@transaction.atomic
def remove_document(upload: Upload, *, by: User) -> None:
    """Take a document off a draft or returned filing. Raises NotAllowed, NotInScope,
    TransitionNotAllowed."""
    filing = upload.filing
    if filing is None:
        raise NotInScope()
    require_filer(by, filing.organisation, _kind_of(filing))
    if filing.status not in EDITABLE:
        raise TransitionNotAllowed(filing.status, filing.status)
    record(
        "catalog.upload.removed",
        actor=by,
        obj=upload,
        region_code=filing.region.code,
        data={"filing": filing.pk, "kind": upload.kind, "sha256": upload.sha256},
    )
    upload.delete()


def check_complete(filing: Filing) -> dict[str, list[str]]:
    """Everything that keeps `filing` from being submitted, by field (empty when complete)."""
    kind = _kind_of(filing)
    cleaned, errors = kind.clean(filing.data, partial=False)
    present = set(filing.attachments.values_list("kind", flat=True))
    missing = [k for k in kind.required_attachments if k not in present]
    if missing:
        labels = ", ".join(str(Upload.Kind(k).label) for k in missing)
        errors["attachments"] = [str(_("Attach: %(kinds)s.") % {"kinds": labels})]
    for field_name, message in kind.rules(cleaned, present).items():
        errors.setdefault(field_name, []).append(message)
    return errors


@transaction.atomic
def submit_filing(filing: Filing, *, by: User) -> Filing:
    """Submit a draft, or resubmit a returned filing after correction: every field and every
    required attachment must be there. Starts the review deadline (`due_at`, the kind's days
    from now) and routes the filing again (officers may have been appointed since).

    Raises FilingDataInvalid, NotAllowed, NotInScope, TransitionNotAllowed, StaleObject.
    """
    kind = _kind_of(filing)
    require_filer(by, filing.organisation, kind)
    if filing.status == S.SUBMITTED:
        return filing  # a replayed submission
    if filing.status not in ALLOWED or S.SUBMITTED not in ALLOWED[filing.status]:
        raise TransitionNotAllowed(filing.status, S.SUBMITTED)
    errors = check_complete(filing)
    if errors:
        raise FilingDataInvalid(errors)
    routing = route_review_region(filing.region, kind.review_level)
    now = timezone.now()
    due_at = now + timedelta(days=kind.deadline_days)
    return _move(
        filing,
        S.SUBMITTED,
        by=by,
        fields={
            "submitted_at": now,
            "due_at": due_at,
            "reminded_at": None,
            "review_region": routing.region,
        },
        data={
            "due_at": due_at,
            "review_region": routing.region.code,
            "responsible_level": routing.responsible_level,
            "routed_exactly": routing.exact,
        },
    )


@transaction.atomic
def withdraw_filing(filing: Filing, *, by: User) -> Filing:
    """The filer withdraws a filing not yet decided. Raises NotAllowed, NotInScope,
    TransitionNotAllowed, StaleObject."""
    require_filer(by, filing.organisation, _kind_of(filing))
    if filing.status == S.WITHDRAWN:
        return filing
    return _move(filing, S.WITHDRAWN, by=by)


# --- Reviewing officers ------------------------------------------------------------------------


def _decide(
    filing: Filing, to: str, *, by: User, note: str, note_required: bool, check_hold: bool = False
) -> Filing:
    _require_reviewer(filing, by)
    if filing.status == to:
        return filing  # a replayed decision
    if check_hold and has_active_hold(filing.organisation):
        raise OnHold()
    note = _clean_note(note, required=note_required)
    if to not in ALLOWED.get(filing.status, set()):
        raise TransitionNotAllowed(filing.status, to)
    return _move(
        filing,
        to,
        by=by,
        note=note,
        fields={"decided_at": timezone.now(), "decided_by": by, "decision_note": note},
    )


@transaction.atomic
def approve_filing(filing: Filing, *, by: User, note: str = "") -> Filing:
    """A labour officer at the responsible level approves a submitted filing. An approved
    training-institution filing enters the review region's institution catalogue (R16,
    source "filing").

    Raises NotAllowed, NotInScope, OwnOrganisation, OnHold, TransitionNotAllowed, StaleObject.
    """
    already = filing.status == S.APPROVED
    filing = _decide(filing, S.APPROVED, by=by, note=note, note_required=False, check_hold=True)
    if filing.kind == "training_institution" and not already:
        _enter_catalogue(filing, by=by)
    return filing


def _enter_catalogue(filing: Filing, *, by: User) -> None:
    codes = [p["code"] for p in filing.data.get("projects", [])]
    enter_institution_catalogue(
        filing.organisation,
        region=filing.review_region,
        nature=filing.data["nature"],
        occupations=Occupation.objects.filter(code__in=codes),
        valid_from=timezone.localdate(),
        source=SOURCE_FILING,
        source_ref=filing.reference,
        by=by,
        address=filing.data.get("address", ""),
    )


@transaction.atomic
def return_filing(filing: Filing, *, by: User, note: str) -> Filing:
    """Return a submitted filing for correction; the note says what to correct.

    Raises InvalidInput (field "note"), NotAllowed, NotInScope, OwnOrganisation,
    TransitionNotAllowed, StaleObject.
    """
    return _decide(filing, S.RETURNED, by=by, note=note, note_required=True)


@transaction.atomic
def reject_filing(filing: Filing, *, by: User, note: str) -> Filing:
    """Reject a submitted filing, saying why.

    Raises InvalidInput (field "note"), NotAllowed, NotInScope, OwnOrganisation,
    TransitionNotAllowed, StaleObject.
    """
    return _decide(filing, S.REJECTED, by=by, note=note, note_required=True)


# --- Deadlines ---------------------------------------------------------------------------------


def reminder_due(filing: Filing, kind: FilingKind, now: datetime) -> bool:
    """A submitted filing is reminded once when its deadline comes within the kind's lead time,
    and once more when the deadline has passed."""
    if filing.status != S.SUBMITTED or filing.due_at is None:
        return False
    lead = timedelta(days=kind.reminder_lead_days)
    if filing.reminded_at is None:
        return filing.due_at - lead <= now
    return filing.due_at <= now and filing.reminded_at < filing.due_at


def send_due_reminders(*, now: datetime | None = None) -> int:
    """Remind the reviewing officers of submitted filings whose deadline approaches or has
    passed: records `reminded_at` and an audit event per filing (the officers' filings page
    lists reminded filings as notices). Each filing is claimed by compare-and-swap on
    `reminded_at`, so concurrent runs remind once. Returns how many were reminded."""
    now = now or timezone.now()
    sent = 0
    for kind in KINDS.values():
        lead = timedelta(days=kind.reminder_lead_days)
        candidates = Filing.objects.filter(
            kind=kind.code, status=S.SUBMITTED, due_at__lte=now + lead
        ).filter(Q(reminded_at__isnull=True) | Q(due_at__lte=now, reminded_at__lt=F("due_at")))
        for filing in candidates.select_related("region", "review_region"):
            if not reminder_due(filing, kind, now):
                continue
            with transaction.atomic():
                claimed = Filing.objects.filter(
                    pk=filing.pk, status=S.SUBMITTED, reminded_at=filing.reminded_at
                ).update(reminded_at=now)
                if claimed != 1:
                    continue
                assert filing.due_at is not None
                record(
                    "catalog.filing.reminded",
                    actor=None,
                    obj=filing,
                    region_code=filing.review_region.code,
                    data={
                        "reference": filing.reference,
                        "due_at": filing.due_at,
                        "overdue": filing.due_at <= now,
                        "review_region": filing.review_region.code,
                    },
                )
            sent += 1
    return sent
