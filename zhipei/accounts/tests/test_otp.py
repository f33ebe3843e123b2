import re
from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from zhipei.accounts.errors import (
    CodeDead,
    CodeExpired,
    CodeRequestLimited,
    CodeUsed,
    NoCode,
    WrongCode,
)
from zhipei.accounts.models import OneTimeCode
from zhipei.accounts.services import request_login_code, verify_login_code
from zhipei.accounts.sms import MemorySender
from zhipei.accounts.tests.helpers import PersonaTestCase
from zhipei.audit.models import AuditEvent
from zhipei.core.errors import InvalidInput

IP = "203.0.113.9"
PHONE = "13900000001"  # wang's


@override_settings(
    SMS_SENDER="zhipei.accounts.sms.MemorySender", OTP_TTL_SECONDS=300, OTP_SEND_LIMIT_PER_HOUR=5
)
class OneTimeCodeTests(PersonaTestCase):
    def setUp(self):
        MemorySender.outbox.clear()

    def send(self, phone=PHONE, *, ip=IP, now=None):
        with self.captureOnCommitCallbacks(execute=True):
            request_login_code(phone=phone, ip=ip, now=now)
        if not MemorySender.outbox:
            return None
        found = re.search(r"\b(\d{6})\b", MemorySender.outbox[-1].message)
        assert found is not None
        return found.group(1)

    def other(self, code):
        return f"{(int(code) + 1) % 1_000_000:06d}"

    def test_code_is_sent_and_logs_in_once(self):
        now = timezone.now()
        code = self.send(now=now)

        self.assertEqual(MemorySender.outbox[0].phone, PHONE)
        self.assertIn("5 minutes", MemorySender.outbox[0].message)
        user = verify_login_code(phone=PHONE, code=code, ip=IP, now=now + timedelta(seconds=30))
        self.assertEqual(user, self.wang)
        event = AuditEvent.objects.get(action="accounts.login.succeeded")
        self.assertEqual((event.actor_id, event.data["method"]), (self.wang.pk, "otp"))

        with self.assertRaises(CodeUsed):
            verify_login_code(phone=PHONE, code=code, ip=IP, now=now + timedelta(seconds=40))

    def test_only_a_keyed_hash_of_the_code_is_stored(self):
        code = self.send()
        otp = OneTimeCode.objects.get()
        self.assertEqual(len(otp.code_hash), 64)
        self.assertNotIn(code, otp.code_hash)
        self.assertNotIn(code, str(list(AuditEvent.objects.values_list("data", flat=True))))

    def test_phone_may_be_typed_with_prefix_and_spaces(self):
        code = self.send("+86 139 0000 0001")
        self.assertEqual(
            verify_login_code(phone="139-0000-0001", code=f" {code} ", ip=IP), self.wang
        )

    def test_expired_code_has_its_own_message(self):
        now = timezone.now()
        code = self.send(now=now)

        with self.assertRaises(CodeExpired) as caught:
            verify_login_code(phone=PHONE, code=code, ip=IP, now=now + timedelta(seconds=300))
        self.assertIn("expired", str(caught.exception.message))
        self.assertEqual(caught.exception.field, "code")

    def test_wrong_code_counts_down_and_fifth_kills_the_code(self):
        code = self.send()
        for left in (4, 3, 2, 1):
            with self.assertRaises(WrongCode) as caught:
                verify_login_code(phone=PHONE, code=self.other(code), ip=IP)
            self.assertEqual(caught.exception.attempts_left, left)
        with self.assertRaises(CodeDead):
            verify_login_code(phone=PHONE, code=self.other(code), ip=IP)

        with self.assertRaises(CodeDead):
            verify_login_code(phone=PHONE, code=code, ip=IP)
        self.assertEqual(OneTimeCode.objects.get().failed_attempts, 5)
        self.assertEqual(AuditEvent.objects.filter(action="accounts.login.failed").count(), 6)

    def test_a_new_code_replaces_the_old_one(self):
        now = timezone.now()
        first = self.send(now=now)
        second = self.send(now=now + timedelta(seconds=61))
        if first == second:  # one in a million: the test would prove nothing
            return
        with self.assertRaises(WrongCode):
            verify_login_code(phone=PHONE, code=first, ip=IP, now=now + timedelta(seconds=70))
        self.assertEqual(
            verify_login_code(phone=PHONE, code=second, ip=IP, now=now + timedelta(seconds=71)),
            self.wang,
        )

    def test_no_code_requested(self):
        with self.assertRaises(NoCode):
            verify_login_code(phone=PHONE, code="123456", ip=IP)

    def test_bad_input_names_its_field(self):
        cases = [
            ({"phone": "12345", "code": "123456"}, "phone"),
            ({"phone": PHONE, "code": "12345"}, "code"),
            ({"phone": PHONE, "code": "12345a"}, "code"),
            ({"phone": PHONE, "code": "１２３４５６"}, "code"),
        ]
        for kwargs, field in cases:
            with self.subTest(kwargs=kwargs), self.assertRaises(InvalidInput) as caught:
                verify_login_code(phone=kwargs["phone"], code=kwargs["code"], ip=IP)
            self.assertEqual(caught.exception.field, field)
        with self.assertRaises(InvalidInput):
            request_login_code(phone="not a phone", ip=IP)

    def test_second_request_within_a_minute_is_refused(self):
        now = timezone.now()
        self.send(now=now)

        with self.assertRaises(CodeRequestLimited) as caught:
            self.send(now=now + timedelta(seconds=45))
        self.assertIn("15 seconds", str(caught.exception.message))
        self.assertEqual(len(MemorySender.outbox), 1)

    def test_hourly_limit_per_phone(self):
        now = timezone.now()
        for i in range(5):
            self.send(now=now + timedelta(minutes=2 * i), ip=f"198.51.100.{i}")

        with self.assertRaises(CodeRequestLimited) as caught:
            self.send(now=now + timedelta(minutes=11), ip="198.51.100.99")
        self.assertEqual(caught.exception.retry_after_seconds, 49 * 60)
        # An hour after the first one, a code may be requested again.
        self.send(now=now + timedelta(minutes=60, seconds=1), ip="198.51.100.99")
        self.assertEqual(len(MemorySender.outbox), 6)

    def test_hourly_limit_per_ip(self):
        now = timezone.now()
        for i in range(5):
            self.send(f"1370000000{i}", now=now + timedelta(seconds=i))
        with self.assertRaises(CodeRequestLimited):
            self.send("13700000009", now=now + timedelta(seconds=10))
        self.send("13700000009", ip="198.51.100.1", now=now + timedelta(seconds=10))

    def test_unknown_phone_behaves_alike_but_nothing_is_sent(self):
        now = timezone.now()
        self.assertIsNone(self.send("13711112222", now=now))

        self.assertEqual(MemorySender.outbox, [])
        self.assertTrue(OneTimeCode.objects.filter(phone="13711112222").exists())
        # Limits answer the same as for a real number...
        with self.assertRaises(CodeRequestLimited):
            self.send("13711112222", now=now + timedelta(seconds=10))
        # ...and any code fails the way a wrong one does.
        with self.assertRaises(WrongCode):
            verify_login_code(phone="13711112222", code="123456", ip=IP, now=now)
        requested = AuditEvent.objects.get(action="accounts.otp.requested")
        self.assertFalse(requested.data["known"])
        self.assertEqual(requested.data["phone"], "137****2222")

    def test_deactivated_user_cannot_log_in_with_a_code(self):
        code = self.send()
        self.wang.is_active = False
        self.wang.save(update_fields=["is_active"])
        with self.assertRaises(WrongCode):
            verify_login_code(phone=PHONE, code=code, ip=IP)

    def test_code_is_sent_only_after_commit(self):
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            request_login_code(phone=PHONE, ip=IP)
        self.assertEqual(MemorySender.outbox, [])
        self.assertEqual(len(callbacks), 1)


@override_settings(SMS_SENDER="zhipei.accounts.sms.ConsoleSender")
class ConsoleSenderTests(PersonaTestCase):
    def test_console_sender_logs_the_code_for_developers(self):
        with (
            self.assertLogs("zhipei.accounts.sms", level="INFO") as logs,
            self.captureOnCommitCallbacks(execute=True),
        ):
            request_login_code(phone=PHONE, ip=IP)
        self.assertRegex(logs.output[0], r"139\*\*\*\*0001: .*\b\d{6}\b")
        self.assertNotIn(PHONE, logs.output[0])
