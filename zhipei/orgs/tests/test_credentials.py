"""Platform API credentials: issue, rotate, revoke, HTTP Basic authentication."""

from __future__ import annotations

import hashlib

from zhipei.audit.models import AuditEvent
from zhipei.audit.queries import events_for
from zhipei.core import crypto
from zhipei.core.errors import Conflict, InvalidInput, NotAllowed, NotInScope, StaleObject
from zhipei.orgs.models import Platform, PlatformCredential
from zhipei.orgs.services import (
    authenticate_basic,
    issue_credential,
    revoke_credential,
    rotate_credential,
)
from zhipei.orgs.signing import credential_secret
from zhipei.orgs.tests.helpers import OrgsTestCase, make_organisation


class CredentialTests(OrgsTestCase):
    def setUp(self):
        organisation = make_organisation(
            region=self.jiangan, capacities={"platform"}, platform_status="selected"
        )
        self.platform = organisation.platform

    def test_issue_returns_the_secret_once_and_stores_it_encrypted_and_hashed(self):
        credential, secret = issue_credential(self.platform, by=self.county_officer, label="prod")

        self.assertRegex(credential.key_id, r"^pk_[A-Za-z0-9_-]{20}$")
        self.assertRegex(secret, r"^[A-Za-z0-9_-]{43}$")
        stored = PlatformCredential.objects.get(pk=credential.pk)
        self.assertEqual(stored.secret_sha256, hashlib.sha256(secret.encode()).hexdigest())
        self.assertNotIn(secret.encode(), bytes(stored.secret_ciphertext))
        self.assertEqual(stored.secret_key_id, crypto.active_key_id())
        self.assertEqual(credential_secret(stored), secret)
        self.assertEqual(stored.created_by, self.county_officer)
        # The secret appears in no audit event.
        for event in AuditEvent.objects.all():
            self.assertNotIn(secret, str(event.data))
        self.assertEqual(
            events_for(credential).get().data,
            {"key_id": credential.key_id, "platform": self.platform.pk, "label": "prod"},
        )

    def test_ciphertext_is_bound_to_its_key_id(self):
        credential, _secret = issue_credential(self.platform, by=None)
        with self.assertRaises(crypto.DecryptionFailed):
            crypto.decrypt(
                credential.secret_key_id,
                bytes(credential.secret_ciphertext),
                associated_data=b"pk_someoneelse000000000",
            )

    def test_the_crypto_registry_knows_the_secret_field(self):
        registered = {(f.model_label, f.ciphertext_field) for f in crypto.registered_fields()}
        self.assertIn(("orgs.PlatformCredential", "secret_ciphertext"), registered)

    def test_each_issue_gives_a_new_key_and_secret(self):
        first, first_secret = issue_credential(self.platform, by=None)
        second, second_secret = issue_credential(self.platform, by=None)
        self.assertNotEqual(first.key_id, second.key_id)
        self.assertNotEqual(first_secret, second_secret)

    def test_rotate_issues_a_new_credential_then_revokes_the_old(self):
        old, old_secret = issue_credential(self.platform, by=None, label="server A")
        new, new_secret = rotate_credential(old, by=self.city_officer)

        old.refresh_from_db()
        self.assertIsNotNone(old.revoked_at)
        self.assertEqual(old.revoked_by, self.city_officer)
        self.assertIsNone(new.revoked_at)
        self.assertEqual(new.label, "server A")
        self.assertIsNone(authenticate_basic(old.key_id, old_secret))
        self.assertEqual(authenticate_basic(new.key_id, new_secret), new)
        rotated = AuditEvent.objects.get(action="orgs.credential.rotated")
        self.assertEqual(
            (rotated.data["old_key_id"], rotated.data["new_key_id"]), (old.key_id, new.key_id)
        )

    def test_revoke_needs_a_reason_and_second_revoke_is_stale(self):
        credential, secret = issue_credential(self.platform, by=None)
        stale = PlatformCredential.objects.get(pk=credential.pk)
        with self.assertRaises(InvalidInput):
            revoke_credential(credential, by=self.county_officer, reason=" ")
        revoke_credential(credential, by=self.county_officer, reason="leaked in a log")
        self.assertEqual(credential.revoke_reason, "leaked in a log")
        self.assertIsNone(authenticate_basic(credential.key_id, secret))
        with self.assertRaises(StaleObject):
            revoke_credential(stale, by=self.county_officer, reason="again")
        with self.assertRaises(StaleObject):
            rotate_credential(stale, by=self.county_officer)
        self.assertEqual(PlatformCredential.objects.count(), 1)

    def test_outsider_and_wrong_role_cannot_touch_credentials(self):
        credential, _ = issue_credential(self.platform, by=None)
        for user, error in ((self.outsider, NotInScope), (self.finance_officer, NotAllowed)):
            with self.subTest(user=user.username):
                with self.assertRaises(error):
                    issue_credential(self.platform, by=user)
                with self.assertRaises(error):
                    rotate_credential(credential, by=user)
                with self.assertRaises(error):
                    revoke_credential(credential, by=user, reason="x")
        self.assertEqual(PlatformCredential.objects.filter(revoked_at__isnull=True).count(), 1)

    def test_removed_platform_gets_no_credentials(self):
        Platform.objects.filter(pk=self.platform.pk).update(status=Platform.Status.REMOVED)
        self.platform.refresh_from_db()
        with self.assertRaises(Conflict):
            issue_credential(self.platform, by=self.county_officer)


class AuthenticateBasicTests(OrgsTestCase):
    def setUp(self):
        organisation = make_organisation(
            region=self.jiangan, capacities={"platform"}, platform_status="selected"
        )
        self.platform = organisation.platform
        self.credential, self.secret = issue_credential(self.platform, by=None)

    def test_right_key_and_secret_of_a_selected_platform(self):
        self.assertEqual(authenticate_basic(self.credential.key_id, self.secret), self.credential)
        self.credential.refresh_from_db()
        self.assertIsNotNone(self.credential.last_used_at)

    def test_last_used_is_not_rewritten_on_every_call(self):
        authenticate_basic(self.credential.key_id, self.secret)
        with self.assertNumQueries(2):  # credential lookup + the conditional UPDATE (no-op)
            authenticate_basic(self.credential.key_id, self.secret)

    def test_wrong_secret_unknown_key_and_empty_values_fail(self):
        self.assertIsNone(authenticate_basic(self.credential.key_id, self.secret + "x"))
        self.assertIsNone(authenticate_basic(self.credential.key_id, ""))
        self.assertIsNone(authenticate_basic("pk_unknown0000000000000", self.secret))
        self.assertIsNone(authenticate_basic("", ""))
        self.assertIsNone(authenticate_basic("x" * 200, self.secret))

    def test_platform_that_is_not_selected_fails(self):
        for status in ("registered", "suspended", "removed"):
            with self.subTest(status=status):
                Platform.objects.filter(pk=self.platform.pk).update(status=status)
                self.assertIsNone(authenticate_basic(self.credential.key_id, self.secret))

    def test_revoked_key_fails(self):
        revoke_credential(self.credential, by=None, reason="test")
        self.assertIsNone(authenticate_basic(self.credential.key_id, self.secret))
