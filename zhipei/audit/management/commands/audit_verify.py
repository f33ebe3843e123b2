"""`manage.py audit_verify`: seal what is pending, then recompute and check the whole chain."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from zhipei.audit.sealer import seal_pending
from zhipei.audit.verify import DEFAULT_UNSEALED_WARN_AFTER, verify_chain


class Command(BaseCommand):
    help = (
        "Seal pending audit events, then verify the audit chain with AUDIT_HMAC_KEY and the "
        "anchor file AUDIT_ANCHOR_PATH. Exits non-zero naming the first bad event."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--no-seal",
            action="store_true",
            help="Verify only; do not seal pending events first.",
        )
        parser.add_argument(
            "--unsealed-warn-after",
            type=int,
            default=int(DEFAULT_UNSEALED_WARN_AFTER.total_seconds()),
            metavar="SECONDS",
            help="Warn about unsealed events older than this (default: %(default)s).",
        )

    def handle(self, *args: Any, no_seal: bool, unsealed_warn_after: int, **options: Any) -> None:
        if unsealed_warn_after < 0:
            raise CommandError("--unsealed-warn-after must be zero or more seconds.")
        if not no_seal:
            sealed = seal_pending()
            if sealed:
                self.stdout.write(f"Sealed {sealed} pending audit events.")
        result = verify_chain(unsealed_warn_after=timedelta(seconds=unsealed_warn_after))
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning}"))
        if result.problem is not None:
            raise CommandError(
                f"Audit chain BROKEN after {result.checked} good events: {result.problem.message}"
            )
        self.stdout.write(self.style.SUCCESS(result.summary()))
