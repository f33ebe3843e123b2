import re

from django.test import override_settings
from django.urls import reverse

from zhipei.accounts.models import Role
from zhipei.accounts.services import grant_role
from zhipei.accounts.sms import MemorySender
from zhipei.accounts.tests.helpers import PASSWORD, PersonaTestCase, make_user
from zhipei.audit.models import AuditEvent

LOGIN = reverse("accounts:login")
CODE_REQUEST = reverse("accounts:login_code_request")
CODE_LOGIN = reverse("accounts:login_code")
PROFILE = reverse("accounts:profile")
PASSWORD_CHANGE = reverse("accounts:password_change")
LOGOUT = reverse("accounts:logout")


def sent_code():
    found = re.search(r"\d{6}", MemorySender.outbox[0].message)
    assert found is not None
    return found.group(0)


class LoginPageTests(PersonaTestCase):
    def test_login_page_has_both_tabs_and_works_on_a_phone(self):
        for tab, field in (("password", 'name="password"'), ("code", 'name="code"')):
            with self.subTest(tab=tab):
                response = self.client.get(LOGIN, {"tab": tab})
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, field)
                self.assertContains(response, 'name="viewport"')
                self.assertContains(response, "?tab=code")
                self.assertContains(response, "?tab=password")

    def test_password_login_rotates_session_and_redirects(self):
        self.client.get(LOGIN)
        before = self.client.session.session_key

        response = self.client.post(LOGIN, {"username": "wang", "password": PASSWORD})

        self.assertRedirects(response, reverse("portal:home"), fetch_redirect_response=False)
        self.assertEqual(int(self.client.session["_auth_user_id"]), self.wang.pk)
        self.assertNotEqual(self.client.session.session_key, before)

    def test_login_by_phone_follows_a_safe_next_and_ignores_an_unsafe_one(self):
        response = self.client.post(
            LOGIN, {"username": "13900000001", "password": PASSWORD, "next": PROFILE}
        )
        self.assertRedirects(response, PROFILE, fetch_redirect_response=False)
        self.client.post(LOGOUT)

        response = self.client.post(
            LOGIN, {"username": "wang", "password": PASSWORD, "next": "https://evil.example/"}
        )
        self.assertRedirects(response, reverse("portal:home"), fetch_redirect_response=False)

    def test_wrong_password_shows_an_error_and_keeps_anonymous(self):
        response = self.client.post(LOGIN, {"username": "wang", "password": "nope-nope-nope"})

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "The login name or password is not correct.")
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_empty_form_shows_field_errors(self):
        response = self.client.post(LOGIN, {})

        self.assertEqual(response.status_code, 200)
        form = response.context["password_form"]
        self.assertIn("username", form.errors)
        self.assertIn("password", form.errors)
        self.assertContains(response, 'aria-invalid="true"')

    @override_settings(LOGIN_MAX_FAILURES=3)
    def test_lockout_message_tells_how_long(self):
        for _ in range(2):
            self.client.post(LOGIN, {"username": "wang", "password": "wrong-wrong-1"})
        response = self.client.post(LOGIN, {"username": "wang", "password": "wrong-wrong-1"})

        self.assertContains(response, "temporarily locked")
        self.assertContains(response, "15 minutes")
        response = self.client.post(LOGIN, {"username": "wang", "password": PASSWORD})
        self.assertContains(response, "temporarily locked")
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_client_ip_reaches_the_audit_log(self):
        self.client.post(
            LOGIN, {"username": "wang", "password": PASSWORD}, REMOTE_ADDR="198.51.100.23"
        )
        event = AuditEvent.objects.get(action="accounts.login.succeeded")
        self.assertEqual(event.ip, "198.51.100.23")

    def test_garbage_never_gives_a_500(self):
        payloads = [
            {"username": "x" * 5000, "password": "y"},
            {"username": ["a", "b"], "password": "z"},
            {"username": "wang", "password": "p" * 5000},
        ]
        for data in payloads:
            with self.subTest(data=str(data)[:40]):
                self.assertEqual(self.client.post(LOGIN, data).status_code, 200)
        # A NUL (no person types one) is refused before the form (core NulCharacterMiddleware).
        nul = self.client.post(LOGIN, {"username": "\x00", "password": "\x00"})
        self.assertEqual(nul.status_code, 400)
        for url in (CODE_REQUEST, CODE_LOGIN):
            for data in ({}, {"phone": "x" * 100, "code": "y" * 100}):
                with self.subTest(url=url, data=str(data)[:40]):
                    self.assertEqual(self.client.post(url, data).status_code, 200)
            self.assertEqual(self.client.post(url, {"phone": "\x00"}).status_code, 400)
        self.assertEqual(self.client.get(CODE_LOGIN).status_code, 405)
        self.assertEqual(self.client.put(LOGIN).status_code, 405)


