"""Applications: starting them, their eligibility, and every move of the review workflow.

The transition table (issue 5) is `ALLOWED`; one private mover (`_move`) changes the status
by compare-and-swap, keeps the lines' `live` flag, records the step and writes the audit
event in the same transaction (STYLE §5). Who may act on a step is decided by routing: the
county review goes to the officers of the county the applicant belongs to, the city review to
the prefecture's, and where a level is missing (a county directly under a province, a
prefecture without counties) to the nearest ancestor's — the routing is recorded with the
step. Finance approval commits the amount in the ledger of the nearest fund of the policy's
source above the applicant; payment moves are made by subsidies.disbursement.

Every approval re-runs the kind's rules (holds included) and refuses when a rule fails.
Nobody reviews a claim they are party to or declared a conflict of interest in. Before
submission (a draft, or a claim returned for correction) the applicant may correct the inputs
of kinds that allow it (`revise_inputs`); the rules then run again as for a new draft.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.accounts.services import require_role
from zhipei.audit import services as audit
from zhipei.core import crypto
from zhipei.core.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotInScope,
    OnHold,
    StaleObject,
    TransitionNotAllowed,
)
from zhipei.core.text import ascii_digits
from zhipei.orgs.models import Enterprise
from zhipei.people.models import Person
from zhipei.regions.models import Region
from zhipei.subsidies import services as ledger
from zhipei.subsidies.errors import (
    BankDetailsMissing,
    ConflictDeclared,
    NoFund,
    NotEligible,
    PublicityRunning,
    SelfReview,
)
from zhipei.subsidies.facts import Facts
from zhipei.subsidies.kinds import get_kind
from zhipei.subsidies.kinds.base import FAIL, ApplicationKind, Assessment
from zhipei.subsidies.models import (
    DEAD_STATUSES,
    Application,
    ApplicationLine,
    ApplicationStatus,
    ApplicationStep,
    ConflictOfInterest,
    Evaluation,
    FundAccount,
)
from zhipei.subsidies.queries import region_chain
from zhipei.subsidies.reasons import render

S = ApplicationStatus

ALLOWED: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.SUBMITTED: frozenset({S.COUNTY_APPROVED, S.RETURNED, S.REJECTED, S.WITHDRAWN}),
    S.COUNTY_APPROVED: frozenset({S.CITY_APPROVED, S.RETURNED, S.REJECTED}),
    S.RETURNED: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.CITY_APPROVED: frozenset({S.IN_PUBLICITY, S.FINANCE_APPROVED, S.REJECTED}),
    S.IN_PUBLICITY: frozenset({S.FINANCE_APPROVED, S.REJECTED}),
    S.FINANCE_APPROVED: frozenset({S.IN_BATCH}),
    S.IN_BATCH: frozenset({S.PAID, S.PAYMENT_FAILED}),
    S.PAYMENT_FAILED: frozenset({S.IN_BATCH, S.REJECTED}),
}  # paid, rejected and withdrawn are terminal

# Days an officer has for each step, counted from the step's start (working days, Monday to
# Friday). The public notice's length comes from policy (`publicity_working_days`).
DEFAULT_STEP_DAYS: dict[str, int] = {
    S.SUBMITTED: 10,
    S.COUNTY_APPROVED: 10,
    S.CITY_APPROVED: 10,
    S.FINANCE_APPROVED: 15,
    S.PAYMENT_FAILED: 10,
}

HOLD_CODES = frozenset({"no_hold_person", "no_hold_organisation"})
# Where the applicant may still correct the inputs (revise_inputs) and the lines are rewritten.
REVISABLE_STATUSES = frozenset({S.DRAFT, S.RETURNED})


def step_days() -> dict[str, int]:
    return DEFAULT_STEP_DAYS | getattr(settings, "SUBSIDY_STEP_DAYS", {})


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days (Monday–Friday) after `start`."""
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.max.time().replace(microsecond=0)))


# --- Routing ---------------------------------------------------------------------------------


