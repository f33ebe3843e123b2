"""Re-encrypt personal data still sealed under keys other than PII_ACTIVE_KEY.

Usage: put the new key in PII_KEYS (keeping the old ones), set PII_ACTIVE_KEY to it, restart
the app, run ``manage.py rotate_keys``; when it reports nothing remaining, remove the old key.

Every field declared with `zhipei.core.crypto.register_encrypted_field` is visited in primary
key order. Each batch commits on its own with one audit event, so an interrupted run loses at
most one batch of work and a second run carries on where the first stopped (it selects rows
whose key id is not the active one). A row is rewritten by compare-and-swap on its old key id
and ciphertext, so a value written concurrently by the application is never overwritten.

It lives in `people` rather than `core` because it records audit events (core imports no app);
it still covers every app's registered fields, people's ID numbers being the main ones.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction

from zhipei.audit.services import record
from zhipei.core.crypto import (
    CryptoError,
    EncryptedField,
    associated_data_for,
    decrypt,
    encrypt,
    keyring,
    registered_fields,
)


@dataclass
class _Tally:
    rotated: int = 0
    skipped: int = 0
    batches: int = 0
    by_key: Counter[str] = field(default_factory=Counter)


def _stale_rows(model: type[models.Model], spec: EncryptedField, active: str) -> Any:
    # An empty key id means nothing is stored there (e.g. an application without bank details).
    return (
        model._default_manager.exclude(**{spec.key_id_field: active})
        .exclude(**{spec.key_id_field: ""})
        .order_by("pk")
    )


def _rotate_batch(
    model: type[models.Model], spec: EncryptedField, rows: list[Any], active: str, tally: _Tally
) -> None:
    rotated = 0
    from_keys: set[str] = set()
    for row in rows:
        old_key_id = getattr(row, spec.key_id_field)
        old_blob = bytes(getattr(row, spec.ciphertext_field))
        ad = associated_data_for(row, spec)
        try:
            plaintext = decrypt(old_key_id, old_blob, associated_data=ad)
        except CryptoError as exc:
            raise CommandError(f"{spec.model_label} pk={row.pk}: {exc}") from None
        new_key_id, new_blob = encrypt(plaintext, associated_data=ad)
        changed = model._default_manager.filter(
            pk=row.pk, **{spec.key_id_field: old_key_id, spec.ciphertext_field: old_blob}
        ).update(**{spec.key_id_field: new_key_id, spec.ciphertext_field: new_blob})
        if changed == 1:
            rotated += 1
            from_keys.add(old_key_id)
            tally.by_key[old_key_id] += 1
        else:
            # Rewritten (or deleted) by the application since this batch was read.
            tally.skipped += 1
    if rotated:
        record(
            "core.keys.rotated",
            object_type=spec.model_label.lower(),
            object_id=f"{rows[0].pk}-{rows[-1].pk}",
            data={
                "field": spec.ciphertext_field,
                "rows": rotated,
                "from_key_ids": sorted(from_keys),
                "to_key_id": active,
            },
        )
    tally.rotated += rotated
    tally.batches += 1


class Command(BaseCommand):
    help = (
        "Re-encrypt every registered encrypted field whose key id is not PII_ACTIVE_KEY, in "
        "batches; safe to interrupt and run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would be re-encrypted; change nothing.",
        )

    def handle(self, *args: Any, batch_size: int, dry_run: bool, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            ring = keyring()
        except CryptoError as exc:
            raise CommandError(str(exc)) from None
        active = ring.active_key_id
        specs = registered_fields()
        if dry_run:
            self._dry_run(specs, active, set(ring.keys))
            return
        tally = _Tally()
        for spec in specs:
            model = apps.get_model(spec.model_label)
            only = {"pk", spec.ciphertext_field, spec.key_id_field}
            if spec.associated_data_field:
                only.add(spec.associated_data_field)
            last_pk: Any = None
            while True:
                query = _stale_rows(model, spec, active).only(*only)
                if last_pk is not None:
                    query = query.filter(pk__gt=last_pk)
                rows = list(query[:batch_size])
                if not rows:
                    break
                with transaction.atomic():
                    _rotate_batch(model, spec, rows, active, tally)
                last_pk = rows[-1].pk
        remaining = sum(
            _stale_rows(apps.get_model(spec.model_label), spec, active).count() for spec in specs
        )
        sources = ", ".join(f"{kid}: {n}" for kid, n in sorted(tally.by_key.items())) or "none"
        self.stdout.write(
            f"rotate_keys: re-encrypted {tally.rotated} value(s) in {len(specs)} field(s) to "
            f"key {active!r} in {tally.batches} batch(es) (from {sources}); "
            f"{tally.skipped} skipped as changed concurrently; {remaining} remaining under "
            "other keys."
        )

    def _dry_run(self, specs: tuple[EncryptedField, ...], active: str, known: set[str]) -> None:
        counts: Counter[str] = Counter()
        for spec in specs:
            model = apps.get_model(spec.model_label)
            rows = (
                _stale_rows(model, spec, active)
                .order_by()
                .values(spec.key_id_field)
                .annotate(n=models.Count("pk"))
            )
            for row in rows:
                counts[row[spec.key_id_field]] += row["n"]
        missing = sorted(kid for kid in counts if kid not in known)
        sources = ", ".join(f"{kid}: {n}" for kid, n in sorted(counts.items())) or "none"
        line = (
            f"rotate_keys (dry run): {sum(counts.values())} value(s) in {len(specs)} field(s) "
            f"would be re-encrypted to key {active!r} (from {sources})."
        )
        if missing:
            line += f" Key ids not in PII_KEYS, which would stop the run: {', '.join(missing)}."
        self.stdout.write(line)
