"""manage.py demo_accounts: the table of demo logins with their passwords and roles."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from zhipei.portal.demo import accounts_table, platform_keys


def _width(text: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    help = "Print the demo accounts (username, password, roles with region or organisation)."

    def handle(self, *args: Any, **options: Any) -> None:
        rows = [("username", "password", "role(s) @ region / organisation", "")]
        rows += accounts_table()
        widths = [max(_width(row[i]) for row in rows) for i in range(3)]
        self.stdout.write("Demo accounts (synthetic data; demo passwords are public):")
        for number, row in enumerate(rows):
            cells = [_pad(row[i], widths[i]) for i in range(3)]
            status = "" if row[3] == "ok" else row[3]
            self.stdout.write(("  ".join([*cells, status])).rstrip())
            if number == 0:
                self.stdout.write("  ".join("-" * w for w in widths))
        keys = platform_keys()
        if keys:
            self.stdout.write("")
            self.stdout.write("Platform API key ids (secrets were printed once by load_demo):")
            for name, key_id in keys:
                self.stdout.write(f"  {key_id}  {name}")
