"""manage.py load_demo: the demo province (idempotent; a second run changes nothing)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from zhipei.catalog.demo import load_demo_catalog
from zhipei.portal.demo import load_demo
from zhipei.portal.demo_learning import load_demo_learning
from zhipei.subsidies.demo import load_demo_policies
from zhipei.subsidies.proposals import propose_living_allowances


class Command(BaseCommand):
    help = (
        "Load the demo province (湖北省): officers, organisations, platforms, learners, "
        "and its catalogue (selected platforms, courses, filings)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = load_demo(self.stdout)
        for name, key_id, secret in report.new_credentials:
            # Shown once: only the encrypted secret and its digest are stored.
            self.stdout.write(f"API credential for {name}: key id {key_id}  secret {secret}")
        if report.anything_created:
            summary = ", ".join(f"{count} {kind}" for kind, count in sorted(report.created.items()))
            self.stdout.write(self.style.SUCCESS(f"Demo province loaded: {summary}."))
        else:
            self.stdout.write("Demo province already complete; nothing changed.")
        # The catalogue (selected platforms, courses, filings) builds on the province above.
        catalog = load_demo_catalog(self.stdout)
        for name, key_id, secret in catalog.new_credentials:
            self.stdout.write(f"API credential for {name}: key id {key_id}  secret {secret}")
        # Example subsidy policies (policy-rules §15) and starting budgets for the province.
        self.stdout.write(f"Demo subsidy policies created: {load_demo_policies()}.")
        # Two learners study a demo course and earn completion certificates.
        learning = load_demo_learning(self.stdout)
        self.stdout.write(
            f"Demo learning: {learning.statements} statements stored, certificates: "
            f"{', '.join(learning.certificates) or 'none new'}."
        )
        # Policy finds the person: living allowances proposed to learners in the five groups.
        proposals = propose_living_allowances()
        self.stdout.write(
            f"Living allowances proposed without an application: {proposals.proposed}."
        )
