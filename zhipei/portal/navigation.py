"""Navigation entries per role. Each app's pages register here as they are built."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavEntry:
    label: str | Promise
    url: str


def entries_for(request: HttpRequest) -> list[NavEntry]:
    entries = [NavEntry(_("Home"), reverse("portal:home"))]
    return entries
