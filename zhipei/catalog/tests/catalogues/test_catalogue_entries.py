"""Catalogue entry services: entering, editing, suspending, reinstating, removing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from zhipei.audit.models import AuditEvent
from zhipei.catalog.catalogues import services
from zhipei.catalog.models import CatalogueStatus, InstitutionCatalogueEntry, ProjectCatalogueEntry
from zhipei.core.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotInScope,
    StaleObject,
    TransitionNotAllowed,
)

from .helpers import CatalogueTestCase

CS = CatalogueStatus


def events(obj, action):
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk), action=action
    )


class EnterInstitutionCatalogueTests(CatalogueTestCase):
    def enter(self, **overrides):
        values: dict[str, Any] = {
            "region": self.wuhan,
            "nature": "online_platform",
            "occupations": [self.occupations["4-04-05-05"]],
            "valid_from": date(2020, 3, 1),
            "source": "selection",
            "source_ref": "application-7",
            "by": self.city,
        }
        values.update(overrides)
        return services.enter_institution_catalogue(self.platform.organisation, **values)

    def test_selection_enters_the_platform_with_its_fields_and_an_audit_event(self):
        entry = self.enter()
        self.assertEqual(entry.status, CS.ACTIVE)
        self.assertEqual(entry.region, self.wuhan)
        self.assertEqual(entry.address, "武汉市江岸区某路1号")  # taken from the organisation
        self.assertEqual(list(entry.occupations.values_list("code", flat=True)), ["4-04-05-05"])
        event = events(entry, "catalog.institution_entry.created").get()
        self.assertEqual(event.actor_id, self.city.pk)
        self.assertEqual(event.region_code, "420100")
        self.assertEqual(event.data["source_ref"], "application-7")

    def test_entering_twice_with_the_same_source_ref_returns_the_same_entry(self):
        first = self.enter()
        second = self.enter()
        self.assertEqual(first.pk, second.pk)
        self.assertEqual(InstitutionCatalogueEntry.objects.count(), 1)
        self.assertEqual(events(first, "catalog.institution_entry.created").count(), 1)

    def test_another_source_ref_makes_another_entry(self):
        self.enter()
        self.enter(source_ref="application-8")
        self.assertEqual(InstitutionCatalogueEntry.objects.count(), 2)

    def test_entering_again_reinstates_a_suspended_entry(self):
        entry = self.enter()
        services.suspend_institution_entries(self.platform.organisation, reason="停牌", by=None)
        again = self.enter()
        self.assertEqual(again.pk, entry.pk)
        self.assertEqual(again.status, CS.ACTIVE)
        self.assertEqual(events(entry, "catalog.institution_entry.active").count(), 1)

    def test_entering_again_after_removal_creates_a_new_entry(self):
        entry = self.enter()
        services.remove_institution_entry(entry, reason="撤销", by=self.city)
        again = self.enter()
        self.assertNotEqual(again.pk, entry.pk)
        self.assertEqual(again.status, CS.ACTIVE)

    def test_system_may_enter_without_an_officer(self):
        self.assertEqual(self.enter(by=None).created_by, None)

    def test_outsider_cannot_enter_in_another_region(self):
        with self.assertRaises(NotInScope):
            self.enter(by=self.outsider)
        self.assertFalse(InstitutionCatalogueEntry.objects.exists())

    def test_finance_officer_and_platform_operator_cannot_enter(self):
        for user in (self.finance, self.operator):
            with self.assertRaises(NotAllowed):
                self.enter(by=user)

    def test_bad_input_is_refused_with_the_field(self):
        cases: list[tuple[dict[str, Any], str]] = [
            ({"nature": "spaceship"}, "nature"),
            ({"valid_to": date(2020, 2, 28)}, "valid_to"),
            ({"occupations": [self.occupations["4-04"]]}, "occupations"),
            ({"source": "rumour"}, "source"),
        ]
        for overrides, field in cases:
            with self.subTest(field=field), self.assertRaises(InvalidInput) as caught:
                self.enter(**overrides)
            self.assertEqual(caught.exception.field, field)
        self.assertFalse(InstitutionCatalogueEntry.objects.exists())


class SuspendInstitutionEntriesTests(CatalogueTestCase):
    def make_entry(self, region, ref):
        return services.enter_institution_catalogue(
            self.platform.organisation,
            region=region,
            nature="online_platform",
            occupations=[],
            valid_from=date(2020, 1, 1),
            source="selection",
            source_ref=ref,
            by=None,
        )

    def test_suspends_every_active_entry_of_the_organisation(self):
        a = self.make_entry(self.wuhan, "a")
        b = self.make_entry(self.jiangan, "b")
        other = services.enter_institution_catalogue(
            self.other.organisation,
            region=self.wuhan,
            nature="online_platform",
            occupations=[],
            valid_from=date(2020, 1, 1),
            source="selection",
            by=None,
        )
        done = services.suspend_institution_entries(
            self.platform.organisation, reason="平台被暂停", by=self.city
        )
        self.assertEqual({e.pk for e in done}, {a.pk, b.pk})
        for entry in (a, b):
            entry.refresh_from_db()
            self.assertEqual(entry.status, CS.SUSPENDED)
            self.assertEqual(
                events(entry, "catalog.institution_entry.suspended").get().data["reason"],
                "平台被暂停",
            )
        other.refresh_from_db()
        self.assertEqual(other.status, CS.ACTIVE)

    def test_all_or_nothing_when_one_entry_is_outside_the_officers_scope(self):
        a = self.make_entry(self.wuhan, "a")
        self.make_entry(self.xiling, "x")
        with self.assertRaises(NotInScope):
            services.suspend_institution_entries(
                self.platform.organisation, reason="暂停", by=self.city
            )
        a.refresh_from_db()
        self.assertEqual(a.status, CS.ACTIVE)

    def test_nothing_to_suspend_is_fine_and_a_reason_is_required(self):
        self.assertEqual(
            services.suspend_institution_entries(self.platform.organisation, reason="x", by=None),
            [],
        )
        with self.assertRaises(InvalidInput):
            services.suspend_institution_entries(self.platform.organisation, reason=" ", by=None)

    def test_reinstate_entries_brings_suspended_ones_back(self):
        a = self.make_entry(self.wuhan, "a")
        services.suspend_institution_entries(self.platform.organisation, reason="x", by=None)
        services.reinstate_institution_entries(self.platform.organisation, reason="y", by=None)
        a.refresh_from_db()
        self.assertEqual(a.status, CS.ACTIVE)


class EntryTransitionTests(CatalogueTestCase):
    def entry(self, status):
        entry = services.create_institution_entry(
            self.platform.organisation,
            region=self.wuhan,
            nature="online_platform",
            occupations=[],
            valid_from=date(2020, 1, 1),
            by=self.city,
        )
        InstitutionCatalogueEntry.objects.filter(pk=entry.pk).update(status=status)
        entry.refresh_from_db()
        return entry

    MOVES = {
        CS.SUSPENDED: services.suspend_institution_entry,
        CS.ACTIVE: services.reinstate_institution_entry,
        CS.REMOVED: services.remove_institution_entry,
    }

    def test_every_move_allowed_or_refused_as_the_table_says(self):
        for start in CS.values:
            for target, move in self.MOVES.items():
                with self.subTest(start=start, target=target):
                    InstitutionCatalogueEntry.objects.all().delete()
                    entry = self.entry(start)
                    if start == target:
                        self.assertEqual(move(entry, reason="r", by=self.city).status, start)
                        self.assertFalse(events(entry, f"catalog.institution_entry.{target}"))
                    elif target in services.ENTRY_ALLOWED.get(start, set()):
                        self.assertEqual(move(entry, reason="r", by=self.city).status, target)
                        self.assertTrue(events(entry, f"catalog.institution_entry.{target}"))
                    else:
                        with self.assertRaises(TransitionNotAllowed):
                            move(entry, reason="r", by=self.city)

    def test_stale_copy_cannot_be_moved(self):
        entry = self.entry(CS.ACTIVE)
        stale = InstitutionCatalogueEntry.objects.select_related("region").get(pk=entry.pk)
        services.suspend_institution_entry(entry, reason="r", by=self.city)
        with self.assertRaises(StaleObject):
            services.remove_institution_entry(stale, reason="r", by=self.city)

    def test_manual_second_entry_in_the_same_region_is_a_conflict(self):
        self.entry(CS.ACTIVE)
        with self.assertRaises(Conflict):
            self.entry(CS.ACTIVE)

    def test_update_changes_validity_and_is_audited(self):
        entry = self.entry(CS.ACTIVE)
        services.update_institution_entry(
            entry,
            nature="enterprise",
            occupations=[self.occupations["6-01-02-01"]],
            valid_from=date(2020, 2, 1),
            valid_to=date(2020, 12, 31),
            address="新地址",
            by=self.province,
        )
        entry.refresh_from_db()
        self.assertEqual((entry.valid_to, entry.nature), (date(2020, 12, 31), "enterprise"))
        event = events(entry, "catalog.institution_entry.updated").get()
        self.assertEqual(event.data["before"]["valid_to"], None)
        self.assertEqual(event.data["after"]["occupations"], ["6-01-02-01"])

    def test_removed_entry_cannot_be_edited_and_outsider_cannot_edit(self):
        entry = self.entry(CS.ACTIVE)
        kwargs: dict[str, Any] = {
            "nature": "enterprise",
            "occupations": [],
            "valid_from": date(2020, 1, 1),
            "valid_to": None,
            "address": "",
        }
        with self.assertRaises(NotInScope):
            services.update_institution_entry(entry, by=self.outsider, **kwargs)
        services.remove_institution_entry(entry, reason="r", by=self.city)
        with self.assertRaises(TransitionNotAllowed):
            services.update_institution_entry(entry, by=self.city, **kwargs)


class ProjectEntryTests(CatalogueTestCase):
    def create(self, **overrides):
        values: dict[str, Any] = {
            "occupation": self.occupations["4-04-05-05"],
            "training_type": "online",
            "valid_from": date(2020, 1, 1),
            "by": self.city,
        }
        values.update(overrides)
        return services.create_project_entry(self.wuhan, **values)

    def test_create_and_audit(self):
        entry = self.create(
            skill_level=4, class_hours=Decimal("40.5"), subsidy_standard_fen=80000, trade=self.trade
        )
        self.assertEqual(entry.status, CS.ACTIVE)
        event = events(entry, "catalog.project_entry.created").get()
        self.assertEqual(event.data["occupation"], "4-04-05-05")
        self.assertEqual(event.data["subsidy_standard_fen"], 80000)

    def test_duplicate_live_entry_is_a_conflict_but_another_level_is_not(self):
        self.create(skill_level=5)
        with self.assertRaises(Conflict):
            self.create(skill_level=5)
        self.create(skill_level=4)
        self.assertEqual(ProjectCatalogueEntry.objects.count(), 2)

    def test_bad_fields(self):
        cases: list[tuple[dict[str, Any], str]] = [
            ({"occupation": self.occupations["4-04-05"]}, "occupation"),
            ({"occupation": self.occupations["6-01-02-01"], "trade": self.trade}, "trade"),
            ({"training_type": "magic"}, "training_type"),
            ({"class_hours": Decimal("0")}, "class_hours"),
            ({"class_hours": Decimal("1.25")}, "class_hours"),
            ({"skill_level": 9}, "skill_level"),
            ({"valid_to": date(2019, 1, 1)}, "valid_to"),
        ]
        for overrides, field in cases:
            with self.subTest(field=field), self.assertRaises(InvalidInput) as caught:
                self.create(**overrides)
            self.assertEqual(caught.exception.field, field)

    def test_update_and_transitions(self):
        entry = self.create()
        services.update_project_entry(
            entry,
            training_type="employment_skills",
            valid_from=date(2020, 1, 1),
            valid_to=date(2020, 6, 30),
            class_hours=Decimal("30"),
            subsidy_standard_fen=None,
            by=self.province,
        )
        entry.refresh_from_db()
        self.assertEqual(entry.valid_to, date(2020, 6, 30))
        services.suspend_project_entry(entry, reason="r", by=self.city)
        services.reinstate_project_entry(entry, reason="r", by=self.city)
        services.remove_project_entry(entry, reason="r", by=self.city)
        with self.assertRaises(TransitionNotAllowed):
            services.reinstate_project_entry(entry, reason="r", by=self.city)
        with self.assertRaises(NotInScope):
            services.suspend_project_entry(self.create(skill_level=3), reason="r", by=self.county)
