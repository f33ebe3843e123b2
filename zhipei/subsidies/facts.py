"""Everything the eligibility rules read, loaded for many applications at once.

`Facts.load(applications)` runs a fixed number of queries whatever the number of
applications (people, their categories and holds, certificates, earlier claims, organisation
holds); policies and catalogue answers are memoised per (programme, region, date) and
(course, region, date), which repeat heavily in a batch. Rules then read plain Python data.

Policies and catalogue answers are also read in bulk, so that a batch with many training dates
stays a handful of queries (issue 5's benchmark): a region's policy versions are read once for
every date and filtered by date here, exactly as `resolve_policy` filters them in SQL; the
catalogue question for every certificate the applications name, in the applicant's region, is
answered at the first catalogue lookup by `catalogue_statuses` (same answers as
`catalogue_status`). Other questions fall back to the one-at-a-time functions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar, cast

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Lookup, Q, QuerySet
from django.utils import timezone

from zhipei.catalog.models import Attendance, Course
from zhipei.catalog.queries import CatalogueAnswer, catalogue_status, catalogue_statuses
from zhipei.learning.models import CompletionCertificate
from zhipei.occupations.models import Occupation
from zhipei.orgs.models import OrganisationHold, Platform
from zhipei.people.models import Person, PersonCategory, PersonHold
from zhipei.regions.models import Region
from zhipei.subsidies.models import Application, ApplicationLine, PolicyVersion
from zhipei.subsidies.queries import ResolvedPolicy, merge_versions, region_chain


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
    # Catalogue questions to answer together at the first lookup (see the module docstring).
    _catalogue_pending: list[tuple[Course, Region, date]] = field(default_factory=list)
    # Regions of the applications loaded: their chains and policy versions are read together.
    _region_ids: set[int] = field(default_factory=set)
    _chains: dict[int, list[Region]] = field(default_factory=dict)
    # (programme, region id or None for national) → that level's versions, in model order.
    _versions: dict[tuple[str, int | None], list[PolicyVersion]] = field(default_factory=dict)
    _merged: dict[tuple[str, int | None, tuple[int, ...]], ResolvedPolicy] = field(
        default_factory=dict
    )
    # Courses, platforms, occupations and regions the loaded rows share, by (model, pk).
    _shared: dict[tuple[type[models.Model], int], models.Model] = field(default_factory=dict)
    # certificate id → the days its holder attended the course's offline sessions (lazy)
    _offline_days: dict[int, list[date]] | None = None

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
            listed = application.inputs.get("certificates")
            # Malformed inputs are the kind's to refuse (InvalidInput), not a crash here.
            for certificate_id in listed if isinstance(listed, list) else ():
                if isinstance(certificate_id, int):
                    certs.add(certificate_id)
            if application.enterprise is not None:
                orgs.add(application.enterprise.organisation_id)
        facts.load_certificates(certs)
        for certificate in facts.certificates.values():
            people.add(certificate.person_id)
            orgs.add(certificate.platform.organisation_id)
        for application in applications:
            facts._region_ids.add(application.region_id)
            named = [application.inputs.get("certificate")]
            listed = application.inputs.get("certificates", ())
            named += list(listed) if isinstance(listed, list) else []
            for certificate_id in named:
                if not isinstance(certificate_id, int):
                    continue
                found = facts.certificates.get(certificate_id)
                if found is not None:
                    facts._catalogue_pending.append(
                        (found.course, application.region, found.completed_on)
                    )
        facts.load_people(people)
        facts.held_organisations = set(
            OrganisationHold.objects.filter(
                any_of("organisation_id", orgs), lifted_at__isnull=True
            ).values_list("organisation_id", flat=True)
        )
        return facts

    def load_certificates(self, ids: set[int]) -> None:
        """The certificates with their course, platform (and its organisation) and occupation.
        Those repeat across thousands of certificates: read once and shared, not joined in
        and built again for every row."""
        missing = ids - self.certificates.keys()
        if not missing:
            return
        found = list(CompletionCertificate.objects.filter(any_of("pk", missing)))
        courses = _by_pk(Course.objects.all(), {c.course_id for c in found}, self._shared)
        platforms = _by_pk(
            Platform.objects.select_related("organisation"),
            {c.platform_id for c in found},
            self._shared,
        )
        occupations = _by_pk(
            Occupation.objects.all(),
            {c.occupation_id for c in found if c.occupation_id is not None},
            self._shared,
        )
        for certificate in found:
            certificate.course = courses[certificate.course_id]
            certificate.platform = platforms[certificate.platform_id]
            if certificate.occupation_id is not None:
                certificate.occupation = occupations[certificate.occupation_id]
            self.certificates[certificate.pk] = certificate

    def offline_days(self, certificate: CompletionCertificate) -> list[date]:
        """The days (local dates, in order) on which the certificate's holder was present at
        an offline practical session of its course (线上学习线下实训, catalog.Attendance)
        between the training's start and its completion. Read for every loaded certificate at
        the first call: one query, and only for the kinds that ask."""
        if self._offline_days is None:
            self._offline_days = {}
            wanted = {(c.person_id, c.course_id) for c in self.certificates.values()}
            attended: dict[tuple[int, int], set[date]] = defaultdict(set)
            rows = Attendance.objects.filter(
                any_of("person_id", {person for person, _course in wanted}),
                any_of("session__course_id", {course for _person, course in wanted}),
                present=True,
            ).values_list("person_id", "session__course_id", "session__starts_at")
            for person_id, course_id, starts_at in rows:
                if (person_id, course_id) in wanted:
                    attended[person_id, course_id].add(timezone.localdate(starts_at))
            for pk, found in self.certificates.items():
                days = attended.get((found.person_id, found.course_id), set())
                self._offline_days[pk] = sorted(
                    d for d in days if found.started_on <= d <= found.completed_on
                )
        return self._offline_days.get(certificate.pk, [])

    def load_people(self, ids: set[int]) -> None:
        missing = ids - self.persons.keys()
        if not missing:
            return
        people = list(Person.objects.filter(any_of("pk", missing)))
        regions = _by_pk(Region.objects.all(), {p.region_id for p in people}, self._shared)
        for person in people:
            person.region = regions[person.region_id]
            self.persons[person.pk] = person
        # Unordered: categories are only ever read as a set (categories_on).
        for category in PersonCategory.objects.filter(any_of("person_id", missing)).order_by():
            self.categories[category.person_id].append(category)
        self.held_persons |= set(
            PersonHold.objects.filter(
                any_of("person_id", missing), lifted_at__isnull=True
            ).values_list("person_id", flat=True)
        )
        lines = (
            # `live` is cleared in the same transaction that rejects or withdraws (workflow).
            ApplicationLine.objects.filter(any_of("person_id", missing), live=True)
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
        """`resolve_policy(programme, region, on_date)`, from the region's versions read once."""
        region_id = region.pk if region is not None else None
        key = (programme, region_id, on_date)
        found = self._policies.get(key)
        if found is not None:
            return found
        chain = self._chain(region)
        levels: list[int | None] = [None, *(r.pk for r in chain)]
        self._load_versions(programme, levels)
        # versions_in_force: national first, then down the chain; in force on the date.
        versions = [
            v
            for level in levels
            for v in self._versions[programme, level]
            if v.effective_from <= on_date and (v.effective_to is None or v.effective_to >= on_date)
        ]
        # The merge depends on the versions only: dates with the same versions share it.
        merged_key = (programme, region_id, tuple(v.pk for v in versions))
        merged = self._merged.get(merged_key)
        if merged is None:
            merged = self._merged[merged_key] = merge_versions(programme, region, on_date, versions)
        found = self._policies[key] = ResolvedPolicy(
            programme=merged.programme,
            region=merged.region,
            on_date=on_date,
            parameters=merged.parameters,
            missing=merged.missing,
            problems=merged.problems,
            versions=merged.versions,
        )
        return found

    def _chain(self, region: Region | None) -> list[Region]:
        """region_chain(region); the chains of every application's region in one query."""
        if region is None:
            return []
        if region.pk not in self._chains:
            wanted = {pk for pk in self._region_ids if pk not in self._chains} | {region.pk}
            for found in Region.objects.filter(pk__in=wanted).select_related("parent__parent"):
                self._chains[found.pk] = region_chain(found)
        return self._chains[region.pk]

    def _load_versions(self, programme: str, levels: list[int | None]) -> None:
        """The programme's versions (withdrawn ones never apply) at these levels and at every
        level above the applications' regions, in one query, by level."""
        if all((programme, level) in self._versions for level in levels):
            return
        wanted = set(levels) | {None} | {r.pk for c in self._chains.values() for r in c}
        wanted = {level for level in wanted if (programme, level) not in self._versions}
        for level in wanted:
            self._versions[programme, level] = []
        ids = [level for level in wanted if level is not None]
        where = Q(line__region_id__in=ids)
        if None in wanted:
            where |= Q(line__region__isnull=True)
        for version in PolicyVersion.objects.filter(
            where, line__programme=programme, withdrawn_at__isnull=True
        ).select_related("line__region"):
            self._versions[programme, version.line.region_id].append(version)

    def catalogue(self, certificate: CompletionCertificate, region: Region) -> CatalogueAnswer:
        key = (certificate.course_id, region.pk, certificate.completed_on)
        if key not in self._catalogue and self._catalogue_pending:
            self._catalogue.update(catalogue_statuses(self._catalogue_pending))
            self._catalogue_pending = []
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


M = TypeVar("M", bound=models.Model)


def _by_pk(
    queryset: QuerySet[M], ids: set[int], shared: dict[tuple[type[models.Model], int], models.Model]
) -> dict[int, M]:
    """The rows of `ids`, each read once per Facts (`shared` remembers them)."""
    model = queryset.model
    wanted = {pk for pk in ids if (model, pk) not in shared}
    if wanted:
        for row in queryset.filter(any_of("pk", wanted)):
            shared[model, row.pk] = row
    return {pk: cast(M, shared[model, pk]) for pk in ids}


class AnyOf(Lookup[Any]):
    """`field = ANY(%s)` with the values as one array parameter on PostgreSQL, `IN (…)`
    elsewhere: the rows `field__in=values` gives, without a placeholder per value for the
    driver to parse and quote (a third of the client's time in a 1,000-row read). Used as an
    expression: `Model.objects.filter(any_of("pk", ids))`."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


def any_of(field_name: str, values: Iterable[int]) -> AnyOf:
    return AnyOf(F(field_name), [int(v) for v in values])


def live_claim_filter() -> Q:
    """Lines that claim something: the workflow clears `live` in the same transaction that
    rejects or withdraws their application, and the one-live-claim index relies on it."""
    return Q(live=True)
