"""The single sealer of the audit chain (ARCHITECTURE invariant 7, docs/decisions/0001).

Writers insert events with `seq` null and never touch the chain. `seal_pending` is the only code
that assigns `seq` and `chain_hash`. It takes one lock so that two sealers never read the same
head: on PostgreSQL a transaction-scoped advisory lock, on SQLite the write lock that the
connection's `transaction_mode: "IMMEDIATE"` takes at BEGIN. After its transaction commits it
anchors the new head outside the database (`settings.AUDIT_ANCHOR_PATH` and a log line).

Link i of the chain:
    chain_hash_i = HMAC-SHA256(key, chain_hash_{i-1} || canonical_json(content_i))
with chain_hash_0 = "" (hex strings, ASCII), and content_i the event's content fields
(`CONTENT_FIELDS`, `at` in UTC ISO 8601 with microseconds, `seq` included). Canonical JSON has
sorted keys, no spaces, ensure_ascii=False, UTF-8.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from zhipei.audit.anchor import write_anchor
from zhipei.audit.models import AuditEvent

logger = logging.getLogger("zhipei.audit")

# The fields covered by the hash, in the order they are read from the database.
CONTENT_FIELDS = (
    "id",
    "at",
    "action",
    "actor_id",
    "actor_label",
    "object_type",
    "object_id",
    "region_code",
    "ip",
    "data",
    "seq",
)
GENESIS_HASH = ""
# pg_advisory_xact_lock key of the sealer: any fixed 64-bit number no other code uses.
SEALER_LOCK_KEY = 0x7A68_6970_6569_0001  # "zhipei" + 1
SEAL_BATCH = 1000
MIN_KEY_BYTES = 32


def audit_key() -> bytes:
    """The HMAC key: settings.AUDIT_HMAC_KEY, standard base64 of at least 32 bytes."""
    raw = settings.AUDIT_HMAC_KEY
    if not raw:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY is not set; the audit chain cannot be sealed.")
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY is not valid base64.") from exc
    if len(key) < MIN_KEY_BYTES:
        raise ImproperlyConfigured(f"AUDIT_HMAC_KEY must decode to at least {MIN_KEY_BYTES} bytes.")
    return key


def format_at(at: datetime) -> str:
    """`at` as it enters the hash: UTC, microseconds always present, trailing Z."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_content(row: dict[str, Any]) -> bytes:
    """Canonical JSON of an event's content fields; `row` maps CONTENT_FIELDS to DB values."""
    content = {name: row[name] for name in CONTENT_FIELDS}
    content["at"] = format_at(row["at"])
    content["ip"] = str(row["ip"]) if row["ip"] is not None else None
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def link_hash(key: bytes, prev_hash: str, row: dict[str, Any]) -> str:
    """The chain hash of one event given its predecessor's hash."""
    message = prev_hash.encode("ascii") + canonical_content(row)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _take_sealer_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEALER_LOCK_KEY])
    # SQLite: the IMMEDIATE transaction that surrounds this call already holds the database's
    # single write lock, so no other sealer (or writer) runs until it commits.


def _seal_batch(key: bytes, size: int) -> int:
    """Seal up to `size` committed unsealed events in one transaction; return how many."""
    with transaction.atomic():
        _take_sealer_lock()
        # Read the head only after the lock: the previous sealer has committed by now.
        head = (
            AuditEvent.objects.filter(seq__isnull=False)
            .order_by("-seq")
            .values_list("seq", "chain_hash")
            .first()
        )
        seq, prev_hash = (head[0] or 0, head[1]) if head is not None else (0, GENESIS_HASH)
        rows: Iterable[dict[str, Any]] = (
            AuditEvent.objects.filter(seq__isnull=True)
            .order_by("id")
            .values(*[f for f in CONTENT_FIELDS if f != "seq"])[:size]
        )
        now = timezone.now()
        sealed: list[AuditEvent] = []
        for row in rows:
            seq += 1
            prev_hash = link_hash(key, prev_hash, {**row, "seq": seq})
            sealed.append(AuditEvent(id=row["id"], seq=seq, chain_hash=prev_hash, sealed_at=now))
        if not sealed:
            return 0
        AuditEvent.objects.bulk_update(sealed, ["seq", "chain_hash", "sealed_at"], batch_size=500)
        head_seq, head_hash = seq, prev_hash
        # The anchor must describe committed data only: it is written after the commit, and
        # if this runs inside an outer transaction, after that one commits.
        transaction.on_commit(lambda: write_anchor(head_seq, head_hash))
        return len(sealed)


def seal_pending(*, limit: int | None = None) -> int:
    """Give every committed unsealed event (at most `limit`) its place in the chain.

    Guarantees: events are sealed in id order within each pass, seq numbers continue the chain
    without gaps, two sealers running at once never fork the chain (they serialise on the
    sealer lock), and each new head is anchored outside the database after its commit.
    Returns the number of events sealed. Raises ImproperlyConfigured without a usable key.
    """
    key = audit_key()
    total = 0
    while limit is None or total < limit:
        size = SEAL_BATCH if limit is None else min(SEAL_BATCH, limit - total)
        count = _seal_batch(key, size)
        total += count
        if count < size:
            break
    return total
