"""Two administrators adding the same person to one roster at once: one period, one refusal.
Runs on PostgreSQL (row lock on the person) and on the SQLite file database (IMMEDIATE
transactions serialise the writers)."""

from __future__ import annotations

import threading
from datetime import date

from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.core.errors import Conflict
from zhipei.enterprises import services
from zhipei.enterprises.models import Employment
from zhipei.orgs.tests.helpers import make_organisation
from zhipei.people.testing import make_person
from zhipei.regions.testing import make_region_tree

THREADS = 4


class ConcurrentAddTests(TransactionTestCase):
    def test_same_person_added_concurrently_once(self):
        regions = make_region_tree()
        organisation = make_organisation(region=regions["420102"], serial=21)
        enterprise = organisation.enterprise
        admins = []
        for index in range(THREADS):
            user = User.objects.create_user(username=f"admin{index}", password="x-unused-pw-1")
            RoleAssignment.objects.create(
                user=user,
                role=Role.ENTERPRISE_ADMIN,
                organisation=organisation,
                granted_at=timezone.now(),
            )
            admins.append(user)
        person = make_person(regions["420102"], name="李雷")
        barrier = threading.Barrier(THREADS)
        outcomes: list[str] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def attempt(index: int) -> None:
            try:
                barrier.wait(timeout=30)
                services.add_employment(
                    enterprise,
                    person,
                    kind="employee",
                    start_on=date(2025, 1, 1 + index),
                    # Closed periods: the one-open-period constraint cannot help here, only
                    # the lock taken before the overlap check can.
                    end_on=date(2025, 12, 31),
                    by=admins[index],
                )
                with lock:
                    outcomes.append("added")
            except Conflict:
                with lock:
                    outcomes.append("conflict")
            except BaseException as exc:  # reported below, not lost in the thread
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertEqual(errors, [])
        self.assertEqual(sorted(outcomes), ["added"] + ["conflict"] * (THREADS - 1))
        self.assertEqual(Employment.objects.filter(person=person).count(), 1)
