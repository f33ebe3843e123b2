"""Approving many applications at one step at once (a reviewer's batch review, issue 5:
"batch approval of 10,000 applications under 10 s").

`approve_many` gives exactly the outcomes of calling `workflow.approve_at_county`,
`approve_at_city` or `approve_for_payment` on each application in turn: the same checks in
the same order (status still as expected, the reviewer's role and scope at the step's region,
no self-review or declared conflict, no public notice still running, the kind's rules
re-run — holds included — and, at finance approval, the commitment in the ledger), the same
rows (status by compare-and-swap, ApplicationStep, Evaluation, audit events) and the same
refusals (code and message) — but read and written per chunk: one `Facts.load` and a few
bulk inserts per chunk instead of dozens of queries per application.

Each chunk is one transaction. Its applications are locked first (`SELECT … FOR UPDATE`, in
primary-key order), so one approved concurrently by someone else is reported "stale" and a
concurrent single approval of one in the chunk waits and then finds it moved. A refused
application writes nothing — as a refused single approval rolls back — and never blocks the
others. At finance approval the chunk's commitments go to the ledger together
(`services.commit_funds_many`: each fund's accounts locked once, its balance read once and
run down in order, the postings inserted in bulk); one a fund cannot cover is refused with
the figures `commit_funds` gives and writes nothing, and later, smaller ones may still fit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.accounts.services import require_role
from zhipei.audit import services as audit
from zhipei.audit.models import AuditEvent
from zhipei.core.bulk import copy_lines, copy_text, insert_rows
from zhipei.core.errors import (
    DomainError,
    InvalidInput,
    NotInScope,
    StaleObject,
    TransitionNotAllowed,
)
from zhipei.regions.models import Region
from zhipei.subsidies import services as ledger
from zhipei.subsidies import workflow
from zhipei.subsidies.errors import ConflictDeclared, PublicityRunning, SelfReview
from zhipei.subsidies.facts import Facts, any_of
from zhipei.subsidies.kinds import get_kind
from zhipei.subsidies.kinds.base import Assessment, RuleResult
from zhipei.subsidies.models import (
    Application,
    ApplicationLine,
    ApplicationStatus,
    ApplicationStep,
    ConflictOfInterest,
    Evaluation,
)

S = ApplicationStatus

CHUNK_SIZE = 500


@dataclass(frozen=True)
class Step:
    """One approval step: where it starts, where it ends, who acts and under which stage the
    evaluation is stored."""

    name: str
    expected: tuple[str, ...]
    to: str
    role: str


STEPS: dict[str, Step] = {
    "county": Step("county", (S.SUBMITTED,), S.COUNTY_APPROVED, Role.LABOUR_OFFICER),
    "city": Step("city", (S.COUNTY_APPROVED,), S.CITY_APPROVED, Role.LABOUR_OFFICER),
    "finance": Step(
        "finance", (S.CITY_APPROVED, S.IN_PUBLICITY), S.FINANCE_APPROVED, Role.FINANCE_OFFICER
    ),
}


@dataclass(frozen=True)
class Outcome:
    """What happened to one application: approved (with its new status), or refused with the
    error's stable code (`stale_object`, `not_allowed`, `not_found`, `self_review`,
    `conflict_of_interest`, `on_hold`, `not_eligible`, `publicity_running`, `no_fund`,
    `insufficient_funds`, `transition_not_allowed` …) and the message a single approval shows."""

    application_id: int
    approved: bool
    status: str
    code: str = ""
    message: str = ""

    @property
    def number(self) -> str:
        return f"SQ{self.application_id:08d}"


def approve_many(
    applications_or_ids: Iterable[Application | int],
    *,
    by: User,
    step: str,
    note: str = "",
    chunk_size: int = CHUNK_SIZE,
) -> list[Outcome]:
    """Approve each application at `step` ("county", "city" or "finance") as `by`, in chunks
    of `chunk_size` (one transaction each); one outcome per item given, in the same order."""
    if step not in STEPS:
        raise InvalidInput(_("There is no approval step of this name."), field="step")
    if chunk_size < 1:
        raise InvalidInput(_("A chunk holds at least one application."), field="chunk_size")
    given = [
        item.pk if isinstance(item, Application) else int(item) for item in applications_or_ids
    ]
    unique = list(dict.fromkeys(given))
    results: dict[int, Outcome] = {}
    for start in range(0, len(unique), chunk_size):
        results.update(_approve_chunk(unique[start : start + chunk_size], by, STEPS[step], note))
    outcomes: list[Outcome] = []
    seen: set[int] = set()
    for pk in given:
        outcome = results[pk]
        if pk in seen and outcome.approved:
            # Approving the same application a second time finds it moved on.
            outcome = _refused(pk, outcome.status, StaleObject(_stale_message(outcome.status)))
        seen.add(pk)
        outcomes.append(outcome)
    return outcomes


# --- One chunk -------------------------------------------------------------------------------


def _stale_message(status: str) -> str:
    label = S(status).label if status in S.values else status
    return _("This application is now “%(status)s”; someone else acted on it first.") % {
        "status": label
    }


def _refused(pk: int, status: str, error: DomainError) -> Outcome:
    return Outcome(pk, approved=False, status=status, code=error.code, message=str(error.message))


class _Reviewer:
    """The reviewer's side of `workflow._require_reviewer` / `check_reviewer`, read once."""

    def __init__(self, by: User, role: str) -> None:
        self.by, self.role = by, role
        self._scope: dict[int, DomainError | None] = {}
        self.administered = set(
            RoleAssignment.objects.filter(
                user=by, role=Role.ENTERPRISE_ADMIN, revoked_at__isnull=True
            ).values_list("organisation_id", flat=True)
        )
        declared = list(
            ConflictOfInterest.objects.filter(officer=by, withdrawn_at__isnull=True).values_list(
                "person_id", "enterprise_id"
            )
        )
        self.conflict_people = {p for p, _e in declared if p is not None}
        self.conflict_enterprises = {e for _p, e in declared if e is not None}

    def scope_error(self, target: Region) -> DomainError | None:
        """require_role's refusal for the step's region (asked once per region)."""
        if target.pk not in self._scope:
            try:
                if self.role == Role.LABOUR_OFFICER:
                    require_role(self.by, self.role, region=target, level=target.level)
                else:
                    require_role(self.by, self.role, region=target)
            except DomainError as error:
                self._scope[target.pk] = error
            else:
                self._scope[target.pk] = None
        return self._scope[target.pk]

    def party_error(self, application: Application, people: set[int]) -> DomainError | None:
        if self.by.person_id is not None and self.by.person_id in people:
            return SelfReview()
        enterprise = application.enterprise
        if enterprise is not None and enterprise.organisation_id in self.administered:
            return SelfReview()
        if people & self.conflict_people or (
            application.enterprise_id is not None
            and application.enterprise_id in self.conflict_enterprises
        ):
            return ConflictDeclared()
        return None


