"""Every write of the subsidies app: policy versions and ledger postings.

Policy services are for labour officers at province or city level inside their region
subtree (national versions: system administrators or trusted system code). Ledger services
are for finance officers inside their subtree. `by=None` means trusted system code (demo
loading, tasks); views always pass the signed-in user. Each service is transactional and
writes its audit event in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from zhipei.accounts.models import Role, User
from zhipei.accounts.services import require_role
from zhipei.audit import services as audit
from zhipei.audit.models import AuditEvent
from zhipei.core.errors import DomainError, InvalidInput, NotAllowed, NotInScope
from zhipei.core.money import MAX_FEN
from zhipei.regions.models import Region
from zhipei.subsidies.errors import (
    InsufficientFunds,
    InvalidAmount,
    PolicyOverlap,
    ReferenceReused,
)
from zhipei.subsidies.models import (
    FundAccount,
    FundSource,
    LedgerEntry,
    LedgerPosting,
    PolicyLine,
    PolicyVersion,
    PostingKind,
    Programme,
)
from zhipei.subsidies.parameters import InvalidParameters, validate_parameters
from zhipei.subsidies.queries import (
    ResolvedPolicy,
    account_balance,
    application_committed_fen,
    merge_versions,
    region_chain,
    resolve_policy,
    versions_in_force,
)

# --- Policy versions -------------------------------------------------------------------------

POLICY_LEVELS = ("province", "prefecture")


def require_policy_officer(by: User | None, region: Region | None) -> None:
    """Labour officer at province or city level whose subtree holds `region`; national
    versions need a system administrator. NotAllowed / NotInScope otherwise."""
    if by is None:
        return
    if region is None:
        require_role(by, Role.SYSTEM_ADMIN)
        return
    out_of_scope = False
    for level in POLICY_LEVELS:
        try:
            require_role(by, Role.LABOUR_OFFICER, region=region, level=level)
        except NotInScope:
            out_of_scope = True
        except NotAllowed:
            continue
        else:
            return
    if out_of_scope:
        raise NotInScope()
    raise NotAllowed(_("Only province or city labour officers set subsidy policy."))


@dataclass(frozen=True)
class VersionDraft:
    """An unsaved version: what an officer typed, before or after preview."""

    programme: str
    region: Region | None
    effective_from: date
    effective_to: date | None
    parameters: dict[str, Any]


def _check_draft(draft: VersionDraft) -> dict[str, Any]:
    if draft.programme not in Programme.values:
        raise InvalidInput(_("Unknown programme."), field="programme")
    if draft.effective_to is not None and draft.effective_to < draft.effective_from:
        raise InvalidInput(_("The last day cannot be before the first day."), field="effective_to")
    parameters = validate_parameters(draft.programme, draft.parameters)
    if not parameters:
        raise InvalidParameters({"__all__": [_("Set at least one parameter.")]})
    return parameters


def _as_version(draft: VersionDraft, parameters: dict[str, Any]) -> PolicyVersion:
    line = PolicyLine(programme=draft.programme, region=draft.region)
    return PolicyVersion(
        line=line,
        effective_from=draft.effective_from,
        effective_to=draft.effective_to,
        parameters=parameters,
        document_number=_("(this draft)"),
    )


def preview_policy_version(draft: VersionDraft, *, on_date: date | None = None) -> ResolvedPolicy:
    """What the resolved policy at the draft's region would be on `on_date` (default: its first
    day) if the draft were saved. Writes nothing. Raises InvalidInput / InvalidParameters."""
    parameters = _check_draft(draft)
    day = on_date or draft.effective_from
    chain = region_chain(draft.region)
    versions = versions_in_force(draft.programme, chain, day)
    draft_version = _as_version(draft, parameters)
    if draft_version.covers(day):
        # On the draft's days it takes the place of whatever its region has now (an
        # open-ended predecessor is closed when the draft is saved).
        own_region = draft.region.pk if draft.region else None
        versions = [v for v in versions if v.line.region_id != own_region]
        versions.append(draft_version)
    depth = {None: -1} | {r.pk: i for i, r in enumerate(chain)}
    versions.sort(key=lambda v: depth[v.line.region_id])
    return merge_versions(draft.programme, draft.region, day, versions)


def _overlaps(a_from: date, a_to: date | None, b_from: date, b_to: date | None) -> bool:
    return (b_to is None or a_from <= b_to) and (a_to is None or b_from <= a_to)


def _changes(before: ResolvedPolicy, after: ResolvedPolicy) -> dict[str, dict[str, Any]]:
    names = set(before.parameters) | set(after.parameters)
    return {
        name: {"old": before.get(name), "new": after.get(name)}
        for name in sorted(names)
        if before.get(name) != after.get(name)
    }


@transaction.atomic
def create_policy_version(
    draft: VersionDraft,
    *,
    document_number: str,
    document_url: str = "",
    is_example: bool = False,
    evidence: str = "",
    note: str = "",
    by: User | None,
) -> PolicyVersion:
    """Save a new version of a programme's policy at a region.

    Guarantees: the parameters fit the programme's schema and, merged with the levels above,
    break no cross-parameter rule; versions of one line never overlap — except that an
    open-ended version starting earlier is closed the day before an open-ended successor
    starts (that is how a policy changes from a date). Existing parameters are never edited.
    The audit event holds every resolved parameter that changes, old and new.
    Raises NotAllowed, NotInScope, InvalidInput, InvalidParameters, PolicyOverlap.
    """
    require_policy_officer(by, draft.region)
    if not document_number.strip():
        raise InvalidInput(_("Give the policy document number."), field="document_number")
    parameters = _check_draft(draft)
    preview = preview_policy_version(draft)
    if preview.problems:
        raise InvalidParameters(preview.problems)

    line, _created = PolicyLine.objects.get_or_create(
        programme=draft.programme, region=draft.region
    )
    # The line lock serialises version changes of one programme at one region (PostgreSQL);
    # SQLite's IMMEDIATE transaction already holds the database write lock.
    PolicyLine.objects.select_for_update().get(pk=line.pk)
    before = resolve_policy(draft.programme, draft.region, draft.effective_from)
    closed: list[tuple[PolicyVersion, date]] = []
    for existing in line.versions.filter(withdrawn_at__isnull=True).order_by("effective_from"):
        if not _overlaps(
            existing.effective_from, existing.effective_to, draft.effective_from, draft.effective_to
        ):
            continue
        supersedes = (
            existing.effective_to is None
            and draft.effective_to is None
            and existing.effective_from < draft.effective_from
        )
        if not supersedes:
            raise PolicyOverlap(
                _("Version from %(start)s to %(end)s is in force on some of these dates.")
                % {
                    "start": existing.effective_from.isoformat(),
                    "end": existing.effective_to.isoformat() if existing.effective_to else "…",
                },
                field="effective_from",
            )
        closed.append((existing, draft.effective_from - timedelta(days=1)))

    now = timezone.now()
    for existing, last_day in closed:
        changed = PolicyVersion.objects.filter(
            pk=existing.pk, effective_to__isnull=True, withdrawn_at__isnull=True
        ).update(effective_to=last_day)
        if changed != 1:  # pragma: no cover - the line lock makes this unreachable
            raise PolicyOverlap()
        audit.record(
            "subsidies.policy.version_closed",
            actor=by,
            obj=existing,
            region_code=draft.region.code if draft.region else "",
            data={"effective_to": {"old": None, "new": last_day}, "reason": "superseded"},
        )

    version = PolicyVersion.objects.create(
        line=line,
        effective_from=draft.effective_from,
        effective_to=draft.effective_to,
        parameters=parameters,
        document_number=document_number.strip(),
        document_url=document_url.strip(),
        is_example=is_example,
        evidence=evidence.strip(),
        note=note.strip(),
        created_at=now,
        created_by=by,
    )
    after = resolve_policy(draft.programme, draft.region, draft.effective_from)
    audit.record(
        "subsidies.policy.version_created",
        actor=by,
        obj=version,
        region_code=draft.region.code if draft.region else "",
        data={
            "programme": draft.programme,
            "effective_from": draft.effective_from,
            "effective_to": draft.effective_to,
            "document_number": version.document_number,
            "is_example": is_example,
            "parameters": parameters,
            "changes": _changes(before, after),
            "superseded": [v.pk for v, _day in closed],
        },
    )
    return version


@transaction.atomic
def retire_policy_version(
    version: PolicyVersion, *, last_day: date, by: User | None, reason: str = ""
) -> PolicyVersion:
    """End a version after `last_day`. A version that would then never apply (it starts
    after `last_day`) is withdrawn instead. Days before today are never changed, since
    decisions may already rest on them.
    Raises NotAllowed, NotInScope, InvalidInput, StaleObject-like InvalidInput when the
    version is already withdrawn or ends earlier."""
    line = version.line
    require_policy_officer(by, line.region)
    PolicyLine.objects.select_for_update().get(pk=line.pk)
    version.refresh_from_db()
    if version.withdrawn_at is not None:
        raise InvalidInput(_("This version has been withdrawn already."))
    yesterday = timezone.localdate() - timedelta(days=1)
    if last_day < yesterday:
        raise InvalidInput(
            _("The last day cannot be in the past: decisions may already rest on it."),
            field="last_day",
        )
    if version.effective_to is not None and last_day >= version.effective_to:
        raise InvalidInput(
            _("This version already ends on %(day)s.") % {"day": version.effective_to.isoformat()},
            field="last_day",
        )
    before = resolve_policy(
        line.programme, line.region, max(last_day + timedelta(days=1), version.effective_from)
    )
    old_to = version.effective_to
    if last_day < version.effective_from:
        PolicyVersion.objects.filter(pk=version.pk).update(
            withdrawn_at=timezone.now(), withdrawn_by=by
        )
        action = "subsidies.policy.version_withdrawn"
        data: dict[str, Any] = {"withdrawn": True}
    else:
        PolicyVersion.objects.filter(pk=version.pk).update(effective_to=last_day)
        action = "subsidies.policy.version_retired"
        data = {"effective_to": {"old": old_to, "new": last_day}}
    after = resolve_policy(line.programme, line.region, before.on_date)
    audit.record(
        action,
        actor=by,
        obj=version,
        region_code=line.region.code if line.region else "",
        data=data | {"reason": reason, "changes": _changes(before, after)},
    )
    version.refresh_from_db()
    return version


# --- Fund ledger ---------------------------------------------------------------------------

K = FundAccount.Kind
# Where each kind of posting takes money from and puts it. Advance, settlement and claw-back
# get their services with project-based training; a reversal swaps its original's accounts.
MOVES: dict[str, tuple[str, str]] = {
    PostingKind.BUDGET_ALLOCATION: (K.BUDGET, K.AVAILABLE),
    PostingKind.COMMITMENT: (K.AVAILABLE, K.COMMITTED),
    PostingKind.PAYMENT: (K.COMMITTED, K.PAID),
    PostingKind.RELEASE: (K.COMMITTED, K.AVAILABLE),
}
# The budget account is the contra account allocations come from; the others hold money and
# never go below zero.
NEVER_NEGATIVE = frozenset({K.AVAILABLE, K.COMMITTED, K.PAID})

ApplicationRef = tuple[str, str]


def application_ref(obj: Any) -> ApplicationRef:
    """(type, id) of a model instance, as stored on postings."""
    return (obj._meta.label_lower, str(obj.pk))


def _require_finance_officer(by: User | None, region: Region) -> None:
    if by is not None:
        require_role(by, Role.FINANCE_OFFICER, region=region)


def open_fund(source: str, region: Region) -> dict[str, FundAccount]:
    """The four accounts of a fund source at a region, created on first use."""
    _check_source(source)
    accounts = {a.kind: a for a in FundAccount.objects.filter(source=source, region=region)}
    if len(accounts) < len(K.values):
        now = timezone.now()
        for kind in K.values:
            if kind not in accounts:
                # get_or_create: a concurrent first posting may be opening the same fund.
                accounts[kind], _created = FundAccount.objects.get_or_create(
                    source=source, region=region, kind=kind, defaults={"opened_at": now}
                )
    return accounts


def _check_source(source: str) -> None:
    if source not in FundSource.values:
        raise InvalidInput(_("Unknown fund source."), field="source")


def _check_amount(amount_fen: int) -> None:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise InvalidAmount(field="amount_fen")
    if not 0 < amount_fen <= MAX_FEN:
        raise InvalidAmount(field="amount_fen")


def _same_posting(
    existing: LedgerPosting,
    *,
    source: str,
    region: Region,
    amount_fen: int,
    application: ApplicationRef | None,
) -> bool:
    app_type, app_id = application or ("", "")
    return (
        existing.source == source
        and existing.region_id == region.pk
        and existing.amount_fen == amount_fen
        and existing.application_type == app_type
        and existing.application_id == app_id
    )


def _post(
    kind: str,
    *,
    source: str,
    region: Region,
    amount_fen: int,
    by: User | None,
    take_from: str,
    put_into: str,
    reference: str = "",
    application: ApplicationRef | None = None,
    memo: str = "",
    reverses: LedgerPosting | None = None,
) -> LedgerPosting:
    """Write one balanced posting under the account locks. Must run inside a transaction."""
    _check_amount(amount_fen)
    reference = reference.strip()
    accounts = open_fund(source, region)
    debit, credit = accounts[take_from], accounts[put_into]
    # Lock both rows in pk order so two postings on the same pair never deadlock. SQLite
    # ignores this; its IMMEDIATE transaction took the database write lock at BEGIN.
    list(
        FundAccount.objects.select_for_update()
        .filter(pk__in=[debit.pk, credit.pk])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    # Checked after the lock, so the posting that got there first is visible.
    if reference:
        existing = LedgerPosting.objects.filter(kind=kind, reference=reference).first()
        if existing is not None:
            if _same_posting(
                existing,
                source=source,
                region=region,
                amount_fen=amount_fen,
                application=application,
            ):
                return existing  # a replay (retried request, re-imported bank file)
            raise ReferenceReused(field="reference")
    if application is not None and take_from == K.COMMITTED:
        # Money leaving "committed" for an application never exceeds what is committed for
        # it (payment, release, reversal of a commitment).
        committed = application_committed_fen(*application)
        if committed < amount_fen:
            raise InsufficientFunds(
                account_label=_("The commitment for this application"),
                balance_fen=committed,
                amount_fen=amount_fen,
            )
    balance_before = account_balance(debit)
    if take_from in NEVER_NEGATIVE and balance_before < amount_fen:
        raise InsufficientFunds(
            account_label=str(debit), balance_fen=balance_before, amount_fen=amount_fen
        )
    app_type, app_id = application or ("", "")
    try:
        with transaction.atomic():
            posting = LedgerPosting.objects.create(
                kind=kind,
                source=source,
                region=region,
                amount_fen=amount_fen,
                reference=reference,
                application_type=app_type,
                application_id=app_id,
                reverses=reverses,
                memo=memo.strip()[:500],
                created_at=timezone.now(),
                created_by=by,
            )
    except IntegrityError as exc:
        # The same reference on another fund committed meanwhile (different locks).
        raise ReferenceReused(field="reference") from exc
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(posting=posting, account=debit, amount_fen=-amount_fen),
            LedgerEntry(posting=posting, account=credit, amount_fen=amount_fen),
        ]
    )
    audit.record(
        "subsidies.ledger." + kind,
        actor=by,
        obj=posting,
        region_code=region.code,
        data=_posting_data(
            posting,
            take_from=take_from,
            put_into=put_into,
            balance_before=balance_before,
            application=application,
            memo=memo,
        ),
    )
    return posting


def _posting_data(
    posting: LedgerPosting,
    *,
    take_from: str,
    put_into: str,
    balance_before: int,
    application: ApplicationRef | None,
    memo: str,
) -> dict[str, Any]:
    """What a posting's audit event records (single and bulk commitments alike)."""
    return {
        "source": posting.source,
        "amount_fen": posting.amount_fen,
        "from": take_from,
        "to": put_into,
        "reference": posting.reference,
        "application": (
            [posting.application_type, posting.application_id] if application else None
        ),
        "from_balance_fen": {"old": balance_before, "new": balance_before - posting.amount_fen},
        "reverses": posting.reverses_id,
        "memo": memo,
    }


