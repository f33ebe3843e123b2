"""Reads of the subsidies app: policy resolution, policy lists and fund balances for officers
(always region-scoped through accounts.scope)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import models
from django.db.models import Q, Sum
from django.http import Http404

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.accounts.scope import officer_prefixes, scope_to_regions
from zhipei.regions.models import Region
from zhipei.subsidies.models import (
    FundAccount,
    LedgerEntry,
    LedgerPosting,
    PolicyVersion,
)
from zhipei.subsidies.parameters import check_complete, specs_for

# --- Policy resolution ---------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedParameter:
    """One parameter's value and the version it came from."""

    name: str
    value: Any
    version_id: int | None
    region_code: str  # "" = national
    region_name: str
    document_number: str
    document_url: str
    is_example: bool
    evidence: str
    effective_from: date | None
    effective_to: date | None


@dataclass
class ResolvedPolicy:
    """Every parameter of a programme as in force at one region on one day.

    `parameters` holds the parameters some level sets, in the programme's order; `missing`
    names those no level sets; `problems` lists rules spanning several parameters that the
    merged set breaks (e.g. a county's maximum age below its province's minimum)."""

    programme: str
    region: Region | None
    on_date: date
    parameters: dict[str, ResolvedParameter] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)
    versions: list[PolicyVersion] = field(default_factory=list)

    def __getitem__(self, name: str) -> Any:
        return self.parameters[name].value

    def get(self, name: str, default: Any = None) -> Any:
        found = self.parameters.get(name)
        return found.value if found is not None else default

    @property
    def values(self) -> dict[str, Any]:
        return {name: p.value for name, p in self.parameters.items()}

    @property
    def is_complete(self) -> bool:
        return not self.missing and not self.problems


def region_chain(region: Region | None) -> list[Region]:
    """The region and its ancestors, top first (province → city → county)."""
    chain: list[Region] = []
    current = region
    while current is not None:
        chain.append(current)
        current = current.parent
    chain.reverse()
    return chain


def versions_in_force(programme: str, chain: list[Region], on_date: date) -> list[PolicyVersion]:
    """The version in force on `on_date` at each level of the chain (national first)."""
    region_ids = [r.pk for r in chain]
    found = (
        PolicyVersion.objects.filter(
            Q(line__region__isnull=True) | Q(line__region_id__in=region_ids),
            line__programme=programme,
            withdrawn_at__isnull=True,
            effective_from__lte=on_date,
        )
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on_date))
        .select_related("line__region")
    )
    depth = {None: -1} | {r.pk: i for i, r in enumerate(chain)}
    return sorted(found, key=lambda v: depth[v.line.region_id])


def merge_versions(
    programme: str,
    region: Region | None,
    on_date: date,
    versions: list[PolicyVersion],
) -> ResolvedPolicy:
    """Merge versions ordered from the top (national) down: each level overrides the
    parameters it sets. Pure: used for resolution and for previews of unsaved versions."""
    winners: dict[str, PolicyVersion] = {}
    for level in versions:
        for name in level.parameters:
            winners[name] = level
    resolved = ResolvedPolicy(programme=programme, region=region, on_date=on_date)
    resolved.versions = list(versions)
    for spec in specs_for(programme):
        winner = winners.get(spec.name)
        if winner is None:
            resolved.missing.append(spec.name)
            continue
        line_region = winner.line.region
        resolved.parameters[spec.name] = ResolvedParameter(
            name=spec.name,
            value=winner.parameters[spec.name],
            version_id=winner.pk,
            region_code=line_region.code if line_region else "",
            region_name=line_region.name if line_region else "",
            document_number=winner.document_number,
            document_url=winner.document_url,
            is_example=winner.is_example,
            evidence=winner.evidence,
            effective_from=winner.effective_from,
            effective_to=winner.effective_to,
        )
    resolved.problems = check_complete(programme, resolved.values)
    return resolved


def resolve_policy(programme: str, region: Region | None, on_date: date) -> ResolvedPolicy:
    """Every parameter of `programme` in force at `region` (None = national) on `on_date`,
    each with the version, region and document it came from. A child region overrides its
    parent parameter by parameter; withdrawn versions never apply. Three queries at most
    (the region's ancestors, then the versions)."""
    chain = region_chain(region)
    return merge_versions(programme, region, on_date, versions_in_force(programme, chain, on_date))


# --- Policy lists for officers -----------------------------------------------------------------


def _ancestor_prefixes(prefixes: list[str]) -> set[str]:
    """Scope prefixes of the regions above an officer's regions (province of a city, …)."""
    above: set[str] = set()
    for prefix in prefixes:
        if len(prefix) >= 4:
            above.add(prefix[:2])
        if len(prefix) == 6:
            above.add(prefix[:4])
    return above


def policies_for(user: User, *, programme: str = "") -> models.QuerySet[PolicyVersion]:
    """Versions an officer may read: those in their regions' subtrees, those of the regions
    above them (they apply there too) and the national ones. Officers without a region see
    nothing."""
    prefixes = officer_prefixes(user)
    if not prefixes:
        return PolicyVersion.objects.none()
    in_scope = scope_to_regions(
        PolicyVersion.objects.all(), user, region_field="line__region"
    ).values("pk")
    condition = (
        Q(pk__in=in_scope)
        | Q(line__region__isnull=True)
        | Q(line__region__scope_prefix__in=_ancestor_prefixes(prefixes))
    )
    queryset = PolicyVersion.objects.filter(condition)
    if programme:
        queryset = queryset.filter(line__programme=programme)
    return queryset.select_related("line__region", "created_by").order_by(
        "line__programme", "line__region__code", "-effective_from"
    )


