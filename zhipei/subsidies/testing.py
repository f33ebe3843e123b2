"""A small world for subsidy tests, browser tests and benchmarks: the Hubei region tree, a
selected platform whose course counts in the catalogues, people with completion certificates,
officers at each level, the demo (§15) policies and a funded ledger.

Certificates are written as rows here (the learning app's tests cover how they are issued);
everything the subsidies app does is driven through its services.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.catalog.models import Course, InstitutionCatalogueEntry, ProjectCatalogueEntry
from zhipei.learning.models import CompletionCertificate, Enrolment
from zhipei.occupations.models import Occupation
from zhipei.orgs.models import Enterprise, Organisation, Platform
from zhipei.orgs.tests.helpers import make_uscc
from zhipei.people.models import Person
from zhipei.people.testing import make_id_number
from zhipei.regions.models import Region
from zhipei.regions.testing import make_region_tree
from zhipei.subsidies import demo, services
from zhipei.subsidies.models import FundSource

_serial = itertools.count(1)


TEST_PASSWORD = "correct-horse-battery-9"  # noqa: S105 - test accounts only


def make_user(
    username: str, *roles: tuple[str, Region | None], person: Person | None = None
) -> User:
    user = User.objects.create_user(username=username, password=TEST_PASSWORD, person=person)
    for role, region in roles:
        RoleAssignment.objects.create(
            user=user, role=role, region=region, granted_at=timezone.now()
        )
    return user


def make_org(region: Region, name: str, capacity: str) -> Organisation:
    serial = next(_serial)
    organisation = Organisation.objects.create(
        uscc=make_uscc(region.code, serial), name=name, region=region, address="测试地址"
    )
    if capacity == "enterprise":
        Enterprise.objects.create(organisation=organisation)
    elif capacity == "platform":
        Platform.objects.create(organisation=organisation, status=Platform.Status.SELECTED)
    return organisation


def make_person_row(
    region: Region, *, name: str = "王芳", birth: date = date(1990, 1, 1), sex: str = "female"
) -> Person:
    """A person row without going through the identity provider (fast, for volume)."""
    number = make_id_number(region.code, birth.strftime("%Y%m%d"), seq=2 if sex == "female" else 1)
    return Person.objects.create(
        name=name,
        id_ciphertext=b"test-only",
        id_key_id="test",
        id_blind_index=secrets.token_hex(16),
        id_masked=number[:3] + "*" * 11 + number[-4:],
        birth_date=birth,
        sex=sex,
        birth_region_code=region.code,
        region=region,
        verification=Person.Verification.FORMAT_ONLY,
        verification_provider="checksum-only",
    )


@dataclass
class ClaimWorld:
    regions: dict[str, Region]
    platform: Platform
    welder: Occupation
    course: Course
    county_officer: User
    city_officer: User
    finance_officer: User
    extra: dict[str, Any] = field(default_factory=dict)

    def another_course(self, course: Course | None = None) -> Course:
        return _copy_course(course or self.course)

    @property
    def jiangan(self) -> Region:
        return self.regions["420102"]

    def certificate(
        self,
        person: Person,
        *,
        hours: str = "40.0",
        started_on: date = date(2026, 3, 1),
        completed_on: date = date(2026, 3, 20),
        course: Course | None = None,
        occupation: Occupation | None = None,
    ) -> CompletionCertificate:
        course = course or self.course
        if Enrolment.objects.filter(person=person, course=course).exists():
            # One enrolment per person and course: a second certificate is for another course
            # of the same platform and occupation (it counts in the same catalogues).
            course = self.another_course(course)
        enrolment = Enrolment.objects.create(
            person=person,
            course=course,
            platform=course.platform,
            occupation=occupation or self.welder,
            enrolled_at=timezone.now(),
        )
        serial = next(_serial)
        return CompletionCertificate.objects.create(
            number=f"420102-2026-{serial:06d}-X",
            token=secrets.token_urlsafe(24),
            enrolment=enrolment,
            person=person,
            course=course,
            occupation=occupation or self.welder,
            platform=course.platform,
            class_hours=Decimal(hours),
            started_on=started_on,
            completed_on=completed_on,
            issued_at=timezone.now(),
        )


def _copy_course(course: Course) -> Course:
    serial = next(_serial)
    now = timezone.now()
    copy = Course.objects.create(
        platform=course.platform,
        external_id=f"{course.external_id}-{serial}",
        title=f"{course.title} ({serial})",
        class_hours=course.class_hours,
        activity_iri=f"{course.activity_iri}-{serial}",
        url=f"{course.url}-{serial}",
        region=course.region,
        status=course.status,
        status_changed_at=now,
        created_at=now,
        updated_at=now,
        skill_level=course.skill_level,
    )
    copy.occupations.set(course.occupations.all())
    return copy


def build_claim_world(*, budget_fen: int = 1_000_000_00) -> ClaimWorld:
    regions = make_region_tree()
    hubei, wuhan, jiangan = regions["420000"], regions["420100"], regions["420102"]
    demo.load_demo_policies()
    for source in FundSource.values:
        services.allocate_budget(
            source=source,
            region=wuhan,
            amount_fen=budget_fen,
            by=None,
            reference=f"test-budget-{source}",
        )
    platform = make_org(hubei, "智能学习平台", "platform").platform
    major = Occupation.objects.get_or_create(
        code="6", defaults={"level": 1, "name": "生产制造及有关人员"}
    )[0]
    welder = Occupation.objects.get_or_create(
        code="6-18-02-04", defaults={"level": 4, "name": "焊工", "parent": major}
    )[0]
    now = timezone.now()
    course = Course.objects.create(
        platform=platform,
        external_id="weld-1",
        title="焊工（初级）在线课程",
        class_hours=40,
        activity_iri="https://platform.example.cn/courses/weld-1",
        url="https://platform.example.cn/c/weld-1",
        region=hubei,
        status=Course.Status.APPROVED,
        status_changed_at=now,
        created_at=now,
        updated_at=now,
        skill_level=5,
    )
    course.occupations.set([welder])
    institution = InstitutionCatalogueEntry.objects.create(
        region=hubei,
        organisation=platform.organisation,
        nature=InstitutionCatalogueEntry.Nature.values[0],
        valid_from=date(2020, 1, 1),
        source="manual",
        created_at=now,
    )
    institution.occupations.set([welder])
    ProjectCatalogueEntry.objects.create(
        region=hubei,
        occupation=welder,
        training_type=ProjectCatalogueEntry.TrainingType.values[0],
        valid_from=date(2020, 1, 1),
        created_at=now,
    )
    return ClaimWorld(
        regions=regions,
        platform=platform,
        welder=welder,
        course=course,
        county_officer=make_user("county-officer", (Role.LABOUR_OFFICER, jiangan)),
        city_officer=make_user("city-officer", (Role.LABOUR_OFFICER, wuhan)),
        finance_officer=make_user("finance-officer", (Role.FINANCE_OFFICER, wuhan)),
    )
