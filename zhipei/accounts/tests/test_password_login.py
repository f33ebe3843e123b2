from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from zhipei.accounts.errors import AccountLocked, AddressLocked, InvalidCredentials
from zhipei.accounts.models import LoginAttempt
from zhipei.accounts.services import authenticate_password
from zhipei.accounts.tests.helpers import PASSWORD, PersonaTestCase
from zhipei.audit.models import AuditEvent
from zhipei.core.errors import InvalidInput

IP = "203.0.113.7"


@override_settings(LOGIN_MAX_FAILURES=5, LOGIN_LOCKOUT_SECONDS=900, LOGIN_MAX_FAILURES_PER_IP=12)
class PasswordLoginTests(PersonaTestCase):
    def fail(self, username="wang", *, ip=IP, now=None, password="wrong-password"):
        with self.assertRaises((InvalidCredentials, AccountLocked, AddressLocked)) as caught:
            authenticate_password(username=username, password=password, ip=ip, now=now)
        return caught.exception

    def test_logs_in_by_username_or_phone_in_any_format(self):
        for login in ("wang", "13900000001", "+86 139 0000 0001"):
            with self.subTest(login=login):
                user = authenticate_password(username=login, password=PASSWORD, ip=IP)
                self.assertEqual(user, self.wang)
        event = AuditEvent.objects.filter(action="accounts.login.succeeded").latest("id")
        self.assertEqual(
            (event.actor_id, event.ip, event.data["method"]), (self.wang.pk, IP, "password")
        )

    def test_wrong_password_and_unknown_name_look_the_same(self):
        wrong = self.fail("wang")
        unknown = self.fail("nobody-by-this-name")

        self.assertEqual(type(wrong), type(unknown))
        self.assertEqual(str(wrong.message), str(unknown.message))
        reasons = list(
            AuditEvent.objects.filter(action="accounts.login.failed")
            .order_by("id")
            .values_list("data__reason", flat=True)
        )
        self.assertEqual(reasons, ["wrong_password", "unknown_name"])

    def test_inactive_user_cannot_log_in(self):
        self.wang.is_active = False
        self.wang.save(update_fields=["is_active"])

        self.assertIsInstance(self.fail("wang", password=PASSWORD), InvalidCredentials)

    def test_empty_fields_are_input_errors(self):
        for username, password, field in (("", "x", "username"), ("wang", "", "password")):
            with self.subTest(field=field), self.assertRaises(InvalidInput) as caught:
                authenticate_password(username=username, password=password, ip=IP)
            self.assertEqual(caught.exception.field, field)

    def test_fifth_failure_locks_and_says_for_how_long(self):
        now = timezone.now()
        for i in range(4):
            self.assertIsInstance(self.fail(now=now + timedelta(seconds=i)), InvalidCredentials)

        locked = self.fail(now=now + timedelta(seconds=4))

        self.assertIsInstance(locked, AccountLocked)
        self.assertEqual(locked.retry_after_seconds, 900)
        self.assertIn("temporarily locked", str(locked.message))
        self.assertIn("15 minutes", str(locked.message))
        self.assertTrue(AuditEvent.objects.filter(action="accounts.login.locked").exists())

    def test_locked_account_refuses_even_the_right_password_without_counting(self):
        now = timezone.now()
        for _ in range(5):
            self.fail(now=now)
        attempts = LoginAttempt.objects.count()

        later = now + timedelta(minutes=10)
        with self.assertRaises(AccountLocked) as caught:
            authenticate_password(username="wang", password=PASSWORD, ip=IP, now=later)

        self.assertEqual(caught.exception.retry_after_seconds, 300)
        self.assertIn("5 minutes", str(caught.exception.message))
        self.assertEqual(LoginAttempt.objects.count(), attempts)
        refused = AuditEvent.objects.filter(action="accounts.login.locked").latest("id")
        self.assertTrue(refused.data["refused"])

    def test_lock_lifts_after_the_window(self):
        now = timezone.now()
        for _ in range(5):
            self.fail(now=now)

        user = authenticate_password(
            username="wang", password=PASSWORD, ip=IP, now=now + timedelta(seconds=901)
        )

        self.assertEqual(user, self.wang)

    def test_lock_lasts_a_full_window_from_the_failure_that_reached_the_limit(self):
        now = timezone.now()
        for i in range(5):  # minutes 0, 3, 6, 9, 12: the fifth locks until minute 27
            self.fail(now=now + timedelta(minutes=3 * i))

        with self.assertRaises(AccountLocked) as caught:
            authenticate_password(
                username="wang", password=PASSWORD, ip=IP, now=now + timedelta(minutes=26)
            )
        self.assertEqual(caught.exception.retry_after_seconds, 60)

        # Unlocked: the old failures no longer count toward a new lock.
        after = now + timedelta(minutes=28)
        for _ in range(4):
            self.assertIsInstance(self.fail(now=after), InvalidCredentials)
        self.assertIsInstance(self.fail(now=after), AccountLocked)

    def test_unknown_names_lock_exactly_like_real_ones(self):
        now = timezone.now()
        for _ in range(4):
            self.fail("ghost", now=now)
        locked = self.fail("ghost", now=now)
        real = [self.fail("wang", now=now) for _ in range(5)][-1]

        self.assertIsInstance(locked, AccountLocked)
        self.assertEqual(str(locked.message), str(real.message))

    def test_name_lock_is_shared_by_case_and_phone_formats(self):
        now = timezone.now()
        for login in ("WANG", "Wang", "wang", "wAng"):
            self.fail(login, now=now)
        self.assertIsInstance(self.fail("wang", now=now), AccountLocked)
        for login in ("13900000001", "139 0000 0001", "+8613900000001", "139-0000-0001"):
            self.fail(login, now=now)
        self.assertIsInstance(self.fail("13900000001", now=now), AccountLocked)

    def test_success_resets_the_name_counter(self):
        now = timezone.now()
        for _ in range(4):
            self.fail(now=now)
        authenticate_password(username="wang", password=PASSWORD, ip=IP, now=now)

        for _ in range(4):
            self.assertIsInstance(self.fail(now=now), InvalidCredentials)

    def test_lock_on_one_name_leaves_others_alone(self):
        now = timezone.now()
        for _ in range(5):
            self.fail("wang", now=now)

        self.assertEqual(
            authenticate_password(username="plain", password=PASSWORD, ip=IP, now=now), self.plain
        )

    def test_per_ip_limit_spans_names(self):
        now = timezone.now()
        for i in range(12):
            error = self.fail(f"guess{i}", now=now)
        self.assertIsInstance(error, AddressLocked)

        with self.assertRaises(AddressLocked) as caught:
            authenticate_password(username="plain", password=PASSWORD, ip=IP, now=now)
        self.assertIn("network", str(caught.exception.message))
        # Another address is not affected.
        user = authenticate_password(
            username="plain", password=PASSWORD, ip="198.51.100.1", now=now
        )
        self.assertEqual(user, self.plain)

    def test_without_an_ip_only_the_name_limit_applies(self):
        now = timezone.now()
        for i in range(20):
            self.assertIsInstance(self.fail(f"guess{i}", ip=None, now=now), InvalidCredentials)

    def test_garbage_ip_is_not_stored(self):
        self.fail(ip="not-an-ip")
        event = AuditEvent.objects.get(action="accounts.login.failed")
        self.assertIsNone(event.ip)

    def test_racing_attempts_beyond_the_limit_are_refused(self):
        # Simulate parallel requests that counted their attempt but have not yet checked the
        # password: their rows are already there when this one arrives.
        now = timezone.now()
        for _ in range(4):
            self.fail(now=now)
        from zhipei.accounts.services import _login_name_key

        LoginAttempt.objects.create(name_key=_login_name_key("wang"), ip=IP, at=now)
        with self.assertRaises(AccountLocked):
            authenticate_password(username="wang", password=PASSWORD, ip=IP, now=now)

    def test_old_attempt_rows_are_pruned(self):
        now = timezone.now()
        self.fail(now=now - timedelta(hours=2))
        self.fail(now=now)
        self.assertEqual(LoginAttempt.objects.count(), 1)

    def test_typed_login_name_is_not_stored(self):
        self.fail("Secret-Typed-Into-Name-Field")
        self.assertFalse(LoginAttempt.objects.filter(name_key__icontains="Secret").exists())
        self.assertNotIn(
            "Secret-Typed", str(list(AuditEvent.objects.values_list("data", flat=True)))
        )
