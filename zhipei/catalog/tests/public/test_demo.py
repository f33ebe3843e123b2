"""The demo catalogue: built through the services on top of the portal's demo province,
covering at least 30 occupations with selected platforms, filings in every state; a second
run changes nothing."""

from __future__ import annotations

import io
import shutil
import tempfile

from django.test import TestCase, override_settings

from zhipei.catalog.demo import CatalogDemoReport, load_demo_catalog
from zhipei.catalog.models import (
    Course,
    Filing,
    InstitutionCatalogueEntry,
    Lesson,
    PlatformListing,
    ProjectCatalogueEntry,
    SkillStandard,
)
from zhipei.catalog.queries import coverage
from zhipei.orgs.models import Platform
from zhipei.portal.demo import load_demo


class DemoCatalogTests(TestCase):
    media_root: str
    _media: override_settings
    first: CatalogDemoReport

    @classmethod
    def setUpClass(cls) -> None:
        cls.media_root = tempfile.mkdtemp(prefix="zhipei-demo-")
        cls._media = override_settings(MEDIA_ROOT=cls.media_root)
        cls._media.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls._media.disable()
        shutil.rmtree(cls.media_root, ignore_errors=True)

    @classmethod
    def setUpTestData(cls) -> None:
        load_demo(io.StringIO())
        cls.first = load_demo_catalog(io.StringIO(), call_window_seconds=1.5)

    def test_platforms_are_selected_through_a_real_call(self) -> None:
        selected = Platform.objects.filter(status=Platform.Status.SELECTED)
        self.assertEqual(selected.count(), 3)
        self.assertEqual(PlatformListing.objects.filter(event="selected").count(), 3)
        self.assertEqual(InstitutionCatalogueEntry.objects.filter(source="selection").count(), 3)

    def test_courses_cover_at_least_30_occupations(self) -> None:
        figures = coverage()
        self.assertGreaterEqual(figures.occupations_covered, 30)
        self.assertEqual(figures.platforms_selected, 3)
        self.assertTrue(Course.objects.filter(is_free=True).exists())
        self.assertTrue(Course.objects.filter(is_free=False).exists())
        self.assertTrue(Course.objects.filter(kind="micro_course").exists())
        self.assertTrue(Course.objects.filter(online_percent__lt=100).exists())
        for course in Course.objects.select_related("platform"):
            self.assertTrue(course.activity_iri.startswith(course.platform.website))
        videos = Lesson.objects.filter(kind="video")
        self.assertTrue(videos.exists())
        self.assertFalse(videos.filter(media_duration_seconds__isnull=True).exists())
        self.assertTrue(Course.objects.filter(standard__isnull=False).exists())

    def test_reference_registers_and_project_catalogue(self) -> None:
        self.assertGreaterEqual(SkillStandard.objects.count(), 5)
        regions = set(ProjectCatalogueEntry.objects.values_list("region__code", flat=True))
        self.assertEqual(regions, {"420100", "420500", "420600", "429004"})

    def test_filings_in_every_state(self) -> None:
        states = set(Filing.objects.values_list("status", flat=True))
        self.assertEqual(states, {"approved", "submitted", "returned", "rejected", "draft"})
        self.assertEqual(
            set(Filing.objects.values_list("kind", flat=True)),
            {"training_institution", "training_project", "apprenticeship", "self_evaluation"},
        )
        xiantao = Filing.objects.get(region__code="429004")
        self.assertEqual(xiantao.review_region.code, "420000")
        self.assertTrue(
            InstitutionCatalogueEntry.objects.filter(
                source="filing", region__code="420100"
            ).exists()
        )

    def test_second_run_creates_nothing(self) -> None:
        self.assertTrue(self.first.anything_created)
        counts = (Course.objects.count(), Filing.objects.count(), SkillStandard.objects.count())
        again = load_demo_catalog(io.StringIO(), call_window_seconds=1.5)
        self.assertEqual(again.created, {})
        self.assertEqual(
            (Course.objects.count(), Filing.objects.count(), SkillStandard.objects.count()), counts
        )
