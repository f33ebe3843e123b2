"""Every write on completion certificates: issue (by a person or the periodic task) and revoke
(by a labour officer). Each is transactional and audited."""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Min, Sum, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from zhipei.accounts.models import Role, User
from zhipei.accounts.services import require_role
from zhipei.audit.services import record
from zhipei.core.errors import InvalidInput
from zhipei.learning.certificates import rules
from zhipei.learning.certificates.numbers import MAX_SEQUENCE, format_number, number_prefix
from zhipei.learning.certificates.queries import credited_period, enrolments_due, passed_test
from zhipei.learning.certificates.rules import CertificateRefused, Refusal
from zhipei.learning.crediting.rules import DEFAULT_PARAMS
from zhipei.learning.models import CompletionCertificate, CreditingPolicy, Enrolment
from zhipei.learning.queries import class_hours_credited
from zhipei.lrs.models import Statement
from zhipei.orgs import queries as org_queries
from zhipei.people import queries as people_queries

logger = logging.getLogger("zhipei.learning")

TOKEN_BYTES = 24  # 192 bits, URL-safe base64: 32 characters
REASON_MAX_LENGTH = 1000
_NUMBER_ATTEMPTS = 5


def _require_issuer(enrolment: Enrolment, by: User | None) -> None:
    """The system (by=None), the learner themself, or a labour officer over the learner."""
    if by is None or (by.is_authenticated and by.person_id == enrolment.person_id):
        return
    require_role(by, Role.LABOUR_OFFICER, region=enrolment.person.region)


def _next_number(region_code: str, year: int) -> str:
    prefix = number_prefix(region_code, year)
    numbers = CompletionCertificate.objects.filter(number__startswith=prefix).values_list(
        "number", flat=True
    )
    last = max((int(n[len(prefix) : len(prefix) + 6]) for n in numbers), default=0)
    if last >= MAX_SEQUENCE:
        raise InvalidInput(_("No certificate numbers are left for this region and year."))
    return format_number(region_code, year, last + 1)


def _refusals(enrolment: Enrolment, credited: Decimal, test: Statement | None) -> list[Refusal]:
    refusals: list[Refusal] = []
    if enrolment.status != Enrolment.Status.ACTIVE:
        refusals.append(Refusal(rules.ENROLMENT_WITHDRAWN))
    if CompletionCertificate.objects.filter(enrolment=enrolment).exists():
        refusals.append(Refusal(rules.REVOKED_BEFORE))
    if people_queries.has_active_hold(enrolment.person):
        refusals.append(Refusal(rules.PERSON_ON_HOLD))
    if org_queries.has_active_hold(enrolment.platform.organisation):
        refusals.append(Refusal(rules.PLATFORM_ON_HOLD))
    required = enrolment.course.class_hours
    if credited < required:
        refusals.append(
            Refusal(rules.HOURS_SHORT, {"credited": str(credited), "required": str(required)})
        )
    if enrolment.course.requires_test and test is None:
        refusals.append(Refusal(rules.TEST_NOT_PASSED))
    return refusals


def _period(enrolment: Enrolment, test: Statement | None, today: date) -> tuple[date, date]:
    """First credited day (or the enrolment day) to the last credited day or the test,
    whichever is later, never after today."""
    first_day, last_day = credited_period(enrolment)
    started_on = first_day or timezone.localtime(enrolment.enrolled_at).date()
    ends: list[date] = [started_on]
    if last_day is not None:
        ends.append(last_day)
    if test is not None:
        ends.append(timezone.localtime(test.timestamp).date())
    completed_on = min(max(ends), today)
    return min(started_on, completed_on), completed_on


