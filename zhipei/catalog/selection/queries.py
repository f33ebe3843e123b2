"""Reads for platform selection. Officer reads pass through accounts.scope (region scope);
platform operators read only their organisations' applications; reviewers only the reviews
assigned to them. A reviewer sees other reviewers' scores only after submitting their own
(`visible_reviews`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.accounts.scope import get_in_scope, officer_prefixes, scope_to_regions
from zhipei.catalog.models import (
    PlatformApplication,
    PlatformCall,
    PlatformListing,
    Review,
    ReviewScore,
    RubricItem,
    Upload,
)
from zhipei.orgs.models import Organisation, Platform, PlatformCredential
from zhipei.regions.models import Region

A = PlatformApplication.Status
C = PlatformCall.Status
LABOUR = frozenset({Role.LABOUR_OFFICER})
CALL_LEVELS = ("province", "prefecture")
COUNTED = Q(reviews__submitted_at__isnull=False, reviews__conflict_declared=False)


def _roles(user: User) -> frozenset[str]:
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_zhipei_selection_roles", None)
    if cached is None:
        cached = frozenset(
            RoleAssignment.objects.filter(user=user, revoked_at__isnull=True).values_list(
                "role", flat=True
            )
        )
        user._zhipei_selection_roles = cached  # type: ignore[attr-defined]
    return cached


def is_labour_officer(user: User) -> bool:
    return Role.LABOUR_OFFICER in _roles(user)


def is_platform_operator(user: User) -> bool:
    return Role.PLATFORM_OPERATOR in _roles(user)


def runs_calls(user: User) -> bool:
    """Whether the user is a labour officer at province or prefecture level (may create calls)."""
    if not is_labour_officer(user):
        return False
    return RoleAssignment.objects.filter(
        user=user,
        role=Role.LABOUR_OFFICER,
        revoked_at__isnull=True,
        region__level__in=CALL_LEVELS,
    ).exists()


def call_regions_for(user: User) -> QuerySet[Region]:
    """Current province and prefecture regions inside the user's labour-officer scope."""
    regions = Region.objects.filter(valid_to_year__isnull=True, level__in=CALL_LEVELS)
    prefixes = officer_prefixes(user, roles=LABOUR) if runs_calls(user) else []
    if not prefixes:
        return regions.none()
    condition = Q()
    for prefix in prefixes:
        condition |= Q(scope_prefix__startswith=prefix)
    return regions.filter(condition).order_by("code")


# --- Officer reads ----------------------------------------------------------------------------


def calls_for(user: User) -> QuerySet[PlatformCall]:
    """Calls whose region lies in the officer's scope, newest first, with application counts."""
    queryset = PlatformCall.objects.select_related("region").annotate(
        applications_count=Count("applications", filter=~Q(applications__status=A.DRAFT)),
    )
    return scope_to_regions(queryset, user, roles=LABOUR).order_by("-created_at", "-pk")


def get_call_for(user: User, pk: int | str) -> PlatformCall:
    return get_in_scope(
        PlatformCall.objects.select_related("region", "created_by"), user, pk, roles=LABOUR
    )


def rubric_of(call: PlatformCall) -> list[RubricItem]:
    return list(RubricItem.objects.filter(call=call).order_by("pk"))


def max_total(rubric: list[RubricItem]) -> int:
    return sum(item.max_score * item.weight for item in rubric)


def applications_of(call: PlatformCall) -> QuerySet[PlatformApplication]:
    """The call's applications other than drafts, each annotated with `average_score` (mean
    weighted total of submitted reviews without a conflict), `reviews_done`,
    `reviews_assigned` and `conflicts`, best average first."""
    return (
        PlatformApplication.objects.filter(call=call)
        .exclude(status=A.DRAFT)
        .select_related("organisation")
        .annotate(
            average_score=Avg("reviews__total_score", filter=COUNTED),
            reviews_done=Count("reviews", filter=COUNTED),
            reviews_assigned=Count("reviews"),
            conflicts=Count("reviews", filter=Q(reviews__conflict_declared=True)),
        )
        .order_by("-average_score", "organisation__name", "pk")
    )


def get_application_for_officer(user: User, pk: int | str) -> PlatformApplication:
    return get_in_scope(
        PlatformApplication.objects.select_related(
            "call__region", "organisation__region", "decided_by"
        ),
        user,
        pk,
        region_field="call__region",
        roles=LABOUR,
    )


