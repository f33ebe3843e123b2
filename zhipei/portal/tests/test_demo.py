from io import StringIO

from django.core.management import call_command
from django.test import TestCase

from zhipei.accounts.models import RoleAssignment, User
from zhipei.audit.models import AuditEvent
from zhipei.orgs.models import Organisation, PlatformCredential
from zhipei.people.models import Person, PersonCategory
from zhipei.portal.demo import DEMO_ACCOUNTS, LEARNERS, load_demo
from zhipei.regions.models import Region

COUNTED = (User, RoleAssignment, Person, PersonCategory, Organisation, PlatformCredential)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


class LoadDemoTests(TestCase):
    def test_second_run_changes_nothing(self) -> None:
        first = StringIO()
        call_command("load_demo", stdout=first)
        after_first = counts()
        regions_after_first = Region.objects.count()
        # The reference-data importers record each import run, even one that changes nothing;
        # every other event would mean the second run changed something.
        changes = AuditEvent.objects.exclude(action__endswith=".imported")
        events_after_first = changes.count()

        second = StringIO()
        call_command("load_demo", stdout=second)

        self.assertEqual(counts(), after_first)
        self.assertEqual(Region.objects.count(), regions_after_first)
        self.assertEqual(changes.count(), events_after_first)
        reruns = AuditEvent.objects.filter(action__endswith=".imported").order_by("-pk")[:4]
        for event in reruns:
            self.assertEqual((event.data["created"], event.data["updated"]), (0, 0))
        self.assertIn("nothing changed", second.getvalue())
        self.assertNotIn("secret", second.getvalue())

    def test_the_province_is_complete(self) -> None:
        report = load_demo()

        self.assertEqual(User.objects.count(), len(DEMO_ACCOUNTS))
        self.assertEqual(Person.objects.count(), len(LEARNERS))
        self.assertEqual(Organisation.objects.count(), 8)
        self.assertEqual(Organisation.objects.filter(platform__isnull=False).count(), 3)
        self.assertEqual(PlatformCredential.objects.filter(revoked_at__isnull=True).count(), 3)
        self.assertEqual(len(report.new_credentials), 3)
        self.assertTrue(
            PersonCategory.objects.filter(
                category__in=PersonCategory.LIVING_ALLOWANCE_GROUPS
            ).exists()
        )
        for learner in LEARNERS:
            person = Person.objects.get(name=learner.name)
            self.assertEqual(person.user.username, f"learner_{learner.key}")
            self.assertEqual(person.region.code, learner.county)
        self.assertTrue(User.objects.get(username="sysadmin").is_staff)

    def test_every_demo_account_logs_in_with_its_documented_password(self) -> None:
        load_demo()

        for spec in DEMO_ACCOUNTS:
            with self.subTest(username=spec.username):
                user = User.objects.get(username=spec.username)
                self.assertTrue(user.check_password(spec.password))
                held = set(
                    RoleAssignment.objects.filter(user=user, revoked_at__isnull=True).values_list(
                        "role", flat=True
                    )
                )
                self.assertEqual(held, {role.role for role in spec.roles})

    def test_officer_scopes_follow_the_demo_regions(self) -> None:
        load_demo()

        expected = {
            "hb_labour": "420000",
            "wh_labour": "420100",
            "ja_labour": "420102",
            "xl_labour": "420502",
            "xt_labour": "429004",
            "hb_finance": "420000",
            "wh_finance": "420100",
        }
        for username, code in expected.items():
            assignment = RoleAssignment.objects.get(user__username=username)
            assert assignment.region is not None
            self.assertEqual(assignment.region.code, code)

    def test_no_clear_id_number_or_secret_is_stored_in_the_audit_log(self) -> None:
        report = load_demo()

        audit_text = " ".join(
            str(data) for data in AuditEvent.objects.values_list("data", flat=True)
        )
        for learner in LEARNERS:
            self.assertNotIn(learner.id_number, audit_text)
        for _name, _key_id, secret in report.new_credentials:
            self.assertNotIn(secret, audit_text)

    def test_demo_accounts_prints_the_table(self) -> None:
        before = StringIO()
        call_command("demo_accounts", stdout=before)
        self.assertIn("missing (run manage.py load_demo)", before.getvalue())

        load = StringIO()
        call_command("load_demo", stdout=load)
        out = StringIO()
        call_command("demo_accounts", stdout=out)

        text = out.getvalue()
        for spec in DEMO_ACCOUNTS:
            self.assertIn(spec.username, text)
            self.assertIn(spec.password, text)
        self.assertIn("江岸区 420102", text)
        self.assertNotIn("missing", text)
        for key_id in PlatformCredential.objects.values_list("key_id", flat=True):
            self.assertIn(key_id, text)
            self.assertIn(key_id, load.getvalue())
        # The secret was printed once by load_demo and never again.
        secrets = [
            line.rsplit(" ", 1)[-1] for line in load.getvalue().splitlines() if "secret" in line
        ]
        self.assertEqual(len(secrets), 3)
        for secret in secrets:
            self.assertNotIn(secret, text)