@transaction.atomic
def allocate_budget(
    *,
    source: str,
    region: Region,
    amount_fen: int,
    by: User | None,
    reference: str = "",
    memo: str = "",
) -> LedgerPosting:
    """Add budget to a fund (budget → available). `reference` makes a retry a no-op.
    Raises NotAllowed, NotInScope, InvalidAmount, ReferenceReused."""
    _require_finance_officer(by, region)
    return _post(
        PostingKind.BUDGET_ALLOCATION,
        source=source,
        region=region,
        amount_fen=amount_fen,
        by=by,
        take_from=K.BUDGET,
        put_into=K.AVAILABLE,
        reference=reference,
        memo=memo,
    )


@transaction.atomic
def commit_funds(
    *,
    source: str,
    region: Region,
    amount_fen: int,
    application: ApplicationRef,
    by: User | None,
    reference: str = "",
    memo: str = "",
) -> LedgerPosting:
    """Set money aside for an approved application (available → committed).
    Raises InsufficientFunds with the figures when available would go negative, and
    NotAllowed, NotInScope, InvalidAmount, ReferenceReused."""
    _require_finance_officer(by, region)
    return _post(
        PostingKind.COMMITMENT,
        source=source,
        region=region,
        amount_fen=amount_fen,
        by=by,
        take_from=K.AVAILABLE,
        put_into=K.COMMITTED,
        reference=reference,
        application=application,
        memo=memo,
    )


