"""Personas and builders for the subsidies tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.test import TestCase
from django.utils import timezone

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.regions.models import Region
from zhipei.regions.testing import make_region_tree
from zhipei.subsidies import services
from zhipei.subsidies.models import PolicyVersion, Programme


def make_user(username: str, *roles: tuple[str, Region | None]) -> User:
    user = User.objects.create_user(username=username, password="x-unused-password-1")
    for role, region in roles:
        RoleAssignment.objects.create(
            user=user, role=role, region=region, granted_at=timezone.now()
        )
    return user


def make_version(
    region: Region | None,
    parameters: dict[str, Any],
    *,
    programme: str = Programme.LEARNER_TRAINING,
    start: date = date(2020, 1, 1),
    end: date | None = None,
    document_number: str = "测试〔2020〕1号",
    by: User | None = None,
) -> PolicyVersion:
    return services.create_policy_version(
        services.VersionDraft(
            programme=programme,
            region=region,
            effective_from=start,
            effective_to=end,
            parameters=parameters,
        ),
        document_number=document_number,
        by=by,
    )


class SubsidiesTestCase(TestCase):
    """Hubei tree. Labour officers: province (湖北), city (武汉), county (江岸区), outsider
    (西陵区, another city) and outsider_city (宜昌); finance officers in 武汉 and 宜昌;
    a system administrator and a learner."""

    regions: dict[str, Region]
    hubei: Region
    wuhan: Region
    jiangan: Region
    wuchang: Region
    yichang: Region
    xiling: Region
    province_officer: User
    city_officer: User
    county_officer: User
    outsider: User
    outsider_city: User
    finance: User
    finance_yichang: User
    sysadmin: User
    learner: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.regions = r = make_region_tree()
        cls.hubei, cls.wuhan, cls.jiangan = r["420000"], r["420100"], r["420102"]
        cls.wuchang, cls.yichang, cls.xiling = r["420106"], r["420500"], r["420502"]
        cls.province_officer = make_user("province", (Role.LABOUR_OFFICER, cls.hubei))
        cls.city_officer = make_user("city", (Role.LABOUR_OFFICER, cls.wuhan))
        cls.county_officer = make_user("county", (Role.LABOUR_OFFICER, cls.jiangan))
        cls.outsider = make_user("outsider", (Role.LABOUR_OFFICER, cls.xiling))
        cls.outsider_city = make_user("outsider_city", (Role.LABOUR_OFFICER, cls.yichang))
        cls.finance = make_user("finance", (Role.FINANCE_OFFICER, cls.wuhan))
        cls.finance_yichang = make_user("finance_yichang", (Role.FINANCE_OFFICER, cls.yichang))
        cls.sysadmin = make_user("sysadmin", (Role.SYSTEM_ADMIN, None))
        cls.learner = make_user("learner", (Role.LEARNER, None))