@transaction.atomic
def issue_certificate(enrolment: Enrolment, *, by: User | None = None) -> CompletionCertificate:
    """Issue the completion certificate of an enrolment, or return the valid one it already
    has. Issued only when the credited class hours reach the course's class hours and, when
    the course requires a test, a passed test of this learner on this platform was reported;
    never while the learner or the platform's organisation is on hold, for a withdrawn
    enrolment or after a certificate of the enrolment was revoked. Raises CertificateRefused
    listing every rule that failed (codes and inputs), NotAllowed / NotInScope for an actor
    who may not issue it."""
    enrolment = (
        Enrolment.objects.select_for_update(of=("self",))
        .select_related("person__region", "course", "platform__organisation__region")
        .get(pk=enrolment.pk)
    )
    _require_issuer(enrolment, by)
    existing = CompletionCertificate.objects.filter(
        enrolment=enrolment, status=CompletionCertificate.Status.VALID
    ).first()
    if existing is not None:
        return existing

    course = enrolment.course
    credited = class_hours_credited(enrolment)
    test = passed_test(enrolment) if course.requires_test else None
    refusals = _refusals(enrolment, credited, test)
    if refusals:
        raise CertificateRefused(refusals)

    now = timezone.now()
    today = timezone.localdate(now)
    started_on, completed_on = _period(enrolment, test, today)
    occupation_id = enrolment.occupation_id
    if occupation_id is None:
        only = list(course.occupations.values_list("pk", flat=True)[:2])
        occupation_id = only[0] if len(only) == 1 else None

    region_code = enrolment.platform.organisation.region.code
    for attempt in range(_NUMBER_ATTEMPTS):
        try:
            with transaction.atomic():
                certificate = CompletionCertificate.objects.create(
                    number=_next_number(region_code, today.year),
                    token=secrets.token_urlsafe(TOKEN_BYTES),
                    enrolment=enrolment,
                    person=enrolment.person,
                    course=course,
                    occupation_id=occupation_id,
                    platform=enrolment.platform,
                    class_hours=course.class_hours,
                    started_on=started_on,
                    completed_on=completed_on,
                    issued_at=now,
                    issued_by=by,
                )
            break
        except IntegrityError:
            # Another transaction took the same number (or issued for this enrolment).
            existing = CompletionCertificate.objects.filter(
                enrolment=enrolment, status=CompletionCertificate.Status.VALID
            ).first()
            if existing is not None:
                return existing
            if attempt == _NUMBER_ATTEMPTS - 1:
                raise
    record(
        "learning.certificate.issued",
        actor=by,
        obj=certificate,
        region_code=enrolment.person.region.code,
        data={
            "number": certificate.number,
            "enrolment_id": enrolment.pk,
            "class_hours_credited": str(credited),
            "class_hours_required": str(course.class_hours),
            "test_statement_id": str(test.statement_id) if test is not None else None,
        },
    )
    return certificate


@transaction.atomic
def revoke_certificate(
    certificate: CompletionCertificate, *, reason: str, by: User
) -> CompletionCertificate:
    """A labour officer over the holder's region revokes a valid certificate (compare-and-swap
    on its status). Revoking a certificate that is already revoked returns it unchanged.
    Raises InvalidInput (no reason), NotAllowed / NotInScope."""
    certificate = CompletionCertificate.objects.select_related("person__region").get(
        pk=certificate.pk
    )
    require_role(by, Role.LABOUR_OFFICER, region=certificate.person.region)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for the revocation."), field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidInput(
            _("The reason is too long (at most %(max)d characters).") % {"max": REASON_MAX_LENGTH},
            field="reason",
        )
    now = timezone.now()
    changed = CompletionCertificate.objects.filter(
        pk=certificate.pk, status=CompletionCertificate.Status.VALID
    ).update(
        status=CompletionCertificate.Status.REVOKED,
        revoked_at=now,
        revoked_by=by,
        revocation_reason=reason,
    )
    certificate.refresh_from_db()
    if changed != 1:
        return certificate  # already revoked: a replay changes nothing
    record(
        "learning.certificate.revoked",
        actor=by,
        obj=certificate,
        region_code=certificate.person.region.code,
        data={"number": certificate.number, "reason": reason},
    )
    return certificate


@dataclass
class IssueSummary:
    checked: int = 0
    issued: int = 0
    refused: Counter[str] = field(default_factory=Counter)


def issue_due_certificates(*, limit: int | None = None) -> IssueSummary:
    """Issue certificates for live enrolments with credited time and no certificate yet whose
    credited hours reach the course's hours (the rest of the rules are checked by
    issue_certificate). Enrolments that could not reach the hours under any crediting policy
    (fewest minutes per class hour of all) are left out in SQL; each issue is its own
    transaction."""
    fewest = CreditingPolicy.objects.aggregate(m=Min("minutes_per_class_hour"))["m"]
    minutes = min(
        fewest or DEFAULT_PARAMS.minutes_per_class_hour, DEFAULT_PARAMS.minutes_per_class_hour
    )
    candidates = (
        enrolments_due()
        .annotate(credited_total=Sum("credited__credited_seconds"))
        .filter(credited_total__gte=F("course__class_hours") * Value(minutes * 60))
        .values_list("pk", flat=True)
    )
    pks = list(candidates[:limit] if limit is not None else candidates)
    summary = IssueSummary()
    for enrolment in Enrolment.objects.filter(pk__in=pks).select_related("course").order_by("pk"):
        summary.checked += 1
        if class_hours_credited(enrolment) < enrolment.course.class_hours:
            summary.refused[rules.HOURS_SHORT] += 1
            continue
        try:
            issue_certificate(enrolment)
        except CertificateRefused as refused:
            for code in refused.codes:
                summary.refused[code] += 1
        else:
            summary.issued += 1
    if summary.issued or summary.refused:
        logger.info(
            "certificates: checked %d, issued %d, refused %s",
            summary.checked,
            summary.issued,
            dict(summary.refused),
        )
    return summary