@dataclass(frozen=True)
class CommitRequest:
    """The arguments of one `commit_funds` call but `by`, for `commit_funds_many`."""

    source: str
    region: Region
    amount_fen: int
    application: ApplicationRef
    reference: str = ""
    memo: str = ""


FundKey = tuple[str, int]  # (source, region pk)


def commit_funds_many(
    requests: Sequence[CommitRequest], *, by: User | None
) -> list[LedgerPosting | DomainError]:
    """`commit_funds` for each request in turn, read and written per fund instead of per
    request (bulk finance approval, issue 5). Returns, per request, the posting (new, or the
    one its reference already names: a replay writes nothing) or the DomainError
    `commit_funds` would have raised. Same checks in the same order, same refusals (class,
    code, figures), same rows (the posting, its two entries, its audit event); a refused
    request writes nothing. Raises nothing for a request; runs inside the caller's
    transaction, as `_post` (TransactionManagementError otherwise).

    How: the finance officer's role and scope are checked once per region and the amounts
    per request; then, in one query each, the available and committed accounts of every
    fund involved are locked in pk order (as `_post` locks one pair: no deadlock with a
    single posting or another bulk), the references looked up and the available balances
    read; each balance is run down in request order (a request it cannot cover is refused
    with the balance at that moment; a later, smaller one may still fit). The rows go in by
    bulk inserts, in one savepoint per fund: should a concurrent transaction commit a
    posting with one of the fund's references (on another fund: other locks), the insert
    fails on the unique reference, the savepoint rolls it back and that fund's requests go
    through `commit_funds` one by one instead.
    """
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError("commit_funds_many needs a transaction.")
    return _Commitments(requests, by).run()


