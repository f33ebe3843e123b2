"""Personas and builders for the catalogue and course tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.test import TestCase
from django.utils import timezone

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.catalog.catalogues.services import CourseData, LessonData
from zhipei.catalog.models import Course
from zhipei.occupations.models import Occupation, Trade
from zhipei.orgs import services as org_services
from zhipei.orgs.models import Organisation, Platform
from zhipei.orgs.uscc import mod31_check_char, org_code_check_char
from zhipei.regions.models import Region
from zhipei.regions.testing import make_region_tree

# A slice of the classification: two middle groups, three occupations, one trade.
_OCCUPATIONS = [
    ("4", 1, "社会生产服务和生活服务人员", None),
    ("4-04", 2, "信息传输、软件和信息技术服务人员", "4"),
    ("4-04-05", 3, "信息通信网络运行管理人员", "4-04"),
    ("4-04-05-05", 4, "人工智能训练师", "4-04-05"),
    ("4-04-05-06", 4, "数据标注员", "4-04-05"),
    ("6", 1, "生产制造及有关人员", None),
    ("6-01", 2, "农副产品加工人员", "6"),
    ("6-01-02", 3, "植物原料制作人员", "6-01"),
    ("6-01-02-01", 4, "制米工", "6-01-02"),
]


def make_occupations() -> dict[str, Occupation]:
    found: dict[str, Occupation] = {}
    for code, level, name, parent in _OCCUPATIONS:
        found[code], _ = Occupation.objects.get_or_create(
            code=code,
            defaults={
                "level": level,
                "name": name,
                "parent": found.get(parent) if parent else None,
            },
        )
    return found


def make_uscc(area: str, serial: int) -> str:
    body = f"{serial:08d}"
    first17 = "91" + area + body + org_code_check_char(body)
    return first17 + mod31_check_char(first17)


def make_user(username: str, *roles: tuple[str, Any, Any]) -> User:
    """roles: (role, region, organisation)."""
    user = User.objects.create_user(username=username, password="x-unused-password-1")
    for role, region, organisation in roles:
        RoleAssignment.objects.create(
            user=user,
            role=role,
            region=region,
            organisation=organisation,
            granted_at=timezone.now(),
        )
    return user


def make_platform(
    region: Region, serial: int, *, status: str = "selected", name: str = ""
) -> Platform:
    organisation = org_services.register_organisation(
        uscc=make_uscc(region.code, serial),
        name=name or f"在线平台{serial}",
        region=region,
        capacities={"platform"},
        by=None,
        address="武汉市江岸区某路1号",
    )
    Platform.objects.filter(organisation=organisation).update(status=status)
    return Platform.objects.select_related("organisation").get(organisation=organisation)


def lesson(n: int, *, prefix: str = "https://p.example/xapi/c1", **overrides: Any) -> LessonData:
    values: dict[str, Any] = {
        "external_id": f"L{n}",
        "title": f"第{n}课",
        "kind": "video",
        "activity_iri": f"{prefix}/l{n}",
        "media_duration_seconds": 600,
    }
    values.update(overrides)
    return LessonData(**values)


def course_data(external_id: str = "C1", **overrides: Any) -> CourseData:
    prefix = f"https://p.example/xapi/{external_id}"
    values: dict[str, Any] = {
        "external_id": external_id,
        "title": "人工智能训练入门",
        "description": "数据标注与模型训练基础",
        "kind": "standard",
        "occupation_codes": ["4-04-05-05"],
        "skill_level": 5,
        "categories": ["skills", "safety"],
        "class_hours": Decimal("12.5"),
        "online_percent": 100,
        "is_free": True,
        "free_from": date(2020, 3, 1),
        "free_until": date(2020, 6, 30),
        "requires_test": True,
        "activity_iri": prefix,
        "url": f"https://p.example/courses/{external_id}",
        "lessons": [
            lesson(1, prefix=prefix),
            lesson(2, prefix=prefix, kind="document", media_duration_seconds=None),
        ],
    }
    values.update(overrides)
    return CourseData(**values)


class CatalogueTestCase(TestCase):
    """Hubei tree; labour officers in the province, 武汉 (city), 江岸区 (county) and an
    outsider in 宜昌's 西陵区; a finance officer; a system admin; two selected platforms
    registered in 江岸区 (`platform`, `other`) with an operator each; a learner."""

    regions: dict[str, Region]
    hubei: Region
    wuhan: Region
    jiangan: Region
    wuchang: Region
    xiling: Region
    occupations: dict[str, Occupation]
    trade: Trade
    platform: Platform
    other: Platform
    province: User
    city: User
    county: User
    outsider: User
    finance: User
    sysadmin: User
    operator: User
    other_operator: User
    learner: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.regions = r = make_region_tree()
        cls.hubei, cls.wuhan, cls.jiangan = r["420000"], r["420100"], r["420102"]
        cls.wuchang, cls.xiling = r["420106"], r["420502"]
        cls.occupations = make_occupations()
        cls.trade = Trade.objects.create(
            occupation=cls.occupations["4-04-05-05"], name="人工智能数字人训练师"
        )
        cls.platform = make_platform(cls.jiangan, 1, name="江岸在线学院")
        cls.other = make_platform(cls.jiangan, 2, name="另一个平台")
        lo = Role.LABOUR_OFFICER
        cls.province = make_user("province", (lo, cls.hubei, None))
        cls.city = make_user("city", (lo, cls.wuhan, None))
        cls.county = make_user("county", (lo, cls.jiangan, None))
        cls.outsider = make_user("outsider", (lo, cls.xiling, None))
        cls.finance = make_user("finance", (Role.FINANCE_OFFICER, cls.wuhan, None))
        cls.sysadmin = make_user("sysadmin", (Role.SYSTEM_ADMIN, None, None))
        cls.operator = make_user(
            "operator", (Role.PLATFORM_OPERATOR, None, cls.platform.organisation)
        )
        cls.other_operator = make_user(
            "other_operator", (Role.PLATFORM_OPERATOR, None, cls.other.organisation)
        )
        cls.learner = make_user("learner", (Role.LEARNER, None, None))


def organisation_of(platform: Platform) -> Organisation:
    return platform.organisation


def course_count() -> int:
    return Course.objects.count()
