"""Reads for completion certificates: the passed test of an enrolment, the enrolments due for
a certificate, lookups for the public verification page and scoped lookups for officers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, Max, Min, OuterRef, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from zhipei.accounts.models import User
from zhipei.accounts.scope import get_in_scope, scope_to_regions
from zhipei.learning.certificates.numbers import names_match, parse_number
from zhipei.learning.certificates.pdf import CertificateContent
from zhipei.learning.models import CompletionCertificate, CreditedTime, Enrolment
from zhipei.lrs.models import Statement
from zhipei.lrs_documents import profile
from zhipei.orgs.models import Platform
from zhipei.people.models import Person


def _load(payload: str) -> Any:
    try:
        return json.loads(payload)
    except (TypeError, ValueError):
        return None


def _parents(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return []
    context = payload.get("context")
    if not isinstance(context, dict):
        return []
    activities = context.get("contextActivities")
    if not isinstance(activities, dict):
        return []
    parents = activities.get("parent")
    if isinstance(parents, dict):
        parents = [parents]
    if not isinstance(parents, list):
        return []
    return [p["id"] for p in parents if isinstance(p, dict) and isinstance(p.get("id"), str)]


def _success(payload: Any) -> bool:
    """False only when the statement itself says result.success is false."""
    if isinstance(payload, dict):
        result = payload.get("result")
        if isinstance(result, dict) and result.get("success") is False:
            return False
    return True


def passed_test(enrolment: Enrolment) -> Statement | None:
    """The earliest statement (not voided) reporting that the enrolment's learner passed the
    course's test on the enrolment's platform since enrolling (docs/xapi-profile.md §9: verb
    `passed`, object = the test with the course as parent; the course itself as object counts
    too)."""
    course_iri = enrolment.course.activity_iri
    candidates = Statement.objects.filter(
        person_id=enrolment.person_id,
        platform_id=enrolment.platform_id,
        verb_id=profile.PASSED,
        voided=False,
        is_voiding=False,
        timestamp__gte=enrolment.enrolled_at,
    ).order_by("timestamp", "pk")
    for statement in candidates.only("pk", "timestamp", "activity_id", "course_id", "payload"):
        payload = _load(statement.payload)
        about_course = (
            statement.course_id == enrolment.course_id
            or statement.activity_id == course_iri
            or course_iri in _parents(payload)
        )
        if about_course and _success(payload):
            return statement
    return None


def credited_period(enrolment: Enrolment) -> tuple[date | None, date | None]:
    """The first and last day with credited time."""
    span = CreditedTime.objects.filter(enrolment=enrolment, credited_seconds__gt=0).aggregate(
        first=Min("day"), last=Max("day")
    )
    return span["first"], span["last"]


def enrolments_due() -> QuerySet[Enrolment]:
    """Live enrolments with credited time and no certificate yet (valid or revoked): the
    candidates the periodic issuing task checks."""
    return (
        Enrolment.objects.filter(status=Enrolment.Status.ACTIVE)
        .filter(
            Exists(CreditedTime.objects.filter(enrolment=OuterRef("pk"), credited_seconds__gt=0))
        )
        .exclude(Exists(CompletionCertificate.objects.filter(enrolment=OuterRef("pk"))))
        .select_related("course", "person__region", "platform__organisation__region")
        .order_by("pk")
    )


def _public() -> QuerySet[CompletionCertificate]:
    return CompletionCertificate.objects.select_related(
        "person", "course", "occupation", "platform__organisation"
    )


def certificate_by_token(token: str) -> CompletionCertificate:
    """The certificate behind a verification URL; Http404 for an unknown token."""
    if not token or len(token) > 64:
        raise Http404
    try:
        return _public().get(token=token)
    except CompletionCertificate.DoesNotExist as exc:
        raise Http404 from exc


def certificate_by_number_and_name(number: str, name: str) -> CompletionCertificate | None:
    """The certificate with this number whose holder has exactly this full name, else None
    (the caller must not tell which of the two did not match)."""
    canonical = parse_number(number)
    if canonical is None:
        return None
    certificate = _public().filter(number=canonical).first()
    if certificate is None or not names_match(name, certificate.person.name):
        return None
    return certificate


def valid_certificates_of(person: Person) -> list[CompletionCertificate]:
    """A learner's valid certificates, newest first (for "My learning")."""
    return list(
        CompletionCertificate.objects.filter(
            person=person, status=CompletionCertificate.Status.VALID
        ).select_related("course")
    )


