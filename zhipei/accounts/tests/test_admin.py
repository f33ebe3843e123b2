import html
import re

from django.urls import reverse

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.accounts.tests.helpers import PASSWORD, PersonaTestCase
from zhipei.audit.models import AuditEvent
from zhipei.catalog.tests.catalogues.helpers import make_occupations

ADD = reverse("admin:accounts_user_add")


def change_url(user):
    return reverse("admin:accounts_user_change", args=[user.pk])


def inline_data(user, rows=(), new=None, delete=()):
    """POST data for the change form with the role inline."""
    existing = list(RoleAssignment.objects.filter(user=user).order_by("pk"))
    data = {
        "display_name": user.display_name,
        "phone": user.phone or "",
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "role_assignments-TOTAL_FORMS": str(len(existing) + 1),
        "role_assignments-INITIAL_FORMS": str(len(existing)),
        "role_assignments-MIN_NUM_FORMS": "0",
        "role_assignments-MAX_NUM_FORMS": "1000",
    }
    for i, assignment in enumerate(existing):
        data[f"role_assignments-{i}-id"] = str(assignment.pk)
        data[f"role_assignments-{i}-user"] = str(user.pk)
        if assignment.pk in delete:
            data[f"role_assignments-{i}-DELETE"] = "on"
    n = len(existing)
    data[f"role_assignments-{n}-user"] = str(user.pk)
    for key, value in (new or {}).items():
        data[f"role_assignments-{n}-{key}"] = value
    return {k: v for k, v in data.items() if v != ""}


class UserAdminTests(PersonaTestCase):
    def setUp(self):
        self.client.force_login(self.admin)

    def test_operator_adds_a_user_through_the_service(self):
        response = self.client.post(
            ADD,
            {
                "username": "newbie",
                "display_name": "新人",
                "phone": "13600000000",
                "password": "Operator-Set-Secret-1",
                "role_assignments-TOTAL_FORMS": "0",
                "role_assignments-INITIAL_FORMS": "0",
            },
        )

        self.assertEqual(
            response.status_code,
            302,
            getattr(response, "context", None) and response.context["adminform"].form.errors,
        )
        user = User.objects.get(username="newbie")
        self.assertTrue(user.check_password("Operator-Set-Secret-1"))
        event = AuditEvent.objects.get(action="accounts.user.created", object_id=user.pk)
        self.assertEqual(event.actor_id, self.admin.pk)

    def test_add_form_shows_service_errors_on_fields(self):
        valid = {
            "username": "newbie",
            "phone": "13600000000",
            "password": "Operator-Set-Secret-1",
            "role_assignments-TOTAL_FORMS": "0",
            "role_assignments-INITIAL_FORMS": "0",
        }
        cases = [
            ({"username": "plain"}, "username"),
            ({"username": "13900000001"}, "username"),
            ({"phone": "12345"}, "phone"),
            ({"phone": "13900000001"}, "phone"),
            ({"password": "short"}, "password"),
        ]
        for overrides, field in cases:
            with self.subTest(overrides=overrides):
                response = self.client.post(ADD, {**valid, **overrides})
                self.assertEqual(response.status_code, 200)
                self.assertEqual(set(response.context["adminform"].form.errors), {field})
        self.assertFalse(User.objects.filter(username="newbie").exists())

    def test_operator_grants_and_revokes_roles_in_the_inline(self):
        data = inline_data(
            self.plain, new={"role": Role.LABOUR_OFFICER, "region": str(self.regions["420106"].pk)}
        )
        response = self.client.post(change_url(self.plain), data)
        self.assertEqual(response.status_code, 302)
        assignment = RoleAssignment.objects.get(user=self.plain)
        self.assertEqual(assignment.granted_by, self.admin)
        self.assertTrue(
            AuditEvent.objects.filter(
                action="accounts.role.granted", object_id=assignment.pk
            ).exists()
        )

        response = self.client.post(
            change_url(self.plain), inline_data(self.plain, delete={assignment.pk})
        )
        self.assertEqual(response.status_code, 302)
        assignment.refresh_from_db()
        self.assertIsNotNone(assignment.revoked_at)  # revoked, not deleted

    def test_inline_refuses_a_role_without_its_region(self):
        data = inline_data(self.plain, new={"role": Role.LABOUR_OFFICER})
        response = self.client.post(change_url(self.plain), data)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "An officer role needs the region it covers.")
        self.assertFalse(RoleAssignment.objects.filter(user=self.plain).exists())

    def test_inline_refuses_a_duplicate_active_role(self):
        data = inline_data(self.wang, new={"role": Role.LEARNER})
        response = self.client.post(change_url(self.wang), data)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "already holds this role")

    def test_operator_sets_a_password(self):
        url = reverse("admin:auth_user_password_change", args=[self.plain.pk])
        response = self.client.post(
            url, {"password1": "Reset-By-Operator-9", "password2": "Reset-By-Operator-9"}
        )
        self.assertEqual(response.status_code, 302)
        self.plain.refresh_from_db()
        self.assertTrue(self.plain.check_password("Reset-By-Operator-9"))
        event = AuditEvent.objects.get(action="accounts.password.set")
        self.assertEqual(event.actor_id, self.admin.pk)

    def test_operators_own_role_change_keeps_their_session(self):
        data = inline_data(self.admin, new={"role": Role.LEARNER})
        self.client.post(change_url(self.admin), data)
        self.assertEqual(self.client.get(change_url(self.admin)).status_code, 200)

    def test_users_cannot_be_deleted(self):
        url = reverse("admin:accounts_user_delete", args=[self.plain.pk])
        self.assertEqual(self.client.post(url, {"post": "yes"}).status_code, 403)
        self.assertTrue(User.objects.filter(pk=self.plain.pk).exists())