def route(application: Application, level: str) -> Region:
    """The region whose officers act at `level` ("county" or "prefecture"): the applicant's
    ancestor at that level, or — where the chain has none — the nearest region above it."""
    chain = region_chain(application.region)  # province … applicant's region
    for region in chain:
        if region.level == level:
            return region
    order: list[str] = [Region.Level.PROVINCE, Region.Level.PREFECTURE, Region.Level.COUNTY]
    wanted = order.index(level)
    above = [r for r in chain if order.index(r.level) < wanted]
    return above[-1] if above else chain[-1]


def fund_region(source: str, region: Region) -> Region:
    """The nearest region at or above `region` with a fund of `source` open."""
    chain = region_chain(region)
    open_at = set(
        FundAccount.objects.filter(
            source=source, region__in=chain, kind=FundAccount.Kind.AVAILABLE
        ).values_list("region_id", flat=True)
    )
    for candidate in reversed(chain):
        if candidate.pk in open_at:
            return candidate
    raise NoFund()


def _review_target(application: Application, status: str) -> Region | None:
    if status == S.SUBMITTED:
        return route(application, Region.Level.COUNTY)
    if status == S.COUNTY_APPROVED:
        return route(application, Region.Level.PREFECTURE)
    if status in (
        S.CITY_APPROVED,
        S.IN_PUBLICITY,
        S.FINANCE_APPROVED,
        S.IN_BATCH,
        S.PAYMENT_FAILED,
    ):
        return application.fund_region
    return None


# --- The mover -------------------------------------------------------------------------------


def _move(
    application: Application,
    to: str,
    *,
    by: User | None,
    note: str = "",
    due_at: datetime | None = None,
    data: dict[str, Any] | None = None,
    **changes: Any,
) -> Application:
    expected = application.status
    if to not in ALLOWED.get(expected, frozenset()):
        raise TransitionNotAllowed(
            str(S(expected).label) if expected in S.values else expected,
            str(S(to).label),
        )
    now = timezone.now()
    target = _review_target(application, to)
    if due_at is None and to in step_days():
        due_at = _end_of(add_working_days(timezone.localdate(), step_days()[to]))
    changed = Application.objects.filter(pk=application.pk, status=expected).update(
        status=to,
        status_changed_at=now,
        review_region=target,
        due_at=due_at,
        **changes,
    )
    if changed != 1:
        raise StaleObject()
    if to in DEAD_STATUSES:
        ApplicationLine.objects.filter(application=application).update(live=False)
    ApplicationStep.objects.create(
        application=application,
        from_status=expected,
        to_status=to,
        at=now,
        by=by,
        review_region=target,
        note=note.strip()[:2000],
    )
    nominal: dict[str, str] = {
        S.SUBMITTED: Region.Level.COUNTY,
        S.COUNTY_APPROVED: Region.Level.PREFECTURE,
    }
    routed_up = target is not None and to in nominal and target.level != nominal[to]
    audit.record(
        "subsidies.application." + to,
        actor=by,
        obj=application,
        region_code=application.region.code,
        data={
            "from": expected,
            "to": to,
            "note": note,
            "review_region": target.code if target else None,
            "routed_to_ancestor": routed_up,
        }
        | (data or {}),
    )
    application.refresh_from_db()
    return application


# --- Eligibility -----------------------------------------------------------------------------


def assess(application: Application, facts: Facts | None = None) -> Assessment:
    kind = get_kind(application.kind)
    if facts is None:
        facts = Facts.load([application])
    return kind.assess(application, facts)


def _store_evaluation(application: Application, assessment: Assessment, stage: str) -> Evaluation:
    return Evaluation.objects.create(
        application=application,
        at=timezone.now(),
        stage=stage,
        eligible=assessment.eligible,
        amount_fen=assessment.amount_fen,
        results=[r.as_json() for r in assessment.results],
    )


def line_rows(
    application: Application, assessment: Assessment, *, live: bool
) -> list[ApplicationLine]:
    """The assessment's lines as unsaved ApplicationLine rows of `application`."""
    return [
        ApplicationLine(
            application=application,
            kind=application.kind,
            person=line.person,
            certificate=line.certificate,
            occupation_id=line.occupation_id,
            skill_level=line.skill_level,
            training_date=line.training_date,
            class_hours=line.class_hours,
            amount_fen=line.amount_fen,
            included=line.included,
            live=live,
        )
        for line in assessment.lines
    ]


