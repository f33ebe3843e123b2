"""Personas shared by the people behaviour tests."""

from __future__ import annotations

from django.test import TestCase
from django.utils import timezone

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.regions.models import Region
from zhipei.regions.testing import make_region_tree


def make_user(username: str, *roles: tuple[str, str], regions: dict[str, Region]) -> User:
    user = User.objects.create_user(username=username, password="x" * 12)
    for role, code in roles:
        RoleAssignment.objects.create(
            user=user, role=role, region=regions[code], granted_at=timezone.now()
        )
    return user


class PeopleTestCase(TestCase):
    """Hubei tree; officers of Wuhan city (420100) and of a Wuhan county (420106), a finance
    officer of Wuhan, an outsider labour officer in Yichang (420502) and a plain user."""

    regions: dict[str, Region]
    wuchang: Region
    jiangan: Region
    city_officer: User
    county_officer: User
    finance_officer: User
    outsider: User
    nobody: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.regions = make_region_tree()
        cls.wuchang = cls.regions["420106"]
        cls.jiangan = cls.regions["420102"]
        cls.city_officer = make_user("city", (Role.LABOUR_OFFICER, "420100"), regions=cls.regions)
        cls.county_officer = make_user(
            "county", (Role.LABOUR_OFFICER, "420106"), regions=cls.regions
        )
        cls.finance_officer = make_user(
            "finance", (Role.FINANCE_OFFICER, "420100"), regions=cls.regions
        )
        cls.outsider = make_user("outsider", (Role.LABOUR_OFFICER, "420502"), regions=cls.regions)
        cls.nobody = User.objects.create_user(username="nobody", password="x" * 12)
