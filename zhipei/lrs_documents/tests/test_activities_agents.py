"""Activities and Agents resources, from xAPI 1.0.3 Communication §2.4-2.5."""

from __future__ import annotations

import json
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from zhipei.catalog.models import Course, Lesson
from zhipei.lrs_documents.queries import LESSON_TYPE, STATEMENTS_SEARCHED_FOR_A_DEFINITION
from zhipei.lrs_documents.tests.base import ACTIVITY, XapiDocumentsTestCase

ACTIVITIES = "/xapi/activities"
AGENTS = "/xapi/agents"
COURSE_IRI = "https://platform.example.cn/xapi/courses/welding-101"
LESSON_IRI = "https://platform.example.cn/xapi/courses/welding-101/lessons/1"


class ActivitiesResourceTests(XapiDocumentsTestCase):
    def setUp(self):
        super().setUp()
        now = timezone.now()
        course = Course.objects.create(
            platform=self.platform,
            external_id="welding-101",
            title="焊接基础",
            description="电焊入门",
            class_hours=Decimal("8.0"),
            activity_iri=COURSE_IRI,
            url="https://platform.example.cn/courses/welding-101",
            region=self.platform.organisation.region,
            status_changed_at=now,
            created_at=now,
            updated_at=now,
        )
        Lesson.objects.create(
            course=course,
            position=1,
            external_id="l1",
            title="第一课",
            kind=Lesson.Kind.VIDEO,
            activity_iri=LESSON_IRI,
            media_duration_seconds=1800,
        )

    def test_course_activity_comes_with_its_catalogue_definition(self):
        # §2.5.s1: Returns 200 OK, the complete Activity Object.
        response = self.call("GET", ACTIVITIES, {"activityId": COURSE_IRI})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(
            response.json(),
            {
                "objectType": "Activity",
                "id": COURSE_IRI,
                "definition": {
                    "name": {"zh-CN": "焊接基础"},
                    "description": {"zh-CN": "电焊入门"},
                    "type": "http://adlnet.gov/expapi/activities/course",
                },
            },
        )
        self.assertIn("ETag", response)

    def test_media_lesson_definition_carries_its_duration(self):
        definition = self.call("GET", ACTIVITIES, {"activityId": LESSON_IRI}).json()["definition"]
        self.assertEqual(definition["type"], "http://adlnet.gov/expapi/activities/media")
        extension = f"{settings.SITE_URL}/xapi/extensions/media-duration"
        self.assertEqual(definition["extensions"], {extension: 1800})

    def test_unknown_activity_still_returns_an_activity_object(self):
        # §2.5.s2.b1: without a canonical definition, still return an Activity Object.
        response = self.call("GET", ACTIVITIES, {"activityId": ACTIVITY + "/unknown"})
        self.assertEqual(response.json(), {"objectType": "Activity", "id": ACTIVITY + "/unknown"})

    def test_activity_reported_in_statements_comes_with_the_newest_definition(self):
        activity = "https://platform.example.cn/xapi/quiz/7"
        for title in ("旧名称", "新名称"):
            statement = {
                "actor": {"mbox": "mailto:learner@example.cn"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                "object": {"id": activity, "definition": {"name": {"zh-CN": title}}},
            }
            posted = self.call("POST", "/xapi/statements", {}, statement)
            self.assertEqual(posted.status_code, 200, posted.content)
        got = self.call("GET", ACTIVITIES, {"activityId": activity}).json()
        self.assertEqual(got["definition"], {"name": {"zh-CN": "新名称"}})
        other = self.call("GET", ACTIVITIES, {"activityId": activity}, auth=self.other_auth)
        self.assertNotIn("definition", other.json())

    def test_definitions_are_merged_and_outlast_statements_without_one(self):
        # Data §2.4.4.1.s4.b3: a later definition updates the stored one; a partial one does
        # not wipe what came before, and statements with no definition change nothing.
        activity = "https://platform.example.cn/xapi/quiz/8"

        def post(definition=None):
            target = {"id": activity}
            if definition is not None:
                target["definition"] = definition
            statement = {
                "actor": {"mbox": "mailto:learner@example.cn"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                "object": target,
            }
            self.assertEqual(self.call("POST", "/xapi/statements", {}, statement).status_code, 200)

        post({"name": {"zh-CN": "测验", "en-US": "Quiz"}, "type": LESSON_TYPE})
        post({"description": {"zh-CN": "第二版说明"}, "name": {"zh-CN": "测验（修订）"}})
        for _ in range(STATEMENTS_SEARCHED_FOR_A_DEFINITION + 5):
            post()
        got = self.call("GET", ACTIVITIES, {"activityId": activity}).json()
        self.assertEqual(
            got["definition"],
            {
                "name": {"zh-CN": "测验（修订）", "en-US": "Quiz"},
                "description": {"zh-CN": "第二版说明"},
                "type": LESSON_TYPE,
            },
        )

    def test_another_platforms_course_is_not_described(self):
        response = self.call("GET", ACTIVITIES, {"activityId": COURSE_IRI}, auth=self.other_auth)
        self.assertEqual(response.json(), {"objectType": "Activity", "id": COURSE_IRI})

    def test_activity_id_is_required_and_must_be_an_iri(self):
        self.assert_error(self.call("GET", ACTIVITIES, {}), 400)
        self.assert_error(self.call("GET", ACTIVITIES, {"activityId": "welding"}), 400)

    def test_only_get_is_allowed(self):
        self.assert_error(self.call("PUT", ACTIVITIES, {"activityId": COURSE_IRI}, {}), 405)


class AgentsResourceTests(XapiDocumentsTestCase):
    def test_person_object_has_each_identifier_as_an_array(self):
        # §2.4.s3.b3: return a Person Object with the information of the requested Agent;
        # §2.4.s6.b1: array members defined as the Agent's properties.
        agent = {"name": "Li Lei", "mbox": "mailto:lilei@example.cn"}
        response = self.call("GET", AGENTS, {"agent": json.dumps(agent)})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(
            response.json(),
            {"objectType": "Person", "name": ["Li Lei"], "mbox": ["mailto:lilei@example.cn"]},
        )

    def test_learner_account_is_returned_as_an_account_array(self):
        account = {"homePage": f"{settings.SITE_URL}/learners", "name": "Zx8-pseudonym"}
        response = self.call("GET", AGENTS, {"agent": json.dumps({"account": account})})
        self.assertEqual(response.json(), {"objectType": "Person", "account": [account]})

    def test_agent_parameter_is_required_and_not_a_group(self):
        # §2.4.s2: the agent parameter is a normal Agent Object, not a Person nor a Group.
        self.assert_error(self.call("GET", AGENTS, {}), 400)
        group = {"objectType": "Group", "mbox": "mailto:team@example.cn"}
        self.assert_error(self.call("GET", AGENTS, {"agent": json.dumps(group)}), 400)
        person = {"objectType": "Person", "mbox": ["mailto:a@example.cn"]}
        self.assert_error(self.call("GET", AGENTS, {"agent": json.dumps(person)}), 400)

    def test_unknown_parameter_is_400(self):
        params = {"agent": json.dumps({"mbox": "mailto:a@example.cn"}), "activityId": ACTIVITY}
        self.assert_error(self.call("GET", AGENTS, params), 400)