def _approve_chunk(ids: Sequence[int], by: User, step: Step, note: str) -> dict[int, Outcome]:
    with transaction.atomic(durable=True):
        return _ChunkApproval(ids, by, step, note).run()


class _ChunkApproval:
    def __init__(self, ids: Sequence[int], by: User, step: Step, note: str) -> None:
        self.ids, self.by, self.step, self.note = ids, by, step, note
        self.outcomes: dict[int, Outcome] = {}
        self.events: list[AuditEvent] = []
        self.steps: list[ApplicationStep] = []

    def refuse(self, application: Application, error: DomainError) -> None:
        self.outcomes[application.pk] = _refused(application.pk, application.status, error)

    def run(self) -> dict[int, Outcome]:
        evaluations = self._eligible(self._reviewed(self._fresh()))
        approved = list(evaluations)
        if self.step.name == "city":
            approved = self._city(approved)
        if self.step.name == "finance":
            approved = self._commit(approved)
        if not approved:
            return self.outcomes
        store_evaluations([evaluations[a] for a in approved])
        moved = self._move(approved, self.step.to, by=self.by, note=self.note)
        if self.step.name == "city":
            moved = self._publicity(moved)
        insert_rows(self.steps)
        audit.record_many(self.events)
        for application in moved:
            self.outcomes[application.pk] = Outcome(
                application.pk, approved=True, status=application.status
            )
        return self.outcomes

    def _fresh(self) -> list[Application]:
        """workflow._fresh, with the chunk's rows locked in pk order (two overlapping bulk
        approvals never deadlock; a concurrent single approval waits, then finds it moved)."""
        applications = load_applications(self.ids, lock=True)
        for pk in set(self.ids) - {a.pk for a in applications}:
            self.outcomes[pk] = _refused(pk, "", NotInScope())
        fresh: list[Application] = []
        for application in applications:
            if application.status not in self.step.expected:
                self.refuse(application, StaleObject(_stale_message(application.status)))
            else:
                fresh.append(application)
        return fresh

    def _reviewed(self, applications: list[Application]) -> list[Application]:
        """workflow._require_reviewer (the step's region, then the parties); at finance
        approval, then the public notice's end."""
        reviewer = _Reviewer(self.by, self.step.role)
        people: dict[int, set[int]] = defaultdict(set)
        for application_id, person_id in ApplicationLine.objects.filter(
            any_of("application_id", [a.pk for a in applications])
        ).values_list("application_id", "person_id"):
            people[application_id].add(person_id)
        checked: list[Application] = []
        for application in applications:
            if application.review_region is None:
                self.refuse(application, TransitionNotAllowed(application.get_status_display(), ""))
                continue
            parties = people[application.pk] | (
                {application.person_id} if application.person_id else set()
            )
            error = reviewer.scope_error(application.review_region) or reviewer.party_error(
                application, parties
            )
            if error is None and self.step.name == "finance":
                error = _publicity_running(application)
            if error is not None:
                self.refuse(application, error)
            else:
                checked.append(application)
        return checked

    def _eligible(self, applications: list[Application]) -> dict[Application, Evaluation]:
        """workflow.evaluate + _require_eligible over one Facts for the chunk; the evaluations
        are stored only for the applications approved (a refusal rolls its evaluation back)."""
        facts = Facts.load(applications)
        now = timezone.now()
        evaluations: dict[Application, Evaluation] = {}
        for application in applications:
            assessment = get_kind(application.kind).assess(application, facts)
            evaluation = evaluation_of(application, assessment, stage=self.step.name, at=now)
            if not assessment.eligible:
                try:
                    workflow._require_eligible(evaluation)  # raises: says why, as one by one
                except DomainError as error:
                    self.refuse(application, error)
                    continue
            evaluations[application] = evaluation
        return evaluations

    # --- step-specific parts ----------------------------------------------------------------

    def _city(self, applications: list[Application]) -> list[Application]:
        """approve_at_city picks the fund the money will come from (refused if none)."""
        funds: dict[tuple[str, int], Region | DomainError] = {}
        kept: list[Application] = []
        for application in applications:
            key = (application.fund_source, application.region_id)
            if key not in funds:
                try:
                    funds[key] = workflow.fund_region(application.fund_source, application.region)
                except DomainError as error:
                    funds[key] = error
            found = funds[key]
            if isinstance(found, DomainError):
                self.refuse(application, found)
                continue
            application.fund_region = found
            kept.append(application)
        return kept

    def _commit(self, applications: list[Application]) -> list[Application]:
        """approve_for_payment commits each amount in the ledger, here all at once: an
        application the fund cannot cover is refused with the figures (nothing written for
        it) and the others go on."""
        requests = []
        for application in applications:
            assert application.fund_region is not None
            requests.append(
                ledger.CommitRequest(
                    source=application.fund_source,
                    region=application.fund_region,
                    amount_fen=application.amount_fen,
                    application=ledger.application_ref(application),
                    reference=f"application-{application.pk}-commitment",
                    memo=application.number,
                )
            )
        kept: list[Application] = []
        results = ledger.commit_funds_many(requests, by=self.by)
        for application, result in zip(applications, results, strict=True):
            if isinstance(result, DomainError):
                self.refuse(application, result)
            else:
                kept.append(application)
        return kept

    def _publicity(self, applications: list[Application]) -> list[Application]:
        """approve_at_city starts the public notice (公示) at once where policy asks for it."""
        noticed: dict[int, list[Application]] = defaultdict(list)
        for application in applications:
            days = int(application.parameters.get("values", {}).get("publicity_working_days") or 0)
            if days > 0:
                noticed[days].append(application)
        for days, group in noticed.items():
            ends_on = workflow.add_working_days(timezone.localdate(), days)
            self._move(
                group,
                S.IN_PUBLICITY,
                by=None,
                due_at=workflow._end_of(ends_on),
                data={"publicity_working_days": days, "ends_on": ends_on.isoformat()},
            )
        return applications

    # --- the mover, for many ----------------------------------------------------------------

    def _move(
        self,
        applications: list[Application],
        to: str,
        *,
        by: User | None,
        note: str = "",
        due_at: datetime | None = None,
        data: dict[str, Any] | None = None,
    ) -> list[Application]:
        """workflow._move for many applications moving from the same status."""
        now = timezone.now()
        if due_at is None and to in workflow.step_days():
            due_at = workflow._end_of(
                workflow.add_working_days(timezone.localdate(), workflow.step_days()[to])
            )
        nominal: dict[str, str] = {
            S.SUBMITTED: Region.Level.COUNTY,
            S.COUNTY_APPROVED: Region.Level.PREFECTURE,
        }
        routes: dict[int, Region | None] = {}  # county and city review: by the region
        groups: dict[tuple[str, int | None, int | None], list[Application]] = defaultdict(list)
        for application in applications:
            if to in nominal:
                if application.region_id not in routes:
                    routes[application.region_id] = workflow._review_target(application, to)
                target = routes[application.region_id]
            else:  # the paying fund's region, already on the application
                target = workflow._review_target(application, to)
            groups[
                (
                    application.status,
                    target.pk if target else None,
                    application.fund_region.pk if application.fund_region else None,
                )
            ].append(application)
            self.steps.append(
                ApplicationStep(
                    application=application,
                    from_status=application.status,
                    to_status=to,
                    at=now,
                    by=by,
                    review_region=target,
                    note=note.strip()[:2000],
                )
            )
            routed_up = target is not None and to in nominal and target.level != nominal[to]
            self.events.append(
                audit.prepare(
                    "subsidies.application." + to,
                    actor=by,
                    obj=application,
                    region_code=application.region.code,
                    data={
                        "from": application.status,
                        "to": to,
                        "note": note,
                        "review_region": target.code if target else None,
                        "routed_to_ancestor": routed_up,
                    }
                    | (data or {}),
                )
            )
        for (expected, target_id, fund_region_id), group in groups.items():
            changes: dict[str, Any] = {
                "status": to,
                "status_changed_at": now,
                "review_region_id": target_id,
                "due_at": due_at,
            }
            if to == S.CITY_APPROVED:
                changes["fund_region_id"] = fund_region_id
            changed = Application.objects.filter(
                any_of("pk", [a.pk for a in group]), status=expected
            ).update(**changes)
            if changed != len(group):  # cannot happen under the chunk's row locks
                raise StaleObject()
            for application in group:
                application.status = to
                application.status_changed_at = now
                application.review_region_id = target_id
                application.due_at = due_at
        return applications


