"""Fixtures for the certificate tests: E1's learning world plus an enrolment, officers, credited
time written as the crediting pass would and test results stored through the LRS."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from zhipei.accounts.models import Role, User
from zhipei.learning.models import CreditedTime, Enrolment
from zhipei.learning.services import enrol
from zhipei.learning.tests.helpers import T0, LearningWorld, make_user
from zhipei.lrs_documents import profile

TEST_IRI = "https://platform.example.cn/courses/weld/test"


class CertificateWorld(LearningWorld):
    enrolment: Enrolment
    officer: User
    outsider: User
    other_learner: User

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.enrolment = enrol(cls.person, cls.course, occupation=cls.welder, by=cls.learner)
        Enrolment.objects.filter(pk=cls.enrolment.pk).update(enrolled_at=T0 - timedelta(days=1))
        cls.enrolment.refresh_from_db()
        cls.officer = make_user("officer", role=Role.LABOUR_OFFICER, region=cls.regions["420100"])
        cls.outsider = make_user("outsider", role=Role.LABOUR_OFFICER, region=cls.regions["420500"])

    def credit(
        self, minutes: int, day: date | None = None, enrolment: Enrolment | None = None
    ) -> None:
        """Credited time as the crediting pass stores it (one row per enrolment and day)."""
        CreditedTime.objects.update_or_create(
            enrolment=enrolment or self.enrolment,
            day=day or T0.date(),
            defaults={"credited_seconds": minutes * 60, "computed_at": timezone.now()},
        )

    def report_test(
        self, verb: str = profile.PASSED, at: datetime | None = None, **extra: Any
    ) -> str:
        """A test result statement as docs/xapi-profile.md §9 asks for, stored through the LRS."""
        statement = {
            "id": self._uuid(),
            "actor": self.actor(),
            "verb": {"id": verb},
            "object": {
                "objectType": "Activity",
                "id": TEST_IRI,
                "definition": {"type": "http://adlnet.gov/expapi/activities/assessment"},
            },
            "context": {"contextActivities": {"parent": [{"id": self.course.activity_iri}]}},
            "result": {"success": verb == profile.PASSED, "score": {"scaled": 0.8}},
            "timestamp": (at or T0 + timedelta(days=2)).isoformat(),
        }
        statement.update(extra)
        return self.store([statement])[0]

    @staticmethod
    def _uuid() -> str:
        import uuid

        return str(uuid.uuid4())