def certificates_of(user: User) -> QuerySet[CompletionCertificate]:
    """The certificates a user may download: their own, plus those of learners in their
    officer scope."""
    qs = _public()
    own = qs.filter(person_id=user.person_id) if user.person_id else qs.none()
    scoped = scope_to_regions(qs, user, region_field="person__region")
    return (own | scoped).distinct()


def get_certificate_for(user: User, pk: int | str) -> CompletionCertificate:
    try:
        return certificates_of(user).get(pk=pk)
    except (CompletionCertificate.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def verify_url(certificate: CompletionCertificate) -> str:
    return settings.SITE_URL + reverse("verify:completion", args=[certificate.token])


def content_of(certificate: CompletionCertificate) -> CertificateContent:
    """What the PDF prints for a certificate (masked ID number only)."""
    occupation = certificate.occupation
    return CertificateContent(
        number=certificate.number,
        holder_name=certificate.person.name,
        id_masked=certificate.person.id_masked,
        course_title=certificate.course.title,
        occupation_code=occupation.code if occupation else "",
        occupation_name=occupation.name if occupation else "",
        class_hours=certificate.class_hours,
        started_on=certificate.started_on,
        completed_on=certificate.completed_on,
        platform_name=certificate.platform.organisation.name,
        issued_on=timezone.localtime(certificate.issued_at).date(),
        verify_url=verify_url(certificate),
    )


# --- Officer pages --------------------------------------------------------------------------


def _officer_certificates(user: User) -> QuerySet[CompletionCertificate]:
    return scope_to_regions(
        CompletionCertificate.objects.select_related(
            "person", "course", "occupation", "platform__organisation", "revoked_by"
        ),
        user,
        region_field="person__region",
    )


@dataclass(frozen=True)
class CertificateFilter:
    """What an officer narrowed the list to; empty values do not filter."""

    number: str = ""
    course: str = ""
    platform: Platform | None = None
    status: str = ""
    issued_from: date | None = None
    issued_to: date | None = None


def certificates_for_officer(
    user: User, where: CertificateFilter | None = None
) -> QuerySet[CompletionCertificate]:
    """Certificates of learners in the officer's region subtree (labour and finance officers),
    newest first, narrowed by `where`: number (a full number typed any way, or a part of
    one), course title, platform, status, and the issue date from/to (inclusive, local days)."""
    rows = _officer_certificates(user)
    where = where or CertificateFilter()
    if where.number:
        canonical = parse_number(where.number)
        if canonical is not None:
            rows = rows.filter(number=canonical)
        else:
            rows = rows.filter(number__icontains=where.number.strip().upper())
    if where.course:
        rows = rows.filter(course__title__icontains=where.course.strip())
    if where.platform is not None:
        rows = rows.filter(platform=where.platform)
    if where.status:
        rows = rows.filter(status=where.status)
    zone = timezone.get_default_timezone()
    if where.issued_from is not None:
        start = datetime.combine(where.issued_from, time.min, tzinfo=zone)
        rows = rows.filter(issued_at__gte=start)
    if where.issued_to is not None:
        end = datetime.combine(where.issued_to + timedelta(days=1), time.min, tzinfo=zone)
        rows = rows.filter(issued_at__lt=end)
    return rows.order_by("-issued_at", "-pk")


def get_certificate_for_officer(user: User, pk: int | str) -> CompletionCertificate:
    """One certificate of a learner in the officer's scope; Http404 otherwise."""
    return get_in_scope(_officer_certificates(user), user, pk, region_field="person__region")


def platforms_for_officer(user: User) -> QuerySet[Platform]:
    """Platforms that issued certificates to learners in the officer's scope (the filter's
    choices)."""
    issued = _officer_certificates(user).values("platform_id")
    return (
        Platform.objects.filter(pk__in=issued)
        .select_related("organisation")
        .order_by("organisation__name")
    )
