from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    """One security- or workflow-relevant act: who did what to which object, when.

    Append-only. Writers insert events unsealed (`seq` null); a single sealer
    (`zhipei.audit.sealer.seal_pending`) later gives each a place in one chain, `seq` 1, 2, 3, …,
    and `chain_hash = HMAC(key, prev_hash || canonical_json(event))`. Writers never wait on the
    chain head and concurrent transactions cannot fork the chain. The head is anchored outside
    the database (settings.AUDIT_ANCHOR_PATH); `manage.py audit_verify` finds edits, deletions
    (the newest ones too) and a chain recomputed without the key. No update or delete path
    exists in code; the admin is read-only.

    `audit` imports no other app: the actor and the object are stored as references
    (ids and labels), not foreign keys.
    """

    at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=100, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_label = models.CharField(max_length=150, blank=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    region_code = models.CharField(max_length=6, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    chain_hash = models.CharField(max_length=64, blank=True)
    sealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(
                fields=["seq"], name="audit_unsealed_idx", condition=models.Q(seq__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"
