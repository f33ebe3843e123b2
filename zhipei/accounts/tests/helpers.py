"""Personas and small builders for the accounts tests (and for other apps' tests)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.test import TestCase

from zhipei.accounts.models import Role, User
from zhipei.accounts.services import create_user, grant_role
from zhipei.orgs.models import Organisation
from zhipei.people.models import Person
from zhipei.regions.models import Region
from zhipei.regions.testing import make_region_tree

PASSWORD = "Corr3ct-Horse-Battery"


def make_person(region: Region, **overrides: Any) -> Person:
    """A Person row with stand-in ciphertext: these tests never decrypt it."""
    values: dict[str, Any] = {
        "name": "王芳",
        "id_ciphertext": b"not-a-real-ciphertext",
        "id_key_id": "test",
        "id_blind_index": f"blind-{region.code}-{Person.objects.count()}",
        "id_masked": "420***********123X",
        "birth_date": date(1990, 1, 1),
        "sex": "female",
        "birth_region_code": region.code,
        "phone": "13900000001",
        "region": region,
        "verification": Person.Verification.FORMAT_ONLY,
        "verification_provider": "checksum_only",
    }
    values.update(overrides)
    return Person.objects.create(**values)


def make_user(username: str, *, password: str | None = PASSWORD, **kwargs: Any) -> User:
    return create_user(username=username, password=password, **kwargs)


def make_officer(username: str, region: Region, *, role: str = Role.LABOUR_OFFICER) -> User:
    user = make_user(username)
    grant_role(user, role=role, region=region, by=None)
    return user


class PersonaTestCase(TestCase):
    """Regions of zhipei.regions.testing and one user per role:

    admin (system admin, staff), province (420000), city (420100), county (420102) and
    outsider (420502) labour officers, finance (420100), wang (learner with a Person and a
    phone), hr (enterprise admin of `organisation` in 420102) and plain (no role).
    """

    regions: dict[str, Region]
    organisation: Organisation
    admin: User
    province: User
    city: User
    county: User
    outsider: User
    finance: User
    wang: User
    hr: User
    plain: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.regions = r = make_region_tree()
        cls.organisation = Organisation.objects.create(
            uscc="914201027000000001", name="江岸机械厂", region=r["420102"]
        )
        cls.admin = make_user("admin")
        cls.admin.is_staff = True
        cls.admin.save(update_fields=["is_staff"])
        grant_role(cls.admin, role=Role.SYSTEM_ADMIN, by=None)
        cls.province = make_officer("province", r["420000"])
        cls.city = make_officer("city", r["420100"])
        cls.county = make_officer("county", r["420102"])
        cls.outsider = make_officer("outsider", r["420502"])
        cls.finance = make_officer("finance", r["420100"], role=Role.FINANCE_OFFICER)
        person = make_person(r["420102"])
        cls.wang = make_user("wang", phone="13900000001", person=person, display_name="王芳")
        grant_role(cls.wang, role=Role.LEARNER, by=None)
        cls.hr = make_user("hr")
        grant_role(cls.hr, role=Role.ENTERPRISE_ADMIN, organisation=cls.organisation, by=None)
        cls.plain = make_user("plain")
