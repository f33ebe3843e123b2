"""Two crediting passes at once (PostgreSQL): the state row is locked per batch with SKIP
LOCKED, so every statement is read by exactly one pass and the result is what one pass gives."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection

from zhipei.learning import queries, services
from zhipei.learning.models import CreditedTime
from zhipei.learning.tests.helpers import T0, LivePassWorld
from zhipei.lrs.tests.helpers import HORIZON_WAIT_SECONDS


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
class ConcurrentPassTests(LivePassWorld):
    def test_two_passes_never_read_a_statement_twice(self) -> None:
        enrolment = services.enrol(
            self.person, self.course, occupation=self.welder, by=self.learner
        )
        stored = 0
        for n in range(6):
            stored += len(self.store(self.study(T0 + timedelta(hours=n), 20, session=f"s{n}")))
        read: list[int] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def worker() -> None:
            try:
                deadline = time.monotonic() + HORIZON_WAIT_SECONDS
                while time.monotonic() < deadline:
                    summary = services.credit_new_statements(batch_size=10)
                    with lock:
                        read.append(summary.statements)
                        if sum(read) >= stored:
                            return
                    time.sleep(0.01)
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
        self.assertEqual(sum(read), stored)
        # The video lesson lasts an hour: two hours on it in a day credit one.
        self.assertEqual(queries.credited_minutes(enrolment), 60)
        reasons = [(r.code, r.minutes) for r in queries.uncredited_reasons(enrolment)]
        self.assertEqual(reasons, [("beyond_media_duration", 60)])
        before = list(CreditedTime.objects.values_list("enrolment_id", "day", "credited_seconds"))
        services.recredit(T0.date(), T0.date())
        after = list(CreditedTime.objects.values_list("enrolment_id", "day", "credited_seconds"))
        self.assertEqual(after, before)
