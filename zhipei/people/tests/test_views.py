from datetime import date

from django.test import TestCase
from django.urls import reverse

from zhipei.accounts.models import Role, User
from zhipei.accounts.services import create_user, grant_role
from zhipei.audit.models import AuditEvent
from zhipei.people.idnumber import check_character
from zhipei.people.models import Person, PersonCategory, PersonHold
from zhipei.people.services import create_person, place_hold
from zhipei.regions.models import Region
from zhipei.regions.testing import make_region_tree

PASSWORD = "Zhipei-test-2026"


def synthetic_id(county: str, born: date, serial: int) -> str:
    """A synthetic ID number (not a real person's): county code, birth date, a 3-digit
    serial and the GB 11643 check character."""
    body = f"{county}{born:%Y%m%d}{serial:03d}"
    return body + check_character(body)


class PeopleViewTestCase(TestCase):
    """Personas: county officers of 江岸区 and of 西陵区 (the outsider, in 宜昌市), a city officer
    of 武汉市, a finance officer and a learner (wrong roles), and people in three counties."""

    regions: dict[str, Region]
    county_officer: User
    city_officer: User
    outsider: User
    finance_officer: User
    learner: User
    wang: Person
    li: Person
    zhao: Person
    wang_id: str
    zhao_id: str

    @classmethod
    def setUpTestData(cls) -> None:
        cls.regions = make_region_tree()
        cls.county_officer = cls.make_officer("jiangan", "420102")
        cls.city_officer = cls.make_officer("wuhan", "420100")
        cls.outsider = cls.make_officer("xiling", "420502")
        cls.finance_officer = create_user(username="finance", password=PASSWORD)
        grant_role(
            cls.finance_officer,
            role=Role.FINANCE_OFFICER,
            region=cls.regions["420102"],
            by=None,
        )
        cls.learner = create_user(username="learner", password=PASSWORD)
        grant_role(cls.learner, role=Role.LEARNER, by=None)

        cls.wang_id = synthetic_id("420102", date(1990, 5, 17), 31)
        cls.wang = create_person(
            name="王小明",
            id_number=cls.wang_id,
            region=cls.regions["420102"],
            phone="13800000001",
            by=None,
        )
        cls.li = create_person(
            name="李娜",
            id_number=synthetic_id("420106", date(1988, 2, 3), 42),
            region=cls.regions["420106"],
            phone="13800000002",
            by=None,
        )
        cls.zhao_id = synthetic_id("420502", date(1995, 11, 30), 17)
        cls.zhao = create_person(
            name="赵强",
            id_number=cls.zhao_id,
            region=cls.regions["420502"],
            by=None,
        )

    @classmethod
    def make_officer(cls, username: str, region_code: str) -> User:
        user = create_user(username=username, password=PASSWORD)
        grant_role(user, role=Role.LABOUR_OFFICER, region=cls.regions[region_code], by=None)
        return user