class _Commitments:
    """The state of one `commit_funds_many` call."""

    def __init__(self, requests: Sequence[CommitRequest], by: User | None) -> None:
        self.requests, self.by = requests, by
        self.results: list[LedgerPosting | DomainError | None] = [None] * len(requests)
        self.by_fund: dict[FundKey, list[int]] = defaultdict(list)  # checked, in order
        # Per fund: (request index, posting to insert, available balance before it).
        self.planned: dict[FundKey, list[tuple[int, LedgerPosting, int]]] = defaultdict(list)

    def run(self) -> list[LedgerPosting | DomainError]:
        self._check()
        if self.by_fund:
            regions = {key: self.requests[ids[0]].region for key, ids in self.by_fund.items()}
            accounts = _lock_funds(regions)
            self._plan(accounts, _available_balances(accounts, regions))
            inserted = []
            for key, rows in self.planned.items():
                if _insert_postings(key, rows, accounts[key], regions[key]):
                    inserted += rows
                else:
                    self._one_by_one(self.by_fund[key])
            audit.record_many([self._event(i, p, before) for i, p, before in sorted(inserted)])
        answered = [r for r in self.results if r is not None]
        assert len(answered) == len(self.results)
        return answered

    def _check(self) -> None:
        """What `commit_funds` checks before the locks: role and scope (once per region),
        the amount, the fund source."""
        scope: dict[int, DomainError | None] = {}
        for i, request in enumerate(self.requests):
            region = request.region
            if self.by is not None and region.pk not in scope:
                try:
                    _require_finance_officer(self.by, region)
                except DomainError as refused:
                    scope[region.pk] = refused
                else:
                    scope[region.pk] = None
            found = scope.get(region.pk)
            if found is None:
                try:
                    _check_amount(request.amount_fen)
                    _check_source(request.source)
                except DomainError as refused:
                    found = refused
            if found is not None:
                self.results[i] = found
            else:
                self.by_fund[request.source, region.pk].append(i)

    def _plan(
        self, accounts: dict[FundKey, dict[str, FundAccount]], balances: dict[FundKey, int]
    ) -> None:
        """`_post`'s reference and balance checks, request by request, under the locks."""
        checked = sorted(i for ids in self.by_fund.values() for i in ids)
        references = {self.requests[i].reference.strip() for i in checked} - {""}
        known: dict[str, LedgerPosting] = {}
        if references:
            known = {
                p.reference: p
                for p in LedgerPosting.objects.filter(
                    kind=PostingKind.COMMITMENT, reference__in=sorted(references)
                )
            }
        now = timezone.now()
        for i in checked:
            request = self.requests[i]
            key = (request.source, request.region.pk)
            reference = request.reference.strip()
            existing = known.get(reference) if reference else None
            if existing is not None:
                same = _same_posting(
                    existing,
                    source=request.source,
                    region=request.region,
                    amount_fen=request.amount_fen,
                    application=request.application,
                )
                self.results[i] = existing if same else ReferenceReused(field="reference")
                continue
            balance = balances[key]
            if balance < request.amount_fen:
                debit = accounts[key].get(K.AVAILABLE) or FundAccount(
                    source=request.source, region=request.region, kind=K.AVAILABLE
                )
                self.results[i] = InsufficientFunds(
                    account_label=str(debit), balance_fen=balance, amount_fen=request.amount_fen
                )
                continue
            app_type, app_id = request.application or ("", "")
            posting = LedgerPosting(
                kind=PostingKind.COMMITMENT,
                source=request.source,
                region=request.region,
                amount_fen=request.amount_fen,
                reference=reference,
                application_type=app_type,
                application_id=app_id,
                memo=request.memo.strip()[:500],
                created_at=now,
                created_by=self.by,
            )
            balances[key] = balance - request.amount_fen
            self.planned[key].append((i, posting, balance))
            self.results[i] = posting
            if reference:
                known[reference] = posting  # a later request with it: a replay, or refused

    def _one_by_one(self, indexes: list[int]) -> None:
        for i in indexes:
            request = self.requests[i]
            try:
                self.results[i] = commit_funds(
                    source=request.source,
                    region=request.region,
                    amount_fen=request.amount_fen,
                    application=request.application,
                    by=self.by,
                    reference=request.reference,
                    memo=request.memo,
                )
            except DomainError as error:
                self.results[i] = error

    def _event(self, i: int, posting: LedgerPosting, before: int) -> AuditEvent:
        """The event `_post` records for this commitment."""
        request = self.requests[i]
        return audit.prepare(
            "subsidies.ledger." + PostingKind.COMMITMENT,
            actor=self.by,
            obj=posting,
            region_code=request.region.code,
            data=_posting_data(
                posting,
                take_from=K.AVAILABLE,
                put_into=K.COMMITTED,
                balance_before=before,
                application=request.application,
                memo=request.memo,
            ),
        )


