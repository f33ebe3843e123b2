"""Publishing results (platform selected, listing, catalogue entry, first credential once)
and the platform's later life on the list: suspend, reinstate, remove."""

from __future__ import annotations

from django.utils import timezone

from zhipei.audit.models import AuditEvent
from zhipei.catalog.models import (
    CatalogueStatus,
    InstitutionCatalogueEntry,
    PlatformApplication,
    PlatformCall,
    PlatformListing,
)
from zhipei.catalog.selection import queries, services
from zhipei.catalog.tests.selection.helpers import SelectionTestCase
from zhipei.core.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotInScope,
    OnHold,
    TransitionNotAllowed,
)
from zhipei.orgs.models import Platform, PlatformCredential
from zhipei.orgs.services import authenticate_basic, place_hold

A = PlatformApplication.Status
P = Platform.Status


class PublishTests(SelectionTestCase):
    def test_publishing_makes_the_selected_organisation_a_listed_platform(self) -> None:
        call, application = self.decided_call("selected")
        self.assertFalse(Platform.objects.filter(organisation=self.org).exists())
        results = services.publish_results(call, by=self.city)

        platform = Platform.objects.get(organisation=self.org)
        self.assertEqual(platform.status, P.SELECTED)
        self.assertEqual(platform.website, "https://learn.example.cn")
        listing = PlatformListing.objects.get(platform=platform)
        self.assertEqual(
            (listing.event, listing.call_id, listing.region.code, listing.on),
            ("selected", call.pk, "420100", timezone.localdate()),
        )
        entry = InstitutionCatalogueEntry.objects.get(organisation=self.org)
        self.assertEqual(
            (entry.nature, entry.source, entry.source_ref, entry.status, entry.region.code),
            ("online_platform", "selection", str(application.pk), "active", "420100"),
        )
        self.assertEqual(list(entry.occupations.all()), [self.occupation])

        # The first credential: issued once, its secret only in the result.
        (issued,) = results.issued
        self.assertEqual(issued.platform, platform)
        credential = PlatformCredential.objects.get(platform=platform)
        self.assertEqual(issued.credential, credential)
        self.assertNotIn(issued.secret.encode(), bytes(credential.secret_ciphertext))
        self.assertEqual(authenticate_basic(credential.key_id, issued.secret), credential)
        self.assertNotIn(
            issued.secret, str(list(AuditEvent.objects.values_list("data", flat=True)))
        )
        self.assertEqual(results.selected, [application])

    def test_replayed_publication_issues_nothing_more(self) -> None:
        call, _application = self.decided_call("selected")
        services.publish_results(call, by=self.city)
        again = services.publish_results(PlatformCall.objects.get(pk=call.pk), by=self.city)
        self.assertEqual((again.issued, again.selected), ([], []))
        self.assertEqual(PlatformCredential.objects.count(), 1)
        self.assertEqual(PlatformListing.objects.count(), 1)

    def test_platform_with_an_active_credential_gets_no_second_one(self) -> None:
        call = self.make_call()
        application = self.make_application(call, operator=self.operator2, organisation=self.org2)
        from zhipei.orgs.services import issue_credential

        issue_credential(self.org2.platform, by=self.city, label="earlier")
        call = services.start_review(self.pass_deadline(call), by=self.city)
        application = PlatformApplication.objects.get(pk=application.pk)
        self.reviewed(application, self.reviewer_a, self.reviewer_b)
        services.decide(application, outcome="selected", by=self.city)
        results = services.publish_results(PlatformCall.objects.get(pk=call.pk), by=self.city)
        self.assertEqual(results.issued, [])
        self.assertEqual(PlatformCredential.objects.filter(platform=self.org2.platform).count(), 1)
        self.assertEqual(Platform.objects.get(pk=self.org2.platform.pk).status, P.SELECTED)

    def test_not_selected_changes_nothing_about_the_organisation(self) -> None:
        call, _application = self.decided_call("not_selected")
        results = services.publish_results(call, by=self.city)
        self.assertEqual(results.issued, [])
        self.assertFalse(Platform.objects.filter(organisation=self.org).exists())
        self.assertFalse(PlatformListing.objects.exists())
        self.assertFalse(InstitutionCatalogueEntry.objects.exists())

    def test_hold_placed_after_the_decision_blocks_publication(self) -> None:
        call, _application = self.decided_call("selected")
        place_hold(self.org, reason="complaint", by=self.city)
        with self.assertRaisesMessage(OnHold, self.org.name):
            services.publish_results(call, by=self.city)
        self.assertEqual(PlatformCall.objects.get(pk=call.pk).status, PlatformCall.Status.DECIDED)
        self.assertFalse(PlatformListing.objects.exists())
        self.assertFalse(PlatformCredential.objects.exists())

    def test_public_list_shows_the_selection_date(self) -> None:
        call, _application = self.decided_call("selected")
        services.publish_results(call, by=self.city)
        (row,) = queries.public_platforms()
        self.assertEqual(row.platform.organisation, self.org)
        assert row.selected_on is not None
        self.assertEqual(row.selected_on.on, timezone.localdate())


