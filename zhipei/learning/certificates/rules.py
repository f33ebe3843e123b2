"""Why a certificate cannot be issued: rule codes with their inputs (ARCHITECTURE invariant 8),
rendered into sentences with gettext at display time, never stored as sentences."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext

from zhipei.core.errors import DomainError

HOURS_SHORT = "hours_short"
TEST_NOT_PASSED = "test_not_passed"
PERSON_ON_HOLD = "person_on_hold"
PLATFORM_ON_HOLD = "platform_on_hold"
ENROLMENT_WITHDRAWN = "enrolment_withdrawn"
REVOKED_BEFORE = "revoked_before"

RULE_CODES = (
    ENROLMENT_WITHDRAWN,
    REVOKED_BEFORE,
    PERSON_ON_HOLD,
    PLATFORM_ON_HOLD,
    HOURS_SHORT,
    TEST_NOT_PASSED,
)


@dataclass(frozen=True)
class Refusal:
    code: str
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return render_refusal(self.code, self.parameters)


def render_refusal(code: str, parameters: dict[str, Any]) -> str:  # noqa: PLR0911 - one per rule
    """Plain words for one refusal, in the active language."""
    if code == HOURS_SHORT:
        return gettext(
            "%(credited)s of the course's %(required)s class hours have been credited so far."
        ) % {
            "credited": parameters.get("credited", "?"),
            "required": parameters.get("required", "?"),
        }
    if code == TEST_NOT_PASSED:
        return gettext("The course requires a test, and no passed test has been reported yet.")
    if code == PERSON_ON_HOLD:
        return gettext("The learner is on hold; no certificate is issued until the hold is lifted.")
    if code == PLATFORM_ON_HOLD:
        return gettext(
            "The training platform is on hold; no certificate is issued until the hold is lifted."
        )
    if code == ENROLMENT_WITHDRAWN:
        return gettext("The enrolment was withdrawn.")
    if code == REVOKED_BEFORE:
        return gettext(
            "A certificate for this enrolment was revoked; a new one is not issued automatically."
        )
    return gettext("The certificate cannot be issued.")


class CertificateRefused(DomainError):
    """issue_certificate's refusal: every rule that failed, with its inputs."""

    code = "certificate_refused"
    status = 409

    def __init__(self, refusals: list[Refusal]) -> None:
        self.refusals = refusals
        super().__init__(" ".join(r.message for r in refusals))

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.refusals]