@override_settings(SMS_SENDER="zhipei.accounts.sms.MemorySender")
class CodeLoginViewTests(PersonaTestCase):
    def setUp(self):
        MemorySender.outbox.clear()

    def test_request_then_log_in_with_the_code(self):
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(CODE_REQUEST, {"phone": "139 0000 0001"})
        self.assertContains(response, "If this number belongs to an account")
        self.assertEqual(response.context["code_form"].initial["phone"], "13900000001")
        code = sent_code()

        response = self.client.post(CODE_LOGIN, {"phone": "13900000001", "code": code})

        self.assertRedirects(response, reverse("portal:home"), fetch_redirect_response=False)
        self.assertEqual(int(self.client.session["_auth_user_id"]), self.wang.pk)

    def test_unknown_number_gets_the_same_page(self):
        with self.captureOnCommitCallbacks(execute=True):
            known = self.client.post(CODE_REQUEST, {"phone": "13900000001"})
            unknown = self.client.post(CODE_REQUEST, {"phone": "13711112222"})

        self.assertEqual(known.status_code, unknown.status_code)
        self.assertEqual(known.context["notice"], unknown.context["notice"])
        self.assertEqual(len(MemorySender.outbox), 1)

    def test_bad_phone_and_wrong_code_show_field_errors(self):
        response = self.client.post(CODE_REQUEST, {"phone": "12345"})
        self.assertIn("phone", response.context["code_form"].errors)

        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(CODE_REQUEST, {"phone": "13900000001"})
        code = sent_code()
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        response = self.client.post(CODE_LOGIN, {"phone": "13900000001", "code": wrong})
        self.assertIn("4 attempts left", str(response.context["code_form"].errors["code"]))

        response = self.client.post(CODE_LOGIN, {"phone": "13900000001", "code": ""})
        self.assertIn("code", response.context["code_form"].errors)

    def test_too_soon_is_shown_on_the_phone_field(self):
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(CODE_REQUEST, {"phone": "13900000001"})
            response = self.client.post(CODE_REQUEST, {"phone": "13900000001"})
        self.assertIn("Wait", str(response.context["code_form"].errors["phone"]))


class LogoutTests(PersonaTestCase):
    def test_logout_is_post_only(self):
        self.client.force_login(self.wang)
        self.assertEqual(self.client.get(LOGOUT).status_code, 405)
        self.assertIn("_auth_user_id", self.client.session)

        response = self.client.post(LOGOUT)

        self.assertRedirects(response, reverse("portal:home"), fetch_redirect_response=False)
        self.assertNotIn("_auth_user_id", self.client.session)