def eligible_reviewers(call: PlatformCall) -> QuerySet[User]:
    """Active labour officers whose region lies inside the call's region or covers it."""
    prefix = call.region.scope_prefix
    covering = [prefix[:n] for n in range(1, len(prefix) + 1)]
    assignments = RoleAssignment.objects.filter(
        user=OuterRef("pk"), role=Role.LABOUR_OFFICER, revoked_at__isnull=True
    ).filter(Q(region__scope_prefix__startswith=prefix) | Q(region__scope_prefix__in=covering))
    return User.objects.filter(Exists(assignments), is_active=True).order_by("username")


def reviews_of_application(application: PlatformApplication) -> list[Review]:
    """Every review with its reviewer and scores: for officers and reviewers who may see them
    (see visible_reviews)."""
    return list(
        Review.objects.filter(application=application)
        .select_related("reviewer")
        .prefetch_related(
            Prefetch(
                "scores",
                queryset=ReviewScore.objects.select_related("rubric_item").order_by(
                    "rubric_item_id"
                ),
            )
        )
        .order_by("pk")
    )


def visible_reviews(user: User, application: PlatformApplication) -> list[Review]:
    """The reviews `user` may read with their scores. A reviewer of this application sees the
    others' only after submitting their own (before that, or after declaring a conflict, only
    their own); an officer running the call who is not one of its reviewers sees all."""
    reviews = reviews_of_application(application)
    own = next((r for r in reviews if r.reviewer_id == user.pk), None)
    if own is not None:
        if own.submitted_at is None or own.conflict_declared:
            return [own]
        return reviews
    return reviews


def review_progress(application: PlatformApplication) -> tuple[int, int]:
    """(submitted reviews without a conflict, reviews the call needs)."""
    done = Review.objects.filter(
        application=application, submitted_at__isnull=False, conflict_declared=False
    ).count()
    return done, application.call.reviewers_required


def platforms_for_officer(user: User) -> QuerySet[Platform]:
    """Platforms selected (at some time) through a call of the officer's area, with their
    listing history."""
    listed = PlatformListing.objects.filter(platform=OuterRef("pk"), event="selected")
    listed = scope_to_regions(listed, user, roles=LABOUR)
    return (
        Platform.objects.filter(Exists(listed))
        .select_related("organisation__region")
        .order_by("organisation__name", "pk")
    )


