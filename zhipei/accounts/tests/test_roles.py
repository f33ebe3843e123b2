from typing import Any

from django.test import TestCase

from zhipei.accounts.models import Role, RoleAssignment
from zhipei.accounts.queries import officer_level, roles_of
from zhipei.accounts.services import grant_role, require_role, revoke_role
from zhipei.accounts.tests.helpers import PersonaTestCase, make_officer, make_user
from zhipei.audit.models import AuditEvent
from zhipei.core.errors import Conflict, InvalidInput, NotAllowed, NotInScope
from zhipei.regions.models import Region


class GrantRoleMatrixTests(PersonaTestCase):
    def setUp(self):
        self.target = make_user("target")

    def test_system_admin_may_grant_every_role(self):
        r = self.regions
        grants: list[dict[str, Any]] = [
            {"role": Role.LABOUR_OFFICER, "region": r["420000"]},
            {"role": Role.FINANCE_OFFICER, "region": r["420502"]},
            {"role": Role.ENTERPRISE_ADMIN, "organisation": self.organisation},
            {"role": Role.LEARNER},
            {"role": Role.SYSTEM_ADMIN},
        ]
        for kwargs in grants:
            with self.subTest(role=kwargs["role"]):
                assignment = grant_role(self.target, by=self.admin, **kwargs)
                self.assertEqual(assignment.granted_by, self.admin)
        self.assertEqual(len(roles_of(self.target)), len(grants))

    def test_labour_officer_grants_officer_roles_in_scope_at_or_below_own_level(self):
        r = self.regions
        allowed = [
            (self.province, Role.LABOUR_OFFICER, "420000"),
            (self.province, Role.LABOUR_OFFICER, "420502"),
            (self.province, Role.FINANCE_OFFICER, "429004"),
            (self.city, Role.LABOUR_OFFICER, "420100"),
            (self.city, Role.LABOUR_OFFICER, "420106"),
            (self.county, Role.LABOUR_OFFICER, "420102"),
        ]
        for granter, role, code in allowed:
            with self.subTest(granter=granter.username, role=role, code=code):
                assignment = grant_role(self.target, role=role, region=r[code], by=granter)
                self.assertIsNone(assignment.revoked_at)

    def test_county_officer_cannot_grant_a_city_or_province_role(self):
        for code in ("420100", "420000"):
            with self.subTest(code=code), self.assertRaises(NotAllowed):
                grant_role(
                    self.target, role=Role.LABOUR_OFFICER, region=self.regions[code], by=self.county
                )

    def test_officers_cannot_grant_outside_their_scope(self):
        cases = [
            (self.county, "420106"),  # sibling county
            (self.county, "420502"),  # county in another city
            (self.city, "420502"),
            (self.city, "429004"),  # province-administered, not under the city
            (self.outsider, "420102"),
        ]
        for granter, code in cases:
            with self.subTest(granter=granter.username, code=code), self.assertRaises(NotInScope):
                grant_role(
                    self.target, role=Role.LABOUR_OFFICER, region=self.regions[code], by=granter
                )
        self.assertFalse(RoleAssignment.objects.filter(user=self.target).exists())

    def test_labour_officer_cannot_grant_non_officer_roles(self):
        cases: list[dict[str, Any]] = [
            {"role": Role.SYSTEM_ADMIN},
            {"role": Role.LEARNER},
            {"role": Role.ENTERPRISE_ADMIN, "organisation": self.organisation},
        ]
        for kwargs in cases:
            with self.subTest(role=kwargs["role"]), self.assertRaises(NotAllowed):
                grant_role(self.target, by=self.province, **kwargs)

    def test_other_roles_cannot_grant_at_all(self):
        for granter in (self.finance, self.wang, self.hr, self.plain):
            with self.subTest(granter=granter.username), self.assertRaises(NotAllowed):
                grant_role(
                    self.target,
                    role=Role.LABOUR_OFFICER,
                    region=self.regions["420102"],
                    by=granter,
                )

    def test_officer_cannot_grant_to_themselves(self):
        with self.assertRaises(NotAllowed):
            grant_role(
                self.city, role=Role.FINANCE_OFFICER, region=self.regions["420102"], by=self.city
            )

    def test_revoked_officer_can_no_longer_grant(self):
        revoke_role(RoleAssignment.objects.get(user=self.city), by=self.admin)
        with self.assertRaises(NotAllowed):
            grant_role(
                self.target, role=Role.LABOUR_OFFICER, region=self.regions["420102"], by=self.city
            )


