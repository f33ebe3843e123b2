"""Reads about users and their roles."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest

from zhipei.accounts.models import OFFICER_ROLES, RoleAssignment, User
from zhipei.accounts.phones import is_mobile, normalise_mobile

# Smaller is higher: a province officer outranks a prefecture (city) officer.
LEVEL_RANK: dict[str, int] = {"province": 0, "prefecture": 1, "county": 2}


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, as the User it is in every view that login_required or a role
    check guards: an anonymous user never reaches those."""
    user = request.user
    assert isinstance(user, User)
    return user


def roles_of(user: User) -> list[RoleAssignment]:
    """The user's active role assignments with their regions and organisations loaded."""
    if not user.is_authenticated:
        return []
    return list(
        RoleAssignment.objects.filter(user=user, revoked_at__isnull=True)
        .select_related("region", "organisation")
        .order_by("role", "region__code", "organisation__name", "pk")
    )


def officer_level(user: User, *, roles: frozenset[str] = OFFICER_ROLES) -> str | None:
    """The highest level ("province", "prefecture" or "county") among the user's active
    officer assignments (of `roles`), or None when the user holds no such role."""
    if not user.is_authenticated or not user.is_active:
        return None
    levels = set(
        RoleAssignment.objects.filter(
            user=user, role__in=roles, revoked_at__isnull=True, region__isnull=False
        ).values_list("region__level", flat=True)
    )
    ranked = sorted((level for level in levels if level in LEVEL_RANK), key=LEVEL_RANK.__getitem__)
    return ranked[0] if ranked else None


def find_user_for_login(identifier: str) -> User | None:
    """The user whose username is `identifier`, else whose phone it is (typed in any common
    mobile format). create_user keeps one user's phone from being another's username."""
    identifier = identifier.strip()
    if not identifier:
        return None
    user = User.objects.filter(username=identifier).first()
    if user is not None:
        return user
    phone = normalise_mobile(identifier)
    if is_mobile(phone):
        return User.objects.filter(phone=phone).first()
    return None


def user_with_phone(phone: str) -> User | None:
    """The active user holding this (normalised) mobile number."""
    return User.objects.filter(phone=phone, is_active=True).first()


def username_or_phone_taken(value: str, *, exclude_pk: int | None = None) -> bool:
    queryset = User.objects.filter(Q(username=value) | Q(phone=value))
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    return queryset.exists()
