"""Living allowance during training (生活费补贴, R14): a person of one of the five groups gets
an allowance for the online training a completion certificate proves; paid to the person
from the employment subsidy fund (notice 10号 §1.3; policy-rules §4, §15 `living_allowance`).

Inputs: {"certificate": <CompletionCertificate pk>}. The allowance is the online rate per
class hour times the certificate's class hours, never with a transport allowance; for a
blended course (线上学习线下实训) each day the person was present at one of its offline
practical sessions between the start and the completion adds the offline day rate, which
may include transport (policy-rules §15 `includes_transport`; the flag decides what the
reason says). The yearly cap is a share of the local monthly
minimum wage (Qingdao: 60%). The programme has no claim window: none is applied.

Zhipei also proposes the allowance to the person without an application where the policy
says so (政策找人, subsidies.proposals).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from zhipei.core.errors import InvalidInput
from zhipei.subsidies import rules
from zhipei.subsidies.facts import EarlierClaim, Facts
from zhipei.subsidies.kinds import register
from zhipei.subsidies.kinds.base import (
    FAIL,
    INFO,
    PASS,
    ApplicationKind,
    Assessment,
    RuleResult,
)
from zhipei.subsidies.models import Application, Programme
from zhipei.subsidies.reasons import add_sentences

INPUT_KEYS = frozenset({"certificate"})


def clean_inputs(raw: Any) -> dict[str, Any]:
    """The inputs of a living-allowance claim, checked: {"certificate": <pk>}; a missing
    certificate is left to the rules (they explain it). Raises InvalidInput (with the field)
    for anything malformed."""
    if not isinstance(raw, dict):
        raise InvalidInput(_("The claim's inputs must be an object."))
    unknown = sorted(str(k) for k in raw if k not in INPUT_KEYS)
    if unknown:
        raise InvalidInput(
            _("Unknown input: %(names)s.") % {"names": ", ".join(unknown)}, field=unknown[0]
        )
    certificate = raw.get("certificate")
    if certificate is None:
        return {}
    if isinstance(certificate, bool) or not isinstance(certificate, int) or certificate <= 0:
        raise InvalidInput(
            _("Name the completion certificate by its number in Zhipei (a whole number)."),
            field="certificate",
        )
    return {"certificate": certificate}


def percent(basis_points: int) -> str:
    """9500 → "95%", 1250 → "12.5%" (ratios are stored in basis points)."""
    whole, rest = divmod(basis_points, 100)
    return f"{whole}%" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0") + "%"


def yearly_cap_fen(values: dict[str, Any]) -> int:
    """The yearly cap: a share (basis points) of the local monthly minimum wage, in fen,
    rounded down."""
    return (
        int(values["min_monthly_wage_fen"]) * int(values["annual_cap_min_wage_ratio_bp"]) // 10_000
    )


def allowance_yearly_cap(
    claims: list[EarlierClaim], year: int, amount_fen: int, values: dict[str, Any]
) -> tuple[int, RuleResult]:
    """What is left of the yearly cap after the person's other live allowances that year: the
    amount is cut to it (INFO), or refused when nothing is left (FAIL)."""
    limit = yearly_cap_fen(values)
    used = sum(c.amount_fen for c in rules.claims_in_year(claims, year))
    left = max(limit - used, 0)
    inputs = {
        "year": year,
        "used_fen": used,
        "before_fen": amount_fen,
        "annual_cap_fen": limit,
        "share": percent(values["annual_cap_min_wage_ratio_bp"]),
    }
    parameters = {
        "annual_cap_min_wage_ratio_bp": values["annual_cap_min_wage_ratio_bp"],
        "min_monthly_wage_fen": values["min_monthly_wage_fen"],
    }
    if left == 0:
        return 0, RuleResult(
            "allowance_yearly_cap_reached", FAIL, inputs=inputs, parameters=parameters
        )
    granted = min(amount_fen, left)
    return granted, RuleResult(
        "allowance_yearly_cap",
        INFO if granted < amount_fen else PASS,
        inputs=inputs | {"after_fen": granted},
        parameters=parameters,
    )


class LivingAllowance(ApplicationKind):
    programme = Programme.LIVING_ALLOWANCE
    payee = "person"
    label = _("Living allowance during training")

    def assess(self, application: Application, facts: Facts) -> Assessment:
        inputs = clean_inputs(application.inputs)
        person = facts.persons[application.person_id]  # type: ignore[index]
        certificate_id = inputs.get("certificate")
        certificate = facts.certificates.get(certificate_id) if certificate_id else None
        # The policy in force where the person lives on the day the training was completed;
        # it pays from the employment subsidy fund (10号).
        assessment, line = rules.certificate_claim(
            self.programme, application, facts, certificate, person=person
        )
        if certificate is None or line is None or assessment.policy is None:
            return assessment
        results = assessment.results
        day = certificate.completed_on
        p = assessment.policy.values
        claims = facts.other_claims(person.pk, self.programme, application)

        results.append(rules.same_certificate_claimed(claims, certificate))
        results.append(rules.in_groups(facts, person, day, p["eligible_groups"]))
        occupation_label = str(certificate.occupation) if certificate.occupation_id else ""
        once = rules.same_occupation_level(
            claims,
            certificate.occupation_id,
            certificate.course.skill_level,
            enabled=p["same_occupation_level_once"],
            occupation_label=occupation_label,
        )
        if once is not None:
            results.append(once)
        times = rules.yearly_count(claims, day.year, p["max_times_per_year"])
        times.code = "allowance_times_per_year"
        results.append(times)
        results.append(rules.person_not_held(facts, person, role="applicant"))
        results.append(
            rules.organisation_not_held(
                facts,
                certificate.platform.organisation_id,
                str(certificate.platform),
                role="platform",
            )
        )

        # Online training: the online rate per class hour, never a transport allowance.
        amount = rules.hours_amount(certificate.class_hours, p["online_rate_per_class_hour_fen"])
        results.append(
            RuleResult(
                "allowance_amount",
                INFO,
                inputs={
                    "class_hours": certificate.class_hours,
                    "amount_fen": amount,
                    "channel": "online",
                },
                parameters={
                    "online_rate_per_class_hour_fen": p["online_rate_per_class_hour_fen"],
                    "includes_transport": False,
                },
            )
        )
        # A blended course's offline practical days: the day rate, which may include transport.
        offline = facts.offline_days(certificate)
        if offline:
            offline_fen = len(offline) * int(p["offline_rate_per_day_fen"])
            amount += offline_fen
            results.append(
                RuleResult(
                    "allowance_offline_days"
                    if p["offline_rate_includes_transport"]
                    else "allowance_offline_days_no_transport",
                    INFO,
                    inputs={
                        "days": len(offline),
                        "first_day": offline[0].isoformat(),
                        "last_day": offline[-1].isoformat(),
                        "offline_amount_fen": offline_fen,
                        "amount_fen": amount,
                    },
                    parameters={
                        "offline_rate_per_day_fen": p["offline_rate_per_day_fen"],
                        "offline_rate_includes_transport": p["offline_rate_includes_transport"],
                    },
                )
            )
        amount, yearly = allowance_yearly_cap(claims, day.year, amount, p)
        results.append(yearly)
        line.amount_fen = amount
        return assessment


add_sentences(
    {
        "allowance_times_per_year": {
            "pass": _(
                "%(count)s other living allowances in %(year)s (at most %(maximum)s a year)."
            ),
            "fail": _(
                "Already %(count)s living allowances in %(year)s; at most %(maximum)s a year."
            ),
        },
        "allowance_amount": {
            "info": _(
                "%(class_hours)s class hours of online training × "
                "%(online_rate_per_class_hour_fen)s per class hour = %(amount_fen)s "
                "(online training carries no transport allowance)."
            ),
        },
        "allowance_offline_days": {
            "info": _(
                "Days at the course's offline practical sessions: %(days)s (%(first_day)s to "
                "%(last_day)s) × %(offline_rate_per_day_fen)s per day, transport included = "
                "%(offline_amount_fen)s; %(amount_fen)s in all."
            ),
        },
        "allowance_offline_days_no_transport": {
            "info": _(
                "Days at the course's offline practical sessions: %(days)s (%(first_day)s to "
                "%(last_day)s) × %(offline_rate_per_day_fen)s per day, transport not included "
                "= %(offline_amount_fen)s; %(amount_fen)s in all."
            ),
        },
        "allowance_yearly_cap": {
            "pass": _(
                "Within the yearly cap of %(annual_cap_fen)s (%(share)s of the monthly minimum "
                "wage of %(min_monthly_wage_fen)s); %(used_fen)s already granted in %(year)s."
            ),
            "info": _(
                "Cut to %(after_fen)s: the yearly cap is %(annual_cap_fen)s (%(share)s of the "
                "monthly minimum wage of %(min_monthly_wage_fen)s) and %(used_fen)s was already "
                "granted in %(year)s."
            ),
        },
        "allowance_yearly_cap_reached": {
            "fail": _(
                "The yearly cap of %(annual_cap_fen)s (%(share)s of the monthly minimum wage of "
                "%(min_monthly_wage_fen)s) is used up: %(used_fen)s already granted in %(year)s."
            ),
        },
    }
)

register(LivingAllowance())