class GrantRoleInputTests(PersonaTestCase):
    def setUp(self):
        self.target = make_user("target")

    def test_role_must_name_what_it_needs_and_nothing_else(self):
        r = self.regions
        cases: list[tuple[dict[str, Any], str]] = [
            ({"role": "emperor"}, "role"),
            ({"role": Role.LABOUR_OFFICER}, "region"),
            (
                {
                    "role": Role.LABOUR_OFFICER,
                    "region": r["420102"],
                    "organisation": self.organisation,
                },
                "organisation",
            ),
            ({"role": Role.PLATFORM_OPERATOR}, "organisation"),
            (
                {
                    "role": Role.PLATFORM_OPERATOR,
                    "organisation": self.organisation,
                    "region": r["420102"],
                },
                "region",
            ),
            ({"role": Role.LEARNER, "region": r["420102"]}, "region"),
            ({"role": Role.SYSTEM_ADMIN, "organisation": self.organisation}, "organisation"),
        ]
        for kwargs, field in cases:
            with self.subTest(kwargs=kwargs):
                with self.assertRaises(InvalidInput) as caught:
                    grant_role(self.target, by=self.admin, **kwargs)
                self.assertEqual(caught.exception.field, field)
        self.assertFalse(RoleAssignment.objects.filter(user=self.target).exists())

    def test_retired_region_is_refused(self):
        retired = Region.objects.create(
            code="420103",
            name="江汉区(旧)",
            level="county",
            parent=self.regions["420100"],
            scope_prefix="420103",
            valid_to_year=1990,
        )
        with self.assertRaises(InvalidInput):
            grant_role(self.target, role=Role.LABOUR_OFFICER, region=retired, by=self.admin)

    def test_same_active_role_twice_is_a_conflict_but_again_after_revoke_is_fine(self):
        first = grant_role(self.target, role=Role.LEARNER, by=self.admin)
        with self.assertRaises(Conflict):
            grant_role(self.target, role=Role.LEARNER, by=self.admin)

        revoke_role(first, by=self.admin)
        second = grant_role(self.target, role=Role.LEARNER, by=self.admin)

        self.assertNotEqual(first.pk, second.pk)

    def test_grant_and_revoke_are_audited_with_region(self):
        assignment = grant_role(
            self.target, role=Role.LABOUR_OFFICER, region=self.regions["420106"], by=self.city
        )
        revoke_role(assignment, by=self.city)

        granted = AuditEvent.objects.get(action="accounts.role.granted", object_id=assignment.pk)
        revoked = AuditEvent.objects.get(action="accounts.role.revoked", object_id=assignment.pk)
        self.assertEqual((granted.actor_id, granted.region_code), (self.city.pk, "420106"))
        self.assertEqual(revoked.actor_id, self.city.pk)

    def test_organisation_role_audit_carries_organisation_region(self):
        assignment = grant_role(
            self.target,
            role=Role.PLATFORM_OPERATOR,
            organisation=self.organisation,
            by=self.admin,
        )
        event = AuditEvent.objects.get(action="accounts.role.granted", object_id=assignment.pk)
        self.assertEqual(event.region_code, "420102")


