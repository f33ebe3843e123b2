"""register_organisation and add_capacity."""

from __future__ import annotations

from typing import Any

from zhipei.audit.models import AuditEvent
from zhipei.audit.queries import events_for
from zhipei.core.errors import Conflict, InvalidInput, NotAllowed, NotInScope
from zhipei.orgs.models import Capacity, Organisation, Platform
from zhipei.orgs.services import UsccWarning, add_capacity, register_organisation
from zhipei.orgs.tests.helpers import OrgsTestCase, make_uscc


class RegisterOrganisationTests(OrgsTestCase):
    def register(self, **overrides):
        arguments: dict[str, Any] = {
            "uscc": make_uscc("420102", 7),
            "name": "江岸职业培训学校",
            "region": self.jiangan,
            "capacities": {"training_institution", "platform"},
            "by": self.county_officer,
            "website": "https://learn.example.cn",
        }
        arguments.update(overrides)
        return register_organisation(**arguments)

    def test_county_officer_registers_organisation_with_capacities(self):
        organisation = self.register(contact_name="李老师", contact_phone="027-88888888")

        organisation.refresh_from_db()
        self.assertEqual(organisation.uscc, make_uscc("420102", 7))
        self.assertTrue(organisation.uscc_check_passed)
        self.assertEqual(organisation.uscc_check_override_reason, "")
        self.assertEqual(organisation.capacities(), ["platform", "training_institution"])
        self.assertEqual(organisation.platform.website, "https://learn.example.cn")
        self.assertEqual(organisation.platform.status, Platform.Status.REGISTERED)
        event = events_for(organisation).get()
        self.assertEqual(event.action, "orgs.organisation.registered")
        self.assertEqual(event.actor_id, self.county_officer.pk)
        self.assertEqual(event.region_code, "420102")
        self.assertEqual(event.data["capacities"], ["platform", "training_institution"])

    def test_lower_case_and_spaces_are_normalised(self):
        organisation = self.register(uscc="  " + make_uscc("420102", 8).lower() + " ")
        self.assertEqual(organisation.uscc, make_uscc("420102", 8))

    def test_city_officer_registers_in_a_county_below(self):
        organisation = self.register(by=self.city_officer)
        self.assertEqual(organisation.region, self.jiangan)

    def test_system_admin_and_system_may_register_anywhere(self):
        self.register(by=self.sysadmin, region=self.xiling, uscc=make_uscc("420502", 1))
        organisation = self.register(by=None, uscc=make_uscc("420102", 2))
        self.assertEqual(events_for(organisation).get().actor_label, "system")

    def test_duplicate_credit_code_is_a_conflict_on_uscc(self):
        self.register()
        with self.assertRaises(Conflict) as caught:
            self.register(name="Another name")
        self.assertEqual(caught.exception.field, "uscc")
        self.assertEqual(Organisation.objects.count(), 1)

    def test_checksum_failure_without_reason_raises_warning_listing_the_checks(self):
        good = make_uscc("420102", 9)
        bad = good[:-1] + ("0" if good[-1] != "0" else "1")
        with self.assertRaises(UsccWarning) as caught:
            self.register(uscc=bad)
        self.assertIsInstance(caught.exception, InvalidInput)
        self.assertEqual(caught.exception.field, "uscc")
        self.assertEqual(caught.exception.failed_checks, ["mod31_check"])
        self.assertIn(bad, str(caught.exception.message))
        self.assertFalse(Organisation.objects.exists())
        self.assertFalse(AuditEvent.objects.exists())

    def test_override_reason_saves_failed_code_and_audits_the_override(self):
        organisation = self.register(
            uscc="91350100M0001TGQXM",
            override_reason="2015 Fujian pilot code, checked against the licence",
        )
        organisation.refresh_from_db()
        self.assertFalse(organisation.uscc_check_passed)
        self.assertEqual(
            organisation.uscc_check_override_reason,
            "2015 Fujian pilot code, checked against the licence",
        )
        data = events_for(organisation).get().data
        self.assertIn("mod31_check", data["uscc_failed_checks"])
        self.assertIn("area_code", data["uscc_failed_checks"])  # 350100 is not in the test tree
        self.assertEqual(
            data["uscc_override_reason"], "2015 Fujian pilot code, checked against the licence"
        )

    def test_override_reason_is_not_kept_for_a_code_that_passes(self):
        organisation = self.register(override_reason="not needed")
        self.assertEqual(organisation.uscc_check_override_reason, "")

    def test_wrong_length_or_alphabet_is_refused_even_with_a_reason(self):
        for bad in ("91420102000000", "91420102MAOK00001X"):
            with self.subTest(bad=bad), self.assertRaises(InvalidInput) as caught:
                self.register(uscc=bad, override_reason="please")
            self.assertNotIsInstance(caught.exception, UsccWarning)
            self.assertEqual(caught.exception.field, "uscc")
        self.assertFalse(Organisation.objects.exists())

    def test_bad_fields_name_the_field(self):
        cases: list[tuple[dict[str, Any], str]] = [
            ({"name": "  "}, "name"),
            ({"name": "x" * 201}, "name"),
            ({"capacities": set()}, "capacities"),
            ({"capacities": {"bank"}}, "capacities"),
            ({"website": "not a url"}, "website"),
            ({"capacities": {"enterprise"}}, "website"),  # website without platform capacity
            ({"contact_phone": "1" * 21}, "contact_phone"),
        ]
        for overrides, field in cases:
            with self.subTest(field=field), self.assertRaises(InvalidInput) as caught:
                self.register(**overrides)
            self.assertEqual(caught.exception.field, field)
        self.assertFalse(Organisation.objects.exists())

    def test_retired_region_is_refused(self):
        self.jiangan.valid_to_year = 2020
        self.jiangan.save(update_fields=["valid_to_year"])
        with self.assertRaises(InvalidInput) as caught:
            self.register(by=None)
        self.assertEqual(caught.exception.field, "region")

    def test_officer_cannot_register_outside_their_region(self):
        with self.assertRaises(NotInScope):
            self.register(by=self.outsider)
        with self.assertRaises(NotInScope):
            self.register(by=self.county_officer, region=self.wuchang, uscc=make_uscc("420106"))
        self.assertFalse(Organisation.objects.exists())

    def test_wrong_roles_are_not_allowed(self):
        for user in (self.finance_officer, self.learner):
            with self.subTest(user=user.username), self.assertRaises(NotAllowed):
                self.register(by=user)


