"""Policy finds the person (政策找人): living allowances proposed without an application.

Where the policy in force says so (`auto_grant_no_application`, Qingdao), Zhipei looks for
valid completion certificates whose holder belonged to one of the five groups on the day the
training was completed, runs the living-allowance rules on them, and for each eligible one
starts a draft application in the person's name marked `proposed` (created by nobody:
`by=None`). The person sees it with its explained eligibility and only adds bank details and
submits. `start_application` audits each proposal.

Idempotent: a certificate with a live living-allowance claim, or one ever proposed (a person
who withdrew a proposal is not asked again; they can still apply themselves), is skipped, so a
second run creates nothing new. Certificates the rules find ineligible are not proposed (and
are checked again on later runs: a cap may free up, a group may be recorded late).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet

from zhipei.core.errors import Conflict
from zhipei.learning.models import CompletionCertificate
from zhipei.people.models import PersonCategory
from zhipei.subsidies import workflow
from zhipei.subsidies.facts import EarlierClaim, Facts, live_claim_filter
from zhipei.subsidies.kinds import get_kind
from zhipei.subsidies.models import Application, ApplicationLine, ApplicationStatus, Programme
from zhipei.subsidies.parameters import LivingAllowanceGroup

logger = logging.getLogger("zhipei.subsidies.proposals")

KIND = Programme.LIVING_ALLOWANCE
CHUNK = 500  # certificates assessed together (one Facts load)


@dataclass
class ProposalSummary:
    checked: int = 0  # certificates assessed
    proposed: int = 0  # drafts created
    not_offered: int = 0  # the policy there and then does not propose (or is incomplete)
    ineligible: int = 0  # the rules refuse (reasons shown if the person applies)
    conflicts: int = 0  # claimed by someone else between the check and the proposal


def candidates(*, since: datetime | None = None) -> QuerySet[CompletionCertificate]:
    """Valid certificates of people in one of the five groups on the completion day, with no
    live living-allowance claim and never proposed, oldest first."""
    in_group = PersonCategory.objects.filter(
        person_id=OuterRef("person_id"),
        category__in=LivingAllowanceGroup.values,
        valid_from__lte=OuterRef("completed_on"),
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=OuterRef("completed_on")))
    claimed = ApplicationLine.objects.filter(certificate_id=OuterRef("pk"), kind=KIND).filter(
        live_claim_filter() | Q(application__proposed=True)
    )
    queryset = (
        CompletionCertificate.objects.filter(status=CompletionCertificate.Status.VALID)
        .filter(Exists(in_group))
        .exclude(Exists(claimed))
    )
    if since is not None:
        queryset = queryset.filter(issued_at__gte=since)
    return queryset.select_related("person__region").order_by("pk")


def propose_living_allowances(
    *, since: datetime | None = None, limit: int | None = None
) -> ProposalSummary:
    """Propose every eligible living allowance not yet claimed or proposed. `since` only looks
    at certificates issued from then on; `limit` caps how many certificates are assessed.
    Runs outside any transaction (each proposal is its own)."""
    summary = ProposalSummary()
    kind = get_kind(KIND)
    last_pk = 0
    while limit is None or summary.checked < limit:
        size = CHUNK if limit is None else min(CHUNK, limit - summary.checked)
        chunk = list(candidates(since=since).filter(pk__gt=last_pk)[:size])
        if not chunk:
            break
        last_pk = chunk[-1].pk
        drafts = [
            Application(
                kind=KIND,
                person=certificate.person,
                region=certificate.person.region,
                status=ApplicationStatus.DRAFT,
                inputs={"certificate": certificate.pk},
            )
            for certificate in chunk
        ]
        facts = Facts.load(drafts)
        for certificate, draft in zip(chunk, drafts, strict=True):
            summary.checked += 1
            policy = facts.policy(KIND, draft.region, certificate.completed_on)
            if not policy.is_complete or not policy.get("auto_grant_no_application"):
                summary.not_offered += 1
                continue
            if not kind.assess(draft, facts).eligible:
                summary.ineligible += 1
                continue
            try:
                application = workflow.start_application(
                    KIND,
                    by=None,
                    person=certificate.person,
                    inputs={"certificate": certificate.pk},
                    proposed=True,
                )
            except Conflict:
                summary.conflicts += 1
                continue
            summary.proposed += 1
            _remember(facts, application)
    logger.info(
        "living allowances proposed=%s checked=%s not_offered=%s ineligible=%s conflicts=%s",
        summary.proposed,
        summary.checked,
        summary.not_offered,
        summary.ineligible,
        summary.conflicts,
    )
    return summary


def _remember(facts: Facts, application: Application) -> None:
    """Count a new proposal in `facts`, so the person's next certificate in this run meets
    their yearly count, cap and occupation rules as the proposal left them."""
    for line in application.lines.filter(live=True, included=True).select_related("certificate"):
        facts.claims[line.person_id].append(
            EarlierClaim(
                application_id=application.pk,
                number=application.number,
                status=application.status,
                kind=line.kind,
                person_id=line.person_id,
                certificate_id=line.certificate_id,
                occupation_id=line.occupation_id,
                skill_level=line.skill_level,
                training_date=line.training_date,
                started_on=line.certificate.started_on if line.certificate else None,
                amount_fen=line.amount_fen,
            )
        )