class RevokeRoleTests(PersonaTestCase):
    def test_revoke_keeps_row_and_second_revoke_changes_nothing(self):
        assignment = RoleAssignment.objects.get(user=self.county)

        revoke_role(assignment, by=self.city)
        first_revoked_at = assignment.revoked_at
        revoke_role(assignment, by=self.city)

        assignment.refresh_from_db()
        self.assertEqual(assignment.revoked_at, first_revoked_at)
        self.assertEqual(AuditEvent.objects.filter(action="accounts.role.revoked").count(), 1)
        self.assertEqual(roles_of(self.county), [])

    def test_revoke_follows_grant_rules(self):
        with self.assertRaises(NotInScope):
            revoke_role(RoleAssignment.objects.get(user=self.outsider), by=self.city)
        with self.assertRaises(NotAllowed):
            revoke_role(RoleAssignment.objects.get(user=self.city), by=self.county)
        with self.assertRaises(NotAllowed):
            revoke_role(RoleAssignment.objects.get(user=self.wang), by=self.province)

    def test_role_change_ends_existing_sessions(self):
        self.client.force_login(self.county)
        self.assertEqual(self.client.get("/accounts/profile/").status_code, 200)

        grant_role(
            self.county, role=Role.FINANCE_OFFICER, region=self.regions["420102"], by=self.admin
        )

        response = self.client.get("/accounts/profile/")
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login/", response["Location"])


class RequireRoleTests(PersonaTestCase):
    def test_role_in_region_passes(self):
        r = self.regions
        require_role(self.county, Role.LABOUR_OFFICER, region=r["420102"])
        require_role(self.city, Role.LABOUR_OFFICER, region=r["420102"])
        require_role(self.province, Role.LABOUR_OFFICER, region=r["429004"])
        require_role(self.hr, Role.ENTERPRISE_ADMIN, organisation=self.organisation)
        require_role(self.wang, Role.LEARNER)

    def test_wrong_role_is_not_allowed(self):
        with self.assertRaises(NotAllowed):
            require_role(self.finance, Role.LABOUR_OFFICER, region=self.regions["420102"])
        with self.assertRaises(NotAllowed):
            require_role(self.plain, Role.LEARNER)

    def test_right_role_outside_region_is_not_in_scope(self):
        with self.assertRaises(NotInScope):
            require_role(self.county, Role.LABOUR_OFFICER, region=self.regions["420106"])
        with self.assertRaises(NotInScope):
            require_role(self.county, Role.LABOUR_OFFICER, region=self.regions["420100"])
        with self.assertRaises(NotInScope):
            require_role(self.outsider, Role.LABOUR_OFFICER, region=self.regions["420102"])

    def test_other_organisation_is_not_in_scope(self):
        from zhipei.orgs.models import Organisation

        other = Organisation.objects.create(
            uscc="914205027000000002", name="西陵公司", region=self.regions["420502"]
        )
        with self.assertRaises(NotInScope):
            require_role(self.hr, Role.ENTERPRISE_ADMIN, organisation=other)

    def test_level_must_match(self):
        require_role(
            self.county, Role.LABOUR_OFFICER, region=self.regions["420102"], level="county"
        )
        with self.assertRaises(NotAllowed):
            require_role(
                self.city, Role.LABOUR_OFFICER, region=self.regions["420102"], level="county"
            )

    def test_revoked_or_inactive_users_are_not_allowed(self):
        revoke_role(RoleAssignment.objects.get(user=self.county), by=self.admin)
        with self.assertRaises(NotAllowed):
            require_role(self.county, Role.LABOUR_OFFICER)
        self.city.is_active = False
        with self.assertRaises(NotAllowed):
            require_role(self.city, Role.LABOUR_OFFICER)


class OfficerLevelTests(TestCase):
    def test_level_comes_from_the_highest_region(self):
        from zhipei.regions.testing import make_region_tree

        r = make_region_tree()
        officer = make_officer("o", r["420102"])
        self.assertEqual(officer_level(officer), "county")

        grant_role(officer, role=Role.FINANCE_OFFICER, region=r["420500"], by=None)
        self.assertEqual(officer_level(officer), "prefecture")
        self.assertEqual(officer_level(officer, roles=frozenset({Role.LABOUR_OFFICER})), "county")

        grant_role(officer, role=Role.LABOUR_OFFICER, region=r["420000"], by=None)
        self.assertEqual(officer_level(officer), "province")

    def test_no_officer_role_no_level(self):
        self.assertIsNone(officer_level(make_user("nobody")))