def get_platform_for_officer(user: User, pk: int | str) -> Platform:
    try:
        return platforms_for_officer(user).get(pk=pk)
    except (Platform.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def listings_of(platform: Platform) -> list[PlatformListing]:
    return list(
        PlatformListing.objects.filter(platform=platform)
        .select_related("region", "call", "recorded_by")
        .order_by("-on", "-pk")
    )


# --- Reviewer reads ---------------------------------------------------------------------------


def reviews_for(user: User) -> QuerySet[Review]:
    """The reviews assigned to `user`, open ones first."""
    return (
        Review.objects.filter(reviewer=user)
        .select_related("application__organisation", "application__call__region")
        .order_by("submitted_at", "-conflict_declared", "-created_at", "-pk")
    )


def get_review_for(user: User, pk: int | str) -> Review:
    """A review assigned to `user`; Http404 for anyone else's."""
    try:
        return reviews_for(user).get(pk=pk)
    except (Review.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


# --- Platform operator reads ------------------------------------------------------------------


def operator_organisations(user: User) -> QuerySet[Organisation]:
    """The organisations the user acts for as platform operator."""
    if not is_platform_operator(user):
        return Organisation.objects.none()
    held = RoleAssignment.objects.filter(
        user=user, role=Role.PLATFORM_OPERATOR, revoked_at__isnull=True
    ).values("organisation_id")
    return Organisation.objects.filter(pk__in=held).select_related("region").order_by("name")


def _covering_prefixes(regions: list[Region]) -> set[str]:
    prefixes: set[str] = set()
    for region in regions:
        prefix = region.scope_prefix
        prefixes.update(prefix[:n] for n in range(1, len(prefix) + 1))
    return prefixes


def open_calls_for(user: User) -> QuerySet[PlatformCall]:
    """Calls open now whose region covers one of the operator's organisations."""
    regions = [o.region for o in operator_organisations(user)]
    if not regions:
        return PlatformCall.objects.none()
    now = timezone.now()
    return (
        PlatformCall.objects.filter(
            status=C.OPEN,
            closes_at__gt=now,
            region__scope_prefix__in=_covering_prefixes(regions),
        )
        .select_related("region")
        .order_by("closes_at", "pk")
    )


def get_open_call_for(user: User, pk: int | str) -> PlatformCall:
    """A call the operator may see: open, or one they have applied to; Http404 otherwise."""
    organisations = operator_organisations(user)
    try:
        return (
            PlatformCall.objects.filter(
                Q(pk__in=open_calls_for(user).values("pk"))
                | Q(applications__organisation__in=organisations)
            )
            .select_related("region")
            .distinct()
            .get(pk=pk)
        )
    except (PlatformCall.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def applications_for_operator(user: User) -> QuerySet[PlatformApplication]:
    return (
        PlatformApplication.objects.filter(organisation__in=operator_organisations(user))
        .select_related("call__region", "organisation")
        .order_by("-created_at", "-pk")
    )


def get_application_for_operator(user: User, pk: int | str) -> PlatformApplication:
    try:
        return (
            applications_for_operator(user)
            .select_related("organisation__region")
            .prefetch_related("offered_occupations")
            .get(pk=pk)
        )
    except (PlatformApplication.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def documents_of(application: PlatformApplication) -> list[Upload]:
    return list(Upload.objects.filter(application=application).order_by("pk"))


def get_document_of(application: PlatformApplication, pk: int | str) -> Upload:
    try:
        return Upload.objects.select_related("application__call__region").get(
            application=application, pk=pk
        )
    except (Upload.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def get_document_for(user: User, pk: int | str) -> Upload:
    """An application document the user may read: the applying organisation's operator, an
    officer whose scope covers the call, or a reviewer assigned to the application (who has not
    declared a conflict). Http404 for anyone else."""
    try:
        upload = Upload.objects.select_related(
            "application__call__region", "application__organisation"
        ).get(pk=pk, application__isnull=False)
    except (Upload.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    application = upload.application
    assert application is not None
    if operator_organisations(user).filter(pk=application.organisation_id).exists():
        return upload
    if Review.objects.filter(
        application=application, reviewer=user, conflict_declared=False
    ).exists():
        return upload
    calls = PlatformCall.objects.filter(pk=application.call_id)
    if scope_to_regions(calls, user, roles=LABOUR).exists():
        return upload
    raise Http404


# --- My platform ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MyPlatform:
    organisation: Organisation
    platform: Platform | None
    listings: list[PlatformListing]
    credentials: list[PlatformCredential]


def my_platforms(user: User) -> list[MyPlatform]:
    """For each organisation the user operates: its platform (if it is one yet), its listing
    history and its credentials' metadata (never a secret)."""
    result = []
    for organisation in operator_organisations(user):
        platform = Platform.objects.filter(organisation=organisation).first()
        listings: list[PlatformListing] = []
        credentials: list[PlatformCredential] = []
        if platform is not None:
            listings = listings_of(platform)
            credentials = list(
                PlatformCredential.objects.filter(platform=platform).order_by("-created_at")
            )
        result.append(MyPlatform(organisation, platform, listings, credentials))
    return result


# --- Public -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicPlatform:
    platform: Platform
    selected_on: PlatformListing | None  # the latest selection
    history: list[PlatformListing]


def public_platforms() -> list[PublicPlatform]:
    """Every platform ever listed, with its history: current ones (selected) first, then
    suspended, then removed; by name. One query."""
    listings = list(
        PlatformListing.objects.select_related("platform__organisation", "region", "call").order_by(
            "-on", "-pk"
        )
    )
    by_platform: dict[int, list[PlatformListing]] = {}
    platforms: dict[int, Platform] = {}
    for listing in listings:
        by_platform.setdefault(listing.platform_id, []).append(listing)
        platforms.setdefault(listing.platform_id, listing.platform)
    order: dict[str, int] = {
        Platform.Status.SELECTED: 0,
        Platform.Status.SUSPENDED: 1,
        Platform.Status.REMOVED: 2,
    }
    result = [
        PublicPlatform(
            platform=platforms[pk],
            selected_on=next((x for x in history if x.event == "selected"), None),
            history=history,
        )
        for pk, history in by_platform.items()
    ]
    result.sort(key=lambda p: (order.get(p.platform.status, 3), p.platform.organisation.name))
    return result
