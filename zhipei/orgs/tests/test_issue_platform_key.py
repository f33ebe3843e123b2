"""manage.py issue_platform_key."""

from __future__ import annotations

import hashlib
import re
from io import StringIO

from django.core.management import CommandError, call_command

from zhipei.audit.models import AuditEvent
from zhipei.orgs.models import PlatformCredential
from zhipei.orgs.services import authenticate_basic
from zhipei.orgs.tests.helpers import OrgsTestCase, make_organisation


class IssuePlatformKeyTests(OrgsTestCase):
    def test_prints_key_id_and_secret_once_and_audits(self):
        organisation = make_organisation(
            region=self.jiangan, capacities={"platform"}, platform_status="selected"
        )
        out = StringIO()
        call_command("issue_platform_key", organisation.uscc.lower(), "--label", "ops", stdout=out)

        found = re.search(r"Key id:\s+(\S+)\nSecret:\s+(\S+)\n", out.getvalue())
        assert found, out.getvalue()
        key_id, secret = found.groups()
        credential = PlatformCredential.objects.get(key_id=key_id)
        self.assertEqual(credential.label, "ops")
        self.assertEqual(credential.secret_sha256, hashlib.sha256(secret.encode()).hexdigest())
        self.assertEqual(authenticate_basic(key_id, secret), credential)
        event = AuditEvent.objects.get(action="orgs.credential.issued")
        self.assertEqual((event.actor_id, event.actor_label), (None, "system"))
        self.assertNotIn(secret, str(event.data))

    def test_unknown_credit_code(self):
        with self.assertRaisesMessage(CommandError, "No organisation has the credit code"):
            call_command("issue_platform_key", "91420102MA4K00002U", stdout=StringIO())

    def test_organisation_without_platform_capacity(self):
        organisation = make_organisation(region=self.jiangan, name="江岸机械厂")
        with self.assertRaisesMessage(CommandError, "is not registered as a platform"):
            call_command("issue_platform_key", organisation.uscc, stdout=StringIO())
        self.assertFalse(PlatformCredential.objects.exists())

    def test_removed_platform(self):
        organisation = make_organisation(
            region=self.jiangan, capacities={"platform"}, platform_status="removed"
        )
        with self.assertRaisesMessage(CommandError, "removed"):
            call_command("issue_platform_key", organisation.uscc, stdout=StringIO())
