"""Reads behind the application pages: an applicant's own claims, officers' review queues
(scoped through accounts.scope on the step's `review_region`), the public notice list, and
what a page needs to show one application (reasons, lines, history, the ledger commitment).

Applicants reach only their own applications (a person's, or their enterprise's); officers
only applications in their region subtree. Both getters raise Http404 otherwise, so existence
never leaks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from zhipei.accounts.models import OFFICER_ROLES, Role, RoleAssignment, User
from zhipei.accounts.scope import scope_to_regions
from zhipei.enterprises.queries import administered_enterprises
from zhipei.orgs.models import Enterprise
from zhipei.people.models import Person
from zhipei.subsidies.models import (
    Application,
    ApplicationLine,
    ApplicationStatus,
    ApplicationStep,
    Evaluation,
)
from zhipei.subsidies.queries import application_committed_fen
from zhipei.subsidies.reasons import Reason, render_all
from zhipei.subsidies.services import application_ref

S = ApplicationStatus
LABOUR = frozenset({Role.LABOUR_OFFICER})
FINANCE = frozenset({Role.FINANCE_OFFICER})


def _applications() -> QuerySet[Application]:
    return Application.objects.select_related(
        "person__region",
        "enterprise__organisation__region",
        "region",
        "review_region",
        "fund_region",
    )


# --- Applicants -------------------------------------------------------------------------------


def applications_of_person(person: Person) -> QuerySet[Application]:
    """A person's own applications, proposed ones (政策找人) first, then newest first."""
    return _applications().filter(person=person).order_by("-proposed", "-created_at", "-pk")


def applications_of_enterprise(enterprise: Enterprise) -> QuerySet[Application]:
    return _applications().filter(enterprise=enterprise).order_by("-created_at", "-pk")