def _lock_funds(regions: dict[FundKey, Region]) -> dict[FundKey, dict[str, FundAccount]]:
    """The available and committed accounts of each fund, locked in pk order in one query
    (SQLite ignores the lock: its IMMEDIATE transaction holds the database write lock). A
    fund never posted to may have none yet: `open_fund` opens all four together."""
    wanted = Q()
    for source, region_pk in regions:
        wanted |= Q(source=source, region_id=region_pk)
    accounts: dict[FundKey, dict[str, FundAccount]] = {key: {} for key in regions}
    locked = (
        FundAccount.objects.select_for_update()
        .filter(wanted, kind__in=(K.AVAILABLE, K.COMMITTED))
        .order_by("pk")
    )
    for account in locked:
        key = (account.source, account.region_id)
        account.region = regions[key]  # for str(account), without a query per fund
        accounts[key][account.kind] = account
    return accounts


def _available_balances(
    accounts: dict[FundKey, dict[str, FundAccount]], regions: dict[FundKey, Region]
) -> dict[FundKey, int]:
    """`account_balance` of each fund's available account (0 for a fund not opened yet),
    in one query."""
    available = {key: a[K.AVAILABLE].pk for key, a in accounts.items() if K.AVAILABLE in a}
    totals = dict(
        LedgerEntry.objects.filter(account_id__in=sorted(available.values()))
        .values("account_id")
        .annotate(total=Sum("amount_fen"))
        .order_by()
        .values_list("account_id", "total")
    )
    return {key: int(totals.get(available[key]) or 0) if key in available else 0 for key in regions}