def load_applications(ids: Iterable[int], *, lock: bool = False) -> list[Application]:
    """Applications in pk order (locked FOR UPDATE with `lock`), with their enterprise and
    their regions; a region is read once and shared by every application in it."""
    queryset = Application.objects.filter(any_of("pk", ids)).select_related("enterprise")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    applications = list(queryset.order_by("pk"))
    wanted = {a.region_id for a in applications}
    wanted |= {a.review_region_id for a in applications if a.review_region_id is not None}
    wanted |= {a.fund_region_id for a in applications if a.fund_region_id is not None}
    regions = Region.objects.in_bulk(wanted)
    for application in applications:
        application.region = regions[application.region_id]
        if application.review_region_id is not None:
            application.review_region = regions[application.review_region_id]
        if application.fund_region_id is not None:
            application.fund_region = regions[application.fund_region_id]
    return applications


def evaluation_of(
    application: Application, assessment: Assessment, *, stage: str, at: datetime
) -> Evaluation:
    """The Evaluation row `workflow.evaluate` stores for this assessment, unsaved. Its
    results are the RuleResults themselves while they all pass: `store_evaluations` writes
    them as `RuleResult.as_json` would; a refusal needs them as JSON (`_require_eligible`)
    and gets them so at once."""
    evaluation = Evaluation(
        application=application,
        at=at,
        stage=stage,
        eligible=assessment.eligible,
        amount_fen=assessment.amount_fen,
        results=list(assessment.results),
    )
    if not assessment.eligible:
        evaluation.results = _as_json(evaluation.results)
    return evaluation


