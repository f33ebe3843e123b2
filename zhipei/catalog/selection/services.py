"""Call for platforms and selection (征集遴选, R8): every state change, as explicit state
machines (STYLE §5): the call, each application, and the selected platform's listing.

    call:         draft → open → reviewing → decided → published
    application:  draft → submitted → under_review → selected | not_selected
                  draft, submitted → withdrawn;  selected ⇄ not_selected until published
    platform:     registered → selected → suspended → selected (reinstated)
                  selected, suspended → removed;  removed → selected (a later call)

Actors:
- Calls are run by labour officers at province or prefecture (city) level whose region
  subtree contains the call's region.
- Applicants are users holding the platform_operator role for the applying organisation.
  An organisation without an account is onboarded the existing way: a labour officer
  registers it (orgs.services.register_organisation) and a system administrator grants the
  applicant's user the platform_operator role for it. The organisation need not be a
  platform yet: publishing a selection adds the capacity. Its region must lie inside the
  call's region (a call selects the platforms of its own area), so every officer who may run
  the call may also act on the organisation through orgs.services.
- Reviewers are labour officers whose region lies inside the call's region or covers it.
  Each scores alone; a reviewer sees the others' scores only after submitting (queries.py).

Decisions need `call.reviewers_required` submitted reviews without a declared conflict.
There is deliberately no override: if reviewers drop out or declare conflicts, the officer
assigns more. Decisions may be revised until the results are published. Publishing is the
public act: only then does a selected organisation become a selected Platform, appear on the
public list (PlatformListing, dated the publication day), enter the region's institution
catalogue (R16) and receive its first API credential, whose secret is returned once to the
publishing officer to hand over — as on the organisation page, where officers issue, rotate
and revoke credentials (ARCHITECTURE "Platform API").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.accounts.scope import officer_prefixes
from zhipei.audit.services import record
from zhipei.catalog.catalogues import services as catalogues
from zhipei.catalog.models import (
    Criterion,
    InstitutionCatalogueEntry,
    PlatformApplication,
    PlatformCall,
    PlatformListing,
    Review,
    ReviewScore,
    RubricItem,
    Upload,
)
from zhipei.catalog.selection.inputs import (
    ApplicationData,
    CallData,
    RubricItemData,  # noqa: F401  (callers import it here)
    clean_application,
    clean_reason,
    clean_rubric,
    clean_text,
)
from zhipei.catalog.uploads import store_upload
from zhipei.core.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotInScope,
    OnHold,
    StaleObject,
    TransitionNotAllowed,
)
from zhipei.orgs import services as orgs
from zhipei.orgs.models import Capacity, Organisation, Platform, PlatformCredential
from zhipei.orgs.queries import has_active_hold
from zhipei.regions.models import Region

C = PlatformCall.Status
A = PlatformApplication.Status
P = Platform.Status
E = PlatformListing.Event

CALL_ALLOWED: dict[str, set[str]] = {
    C.DRAFT: {C.OPEN},
    C.OPEN: {C.REVIEWING},
    C.REVIEWING: {C.DECIDED},
    C.DECIDED: {C.PUBLISHED},
}  # published is final

APPLICATION_ALLOWED: dict[str, set[str]] = {
    A.DRAFT: {A.SUBMITTED, A.WITHDRAWN},
    A.SUBMITTED: {A.UNDER_REVIEW, A.WITHDRAWN},
    A.UNDER_REVIEW: {A.SELECTED, A.NOT_SELECTED},
    # A decision may be revised until the call's results are published (decide() checks).
    A.SELECTED: {A.NOT_SELECTED},
    A.NOT_SELECTED: {A.SELECTED},
}  # withdrawn is final

PLATFORM_ALLOWED: dict[str, set[str]] = {
    P.REGISTERED: {P.SELECTED},
    P.SELECTED: {P.SUSPENDED, P.REMOVED},
    P.SUSPENDED: {P.SELECTED, P.REMOVED},
    P.REMOVED: {P.SELECTED},
}

CALL_LEVELS = frozenset({Region.Level.PROVINCE, Region.Level.PREFECTURE})
LABOUR = frozenset({Role.LABOUR_OFFICER})
DECISIONS = frozenset({A.SELECTED, A.NOT_SELECTED})
# Uploads a submitted application must carry.
REQUIRED_DOCUMENTS = (Upload.Kind.BUSINESS_LICENCE,)
MAX_DOCUMENTS = 20


# --- Results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedCredential:
    """A credential issued on publication; `secret` exists only in this object."""

    platform: Platform
    credential: PlatformCredential
    secret: str


@dataclass
class PublishedResults:
    call: PlatformCall
    selected: list[PlatformApplication] = field(default_factory=list)
    issued: list[IssuedCredential] = field(default_factory=list)


# --- Permissions ------------------------------------------------------------------------------


def _require_active(by: User) -> None:
    if not by.is_authenticated or not by.is_active:
        raise NotAllowed()


def require_call_officer(by: User, region: Region) -> None:
    """A labour officer at province or prefecture level whose subtree contains `region`.
    Raises NotAllowed (no such role at those levels) or NotInScope (another area)."""
    _require_active(by)
    prefixes = list(
        RoleAssignment.objects.filter(
            user=by,
            role=Role.LABOUR_OFFICER,
            revoked_at__isnull=True,
            region__level__in=CALL_LEVELS,
        ).values_list("region__scope_prefix", flat=True)
    )
    if not prefixes:
        raise NotAllowed(_("Only a province or city labour officer runs calls for platforms."))
    if not any(region.scope_prefix.startswith(prefix) for prefix in prefixes):
        raise NotInScope()


def is_eligible_reviewer(user: User, call: PlatformCall) -> bool:
    """A labour officer whose region lies inside the call's region or covers it."""
    call_prefix = call.region.scope_prefix
    return any(
        prefix.startswith(call_prefix) or call_prefix.startswith(prefix)
        for prefix in officer_prefixes(user, roles=LABOUR)
    )


