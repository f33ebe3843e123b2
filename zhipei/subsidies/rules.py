"""Rules shared by several application kinds. Each returns a RuleResult (or None when it does
not apply) from preloaded Facts: code, inputs, parameters, outcome — never a sentence
(subsidies.reasons renders them). Amount helpers work in integer fen.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from zhipei.subsidies.kinds.base import FAIL, INFO, PASS, Assessment, LineDraft, RuleResult

if TYPE_CHECKING:
    from zhipei.learning.models import CompletionCertificate
    from zhipei.people.models import Person
    from zhipei.subsidies.facts import EarlierClaim, Facts
    from zhipei.subsidies.models import Application
    from zhipei.subsidies.queries import ResolvedPolicy


def outcome(ok: bool) -> str:
    return PASS if ok else FAIL


def policy_in_force(policy: ResolvedPolicy) -> RuleResult:
    """The programme's policy sets every parameter at this region on this date."""
    return RuleResult(
        "policy_in_force",
        outcome(policy.is_complete),
        inputs={
            "programme": policy.programme,
            "region": policy.region.code if policy.region is not None else "",
            "on_date": policy.on_date,
            "missing": list(policy.missing),
            "problems": sorted(policy.problems),
        },
        parameters={"documents": sorted({p.document_number for p in policy.parameters.values()})},
    )


def certificate_valid(
    certificate: CompletionCertificate | None, person_id: int, *, line: int | None = None
) -> RuleResult:
    if certificate is None or certificate.person_id != person_id:
        return RuleResult("certificate_present", FAIL, line=line)
    return RuleResult(
        "certificate_valid",
        outcome(certificate.status == certificate.Status.VALID),
        inputs={
            "number": certificate.number,
            "status": certificate.status,
            "completed_on": certificate.completed_on,
        },
        line=line,
    )


def course_in_catalogue(
    facts: Facts, certificate: CompletionCertificate, region: Any, *, line: int | None = None
) -> RuleResult:
    """The course counted under the two catalogues where the person applies, on the day the
    training was completed (catalog.queries.catalogue_status)."""
    answer = facts.catalogue(certificate, region)
    return RuleResult(
        "course_in_catalogue",
        outcome(answer.counted),
        inputs={
            "course": certificate.course.title,
            "region": region.code,
            "on_date": certificate.completed_on,
            "reasons": list(answer.reasons),
        },
        line=line,
    )


def same_certificate_claimed(
    claims: list[EarlierClaim], certificate: CompletionCertificate, *, line: int | None = None
) -> RuleResult:
    other = next((c for c in claims if c.certificate_id == certificate.pk), None)
    return RuleResult(
        "certificate_not_claimed",
        outcome(other is None),
        inputs={"number": certificate.number, "other": other.number if other else ""},
        line=line,
    )


def same_occupation_level(
    claims: list[EarlierClaim],
    occupation_id: int | None,
    skill_level: int | None,
    *,
    enabled: bool,
    occupation_label: str,
    line: int | None = None,
) -> RuleResult | None:
    """Same occupation and level subsidised only once, anywhere in the system."""
    if not enabled or occupation_id is None:
        return None
    other = next(
        (c for c in claims if c.occupation_id == occupation_id and c.skill_level == skill_level),
        None,
    )
    return RuleResult(
        "occupation_level_once",
        outcome(other is None),
        inputs={
            "occupation": occupation_label,
            "level": skill_level,
            "other": other.number if other else "",
            "other_status": other.status if other else "",
        },
        parameters={"same_occupation_level_once": enabled},
        line=line,
    )


def claims_in_year(claims: list[EarlierClaim], year: int) -> list[EarlierClaim]:
    return [c for c in claims if c.training_date is not None and c.training_date.year == year]


def yearly_count(
    claims: list[EarlierClaim], year: int, maximum: int, *, line: int | None = None
) -> RuleResult:
    applications = {c.application_id for c in claims_in_year(claims, year)}
    return RuleResult(
        "times_per_year",
        outcome(len(applications) < maximum),
        inputs={"year": year, "count": len(applications)},
        parameters={"maximum": maximum},
        line=line,
    )


def previous_finished(
    claims: list[EarlierClaim], started_on: date, completed_on: date, *, line: int | None = None
) -> RuleResult:
    """The next training only after the previous one ended: no subsidised training whose
    period overlaps this one."""
    overlapping = next(
        (
            c
            for c in claims
            if c.started_on is not None
            and c.training_date is not None
            and c.started_on <= completed_on
            and started_on <= c.training_date
        ),
        None,
    )
    return RuleResult(
        "previous_training_finished",
        outcome(overlapping is None),
        inputs={
            "started_on": started_on,
            "completed_on": completed_on,
            "other": overlapping.number if overlapping else "",
        },
        parameters={"next_only_after_previous_finished": True},
        line=line,
    )


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def claim_window(
    completed_on: date, months: int, today: date, *, line: int | None = None
) -> RuleResult:
    closes_on = add_months(completed_on, months)
    return RuleResult(
        "claim_window",
        outcome(today <= closes_on),
        inputs={"completed_on": completed_on, "today": today, "closes_on": closes_on},
        parameters={"claim_window_months": months},
        line=line,
    )


def age_on(person: Person, day: date) -> int:
    birth = person.birth_date
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def age_limits(
    person: Person,
    day: date,
    *,
    min_age: int,
    max_age_male: int,
    max_age_female: int,
    line: int | None = None,
) -> RuleResult:
    age = age_on(person, day)
    maximum = max_age_female if person.sex == "female" else max_age_male
    return RuleResult(
        "age",
        outcome(min_age <= age <= maximum),
        inputs={"age": age, "sex": person.sex, "on_date": day},
        parameters={"min_age": min_age, "max_age": maximum},
        line=line,
    )


