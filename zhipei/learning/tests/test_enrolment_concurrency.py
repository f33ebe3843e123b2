"""Two identical enrolment requests at once (PostgreSQL): one enrolment, and both answers
name it (no 500, no duplicate); with one Idempotency-Key both get the same answer."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from zhipei.learning.models import Enrolment
from zhipei.learning.tests.helpers import LivePassWorld
from zhipei.learning.tests.test_api import post
from zhipei.orgs.services import issue_credential


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
class ConcurrentEnrolmentTests(LivePassWorld):
    def race(self, headers: dict[str, str] | None = None) -> list[Any]:
        credential, secret = issue_credential(self.platform, by=None)
        body = {"learner": self.pseudonym, "course": "weld", "occupation": "6-18"}
        barrier = threading.Barrier(2)
        responses: list[Any] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def worker() -> None:
            try:
                client = Client()
                barrier.wait(timeout=10)
                response = post(client, credential.key_id, secret, body, headers=headers)
                with lock:
                    responses.append(response)
            except BaseException as error:
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        return responses

    def test_two_requests_at_once_make_one_enrolment(self) -> None:
        responses = self.race()
        self.assertEqual(sorted(r.status_code for r in responses), [200, 201])
        enrolment = Enrolment.objects.get()
        self.assertEqual({r.json()["id"] for r in responses}, {enrolment.pk})

    def test_two_requests_with_one_key_get_one_answer(self) -> None:
        responses = self.race({"Idempotency-Key": "race-1"})
        self.assertEqual(Enrolment.objects.count(), 1)
        self.assertIn(201, [r.status_code for r in responses])
        self.assertEqual({r.json()["id"] for r in responses}, {Enrolment.objects.get().pk})
        for response in responses:
            self.assertLess(response.status_code, 300, response.content)
