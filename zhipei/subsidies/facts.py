"""Everything the eligibility rules read, loaded for many applications at once.

`Facts.load(applications)` runs a fixed number of queries whatever the number of
applications (people, their categories and holds, certificates, earlier claims, organisation
holds); policies and catalogue answers are memoised per (programme, region, date) and
(course, region, date), which repeat heavily in a batch. Rules then read plain Python data.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from django.db.models import Q

from zhipei.catalog.queries import CatalogueAnswer, catalogue_status
from zhipei.learning.models import CompletionCertificate
from zhipei.orgs.models import OrganisationHold
from zhipei.people.models import Person, PersonCategory, PersonHold
from zhipei.subsidies.models import DEAD_STATUSES, Application, ApplicationLine
from zhipei.subsidies.queries import ResolvedPolicy, resolve_policy

if TYPE_CHECKING:
    from zhipei.regions.models import Region


@dataclass(frozen=True)
class EarlierClaim:
    """A live line of another application: what the duplicate, count and cap rules count."""

    application_id: int
    number: str
    status: str
    kind: str
    person_id: int
    certificate_id: int | None
    occupation_id: int | None
    skill_level: int | None
    training_date: date | None
    started_on: date | None
    amount_fen: int


@dataclass
class Facts:
    persons: dict[int, Person] = field(default_factory=dict)
    categories: dict[int, list[PersonCategory]] = field(default_factory=lambda: defaultdict(list))
    held_persons: set[int] = field(default_factory=set)
    held_organisations: set[int] = field(default_factory=set)
    certificates: dict[int, CompletionCertificate] = field(default_factory=dict)
    claims: dict[int, list[EarlierClaim]] = field(default_factory=lambda: defaultdict(list))
    _policies: dict[tuple[str, int | None, date], ResolvedPolicy] = field(default_factory=dict)
    _catalogue: dict[tuple[int, int, date], CatalogueAnswer] = field(default_factory=dict)

    # --- loading ---------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        applications: list[Application],
        *,
        person_ids: set[int] | None = None,
        certificate_ids: set[int] | None = None,
        organisation_ids: set[int] | None = None,
    ) -> Facts:
        """Facts for `applications`: their applicants, the people and certificates their
        inputs name (kinds add these through the keyword arguments), and the organisations
        whose holds matter (payee enterprise, issuing platforms)."""
        facts = cls()
        people = set(person_ids or ())
        certs = set(certificate_ids or ())
        orgs = set(organisation_ids or ())
        for application in applications:
            if application.person_id:
                people.add(application.person_id)
            certificate_id = application.inputs.get("certificate")
            if isinstance(certificate_id, int):
                certs.add(certificate_id)
            for certificate_id in application.inputs.get("certificates", ()):
                if isinstance(certificate_id, int):
                    certs.add(certificate_id)
            if application.enterprise is not None:
                orgs.add(application.enterprise.organisation_id)
        facts.load_certificates(certs)
        for certificate in facts.certificates.values():
            people.add(certificate.person_id)
            orgs.add(certificate.platform.organisation_id)
        facts.load_people(people)
        facts.held_organisations = set(
            OrganisationHold.objects.filter(
                organisation_id__in=orgs, lifted_at__isnull=True
            ).values_list("organisation_id", flat=True)
        )
        return facts

    def load_certificates(self, ids: set[int]) -> None:
        missing = ids - self.certificates.keys()
        if not missing:
            return
        for certificate in CompletionCertificate.objects.filter(pk__in=missing).select_related(
            "course", "platform__organisation", "occupation"
        ):
            self.certificates[certificate.pk] = certificate

    def load_people(self, ids: set[int]) -> None:
        missing = ids - self.persons.keys()
        if not missing:
            return
        for person in Person.objects.filter(pk__in=missing).select_related("region"):
            self.persons[person.pk] = person
        for category in PersonCategory.objects.filter(person_id__in=missing):
            self.categories[category.person_id].append(category)
        self.held_persons |= set(
            PersonHold.objects.filter(person_id__in=missing, lifted_at__isnull=True).values_list(
                "person_id", flat=True
            )
        )
        lines = (
            ApplicationLine.objects.filter(person_id__in=missing, live=True)
            .exclude(application__status__in=DEAD_STATUSES)
            .select_related("certificate")
            .values_list(
                "application_id",
                "application__status",
                "kind",
                "person_id",
                "certificate_id",
                "occupation_id",
                "skill_level",
                "training_date",
                "certificate__started_on",
                "amount_fen",
                "included",
            )
        )
        for row in lines:
            (app_id, status, kind, person_id, cert_id, occ_id, level, day, started, amount, inc) = (
                row
            )
            if not inc:
                continue
            self.claims[person_id].append(
                EarlierClaim(
                    application_id=app_id,
                    number=f"SQ{app_id:08d}",
                    status=status,
                    kind=kind,
                    person_id=person_id,
                    certificate_id=cert_id,
                    occupation_id=occ_id,
                    skill_level=level,
                    training_date=day,
                    started_on=started,
                    amount_fen=amount,
                )
            )

    # --- lookups ---------------------------------------------------------------------------

    def policy(self, programme: str, region: Region | None, on_date: date) -> ResolvedPolicy:
        key = (programme, region.pk if region is not None else None, on_date)
        if key not in self._policies:
            self._policies[key] = resolve_policy(programme, region, on_date)
        return self._policies[key]

    def catalogue(self, certificate: CompletionCertificate, region: Region) -> CatalogueAnswer:
        key = (certificate.course_id, region.pk, certificate.completed_on)
        if key not in self._catalogue:
            self._catalogue[key] = catalogue_status(
                certificate.course, region, certificate.completed_on
            )
        return self._catalogue[key]

    def categories_on(self, person_id: int, on_date: date) -> set[str]:
        return {
            c.category
            for c in self.categories.get(person_id, ())
            if c.valid_from <= on_date and (c.valid_to is None or on_date <= c.valid_to)
        }

    def other_claims(
        self, person_id: int, kind: str, application: Application
    ) -> list[EarlierClaim]:
        return [
            c
            for c in self.claims.get(person_id, ())
            if c.kind == kind and c.application_id != application.pk
        ]


def live_claim_filter() -> Q:
    return Q(live=True) & ~Q(application__status__in=DEAD_STATUSES)
