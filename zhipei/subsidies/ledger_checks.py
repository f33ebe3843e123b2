"""The ledger invariants, recomputed from the entries (used by `manage.py check_ledger`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, Sum

from zhipei.subsidies.models import FundAccount, LedgerEntry, LedgerPosting

K = FundAccount.Kind


@dataclass
class LedgerReport:
    postings: int = 0
    entries: int = 0
    accounts: int = 0
    problems: list[str] = field(default_factory=list)


def find_ledger_problems() -> LedgerReport:
    """Every broken invariant, as one readable line each. A handful of aggregate queries;
    nothing is loaded row by row except the offending rows."""
    report = LedgerReport(
        postings=LedgerPosting.objects.count(),
        entries=LedgerEntry.objects.count(),
        accounts=FundAccount.objects.count(),
    )
    unbalanced = (
        LedgerPosting.objects.annotate(total=Sum("entries__amount_fen"), lines=Count("entries"))
        .filter(Q(lines__lt=2) | ~Q(total=0) | Q(total__isnull=True))
        .values_list("pk", "kind", "total", "lines")
    )
    for pk, kind, total, lines in unbalanced:
        report.problems.append(
            f"posting {pk} ({kind}): {lines} entries summing to {total or 0} fen, not a balanced pair"
        )
    wrong_fund = LedgerEntry.objects.exclude(
        account__source=F("posting__source"), account__region=F("posting__region")
    ).values_list("pk", "posting_id")
    for pk, posting_id in wrong_fund:
        report.problems.append(f"entry {pk} of posting {posting_id} is on another fund's account")
    totals = dict(
        LedgerEntry.objects.values("account")
        .annotate(total=Sum("amount_fen"))
        .values_list("account", "total")
    )
    for account in FundAccount.objects.select_related("region").order_by("pk"):
        balance = int(totals.get(account.pk) or 0)
        if account.kind == K.BUDGET and balance > 0:
            report.problems.append(
                f"account {account.pk} ({account}): budget balance {balance} fen > 0"
            )
        if account.kind != K.BUDGET and balance < 0:
            report.problems.append(f"account {account.pk} ({account}): balance {balance} fen < 0")
    committed: dict[tuple[str, str], int] = defaultdict(int)
    rows = (
        LedgerEntry.objects.filter(account__kind=K.COMMITTED)
        .exclude(posting__application_type="")
        .values("posting__application_type", "posting__application_id")
        .annotate(total=Sum("amount_fen"))
    )
    for row in rows:
        committed[(row["posting__application_type"], row["posting__application_id"])] = int(
            row["total"]
        )
    for (app_type, app_id), total in sorted(committed.items()):
        if total < 0:
            report.problems.append(
                f"application {app_type}:{app_id}: more paid or released than committed ({total} fen)"
            )
    return report