def require_operator(by: User, organisation: Organisation) -> None:
    """A platform operator of `organisation`: NotAllowed without the role, NotInScope for
    another organisation's."""
    _require_active(by)
    organisations = set(
        RoleAssignment.objects.filter(
            user=by, role=Role.PLATFORM_OPERATOR, revoked_at__isnull=True
        ).values_list("organisation_id", flat=True)
    )
    if not organisations:
        raise NotAllowed(_("Only a platform operator applies to a call."))
    if organisation.pk not in organisations:
        raise NotInScope()


# --- The one mover ----------------------------------------------------------------------------

Stateful = TypeVar("Stateful", PlatformCall, PlatformApplication, Platform)


def _move(
    obj: Stateful,
    to: str,
    *,
    allowed: Mapping[str, set[str]],
    action: str,
    by: User | None,
    region_code: str,
    data: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Stateful:
    """Compare-and-swap `obj.status` from the status this copy holds to `to`, with `extra`
    fields, and audit it in the same transaction. A replay of the state the copy is already in
    returns it unchanged. Raises TransitionNotAllowed or StaleObject (someone moved it)."""
    expected = obj.status
    if expected == to:
        return obj
    if to not in allowed.get(expected, set()):
        raise TransitionNotAllowed(expected, to)
    values: dict[str, Any] = {"status": to, **(extra or {})}
    if hasattr(obj, "status_changed_at"):
        values["status_changed_at"] = timezone.now()
    model: type[models.Model] = type(obj)
    changed = model._default_manager.filter(pk=obj.pk, status=expected).update(**values)
    if changed != 1:
        raise StaleObject()
    for name, value in values.items():
        setattr(obj, name, value)
    record(
        f"{action}.{to}",
        actor=by,
        obj=obj,
        region_code=region_code,
        data={"from": expected, "to": to, **(data or {})},
    )
    return obj


def _move_call(call: PlatformCall, to: str, *, by: User, **kwargs: Any) -> PlatformCall:
    return _move(
        call,
        to,
        allowed=CALL_ALLOWED,
        action="catalog.call",
        by=by,
        region_code=call.region.code,
        **kwargs,
    )


def _move_application(
    application: PlatformApplication, to: str, *, by: User, **kwargs: Any
) -> PlatformApplication:
    return _move(
        application,
        to,
        allowed=APPLICATION_ALLOWED,
        action="catalog.application",
        by=by,
        region_code=application.call.region.code,
        **kwargs,
    )


def _move_platform(
    platform: Platform, to: str, *, by: User, region: Region, reason: str, call: PlatformCall | None
) -> Platform:
    return _move(
        platform,
        to,
        allowed=PLATFORM_ALLOWED,
        action="catalog.platform",
        by=by,
        region_code=region.code,
        data={"reason": reason, "call": call.pk if call is not None else None},
    )


def _before_deadline(call: PlatformCall, *, now: datetime | None = None) -> None:
    """Applications are taken only while the call is open and before its deadline."""
    now = now or timezone.now()
    if call.status != C.OPEN:
        raise Conflict(_("This call is not open for applications."), field="call")
    if now < call.opens_at:
        raise Conflict(
            _("This call takes applications from %(when)s.")
            % {"when": timezone.localtime(call.opens_at).strftime("%Y-%m-%d %H:%M")},
            field="call",
        )
    if now >= call.closes_at:
        raise Conflict(
            _("The deadline of this call (%(when)s) has passed; nothing was saved.")
            % {"when": timezone.localtime(call.closes_at).strftime("%Y-%m-%d %H:%M")},
            field="call",
        )


def _require_draft(application: PlatformApplication) -> None:
    if application.status != A.DRAFT:
        raise Conflict(
            _("Only a draft application can be changed; this one is %(status)s.")
            % {"status": A(application.status).label},
        )


# --- Calls ------------------------------------------------------------------------------------


@transaction.atomic
def create_call(data: CallData, *, by: User) -> PlatformCall:
    """Create a draft call with its six-criterion rubric. Raises NotAllowed, NotInScope,
    InvalidInput (field named: title, criteria, closes_at, reviewers_required, rubric…)."""
    require_call_officer(by, data.region)
    if data.region.level not in CALL_LEVELS:
        raise InvalidInput(
            _("A call is issued for a province or a city, not a county."), field="region"
        )
    if not data.region.is_current:
        raise InvalidInput(_("This region code is no longer in force."), field="region")
    title = clean_text(data.title, field="title", label=_("Title"), max_length=200)
    criteria = clean_text(data.criteria, field="criteria", label=_("Criteria"), max_length=10000)
    description = clean_text(
        data.description,
        field="description",
        label=_("Description"),
        max_length=10000,
        required=False,
    )
    if data.closes_at <= data.opens_at:
        raise InvalidInput(_("The deadline must come after the opening."), field="closes_at")
    if data.closes_at <= timezone.now():
        raise InvalidInput(_("The deadline must lie in the future."), field="closes_at")
    if not 1 <= data.reviewers_required <= 20:
        raise InvalidInput(
            _("The number of reviewers must be from 1 to 20."), field="reviewers_required"
        )
    rubric = clean_rubric(data.rubric)
    now = timezone.now()
    call = PlatformCall.objects.create(
        region=data.region,
        title=title,
        description=description,
        criteria=criteria,
        opens_at=data.opens_at,
        closes_at=data.closes_at,
        reviewers_required=data.reviewers_required,
        status=C.DRAFT,
        status_changed_at=now,
        created_by=by,
        created_at=now,
    )
    RubricItem.objects.bulk_create(
        RubricItem(
            call=call,
            criterion=item.criterion,
            weight=item.weight,
            max_score=item.max_score,
            guidance=(item.guidance or "").strip()[:2000],
        )
        for item in rubric
    )
    record(
        "catalog.call.created",
        actor=by,
        obj=call,
        region_code=data.region.code,
        data={
            "title": title,
            "opens_at": data.opens_at,
            "closes_at": data.closes_at,
            "reviewers_required": data.reviewers_required,
            "rubric": [
                {"criterion": i.criterion, "weight": i.weight, "max_score": i.max_score}
                for i in rubric
            ],
        },
    )
    return call


@transaction.atomic
def open_call(call: PlatformCall, *, by: User) -> PlatformCall:
    """draft → open: platforms may apply from `opens_at` until `closes_at`. Raises NotAllowed,
    NotInScope, Conflict (deadline already passed), TransitionNotAllowed, StaleObject."""
    require_call_officer(by, call.region)
    if call.status == C.DRAFT and call.closes_at <= timezone.now():
        raise Conflict(_("The deadline of this call has passed; it cannot be opened."))
    return _move_call(call, C.OPEN, by=by)


@transaction.atomic
def start_review(call: PlatformCall, *, by: User) -> PlatformCall:
    """open → reviewing, once the deadline has passed: every submitted application goes
    under review (drafts stay drafts: they missed the deadline). A call that received no
    submitted application moves straight on to decided. Raises NotAllowed, NotInScope,
    Conflict (before the deadline), TransitionNotAllowed, StaleObject."""
    require_call_officer(by, call.region)
    if call.status == C.OPEN and timezone.now() < call.closes_at:
        raise Conflict(
            _("Review starts after the deadline (%(when)s).")
            % {"when": timezone.localtime(call.closes_at).strftime("%Y-%m-%d %H:%M")}
        )
    if call.status != C.OPEN:
        return _move_call(call, C.REVIEWING, by=by)
    call = _move_call(call, C.REVIEWING, by=by)
    submitted = list(
        PlatformApplication.objects.filter(call=call, status=A.SUBMITTED).order_by("pk")
    )
    for application in submitted:
        application.call = call
        _move_application(application, A.UNDER_REVIEW, by=by)
    if not submitted:
        _move_call(call, C.DECIDED, by=by, data={"note": "no application was submitted"})
    return call


@transaction.atomic
def publish_results(call: PlatformCall, *, by: User) -> PublishedResults:
    """decided → published; `published_at` is the public date of the results. For each
    selected application: its organisation becomes a Platform (capacity added if needed) with
    status selected, a 'selected' PlatformListing dated today, an entry of the call region's
    institution catalogue (source "selection", source_ref the application id) and — if it
    holds no active credential — its first API credential, whose secret is returned once in
    the result and never stored in clear.

    Raises NotAllowed, NotInScope, OnHold (a selected organisation is on hold: revise the
    decision or wait for the hold to be lifted), TransitionNotAllowed, StaleObject.
    """
    require_call_officer(by, call.region)
    if call.status == C.PUBLISHED:
        return PublishedResults(call=call)
    selected = list(
        PlatformApplication.objects.filter(call=call, status=A.SELECTED)
        .select_related("organisation__region")
        .prefetch_related("offered_occupations")
        .order_by("pk")
    )
    for application in selected:
        if has_active_hold(application.organisation):
            raise OnHold(
                _(
                    "%(name)s is on hold; it cannot be published as selected. Revise the "
                    "decision or wait until the hold is lifted."
                )
                % {"name": application.organisation.name}
            )
    now = timezone.now()
    today = timezone.localdate(now)
    call = _move_call(call, C.PUBLISHED, by=by, extra={"published_at": now})
    results = PublishedResults(call=call)
    for application in selected:
        application.call = call
        issued = _make_selected(application, by=by, on=today)
        results.selected.append(application)
        if issued is not None:
            results.issued.append(issued)
    return results


def _make_selected(
    application: PlatformApplication, *, by: User, on: date
) -> IssuedCredential | None:
    call = application.call
    organisation = application.organisation
    if not Platform.objects.filter(organisation=organisation).exists():
        orgs.add_capacity(
            organisation, capacity=Capacity.PLATFORM, website=application.website, by=by
        )
    platform = Platform.objects.select_related("organisation__region").get(
        organisation=organisation
    )
    _move_platform(platform, P.SELECTED, by=by, region=call.region, reason="", call=call)
    _add_listing(platform, E.SELECTED, region=call.region, call=call, by=by, reason="", on=on)
    catalogues.enter_institution_catalogue(
        organisation,
        region=call.region,
        nature=InstitutionCatalogueEntry.Nature.ONLINE_PLATFORM,
        occupations=list(application.offered_occupations.all()),
        valid_from=on,
        source="selection",
        source_ref=str(application.pk),
        by=by,
    )
    if PlatformCredential.objects.filter(platform=platform, revoked_at__isnull=True).exists():
        return None
    credential, secret = orgs.issue_credential(platform, by=by, label=str(_("Issued on selection")))
    return IssuedCredential(platform=platform, credential=credential, secret=secret)


def _add_listing(
    platform: Platform,
    event: str,
    *,
    region: Region,
    call: PlatformCall | None,
    by: User,
    reason: str,
    on: date,
) -> PlatformListing:
    return PlatformListing.objects.create(
        platform=platform,
        region=region,
        call=call,
        event=event,
        reason=reason,
        on=on,
        recorded_by=by,
        recorded_at=timezone.now(),
    )


# --- Applications -----------------------------------------------------------------------------


@transaction.atomic
def create_application(
    call: PlatformCall, *, organisation: Organisation, data: ApplicationData, by: User
) -> PlatformApplication:
    """A platform operator starts a draft application of their organisation to an open call,
    before its deadline. Raises NotAllowed, NotInScope (not their organisation), Conflict
    (call not open, deadline passed, organisation outside the call's region, already
    applied), InvalidInput (field named)."""
    require_operator(by, organisation)
    _before_deadline(call)
    if not organisation.region.scope_prefix.startswith(call.region.scope_prefix):
        raise Conflict(
            _("This call is for organisations registered in %(region)s.")
            % {"region": call.region.name},
            field="call",
        )
    fields, occupations = clean_application(data)
    if (
        PlatformApplication.objects.filter(call=call, organisation=organisation)
        .exclude(status=A.WITHDRAWN)
        .exists()
    ):
        raise Conflict(_("Your organisation has already applied to this call."), field="call")
    now = timezone.now()
    try:
        with transaction.atomic():
            application = PlatformApplication.objects.create(
                call=call,
                organisation=organisation,
                status=A.DRAFT,
                status_changed_at=now,
                created_by=by,
                created_at=now,
                **fields,
            )
    except IntegrityError:
        raise Conflict(
            _("Your organisation has already applied to this call."), field="call"
        ) from None
    application.offered_occupations.set(occupations)
    record(
        "catalog.application.created",
        actor=by,
        obj=application,
        region_code=call.region.code,
        data={
            "call": call.pk,
            "organisation": organisation.pk,
            "occupations": [o.code for o in occupations],
        },
    )
    return application


@transaction.atomic
def update_application(
    application: PlatformApplication, *, data: ApplicationData, by: User
) -> PlatformApplication:
    """Change a draft before the deadline. Raises NotAllowed, NotInScope, Conflict (not a
    draft, deadline passed), InvalidInput."""
    require_operator(by, application.organisation)
    _require_draft(application)
    _before_deadline(application.call)
    fields, occupations = clean_application(data)
    changed = PlatformApplication.objects.filter(pk=application.pk, status=A.DRAFT).update(**fields)
    if changed != 1:
        raise StaleObject()
    for name, value in fields.items():
        setattr(application, name, value)
    application.offered_occupations.set(occupations)
    record(
        "catalog.application.updated",
        actor=by,
        obj=application,
        region_code=application.call.region.code,
        data={"occupations": [o.code for o in occupations]},
    )
    return application


@transaction.atomic
def add_document(
    application: PlatformApplication, file: UploadedFile, *, kind: str, by: User
) -> Upload:
    """Attach a checked document (uploads.store_upload) to a draft before the deadline.
    Raises NotAllowed, NotInScope, Conflict (not a draft, deadline passed, too many
    documents), InvalidInput (field "file" or "kind")."""
    require_operator(by, application.organisation)
    _require_draft(application)
    _before_deadline(application.call)
    if application.documents.count() >= MAX_DOCUMENTS:
        raise Conflict(
            _("An application takes at most %(n)d documents.") % {"n": MAX_DOCUMENTS},
            field="file",
        )
    return store_upload(file, kind=kind, by=by, application=application)


@transaction.atomic
def remove_document(upload: Upload, *, by: User) -> None:
    """Remove a document from a draft before the deadline (the row goes; the event stays).
    Raises NotAllowed, NotInScope, Conflict."""
    application = upload.application
    if application is None:
        raise NotInScope()
    require_operator(by, application.organisation)
    _require_draft(application)
    _before_deadline(application.call)
    record(
        "catalog.upload.removed",
        actor=by,
        obj=upload,
        region_code=application.call.region.code,
        data={"application": application.pk, "name": upload.original_name, "sha256": upload.sha256},
    )
    stored = upload.file
    name, storage = stored.name, stored.storage
    upload.delete()
    if name:
        # Remove the file only once the row's deletion is committed.
        transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def submit_application(application: PlatformApplication, *, by: User) -> PlatformApplication:
    """draft → submitted, before the deadline, with the required documents and at least one
    occupation. After the deadline: Conflict, nothing changes. Raises NotAllowed, NotInScope,
    Conflict, InvalidInput (field "file": a required document is missing),
    TransitionNotAllowed, StaleObject."""
    require_operator(by, application.organisation)
    if application.status == A.SUBMITTED:
        return application
    if A.SUBMITTED not in APPLICATION_ALLOWED.get(application.status, set()):
        raise TransitionNotAllowed(application.status, A.SUBMITTED)
    _before_deadline(application.call)
    kinds = set(application.documents.values_list("kind", flat=True))
    missing = [Upload.Kind(k).label for k in REQUIRED_DOCUMENTS if k not in kinds]
    if missing:
        raise InvalidInput(
            _("Upload these documents before submitting: %(names)s.")
            % {"names": ", ".join(str(m) for m in missing)},
            field="file",
        )
    if not application.offered_occupations.exists():
        raise InvalidInput(
            _("Name at least one occupation the platform trains for."), field="occupation_codes"
        )
    return _move_application(
        application, A.SUBMITTED, by=by, extra={"submitted_at": timezone.now()}
    )


@transaction.atomic
def withdraw_application(application: PlatformApplication, *, by: User) -> PlatformApplication:
    """draft or submitted → withdrawn, while the call is open. Raises NotAllowed, NotInScope,
    Conflict (call no longer open), TransitionNotAllowed, StaleObject."""
    require_operator(by, application.organisation)
    if application.status != A.WITHDRAWN and application.call.status != C.OPEN:
        raise Conflict(_("The call is closed; the application can no longer be withdrawn."))
    return _move_application(application, A.WITHDRAWN, by=by)


# --- Reviews ----------------------------------------------------------------------------------


@transaction.atomic
def assign_reviewer(application: PlatformApplication, *, reviewer: User, by: User) -> Review:
    """Ask `reviewer` to review an application under review. Assigning someone already
    assigned returns their review unchanged. Raises NotAllowed, NotInScope, Conflict (not
    under review), InvalidInput (field "reviewer": not an eligible labour officer)."""
    call = application.call
    require_call_officer(by, call.region)
    if application.status != A.UNDER_REVIEW:
        raise Conflict(_("Reviewers are assigned only to applications under review."))
    if not reviewer.is_active or not is_eligible_reviewer(reviewer, call):
        raise InvalidInput(
            _("%(name)s is not a labour officer of this call's region.") % {"name": reviewer},
            field="reviewer",
        )
    existing = Review.objects.filter(application=application, reviewer=reviewer).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            review = Review.objects.create(
                application=application, reviewer=reviewer, created_at=timezone.now()
            )
    except IntegrityError:  # assigned concurrently
        return Review.objects.get(application=application, reviewer=reviewer)
    record(
        "catalog.review.assigned",
        actor=by,
        obj=review,
        region_code=call.region.code,
        data={"application": application.pk, "reviewer": reviewer.pk},
    )
    return review


@transaction.atomic
def assign_reviewers(call: PlatformCall, *, reviewers: Sequence[User], by: User) -> list[Review]:
    """Assign each of `reviewers` to every application of the call under review (already
    assigned pairs are kept). All or nothing. Raises as assign_reviewer, and InvalidInput
    (field "reviewers") when none is given."""
    require_call_officer(by, call.region)
    if not reviewers:
        raise InvalidInput(_("Choose at least one reviewer."), field="reviewers")
    if call.status != C.REVIEWING:
        raise Conflict(_("Reviewers are assigned while the call is under review."))
    reviews: list[Review] = []
    for application in PlatformApplication.objects.filter(
        call=call, status=A.UNDER_REVIEW
    ).order_by("pk"):
        application.call = call
        reviews.extend(
            assign_reviewer(application, reviewer=reviewer, by=by) for reviewer in reviewers
        )
    return reviews


def _require_reviewer(review: Review, by: User) -> None:
    _require_active(by)
    if review.reviewer_id != by.pk:
        raise NotInScope()


def _require_open_review(review: Review) -> None:
    if review.submitted_at is not None:
        raise Conflict(
            _(
                "You have already submitted your scores for this application; they cannot be "
                "changed."
            )
        )
    if review.conflict_declared:
        raise Conflict(
            _("You declared a conflict of interest for this application; you cannot score it.")
        )
    if review.application.status != A.UNDER_REVIEW:
        raise Conflict(_("This application has been decided; reviews are closed."))


@transaction.atomic
def declare_conflict(review: Review, *, note: str, by: User) -> Review:
    """The reviewer declares a conflict of interest: they will not score this application and
    do not count towards the reviews it needs. Raises NotInScope (not their review),
    Conflict (already scored or declared, application decided), InvalidInput (no note)."""
    _require_reviewer(review, by)
    _require_open_review(review)
    note = clean_text(note, field="conflict_note", label=_("Conflict of interest"), max_length=2000)
    changed = Review.objects.filter(
        pk=review.pk, submitted_at__isnull=True, conflict_declared=False
    ).update(conflict_declared=True, conflict_note=note)
    if changed != 1:
        review.refresh_from_db()
        _require_open_review(review)
        raise StaleObject()
    review.conflict_declared, review.conflict_note = True, note
    record(
        "catalog.review.conflict_declared",
        actor=by,
        obj=review,
        region_code=review.application.call.region.code,
        data={"application": review.application_id, "note": note},
    )
    return review


@transaction.atomic
def score(review: Review, *, scores: Mapping[str, int], by: User, comment: str = "") -> Review:
    """The reviewer scores every rubric item of the call (keyed by criterion) within
    0..max_score and submits, once. The total is Σ score × weight. Raises NotInScope (not
    their review), Conflict (already submitted — scoring twice —, conflict declared,
    application decided), InvalidInput (field "score_<criterion>": missing, unknown or out
    of range)."""
    _require_reviewer(review, by)
    _require_open_review(review)
    comment = clean_text(
        comment, field="comment", label=_("Comment"), max_length=5000, required=False
    )
    rubric = list(RubricItem.objects.filter(call_id=review.application.call_id).order_by("pk"))
    unknown = sorted(set(scores) - {item.criterion for item in rubric})
    if unknown:
        raise InvalidInput(
            _("Unknown criterion: %(value)s.") % {"value": ", ".join(unknown)}, field="scores"
        )
    total = 0
    rows = []
    for item in rubric:
        label = Criterion(item.criterion).label
        value = scores.get(item.criterion)
        if value is None:
            raise InvalidInput(
                _("Score “%(label)s”: every criterion needs a score.") % {"label": label},
                field=f"score_{item.criterion}",
            )
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 0 <= value <= item.max_score
        ):
            raise InvalidInput(
                _("The score of “%(label)s” must be a whole number from 0 to %(max)d.")
                % {"label": label, "max": item.max_score},
                field=f"score_{item.criterion}",
            )
        total += value * item.weight
        rows.append(ReviewScore(review=review, rubric_item=item, score=value))
    now = timezone.now()
    changed = Review.objects.filter(
        pk=review.pk, submitted_at__isnull=True, conflict_declared=False
    ).update(submitted_at=now, total_score=total, comment=comment)
    if changed != 1:
        # Submitted (or declared) meanwhile, e.g. a double click: say which.
        review.refresh_from_db()
        _require_open_review(review)
        raise StaleObject()
    ReviewScore.objects.bulk_create(rows)
    review.submitted_at, review.total_score, review.comment = now, total, comment
    record(
        "catalog.review.submitted",
        actor=by,
        obj=review,
        region_code=review.application.call.region.code,
        data={
            "application": review.application_id,
            "scores": {item.criterion: scores[item.criterion] for item in rubric},
            "total": total,
        },
    )
    return review


