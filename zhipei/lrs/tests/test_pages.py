"""Officer pages of learning records: scoped by the learner's region (ARCHITECTURE invariant 3)."""

from __future__ import annotations

from django.conf import settings

from zhipei.lrs.models import Statement
from zhipei.lrs.services import store_statements
from zhipei.lrs.tests.helpers import make_platform, statement
from zhipei.orgs.tests.helpers import OrgsTestCase
from zhipei.people.services import pseudonym_for
from zhipei.people.testing import make_person


class RecordPagesTests(OrgsTestCase):
    def setUp(self):
        platform, self.credential, _secret = make_platform(self.jiangan, 7)
        self.person = make_person(self.jiangan, name="李雷")
        pseudonym, _created = pseudonym_for(self.person, platform=platform)
        self.actor = {"account": {"homePage": f"{settings.SITE_URL}/learners", "name": pseudonym}}
        store_statements(
            credential=self.credential,
            statements=[statement(actor=self.actor), statement()],  # the second: unknown learner
            version="1.0.3",
        )
        self.row = Statement.objects.get(person=self.person)

    def test_officer_in_scope_sees_the_learners_records(self):
        self.client.force_login(self.county_officer)
        response = self.client.get("/records/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "李雷")
        self.assertEqual(len(response.context["page"].object_list), 1)  # unknown learner hidden
        detail = self.client.get(f"/records/{self.row.seq}/")
        self.assertEqual(detail.status_code, 200)
        self.assertContains(detail, self.row.verb_id)

    def test_records_at_the_ends_of_the_calendar_are_shown(self):
        # Stored as sent (valid xAPI); in local time (UTC+8) the last one is past year 9999.
        for moment in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"):
            store_statements(
                credential=self.credential,
                statements=[statement(actor=self.actor, timestamp=moment)],
                version="1.0.3",
            )
        store_statements(
            credential=self.credential,
            statements=[statement(actor=self.actor, result={"duration": "PT" + "9" * 400 + "S"})],
            version="1.0.3",
        )
        self.client.force_login(self.county_officer)
        response = self.client.get("/records/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "9999-12-31 23:59:59 UTC")
        self.assertContains(response, "0001-01-01 08:05:43")  # local mean time of Shanghai then
        self.assertContains(response, "∞ s")  # the duration too long for a float
        self.assertNotContains(response, "inf s")
        self.assertContains(response, "300 s")  # PT5M, the helper statement's
        for row in Statement.objects.filter(person=self.person):
            self.assertEqual(self.client.get(f"/records/{row.seq}/").status_code, 200)

    def test_city_officer_sees_the_county_below(self):
        self.client.force_login(self.city_officer)
        self.assertEqual(self.client.get(f"/records/{self.row.seq}/").status_code, 200)

    def test_officer_outside_the_scope_sees_nothing(self):
        self.client.force_login(self.outsider)
        response = self.client.get("/records/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(response.context["page"].object_list), 0)
        self.assertEqual(self.client.get(f"/records/{self.row.seq}/").status_code, 404)

    def test_filter_by_person(self):
        self.client.force_login(self.county_officer)
        response = self.client.get("/records/", {"person": self.person.pk + 1000})
        self.assertEqual(len(response.context["page"].object_list), 0)
        response = self.client.get("/records/", {"person": self.person.pk})
        self.assertEqual(len(response.context["page"].object_list), 1)

    def test_a_filter_that_is_no_whole_number_is_ignored(self):
        # "²" and "①" pass str.isdigit() but not int(): they were a 500.
        self.client.force_login(self.county_officer)
        for value in ("²", "①", "1" * 5000, "-1", "abc"):
            with self.subTest(value=value[:10]):
                response = self.client.get("/records/", {"person": value, "platform": value})
                self.assertEqual(response.status_code, 200)
                self.assertEqual(len(response.context["page"].object_list), 1)

    def test_learner_without_officer_role_is_refused(self):
        self.client.force_login(self.learner)
        self.assertEqual(self.client.get("/records/").status_code, 403)

    def test_anonymous_is_sent_to_login(self):
        self.assertEqual(self.client.get("/records/").status_code, 302)
