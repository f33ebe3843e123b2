"""The learner's "My learning" page."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from zhipei.learning import services
from zhipei.learning.tests.helpers import T0, LearningWorld, make_user
from zhipei.people.testing import make_person

URL = "/learning/"


class MyLearningPageTests(LearningWorld):
    def setUp(self) -> None:
        self.enrolment = services.enrol(
            self.person, self.course, occupation=self.welder, by=self.learner
        )
        self.store(self.study(T0, 40))
        services.recredit(date(2026, 5, 1), date(2026, 5, 1))

    def test_the_url_is_mounted(self) -> None:
        self.assertEqual(reverse("learning:mine"), URL)

    def test_a_learner_sees_credited_hours_and_reasons_in_plain_words(self) -> None:
        self.client.force_login(self.learner)
        response = self.client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 200)
        page = response.content.decode()
        self.assertIn("Course weld", page)
        self.assertIn("0.6 of 2.0 class hours", page)  # 30 min / 45
        self.assertIn("30 minutes counted", page)
        self.assertIn('data-code="face_check_missing"', page)
        self.assertIn("No face check was passed within 30 minutes", page)
        self.assertIn('href="/learning/"', page)  # the menu entry

    def test_another_learner_sees_only_their_own_learning(self) -> None:
        other = make_person(self.region, name="李雷")
        self.client.force_login(make_user("li", person=other))
        response = self.client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("Course weld", response.content.decode())
        self.assertIn("not enrolled on any course", response.content.decode())

    def test_an_account_without_a_learner_identity_gets_a_plain_message(self) -> None:
        self.client.force_login(make_user("staff"))
        response = self.client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 200)
        self.assertIn("not linked to a learner", response.content.decode())

    def test_anonymous_visitors_are_sent_to_log_in(self) -> None:
        response = self.client.get(URL)
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("accounts:login"), response["Location"])

    def test_only_get_is_allowed(self) -> None:
        self.client.force_login(self.learner)
        self.assertEqual(self.client.post(URL).status_code, 405)

    def test_the_page_query_count_does_not_grow_with_enrolments(self) -> None:
        self.client.force_login(self.learner)
        with CaptureQueriesContext(connection) as one:
            self.client.get(URL)
        services.enrol(self.person, self.other_course, by=self.learner)
        self.store(self.study(T0.replace(hour=12), 10, lesson=self.text, face="failed"))
        services.recredit(date(2026, 5, 1), date(2026, 5, 1))
        with CaptureQueriesContext(connection) as two:
            response = self.client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.content.decode().count('data-testid="enrolment"'), 2)
        self.assertEqual(len(two.captured_queries), len(one.captured_queries))
