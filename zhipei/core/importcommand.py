"""The shared shape of the thin import commands (import_regions, import_occupations,
import_trades): parse PATH and --skip-bad-rows, call the importer, print one summary line and
every bad row; bad input becomes a CommandError (non-zero exit), never a traceback."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhipei.core.csvimport import ImportRejected, ImportResult
from zhipei.core.errors import DomainError

Importer = Callable[..., ImportResult]


class ImportCommand(BaseCommand):
    importer: Importer

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="CSV file (UTF-8, header row first)")
        parser.add_argument(
            "--skip-bad-rows",
            action="store_true",
            help="import the good rows even when some rows are bad (they are still listed)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        try:
            result = type(self).importer(options["path"], skip_bad_rows=options["skip_bad_rows"])
        except ImportRejected as exc:
            raise CommandError(exc.report()) from None
        except DomainError as exc:  # unreadable file, or a concurrent import (Conflict)
            raise CommandError(str(exc.message)) from None
        for error in result.errors:
            self.stderr.write(str(error))
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"{result.summary()} ({elapsed:.1f} s)"))