def counted_reviews(application: PlatformApplication) -> int:
    """Submitted reviews without a declared conflict: what a decision needs."""
    return Review.objects.filter(
        application=application, submitted_at__isnull=False, conflict_declared=False
    ).count()


# --- Decisions --------------------------------------------------------------------------------


@transaction.atomic
def decide(
    application: PlatformApplication, *, outcome: str, by: User, note: str = ""
) -> PlatformApplication:
    """The officer decides an application under review — selected or not_selected — once the
    call's required number of reviews without a conflict are submitted; a decision may be
    revised until the results are published. An organisation on hold cannot be selected.
    The call moves to decided when no application is left under review.

    Raises NotAllowed, NotInScope, InvalidInput (field "outcome"), Conflict (call published
    or not under review, too few reviews), OnHold, TransitionNotAllowed, StaleObject.
    """
    call = application.call
    require_call_officer(by, call.region)
    if outcome not in DECISIONS:
        raise InvalidInput(_("Choose selected or not selected."), field="outcome")
    note = clean_text(note, field="note", label=_("Note"), max_length=5000, required=False)
    if application.status == outcome:
        return application
    if call.status not in {C.REVIEWING, C.DECIDED}:
        raise Conflict(
            _(
                "Decisions are made while the call is under review, before the results are "
                "published."
            )
        )
    if application.status == A.UNDER_REVIEW:
        have = counted_reviews(application)
        if have < call.reviewers_required:
            raise Conflict(
                _(
                    "This application needs %(need)d submitted reviews without a conflict of "
                    "interest before it is decided; it has %(have)d. Assign more reviewers "
                    "if needed."
                )
                % {"need": call.reviewers_required, "have": have},
                field="outcome",
            )
    if outcome == A.SELECTED and has_active_hold(application.organisation):
        raise OnHold(
            _("%(name)s is on hold and cannot be selected.")
            % {"name": application.organisation.name}
        )
    application = _move_application(
        application,
        outcome,
        by=by,
        data={"note": note},
        extra={"decided_at": timezone.now(), "decided_by": by, "decision_note": note},
    )
    if (
        call.status == C.REVIEWING
        and not PlatformApplication.objects.filter(call=call, status=A.UNDER_REVIEW).exists()
    ):
        application.call = _move_call(call, C.DECIDED, by=by)
    return application


