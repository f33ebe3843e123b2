"""Learner training subsidy: a person claims for a course they completed, on the strength of
the completion certificate (培训合格证明); paid to the person from the skills special account
(notice 10号; policy-rules §3, §6, §15 `learner_training_subsidy`)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhipei.subsidies import rules
from zhipei.subsidies.facts import Facts
from zhipei.subsidies.kinds import register
from zhipei.subsidies.kinds.base import ApplicationKind, Assessment, RuleResult
from zhipei.subsidies.models import Application, Programme


class LearnerTraining(ApplicationKind):
    programme = Programme.LEARNER_TRAINING
    payee = "person"
    label = _("Training subsidy for learners")

    def assess(self, application: Application, facts: Facts) -> Assessment:
        person = facts.persons[application.person_id]  # type: ignore[index]
        certificate = facts.certificates.get(application.inputs.get("certificate", -1))
        assessment, line = rules.certificate_claim(
            self.programme, application, facts, certificate, person=person
        )
        if certificate is None or line is None or assessment.policy is None:
            return assessment
        results = assessment.results
        day = certificate.completed_on
        p = assessment.policy.values
        claims = facts.other_claims(person.pk, self.programme, application)
        # A training is subsidised once, whoever claims it: the enterprise's online-training
        # claim for the same certificate or occupation and level counts too.
        training_claims = claims + facts.other_claims(
            person.pk, Programme.ENTERPRISE_ONLINE_TRAINING, application
        )

        results.append(rules.same_certificate_claimed(training_claims, certificate))
        occupation_label = str(certificate.occupation) if certificate.occupation_id else ""
        once = rules.same_occupation_level(
            training_claims,
            certificate.occupation_id,
            certificate.course.skill_level,
            enabled=p["same_occupation_level_once"],
            occupation_label=occupation_label,
        )
        if once is not None:
            results.append(once)
        results.append(rules.yearly_count(claims, day.year, p["max_times_per_person_per_year"]))
        if p["next_only_after_previous_finished"]:
            results.append(rules.previous_finished(claims, certificate.started_on, day))
        # The window is the applicant's to claim in: measured on the day the claim was first
        # submitted (a slow review or a return for correction does not make it late), today
        # for a claim not yet submitted.
        claimed_on = (
            timezone.localdate(application.first_submitted_at)
            if application.first_submitted_at is not None
            else timezone.localdate()
        )
        results.append(rules.claim_window(day, p["claim_window_months"], claimed_on))
        results.append(
            rules.age_limits(
                person,
                day,
                min_age=p["min_age"],
                max_age_male=p["max_age_male"],
                max_age_female=p["max_age_female"],
            )
        )
        results.append(rules.not_excluded(facts, person, day, p["excluded_statuses"]))
        results.append(rules.person_not_held(facts, person, role="applicant"))
        results.append(
            rules.organisation_not_held(
                facts,
                certificate.platform.organisation_id,
                str(certificate.platform),
                role="platform",
            )
        )

        amount = rules.hours_amount(certificate.class_hours, p["per_class_hour_fen"])
        results.append(
            RuleResult(
                "amount",
                "info",
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
            results.append(capped)
        amount, yearly = rules.yearly_remaining(
            claims,
            day.year,
            amount,
            p["per_person_per_year_cap_fen"],
            parameter="per_person_per_year_cap_fen",
        )
        results.append(yearly)
        line.amount_fen = amount
        return assessment


register(LearnerTraining())