def get_policy_version_for(user: User, pk: int | str) -> PolicyVersion:
    """One version the officer may read; Http404 otherwise, so existence does not leak."""
    try:
        return policies_for(user).get(pk=pk)
    except (PolicyVersion.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def _regions_under(prefixes: list[str]) -> models.QuerySet[Region]:
    if not prefixes:
        return Region.objects.none()
    condition = Q()
    for prefix in prefixes:
        condition |= Q(scope_prefix__startswith=prefix)
    return Region.objects.filter(condition, valid_to_year__isnull=True).order_by("code")


def regions_for_policies(user: User) -> models.QuerySet[Region]:
    """Current regions a labour officer may set policy for (their subtrees)."""
    return _regions_under(officer_prefixes(user, roles=frozenset({Role.LABOUR_OFFICER})))


# --- Funds ---------------------------------------------------------------------------------


def balances(accounts: list[FundAccount]) -> dict[int, int]:
    """Balance in fen of each account (by pk), from its entries. One query."""
    if not accounts:
        return {}
    rows = (
        LedgerEntry.objects.filter(account__in=accounts)
        .order_by()
        .values("account")
        .annotate(total=Sum("amount_fen"))
    )
    totals = {row["account"]: int(row["total"]) for row in rows}
    return {account.pk: totals.get(account.pk, 0) for account in accounts}


def account_balance(account: FundAccount) -> int:
    total = LedgerEntry.objects.filter(account=account).aggregate(total=Sum("amount_fen"))["total"]
    return int(total or 0)


def application_committed_fen(application_type: str, application_id: str) -> int:
    """What is committed and not yet paid or released for one application."""
    total = LedgerEntry.objects.filter(
        account__kind=FundAccount.Kind.COMMITTED,
        posting__application_type=application_type,
        posting__application_id=application_id,
    ).aggregate(total=Sum("amount_fen"))["total"]
    return int(total or 0)


@dataclass
class FundSummary:
    """The four balances of one fund source at one region, in fen. `allocated` is minus the
    budget account's balance."""

    source: str
    source_label: str
    region: Region
    accounts: dict[str, FundAccount]
    allocated_fen: int
    available_fen: int
    committed_fen: int
    paid_fen: int


FINANCE = frozenset({Role.FINANCE_OFFICER})


def fund_accounts_for(user: User) -> models.QuerySet[FundAccount]:
    return scope_to_regions(FundAccount.objects.all(), user, roles=FINANCE).select_related("region")


def fund_summaries_for(user: User) -> list[FundSummary]:
    """Every fund in the finance officer's scope with its balances. Two queries (accounts,
    balances) whatever the number of funds."""
    accounts = list(fund_accounts_for(user).order_by("region__code", "source", "kind"))
    totals = balances(accounts)
    grouped: dict[tuple[str, int], dict[str, FundAccount]] = defaultdict(dict)
    for account in accounts:
        grouped[(account.source, account.region_id)][account.kind] = account
    summaries: list[FundSummary] = []
    for by_kind in grouped.values():
        first = next(iter(by_kind.values()))
        kind_totals = {kind: totals[account.pk] for kind, account in by_kind.items()}

        def bal(kind: str, kind_totals: dict[str, int] = kind_totals) -> int:
            return kind_totals.get(kind, 0)

        summaries.append(
            FundSummary(
                source=first.source,
                source_label=str(first.get_source_display()),
                region=first.region,
                accounts=by_kind,
                allocated_fen=-bal(FundAccount.Kind.BUDGET),
                available_fen=bal(FundAccount.Kind.AVAILABLE),
                committed_fen=bal(FundAccount.Kind.COMMITTED),
                paid_fen=bal(FundAccount.Kind.PAID),
            )
        )
    return summaries


def fund_summary_for(user: User, source: str, region_pk: object) -> FundSummary:
    """One fund in scope; Http404 otherwise."""
    for summary in fund_summaries_for(user):
        if summary.source == source and str(summary.region.pk) == str(region_pk):
            return summary
    raise Http404


def postings_of_fund(source: str, region: Region) -> models.QuerySet[LedgerPosting]:
    return (
        LedgerPosting.objects.filter(source=source, region=region)
        .select_related("created_by", "reverses")
        .prefetch_related("entries__account")
        .order_by("-created_at", "-pk")
    )


def regions_for_funds(user: User) -> models.QuerySet[Region]:
    return _regions_under(officer_prefixes(user, roles=FINANCE))


def can_read_policies(user: User) -> bool:
    return bool(officer_prefixes(user))


def can_set_policy(user: User) -> bool:
    """Labour officer at province or city level (the services check the region too)."""
    return RoleAssignment.objects.filter(
        user=user,
        role=Role.LABOUR_OFFICER,
        revoked_at__isnull=True,
        region__level__in=["province", "prefecture"],
    ).exists()


def is_finance_officer(user: User) -> bool:
    return bool(officer_prefixes(user, roles=FINANCE))


def regions_for_readers(user: User) -> models.QuerySet[Region]:
    """Regions an officer may look policy up for: their subtrees."""
    return _regions_under(officer_prefixes(user))