def _write_lines(application: Application, assessment: Assessment) -> None:
    """Replace the lines with the assessment's (drafts and returned applications only).
    Lines claim their certificate and count against yearly limits (`live`) only while the
    rules accept the application: a refused draft stays on record, explained, without
    blocking the claim that came first or using up the person's limits."""
    ApplicationLine.objects.filter(application=application).delete()
    live = application.is_live and not assessment.failures
    try:
        with transaction.atomic():
            ApplicationLine.objects.bulk_create(line_rows(application, assessment, live=live))
    except IntegrityError as exc:
        raise Conflict(
            _("A certificate in this application is already claimed in another application.")
        ) from exc


def evaluate(application: Application, *, stage: str, facts: Facts | None = None) -> Evaluation:
    """Run the rules, store the evaluation and (before submission) the lines and amount."""
    assessment = assess(application, facts)
    evaluation = _store_evaluation(application, assessment, stage)
    if application.status in (S.DRAFT, S.RETURNED):
        _write_lines(application, assessment)
        Application.objects.filter(pk=application.pk).update(
            amount_fen=assessment.amount_fen,
            fund_source=assessment.fund_source,
            policy_date=assessment.policy_date,
            parameters=assessment.parameters_snapshot(),
        )
        application.refresh_from_db()
    return evaluation


def _require_eligible(evaluation: Evaluation) -> None:
    failures = [r for r in evaluation.results if r["outcome"] == FAIL]
    if not failures:
        if not evaluation.eligible:
            raise NotEligible([_("The amount comes to zero.")])
        return
    reasons = [render(r).text for r in failures]
    if all(r["code"] in HOLD_CODES for r in failures):
        raise OnHold(" ".join(reasons))
    raise NotEligible(reasons)


def latest_evaluation(application: Application) -> Evaluation | None:
    return application.evaluations.order_by("-at", "-pk").first()


# --- Applicants ------------------------------------------------------------------------------


def _administers(user: User, enterprise: Enterprise) -> bool:
    return RoleAssignment.objects.filter(
        user=user,
        role=Role.ENTERPRISE_ADMIN,
        organisation_id=enterprise.organisation_id,
        revoked_at__isnull=True,
    ).exists()


def _require_applicant(application: Application, by: User) -> None:
    if application.person_id is not None:
        if by.person_id != application.person_id:
            raise NotInScope()
    elif application.enterprise is None or not _administers(by, application.enterprise):
        raise NotInScope()