class UserAdminAccessTests(PersonaTestCase):
    def test_staff_without_system_admin_role_is_refused(self):
        self.province.is_staff = True
        self.province.save(update_fields=["is_staff"])
        self.client.force_login(self.province)
        self.assertEqual(
            self.client.get(reverse("admin:accounts_user_changelist")).status_code, 403
        )
        self.assertEqual(self.client.get(change_url(self.plain)).status_code, 403)

    def test_non_staff_is_sent_to_admin_login(self):
        self.client.force_login(self.wang)
        response = self.client.get(reverse("admin:accounts_user_changelist"))
        self.assertEqual(response.status_code, 302)

    def test_changelist_renders_for_operator(self):
        self.client.force_login(self.admin)
        response = self.client.get(reverse("admin:accounts_user_changelist"))
        self.assertContains(response, "wang")
        self.assertNotContains(response, PASSWORD)


def _shape(url: str) -> str:
    return re.sub(r"/\d+/", "/N/", url)


class OperatorAdminLinksTests(PersonaTestCase):
    """Every link the admin shows an operator opens: the reference data (regions,
    occupations) and the other apps' read-only admins use core.admin's operator check, so a
    region or occupation linked from a user or a catalogue entry is not a 403."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        make_occupations()

    def links(self, url: str) -> set[str]:
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200, url)
        found = re.findall(r'href="(/admin/[^"#]*)"', response.content.decode())
        return {html.unescape(link) for link in found if "logout" not in link}

    def test_every_link_from_the_index_and_its_pages_opens(self):
        self.client.force_login(self.admin)
        index = self.links("/admin/")
        for app in ("regions", "occupations", "audit", "enterprises", "catalog", "subsidies"):
            self.assertIn(f"/admin/{app}/", index)
        seen = {"/admin/"}
        seen_shapes = {"/admin/"}  # /admin/app/model/N/change/ for every row
        pages = sorted(index)
        # Two levels: the lists, then the rows they link (change pages and lookups).
        for _level in range(2):
            following = set()
            for url in pages:
                if url in seen:
                    continue
                seen.add(url)
                seen_shapes.add(_shape(url))
                following |= {link for link in self.links(url) if _shape(link) not in seen_shapes}
            pages = sorted(following)
        for url in pages:  # the last level: each opens
            with self.subTest(url=url):
                self.assertLess(self.client.get(url).status_code, 400)
        self.assertTrue(any(url.startswith("/admin/regions/region/") for url in seen | set(pages)))

    def test_staff_without_the_operator_role_see_no_reference_data(self):
        self.county.is_staff = True
        self.county.save(update_fields=["is_staff"])
        self.client.force_login(self.county)
        for url in ("/admin/regions/region/", "/admin/occupations/occupation/"):
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 403)
        self.assertFalse(User.objects.get(pk=self.county.pk).is_operator)
        self.assertTrue(User.objects.get(pk=self.admin.pk).is_operator)
