"""The roster import through the real database task backend and one `db_worker` pass each for
the check and the commit (TransactionTestCase: the worker commits as the real process does)."""

from __future__ import annotations

import io
import signal
from datetime import date

from django.core.management import call_command
from django.test import TransactionTestCase, override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.enterprises import imports, queries
from zhipei.enterprises.models import RosterImport
from zhipei.enterprises.tests.helpers import xlsx
from zhipei.orgs.tests.helpers import make_organisation
from zhipei.people.models import Person
from zhipei.people.testing import make_id_number
from zhipei.regions.testing import make_region_tree

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@override_settings(TASKS=DATABASE_TASKS)
class WorkerPassTests(TransactionTestCase):
    def setUp(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.addCleanup(signal.signal, signum, signal.getsignal(signum))

    def work(self) -> None:
        call_command(
            "db_worker",
            "--batch",
            "--no-startup-delay",
            "--no-reload",
            "--interval",
            "0",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )

    def test_db_worker_checks_then_commits_an_import(self):
        regions = make_region_tree()
        organisation = make_organisation(region=regions["420102"], serial=31)
        admin = User.objects.create_user(username="worker-admin", password="x-unused-pw-1")
        RoleAssignment.objects.create(
            user=admin,
            role=Role.ENTERPRISE_ADMIN,
            organisation=organisation,
            granted_at=timezone.now(),
        )
        number = make_id_number("420102", "19910101", 7)
        rows = [["王芳", number, "", "职工", "2025-01-01", ""]]
        roster_import = imports.start_roster_import(organisation.enterprise, xlsx(rows), by=admin)
        self.assertEqual(roster_import.status, RosterImport.Status.PARSING)  # only queued
        self.assertEqual(
            DBTaskResult.objects.filter(
                task_path="zhipei.enterprises.tasks.parse_roster_import", status="READY"
            ).count(),
            1,
        )
        self.work()
        roster_import.refresh_from_db()
        self.assertEqual(roster_import.status, RosterImport.Status.PARSED)
        imports.commit_roster_import(roster_import, by=admin)
        self.work()
        roster_import.refresh_from_db()
        self.assertEqual(roster_import.status, RosterImport.Status.COMMITTED)
        person = Person.objects.get(name="王芳")
        self.assertIsNotNone(queries.on_roster(organisation.enterprise, person, date(2025, 1, 1)))
        self.assertFalse(DBTaskResult.objects.exclude(status="SUCCESSFUL").exists())