class ProfileTests(PersonaTestCase):
    def test_anonymous_is_sent_to_login(self):
        response = self.client.get(PROFILE)
        self.assertRedirects(response, f"{LOGIN}?next={PROFILE}", fetch_redirect_response=False)

    def test_learner_sees_masked_identity_and_verification(self):
        self.client.force_login(self.wang)

        response = self.client.get(PROFILE)

        self.assertContains(response, "王芳")
        self.assertContains(response, "420***********123X")
        self.assertContains(response, "139****0001")
        self.assertNotContains(response, "13900000001")
        # the provider as people read it, not its internal name
        self.assertContains(response, "the built-in format check")
        self.assertNotContains(response, "checksum_only")
        self.assertContains(response, "Format and checksum checked only")
        self.assertContains(response, "Learner")

    def test_officer_sees_roles_with_regions_and_organisations(self):
        grant_role(self.hr, role=Role.EVALUATOR, organisation=self.organisation, by=self.admin)
        self.client.force_login(self.hr)
        response = self.client.get(PROFILE)
        self.assertContains(response, "江岸机械厂")
        self.assertContains(response, "Evaluator")
        self.assertNotContains(response, "Real-name identity")

        self.client.force_login(self.city)
        response = self.client.get(PROFILE)
        self.assertContains(response, "武汉市")
        self.assertContains(response, "420100")

    def test_user_without_roles_gets_a_note(self):
        self.client.force_login(self.plain)
        self.assertContains(self.client.get(PROFILE), "No roles have been given")


class PasswordChangeTests(PersonaTestCase):
    def setUp(self):
        self.client.force_login(self.plain)

    def post(self, **data):
        return self.client.post(PASSWORD_CHANGE, data)

    def test_change_keeps_this_session_with_a_new_key(self):
        before = self.client.session.session_key
        response = self.post(
            old_password=PASSWORD,
            new_password="Brand-New-Secret-42",
            new_password_again="Brand-New-Secret-42",
        )

        self.assertRedirects(response, PROFILE, fetch_redirect_response=False)
        self.plain.refresh_from_db()
        self.assertTrue(self.plain.check_password("Brand-New-Secret-42"))
        self.assertNotEqual(self.client.session.session_key, before)
        self.assertEqual(self.client.get(PROFILE).status_code, 200)

    def test_other_sessions_end(self):
        other = self.client_class()
        other.force_login(self.plain)
        self.post(
            old_password=PASSWORD,
            new_password="Brand-New-Secret-42",
            new_password_again="Brand-New-Secret-42",
        )
        self.assertEqual(other.get(PROFILE).status_code, 302)

    def test_invalid_input_shows_field_errors(self):
        cases = [
            (
                {
                    "old_password": "wrong-old-one",
                    "new_password": "Brand-New-Secret-42",
                    "new_password_again": "Brand-New-Secret-42",
                },
                "old_password",
            ),
            (
                {
                    "old_password": PASSWORD,
                    "new_password": "Brand-New-Secret-42",
                    "new_password_again": "Different-Secret-42",
                },
                "new_password_again",
            ),
            (
                {"old_password": PASSWORD, "new_password": "short", "new_password_again": "short"},
                "new_password",
            ),
            ({}, "new_password"),
        ]
        for data, field in cases:
            with self.subTest(field=field):
                response = self.post(**data)
                self.assertEqual(response.status_code, 200)
                self.assertIn(field, response.context["form"].errors)
        self.plain.refresh_from_db()
        self.assertTrue(self.plain.check_password(PASSWORD))

    def test_code_only_account_sets_a_first_password(self):
        user = make_user("codeonly", password=None, phone="13500000000")
        self.client.force_login(user)
        page = self.client.get(PASSWORD_CHANGE)
        self.assertNotContains(page, 'name="old_password"')
        self.assertContains(page, "Set a password")

        response = self.post(
            new_password="First-Password-2024", new_password_again="First-Password-2024"
        )

        self.assertRedirects(response, PROFILE, fetch_redirect_response=False)
        user.refresh_from_db()
        self.assertTrue(user.check_password("First-Password-2024"))

    def test_anonymous_is_sent_to_login(self):
        self.client.logout()
        response = self.client.get(PASSWORD_CHANGE)
        self.assertEqual(response.status_code, 302)
