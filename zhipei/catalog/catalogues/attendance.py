"""Attendance at the offline practical sessions of blended courses (R5: 线上学习线下实训).

The course's platform records who attended each session, by real name and ID number; the
person must already be registered (a learner registers through a platform or an officer).
Officers in the course's region read the same list. Recording again for the same person and
session changes `present` and is audited with the old and new value.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhipei.accounts.models import Role, User
from zhipei.accounts.services import require_role
from zhipei.audit.services import record
from zhipei.catalog.models import Attendance, OfflineSession
from zhipei.core.errors import Conflict, InvalidInput
from zhipei.people.idnumber import InvalidIdNumber, parse_id_number
from zhipei.people.queries import find_person_by_id_number


def _same_name(a: str, b: str) -> bool:
    return "".join(a.split()) == "".join(b.split())


@transaction.atomic
def record_attendance(
    session: OfflineSession,
    *,
    name: str,
    id_number: str,
    present: bool,
    by: User,
    now: datetime | None = None,
) -> Attendance:
    """Record whether one registered person attended an offline session.

    Guarantees: only an operator of the course's platform records; not before the session
    starts; the ID number is valid and belongs to a registered person whose real name matches
    (the message never reveals the registered name); present attendance never exceeds the
    session's capacity; one row per person and session. No ID number reaches the audit log.
    Raises NotAllowed, InvalidInput (field "name" or "id_number") or Conflict (capacity).
    """
    course = session.course
    require_role(by, Role.PLATFORM_OPERATOR, organisation=course.platform.organisation)
    now = now or timezone.now()
    if now < session.starts_at:
        raise InvalidInput(_("Attendance can be recorded once the session has started."))
    name = name.strip()
    if not name:
        raise InvalidInput(_("Enter the learner's name."), field="name")
    try:
        parse_id_number(id_number)
    except InvalidIdNumber as exc:
        raise InvalidInput(exc.message, field="id_number") from None
    person = find_person_by_id_number(id_number)
    if person is None:
        raise InvalidInput(
            _("No registered learner has this ID number. The learner must register first."),
            field="id_number",
        )
    if not _same_name(person.name, name):
        raise InvalidInput(
            _("The name does not match the real name registered for this ID number."),
            field="name",
        )
    # Lock the session row so two operators cannot both take the last place.
    OfflineSession.objects.select_for_update().filter(pk=session.pk).first()
    existing = Attendance.objects.filter(session=session, person=person).first()
    was_present = existing.present if existing is not None else None
    if present and not was_present:
        taken = Attendance.objects.filter(session=session, present=True).count()
        if taken >= session.capacity:
            raise Conflict(
                _("The session is full: %(capacity)d places are taken.")
                % {"capacity": session.capacity}
            )
    if existing is None:
        attendance = Attendance.objects.create(
            session=session, person=person, present=present, recorded_by=by, recorded_at=now
        )
    elif existing.present == present:
        return existing
    else:
        Attendance.objects.filter(pk=existing.pk).update(
            present=present, recorded_by=by, recorded_at=now
        )
        existing.refresh_from_db()
        attendance = existing
    record(
        "catalog.attendance.recorded",
        actor=by,
        obj=attendance,
        region_code=session.region.code,
        data={
            "session": session.pk,
            "course": course.pk,
            "person": person.pk,
            "person_masked_id": person.id_masked,
            "from": was_present,
            "to": present,
        },
    )
    return attendance


def attendance_of(session: OfflineSession) -> QuerySet[Attendance]:
    """The attendance recorded for one session, people's masked identities included."""
    return (
        Attendance.objects.filter(session=session)
        .select_related("person")
        .order_by("person__name", "pk")
    )
