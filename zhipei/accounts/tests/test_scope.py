from django.http import Http404

from zhipei.accounts.models import Role, RoleAssignment
from zhipei.accounts.scope import get_in_scope, has_role, region_in_scope, scope_to_regions
from zhipei.accounts.services import grant_role, revoke_role
from zhipei.accounts.tests.helpers import PersonaTestCase, make_person
from zhipei.people.models import Person


class ScopeTests(PersonaTestCase):
    in_jiangan: Person
    in_wuchang: Person
    in_xiling: Person
    in_xiantao: Person

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        r = cls.regions
        cls.in_jiangan = make_person(r["420102"], name="江岸人")
        cls.in_wuchang = make_person(r["420106"], name="武昌人")
        cls.in_xiling = make_person(r["420502"], name="西陵人")
        cls.in_xiantao = make_person(r["429004"], name="仙桃人")

    def names(self, user, **kwargs):
        people = scope_to_regions(Person.objects.exclude(user=self.wang), user, **kwargs)
        return set(people.values_list("name", flat=True))

    def test_city_officer_sees_its_counties_not_another_citys(self):
        self.assertEqual(self.names(self.city), {"江岸人", "武昌人"})

    def test_county_officer_sees_only_its_county(self):
        self.assertEqual(self.names(self.county), {"江岸人"})

    def test_province_officer_sees_every_42_row(self):
        self.assertEqual(self.names(self.province), {"江岸人", "武昌人", "西陵人", "仙桃人"})

    def test_user_without_officer_role_sees_nothing(self):
        for user in (self.plain, self.wang, self.hr, self.admin):
            with self.subTest(user=user.username):
                self.assertEqual(self.names(user), set())

    def test_revoked_role_sees_nothing(self):
        revoke_role(RoleAssignment.objects.get(user=self.city), by=self.admin)
        self.city.refresh_from_db()
        self.assertEqual(self.names(self.city), set())

    def test_roles_filter_keeps_finance_out_of_labour_scope(self):
        labour = frozenset({Role.LABOUR_OFFICER})
        self.assertEqual(self.names(self.finance), {"江岸人", "武昌人"})
        self.assertEqual(self.names(self.finance, roles=labour), set())

    def test_several_assignments_add_up(self):
        grant_role(self.county, role=Role.LABOUR_OFFICER, region=self.regions["420502"], by=None)
        self.assertEqual(self.names(self.county), {"江岸人", "西陵人"})

    def test_get_in_scope_is_404_outside(self):
        self.assertEqual(
            get_in_scope(Person.objects.all(), self.city, self.in_wuchang.pk), self.in_wuchang
        )
        for pk in (self.in_xiling.pk, "not-a-number", 10**9):
            with self.subTest(pk=pk), self.assertRaises(Http404):
                get_in_scope(Person.objects.all(), self.city, pk)

    def test_region_in_scope_and_has_role(self):
        self.assertTrue(region_in_scope(self.city, "420106"))
        self.assertFalse(region_in_scope(self.city, "4205"))
        self.assertTrue(has_role(self.hr, Role.ENTERPRISE_ADMIN))
        self.assertFalse(has_role(self.hr, Role.LEARNER))

    def test_anonymous_and_inactive_users_see_nothing(self):
        from django.contrib.auth.models import AnonymousUser

        self.assertEqual(self.names(AnonymousUser()), set())
        self.province.is_active = False
        self.assertEqual(self.names(self.province), set())
