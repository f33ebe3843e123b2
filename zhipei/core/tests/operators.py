"""A Django-admin operator for the tests of any app (core.admin): an active staff user with a
system-administrator role. The role model is found through the app registry, so the tests of
the lowest layers need not import accounts."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils import timezone


def make_operator(username: str = "operator") -> Any:
    user = get_user_model().objects.create_user(
        username=username, password="a-long-enough-password", is_staff=True
    )
    apps.get_model("accounts", "RoleAssignment").objects.create(
        user=user, role="system_admin", granted_at=timezone.now()
    )
    return user