@transaction.atomic(durable=True)
def start_application(
    kind: str,
    *,
    by: User | None,
    person: Person | None = None,
    enterprise: Enterprise | None = None,
    inputs: dict[str, Any] | None = None,
    idempotency_key: str = "",
    proposed: bool = False,
) -> Application:
    """A draft application of `kind`, evaluated at once so the applicant sees why it is or is
    not eligible. A person applies for themselves; an enterprise administrator for their
    enterprise; `by=None` is Zhipei itself proposing a claim (policy finds the person).
    The same `idempotency_key` from the same user returns the first application."""
    handler = get_kind(kind)
    idempotency_key = idempotency_key.strip()[:100]
    if by is not None and idempotency_key:
        existing = Application.objects.filter(
            created_by=by, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return existing
    if (person is None) == (enterprise is None):
        raise InvalidInput(_("An application has one applicant: a person or an enterprise."))
    if handler.payee == "person" and person is None:
        raise InvalidInput(_("This subsidy is claimed by the person trained."))
    if handler.payee == "enterprise" and enterprise is None:
        raise InvalidInput(_("This subsidy is claimed by the enterprise."))
    if by is not None:
        if person is not None and by.person_id != person.pk:
            raise NotAllowed(_("You can only apply for yourself."))
        if enterprise is not None and not _administers(by, enterprise):
            raise NotInScope()
    region = person.region if person is not None else enterprise.organisation.region  # type: ignore[union-attr]
    now = timezone.now()
    try:
        with transaction.atomic():
            application = Application.objects.create(
                kind=kind,
                person=person,
                enterprise=enterprise,
                region=region,
                status=S.DRAFT,
                status_changed_at=now,
                inputs=dict(inputs or {}),
                proposed=proposed,
                idempotency_key=idempotency_key if by is not None else "",
                created_at=now,
                created_by=by,
                payee_name=person.name if person is not None else str(enterprise),
            )
    except IntegrityError:
        # The same key raced in from a second request: return the first one.
        return Application.objects.get(created_by=by, idempotency_key=idempotency_key)
    evaluate(application, stage="draft")
    audit.record(
        "subsidies.application.started",
        actor=by,
        obj=application,
        region_code=region.code,
        data={"kind": kind, "inputs": application.inputs, "proposed": proposed},
    )
    return application


def clean_account_number(raw: str) -> str:
    digits = "".join(raw.split()).replace("-", "")
    if not ascii_digits(digits) or not 8 <= len(digits) <= 32:
        raise InvalidInput(
            _("A bank account number has 8 to 32 digits (spaces allowed)."),
            field="account_number",
        )
    return digits


def mask_account(digits: str) -> str:
    return f"{digits[:4]} **** {digits[-4:]}"


def _account_ad(application: Application) -> bytes:
    # The primary key, as crypto.associated_data_for gives it to rotate_keys (apps.py).
    return str(application.pk).encode()


def account_number(application: Application) -> str:
    """The payee's account number in clear (for the bank file only)."""
    if not application.account_ciphertext:
        return ""
    return crypto.decrypt(
        application.account_key_id,
        bytes(application.account_ciphertext),
        associated_data=_account_ad(application),
    ).decode()


@transaction.atomic(durable=True)
def set_bank_details(
    application: Application, *, payee_name: str, bank_name: str, account_number: str, by: User
) -> Application:
    """Where the money goes. Applicants set it on a draft, a returned application or after a
    failed payment (then the application goes back into the next batch)."""
    _require_applicant(application, by)
    application.refresh_from_db()
    if application.status not in (S.DRAFT, S.RETURNED, S.PAYMENT_FAILED):
        raise Conflict(_("Bank details can no longer be changed at this step."))
    payee_name = payee_name.strip()
    bank_name = bank_name.strip()
    if not payee_name or len(payee_name) > 200:
        raise InvalidInput(_("Enter the account holder's name."), field="payee_name")
    if payee_name[0] in "=+-@\t\r":
        # The name goes into the bank file; a spreadsheet would read it as a formula.
        raise InvalidInput(
            _("An account holder's name cannot start with =, +, - or @."), field="payee_name"
        )
    if not bank_name or len(bank_name) > 100:
        raise InvalidInput(_("Enter the bank's name."), field="bank_name")
    digits = clean_account_number(account_number)
    key_id, blob = crypto.encrypt(digits.encode(), associated_data=_account_ad(application))
    Application.objects.filter(pk=application.pk).update(
        payee_name=payee_name,
        bank_name=bank_name,
        account_ciphertext=blob,
        account_key_id=key_id,
        account_masked=mask_account(digits),
    )
    audit.record(
        "subsidies.application.bank_details",
        actor=by,
        obj=application,
        region_code=application.region.code,
        data={"bank_name": bank_name, "account": mask_account(digits)},
    )
    application.refresh_from_db()
    return application


def _lock(application: Application) -> None:
    """Reload the application with its row locked until the transaction ends (PostgreSQL):
    a revision of the inputs re-evaluates and rewrites the lines before it commits, so a
    submission or withdrawal must not read the inputs or touch the lines in the meantime.
    SQLite has no row locks; its IMMEDIATE transactions already run one writer at a time."""
    application.refresh_from_db(from_queryset=Application.objects.select_for_update())


@transaction.atomic(durable=True)
def submit(application: Application, *, by: User) -> Application:
    """Send a draft (or a returned application) for review. Submitting twice is a no-op."""
    _require_applicant(application, by)
    _lock(application)
    if application.status == S.SUBMITTED:
        return application  # a double click or a retried request
    if application.status not in (S.DRAFT, S.RETURNED):
        raise TransitionNotAllowed(application.get_status_display(), str(S.SUBMITTED.label))
    if not application.account_ciphertext:
        raise BankDetailsMissing(field="account_number")
    _require_eligible(evaluate(application, stage="submission"))
    now = timezone.now()
    return _move(
        application,
        S.SUBMITTED,
        by=by,
        submitted_at=now,
        first_submitted_at=application.first_submitted_at or now,
    )


@transaction.atomic(durable=True)
def withdraw(application: Application, *, by: User, note: str = "") -> Application:
    _require_applicant(application, by)
    _lock(application)
    if application.status == S.WITHDRAWN:
        return application
    return _move(application, S.WITHDRAWN, by=by, note=note)


def _cleaned(handler: ApplicationKind, inputs: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return handler.clean_inputs(inputs)
    except InvalidInput:
        return None


@transaction.atomic(durable=True)
def revise_inputs(application: Application, *, inputs: dict[str, Any], by: User) -> Application:
    """The applicant corrects what a draft or returned claim is for (an enterprise's claim
    comes back because a trainee or the cost was wrong), and the rules run again exactly as
    for a new draft: a new evaluation, the lines and amount rewritten from policy.

    Guarantees: only the applicant (the person, or an administrator of the enterprise); the
    row is locked, so a revision never interleaves with a submission or withdrawal; the
    inputs are cleaned by the kind before anything is written; the lines are replaced in
    this transaction, so a certificate dropped is released and one added is claimed at the
    same commit (the one-live-claim index never sees both or neither); the same inputs
    again change and record nothing; one audit event with the inputs before and after.

    Raises NotInScope (not the applicant), Conflict (a kind whose input is what it claims, a
    fixed input changed, the application past draft or returned, or a certificate claimed
    in another application meanwhile) or InvalidInput naming the field (nothing changed).
    """
    _require_applicant(application, by)
    handler = get_kind(application.kind)
    _lock(application)
    if not handler.revisable:
        raise Conflict(
            _(
                "This claim is for one certificate and cannot be changed. To claim for another "
                "certificate, withdraw this application and claim the other certificate."
            )
        )
    if application.status not in REVISABLE_STATUSES:
        raise Conflict(
            _(
                "The claim can be corrected only as a draft or when returned for correction; "
                "it is now “%(status)s”."
            )
            % {"status": application.get_status_display()}
        )
    cleaned = handler.clean_inputs(inputs)
    before = dict(application.inputs)
    for key in sorted(handler.fixed_inputs):
        if cleaned.get(key) != before.get(key):
            raise Conflict(
                _(
                    "This cannot be changed in a correction; withdraw this application and "
                    "start a new claim instead."
                ),
                field=key,
            )
    if cleaned == before or cleaned == _cleaned(handler, before):
        return application  # a resent form or a retried request
    amount_before = application.amount_fen
    Application.objects.filter(pk=application.pk).update(inputs=cleaned)
    application.inputs = cleaned
    evaluation = evaluate(application, stage="revision")
    audit.record(
        "subsidies.application.revised",
        actor=by,
        obj=application,
        region_code=application.region.code,
        data={
            "status": application.status,
            "before": before,
            "after": cleaned,
            "amount_before_fen": amount_before,
            "amount_fen": application.amount_fen,
            "eligible": evaluation.eligible,
        },
    )
    return application


# --- Reviewers -------------------------------------------------------------------------------


def _parties(application: Application) -> tuple[set[int], set[int]]:
    """People and enterprises the application is about."""
    people = set(application.lines.values_list("person_id", flat=True))
    if application.person_id:
        people.add(application.person_id)
    enterprises = {application.enterprise_id} if application.enterprise_id else set()
    return people, enterprises


def check_reviewer(application: Application, by: User) -> None:
    """Refuse a reviewer who is party to the claim or declared a conflict of interest."""
    people, enterprises = _parties(application)
    if by.person_id is not None and by.person_id in people:
        raise SelfReview()
    if application.enterprise is not None and _administers(by, application.enterprise):
        raise SelfReview()
    declared = ConflictOfInterest.objects.filter(officer=by, withdrawn_at__isnull=True)
    if declared.filter(person_id__in=people).exists() or (
        enterprises and declared.filter(enterprise_id__in=enterprises).exists()
    ):
        raise ConflictDeclared()


def _require_reviewer(application: Application, by: User, role: str) -> None:
    target = application.review_region
    if target is None:
        raise TransitionNotAllowed(application.get_status_display(), "")
    if role == Role.LABOUR_OFFICER:
        require_role(by, role, region=target, level=target.level)
    else:
        require_role(by, role, region=target)
    check_reviewer(application, by)


def _fresh(application: Application, expected: Iterable[str]) -> Application:
    application.refresh_from_db()
    if application.status not in set(expected):
        raise StaleObject(
            _("This application is now “%(status)s”; someone else acted on it first.")
            % {"status": application.get_status_display()}
        )
    return application


@transaction.atomic(durable=True)
def approve_at_county(application: Application, *, by: User, note: str = "") -> Application:
    _fresh(application, [S.SUBMITTED])
    _require_reviewer(application, by, Role.LABOUR_OFFICER)
    _require_eligible(evaluate(application, stage="county"))
    return _move(application, S.COUNTY_APPROVED, by=by, note=note)


@transaction.atomic(durable=True)
def approve_at_city(application: Application, *, by: User, note: str = "") -> Application:
    """City approval; where policy asks for a public notice (公示) it starts at once and runs
    `publicity_working_days`. Picks the fund the money will come from."""
    _fresh(application, [S.COUNTY_APPROVED])
    _require_reviewer(application, by, Role.LABOUR_OFFICER)
    _require_eligible(evaluate(application, stage="city"))
    paying = fund_region(application.fund_source, application.region)
    Application.objects.filter(pk=application.pk).update(fund_region=paying)
    application.fund_region = paying
    application = _move(application, S.CITY_APPROVED, by=by, note=note)
    days = int(application.parameters.get("values", {}).get("publicity_working_days") or 0)
    if days > 0:
        ends_on = add_working_days(timezone.localdate(), days)
        application = _move(
            application,
            S.IN_PUBLICITY,
            by=None,
            due_at=_end_of(ends_on),
            data={"publicity_working_days": days, "ends_on": ends_on.isoformat()},
        )
    return application


@transaction.atomic(durable=True)
def uphold_objection(application: Application, *, by: User, note: str) -> Application:
    """An objection raised during the public notice is upheld: the claim is rejected."""
    _fresh(application, [S.IN_PUBLICITY])
    require_role(by, Role.LABOUR_OFFICER, region=route(application, Region.Level.PREFECTURE))
    check_reviewer(application, by)
    if not note.strip():
        raise InvalidInput(_("Say what the objection was."), field="note")
    return _move(application, S.REJECTED, by=by, note=note)


@transaction.atomic(durable=True)
def approve_for_payment(application: Application, *, by: User, note: str = "") -> Application:
    """Finance approval: re-checks the rules and commits the amount in the fund's ledger
    (available → committed); refused with the figures when the fund cannot cover it."""
    _fresh(application, [S.CITY_APPROVED, S.IN_PUBLICITY])
    _require_reviewer(application, by, Role.FINANCE_OFFICER)
    if (
        application.status == S.IN_PUBLICITY
        and application.due_at
        and timezone.now() < application.due_at
    ):
        raise PublicityRunning(
            _("The public notice runs until %(date)s; approve for payment after it ends.")
            % {"date": timezone.localtime(application.due_at).date().isoformat()}
        )
    _require_eligible(evaluate(application, stage="finance"))
    assert application.fund_region is not None
    ledger.commit_funds(
        source=application.fund_source,
        region=application.fund_region,
        amount_fen=application.amount_fen,
        application=ledger.application_ref(application),
        by=by,
        reference=f"application-{application.pk}-commitment",
        memo=application.number,
    )
    return _move(application, S.FINANCE_APPROVED, by=by, note=note)


@transaction.atomic(durable=True)
def return_for_correction(application: Application, *, by: User, note: str) -> Application:
    """Back to the applicant with what to correct (from county or city review)."""
    _fresh(application, [S.SUBMITTED, S.COUNTY_APPROVED])
    _require_reviewer(application, by, Role.LABOUR_OFFICER)
    if not note.strip():
        raise InvalidInput(_("Say what the applicant must correct."), field="note")
    return _move(application, S.RETURNED, by=by, note=note)


@transaction.atomic(durable=True)
def reject(application: Application, *, by: User, note: str) -> Application:
    """Refuse the claim for good, at any review step (a labour officer of the step's region;
    after a failed payment a finance officer, and the commitment is released)."""
    _fresh(
        application,
        [S.SUBMITTED, S.COUNTY_APPROVED, S.CITY_APPROVED, S.IN_PUBLICITY, S.PAYMENT_FAILED],
    )
    if not note.strip():
        raise InvalidInput(_("Say why the application is rejected."), field="note")
    if application.status == S.PAYMENT_FAILED:
        _require_reviewer(application, by, Role.FINANCE_OFFICER)
        assert application.fund_region is not None
        ledger.release_commitment(
            source=application.fund_source,
            region=application.fund_region,
            amount_fen=application.amount_fen,
            application=ledger.application_ref(application),
            by=by,
            reference=f"application-{application.pk}-release",
            memo=note,
        )
    elif application.status in (S.CITY_APPROVED, S.IN_PUBLICITY):
        require_role(by, Role.LABOUR_OFFICER, region=route(application, Region.Level.PREFECTURE))
        check_reviewer(application, by)
    else:
        _require_reviewer(application, by, Role.LABOUR_OFFICER)
    return _move(application, S.REJECTED, by=by, note=note)


# --- Conflicts of interest -------------------------------------------------------------------


@transaction.atomic(durable=True)
def declare_conflict(
    *, by: User, reason: str, person: Person | None = None, enterprise: Enterprise | None = None
) -> ConflictOfInterest:
    if not (
        by.is_authenticated
        and RoleAssignment.objects.filter(
            user=by, role__in=[Role.LABOUR_OFFICER, Role.FINANCE_OFFICER], revoked_at__isnull=True
        ).exists()
    ):
        raise NotAllowed()
    if (person is None) == (enterprise is None):
        raise InvalidInput(_("Name one person or one enterprise."))
    if not reason.strip():
        raise InvalidInput(_("Say why you must not review their claims."), field="reason")
    declaration = ConflictOfInterest.objects.create(
        officer=by,
        person=person,
        enterprise=enterprise,
        reason=reason.strip(),
        declared_at=timezone.now(),
    )
    audit.record(
        "subsidies.conflict.declared",
        actor=by,
        obj=declaration,
        data={
            "person": person.pk if person else None,
            "enterprise": enterprise.pk if enterprise else None,
        },
    )
    return declaration


@transaction.atomic(durable=True)
def withdraw_conflict(declaration: ConflictOfInterest, *, by: User) -> ConflictOfInterest:
    if declaration.officer_id != by.pk:
        raise NotInScope()
    if declaration.withdrawn_at is None:
        declaration.withdrawn_at = timezone.now()
        declaration.save(update_fields=["withdrawn_at"])
        audit.record("subsidies.conflict.withdrawn", actor=by, obj=declaration)
    return declaration


# --- Payment moves (called by subsidies.disbursement inside its transactions) -----------------


def place_in_batch(
    application: Application, *, by: User, facts: Facts | None = None
) -> Application:
    """finance_approved or payment_failed → in_batch, after checking holds again."""
    _fresh(application, [S.FINANCE_APPROVED, S.PAYMENT_FAILED])
    evaluation = _store_evaluation(application, assess(application, facts), "batch")
    held = [r for r in evaluation.results if r["outcome"] == FAIL and r["code"] in HOLD_CODES]
    if held:
        raise OnHold(" ".join(render(r).text for r in held))
    if not application.account_ciphertext:
        raise BankDetailsMissing()
    return _move(application, S.IN_BATCH, by=by)


def record_paid(
    application: Application, *, by: User, paid_at: datetime, note: str = ""
) -> Application:
    application.refresh_from_db()
    if application.status == S.PAID:
        return application
    return _move(application, S.PAID, by=by, note=note, paid_at=paid_at)


def record_payment_failed(application: Application, *, by: User, note: str) -> Application:
    application.refresh_from_db()
    if application.status == S.PAYMENT_FAILED:
        return application
    return _move(application, S.PAYMENT_FAILED, by=by, note=note)


# --- Figures ---------------------------------------------------------------------------------


def time_to_payment(application: Application) -> timedelta | None:
    """From the first submission to the bank's confirmation (R19: a shorter cycle)."""
    if application.paid_at is None or application.first_submitted_at is None:
        return None
    return application.paid_at - application.first_submitted_at
