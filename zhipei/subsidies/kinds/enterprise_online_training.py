"""Enterprise online-training subsidy during a shutdown (R11; notice 10号: enterprises fully or
partly shut down that organise online training for their staff — dispatched workers and
people working through a platform included — are subsidised; policy-rules §3, §15
`online_enterprise_subsidy`). The enterprise applies and is paid (Wenzhou: never to the
individuals); the money comes from the skills special account.

Inputs: {"shutdown": <ShutdownDeclaration pk>, "certificates": [<CompletionCertificate pk>,
...], "actual_cost_fen": <int, optional>}. One line per certificate: one person's training.

Rules for the claim: the declaration is the enterprise's own, confirmed, of a kind the policy
covers; the policy pays the enterprise; no hold on the enterprise. Rules for each line: the
certificate is valid with credited hours, completed within the shutdown, its holder was on the
enterprise's roster that day (employees always, dispatched and platform workers as the policy
says), the course counted in the catalogues, the certificate and the same occupation and level
not subsidised before (as a training subsidy, to the learner or any enterprise), no hold on
the person or the issuing platform. A line failing a rule is left out (`included=False`,
outcome `excluded`, its reasons recorded) and the claim goes on for the other staff; the claim
is refused when no line is left.

Amount per line: class hours × the rate, capped per person per project and per person per
year (this subsidy, everywhere). The total is at most `cost_share_cap_bp` of the training
cost: the actual cost when the enterprise gives it (`actual_cost_fen`), otherwise self-run
training without receipts is costed at `self_run_cost_per_person_hour_fen` per person-hour
(Wenzhou: 完成人数 × 课时 × 20 元).

After submission the lines are fixed: a later evaluation (every approval, batch building)
fails — instead of leaving a line out — when a line that was included no longer qualifies or
would now get less, so the officer returns the claim to be computed again. A held person or
platform then fails under the shared hold codes, which the workflow treats as a hold.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from zhipei.core.errors import InvalidInput
from zhipei.core.money import MAX_FEN
from zhipei.enterprises.models import Employment, EmploymentKind, ShutdownDeclaration
from zhipei.learning.models import CompletionCertificate
from zhipei.orgs.models import Enterprise, OrganisationHold
from zhipei.subsidies import rules
from zhipei.subsidies.facts import EarlierClaim, Facts, live_claim_filter
from zhipei.subsidies.kinds import register
from zhipei.subsidies.kinds.base import (
    EXCLUDED,
    FAIL,
    INFO,
    PASS,
    ApplicationKind,
    Assessment,
    LineDraft,
    RuleResult,
)
from zhipei.subsidies.kinds.living_allowance import percent
from zhipei.subsidies.models import Application, ApplicationLine, ApplicationStatus, Programme
from zhipei.subsidies.parameters import Payee
from zhipei.subsidies.reasons import add_sentences

# Training subsidies for the same training: a certificate (or an occupation and level) paid to
# the learner is not paid again to an enterprise, nor twice to enterprises.
TRAINING_KINDS = frozenset({Programme.LEARNER_TRAINING, Programme.ENTERPRISE_ONLINE_TRAINING})

INPUT_KEYS = frozenset({"shutdown", "certificates", "actual_cost_fen"})
MAX_CERTIFICATES = 5000

# Statuses in which the lines are still (re)written by evaluation.
EDITABLE = frozenset({ApplicationStatus.DRAFT, ApplicationStatus.RETURNED})

# Line hold rules, and the shared hold codes they fail under once the lines are fixed.
LINE_HOLDS = {
    "no_hold": ("no_hold_person", "trainee"),
    "platform_no_hold": ("no_hold_organisation", "platform"),
}


@dataclass(frozen=True)
class ClaimInputs:
    shutdown: int
    certificates: tuple[int, ...]
    actual_cost_fen: int | None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"shutdown": self.shutdown, "certificates": list(self.certificates)}
        if self.actual_cost_fen is not None:
            out["actual_cost_fen"] = self.actual_cost_fen
        return out


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def clean_inputs(raw: Any) -> ClaimInputs:
    """The inputs of an enterprise claim, checked strictly. Raises InvalidInput (with the
    field) for a missing or malformed value, an empty or over-long certificate list, a
    certificate listed twice, or a negative or absurd cost."""
    if not isinstance(raw, dict):
        raise InvalidInput(_("The claim's inputs must be an object."))
    unknown = sorted(str(k) for k in raw if k not in INPUT_KEYS)
    if unknown:
        raise InvalidInput(
            _("Unknown input: %(names)s.") % {"names": ", ".join(unknown)}, field=unknown[0]
        )
    shutdown = raw.get("shutdown")
    if not isinstance(shutdown, int) or isinstance(shutdown, bool) or shutdown <= 0:
        raise InvalidInput(_("Choose the shutdown declaration the claim is for."), field="shutdown")
    return ClaimInputs(
        shutdown=shutdown,
        certificates=_clean_certificates(raw.get("certificates")),
        actual_cost_fen=_clean_cost(raw.get("actual_cost_fen")),
    )


def _clean_certificates(certificates: Any) -> tuple[int, ...]:
    if not isinstance(certificates, list):
        raise InvalidInput(
            _("Choose the certificates of the staff the claim is for."), field="certificates"
        )
    if not certificates:
        raise InvalidInput(_("Choose at least one certificate."), field="certificates")
    if len(certificates) > MAX_CERTIFICATES:
        raise InvalidInput(
            _("At most %(max)s certificates can be claimed at once.") % {"max": MAX_CERTIFICATES},
            field="certificates",
        )
    seen: set[int] = set()
    for pk in certificates:
        if not _whole(pk) or pk <= 0:
            raise InvalidInput(
                _("Certificates are named by their number in Zhipei (whole numbers)."),
                field="certificates",
            )
        if pk in seen:
            raise InvalidInput(
                _("Certificate %(pk)s is listed twice.") % {"pk": pk}, field="certificates"
            )
        seen.add(pk)
    return tuple(certificates)


def _clean_cost(cost: Any) -> int | None:
    """Absent: self-run training without receipts (costed by policy)."""
    if cost is None:
        return None
    if not _whole(cost):
        raise InvalidInput(
            _("Give the actual cost in fen as a whole number."), field="actual_cost_fen"
        )
    if cost < 0:
        raise InvalidInput(_("The actual cost cannot be negative."), field="actual_cost_fen")
    if cost > MAX_FEN:
        raise InvalidInput(_("The actual cost is too large."), field="actual_cost_fen")
    return int(cost)


@dataclass(frozen=True)
class StoredLine:
    included: bool
    amount_fen: int


@dataclass
class ClaimFacts:
    """What this kind reads besides `Facts`: the declaration, the roster periods of the people
    trained at this enterprise, and (after submission) the lines as fixed. Three queries."""

    declaration: ShutdownDeclaration | None
    employments: dict[int, list[Employment]]
    stored: list[StoredLine] | None

    @classmethod
    def load(
        cls,
        application: Application,
        enterprise: Enterprise,
        shutdown_id: int,
        person_ids: set[int],
        *,
        frozen: bool,
    ) -> ClaimFacts:
        declaration = ShutdownDeclaration.objects.filter(pk=shutdown_id).first()
        employments: dict[int, list[Employment]] = defaultdict(list)
        for employment in Employment.objects.filter(
            enterprise=enterprise, person_id__in=person_ids
        ).order_by("start_on", "pk"):
            employments[employment.person_id].append(employment)
        stored = None
        if frozen:
            stored = [
                StoredLine(included, amount)
                for included, amount in ApplicationLine.objects.filter(application=application)
                .order_by("pk")
                .values_list("included", "amount_fen")
            ]
        return cls(declaration=declaration, employments=employments, stored=stored)

    def employment_on(self, person_id: int, day: Any) -> Employment | None:
        """enterprises.queries.on_roster over the loaded periods."""
        for employment in self.employments.get(person_id, ()):
            if employment.start_on <= day and (
                employment.end_on is None or day <= employment.end_on
            ):
                return employment
        return None


def _certificates(facts: Facts, ids: tuple[int, ...]) -> list[CompletionCertificate]:
    """The named certificates from `facts` (loading any it lacks, with their holders and the
    issuing platforms' holds). Unknown ones are refused with the same message as those of
    people never on the roster (so nothing leaks about other people's certificates)."""
    missing = set(ids) - facts.certificates.keys()
    if missing:
        facts.load_certificates(missing)
        loaded = [facts.certificates[pk] for pk in missing if pk in facts.certificates]
        facts.load_people({c.person_id for c in loaded})
        facts.held_organisations |= set(
            OrganisationHold.objects.filter(
                organisation_id__in={c.platform.organisation_id for c in loaded},
                lifted_at__isnull=True,
            ).values_list("organisation_id", flat=True)
        )
    for pk in ids:
        if pk not in facts.certificates:
            raise _not_on_roster(pk)
    return [facts.certificates[pk] for pk in ids]


def _not_on_roster(pk: int) -> InvalidInput:
    return InvalidInput(
        _("Certificate %(pk)s is not the certificate of anyone on the enterprise's roster.")
        % {"pk": pk},
        field="certificates",
    )


def _employment_kind(employment: Employment, p: dict[str, Any]) -> RuleResult:
    parameters: dict[str, Any] = {}
    ok = True
    if employment.kind == EmploymentKind.DISPATCHED:
        ok = bool(p["include_dispatched_workers"])
        parameters["include_dispatched_workers"] = ok
    elif employment.kind == EmploymentKind.PLATFORM_WORKER:
        ok = bool(p["include_platform_workers"])
        parameters["include_platform_workers"] = ok
    return RuleResult(
        "employment_kind",
        rules.outcome(ok),
        inputs={"kind": employment.kind},
        parameters=parameters,
    )


def share_of(amounts: list[int], limit: int) -> list[int]:
    """Cut `amounts` so they sum to exactly `limit` (≤ their sum), each in proportion, the fen
    left over by rounding down going to the largest remainders (then the earliest lines)."""
    total = sum(amounts)
    if total <= limit:
        return list(amounts)
    cut = [a * limit // total for a in amounts]
    left = limit - sum(cut)
    order = sorted(range(len(amounts)), key=lambda i: (-(amounts[i] * limit % total), i))
    for i in order[:left]:
        cut[i] += 1
    return cut


class EnterpriseOnlineTraining(ApplicationKind):
    programme = Programme.ENTERPRISE_ONLINE_TRAINING
    payee = "enterprise"
    label = _("Enterprise online-training subsidy")
    # A claim returned because a trainee or the cost was wrong is corrected by the
    # enterprise; the shutdown it is claimed under stays (another shutdown, another claim).
    revisable = True
    fixed_inputs = frozenset({"shutdown"})

    def clean_inputs(self, raw: Any) -> dict[str, Any]:
        return clean_inputs(raw).as_json()

    def assess(self, application: Application, facts: Facts) -> Assessment:
        inputs = clean_inputs(application.inputs)
        enterprise = application.enterprise
        if enterprise is None:
            raise InvalidInput(_("This subsidy is claimed by the enterprise."))
        certificates = _certificates(facts, inputs.certificates)
        frozen = application.pk is not None and application.status not in EDITABLE
        claim = ClaimFacts.load(
            application,
            enterprise,
            inputs.shutdown,
            {c.person_id for c in certificates},
            frozen=frozen,
        )
        for certificate in certificates:
            if certificate.person_id not in claim.employments:
                raise _not_on_roster(certificate.pk)

        results: list[RuleResult] = []
        assessment = Assessment(
            kind=self.programme,
            policy=None,
            policy_date=None,
            fund_source="",
            lines=[],
            results=results,
        )
        declaration = claim.declaration
        if declaration is None or declaration.enterprise_id != enterprise.pk:
            results.append(RuleResult("shutdown_declared", FAIL))
            return assessment
        results.append(
            RuleResult(
                "shutdown_declared",
                PASS,
                inputs={
                    "kind": declaration.kind,
                    "starts_on": declaration.starts_on,
                    "ends_on": declaration.effective_ends_on,
                },
            )
        )
        results.append(
            RuleResult(
                "shutdown_confirmed",
                rules.outcome(declaration.status == ShutdownDeclaration.Status.CONFIRMED),
                inputs={"status": declaration.status},
            )
        )
        # The policy in force where the enterprise is registered on the shutdown's first day.
        day = declaration.starts_on
        policy = facts.policy(self.programme, application.region, day)
        assessment.policy, assessment.policy_date = policy, day
        results.append(rules.policy_in_force(policy))
        if not policy.is_complete:
            return assessment
        p = policy.values
        assessment.fund_source = p["fund"]
        self._claim_rules(declaration, enterprise, facts, p, results)

        stored = claim.stored
        if stored is not None and len(stored) != len(certificates):
            # Not the lines this evaluation would write: hold every line to its rules.
            stored = [StoredLine(True, MAX_FEN)] * len(certificates)
        mine: dict[int, list[EarlierClaim]] = defaultdict(list)
        changed: list[str] = []
        for index, certificate in enumerate(certificates):
            fixed = stored[index] if stored is not None else None
            line, broken = self._line(
                index,
                certificate,
                application=application,
                facts=facts,
                claim=claim,
                declaration=declaration,
                p=p,
                mine=mine,
                results=results,
                fixed=fixed,
            )
            assessment.lines.append(line)
            if broken:
                changed.append(line.person.name)

        included = [line for line in assessment.lines if line.included]
        results.append(
            RuleResult(
                "staff_included",
                rules.outcome(bool(included)),
                inputs={"included": len(included), "total": len(assessment.lines)},
            )
        )
        if included:
            self._cost_share_cap(included, inputs, p, results)
        if stored is not None:
            self._compare_fixed(assessment.lines, stored, changed, results)
        return assessment

    def _claim_rules(
        self,
        declaration: ShutdownDeclaration,
        enterprise: Enterprise,
        facts: Facts,
        p: dict[str, Any],
        results: list[RuleResult],
    ) -> None:
        """The shutdown's kind is covered, the policy pays the enterprise, no hold on it."""
        results.append(
            RuleResult(
                "shutdown_kind",
                rules.outcome(declaration.kind in p["eligible_shutdown_kinds"]),
                inputs={"kind": declaration.kind},
                parameters={"eligible_shutdown_kinds": list(p["eligible_shutdown_kinds"])},
            )
        )
        results.append(
            RuleResult(
                "payee_enterprise",
                rules.outcome(p["payee"] == Payee.ENTERPRISE),
                parameters={"payee": p["payee"]},
            )
        )
        results.append(
            rules.organisation_not_held(
                facts, enterprise.organisation_id, str(enterprise), role="payee"
            )
        )

    def _compare_fixed(
        self,
        lines: list[LineDraft],
        stored: list[StoredLine],
        changed: list[str],
        results: list[RuleResult],
    ) -> None:
        """After submission: a line fixed as included must not now get less (it never gets
        more than was submitted); `changed` names those that no longer qualify."""
        for line, fixed in zip(lines, stored, strict=True):
            if line.included and fixed.included and line.amount_fen != fixed.amount_fen:
                if line.amount_fen < fixed.amount_fen:
                    changed.append(line.person.name)
                else:
                    line.amount_fen = fixed.amount_fen
        results.append(
            RuleResult(
                "staff_unchanged",
                rules.outcome(not changed),
                inputs={"people": sorted(set(changed))},
            )
        )

    def _line(
        self,
        index: int,
        certificate: CompletionCertificate,
        *,
        application: Application,
        facts: Facts,
        claim: ClaimFacts,
        declaration: ShutdownDeclaration,
        p: dict[str, Any],
        mine: dict[int, list[EarlierClaim]],
        results: list[RuleResult],
        fixed: StoredLine | None,
    ) -> tuple[LineDraft, bool]:
        """One person's training: its rules (appended to `results`) and amount before the
        cost-share cap. Returns the line and whether a line fixed as included now fails a
        rule other than a hold (the claim must then be computed again)."""
        person = facts.persons[certificate.person_id]
        day = certificate.completed_on
        line = rules.certificate_line(person, certificate)
        checks: list[RuleResult] = [
            rules.certificate_valid(certificate, certificate.person_id),
            rules.class_hours_rule(certificate),
            RuleResult(
                "in_shutdown",
                rules.outcome(declaration.starts_on <= day <= declaration.effective_ends_on),
                inputs={
                    "completed_on": day,
                    "starts_on": declaration.starts_on,
                    "ends_on": declaration.effective_ends_on,
                },
            ),
        ]
        employment = claim.employment_on(person.pk, day)
        checks.append(
            RuleResult("on_roster", rules.outcome(employment is not None), inputs={"on_date": day})
        )
        if employment is not None:
            checks.append(_employment_kind(employment, p))
        checks.append(rules.course_in_catalogue(facts, certificate, application.region))
        others = [
            c
            for c in facts.claims.get(person.pk, ())
            if c.kind in TRAINING_KINDS and c.application_id != application.pk
        ]
        checks.append(rules.same_certificate_claimed(others, certificate))
        once = rules.same_occupation_level(
            others + mine[person.pk],
            certificate.occupation_id,
            certificate.course.skill_level,
            enabled=True,
            occupation_label=str(certificate.occupation) if certificate.occupation_id else "",
        )
        if once is not None:
            once.parameters = {}  # always applies to this subsidy; not a policy parameter
            checks.append(once)
        checks.append(RuleResult("no_hold", rules.outcome(person.pk not in facts.held_persons)))
        checks.append(
            RuleResult(
                "platform_no_hold",
                rules.outcome(certificate.platform.organisation_id not in facts.held_organisations),
                inputs={"name": str(certificate.platform)},
            )
        )
        ok = not any(r.outcome == FAIL for r in checks)
        if ok:
            amount = rules.hours_amount(certificate.class_hours, p["per_class_hour_fen"])
            checks.append(
                RuleResult(
                    "amount",
                    INFO,
                    inputs={"class_hours": certificate.class_hours, "amount_fen": amount},
                    parameters={"per_class_hour_fen": p["per_class_hour_fen"]},
                )
            )
            amount, capped = rules.cap(
                amount,
                p["per_person_per_project_cap_fen"],
                "project_cap",
                parameter="per_person_per_project_cap_fen",
            )
            if capped is not None:
                checks.append(capped)
            same_kind = [c for c in others if c.kind == self.programme] + mine[person.pk]
            amount, yearly = rules.yearly_remaining(
                same_kind,
                day.year,
                amount,
                p["per_person_per_year_cap_fen"],
                parameter="per_person_per_year_cap_fen",
            )
            checks.append(yearly)
            ok = yearly.outcome != FAIL
            line.amount_fen = amount if ok else 0

        # Once submitted, a line fixed as included that fails refuses the claim; otherwise a
        # failing line is left out and claims nothing (not even its certificate).
        blocking = fixed is not None and fixed.included
        broken = False
        for check in checks:
            result = RuleResult(
                "staff_" + check.code,
                check.outcome,
                inputs=check.inputs | {"person": person.name},
                parameters=check.parameters,
                line=index,
            )
            if check.outcome == FAIL:
                if not blocking:
                    result.outcome = EXCLUDED
                elif check.code in LINE_HOLDS:
                    result.code, role = LINE_HOLDS[check.code]
                    result.inputs["role"] = role
                else:
                    broken = True
            results.append(result)
        if fixed is not None and not fixed.included:
            if ok:
                results.append(
                    RuleResult("staff_left_out", INFO, inputs={"person": person.name}, line=index)
                )
            ok = False
        if not ok:
            line.included, line.amount_fen, line.certificate = False, 0, None
            return line, broken
        mine[person.pk].append(
            EarlierClaim(
                application_id=application.pk or 0,
                number=application.number,
                status=application.status,
                kind=self.programme,
                person_id=person.pk,
                certificate_id=certificate.pk,
                occupation_id=certificate.occupation_id,
                skill_level=certificate.course.skill_level,
                training_date=day,
                started_on=certificate.started_on,
                amount_fen=line.amount_fen,
            )
        )
        return line, broken

    def _cost_share_cap(
        self,
        included: list[LineDraft],
        inputs: ClaimInputs,
        p: dict[str, Any],
        results: list[RuleResult],
    ) -> None:
        """At most `cost_share_cap_bp` of the training cost: the actual cost given, or
        self-run training costed per person-hour. Cuts the lines in proportion."""
        if inputs.actual_cost_fen is not None:
            cost = inputs.actual_cost_fen
            results.append(RuleResult("training_cost", INFO, inputs={"cost_fen": cost}))
        else:
            hours = sum((line.class_hours for line in included), Decimal(0))
            rate = p["self_run_cost_per_person_hour_fen"]
            cost = rules.hours_amount(hours, rate)
            results.append(
                RuleResult(
                    "self_run_cost",
                    INFO,
                    inputs={"hours": hours, "cost_fen": cost},
                    parameters={"self_run_cost_per_person_hour_fen": rate},
                )
            )
        ratio = p["cost_share_cap_bp"]
        limit = cost * ratio // 10_000
        before = sum(line.amount_fen for line in included)
        after = min(before, limit)
        outcome = PASS if before <= limit else (INFO if limit > 0 else FAIL)
        results.append(
            RuleResult(
                "cost_share_cap",
                outcome,
                inputs={
                    "cost_fen": cost,
                    "limit_fen": limit,
                    "before_fen": before,
                    "after_fen": after,
                    "share": percent(ratio),
                },
                parameters={"cost_share_cap_bp": ratio},
            )
        )
        for line, amount in zip(
            included, share_of([line.amount_fen for line in included], limit), strict=True
        ):
            line.amount_fen = amount


def eligible_certificates(
    enterprise: Enterprise, declaration: ShutdownDeclaration
) -> list[CompletionCertificate]:
    """Certificates the enterprise may claim for under `declaration` (for the claim page to
    offer, pre-selected): valid, completed within the shutdown by someone on the enterprise's
    roster that day, and not claimed as a training subsidy already. The rules still decide
    (employment kinds, catalogue, holds, caps)."""
    if declaration.enterprise_id != enterprise.pk:
        return []
    on_roster = Employment.objects.filter(
        enterprise=enterprise,
        person_id=OuterRef("person_id"),
        start_on__lte=OuterRef("completed_on"),
    ).filter(Q(end_on__isnull=True) | Q(end_on__gte=OuterRef("completed_on")))
    claimed = ApplicationLine.objects.filter(
        live_claim_filter(),
        certificate_id=OuterRef("pk"),
        kind__in=TRAINING_KINDS,
        included=True,
    )
    return list(
        CompletionCertificate.objects.filter(
            status=CompletionCertificate.Status.VALID,
            completed_on__gte=declaration.starts_on,
            completed_on__lte=declaration.effective_ends_on,
        )
        .filter(Exists(on_roster))
        .exclude(Exists(claimed))
        .select_related("person", "course", "occupation", "platform__organisation")
        .order_by("person__name", "completed_on", "pk")
    )


def _staff(passed: Any, problem: Any) -> dict[str, Any]:
    """A line rule's sentences: the problem reads the same whether the line is left out
    (draft) or, once submitted, refuses the claim."""
    return {"pass": passed, EXCLUDED: problem, FAIL: problem}


add_sentences(
    {
        "shutdown_declared": {
            "pass": _("Shutdown declared from %(starts_on)s to %(ends_on)s: %(kind)s."),
            "fail": _("No shutdown declaration of this enterprise was named."),
        },
        "shutdown_confirmed": {
            "pass": _("The labour bureau confirmed the shutdown declaration."),
            "fail": _("The shutdown declaration has not been confirmed by the labour bureau."),
        },
        "shutdown_kind": {
            "pass": _("%(kind)s is covered (%(eligible_shutdown_kinds)s)."),
            "fail": _("%(kind)s is not covered by this policy (only %(eligible_shutdown_kinds)s)."),
        },
        "payee_enterprise": {
            "pass": _("The policy pays this subsidy to the enterprise."),
            "fail": _(
                "The policy pays this subsidy to the people trained, not to the enterprise: "
                "the enterprise cannot claim it."
            ),
        },
        "staff_included": {
            "pass": _("%(included)s of the %(total)s staff named qualify."),
            "fail": _("None of the %(total)s staff named qualifies: there is nothing to claim."),
        },
        "staff_certificate_valid": _staff(
            _("%(person)s: completion certificate %(number)s is valid."),
            _("%(person)s: completion certificate %(number)s has been revoked."),
        ),
        "staff_class_hours": _staff(
            _("%(person)s: %(class_hours)s class hours were credited."),
            _("%(person)s: no class hours were credited."),
        ),
        "staff_in_shutdown": _staff(
            _(
                "%(person)s completed the training on %(completed_on)s, within the shutdown "
                "(%(starts_on)s to %(ends_on)s)."
            ),
            _(
                "%(person)s completed the training on %(completed_on)s, outside the shutdown "
                "(%(starts_on)s to %(ends_on)s)."
            ),
        ),
        "staff_on_roster": _staff(
            _("%(person)s was on the enterprise's roster on %(on_date)s."),
            _("%(person)s was not on the enterprise's roster on %(on_date)s."),
        ),
        "staff_employment_kind": _staff(
            _("%(person)s was on the roster as: %(kind)s."),
            _("%(person)s was on the roster as: %(kind)s; this policy does not include them."),
        ),
        "staff_course_in_catalogue": _staff(
            _("%(person)s: the course “%(course)s” was in the training catalogues on %(on_date)s."),
            _(
                "%(person)s: the course “%(course)s” was not in the training catalogues on "
                "%(on_date)s (%(reasons)s)."
            ),
        ),
        "staff_certificate_not_claimed": _staff(
            _("%(person)s: certificate %(number)s has not been claimed before."),
            _("%(person)s: certificate %(number)s is already claimed in application %(other)s."),
        ),
        "staff_occupation_level_once": _staff(
            _("%(person)s: %(occupation)s at level %(level)s has not been subsidised before."),
            _(
                "%(person)s: %(occupation)s at level %(level)s is already subsidised or claimed "
                "(application %(other)s); the same occupation and level is subsidised only once."
            ),
        ),
        "staff_no_hold": _staff(
            _("No hold on %(person)s."),
            _("Payments for %(person)s are on hold; they are left out of the claim."),
        ),
        "staff_platform_no_hold": _staff(
            _("No hold on %(name)s, which issued the certificate of %(person)s."),
            _("%(name)s, which issued the certificate of %(person)s, is on hold."),
        ),
        "staff_amount": {
            "info": _(
                "%(person)s: %(class_hours)s class hours × %(per_class_hour_fen)s per class hour "
                "= %(amount_fen)s."
            ),
        },
        "staff_project_cap": {
            "info": _(
                "%(person)s: capped at %(per_person_per_project_cap_fen)s per person per project "
                "(was %(before_fen)s)."
            ),
        },
        "staff_yearly_cap": {
            "pass": _(
                "%(person)s: within the yearly cap of %(per_person_per_year_cap_fen)s "
                "(%(used_fen)s already claimed in %(year)s)."
            ),
            "info": _(
                "%(person)s: cut to %(after_fen)s; the yearly cap is "
                "%(per_person_per_year_cap_fen)s and %(used_fen)s was already claimed in "
                "%(year)s."
            ),
        },
        "staff_yearly_cap_reached": {
            outcome: _(
                "%(person)s: the yearly cap of %(per_person_per_year_cap_fen)s is used up "
                "(%(used_fen)s already claimed in %(year)s)."
            )
            for outcome in (EXCLUDED, FAIL)
        },
        "staff_left_out": {
            "info": _(
                "%(person)s was left out when the claim was submitted; return the claim for "
                "correction to include them."
            ),
        },
        "staff_unchanged": {
            "pass": _("The staff included when the claim was submitted all still qualify."),
            "fail": _(
                "Since the claim was submitted, these staff no longer qualify for the amount "
                "then computed: %(people)s. Return the claim for correction so it is computed "
                "again."
            ),
        },
        "training_cost": {
            "info": _("Actual training cost given by the enterprise: %(cost_fen)s."),
        },
        "self_run_cost": {
            "info": _(
                "Self-run training without receipts: %(hours)s person-hours × "
                "%(self_run_cost_per_person_hour_fen)s = %(cost_fen)s of cost."
            ),
        },
        "cost_share_cap": {
            "pass": _(
                "The total of %(before_fen)s is within %(share)s of the training cost of "
                "%(cost_fen)s (%(limit_fen)s)."
            ),
            "info": _(
                "Cut from %(before_fen)s to %(after_fen)s: at most %(share)s of the training "
                "cost of %(cost_fen)s is covered."
            ),
            "fail": _(
                "Nothing can be paid: %(share)s of the training cost of %(cost_fen)s is "
                "%(limit_fen)s."
            ),
        },
    }
)

register(EnterpriseOnlineTraining())