class PersonListTests(PeopleViewTestCase):
    url = reverse("people:list")

    def test_county_officer_sees_only_people_of_their_county(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.get(self.url)

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "王小明")
        self.assertNotContains(response, "李娜")
        self.assertNotContains(response, "赵强")
        self.assertContains(response, self.wang.id_masked)
        self.assertNotContains(response, self.wang_id)

    def test_city_officer_sees_every_county_of_the_city(self) -> None:
        self.client.force_login(self.city_officer)

        response = self.client.get(self.url)

        self.assertContains(response, "王小明")
        self.assertContains(response, "李娜")
        self.assertNotContains(response, "赵强")

    def test_region_filter_narrows_and_offers_only_regions_in_scope(self) -> None:
        self.client.force_login(self.city_officer)

        response = self.client.get(self.url, {"region": "420106"})

        self.assertContains(response, "李娜")
        self.assertNotContains(response, "王小明")
        self.assertContains(response, 'value="420106"')
        self.assertNotContains(response, 'value="420502"')

    def test_region_outside_scope_is_a_field_error_not_a_leak(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.get(self.url, {"region": "420502"})

        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.context["search_form"].errors["region"])
        self.assertNotContains(response, "赵强")

    def test_search_by_name_and_by_phone(self) -> None:
        self.client.force_login(self.city_officer)

        by_name = self.client.get(self.url, {"q": "李"})
        by_phone = self.client.get(self.url, {"q": "13800000001"})

        self.assertContains(by_name, "李娜")
        self.assertNotContains(by_name, "王小明")
        self.assertContains(by_phone, "王小明")
        self.assertNotContains(by_phone, "李娜")

    def test_an_id_number_in_the_url_is_refused_and_dropped(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.get(self.url, {"q": self.wang_id, "region": "420102"})

        self.assertEqual(response.status_code, 302)
        self.assertNotIn(self.wang_id, response["Location"])
        self.assertIn("region=420102", response["Location"])
        page = self.client.get(response["Location"])
        self.assertNotContains(page, self.wang_id)
        self.assertContains(page, "ID number search")

    def test_id_number_search_posts_and_opens_the_person(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.post(self.url, {"id_number": self.wang_id.lower()})

        self.assertRedirects(response, reverse("people:detail", args=[self.wang.pk]))

    def test_id_number_search_outside_scope_finds_nobody(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.post(self.url, {"id_number": self.zhao_id}, follow=True)

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "No person with this ID number in your area.")
        self.assertNotContains(response, "赵强")
        self.assertNotContains(response, self.zhao_id)

    def test_id_number_search_with_a_malformed_number_shows_a_field_error(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.post(self.url, {"id_number": "12345"})

        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.context["id_form"].errors["id_number"])

    def test_outsider_does_not_see_people_of_another_city(self) -> None:
        self.client.force_login(self.outsider)

        response = self.client.get(self.url)

        self.assertContains(response, "赵强")
        self.assertNotContains(response, "王小明")
        self.assertNotContains(response, "李娜")

    def test_wrong_roles_get_403(self) -> None:
        for user in (self.finance_officer, self.learner):
            with self.subTest(user=user.username):
                self.client.force_login(user)
                self.assertEqual(self.client.get(self.url).status_code, 403)
                self.assertEqual(
                    self.client.post(self.url, {"id_number": self.wang_id}).status_code, 403
                )

    def test_anonymous_is_sent_to_log_in(self) -> None:
        response = self.client.get(self.url)

        self.assertEqual(response.status_code, 302)
        self.assertIn("next=", response["Location"])

    def test_pagination_shows_25_per_page_and_a_bad_page_number_is_no_500(self) -> None:
        for serial in range(100, 130):
            create_person(
                name=f"测试人员{chr(0x4E00 + serial)}",
                id_number=synthetic_id("420102", date(1992, 1, 1), serial),
                region=self.regions["420102"],
                by=None,
            )
        self.client.force_login(self.county_officer)

        first = self.client.get(self.url)
        second = self.client.get(self.url, {"page": "2"})
        bogus = self.client.get(self.url, {"page": "abc"})

        self.assertEqual(len(first.context["page"].object_list), 25)
        self.assertEqual(len(second.context["page"].object_list), 6)  # 31 people in 江岸区
        self.assertEqual(bogus.status_code, 200)

    def test_list_query_count_does_not_grow_with_people(self) -> None:
        for serial in range(200, 210):
            person = create_person(
                name=f"批量{chr(0x4E00 + serial)}",
                id_number=synthetic_id("420102", date(1993, 3, 3), serial),
                region=self.regions["420102"],
                by=None,
            )
            place_hold(person, reason="test", by=self.county_officer)
        self.client.force_login(self.county_officer)
        # session, user, navigation roles, scope prefixes, region choices, count, page rows
        with self.assertNumQueries(7):
            response = self.client.get(self.url)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "badge-hold")

    def test_htmx_request_gets_only_the_results(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.get(self.url, {"q": "王"}, headers={"HX-Request": "true"})

        self.assertContains(response, "王小明")
        self.assertNotContains(response, "<html")


class PersonDetailTests(PeopleViewTestCase):
    def test_officer_sees_masked_identity_categories_and_holds(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.get(reverse("people:detail", args=[self.wang.pk]))

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "王小明")
        self.assertContains(response, self.wang.id_masked)
        self.assertNotContains(response, self.wang_id)
        self.assertContains(response, "1990-05-17")
        self.assertContains(response, self.wang.get_verification_display())

    def test_outsider_gets_404(self) -> None:
        self.client.force_login(self.outsider)

        response = self.client.get(reverse("people:detail", args=[self.wang.pk]))

        self.assertEqual(response.status_code, 404)

    def test_unknown_person_is_404(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.get(reverse("people:detail", args=[999999]))

        self.assertEqual(response.status_code, 404)

    def test_wrong_role_gets_403(self) -> None:
        self.client.force_login(self.finance_officer)

        response = self.client.get(reverse("people:detail", args=[self.wang.pk]))

        self.assertEqual(response.status_code, 403)


class RevealTests(PeopleViewTestCase):
    def url(self, person: Person) -> str:
        return reverse("people:reveal", args=[person.pk])

    def test_reveal_shows_the_number_once_and_is_audited(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.post(self.url(self.wang), {"purpose": "核对补贴申请材料"})

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, self.wang_id)
        self.assertIn("no-cache", response["Cache-Control"])
        event = AuditEvent.objects.get(action="people.person.id_revealed")
        self.assertEqual(event.actor_id, self.county_officer.pk)
        self.assertEqual(event.data["purpose"], "核对补贴申请材料")
        self.assertNotIn(self.wang_id, str(event.data))
        again = self.client.get(reverse("people:detail", args=[self.wang.pk]))
        self.assertNotContains(again, self.wang_id)

    def test_reveal_without_purpose_is_a_field_error_and_reveals_nothing(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.post(self.url(self.wang), {"purpose": "  "})

        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.context["reveal_form"].errors["purpose"])
        self.assertNotContains(response, self.wang_id)
        self.assertFalse(AuditEvent.objects.filter(action="people.person.id_revealed").exists())

    def test_outsider_gets_404_and_nothing_is_audited(self) -> None:
        self.client.force_login(self.outsider)

        response = self.client.post(self.url(self.wang), {"purpose": "核对补贴申请材料"})

        self.assertEqual(response.status_code, 404)
        self.assertFalse(AuditEvent.objects.filter(action="people.person.id_revealed").exists())

    def test_wrong_role_gets_403(self) -> None:
        self.client.force_login(self.learner)

        response = self.client.post(self.url(self.wang), {"purpose": "核对补贴申请材料"})

        self.assertEqual(response.status_code, 403)

    def test_get_is_not_allowed(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.get(self.url(self.wang))

        self.assertEqual(response.status_code, 405)


class HoldTests(PeopleViewTestCase):
    def test_place_and_lift_a_hold_with_reasons(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.post(
            reverse("people:place_hold", args=[self.wang.pk]), {"reason": "疑似重复申领"}
        )

        self.assertRedirects(response, reverse("people:detail", args=[self.wang.pk]))
        hold = PersonHold.objects.get(person=self.wang, lifted_at__isnull=True)
        self.assertEqual(hold.reason, "疑似重复申领")
        self.assertEqual(hold.placed_by, self.county_officer)
        detail = self.client.get(reverse("people:detail", args=[self.wang.pk]))
        self.assertContains(detail, "疑似重复申领")

        response = self.client.post(
            reverse("people:lift_hold", args=[self.wang.pk, hold.pk]), {"reason": "核查无误"}
        )

        self.assertRedirects(response, reverse("people:detail", args=[self.wang.pk]))
        hold.refresh_from_db()
        self.assertIsNotNone(hold.lifted_at)
        self.assertEqual(hold.lift_reason, "核查无误")

    def test_hold_without_reason_is_a_field_error(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.post(
            reverse("people:place_hold", args=[self.wang.pk]), {"reason": ""}
        )

        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.context["hold_form"].errors["reason"])
        self.assertFalse(PersonHold.objects.exists())

    def test_lift_without_reason_is_a_field_error(self) -> None:
        hold = place_hold(self.wang, reason="核查", by=self.county_officer)
        self.client.force_login(self.county_officer)

        response = self.client.post(
            reverse("people:lift_hold", args=[self.wang.pk, hold.pk]), {"reason": " "}
        )

        self.assertEqual(response.status_code, 200)
        hold.refresh_from_db()
        self.assertIsNone(hold.lifted_at)
        self.assertContains(response, "errorlist")

    def test_lifting_an_already_lifted_hold_is_404(self) -> None:
        hold = place_hold(self.wang, reason="核查", by=self.county_officer)
        self.client.force_login(self.county_officer)
        url = reverse("people:lift_hold", args=[self.wang.pk, hold.pk])
        self.client.post(url, {"reason": "核查无误"})

        response = self.client.post(url, {"reason": "再次解除"})

        self.assertEqual(response.status_code, 404)

    def test_a_hold_of_another_person_cannot_be_lifted_through_this_person(self) -> None:
        other = place_hold(self.zhao, reason="核查", by=self.outsider)
        self.client.force_login(self.county_officer)

        response = self.client.post(
            reverse("people:lift_hold", args=[self.wang.pk, other.pk]), {"reason": "解除"}
        )

        self.assertEqual(response.status_code, 404)
        other.refresh_from_db()
        self.assertIsNone(other.lifted_at)

    def test_outsider_gets_404(self) -> None:
        hold = place_hold(self.wang, reason="核查", by=self.county_officer)
        self.client.force_login(self.outsider)

        placed = self.client.post(
            reverse("people:place_hold", args=[self.wang.pk]), {"reason": "越权"}
        )
        lifted = self.client.post(
            reverse("people:lift_hold", args=[self.wang.pk, hold.pk]), {"reason": "越权"}
        )

        self.assertEqual(placed.status_code, 404)
        self.assertEqual(lifted.status_code, 404)
        self.assertEqual(PersonHold.objects.filter(lifted_at__isnull=True).count(), 1)

    def test_wrong_role_gets_403(self) -> None:
        self.client.force_login(self.finance_officer)

        response = self.client.post(
            reverse("people:place_hold", args=[self.wang.pk]), {"reason": "越权"}
        )

        self.assertEqual(response.status_code, 403)
        self.assertFalse(PersonHold.objects.exists())


class CategoryTests(PeopleViewTestCase):
    def url(self) -> str:
        return reverse("people:add_category", args=[self.wang.pk])

    def test_officer_records_a_living_allowance_category(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.post(
            self.url(),
            {
                "category": PersonCategory.Category.REGISTERED_POOR_LABOURER,
                "source": "扶贫开发信息系统",
                "valid_from": "2026-01-01",
                "valid_to": "",
            },
        )

        self.assertRedirects(response, reverse("people:detail", args=[self.wang.pk]))
        category = PersonCategory.objects.get(person=self.wang)
        self.assertEqual(category.recorded_by, self.county_officer)
        self.assertIsNone(category.valid_to)

    def test_end_before_start_and_unknown_category_are_field_errors(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.post(
            self.url(),
            {
                "category": "astronaut",
                "source": "",
                "valid_from": "2026-02-01",
                "valid_to": "2026-01-01",
            },
        )

        self.assertEqual(response.status_code, 200)
        errors = response.context["category_form"].errors
        self.assertIn("category", errors)
        self.assertIn("source", errors)
        self.assertIn("valid_to", errors)
        self.assertFalse(PersonCategory.objects.exists())

    def test_overlapping_period_is_refused_by_the_service_on_the_form(self) -> None:
        self.client.force_login(self.county_officer)
        data = {
            "category": PersonCategory.Category.EMPLOYMENT_DIFFICULTY,
            "source": "就业困难人员认定",
            "valid_from": "2026-01-01",
            "valid_to": "",
        }
        self.client.post(self.url(), data)

        response = self.client.post(self.url(), {**data, "valid_from": "2026-03-01"})

        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.context["category_form"].errors)
        self.assertEqual(PersonCategory.objects.count(), 1)

    def test_outsider_gets_404(self) -> None:
        self.client.force_login(self.outsider)

        response = self.client.post(
            self.url(),
            {"category": "idle_worker", "source": "x", "valid_from": "2026-01-01"},
        )

        self.assertEqual(response.status_code, 404)
        self.assertFalse(PersonCategory.objects.exists())


class CreatePersonTests(PeopleViewTestCase):
    url = reverse("people:create")

    def test_officer_registers_a_person_in_their_county(self) -> None:
        self.client.force_login(self.county_officer)
        number = synthetic_id("420102", date(2000, 8, 8), 52)

        response = self.client.post(
            self.url,
            {"name": "陈静", "id_number": number, "region": "420102", "phone": "13900000003"},
        )

        person = Person.objects.get(name="陈静")
        self.assertRedirects(response, reverse("people:detail", args=[person.pk]))
        self.assertEqual(person.region.code, "420102")
        self.assertEqual(person.birth_date, date(2000, 8, 8))
        self.assertNotIn(number, response["Location"])

    def test_form_offers_only_regions_in_scope(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.get(self.url)

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'value="420102"')
        self.assertNotContains(response, 'value="420106"')

    def test_region_outside_scope_is_refused(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.post(
            self.url,
            {
                "name": "陈静",
                "id_number": synthetic_id("420502", date(2000, 8, 8), 52),
                "region": "420502",
            },
        )

        self.assertEqual(response.status_code, 200)
        self.assertIn("region", response.context["form"].errors)
        self.assertFalse(Person.objects.filter(name="陈静").exists())

    def test_bad_phone_is_a_field_error(self) -> None:
        self.client.force_login(self.county_officer)
        number = synthetic_id("420102", date(2000, 8, 8), 52)

        response = self.client.post(
            self.url,
            {"name": "陈静", "id_number": number, "region": "420102", "phone": "12345"},
        )

        self.assertEqual(response.status_code, 200)
        self.assertIn("phone", response.context["form"].errors)
        self.assertFalse(Person.objects.filter(name="陈静").exists())

    def test_bad_check_character_is_a_field_error_on_the_id_number(self) -> None:
        self.client.force_login(self.county_officer)
        number = synthetic_id("420102", date(2000, 8, 8), 52)
        wrong = number[:17] + ("0" if number[17] != "0" else "1")

        response = self.client.post(
            self.url, {"name": "陈静", "id_number": wrong, "region": "420102"}
        )

        self.assertEqual(response.status_code, 200)
        self.assertIn("id_number", response.context["form"].errors)
        self.assertFalse(Person.objects.filter(name="陈静").exists())

    def test_duplicate_id_number_is_a_field_error(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.post(
            self.url, {"name": "王小明", "id_number": self.wang_id, "region": "420102"}
        )

        self.assertEqual(response.status_code, 200)
        self.assertIn("id_number", response.context["form"].errors)
        self.assertEqual(Person.objects.count(), 3)

    def test_missing_fields_are_field_errors(self) -> None:
        self.client.force_login(self.county_officer)

        response = self.client.post(self.url, {})

        self.assertEqual(response.status_code, 200)
        errors = response.context["form"].errors
        self.assertEqual(set(errors), {"name", "id_number", "region"})

    def test_wrong_role_gets_403(self) -> None:
        self.client.force_login(self.learner)

        self.assertEqual(self.client.get(self.url).status_code, 403)