class AddCapacityTests(OrgsTestCase):
    def setUp(self):
        self.organisation = register_organisation(
            uscc=make_uscc("420102", 3),
            name="江岸机械厂",
            region=self.jiangan,
            capacities={"enterprise"},
            by=None,
        )

    def test_officer_adds_evaluation_capacity(self):
        add_capacity(
            self.organisation, capacity=Capacity.EVALUATION_ORGANISATION, by=self.county_officer
        )
        organisation = Organisation.objects.get(pk=self.organisation.pk)
        self.assertEqual(organisation.capacities(), ["enterprise", "evaluation_organisation"])
        self.assertEqual(
            events_for(organisation).get(action="orgs.organisation.capacity_added").data,
            {"capacity": "evaluation_organisation"},
        )

    def test_platform_capacity_takes_a_website(self):
        add_capacity(
            self.organisation, capacity="platform", by=self.city_officer, website="https://x.cn"
        )
        self.assertEqual(self.organisation.platform.website, "https://x.cn")

    def test_existing_capacity_is_a_conflict(self):
        with self.assertRaises(Conflict):
            add_capacity(self.organisation, capacity="enterprise", by=self.county_officer)

    def test_unknown_capacity_and_outsider_and_wrong_role(self):
        with self.assertRaises(InvalidInput):
            add_capacity(self.organisation, capacity="bank", by=self.county_officer)
        with self.assertRaises(NotInScope):
            add_capacity(self.organisation, capacity="platform", by=self.outsider)
        with self.assertRaises(NotAllowed):
            add_capacity(self.organisation, capacity="platform", by=self.finance_officer)
        self.assertEqual(self.organisation.capacities(), ["enterprise"])
