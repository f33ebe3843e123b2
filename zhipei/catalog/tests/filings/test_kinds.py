"""Each filing kind validates its own fields (kinds.py): good data, and each bad input named on
its field."""

from __future__ import annotations

from typing import Any

from zhipei.catalog.filings.kinds import KINDS
from zhipei.catalog.filings.services import FilingDataInvalid, create_filing
from zhipei.catalog.tests.filings.helpers import FilingTestCase


class KindFieldsTests(FilingTestCase):
    def clean(self, kind: str, data: dict[str, Any], *, partial: bool = False):
        return KINDS[kind].clean(data, partial=partial)

    def test_training_institution_cleans_projects_to_codes_and_levels(self) -> None:
        cleaned, errors = self.clean("training_institution", self.institution_data())
        self.assertEqual(errors, {})
        self.assertEqual(
            cleaned["projects"],
            [{"code": "4-04-05-05", "level": 4}, {"code": "6-18-01-01", "level": 5}],
        )
        self.assertEqual(cleaned["teachers_count"], 6)

    def test_stored_data_validates_again_unchanged(self) -> None:
        for kind, builder in [
            ("training_institution", self.institution_data),
            ("training_project", self.project_data),
            ("apprenticeship", self.apprenticeship_data),
            ("self_evaluation", self.self_evaluation_data),
        ]:
            with self.subTest(kind=kind):
                cleaned, errors = self.clean(kind, builder())
                self.assertEqual(errors, {})
                again, errors = self.clean(kind, cleaned)
                self.assertEqual(errors, {})
                self.assertEqual(again, cleaned)

    def test_unknown_occupation_code_is_named(self) -> None:
        _cleaned, errors = self.clean(
            "training_institution", self.institution_data(projects="4-04-05-05:4\n9-99-99-99")
        )
        self.assertIn("projects", errors)
        _cleaned, errors = self.clean(
            "training_institution", self.institution_data(projects="4-04-05-05:4\n8-99-99-99")
        )
        self.assertIn("8-99-99-99", errors["projects"][0])

    def test_group_code_is_not_an_occupation(self) -> None:
        _cleaned, errors = self.clean(
            "apprenticeship", self.apprenticeship_data(occupation="4-04-05")
        )
        self.assertIn("occupation", errors)

    def test_bad_level_and_repeated_occupation(self) -> None:
        _c, errors = self.clean(
            "self_evaluation", self.self_evaluation_data(occupations="6-18-01-01:7")
        )
        self.assertIn("occupations", errors)
        _c, errors = self.clean(
            "self_evaluation", self.self_evaluation_data(occupations="6-18-01-01:4, 6-18-01-01:3")
        )
        self.assertIn("twice", errors["occupations"][0])

    def test_class_cannot_end_before_it_starts(self) -> None:
        _c, errors = self.clean("training_project", self.project_data(end_on="2026-03-01"))
        self.assertEqual(list(errors), ["end_on"])

    def test_class_needs_course_or_occupation(self) -> None:
        _c, errors = self.clean("training_project", self.project_data(course="", occupation=""))
        self.assertIn("course", errors)

    def test_unknown_person_numbers_are_named(self) -> None:
        _c, errors = self.clean("training_project", self.project_data(learners="999999\nabc"))
        self.assertIn("learners", errors)
        _c, errors = self.clean("training_project", self.project_data(learners="999999"))
        self.assertIn("999999", errors["learners"][0])

    def test_apprenticeship_period_and_institution(self) -> None:
        _c, errors = self.clean("apprenticeship", self.apprenticeship_data(months="6"))
        self.assertEqual(list(errors), ["months"])
        _c, errors = self.clean(
            "apprenticeship", self.apprenticeship_data(institution=self.firm.uscc)
        )
        self.assertEqual(list(errors), ["institution"])

    def test_self_evaluation_needs_evaluators(self) -> None:
        _c, errors = self.clean("self_evaluation", self.self_evaluation_data(evaluators="  \n "))
        self.assertEqual(list(errors), ["evaluators"])

    def test_partial_draft_leaves_out_empty_fields_but_not_bad_ones(self) -> None:
        cleaned, errors = self.clean("training_institution", {"name": "学校"}, partial=True)
        self.assertEqual(errors, {})
        self.assertEqual(cleaned, {"name": "学校"})
        _c, errors = self.clean(
            "training_institution", {"name": "学校", "teachers_count": "-1"}, partial=True
        )
        self.assertEqual(list(errors), ["teachers_count"])

    def test_create_refuses_bad_fields_with_every_error(self) -> None:
        with self.assertRaises(FilingDataInvalid) as caught:
            create_filing(
                self.school_org,
                kind="training_institution",
                data=self.institution_data(teachers_count="0", nature="castle"),
                by=self.school,
            )
        self.assertEqual(set(caught.exception.errors), {"teachers_count", "nature"})

    def test_every_kind_names_an_existing_level_and_sane_deadline(self) -> None:
        for kind in KINDS.values():
            with self.subTest(kind=kind.code):
                self.assertIn(kind.review_level, {"province", "prefecture", "county"})
                self.assertGreater(kind.deadline_days, kind.reminder_lead_days)
                self.assertTrue(kind.filer_roles and kind.filer_capacities)