# --- The listed platform ----------------------------------------------------------------------


def _listing_region(platform: Platform) -> tuple[Region, PlatformCall | None]:
    """The region (and call) of the platform's latest selection: the list it is on."""
    listing = (
        PlatformListing.objects.filter(platform=platform, event=E.SELECTED)
        .select_related("region", "call")
        .order_by("-on", "-pk")
        .first()
    )
    if listing is None:
        raise Conflict(_("This platform was never selected through a call."))
    return listing.region, listing.call


def _change_listing(
    platform: Platform, to: str, event: str, *, reason: str, by: User
) -> tuple[Platform, Region]:
    region, _call = _listing_region(platform)
    require_call_officer(by, region)
    reason = clean_reason(reason)
    if platform.status == to:
        return platform, region
    platform = _move_platform(platform, to, by=by, region=region, reason=reason, call=None)
    _add_listing(
        platform,
        event,
        region=region,
        call=None,
        by=by,
        reason=reason,
        on=timezone.localdate(),
    )
    return platform, region


@transaction.atomic
def suspend_platform(platform: Platform, *, reason: str, by: User) -> Platform:
    """selected → suspended, with a reason on the public list; its institution-catalogue
    entries are suspended and its API requests refused (orgs.signing accepts selected
    platforms only). Raises NotAllowed, NotInScope, InvalidInput (no reason), Conflict (never
    selected), TransitionNotAllowed, StaleObject."""
    was = platform.status
    platform, _region = _change_listing(platform, P.SUSPENDED, E.SUSPENDED, reason=reason, by=by)
    if was != P.SUSPENDED:
        catalogues.suspend_institution_entries(platform.organisation, reason=reason, by=by)
    return platform


