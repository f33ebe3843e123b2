"""Reads about people. These are not region-scoped by themselves: officer-facing callers pass
their querysets through zhipei.accounts.scope (scope_to_regions / get_in_scope)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from django.conf import settings
from django.db.models import Q, QuerySet

from zhipei.core.crypto import blind_index
from zhipei.people.idnumber import normalise
from zhipei.people.models import (
    LearnerRegistrationKey,
    Person,
    PersonCategory,
    PersonHold,
    PlatformPseudonym,
)

ID_NUMBER_INDEX_PURPOSE = "people.person.id_number"


def id_number_blind_index(number: str) -> str:
    """The blind index stored in Person.id_blind_index for a normalised ID number."""
    return blind_index(number, purpose=ID_NUMBER_INDEX_PURPOSE)


def find_person_by_id_number(id_number: str) -> Person | None:
    """The person holding this ID number, found through the blind index (the number is
    normalised as `parse_id_number` does; anything that is not 18 characters finds nobody)."""
    number = normalise(id_number)
    if len(number) != 18:
        return None
    return (
        Person.objects.select_related("region")
        .filter(id_blind_index=id_number_blind_index(number))
        .first()
    )


def categories_on(person: Person, on_date: date) -> QuerySet[PersonCategory]:
    """The person's categories valid on `on_date`; `valid_to` is the last valid day."""
    return PersonCategory.objects.filter(person=person, valid_from__lte=on_date).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=on_date)
    )


def in_group_on(person: Person, category: str | Collection[str], on_date: date) -> bool:
    """Whether the person belonged on `on_date` to `category`, or to any of several categories
    (e.g. PersonCategory.LIVING_ALLOWANCE_GROUPS)."""
    wanted = [category] if isinstance(category, str) else list(category)
    return categories_on(person, on_date).filter(category__in=wanted).exists()


def active_holds(person: Person) -> QuerySet[PersonHold]:
    """Holds placed on the person and not lifted, newest first."""
    return PersonHold.objects.filter(person=person, lifted_at__isnull=True).order_by("-placed_at")


def has_active_hold(person: Person) -> bool:
    """Whether any hold blocks approvals and payments for the person (invariant 5)."""
    return active_holds(person).exists()


def person_for_pseudonym(platform_id: int, pseudonym: str) -> int | None:
    """The id of the person `platform_id` reports as `pseudonym` (xAPI actor.account.name
    under `<SITE_URL>/learners`), or None when the platform issued no such pseudonym. Used by
    the statement store to fill its person column; another platform's pseudonym finds nobody."""
    return (
        PlatformPseudonym.objects.filter(platform_id=platform_id, pseudonym=pseudonym)
        .values_list("person_id", flat=True)
        .first()
    )


def learner_registration(platform_id: int, key: str) -> LearnerRegistrationKey | None:
    """The answer recorded for a POST /api/v1/learners under this Idempotency-Key, if any."""
    return (
        LearnerRegistrationKey.objects.select_related("pseudonym")
        .filter(platform_id=platform_id, key=key)
        .first()
    )


def learners_home_page(site_url: str | None = None) -> str:
    """The `account.homePage` of every learner actor in statements: `<SITE_URL>/learners`
    (the account name is the platform's pseudonym for the person)."""
    return f"{(site_url or settings.SITE_URL).rstrip('/')}/learners"
