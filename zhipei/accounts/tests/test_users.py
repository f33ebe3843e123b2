from typing import Any

from django.contrib.auth.hashers import identify_hasher
from django.test import TestCase, override_settings

from zhipei.accounts.models import Role, User
from zhipei.accounts.services import (
    change_password,
    create_user,
    grant_role,
    set_password,
    update_user,
)
from zhipei.accounts.tests.helpers import PASSWORD, PersonaTestCase, make_person, make_user
from zhipei.audit.models import AuditEvent
from zhipei.core.errors import Conflict, InvalidInput, NotAllowed
from zhipei.regions.testing import make_region_tree


class CreateUserTests(TestCase):
    def test_creates_user_with_hashed_password_and_audit_event(self):
        user = create_user(
            username="li", password=PASSWORD, phone="138 0000 0000", display_name="李雷"
        )

        user.refresh_from_db()
        self.assertEqual(user.phone, "13800000000")
        self.assertEqual(user.display_name, "李雷")
        self.assertTrue(user.check_password(PASSWORD))
        self.assertNotIn(PASSWORD, user.password)
        event = AuditEvent.objects.get(action="accounts.user.created")
        self.assertEqual(event.object_id, str(user.pk))
        self.assertEqual(event.data["phone"], "138****0000")
        self.assertNotIn("13800000000", str(event.data))

    @override_settings(
        PASSWORD_HASHERS=[
            "django.contrib.auth.hashers.Argon2PasswordHasher",
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        ]
    )
    def test_password_is_hashed_with_argon2_outside_tests(self):
        user = create_user(username="argon", password=PASSWORD)

        self.assertTrue(user.password.startswith("argon2$argon2id$"))
        self.assertEqual(identify_hasher(user.password).algorithm, "argon2")
        self.assertTrue(user.check_password(PASSWORD))

    def test_phone_only_account_has_unusable_password(self):
        user = create_user(username="13700000000", password=None, phone="13700000000")

        self.assertFalse(user.has_usable_password())

    def test_accepts_phone_with_country_prefix(self):
        user = create_user(username="zhao", password=PASSWORD, phone="+86 137-0000-0001")

        self.assertEqual(user.phone, "13700000001")

    def test_refuses_bad_input_with_the_field_at_fault(self):
        cases: list[tuple[dict[str, Any], str]] = [
            ({"username": ""}, "username"),
            ({"username": "has space"}, "username"),
            ({"username": "x" * 151}, "username"),
            ({"phone": "12345"}, "phone"),
            ({"phone": "12800000000"}, "phone"),
            ({"password": "short"}, "password"),
            ({"password": "1234567890123"}, "password"),
            ({"password": "password1234"}, "password"),
            ({"display_name": "名" * 101}, "display_name"),
        ]
        for overrides, field in cases:
            with self.subTest(overrides=overrides):
                kwargs: dict[str, Any] = {"username": "ok_name", "password": PASSWORD, **overrides}
                with self.assertRaises(InvalidInput) as caught:
                    create_user(**kwargs)
                self.assertEqual(caught.exception.field, field)
        self.assertFalse(User.objects.exists())
        self.assertFalse(AuditEvent.objects.exists())

    def test_password_similar_to_username_is_refused(self):
        with self.assertRaises(InvalidInput) as caught:
            create_user(username="wangfang2024", password="wangfang2024")
        self.assertEqual(caught.exception.field, "password")

    def test_duplicates_are_conflicts_on_their_field(self):
        create_user(username="li", password=PASSWORD, phone="13800000000")
        cases: list[tuple[dict[str, Any], str]] = [
            ({"username": "li"}, "username"),
            ({"username": "LI"}, "username"),
            ({"username": "13800000000"}, "username"),  # another user's phone
            ({"username": "other", "phone": "13800000000"}, "phone"),
        ]
        for kwargs, field in cases:
            with self.subTest(kwargs=kwargs):
                with self.assertRaises(Conflict) as caught:
                    create_user(password=PASSWORD, **kwargs)
                self.assertEqual(caught.exception.field, field)
        self.assertEqual(User.objects.count(), 1)

    def test_phone_that_is_another_users_login_name_is_a_conflict(self):
        create_user(username="13800000000", password=PASSWORD)

        with self.assertRaises(Conflict) as caught:
            create_user(username="li", password=PASSWORD, phone="13800000000")
        self.assertEqual(caught.exception.field, "phone")

    def test_a_person_has_at_most_one_account(self):
        person = make_person(make_region_tree()["420102"])
        create_user(username="a", password=PASSWORD, person=person)

        with self.assertRaises(Conflict) as caught:
            create_user(username="b", password=PASSWORD, person=person)
        self.assertEqual(caught.exception.field, "person")