def get_application_for_applicant(user: User, pk: int | str) -> Application:
    """One of the user's own applications (theirs as a person, or their enterprise's)."""
    own = Q(person_id=user.person_id) if user.person_id else Q(pk__in=[])
    enterprises = administered_enterprises(user).values("pk")
    try:
        return _applications().filter(own | Q(enterprise_id__in=enterprises)).get(pk=pk)
    except (Application.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def application_started_with(user: User, idempotency_key: str) -> Application | None:
    """The application this user already started with this idempotency key (a replayed
    request), if any."""
    if not idempotency_key:
        return None
    return Application.objects.filter(created_by=user, idempotency_key=idempotency_key).first()


@dataclass(frozen=True)
class BankPrefill:
    payee_name: str
    bank_name: str
    account_masked: str


def bank_prefill(application: Application) -> BankPrefill:
    """What the bank details form starts with: the application's own details, else those of
    the applicant's last application that had some (the account number itself is never
    prefilled: the applicant types it again)."""
    if application.account_masked:
        return BankPrefill(
            application.payee_name, application.bank_name, application.account_masked
        )
    earlier = (
        Application.objects.exclude(pk=application.pk)
        .exclude(account_masked="")
        .filter(
            Q(person_id=application.person_id)
            if application.person_id
            else Q(enterprise_id=application.enterprise_id)
        )
        .order_by("-created_at", "-pk")
        .only("payee_name", "bank_name", "account_masked")
        .first()
    )
    if application.person is not None:
        payee = application.person.name
    else:
        payee = application.payee_name or str(application.enterprise)
    if earlier is None:
        return BankPrefill(payee, "", "")
    return BankPrefill(payee, earlier.bank_name, earlier.account_masked)


def live_claims_by_certificate(person: Person) -> dict[tuple[int, str], Application]:
    """The live application claiming each (certificate, kind) of a person's."""
    lines = (
        ApplicationLine.objects.filter(person=person, live=True, certificate__isnull=False)
        .exclude(application__status__in=[S.REJECTED, S.WITHDRAWN])
        .select_related("application")
    )
    return {(line.certificate_id, line.kind): line.application for line in lines}  # type: ignore[misc]


# --- Officers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One review queue: the statuses it holds and who acts on them."""

    code: str
    label: str | Promise
    statuses: tuple[str, ...]
    roles: frozenset[str]
    actions: tuple[str, ...]  # batch actions offered: approve, return, reject


STEPS: dict[str, Step] = {
    step.code: step
    for step in (
        Step(
            "county",
            _("County review"),
            (S.SUBMITTED,),
            LABOUR,
            ("approve", "return", "reject"),
        ),
        Step(
            "city",
            _("City review"),
            (S.COUNTY_APPROVED,),
            LABOUR,
            ("approve", "return", "reject"),
        ),
        Step(
            "finance",
            _("Finance approval"),
            (S.CITY_APPROVED, S.IN_PUBLICITY),
            FINANCE,
            ("approve",),
        ),
        Step(
            "payment_failed",
            _("Failed payments"),
            (S.PAYMENT_FAILED,),
            FINANCE,
            ("reject",),
        ),
    )
}


def steps_for(user: User) -> list[Step]:
    """The review queues a user has a role for."""
    roles = set(
        RoleAssignment.objects.filter(user=user, revoked_at__isnull=True).values_list(
            "role", flat=True
        )
    )
    return [step for step in STEPS.values() if step.roles & roles]


def _labour_levels(user: User) -> set[str]:
    return set(
        RoleAssignment.objects.filter(
            user=user, role=Role.LABOUR_OFFICER, revoked_at__isnull=True, region__isnull=False
        ).values_list("region__level", flat=True)
    )


@dataclass
class QueueFilters:
    kind: str = ""
    region: Any = None  # a regions.Region in scope
    status: str = ""
    amount_min_fen: int | None = None
    amount_max_fen: int | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    overdue: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def review_queue(
    user: User, step: Step, filters: QueueFilters | None = None
) -> QuerySet[Application]:
    """Applications waiting at `step` whose review region lies in the user's scope, oldest
    deadline first. A labour officer's queue holds only steps routed to their own level
    (a city officer does not see the county review of a county that has its own officers;
    routed up to the city where a level is missing, it does)."""
    filters = filters or QueueFilters()
    queryset = scope_to_regions(
        _applications().filter(status__in=step.statuses),
        user,
        region_field="review_region",
        roles=step.roles,
    )
    if step.roles == LABOUR:
        queryset = queryset.filter(review_region__level__in=_labour_levels(user))
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.region is not None:
        queryset = queryset.filter(region__scope_prefix__startswith=filters.region.scope_prefix)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.amount_min_fen is not None:
        queryset = queryset.filter(amount_fen__gte=filters.amount_min_fen)
    if filters.amount_max_fen is not None:
        queryset = queryset.filter(amount_fen__lte=filters.amount_max_fen)
    if filters.submitted_from is not None:
        queryset = queryset.filter(submitted_at__gte=_start_of(filters.submitted_from))
    if filters.submitted_to is not None:
        queryset = queryset.filter(submitted_at__lt=_start_of(filters.submitted_to, days=1))
    if filters.overdue:
        queryset = queryset.filter(due_at__lt=timezone.now())
    return queryset.order_by("due_at", "submitted_at", "pk")


def _start_of(day: date, *, days: int = 0) -> datetime:
    from datetime import time, timedelta

    return timezone.make_aware(datetime.combine(day + timedelta(days=days), time.min))


def applications_for_officer(user: User) -> QuerySet[Application]:
    """Every application (drafts excepted: the applicant's own business until submitted)
    of an applicant in the officer's region subtree."""
    return scope_to_regions(
        _applications().exclude(status=S.DRAFT), user, region_field="region", roles=OFFICER_ROLES
    )


def get_application_for_officer(user: User, pk: int | str) -> Application:
    try:
        return applications_for_officer(user).get(pk=pk)
    except (Application.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def in_publicity_for(user: User) -> QuerySet[Application]:
    """Applications in their public notice (公示) in a labour officer's regions, the notice
    ending soonest first."""
    return scope_to_regions(
        _applications().filter(status=S.IN_PUBLICITY), user, region_field="region", roles=LABOUR
    ).order_by("due_at", "pk")


# --- One application --------------------------------------------------------------------------


@dataclass(frozen=True)
class LineView:
    line: ApplicationLine
    reasons: list[Reason]


@dataclass(frozen=True)
class TimelineEntry:
    """A workflow move (`step`) or the applicant's correction of a draft or returned claim
    (`revision`: the evaluation the correction ran, with the amount it came to)."""

    step: ApplicationStep | None = None
    revision: Evaluation | None = None

    @property
    def at(self) -> datetime:
        moment = self.step or self.revision
        assert moment is not None, "a timeline entry is a step or a revision"
        return moment.at


@dataclass
class ApplicationView:
    """Everything both sides see of one application."""

    application: Application
    evaluation: Evaluation | None
    reasons: list[Reason]  # not about one line
    lines: list[LineView]
    steps: list[ApplicationStep]
    returned_note: str
    committed_fen: int
    revisions: list[Evaluation] = field(default_factory=list)

    @property
    def last_note(self) -> str:
        return self.steps[-1].note if self.steps else ""

    @property
    def timeline(self) -> list[TimelineEntry]:
        """The moves and the corrections in time order (a move before a correction at the
        same instant)."""
        entries = [TimelineEntry(step=step) for step in self.steps]
        entries += [TimelineEntry(revision=revision) for revision in self.revisions]
        return sorted(entries, key=lambda entry: (entry.at, entry.revision is not None))

    @property
    def passed(self) -> int:
        return sum(1 for r in self._all() if r.outcome == "pass")

    @property
    def failed(self) -> list[Reason]:
        return [r for r in self._all() if r.outcome == "fail"]

    def _all(self) -> list[Reason]:
        return self.reasons + [r for line in self.lines for r in line.reasons]


def application_view(application: Application) -> ApplicationView:
    evaluation = application.evaluations.order_by("-at", "-pk").first()
    rendered = render_all(evaluation.results) if evaluation is not None else []
    lines = list(
        application.lines.select_related("person", "certificate__course", "occupation").order_by(
            "pk"
        )
    )
    per_line: dict[int, list[Reason]] = {}
    general: list[Reason] = []
    for reason in rendered:
        if reason.line is not None and 0 <= reason.line < len(lines):
            per_line.setdefault(reason.line, []).append(reason)
        else:
            general.append(reason)
    steps = list(application.steps.select_related("by", "review_region").order_by("at", "pk"))
    returned = [s for s in steps if s.to_status == S.RETURNED]
    revisions = list(application.evaluations.filter(stage="revision").order_by("at", "pk"))
    return ApplicationView(
        application=application,
        evaluation=evaluation,
        reasons=general,
        lines=[LineView(line, per_line.get(i, [])) for i, line in enumerate(lines)],
        steps=steps,
        returned_note=returned[-1].note if returned and application.status == S.RETURNED else "",
        committed_fen=application_committed_fen(*application_ref(application)),
        revisions=revisions,
    )