def not_excluded(
    facts: Facts, person: Person, day: date, excluded: list[str], *, line: int | None = None
) -> RuleResult:
    found = sorted(facts.categories_on(person.pk, day) & set(excluded))
    return RuleResult(
        "not_excluded",
        outcome(not found),
        inputs={"statuses": found, "on_date": day},
        parameters={"excluded_statuses": list(excluded)},
        line=line,
    )


def in_groups(
    facts: Facts, person: Person, day: date, groups: list[str], *, line: int | None = None
) -> RuleResult:
    found = sorted(facts.categories_on(person.pk, day) & set(groups))
    return RuleResult(
        "group_membership",
        outcome(bool(found)),
        inputs={"groups": found, "on_date": day},
        parameters={"eligible_groups": list(groups)},
        line=line,
    )


def person_not_held(
    facts: Facts, person: Person, *, role: str, line: int | None = None
) -> RuleResult:
    """No active hold on the person (ARCHITECTURE invariant 5). `role` says who they are here:
    "applicant" or "trainee"."""
    return RuleResult(
        "no_hold_person",
        outcome(person.pk not in facts.held_persons),
        inputs={"role": role},
        line=line,
    )


def organisation_not_held(
    facts: Facts, organisation_id: int, name: str, *, role: str, line: int | None = None
) -> RuleResult:
    """No active hold on the payee enterprise or the issuing platform ("payee", "platform")."""
    return RuleResult(
        "no_hold_organisation",
        outcome(organisation_id not in facts.held_organisations),
        inputs={"role": role, "name": name},
        line=line,
    )


def hours_amount(class_hours: Decimal, per_class_hour_fen: int) -> int:
    """Class hours × rate, rounded down to the fen (never up: money is never invented), and
    never below zero (a certificate row with negative hours pays nothing)."""
    return max(int((class_hours * per_class_hour_fen).to_integral_value(rounding=ROUND_DOWN)), 0)


def cap(
    amount_fen: int, limit_fen: int, code: str, *, parameter: str, line: int | None = None
) -> tuple[int, RuleResult | None]:
    """Apply a cap; the INFO result says how much it took off."""
    if amount_fen <= limit_fen:
        return amount_fen, None
    return limit_fen, RuleResult(
        code,
        INFO,
        inputs={"before_fen": amount_fen, "after_fen": limit_fen},
        parameters={parameter: limit_fen},
        line=line,
    )


def yearly_remaining(
    claims: list[EarlierClaim],
    year: int,
    amount_fen: int,
    limit_fen: int,
    *,
    parameter: str,
    line: int | None = None,
) -> tuple[int, RuleResult]:
    """What is left of a yearly cap after the person's other live claims that year: the
    amount is cut to it (INFO), or refused when nothing is left (FAIL)."""
    used = sum(c.amount_fen for c in claims_in_year(claims, year))
    left = max(limit_fen - used, 0)
    inputs = {"year": year, "used_fen": used, "before_fen": amount_fen}
    if left == 0:
        return 0, RuleResult(
            "yearly_cap_reached", FAIL, inputs=inputs, parameters={parameter: limit_fen}, line=line
        )
    granted = min(amount_fen, left)
    return granted, RuleResult(
        "yearly_cap",
        INFO if granted < amount_fen else PASS,
        inputs=inputs | {"after_fen": granted},
        parameters={parameter: limit_fen},
        line=line,
    )


def certificate_claim(
    programme: str,
    application: Application,
    facts: Facts,
    certificate: CompletionCertificate | None,
    *,
    person: Person,
) -> tuple[Assessment, LineDraft | None]:
    """The opening every claim on one certificate shares: the certificate is the applicant's
    and valid, a complete policy is in force where they live on the completion day, the one
    line, and the course-in-catalogue and class-hours rules. Returns the assessment (results
    so far) and its line, or no line when a rule ended the claim early."""
    results: list[RuleResult] = []
    assessment = Assessment(
        kind=programme, policy=None, policy_date=None, fund_source="", lines=[], results=results
    )
    found = certificate_valid(certificate, person.pk)
    results.append(found)
    if certificate is None or found.code == "certificate_present":
        return assessment, None
    day = certificate.completed_on
    policy = facts.policy(programme, application.region, day)
    assessment.policy, assessment.policy_date = policy, day
    results.append(policy_in_force(policy))
    if not policy.is_complete:
        return assessment, None
    assessment.fund_source = policy.values["fund"]
    line = certificate_line(person, certificate)
    assessment.lines.append(line)
    results.append(course_in_catalogue(facts, certificate, application.region))
    results.append(class_hours_rule(certificate))
    return assessment, line


def certificate_line(person: Person, certificate: CompletionCertificate) -> LineDraft:
    """The line of a training a certificate proves: its occupation, level, day and hours."""
    return LineDraft(
        person=person,
        certificate=certificate,
        occupation_id=certificate.occupation_id,
        skill_level=certificate.course.skill_level,
        training_date=certificate.completed_on,
        class_hours=certificate.class_hours,
    )


def class_hours_rule(certificate: CompletionCertificate) -> RuleResult:
    """The certificate credits some class hours."""
    return RuleResult(
        "class_hours",
        outcome(certificate.class_hours > 0),
        inputs={"class_hours": certificate.class_hours},
    )
