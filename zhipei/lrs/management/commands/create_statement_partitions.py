"""manage.py create_statement_partitions [--months N] [--check]: create the monthly
partitions of the statement store ahead of time (the same work as the scheduled job
lrs.create_statement_partitions), or only report on them."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from zhipei.lrs import partitions


class Command(BaseCommand):
    help = (
        "Create the PostgreSQL partitions of the xAPI statement store for this month and the "
        "next months (3 by default) that do not exist yet. With --check, create nothing and "
        "exit with an error when fewer than one month ahead is covered or rows fell into the "
        "default partition. Does nothing on SQLite."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--months",
            type=int,
            default=partitions.MONTHS_AHEAD,
            help="how many months after the current one to cover (default 3)",
        )
        parser.add_argument(
            "--check", action="store_true", help="only report; exit 1 when unhealthy"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        months = options["months"]
        if months < 0 or months > 120:
            raise CommandError("--months must be between 0 and 120.")
        if not partitions.is_partitioned():
            self.stdout.write(
                "The statement store is not partitioned here (SQLite): nothing to do."
            )
            return
        if not options["check"]:
            created = partitions.ensure_partitions(months_ahead=months)
            for name in created:
                self.stdout.write(f"created {name}")
            if not created:
                self.stdout.write("All partitions exist already.")
        status = partitions.partition_status()
        assert status is not None
        last = status.last_month.strftime("%Y-%m") if status.last_month else "none"
        self.stdout.write(
            f"last month partition: {last}; whole months ahead: {max(status.months_ahead, 0)}; "
            f"rows in {partitions.DEFAULT_PARTITION}: {'yes' if status.rows_in_default else 'no'}"
        )
        if options["check"] and not status.healthy:
            raise CommandError(
                "Statement partitions need attention: run create_statement_partitions."
            )
