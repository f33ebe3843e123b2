"""Every write to xAPI documents (Communication §2.2-2.7 and the concurrency rules of §3.1).

A document is named by a `DocumentKey` (resource kind, activity, agent, registration, id) and
always belongs to one platform: nothing here reads or writes another platform's documents.

Concurrency (§3.1): preconditions are checked with the document's row locked, inside the same
transaction as the write, so two clients holding the same ETag cannot both win.
- If-Match (a list of ETags, or "*"): the document must exist and, unless "*", its ETag must be
  one of those listed; otherwise 412 and nothing changes (§3.1.s4.b5, b7, b9-b12).
- If-None-Match "*" (or a list of ETags): the document must not exist (or its ETag must not be
  listed); otherwise 412 and nothing changes (§3.1.s4.b6, b8).
- A PUT to an existing activity or agent profile document without either header is refused
  with 409 and a message telling the client to fetch the document and send If-Match with its
  ETag (§3.1.s4.b13-b15). POST and DELETE without headers are allowed, as the spec only asks
  clients to send them (§3.1.s3.b2-b3); the State resource never needs them (§3.1.s3).

Documents are a platform's scratch data, written at statement rates; they are not personal
data of record and are not copied into the audit log (the statements that matter are).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhipei.core.errors import Conflict, DomainError, InvalidInput
from zhipei.lrs.formats import (
    BeyondDouble,
    compact_json,
    double_or_refuse,
    refuse_json_constant,
)
from zhipei.lrs_documents.models import Document

JSON_CONTENT_TYPE = "application/json"
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class PreconditionFailed(DomainError):
    """An If-Match or If-None-Match precondition does not hold (HTTP 412)."""

    code = "precondition_failed"
    status = 412
    default_message = _("The document changed, or exists, contrary to the request's precondition.")


@dataclass(frozen=True)
class DocumentKey:
    """Where a document lives: `kind`, the context (`activity_id` and/or `agent_ifi` — the
    agent's inverse functional identifier as zhipei.lrs.agents renders it), the State
    resource's optional `registration`, and the `document_id` (stateId or profileId)."""

    kind: str
    document_id: str
    activity_id: str = ""
    agent_ifi: str = ""
    registration: UUID | None = None

    @property
    def context_sha256(self) -> str:
        return context_sha256(self.kind, activity_id=self.activity_id, agent_ifi=self.agent_ifi)

    @property
    def key_sha256(self) -> str:
        parts = [self.context_sha256, str(self.registration or ""), self.document_id]
        return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def context_sha256(kind: str, *, activity_id: str = "", agent_ifi: str = "") -> str:
    """The digest shared by every document of one context (listed and deleted together)."""
    parts = [kind, activity_id, agent_ifi]
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Preconditions:
    """The request's If-Match / If-None-Match headers, parsed: None when absent, else the set
    of ETags (lower case, without quotes or W/), where "*" stands for any."""

    if_match: frozenset[str] | None = None
    if_none_match: frozenset[str] | None = None

    @property
    def any(self) -> bool:
        return self.if_match is not None or self.if_none_match is not None


def parse_etag_list(header: str | None) -> frozenset[str] | None:
    """RFC 7232 entity-tag list (`"a", W/"b"` or `*`). ETags are SHA-1 hex digests here, so
    comparison ignores case: a client that upper-cases one still matches."""
    if header is None:
        return None
    tags: set[str] = set()
    for part in header.split(","):
        tag = part.strip()
        if not tag:
            continue
        if tag.startswith(("W/", "w/")):
            tag = tag[2:]
        tags.add(tag.strip('"').lower())
    return frozenset(tags)


def etag_of(content: bytes) -> str:
    """SHA-1 hex digest of the content (Communication §3.1.s4.b2), unquoted, lower case."""
    return hashlib.sha1(content).hexdigest()  # noqa: S324 - the spec names SHA-1 for ETags


def _check(existing: Document | None, pre: Preconditions) -> None:
    if pre.if_match is not None:
        if existing is None:
            raise PreconditionFailed(
                _("If-Match was sent but there is no such document; fetch it or omit If-Match.")
            )
        if "*" not in pre.if_match and existing.etag not in pre.if_match:
            raise PreconditionFailed(
                _(
                    "The document has changed since the ETag in If-Match was issued; "
                    "fetch it again and retry with its current ETag."
                )
            )
    none_match = pre.if_none_match or frozenset()
    if existing is not None and ("*" in none_match or existing.etag in none_match):
        raise PreconditionFailed(
            _("The document already exists, and If-None-Match asked that it does not.")
        )


def _is_profile(kind: str) -> bool:
    return kind in {Document.Kind.ACTIVITY_PROFILE, Document.Kind.AGENT_PROFILE}


def _locked(platform_id: int, key: DocumentKey) -> Document | None:
    return (
        Document.objects.select_for_update()
        .filter(platform_id=platform_id, key_sha256=key.key_sha256)
        .first()
    )


_NOT_JSON = object()


def _parsed(content: bytes, *, finite: bool = False) -> Any:
    """The JSON value of a document's bytes, or _NOT_JSON (NaN and Infinity, which Python's
    parser reads, are not JSON). Raises InvalidInput for valid JSON nested deeper than
    Python's parser goes ("[[[[…"); with `finite`, BeyondDouble for a number no double holds."""
    try:
        return json.loads(
            content.decode("utf-8"),
            parse_constant=refuse_json_constant,
            parse_float=double_or_refuse if finite else float,
        )
    except RecursionError:
        raise InvalidInput(_("The JSON is nested too deeply."), field="content") from None
    except BeyondDouble:
        raise
    except (UnicodeDecodeError, ValueError):
        return _NOT_JSON


def _json_object(content: bytes, *, which: Promise) -> dict[str, Any]:
    """A document to merge. The merge writes the documents anew, so a number is kept as its
    value: one beyond a float's range would come out as null, and is refused instead."""
    try:
        value = _parsed(content, finite=True)
    except BeyondDouble as exc:
        raise InvalidInput(
            _(
                "The %(which)s document holds the number %(number)s, beyond the range a merge "
                "can keep (about ±1.8e308); use PUT to store such a document as it is."
            )
            % {"which": which, "number": exc.text},
            field="content",
        ) from None
    if not isinstance(value, dict):
        raise InvalidInput(
            _("The %(which)s document is not a JSON object, so the two cannot be merged.")
            % {"which": which},
            field="content",
        )
    return value


def check_json(content: bytes, content_type: str) -> None:
    """A document sent as application/json must be JSON (Communication §3.2.s3.b6)."""
    if content_type != JSON_CONTENT_TYPE:
        return
    if _parsed(content) is _NOT_JSON:
        raise InvalidInput(
            _("The Content-Type is application/json but the content is not valid JSON."),
            field="content",
        )


def _write(
    platform_id: int,
    key: DocumentKey,
    existing: Document | None,
    *,
    content: bytes,
    content_type: str,
) -> Document:
    now = timezone.now()
    etag = etag_of(content)
    if existing is not None:
        existing.content, existing.content_type, existing.etag = content, content_type, etag
        existing.updated_at = now
        existing.save(update_fields=["content", "content_type", "etag", "updated_at"])
        return existing
    with transaction.atomic():
        return Document.objects.create(
            platform_id=platform_id,
            kind=key.kind,
            activity_id=key.activity_id,
            agent_ifi=key.agent_ifi,
            registration=key.registration,
            document_id=key.document_id,
            context_sha256=key.context_sha256,
            key_sha256=key.key_sha256,
            content=content,
            content_type=content_type,
            etag=etag,
            updated_at=now,
        )


def _with_retry(operation: Any) -> Document:
    """Run a locked read-check-write; if a concurrent request created the same document
    between our read and our insert, run it once more (now it sees and locks that row)."""
    try:
        with transaction.atomic():
            result: Document = operation()
            return result
    except IntegrityError:
        with transaction.atomic():
            result = operation()
            return result


def put_document(
    platform_id: int,
    key: DocumentKey,
    *,
    content: bytes,
    content_type: str,
    preconditions: Preconditions,
) -> Document:
    """Store (create or replace) a document (PUT, Communication §2.3.s3, §2.6.s3, §2.7.s3).

    Guarantees: the preconditions hold at the moment of writing (row lock); an existing profile
    document is never replaced without If-Match or If-None-Match (409); JSON content types
    carry JSON; the stored ETag is the SHA-1 of exactly the bytes stored.

    Raises PreconditionFailed (412), Conflict (409), InvalidInput (bad JSON).
    """
    content_type = content_type or DEFAULT_CONTENT_TYPE
    check_json(content, content_type)

    def operation() -> Document:
        existing = _locked(platform_id, key)
        _check(existing, preconditions)
        if existing is not None and _is_profile(key.kind) and not preconditions.any:
            raise Conflict(
                _(
                    "This profile document already exists. Check its current state with GET "
                    "and send the If-Match header with its ETag to replace it "
                    "(or If-None-Match: * to create it only if it does not exist)."
                ),
                field="If-Match",
            )
        return _write(platform_id, key, existing, content=content, content_type=content_type)

    return _with_retry(operation)


def post_document(
    platform_id: int,
    key: DocumentKey,
    *,
    content: bytes,
    content_type: str,
    preconditions: Preconditions,
) -> Document:
    """Create a document, or merge a JSON object into an existing JSON object document (POST,
    Communication §2.2.s7-s8): each top-level property of the posted object replaces the
    existing one; properties not posted stay.

    Raises InvalidInput when the posted or the existing document is not application/json or
    not a JSON object (400, nothing changed), PreconditionFailed (412).
    """
    if (content_type or "") != JSON_CONTENT_TYPE:
        raise InvalidInput(
            _(
                "POST merges JSON documents: send the document as application/json "
                "(use PUT to store other content types)."
            ),
            field="Content-Type",
        )
    posted = _json_object(content, which=pgettext_lazy("document", "posted"))

    def operation() -> Document:
        existing = _locked(platform_id, key)
        _check(existing, preconditions)
        if existing is None:
            return _write(platform_id, key, None, content=content, content_type=JSON_CONTENT_TYPE)
        if existing.content_type != JSON_CONTENT_TYPE:
            raise InvalidInput(
                _(
                    "The stored document is not application/json, so it cannot be merged; "
                    "use PUT to replace it."
                ),
                field="content",
            )
        merged = _json_object(bytes(existing.content), which=pgettext_lazy("document", "stored"))
        merged.update(posted)
        try:
            body = compact_json(merged)
        except UnicodeEncodeError:  # "\ud800" parses, but is no character to write
            raise InvalidInput(
                _(
                    "The merged document holds a string that is not valid Unicode (a lone surrogate)."
                ),
                field="content",
            ) from None
        return _write(platform_id, key, existing, content=body, content_type=JSON_CONTENT_TYPE)

    return _with_retry(operation)


@transaction.atomic
def delete_document(platform_id: int, key: DocumentKey, *, preconditions: Preconditions) -> bool:
    """Delete one document (DELETE with stateId / profileId). Returns whether one existed.

    Raises PreconditionFailed (412) when If-Match does not match (or there is no document).
    """
    existing = _locked(platform_id, key)
    _check(existing, preconditions)
    if existing is None:
        return False
    existing.delete()
    return True


@transaction.atomic
def delete_states(
    platform_id: int, *, activity_id: str, agent_ifi: str, registration: UUID | None
) -> int:
    """Delete every state document of an Activity and Agent (and registration, when given;
    without it, of every registration) — Communication §2.3.s5. Returns how many went."""
    documents = Document.objects.filter(
        platform_id=platform_id,
        context_sha256=context_sha256(
            Document.Kind.STATE, activity_id=activity_id, agent_ifi=agent_ifi
        ),
    )
    if registration is not None:
        documents = documents.filter(registration=registration)
    deleted, _per_model = documents.delete()
    return deleted