def _insert_postings(
    key: FundKey,
    rows: list[tuple[int, LedgerPosting, int]],
    accounts: dict[str, FundAccount],
    region: Region,
) -> bool:
    """Insert one fund's planned postings and their entries in a savepoint; False (and
    nothing written) when a posting's reference is taken meanwhile."""
    try:
        with transaction.atomic():
            if K.AVAILABLE not in accounts or K.COMMITTED not in accounts:
                accounts = open_fund(key[0], region)  # as `_post` would (a damaged fund)
            postings = LedgerPosting.objects.bulk_create([posting for _i, posting, _b in rows])
            LedgerEntry.objects.bulk_create(
                [
                    entry
                    for posting in postings
                    for entry in (
                        LedgerEntry(
                            posting=posting,
                            account=accounts[K.AVAILABLE],
                            amount_fen=-posting.amount_fen,
                        ),
                        LedgerEntry(
                            posting=posting,
                            account=accounts[K.COMMITTED],
                            amount_fen=posting.amount_fen,
                        ),
                    )
                ]
            )
    except IntegrityError:
        return False
    return True


@transaction.atomic
def pay_commitment(
    *,
    source: str,
    region: Region,
    amount_fen: int,
    application: ApplicationRef,
    reference: str,
    by: User | None,
    memo: str = "",
) -> LedgerPosting:
    """Record a payment the bank confirmed (committed → paid). `reference` is the bank
    transaction: it is never used for two payments, and a replay of the same payment returns
    the posting already made. The application must have at least `amount_fen` committed.
    Raises InsufficientFunds, ReferenceReused, NotAllowed, NotInScope, InvalidAmount,
    InvalidInput (no reference)."""
    _require_finance_officer(by, region)
    if not reference.strip():
        raise InvalidInput(
            _("A payment needs the bank's transaction reference."), field="reference"
        )
    return _post(
        PostingKind.PAYMENT,
        source=source,
        region=region,
        amount_fen=amount_fen,
        by=by,
        take_from=K.COMMITTED,
        put_into=K.PAID,
        reference=reference,
        application=application,
        memo=memo,
    )


