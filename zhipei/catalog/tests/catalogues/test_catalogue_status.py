"""catalogue_status: every rule, the date edges and ancestor coverage."""

from __future__ import annotations

from datetime import date

from zhipei.catalog.catalogues import services
from zhipei.catalog.catalogues.services import publish_course
from zhipei.catalog.models import InstitutionCatalogueEntry, ProjectCatalogueEntry
from zhipei.catalog.queries import Reason, catalogue_status

from .helpers import CatalogueTestCase, course_data

START, END = date(2020, 3, 1), date(2020, 12, 31)


class CatalogueStatusTests(CatalogueTestCase):
    def setUp(self):
        self.course, _ = publish_course(
            self.platform, data=course_data(skill_level=5), by=self.operator
        )

    def institution(self, region=None, *, valid_to=END, occupations=(), ref="s", **kw):
        return services.enter_institution_catalogue(
            self.platform.organisation,
            region=region or self.hubei,
            nature="online_platform",
            occupations=list(occupations),
            valid_from=kw.pop("valid_from", START),
            valid_to=valid_to,
            source="selection",
            source_ref=ref,
            by=None,
        )

    def project(self, region=None, *, occupation="4-04-05-05", valid_to=END, **kw):
        return services.create_project_entry(
            region or self.hubei,
            occupation=self.occupations[occupation],
            training_type="online",
            valid_from=kw.pop("valid_from", START),
            valid_to=valid_to,
            by=None,
            **kw,
        )

    def status(self, on=date(2020, 6, 1), region=None):
        return catalogue_status(self.course, region or self.jiangan, on)

    def test_counts_in_a_county_under_province_entries(self):
        institution, project = self.institution(), self.project()
        answer = self.status()
        self.assertTrue(answer.counted)
        self.assertEqual(answer.institution_entry, institution)
        self.assertEqual(answer.project_entry, project)
        self.assertEqual(answer.reasons, ())

    def test_counts_in_a_province_direct_county(self):
        self.institution()
        self.project()
        self.assertTrue(self.status(region=self.regions["429004"]).counted)

    def test_validity_is_inclusive_at_both_ends(self):
        self.institution()
        self.project()
        for day, counted in [
            (date(2020, 2, 29), False),
            (START, True),
            (END, True),
            (date(2021, 1, 1), False),
        ]:
            with self.subTest(day=day):
                answer = self.status(on=day)
                self.assertEqual(answer.counted, counted)
                if not counted:
                    self.assertEqual(
                        set(answer.reasons),
                        {
                            Reason.INSTITUTION_ENTRY_NOT_VALID_ON_DATE,
                            Reason.PROJECT_ENTRY_NOT_VALID_ON_DATE,
                        },
                    )

    def test_open_ended_entries_count_for_ever(self):
        self.institution(valid_to=None)
        self.project(valid_to=None)
        self.assertTrue(self.status(on=date(2035, 1, 1)).counted)

    def test_entries_of_a_descendant_or_sibling_region_do_not_count(self):
        self.institution(self.jiangan)
        self.project(self.wuchang)  # a sibling county
        answer = self.status(region=self.wuhan)  # the city: the county entry covers only itself
        self.assertFalse(answer.counted)
        self.assertEqual(
            answer.reasons,
            (
                Reason.PROVIDER_NOT_IN_INSTITUTION_CATALOGUE,
                Reason.OCCUPATION_NOT_IN_PROJECT_CATALOGUE,
            ),
        )

    def test_entries_in_another_city_do_not_count(self):
        self.institution(self.xiling)
        self.project(self.regions["420500"])
        self.assertFalse(self.status().counted)

    def test_nothing_anywhere(self):
        answer = self.status()
        self.assertEqual(
            answer.reasons,
            ("provider_not_in_institution_catalogue", "occupation_not_in_project_catalogue"),
        )
        self.assertIsNone(answer.institution_entry)
        self.assertEqual(len(answer.reason_labels), 2)

    def test_suspended_and_removed_entries_do_not_count(self):
        institution, project = self.institution(), self.project()
        services.suspend_institution_entry(institution, reason="r", by=None)
        services.remove_project_entry(project, reason="r", by=None)
        self.assertEqual(
            self.status().reasons,
            (Reason.INSTITUTION_ENTRY_SUSPENDED, Reason.PROJECT_ENTRY_REMOVED),
        )
        services.remove_institution_entry(institution, reason="r", by=None)
        self.assertEqual(self.status().reasons[0], Reason.INSTITUTION_ENTRY_REMOVED)

    def test_an_active_entry_elsewhere_in_the_chain_still_counts(self):
        suspended = self.institution(self.wuhan, ref="city")
        services.suspend_institution_entry(suspended, reason="r", by=None)
        active = self.institution(self.hubei, ref="province")
        self.project()
        answer = self.status()
        self.assertTrue(answer.counted)
        self.assertEqual(answer.institution_entry, active)

    def test_the_nearest_region_entry_is_named(self):
        self.institution(self.hubei, ref="p")
        county = self.institution(self.jiangan, ref="c")
        self.project(self.hubei)
        city_project = self.project(self.wuhan)
        answer = self.status()
        self.assertEqual((answer.institution_entry, answer.project_entry), (county, city_project))

    def test_project_entry_level_must_match_when_named(self):
        self.institution()
        self.project(skill_level=4)
        self.assertEqual(self.status().reasons, (Reason.SKILL_LEVEL_NOT_IN_PROJECT_CATALOGUE,))
        level5 = self.project(skill_level=5)
        self.assertEqual(self.status().project_entry, level5)

    def test_project_entry_trade_must_match_when_named(self):
        self.institution()
        self.project(trade=self.trade)
        self.assertEqual(self.status().reasons, (Reason.TRADE_NOT_IN_PROJECT_CATALOGUE,))

    def test_any_of_the_course_occupations_counts(self):
        course, _ = publish_course(
            self.platform,
            data=course_data("C2", occupation_codes=["4-04-05-05", "6-01-02-01"]),
            by=None,
        )
        self.institution()
        project = self.project(occupation="6-01-02-01")
        answer = catalogue_status(course, self.jiangan, date(2020, 6, 1))
        self.assertEqual(answer.project_entry, project)

    def test_institution_entry_listing_occupations_restricts_them(self):
        self.institution(occupations=[self.occupations["6-01-02-01"]])
        self.project()
        self.assertEqual(self.status().reasons, (Reason.OCCUPATION_NOT_IN_INSTITUTION_ENTRY,))
        InstitutionCatalogueEntry.objects.get().occupations.add(self.occupations["4-04-05-05"])
        self.assertTrue(self.status().counted)

    def test_another_platforms_entry_does_not_count(self):
        services.enter_institution_catalogue(
            self.other.organisation,
            region=self.hubei,
            nature="online_platform",
            occupations=[],
            valid_from=START,
            source="selection",
            by=None,
        )
        self.project()
        self.assertEqual(self.status().reasons, (Reason.PROVIDER_NOT_IN_INSTITUTION_CATALOGUE,))

    def test_answer_takes_a_handful_of_queries(self):
        self.institution()
        self.project()
        with self.assertNumQueries(4):
            # institution entries (the platform's organisation is a subquery), their
            # occupations, the course's occupations, project entries
            self.assertTrue(self.status().counted)
        self.assertEqual(ProjectCatalogueEntry.objects.count(), 1)
