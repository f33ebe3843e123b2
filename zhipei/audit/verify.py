"""Verification of the audit chain against the key and the external anchor (`audit_verify`)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from django.utils import timezone

from zhipei.audit.anchor import Anchor, AnchorFileError, anchor_path, read_anchors
from zhipei.audit.models import AuditEvent
from zhipei.audit.sealer import CONTENT_FIELDS, GENESIS_HASH, audit_key, link_hash

DEFAULT_UNSEALED_WARN_AFTER = timedelta(minutes=5)


class ProblemKind(StrEnum):
    HASH_MISMATCH = "hash_mismatch"  # content edited, or the chain recomputed with another key
    MISSING = "missing"  # a seq is absent: an event deleted from the middle
    ANCHOR_MISMATCH = "anchor_mismatch"  # the chain differs from what was anchored at that seq
    TRUNCATED = "truncated"  # the head is behind the last anchor: newest events deleted
    NO_ANCHOR = "no_anchor"  # sealed events exist but the anchor file does not
    ANCHOR_FILE = "anchor_file"  # the anchor file is malformed


@dataclass(frozen=True)
class ChainProblem:
    kind: ProblemKind
    seq: int | None  # the first bad seq
    event_id: int | None  # the first bad event's id, when it still exists
    message: str


@dataclass
class VerifyResult:
    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    last_anchor_seq: int | None = None
    problem: ChainProblem | None = None
    unsealed: int = 0
    unsealed_stale: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        anchored = (
            f"anchored through seq {self.last_anchor_seq}"
            if self.last_anchor_seq is not None
            else "no anchor yet"
        )
        return (
            f"Audit chain OK: {self.checked} events, head seq {self.head_seq} "
            f"hash {self.head_hash[:16] or '-'}, {anchored}, {self.unsealed} unsealed."
        )


def verify_chain(*, unsealed_warn_after: timedelta = DEFAULT_UNSEALED_WARN_AFTER) -> VerifyResult:
    """Recompute the whole chain with settings.AUDIT_HMAC_KEY and compare it with the anchor.

    Stops at the first bad event (a broken link makes everything after it untrustworthy) and
    names it in `result.problem`. Raises ImproperlyConfigured without a usable key.
    """
    key = audit_key()
    result = VerifyResult()
    # Anchors first: a head anchored before this read committed before it, so the database
    # query below sees it. Read the other way round, a sealer finishing in between would look
    # like deleted events.
    try:
        anchors = read_anchors()
    except AnchorFileError as exc:
        result.problem = ChainProblem(ProblemKind.ANCHOR_FILE, None, None, str(exc))
        return result
    by_seq: dict[int, Anchor] = {a.seq: a for a in anchors or []}
    result.last_anchor_seq = anchors[-1].seq if anchors else None

    result.problem = _walk(key, by_seq, result)
    if result.problem is None:
        result.problem = _check_head(anchors, result)
    _count_unsealed(result, unsealed_warn_after)
    return result


def _walk(key: bytes, anchors: dict[int, Anchor], result: VerifyResult) -> ChainProblem | None:
    expected_seq, prev_hash = 1, GENESIS_HASH
    rows = (
        AuditEvent.objects.filter(seq__isnull=False)
        .order_by("seq")
        .values(*CONTENT_FIELDS, "chain_hash")
        .iterator(chunk_size=2000)
    )
    for row in rows:
        seq, event_id = row["seq"], row["id"]
        if seq != expected_seq:
            return ChainProblem(
                ProblemKind.MISSING,
                expected_seq,
                None,
                f"Audit event seq {expected_seq} is missing (deleted?): the chain jumps from "
                f"seq {expected_seq - 1} to seq {seq} (id {event_id}).",
            )
        computed = link_hash(key, prev_hash, row)
        if not hmac.compare_digest(computed, row["chain_hash"]):
            return ChainProblem(
                ProblemKind.HASH_MISMATCH,
                seq,
                event_id,
                f"Audit event seq {seq} (id {event_id}) fails its chain hash: its content or "
                "hash was changed, or the chain was recomputed without the key.",
            )
        anchor = anchors.get(seq)
        if anchor is not None and not hmac.compare_digest(anchor.chain_hash, computed):
            return ChainProblem(
                ProblemKind.ANCHOR_MISMATCH,
                seq,
                event_id,
                f"Audit event seq {seq} (id {event_id}) does not match the hash anchored for "
                f"it on line {anchor.line_no} of {anchor_path()}: the chain was rewritten.",
            )
        prev_hash = computed
        result.checked += 1
        result.head_seq, result.head_hash = seq, computed
        expected_seq += 1
    return None


def _check_head(anchors: list[Anchor] | None, result: VerifyResult) -> ChainProblem | None:
    if not anchors:
        if result.head_seq == 0:
            return None
        return ChainProblem(
            ProblemKind.NO_ANCHOR,
            None,
            None,
            f"The anchor file {anchor_path()} is missing or empty but {result.head_seq} events "
            "are sealed: deletion of the newest events cannot be ruled out.",
        )
    last = anchors[-1]
    if last.seq > result.head_seq:
        first_missing = result.head_seq + 1
        return ChainProblem(
            ProblemKind.TRUNCATED,
            first_missing,
            None,
            f"Audit event seq {first_missing} is missing: the chain ends at seq "
            f"{result.head_seq} but line {last.line_no} of {anchor_path()} anchors seq "
            f"{last.seq}; the newest events were deleted.",
        )
    return None


def _count_unsealed(result: VerifyResult, warn_after: timedelta) -> None:
    unsealed = AuditEvent.objects.filter(seq__isnull=True)
    result.unsealed = unsealed.count()
    result.unsealed_stale = unsealed.filter(at__lt=timezone.now() - warn_after).count()
    if result.unsealed_stale:
        result.warnings.append(
            f"{result.unsealed_stale} audit events are older than "
            f"{int(warn_after.total_seconds())} s and still unsealed: is the sealer running "
            "(manage.py run_scheduler and db_worker)?"
        )
