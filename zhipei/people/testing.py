"""Helpers for tests in any app: synthetic ID numbers and people created through the service."""

from __future__ import annotations

import itertools

from zhipei.accounts.models import User
from zhipei.people.idnumber import check_character
from zhipei.people.models import Person
from zhipei.regions.models import Region

_sequence = itertools.count(1)


def make_id_number(
    region_code: str = "420102", birth: str = "19900101", seq: int | None = None
) -> str:
    """A valid synthetic 18-character number; `seq` odd = male, even = female. Without `seq`
    each call gives a new sequence number (cycling through 001-999)."""
    number = (next(_sequence) % 999) + 1 if seq is None else seq
    body = f"{region_code}{birth}{number:03d}"
    return body + check_character(body)


def make_person(
    region: Region,
    *,
    name: str = "王芳",
    id_number: str | None = None,
    phone: str = "",
    by: User | None = None,
) -> Person:
    """A person registered through people.services.create_person; the ID number's address code
    defaults to the region's own code, so it must be a known region."""
    from zhipei.people.services import create_person

    return create_person(
        name=name,
        id_number=id_number or make_id_number(region.code),
        region=region,
        phone=phone,
        by=by,
    )
