"""resolve_policy: child regions override parents parameter by parameter; dates at the edges;
gaps; withdrawn versions; where each value came from."""

from __future__ import annotations

from datetime import date

from zhipei.subsidies.models import Programme
from zhipei.subsidies.queries import resolve_policy
from zhipei.subsidies.tests.helpers import SubsidiesTestCase, make_version

P = Programme.LEARNER_TRAINING


class ResolutionTests(SubsidiesTestCase):
    def test_child_region_overrides_its_parent_parameter_by_parameter(self):
        make_version(None, {"min_age": 16, "claim_window_months": 12}, document_number="国")
        make_version(self.hubei, {"per_class_hour_fen": 3000, "min_age": 18}, document_number="省")
        make_version(self.wuhan, {"per_class_hour_fen": 2500}, document_number="市")

        resolved = resolve_policy(P, self.jiangan, date(2020, 6, 1))

        self.assertEqual(resolved["per_class_hour_fen"], 2500)
        self.assertEqual(resolved["min_age"], 18)
        self.assertEqual(resolved["claim_window_months"], 12)
        source = resolved.parameters["per_class_hour_fen"]
        self.assertEqual((source.region_code, source.document_number), ("420100", "市"))
        self.assertEqual(resolved.parameters["min_age"].region_code, "420000")
        self.assertEqual(resolved.parameters["claim_window_months"].region_code, "")
        self.assertIn("per_person_per_year_cap_fen", resolved.missing)
        self.assertFalse(resolved.is_complete)

    def test_sibling_and_other_city_versions_do_not_apply(self):
        make_version(self.hubei, {"per_class_hour_fen": 3000})
        make_version(self.wuchang, {"per_class_hour_fen": 1000})
        make_version(self.yichang, {"per_class_hour_fen": 2000})

        self.assertEqual(
            resolve_policy(P, self.jiangan, date(2020, 6, 1))["per_class_hour_fen"], 3000
        )
        self.assertEqual(
            resolve_policy(P, self.xiling, date(2020, 6, 1))["per_class_hour_fen"], 2000
        )

    def test_first_and_last_days_are_inclusive(self):
        make_version(self.hubei, {"min_age": 16}, start=date(2020, 3, 1), end=date(2020, 3, 31))

        self.assertIsNone(resolve_policy(P, self.wuhan, date(2020, 2, 29)).get("min_age"))
        self.assertEqual(resolve_policy(P, self.wuhan, date(2020, 3, 1))["min_age"], 16)
        self.assertEqual(resolve_policy(P, self.wuhan, date(2020, 3, 31))["min_age"], 16)
        self.assertIsNone(resolve_policy(P, self.wuhan, date(2020, 4, 1)).get("min_age"))

    def test_gap_in_a_child_falls_back_to_the_parent(self):
        make_version(self.hubei, {"min_age": 16})
        make_version(self.wuhan, {"min_age": 18}, start=date(2020, 1, 1), end=date(2020, 6, 30))
        make_version(self.wuhan, {"min_age": 20}, start=date(2020, 8, 1))

        self.assertEqual(resolve_policy(P, self.wuhan, date(2020, 6, 30))["min_age"], 18)
        during_gap = resolve_policy(P, self.wuhan, date(2020, 7, 15))
        self.assertEqual(during_gap["min_age"], 16)
        self.assertEqual(during_gap.parameters["min_age"].region_code, "420000")
        self.assertEqual(resolve_policy(P, self.wuhan, date(2020, 8, 1))["min_age"], 20)

    def test_nothing_in_force_leaves_everything_missing(self):
        resolved = resolve_policy(P, self.wuhan, date(2020, 1, 1))
        self.assertEqual(resolved.parameters, {})
        self.assertEqual(len(resolved.missing), 13)

    def test_national_resolution_without_region(self):
        make_version(None, {"min_age": 16})
        make_version(self.hubei, {"min_age": 18})
        self.assertEqual(resolve_policy(P, None, date(2020, 5, 1))["min_age"], 16)

    def test_other_programmes_do_not_mix(self):
        make_version(self.hubei, {"per_class_hour_fen": 3000})
        make_version(
            self.hubei,
            {"per_class_hour_fen": 2000},
            programme=Programme.ENTERPRISE_ONLINE_TRAINING,
        )
        self.assertEqual(
            resolve_policy(P, self.wuhan, date(2020, 5, 1))["per_class_hour_fen"], 3000
        )

    def test_resolution_takes_few_queries(self):
        make_version(None, {"min_age": 16})
        make_version(self.hubei, {"per_class_hour_fen": 3000})
        make_version(self.wuhan, {"per_class_hour_fen": 2500})
        county = type(self.jiangan).objects.get(pk=self.jiangan.pk)
        # the county's parent, the city's parent, then the versions in force
        with self.assertNumQueries(3):
            resolve_policy(P, county, date(2020, 5, 1))

    def test_example_flag_and_evidence_travel_with_each_value(self):
        from zhipei.subsidies.demo import load_demo_policies

        load_demo_policies()
        resolved = resolve_policy(Programme.LIVING_ALLOWANCE, self.jiangan, date(2020, 5, 1))
        self.assertTrue(resolved.is_complete)
        rate = resolved.parameters["online_rate_per_class_hour_fen"]
        self.assertTrue(rate.is_example)
        self.assertEqual(rate.document_number, "人社部发〔2020〕10号")
        self.assertIn("Qingdao", rate.evidence)
