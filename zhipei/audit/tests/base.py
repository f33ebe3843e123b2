"""Shared set-up for audit tests: a private anchor file per test and a few helpers."""

import shutil
import tempfile
from pathlib import Path

from django.db import connection
from django.test import SimpleTestCase, TestCase, override_settings

from zhipei.audit.models import AuditEvent
from zhipei.audit.sealer import seal_pending
from zhipei.audit.services import record


def use_temp_anchor(testcase: SimpleTestCase) -> Path:
    """Point settings.AUDIT_ANCHOR_PATH at a fresh file in a directory that does not exist yet
    (the sealer must create it), for the duration of one test."""
    tmp = Path(tempfile.mkdtemp(prefix="zhipei-audit-"))
    testcase.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
    path = tmp / "anchors" / "audit-anchor.log"
    override = override_settings(AUDIT_ANCHOR_PATH=path)
    override.enable()
    testcase.addCleanup(override.disable)
    return path


def write_events(n, *, prefix="test.event"):
    return [
        record(f"{prefix}.n{i}", object_type="test.thing", object_id=i, data={"i": i})
        for i in range(n)
    ]


def raw_execute(sql, params=()):
    """Tamper with the table behind the ORM's back, as an attacker with database access would."""
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=table), params)


class AuditTestCase(TestCase):
    def setUp(self):
        super().setUp()
        self.anchor_path = use_temp_anchor(self)

    def anchor_lines(self):
        if not self.anchor_path.exists():
            return []
        return self.anchor_path.read_text(encoding="utf-8").splitlines()

    def write_events(self, n, *, prefix="test.event"):
        return write_events(n, prefix=prefix)

    def seal(self, **kwargs):
        """Seal as a committed transaction would: run the post-commit anchor write."""
        with self.captureOnCommitCallbacks(execute=True):
            return seal_pending(**kwargs)
