"""manage.py issue_platform_key CREDIT_CODE [--label L]: issue an API credential for a
platform and print the key id and the secret, once."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from zhipei.core.errors import DomainError
from zhipei.orgs import queries, services
from zhipei.orgs.models import Platform


class Command(BaseCommand):
    help = (
        "Issue an API credential to the platform with this unified social credit code and "
        "print its key id and secret. The secret is shown only this once."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("uscc", metavar="CREDIT_CODE")
        parser.add_argument("--label", default="", help="a note to tell credentials apart")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = queries.find_by_uscc(options["uscc"])
        if organisation is None:
            raise CommandError(f"No organisation has the credit code {options['uscc']!r}.")
        try:
            platform = organisation.platform
        except Platform.DoesNotExist:
            raise CommandError(
                f"{organisation.name} ({organisation.uscc}) is not registered as a platform."
            ) from None
        try:
            credential, secret = services.issue_credential(
                platform, by=None, label=options["label"]
            )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        self.stdout.write(f"Platform:  {organisation.name} ({organisation.uscc})")
        self.stdout.write(f"Key id:    {credential.key_id}")
        self.stdout.write(f"Secret:    {secret}")
        self.stdout.write("Store the secret now: it cannot be shown again.")
