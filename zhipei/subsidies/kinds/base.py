"""What every application kind provides, and what its rules produce.

A kind (a `Programme`) knows who applies and is paid (a person or an enterprise), which lines
an application has, which rules decide eligibility and how the amount follows from policy.
The workflow (subsidies.workflow) and the ledger never look inside a kind: they see an
`Assessment` — rule results, lines with amounts, the fund source — and act on it. A new kind
(project-based training, apprenticeship) is a new module registering a new `ApplicationKind`.

Rules are evaluated in two steps so that thousands of applications can be assessed per second
(issue 5's benchmark): `Facts.load` reads everything the rules need for a set of applications
in a handful of queries, then each rule is a plain function of those facts.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.functional import Promise

if TYPE_CHECKING:
    from zhipei.learning.models import CompletionCertificate
    from zhipei.people.models import Person
    from zhipei.subsidies.facts import Facts
    from zhipei.subsidies.models import Application
    from zhipei.subsidies.queries import ResolvedPolicy

PASS = "pass"  # noqa: S105 - an outcome, not a password
FAIL = "fail"
INFO = "info"  # recorded and shown, decides nothing (e.g. "capped by the yearly limit")
# A line of a multi-person claim left out by its own rules; the claim goes on for the others
# (see kinds.enterprise_online_training).
EXCLUDED = "excluded"


@dataclass
class RuleResult:
    """One rule's verdict: its code, what it looked at and which parameters it applied
    (ARCHITECTURE invariant 8). `line` is the index of the line it is about, if any."""

    code: str
    outcome: str
    inputs: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    line: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "outcome": self.outcome,
            "inputs": _jsonable(self.inputs),
            "parameters": _jsonable(self.parameters),
            "line": self.line,
        }


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, date):
            out[key] = value.isoformat()
        elif isinstance(value, Decimal):
            out[key] = str(value)
        elif isinstance(value, (set, frozenset, tuple)):
            out[key] = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        else:
            out[key] = value
    return out


@dataclass
class LineDraft:
    """One person's training as the kind's rules see it, with the amount they allow."""

    person: Person
    certificate: CompletionCertificate | None = None
    occupation_id: int | None = None
    skill_level: int | None = None
    training_date: date | None = None
    class_hours: Decimal = Decimal(0)
    amount_fen: int = 0
    included: bool = True


@dataclass
class Assessment:
    """The outcome of a kind's rules for one application."""

    kind: str
    policy: ResolvedPolicy | None
    policy_date: date | None
    fund_source: str
    lines: list[LineDraft]
    results: list[RuleResult]

    @property
    def amount_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines if line.included)

    @property
    def failures(self) -> list[RuleResult]:
        return [r for r in self.results if r.outcome == FAIL]

    @property
    def eligible(self) -> bool:
        return not self.failures and self.amount_fen > 0

    def parameters_snapshot(self) -> dict[str, Any]:
        """The policy used, for the application record: values and where each came from."""
        if self.policy is None:
            return {}
        return {
            "programme": self.policy.programme,
            "on_date": self.policy.on_date.isoformat(),
            "values": _jsonable(self.policy.values),
            "versions": sorted(
                {p.version_id for p in self.policy.parameters.values() if p.version_id}
            ),
            "documents": sorted({p.document_number for p in self.policy.parameters.values()}),
        }


class ApplicationKind(abc.ABC):
    """One subsidy kind. Subclasses set the class attributes and implement `assess`."""

    programme: ClassVar[str]
    payee: ClassVar[str]  # "person" or "enterprise"
    label: ClassVar[str | Promise]
    # Whether the applicant may correct the inputs of a draft or returned application
    # (workflow.revise_inputs). Not for a claim whose only input is what it claims (one
    # certificate): another certificate is another claim.
    revisable: ClassVar[bool] = False
    # Inputs a revision may not change: they say which claim this is (e.g. the shutdown an
    # enterprise claims under).
    fixed_inputs: ClassVar[frozenset[str]] = frozenset()

    @abc.abstractmethod
    def assess(self, application: Application, facts: Facts) -> Assessment:
        """Run every rule of this kind for `application` over preloaded `facts`."""

    def clean_inputs(self, raw: Any) -> dict[str, Any]:
        """The inputs checked strictly, in the form they are stored in; InvalidInput naming
        the field when malformed. Revisable kinds implement it (revisions are cleaned before
        anything is written)."""
        raise NotImplementedError(f"{type(self).__name__} does not clean inputs for revision.")

    def policy_region(self, application: Application) -> Any:
        """The region whose policy applies: the applicant's (a child overrides its parent)."""
        return application.region
