"""Real-name verification (实名核验): a pluggable provider named by settings.IDENTITY_PROVIDER.

A provider is a class with a no-argument constructor and `verify(name, id_number)`. An
adapter for an authority (a public-security identity service, a provincial data exchange)
lives in its own module, is the one place a network call happens, and is mocked in tests.
Its contract:

- status `verified` when the authority confirms that name and number belong together;
- `failed` when the authority says they do not (the person is not created);
- `unverified` when the authority could not be asked (timeout, outage): the person is created
  and marked unverified so an officer can retry later;
- never raise for a mismatch, and never put the ID number in `detail` or in a log line.

The default `ChecksumOnlyProvider` asks nobody: it checks format and check character only,
and says so by answering `format_only`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from zhipei.people.idnumber import InvalidIdNumber, parse_id_number
from zhipei.people.models import Person

Status = Person.Verification


@dataclass(frozen=True)
class VerificationResult:
    status: Status
    provider: str
    detail: str = ""


class IdentityProvider(Protocol):
    def verify(self, name: str, id_number: str) -> VerificationResult: ...


class ChecksumOnlyProvider:
    """Checks the number's format, birth date and check character; no authority is asked."""

    name = "checksum_only"

    def verify(self, name: str, id_number: str) -> VerificationResult:
        try:
            parse_id_number(id_number, check_region=False)
        except InvalidIdNumber as exc:
            return VerificationResult(Status.FAILED, self.name, detail=str(exc.reason_code))
        return VerificationResult(
            Status.FORMAT_ONLY, self.name, detail="format and check character only"
        )


@lru_cache(maxsize=4)
def _provider(dotted_path: str) -> IdentityProvider:
    try:
        provider_class = import_string(dotted_path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"IDENTITY_PROVIDER {dotted_path!r} cannot be imported: {exc}"
        ) from exc
    return cast(IdentityProvider, provider_class())


def get_identity_provider() -> IdentityProvider:
    """The configured provider (one instance per configured path)."""
    return _provider(str(settings.IDENTITY_PROVIDER))
