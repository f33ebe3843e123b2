from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from zhipei.audit.models import AuditEvent
from zhipei.catalog.catalogues.attendance import attendance_of, record_attendance
from zhipei.catalog.catalogues.courses import OfflineSessionData
from zhipei.catalog.catalogues.services import publish_course
from zhipei.catalog.models import Attendance, Course, OfflineSession
from zhipei.catalog.tests.catalogues.helpers import CatalogueTestCase, course_data
from zhipei.core.errors import Conflict, InvalidInput, NotAllowed, NotInScope
from zhipei.people.models import Person
from zhipei.people.testing import make_id_number, make_person


class AttendanceFixture(CatalogueTestCase):
    """A blended course of `platform` with one started session of one place; two people."""

    course: Course
    session: OfflineSession
    wang_id: str
    wang: Person
    li_id: str
    li: Person

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        start = timezone.now() - timedelta(hours=2)
        session = OfflineSessionData(
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            location="江岸区实训基地",
            region_code="420102",
            capacity=1,
        )
        cls.course, _created = publish_course(
            cls.platform,
            data=course_data("B1", online_percent=60, offline_sessions=[session]),
            by=None,
        )
        cls.session = OfflineSession.objects.get(course=cls.course)
        cls.wang_id = make_id_number("420102", "19900101", 11)
        cls.wang = make_person(cls.jiangan, name="王芳", id_number=cls.wang_id)
        cls.li_id = make_id_number("420102", "19920202", 21)
        cls.li = make_person(cls.jiangan, name="李雷", id_number=cls.li_id)


class AttendanceTests(AttendanceFixture):
    def test_operator_records_a_registered_learner(self) -> None:
        row = record_attendance(
            self.session, name="王 芳", id_number=self.wang_id, present=True, by=self.operator
        )

        self.assertEqual((row.person, row.present), (self.wang, True))
        event = AuditEvent.objects.get(action="catalog.attendance.recorded")
        self.assertEqual(event.data["to"], True)
        self.assertNotIn(self.wang_id, str(event.data))

    def test_recording_again_changes_presence_and_the_same_answer_changes_nothing(self) -> None:
        record_attendance(
            self.session, name="王芳", id_number=self.wang_id, present=True, by=self.operator
        )
        record_attendance(
            self.session, name="王芳", id_number=self.wang_id, present=True, by=self.operator
        )
        record_attendance(
            self.session, name="王芳", id_number=self.wang_id, present=False, by=self.operator
        )

        self.assertEqual(Attendance.objects.get().present, False)
        self.assertEqual(AuditEvent.objects.filter(action="catalog.attendance.recorded").count(), 2)

    def test_another_platforms_operator_is_refused(self) -> None:
        with self.assertRaises(NotInScope):
            record_attendance(
                self.session,
                name="王芳",
                id_number=self.wang_id,
                present=True,
                by=self.other_operator,
            )
        self.assertFalse(Attendance.objects.exists())

    def test_unknown_person_bad_number_and_wrong_name_are_field_errors(self) -> None:
        cases = [
            ("王芳", make_id_number("420102", "19850505", 31), "id_number", "register first"),
            ("王芳", "420102199001011234", "id_number", ""),
            ("张三", self.wang_id, "name", "does not match"),
            ("  ", self.wang_id, "name", "name"),
        ]
        for name, number, field, text in cases:
            with self.subTest(field=field, text=text), self.assertRaises(InvalidInput) as caught:
                record_attendance(
                    self.session, name=name, id_number=number, present=True, by=self.operator
                )
            self.assertEqual(caught.exception.field, field)
            self.assertIn(text, str(caught.exception.message))
        self.assertFalse(Attendance.objects.exists())

    def test_a_learner_cannot_record(self) -> None:
        with self.assertRaises(NotAllowed):
            record_attendance(
                self.session, name="王芳", id_number=self.wang_id, present=True, by=self.learner
            )

    def test_not_before_the_session_starts(self) -> None:
        with self.assertRaises(InvalidInput):
            record_attendance(
                self.session,
                name="王芳",
                id_number=self.wang_id,
                present=True,
                by=self.operator,
                now=self.session.starts_at - timedelta(minutes=1),
            )

    def test_a_full_session_refuses_one_more_present_learner(self) -> None:
        record_attendance(
            self.session, name="王芳", id_number=self.wang_id, present=True, by=self.operator
        )
        with self.assertRaises(Conflict):
            record_attendance(
                self.session, name="李雷", id_number=self.li_id, present=True, by=self.operator
            )
        # Absence is still recorded: it takes no place.
        record_attendance(
            self.session, name="李雷", id_number=self.li_id, present=False, by=self.operator
        )
        self.assertEqual([r.person for r in attendance_of(self.session)], [self.li, self.wang])

    def test_a_session_with_attendance_cannot_be_dropped_from_the_course(self) -> None:
        record_attendance(
            self.session, name="王芳", id_number=self.wang_id, present=True, by=self.operator
        )
        with self.assertRaises(Exception) as caught:
            publish_course(self.platform, data=course_data("B1"), by=None)
        self.assertIn("attendance", str(caught.exception))
        self.assertTrue(OfflineSession.objects.filter(pk=self.session.pk).exists())


class AttendancePageTests(AttendanceFixture):
    def url(self) -> str:
        return reverse("courses:session_attendance", args=[self.course.pk, self.session.pk])

    def test_operator_records_through_the_page(self) -> None:
        self.client.force_login(self.operator)

        response = self.client.post(
            self.url(), {"name": "王芳", "id_number": self.wang_id, "present": "on"}, follow=True
        )

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, self.wang.id_masked)
        self.assertNotContains(response, self.wang_id)
        self.assertTrue(Attendance.objects.get().present)

    def test_invalid_input_shows_field_errors(self) -> None:
        self.client.force_login(self.operator)

        response = self.client.post(self.url(), {"name": "张三", "id_number": self.wang_id})

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "does not match")
        self.assertFalse(Attendance.objects.exists())

    def test_officer_in_scope_reads_but_cannot_record(self) -> None:
        self.client.force_login(self.county)
        self.assertEqual(self.client.get(self.url()).status_code, 200)
        response = self.client.post(self.url(), {"name": "王芳", "id_number": self.wang_id})
        self.assertEqual(response.status_code, 403)

    def test_outsider_and_other_platform_get_404(self) -> None:
        for user in (self.outsider, self.other_operator):
            with self.subTest(user=user.username):
                self.client.force_login(user)
                self.assertEqual(self.client.get(self.url()).status_code, 404)

    def test_learner_gets_403(self) -> None:
        self.client.force_login(self.learner)
        self.assertEqual(self.client.get(self.url()).status_code, 403)

    def test_unknown_session_is_404(self) -> None:
        self.client.force_login(self.operator)
        url = reverse("courses:session_attendance", args=[self.course.pk, 999999])
        self.assertEqual(self.client.get(url).status_code, 404)
