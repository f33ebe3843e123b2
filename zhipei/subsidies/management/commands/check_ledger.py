"""`manage.py check_ledger`: re-prove the ledger invariants from the entries themselves.

Balances are never cached, so "drift" here means any entry set that breaks an invariant:
a posting whose entries do not sum to zero or that has fewer than two entries, an entry
whose account belongs to another fund than its posting, a money-holding account below zero,
a budget account above zero, an application with more paid or released than committed.
Prints one line per problem and a summary; exits non-zero when anything is wrong.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from zhipei.subsidies.ledger_checks import find_ledger_problems


class Command(BaseCommand):
    help = "Recompute every fund balance from its ledger entries and report broken invariants."

    def handle(self, *args: Any, **options: Any) -> None:
        report = find_ledger_problems()
        for problem in report.problems:
            self.stderr.write(problem)
        summary = (
            f"{report.postings} postings, {report.entries} entries, "
            f"{report.accounts} accounts checked; {len(report.problems)} problems"
        )
        if report.problems:
            raise CommandError(summary)
        self.stdout.write(summary)