class CreateUserPermissionTests(PersonaTestCase):
    def test_admin_and_labour_officer_may_create_users(self):
        for actor in (self.admin, self.county):
            with self.subTest(actor=actor.username):
                user = create_user(username=f"by_{actor.username}", password=PASSWORD, by=actor)
                event = AuditEvent.objects.get(action="accounts.user.created", object_id=user.pk)
                self.assertEqual(event.actor_id, actor.pk)

    def test_others_may_not_create_users(self):
        for actor in (self.plain, self.wang, self.hr, self.finance):
            with self.subTest(actor=actor.username), self.assertRaises(NotAllowed):
                create_user(username=f"by_{actor.username}", password=PASSWORD, by=actor)


class UpdateUserTests(PersonaTestCase):
    def test_admin_updates_details_and_staff_change_ends_sessions(self):
        version = self.plain.privilege_version

        update_user(
            self.plain,
            display_name="普通",
            phone="13600000000",
            is_active=True,
            is_staff=True,
            by=self.admin,
        )

        self.plain.refresh_from_db()
        self.assertEqual((self.plain.display_name, self.plain.phone), ("普通", "13600000000"))
        self.assertTrue(self.plain.is_staff)
        self.assertEqual(self.plain.privilege_version, version + 1)
        event = AuditEvent.objects.get(action="accounts.user.updated")
        self.assertEqual(set(event.data["changed"]), {"display_name", "phone", "is_staff"})

    def test_detail_change_alone_keeps_sessions(self):
        version = self.plain.privilege_version
        update_user(
            self.plain, display_name="x", phone=None, is_active=True, is_staff=False, by=self.admin
        )
        self.plain.refresh_from_db()
        self.assertEqual(self.plain.privilege_version, version)

    def test_only_admin_may_update_and_not_deactivate_themselves(self):
        with self.assertRaises(NotAllowed):
            update_user(
                self.plain,
                display_name="",
                phone=None,
                is_active=False,
                is_staff=False,
                by=self.county,
            )
        with self.assertRaises(InvalidInput) as caught:
            update_user(
                self.admin,
                display_name="",
                phone=None,
                is_active=False,
                is_staff=True,
                by=self.admin,
            )
        self.assertEqual(caught.exception.field, "is_active")

    def test_phone_of_another_user_is_a_conflict(self):
        with self.assertRaises(Conflict):
            update_user(
                self.plain,
                display_name="",
                phone="13900000001",
                is_active=True,
                is_staff=False,
                by=self.admin,
            )


class PasswordTests(PersonaTestCase):
    def test_user_changes_own_password(self):
        change_password(self.plain, old_password=PASSWORD, new_password="Another-Long-Secret-9")

        self.plain.refresh_from_db()
        self.assertTrue(self.plain.check_password("Another-Long-Secret-9"))
        self.assertTrue(AuditEvent.objects.filter(action="accounts.password.changed").exists())

    def test_wrong_old_password_weak_or_same_new_password_are_refused(self):
        cases = [
            ("wrong-old-password", "Another-Long-Secret-9", "old_password"),
            (None, "Another-Long-Secret-9", "old_password"),
            (PASSWORD, "short", "new_password"),
            (PASSWORD, PASSWORD, "new_password"),
        ]
        for old, new, field in cases:
            with self.subTest(old=old, new=new):
                with self.assertRaises(InvalidInput) as caught:
                    change_password(self.plain, old_password=old, new_password=new)
                self.assertEqual(caught.exception.field, field)
        self.plain.refresh_from_db()
        self.assertTrue(self.plain.check_password(PASSWORD))

    def test_phone_only_account_sets_first_password_without_old_one(self):
        user = make_user("codeonly", password=None, phone="13500000000")

        change_password(user, old_password=None, new_password="First-Password-2024")

        self.assertTrue(user.check_password("First-Password-2024"))

    def test_admin_sets_password_others_cannot(self):
        set_password(self.plain, password="Set-By-Operator-77", by=self.admin)
        self.plain.refresh_from_db()
        self.assertTrue(self.plain.check_password("Set-By-Operator-77"))

        with self.assertRaises(NotAllowed):
            set_password(self.plain, password="Set-By-Officer-77", by=self.province)

    def test_inactive_granting_target_is_refused(self):
        self.plain.is_active = False
        self.plain.save(update_fields=["is_active"])
        with self.assertRaises(InvalidInput):
            grant_role(self.plain, role=Role.LEARNER, by=self.admin)
