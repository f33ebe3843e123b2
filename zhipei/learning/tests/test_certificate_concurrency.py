"""Issuing at the same moment (PostgreSQL): racing calls for one enrolment give one
certificate; racing calls for different enrolments of one region and year get distinct
numbers."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from zhipei.learning.certificates.services import issue_certificate
from zhipei.learning.models import CompletionCertificate, CreditedTime, Enrolment
from zhipei.learning.services import enrol
from zhipei.learning.tests.helpers import T0, LivePassWorld, make_user
from zhipei.people.testing import make_person


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
class ConcurrentIssueTests(LivePassWorld):
    def setUp(self) -> None:
        super().setUp()
        self.course.requires_test = False
        self.course.save(update_fields=["requires_test"])

    def due(self, person_name: str, username: str) -> Enrolment:
        person = make_person(self.region, name=person_name)
        user = make_user(username, person=person)
        enrolment = enrol(person, self.course, occupation=self.welder, by=user)
        CreditedTime.objects.create(
            enrolment=enrolment, day=T0.date(), credited_seconds=90 * 60, computed_at=timezone.now()
        )
        return enrolment

    def race(self, enrolments: list[Enrolment]) -> tuple[list[int], list[BaseException]]:
        barrier = threading.Barrier(len(enrolments))
        issued: list[int] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def worker(enrolment: Enrolment) -> None:
            try:
                barrier.wait(timeout=10)
                certificate = issue_certificate(enrolment)
                with lock:
                    issued.append(certificate.pk)
            except BaseException as error:
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=worker, args=(e,)) for e in enrolments]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return issued, errors

    def test_racing_issues_for_one_enrolment_give_one_certificate(self) -> None:
        enrolment = self.due("张三", "zhang")
        issued, errors = self.race([enrolment] * 4)
        self.assertEqual(errors, [])
        self.assertEqual(len(set(issued)), 1)
        self.assertEqual(CompletionCertificate.objects.filter(enrolment=enrolment).count(), 1)

    def test_racing_issues_for_different_enrolments_get_distinct_numbers(self) -> None:
        enrolments = [
            self.due(name, f"u{n}") for n, name in enumerate(["张三", "李四", "王五", "赵六"])
        ]
        issued, errors = self.race(enrolments)
        self.assertEqual(len(issued), 4)
        self.assertEqual(errors, [])
        numbers = list(CompletionCertificate.objects.values_list("number", flat=True))
        self.assertEqual(len(numbers), 4)
        self.assertEqual(len(set(numbers)), 4)
        self.assertEqual(sorted(int(n.split("-")[2]) for n in numbers), [1, 2, 3, 4])