@transaction.atomic
def release_commitment(
    *,
    source: str,
    region: Region,
    amount_fen: int,
    application: ApplicationRef,
    by: User | None,
    reference: str = "",
    memo: str = "",
) -> LedgerPosting:
    """Give committed money back to available (a rejected or withdrawn application).
    Raises InsufficientFunds when the application has less committed, and NotAllowed,
    NotInScope, InvalidAmount, ReferenceReused."""
    _require_finance_officer(by, region)
    return _post(
        PostingKind.RELEASE,
        source=source,
        region=region,
        amount_fen=amount_fen,
        by=by,
        take_from=K.COMMITTED,
        put_into=K.AVAILABLE,
        reference=reference,
        application=application,
        memo=memo,
    )


@transaction.atomic
def reverse_posting(posting: LedgerPosting, *, by: User | None, memo: str) -> LedgerPosting:
    """Undo a posting with a mirrored `reversal` posting (corrections are never edits).
    A posting is reversed at most once — asking again returns the first reversal — and a
    reversal is not itself reversed. Refused with InsufficientFunds when the money has moved
    on (e.g. a commitment already paid). Raises NotAllowed, NotInScope, InvalidInput."""
    region = posting.region
    _require_finance_officer(by, region)
    if posting.kind == PostingKind.REVERSAL:
        raise InvalidInput(_("A reversal cannot be reversed; post the movement again instead."))
    if not memo.strip():
        raise InvalidInput(_("Say why the posting is reversed."), field="memo")
    entries = list(posting.entries.select_related("account"))
    taken = next(e.account for e in entries if e.amount_fen < 0)
    put = next(e.account for e in entries if e.amount_fen > 0)
    existing = LedgerPosting.objects.filter(reverses=posting).first()
    if existing is not None:
        return existing
    application = (
        (posting.application_type, posting.application_id) if posting.application_type else None
    )
    try:
        with transaction.atomic():
            return _post(
                PostingKind.REVERSAL,
                source=posting.source,
                region=region,
                amount_fen=posting.amount_fen,
                by=by,
                take_from=put.kind,
                put_into=taken.kind,
                application=application,
                memo=memo,
                reverses=posting,
            )
    except ReferenceReused:
        # Another reversal of the same posting won the race (reverses is one-to-one).
        return LedgerPosting.objects.get(reverses=posting)
