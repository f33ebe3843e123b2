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
        actor = {"account": {"homePage": f"{settings.SITE_URL}/learners", "name": pseudonym}}
        store_statements(
            credential=self.credential,
            statements=[statement(actor=actor), statement()],  # the second: unknown learner
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

    def test_learner_without_officer_role_is_refused(self):
        self.client.force_login(self.learner)
        self.assertEqual(self.client.get("/records/").status_code, 403)

    def test_anonymous_is_sent_to_login(self):
        self.assertEqual(self.client.get("/records/").status_code, 302)