@transaction.atomic
def reinstate_platform(platform: Platform, *, reason: str, by: User) -> Platform:
    """suspended → selected, with a reason on the public list; its suspended catalogue
    entries are reinstated. Raises as suspend_platform."""
    if platform.status not in {P.SUSPENDED, P.SELECTED}:
        raise TransitionNotAllowed(platform.status, P.SELECTED)
    was = platform.status
    platform, _region = _change_listing(platform, P.SELECTED, E.REINSTATED, reason=reason, by=by)
    if was != P.SELECTED:
        catalogues.reinstate_institution_entries(platform.organisation, reason=reason, by=by)
    return platform


@transaction.atomic
def remove_platform(platform: Platform, *, reason: str, by: User) -> Platform:
    """selected or suspended → removed, with a reason on the public list; its catalogue
    entries are suspended and its active API credentials revoked. A later call may select it
    again. Raises as suspend_platform."""
    was = platform.status
    platform, _region = _change_listing(platform, P.REMOVED, E.REMOVED, reason=reason, by=by)
    if was != P.REMOVED:
        catalogues.suspend_institution_entries(platform.organisation, reason=reason, by=by)
        for credential in PlatformCredential.objects.filter(
            platform=platform, revoked_at__isnull=True
        ).select_related("platform__organisation__region"):
            orgs.revoke_credential(credential, by=by, reason=reason)
    return platform