class ListingTests(SelectionTestCase):
    def setUp(self) -> None:
        call, _application = self.decided_call("selected")
        results = services.publish_results(call, by=self.city)
        self.platform = Platform.objects.get(organisation=self.org)
        self.secret = results.issued[0].secret
        self.key_id = results.issued[0].credential.key_id

    def test_suspend_then_reinstate(self) -> None:
        platform = services.suspend_platform(
            self.platform, reason="learning records falsified", by=self.city
        )
        self.assertEqual(Platform.objects.get(pk=platform.pk).status, P.SUSPENDED)
        entry = InstitutionCatalogueEntry.objects.get(organisation=self.org)
        self.assertEqual(entry.status, CatalogueStatus.SUSPENDED)
        self.assertIsNone(authenticate_basic(self.key_id, self.secret))

        platform = services.reinstate_platform(platform, reason="corrected", by=self.city)
        self.assertEqual(Platform.objects.get(pk=platform.pk).status, P.SELECTED)
        entry.refresh_from_db()
        self.assertEqual(entry.status, CatalogueStatus.ACTIVE)
        self.assertIsNotNone(authenticate_basic(self.key_id, self.secret))
        history = [(x.event, x.reason) for x in queries.listings_of(platform)]
        self.assertEqual(
            sorted(history),
            sorted(
                [
                    ("selected", ""),
                    ("suspended", "learning records falsified"),
                    ("reinstated", "corrected"),
                ]
            ),
        )
        self.assertTrue(AuditEvent.objects.filter(action="catalog.platform.suspended").exists())

    def test_remove_revokes_credentials_and_shows_on_the_public_history(self) -> None:
        services.remove_platform(self.platform, reason="licence revoked", by=self.province)
        platform = Platform.objects.get(pk=self.platform.pk)
        self.assertEqual(platform.status, P.REMOVED)
        self.assertFalse(
            PlatformCredential.objects.filter(platform=platform, revoked_at__isnull=True).exists()
        )
        self.assertEqual(
            InstitutionCatalogueEntry.objects.get(organisation=self.org).status,
            CatalogueStatus.SUSPENDED,
        )
        (row,) = queries.public_platforms()
        self.assertEqual(row.history[0].event, "removed")
        self.assertEqual(row.history[0].reason, "licence revoked")

    def test_refused_moves(self) -> None:
        # Reinstating a listed platform is a replay: unchanged, no history row.
        services.reinstate_platform(self.platform, reason="x", by=self.city)
        self.assertFalse(PlatformListing.objects.filter(event="reinstated").exists())
        services.remove_platform(self.platform, reason="gone", by=self.city)
        platform = Platform.objects.get(pk=self.platform.pk)
        with self.assertRaises(TransitionNotAllowed):
            services.suspend_platform(platform, reason="x", by=self.city)
        with self.assertRaises(TransitionNotAllowed):
            services.reinstate_platform(platform, reason="x", by=self.city)

    def test_replay_adds_no_history(self) -> None:
        services.suspend_platform(self.platform, reason="a", by=self.city)
        platform = Platform.objects.get(pk=self.platform.pk)
        services.suspend_platform(platform, reason="b", by=self.city)
        self.assertEqual(PlatformListing.objects.filter(event="suspended").count(), 1)

    def test_reason_and_people(self) -> None:
        with self.assertRaises(InvalidInput) as caught:
            services.suspend_platform(self.platform, reason="  ", by=self.city)
        self.assertEqual(caught.exception.field, "reason")
        with self.assertRaises(NotInScope):
            services.suspend_platform(self.platform, reason="x", by=self.outsider)
        with self.assertRaises(NotAllowed):
            services.suspend_platform(self.platform, reason="x", by=self.reviewer_a)
        self.assertEqual(Platform.objects.get(pk=self.platform.pk).status, P.SELECTED)

    def test_never_selected_platform_cannot_be_suspended(self) -> None:
        with self.assertRaisesMessage(Conflict, "never selected"):
            services.suspend_platform(self.org2.platform, reason="x", by=self.city)

    def test_removed_platform_may_be_selected_by_a_later_call(self) -> None:
        services.remove_platform(self.platform, reason="gone", by=self.city)
        call = self.make_call(title="2027")
        application = self.make_application(call)
        call = services.start_review(self.pass_deadline(call), by=self.city)
        application = PlatformApplication.objects.get(pk=application.pk)
        self.reviewed(application, self.reviewer_a, self.reviewer_b)
        services.decide(application, outcome="selected", by=self.city)
        results = services.publish_results(PlatformCall.objects.get(pk=call.pk), by=self.city)
        self.assertEqual(Platform.objects.get(pk=self.platform.pk).status, P.SELECTED)
        self.assertEqual(len(results.issued), 1)  # the old one was revoked on removal
        self.assertEqual(
            InstitutionCatalogueEntry.objects.filter(
                organisation=self.org, status=CatalogueStatus.ACTIVE
            ).count(),
            1,
        )
