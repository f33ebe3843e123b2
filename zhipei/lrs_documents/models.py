"""xAPI documents (xAPI 1.0.3 Communication §2.2-2.7): state, activity profile and agent
profile documents, each stored as bytes with its content type, scoped to the platform whose
credential wrote it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Document(models.Model):
    """One document of one platform.

    Which resource and context it belongs to is `kind` plus `activity_id` / `agent_ifi` /
    `registration`; `document_id` is the stateId or profileId. IRIs and identifiers can be long,
    so uniqueness and lookups go through SHA-256 digests: `context_sha256` over (kind, activity,
    agent) — the context whose ids are listed or deleted together — and `key_sha256` over the
    context, the registration and the document id. `etag` is the SHA-1 of `content` (hex,
    unquoted), as Communication §3.1.s4.b2 asks. Written only through
    zhipei.lrs_documents.services.
    """

    class Kind(models.TextChoices):
        STATE = "state", _("State")
        ACTIVITY_PROFILE = "activity_profile", _("Activity profile")
        AGENT_PROFILE = "agent_profile", _("Agent profile")

    platform = models.ForeignKey("orgs.Platform", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind)
    activity_id = models.TextField(blank=True)
    agent_ifi = models.TextField(blank=True)
    registration = models.UUIDField(null=True, blank=True)
    document_id = models.TextField()
    context_sha256 = models.CharField(max_length=64)
    key_sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    content_type = models.CharField(max_length=255)
    etag = models.CharField(max_length=40)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "key_sha256"], name="xapi_document_once")
        ]
        indexes = [
            models.Index(
                fields=["platform", "context_sha256", "updated_at"], name="xapi_document_context"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.document_id}"
