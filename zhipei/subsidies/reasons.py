"""The sentence an applicant or officer reads for one eligibility rule result, rendered from
its code, inputs and parameters in the active language (ARCHITECTURE invariant 8).

Each code has a sentence for "pass" and one for "fail" (or "info"); placeholders name keys of
the result's inputs and parameters. Amounts (keys ending in `_fen`) are shown in yuan, lists
joined, choice values shown by their labels. A kind adding rules adds its sentences to
`SENTENCES` (kinds register them at import, see `add_sentences`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from zhipei.core.money import yuan

# code → {outcome: sentence}
SENTENCES: dict[str, dict[str, str | Promise]] = {
    "policy_in_force": {
        "pass": _("A complete policy is in force here on %(on_date)s (%(documents)s)."),
        "fail": _(
            "No complete policy is in force here on %(on_date)s; not set: %(missing)s. "
            "Ask the labour bureau."
        ),
    },
    "certificate_present": {
        "fail": _("No completion certificate of yours was named for this claim."),
    },
    "certificate_valid": {
        "pass": _("Completion certificate %(number)s is valid."),
        "fail": _("Completion certificate %(number)s has been revoked."),
    },
    "course_in_catalogue": {
        "pass": _("The course “%(course)s” was in the training catalogues on %(on_date)s."),
        "fail": _(
            "The course “%(course)s” was not in the training catalogues on %(on_date)s "
            "(%(reasons)s)."
        ),
    },
    "class_hours": {
        "pass": _("%(class_hours)s class hours were credited."),
        "fail": _("No class hours were credited."),
    },
    "certificate_not_claimed": {
        "pass": _("Certificate %(number)s has not been claimed before."),
        "fail": _("Certificate %(number)s is already claimed in application %(other)s."),
    },
    "occupation_level_once": {
        "pass": _("%(occupation)s at level %(level)s has not been subsidised before."),
        "fail": _(
            "%(occupation)s at level %(level)s is already subsidised or claimed (application "
            "%(other)s); the same occupation and level is subsidised only once."
        ),
    },
    "times_per_year": {
        "pass": _("%(count)s other subsidised trainings in %(year)s (at most %(maximum)s)."),
        "fail": _(
            "Already %(count)s subsidised trainings in %(year)s; at most %(maximum)s a year."
        ),
    },
    "previous_training_finished": {
        "pass": _("No other subsidised training overlaps this one."),
        "fail": _(
            "This training overlaps the one claimed in application %(other)s; the next "
            "training is subsidised only after the previous one ended."
        ),
    },
    "claim_window": {
        "pass": _("Claimed in time: claims are open until %(closes_on)s."),
        "fail": _(
            "Too late: claims closed on %(closes_on)s, %(claim_window_months)s months after "
            "the training ended on %(completed_on)s."
        ),
    },
    "age": {
        "pass": _("Age %(age)s on %(on_date)s is within %(min_age)s–%(max_age)s."),
        "fail": _("Age %(age)s on %(on_date)s is outside %(min_age)s–%(max_age)s."),
    },
    "not_excluded": {
        "pass": _("Not among the people excluded from this subsidy."),
        "fail": _("Excluded from this subsidy on %(on_date)s: %(statuses)s."),
    },
    "group_membership": {
        "pass": _("Belonged on %(on_date)s to an eligible group: %(groups)s."),
        "fail": _(
            "Did not belong on %(on_date)s to any of the eligible groups (%(eligible_groups)s)."
        ),
    },
    "no_hold_person": {
        "pass": _("No hold on the %(role)s."),
        "fail": _(
            "Payments to or for the %(role)s are on hold; the labour bureau will tell them why."
        ),
    },
    "no_hold_organisation": {
        "pass": _("No hold on %(name)s."),
        "fail": _("%(name)s is on hold; claims it is part of wait until the hold is lifted."),
    },
    "amount": {
        "info": _(
            "%(class_hours)s class hours × %(per_class_hour_fen)s per class hour = %(amount_fen)s."
        ),
    },
    "project_cap": {
        "info": _(
            "Capped at %(per_person_per_project_cap_fen)s per person per project "
            "(was %(before_fen)s)."
        ),
    },
    "yearly_cap": {
        "pass": _(
            "Within the yearly cap of %(per_person_per_year_cap_fen)s (%(used_fen)s already "
            "claimed in %(year)s)."
        ),
        "info": _(
            "Cut to %(after_fen)s: the yearly cap is %(per_person_per_year_cap_fen)s and "
            "%(used_fen)s was already claimed in %(year)s."
        ),
    },
    "yearly_cap_reached": {
        "fail": _(
            "The yearly cap of %(per_person_per_year_cap_fen)s is used up: %(used_fen)s "
            "already claimed in %(year)s."
        ),
    },
}

ROLE_LABELS: dict[str, str | Promise] = {
    "applicant": _("applicant"),
    "trainee": _("person trained"),
    "payee": _("payee"),
    "platform": _("issuing platform"),
}


def add_sentences(sentences: dict[str, dict[str, str | Promise]]) -> None:
    """For kinds defining their own rule codes."""
    for code in sentences:
        if code in SENTENCES:
            raise ValueError(f"Reason sentences for {code} are defined twice.")
    SENTENCES.update(sentences)


@functools.cache
def _labels(language: str | None, programme: str | None = None) -> dict[str, str]:
    """Labels of the values reasons show, in `language` (built once per language and
    programme: render runs for every rule of every application on a page)."""
    from zhipei.catalog.queries import Reason as CatalogueReason
    from zhipei.enterprises.models import EmploymentKind
    from zhipei.people.models import PersonCategory
    from zhipei.subsidies.models import ApplicationStatus
    from zhipei.subsidies.parameters import SPECS, ShutdownKind

    labels = {str(v): str(label) for v, label in PersonCategory.Category.choices}
    labels |= {str(v): str(label) for v, label in CatalogueReason.choices}
    labels |= {spec.name: str(spec.label) for specs in SPECS.values() for spec in specs}
    labels |= {str(v): str(label) for v, label in ApplicationStatus.choices}
    labels |= {str(v): str(label) for v, label in ShutdownKind.choices}
    labels |= {str(v): str(label) for v, label in EmploymentKind.choices}
    labels |= {k: str(v) for k, v in ROLE_LABELS.items()}
    if programme:
        # Parameter names read as that programme's labels (names repeat across programmes).
        labels |= {spec.name: str(spec.label) for spec in SPECS.get(programme, ())}
    return labels


def _shown(key: str, value: Any, labels: dict[str, str]) -> str:
    if key.endswith("_fen") and isinstance(value, int):
        return yuan(value)
    if isinstance(value, list):
        return "、".join(_shown(key, v, labels) for v in value) if value else "—"
    if isinstance(value, str):
        return labels.get(value, value)
    if value is None:
        return "—"
    return str(value)


@dataclass(frozen=True)
class Reason:
    code: str
    outcome: str
    text: str
    line: int | None


def render(result: dict[str, Any]) -> Reason:
    """One stored result ({"code", "outcome", "inputs", "parameters", "line"}) in words."""
    code, result_outcome = str(result.get("code", "")), str(result.get("outcome", ""))
    programme = result.get("inputs", {}).get("programme")
    labels = _labels(get_language(), str(programme) if programme else None)
    values = {
        key: _shown(key, value, labels)
        for key, value in {**result.get("parameters", {}), **result.get("inputs", {})}.items()
    }
    sentence = SENTENCES.get(code, {}).get(result_outcome)
    if sentence is None:
        text = gettext("Rule %(code)s: %(outcome)s.") % {"code": code, "outcome": result_outcome}
    else:
        try:
            text = str(sentence) % values
        except (KeyError, TypeError, ValueError):
            text = str(sentence).split("%(")[0].strip() or code
    return Reason(code=code, outcome=result_outcome, text=text, line=result.get("line"))


def render_all(results: list[dict[str, Any]]) -> list[Reason]:
    return [render(r) for r in results]