def store_evaluations(evaluations: list[Evaluation]) -> None:
    """Store many evaluations at once (bulk approval; the eligibility benchmark). On
    PostgreSQL the rows go by COPY as text lines made here (what `insert_rows` does through
    each field's preparation, in a fraction of the time), the results serialised by orjson
    (already the LRS's JSON library; jsonb stores the same value as from json.dumps)."""
    if connection.vendor != "postgresql" or not evaluations:
        for evaluation in evaluations:
            evaluation.results = _as_json(evaluation.results)
        insert_rows(evaluations)
        return
    times: dict[datetime, str] = {}
    lines = []
    for e in evaluations:
        if e.at not in times:
            times[e.at] = copy_text(e.at.isoformat())
        lines.append(
            f"{int(e.application_id)}\t{times[e.at]}\t{copy_text(e.stage)}\t"
            f"{'t' if e.eligible else 'f'}\t{int(e.amount_fen)}\t"
            f"{copy_text(results_json(e.results))}\n"
        )
    copy_lines(Evaluation, EVALUATION_COLUMNS, lines)


def _as_json(results: list[Any]) -> list[Any]:
    return [r.as_json() if isinstance(r, RuleResult) else r for r in results]


def results_json(results: list[Any]) -> str:
    """Rule results (RuleResults, or their `as_json` dicts) as the JSON text `as_json`
    gives: orjson writes a RuleResult's fields as an object and dates as ISO strings itself;
    `_json_default` does what `kinds.base._jsonable` does with the rest. (Values
    `json.dumps` cannot write at all — a date inside a list — orjson writes; no rule gives
    such values.)"""
    return orjson.dumps(results, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


EVALUATION_COLUMNS = ("application_id", "at", "stage", "eligible", "amount_fen", "results")


def _publicity_running(application: Application) -> DomainError | None:
    if (
        application.status == S.IN_PUBLICITY
        and application.due_at
        and timezone.now() < application.due_at
    ):
        return PublicityRunning(
            _("The public notice runs until %(date)s; approve for payment after it ends.")
            % {"date": timezone.localtime(application.due_at).date().isoformat()}
        )
    return None
