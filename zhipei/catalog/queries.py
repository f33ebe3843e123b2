"""Reads over the two catalogues and courses.

`catalogue_status` is the one question later rules (subsidies) ask: did a course count under
the two catalogues in a region on a date, under which entries, and if not, why not. The course
reads serve the public catalogue (`search_courses`, `coverage`), officers (always through the
region scope of accounts.scope) and platforms (their own courses only).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhipei.accounts.models import OFFICER_ROLES, Role, RoleAssignment, User
from zhipei.accounts.scope import get_in_scope, scope_to_regions
from zhipei.catalog.models import (
    CatalogueStatus,
    Course,
    CourseCategory,
    InstitutionCatalogueEntry,
    ProjectCatalogueEntry,
)
from zhipei.occupations.models import Occupation
from zhipei.orgs.models import Platform
from zhipei.regions.models import Region

# R1 "511" targets (notice 人社部发〔2020〕10号 §1): 50+ platforms, resources for 100+
# occupations. The public page shows progress against them.
PLATFORM_TARGET = 50
OCCUPATION_TARGET = 100


class Reason(models.TextChoices):
    """Why a course did not count under the two catalogues (stable codes; labels for people)."""

    PROVIDER_NOT_IN_INSTITUTION_CATALOGUE = (
        "provider_not_in_institution_catalogue",
        _("The platform is not in the training-institution catalogue of this region."),
    )
    INSTITUTION_ENTRY_SUSPENDED = (
        "institution_entry_suspended",
        _("The platform's institution-catalogue entry is suspended."),
    )
    INSTITUTION_ENTRY_REMOVED = (
        "institution_entry_removed",
        _("The platform's institution-catalogue entry was removed."),
    )
    INSTITUTION_ENTRY_NOT_VALID_ON_DATE = (
        "institution_entry_not_valid_on_date",
        _("The platform's institution-catalogue entry was not valid on that date."),
    )
    OCCUPATION_NOT_IN_INSTITUTION_ENTRY = (
        "occupation_not_in_institution_entry",
        _("The platform's catalogue entry does not include the course's occupation."),
    )
    OCCUPATION_NOT_IN_PROJECT_CATALOGUE = (
        "occupation_not_in_project_catalogue",
        _("None of the course's occupations is in the training-project catalogue."),
    )
    SKILL_LEVEL_NOT_IN_PROJECT_CATALOGUE = (
        "skill_level_not_in_project_catalogue",
        _("The project catalogue names the occupation at another skill level."),
    )
    TRADE_NOT_IN_PROJECT_CATALOGUE = (
        "trade_not_in_project_catalogue",
        _("The project catalogue names the occupation with another trade."),
    )
    PROJECT_ENTRY_SUSPENDED = (
        "project_entry_suspended",
        _("The occupation's project-catalogue entry is suspended."),
    )
    PROJECT_ENTRY_REMOVED = (
        "project_entry_removed",
        _("The occupation's project-catalogue entry was removed."),
    )
    PROJECT_ENTRY_NOT_VALID_ON_DATE = (
        "project_entry_not_valid_on_date",
        _("The occupation's project-catalogue entry was not valid on that date."),
    )


@dataclass(frozen=True)
class CatalogueAnswer:
    """Whether a course counted in a region on a date: the entries it counted under, or the
    reasons (Reason codes) it did not. Both sides are checked, so every reason is listed."""

    counted: bool
    institution_entry: InstitutionCatalogueEntry | None = None
    project_entry: ProjectCatalogueEntry | None = None
    reasons: tuple[str, ...] = ()

    @property
    def reason_labels(self) -> list[str]:
        return [str(Reason(code).label) for code in self.reasons]


def covering_prefixes(region: Region) -> list[str]:
    """Scope prefixes of the regions whose entries cover `region`: itself and its ancestors
    (an entry in a province covers its cities and counties)."""
    code = region.code
    return sorted({code[:2], code[:4], code})


def _valid_on(entry: InstitutionCatalogueEntry | ProjectCatalogueEntry, on_date: date) -> bool:
    return entry.valid_from <= on_date and (entry.valid_to is None or entry.valid_to >= on_date)


def _preference(
    entry: InstitutionCatalogueEntry | ProjectCatalogueEntry,
) -> tuple[int, date, int]:
    # The nearest region's entry first (county before city before province), then the newest.
    return (-len(entry.region.scope_prefix), entry.valid_from, -entry.pk)


def _status_reason(
    entries: Iterable[InstitutionCatalogueEntry | ProjectCatalogueEntry],
    *,
    suspended: Reason,
    removed: Reason,
) -> Reason:
    statuses = {e.status for e in entries}
    return suspended if CatalogueStatus.SUSPENDED in statuses else removed


def _institution_side(
    entries: list[InstitutionCatalogueEntry], on_date: date
) -> tuple[list[InstitutionCatalogueEntry], Reason | None]:
    if not entries:
        return [], Reason.PROVIDER_NOT_IN_INSTITUTION_CATALOGUE
    active = [e for e in entries if e.status == CatalogueStatus.ACTIVE]
    if not active:
        return [], _status_reason(
            entries,
            suspended=Reason.INSTITUTION_ENTRY_SUSPENDED,
            removed=Reason.INSTITUTION_ENTRY_REMOVED,
        )
    usable = [e for e in active if _valid_on(e, on_date)]
    return usable, None if usable else Reason.INSTITUTION_ENTRY_NOT_VALID_ON_DATE


def _project_side(
    entries: list[ProjectCatalogueEntry], course: Course, on_date: date
) -> tuple[list[ProjectCatalogueEntry], Reason | None]:
    if not entries:
        return [], Reason.OCCUPATION_NOT_IN_PROJECT_CATALOGUE
    level_ok = [e for e in entries if e.skill_level is None or e.skill_level == course.skill_level]
    if not level_ok:
        return [], Reason.SKILL_LEVEL_NOT_IN_PROJECT_CATALOGUE
    trade_ok = [e for e in level_ok if e.trade_id is None or e.trade_id == course.trade_id]
    if not trade_ok:
        return [], Reason.TRADE_NOT_IN_PROJECT_CATALOGUE
    active = [e for e in trade_ok if e.status == CatalogueStatus.ACTIVE]
    if not active:
        return [], _status_reason(
            trade_ok, suspended=Reason.PROJECT_ENTRY_SUSPENDED, removed=Reason.PROJECT_ENTRY_REMOVED
        )
    usable = [e for e in active if _valid_on(e, on_date)]
    return usable, None if usable else Reason.PROJECT_ENTRY_NOT_VALID_ON_DATE


def catalogue_status(course: Course, region: Region, on_date: date) -> CatalogueAnswer:
    """Whether `course` counted under the two catalogues in `region` on `on_date`.

    Counted when (1) the course's platform has an active institution-catalogue entry valid on
    that date (valid_from ≤ date ≤ valid_to, both ends inclusive, no end = open) in the region
    or one of its ancestors, and (2) one of the course's occupations has an active
    project-catalogue entry valid on that date in the region or an ancestor, whose level (if
    it names one) is the course's level and whose trade (if it names one) is the course's
    trade, and (3) the institution entry lists that occupation (or lists none, meaning no
    restriction; 人社部发〔2024〕5号 §11.1, Shandong: only the occupations and levels filed).
    The nearest region's entries are preferred. The course's own review status is not part of
    this answer (see Course.status). A handful of queries.
    """
    prefixes = covering_prefixes(region)
    organisation_id = Platform.objects.filter(pk=course.platform_id).values_list(
        "organisation_id", flat=True
    )
    institution_entries = list(
        InstitutionCatalogueEntry.objects.filter(
            organisation_id__in=organisation_id, region__scope_prefix__in=prefixes
        )
        .select_related("region")
        .prefetch_related(Prefetch("occupations", queryset=Occupation.objects.only("pk")))
        .order_by()
    )
    occupation_ids = list(course.occupations.order_by().values_list("pk", flat=True))
    project_entries = list(
        ProjectCatalogueEntry.objects.filter(
            occupation_id__in=occupation_ids, region__scope_prefix__in=prefixes
        )
        .select_related("region")
        .order_by()
    )
    return _answer(institution_entries, project_entries, course, on_date)


def _answer(
    institution_entries: list[InstitutionCatalogueEntry],
    project_entries: list[ProjectCatalogueEntry],
    course: Course,
    on_date: date,
    allowed_of: dict[int, set[int]] | None = None,
) -> CatalogueAnswer:
    """The answer from the entries covering the region (`allowed_of`: each institution
    entry's occupations, when known already)."""
    usable_institutions, institution_reason = _institution_side(institution_entries, on_date)
    usable_projects, project_reason = _project_side(project_entries, course, on_date)
    reasons = [r for r in (institution_reason, project_reason) if r is not None]
    if reasons:
        return CatalogueAnswer(counted=False, reasons=tuple(r.value for r in reasons))

    pairs = [
        (institution, project)
        for institution in usable_institutions
        for project in usable_projects
        if not (
            allowed := allowed_of[institution.pk]
            if allowed_of is not None
            else {o.pk for o in institution.occupations.all()}
        )
        or project.occupation_id in allowed
    ]
    if not pairs:
        return CatalogueAnswer(
            counted=False, reasons=(Reason.OCCUPATION_NOT_IN_INSTITUTION_ENTRY.value,)
        )
    institution, project = min(pairs, key=lambda p: (_preference(p[0]), _preference(p[1])))
    return CatalogueAnswer(counted=True, institution_entry=institution, project_entry=project)


def catalogue_statuses(
    questions: Iterable[tuple[Course, Region, date]],
) -> dict[tuple[int, int, date], CatalogueAnswer]:
    """`catalogue_status` for many (course, region, date) questions at once, keyed by
    (course pk, region pk, date): five queries whatever their number (eligibility checks of
    thousands of applications, subsidies.facts). Same answers as asking one by one."""
    asked = list(questions)
    if not asked:
        return {}
    courses = {course.pk: course for course, _region, _day in asked}
    prefixes = {region.pk: covering_prefixes(region) for _course, region, _day in asked}
    all_prefixes = sorted({p for found in prefixes.values() for p in found})
    organisation_of = dict(
        Platform.objects.filter(pk__in={c.platform_id for c in courses.values()}).values_list(
            "pk", "organisation_id"
        )
    )
    occupations_of: dict[int, list[int]] = {}
    for course_id, occupation_id in Course.occupations.through.objects.filter(
        course_id__in=courses
    ).values_list("course_id", "occupation_id"):
        occupations_of.setdefault(course_id, []).append(occupation_id)
    institutions: dict[int, list[InstitutionCatalogueEntry]] = {}
    allowed_of: dict[int, set[int]] = {}
    for entry in (
        InstitutionCatalogueEntry.objects.filter(
            organisation_id__in=set(organisation_of.values()),
            region__scope_prefix__in=all_prefixes,
        )
        .select_related("region")
        .prefetch_related(Prefetch("occupations", queryset=Occupation.objects.only("pk")))
        .order_by()
    ):
        institutions.setdefault(entry.organisation_id, []).append(entry)
        allowed_of[entry.pk] = {o.pk for o in entry.occupations.all()}
    projects: dict[int, list[ProjectCatalogueEntry]] = {}
    for project in (
        ProjectCatalogueEntry.objects.filter(
            occupation_id__in={o for found in occupations_of.values() for o in found},
            region__scope_prefix__in=all_prefixes,
        )
        .select_related("region")
        .order_by()
    ):
        projects.setdefault(project.occupation_id, []).append(project)
    answers: dict[tuple[int, int, date], CatalogueAnswer] = {}
    for course, region, on_date in asked:
        key = (course.pk, region.pk, on_date)
        if key in answers:
            continue
        covering = set(prefixes[region.pk])
        organisation_id = organisation_of.get(course.platform_id, 0)
        answers[key] = _answer(
            [e for e in institutions.get(organisation_id, ()) if e.region.scope_prefix in covering],
            [
                e
                for occupation_id in occupations_of.get(course.pk, ())
                for e in projects.get(occupation_id, ())
                if e.region.scope_prefix in covering
            ],
            course,
            on_date,
            allowed_of,
        )
    return answers


# --- Public catalogue -------------------------------------------------------------------------


def _public_courses() -> QuerySet[Course]:
    return Course.objects.filter(
        status=Course.Status.APPROVED, platform__status=Platform.Status.SELECTED
    )


def search_courses(
    *,
    text: str = "",
    occupation_code_prefix: str = "",
    category: str = "",
    skill_level: int | None = None,
    region: Region | None = None,
    free: bool | None = None,
    on_date: date | None = None,
) -> QuerySet[Course]:
    """Approved courses of selected platforms for the public catalogue, by title.

    `text` matches the title, description or platform name; `occupation_code_prefix` a node
    of the classification (`4-04` finds every occupation under 4-04, and `4-04-05-05` that
    one); `category` a ContentCategory value; `region` keeps courses of platforms in that
    region, its ancestors or below it; `free` keeps courses free (or not free) on `on_date`
    (today by default). Platform, organisation, region and trade come along, occupations are
    prefetched: a page is two queries whatever its length (and a count to paginate).
    """
    queryset = _public_courses()
    text = text.strip()
    if text:
        queryset = queryset.filter(
            Q(title__icontains=text)
            | Q(description__icontains=text)
            | Q(platform__organisation__name__icontains=text)
        )
    prefix = occupation_code_prefix.strip()
    if prefix:
        occupation_match = Course.occupations.through.objects.filter(
            Q(occupation__code=prefix) | Q(occupation__code__startswith=prefix + "-"),
            course_id=OuterRef("pk"),
        )
        queryset = queryset.filter(Exists(occupation_match))
    if category:
        queryset = queryset.filter(
            Exists(CourseCategory.objects.filter(course_id=OuterRef("pk"), category=category))
        )
    if skill_level is not None:
        queryset = queryset.filter(skill_level=skill_level)
    if region is not None:
        queryset = queryset.filter(
            Q(region__scope_prefix__in=covering_prefixes(region))
            | Q(region__code__startswith=region.scope_prefix)
        )
    if free is not None:
        today = on_date or timezone.localdate()
        free_now = (
            Q(is_free=True)
            & (Q(free_from__isnull=True) | Q(free_from__lte=today))
            & (Q(free_until__isnull=True) | Q(free_until__gte=today))
        )
        queryset = queryset.filter(free_now if free else ~free_now)
    return (
        queryset.select_related("platform__organisation", "region", "trade")
        .prefetch_related(
            Prefetch("occupations", queryset=Occupation.objects.order_by("code")),
        )
        .order_by("title", "pk")
    )


def get_public_course(pk: int | str) -> Course:
    """One course of the public catalogue with its lessons; Http404 if it is not public."""
    try:
        return (
            _public_courses()
            .select_related("platform__organisation", "region", "trade", "standard")
            .prefetch_related("occupations", "lessons", "offline_sessions__region")
            .get(pk=pk)
        )
    except (Course.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


@dataclass(frozen=True)
class Coverage:
    """R1 progress: distinct occupations with at least one approved course of a selected
    platform, and selected platforms, each against its target."""

    occupations_covered: int
    occupation_target: int = OCCUPATION_TARGET
    platforms_selected: int = 0
    platform_target: int = PLATFORM_TARGET


def coverage() -> Coverage:
    """Two count queries."""
    public = _public_courses().filter(occupations=OuterRef("pk"))
    covered = Occupation.objects.filter(Exists(public), level=Occupation.Level.OCCUPATION).count()
    selected = Platform.objects.filter(status=Platform.Status.SELECTED).count()
    return Coverage(occupations_covered=covered, platforms_selected=selected)


# --- Officers ---------------------------------------------------------------------------------

REVIEW_ROLES = frozenset({Role.LABOUR_OFFICER})


def _is_system_admin(user: User) -> bool:
    return (
        user.is_authenticated
        and RoleAssignment.objects.filter(
            user=user, role=Role.SYSTEM_ADMIN, revoked_at__isnull=True
        ).exists()
    )


def can_manage_catalogues(user: User) -> bool:
    """Labour officers (in their scope) and system administrators."""
    if not user.is_authenticated or not user.is_active:
        return False
    return RoleAssignment.objects.filter(
        user=user, role__in=[Role.LABOUR_OFFICER, Role.SYSTEM_ADMIN], revoked_at__isnull=True
    ).exists()


M = TypeVar("M", bound=models.Model)


def _scoped(queryset: QuerySet[M], user: User) -> QuerySet[M]:
    if _is_system_admin(user):
        return queryset
    return scope_to_regions(queryset, user, region_field="region", roles=OFFICER_ROLES)


def institution_entries_for(
    user: User, *, text: str = "", status: str = ""
) -> QuerySet[InstitutionCatalogueEntry]:
    """Institution-catalogue entries in the officer's scope, with organisation and region."""
    queryset = _scoped(InstitutionCatalogueEntry.objects.all(), user)
    text = text.strip()
    if text:
        queryset = queryset.filter(
            Q(organisation__name__icontains=text) | Q(organisation__uscc__startswith=text.upper())
        )
    if status:
        queryset = queryset.filter(status=status)
    return (
        queryset.select_related("region", "organisation")
        .prefetch_related(Prefetch("occupations", queryset=Occupation.objects.order_by("code")))
        .order_by("region__code", "organisation__name", "pk")
    )


def project_entries_for(
    user: User, *, text: str = "", status: str = ""
) -> QuerySet[ProjectCatalogueEntry]:
    """Project-catalogue entries in the officer's scope, with occupation, trade and region."""
    queryset = _scoped(ProjectCatalogueEntry.objects.all(), user)
    text = text.strip()
    if text:
        queryset = queryset.filter(
            Q(occupation__name__icontains=text) | Q(occupation__code__startswith=text)
        )
    if status:
        queryset = queryset.filter(status=status)
    return queryset.select_related("region", "occupation", "trade").order_by(
        "region__code", "occupation__code", "pk"
    )


def get_institution_entry_for(user: User, pk: int | str) -> InstitutionCatalogueEntry:
    queryset = InstitutionCatalogueEntry.objects.select_related("region", "organisation")
    if _is_system_admin(user):
        try:
            return queryset.get(pk=pk)
        except (InstitutionCatalogueEntry.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc
    return get_in_scope(queryset, user, pk, region_field="region", roles=OFFICER_ROLES)


def get_project_entry_for(user: User, pk: int | str) -> ProjectCatalogueEntry:
    queryset = ProjectCatalogueEntry.objects.select_related("region", "occupation", "trade")
    if _is_system_admin(user):
        try:
            return queryset.get(pk=pk)
        except (ProjectCatalogueEntry.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc
    return get_in_scope(queryset, user, pk, region_field="region", roles=OFFICER_ROLES)


def _course_list(queryset: QuerySet[Course]) -> QuerySet[Course]:
    return queryset.select_related("platform__organisation", "region").prefetch_related(
        Prefetch("occupations", queryset=Occupation.objects.order_by("code"))
    )


def review_queue_for(user: User, *, status: str = Course.Status.SUBMITTED) -> QuerySet[Course]:
    """Courses in the labour officer's scope with `status` (awaiting review by default),
    oldest first."""
    queryset = scope_to_regions(
        Course.objects.filter(status=status), user, region_field="region", roles=REVIEW_ROLES
    )
    return _course_list(queryset).order_by("status_changed_at", "pk")


def get_course_for_officer(user: User, pk: int | str) -> Course:
    """A course in the labour officer's scope, with its lessons; Http404 outside it."""
    queryset = Course.objects.select_related(
        "platform__organisation", "region", "trade", "standard"
    ).prefetch_related("occupations", "lessons", "offline_sessions__region")
    return get_in_scope(queryset, user, pk, region_field="region", roles=REVIEW_ROLES)


# --- Platforms --------------------------------------------------------------------------------


def platforms_operated_by(user: User) -> QuerySet[Platform]:
    """The platforms whose organisation the user is an active platform operator of."""
    if not user.is_authenticated or not user.is_active:
        return Platform.objects.none()
    organisations = RoleAssignment.objects.filter(
        user=user, role=Role.PLATFORM_OPERATOR, revoked_at__isnull=True
    ).values("organisation_id")
    return Platform.objects.filter(organisation_id__in=organisations).select_related(
        "organisation__region"
    )


def courses_of(platform: Platform, *, status: str = "") -> QuerySet[Course]:
    """The platform's own courses (every status), by title."""
    queryset = Course.objects.filter(platform=platform)
    if status:
        queryset = queryset.filter(status=status)
    return _course_list(queryset).order_by("title", "pk")


def get_course_of(platform: Platform, pk: int | str) -> Course:
    """One of the platform's own courses by pk; another platform's course is Http404."""
    try:
        return (
            Course.objects.select_related("platform__organisation", "region", "trade", "standard")
            .prefetch_related("occupations", "lessons", "offline_sessions__region")
            .get(platform=platform, pk=pk)
        )
    except (Course.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def get_course_by_external_id(platform: Platform, external_id: str) -> Course | None:
    """The platform's course with its own id, or None (another platform's id is simply a
    different course)."""
    return (
        Course.objects.select_related("region", "trade", "standard")
        .prefetch_related("occupations", "lessons", "offline_sessions__region")
        .filter(platform=platform, external_id=external_id)
        .first()
    )
