"""Personas and small builders for the orgs tests."""

from __future__ import annotations

from typing import Any

from django.test import TestCase
from django.utils import timezone

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.orgs import services
from zhipei.orgs.models import Organisation, Platform
from zhipei.orgs.uscc import mod31_check_char, org_code_check_char
from zhipei.regions.models import Region
from zhipei.regions.testing import make_region_tree


def make_uscc(area: str = "420102", serial: int = 1, prefix: str = "91") -> str:
    """A credit code that passes every check, for the given area code."""
    body = f"{serial:08d}"
    first17 = prefix + area + body + org_code_check_char(body)
    return first17 + mod31_check_char(first17)


def make_user(username: str, *roles: tuple[str, Any]) -> User:
    user = User.objects.create_user(username=username, password="x-unused-password-1")
    for role, region in roles:
        RoleAssignment.objects.create(
            user=user, role=role, region=region, granted_at=timezone.now()
        )
    return user


class OrgsTestCase(TestCase):
    """Hubei tree; officers in 武汉 (city) and 江岸区 (county); an outsider in 宜昌's 西陵区."""

    regions: dict[str, Region]
    wuhan: Region
    jiangan: Region
    wuchang: Region
    xiling: Region
    county_officer: User
    city_officer: User
    finance_officer: User
    outsider: User
    sysadmin: User
    learner: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.regions = make_region_tree()
        cls.wuhan = cls.regions["420100"]
        cls.jiangan = cls.regions["420102"]
        cls.wuchang = cls.regions["420106"]
        cls.xiling = cls.regions["420502"]
        cls.county_officer = make_user("county", (Role.LABOUR_OFFICER, cls.jiangan))
        cls.city_officer = make_user("city", (Role.LABOUR_OFFICER, cls.wuhan))
        cls.finance_officer = make_user("finance", (Role.FINANCE_OFFICER, cls.wuhan))
        cls.outsider = make_user("outsider", (Role.LABOUR_OFFICER, cls.xiling))
        cls.sysadmin = make_user("sysadmin", (Role.SYSTEM_ADMIN, None))
        cls.learner = make_user("learner", (Role.LEARNER, None))


def make_organisation(
    *,
    region: Any,
    serial: int = 1,
    name: str = "",
    capacities: set[str] | None = None,
    by: User | None = None,
    platform_status: str | None = None,
) -> Organisation:
    organisation = services.register_organisation(
        uscc=make_uscc(region.code, serial),
        name=name or f"Organisation {serial}",
        region=region,
        capacities=capacities if capacities is not None else {"enterprise"},
        by=by,
    )
    if platform_status is not None:
        Platform.objects.filter(organisation=organisation).update(status=platform_status)
        organisation.platform.refresh_from_db()
    return organisation
