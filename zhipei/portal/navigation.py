"""Role-aware navigation for base.html.

Each entry names a URL pattern; an entry whose pattern is not installed (an app not built yet)
is left out, so the menu only ever links to pages that exist. The user's roles are read with
one query per request and kept on the request.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from zhipei.accounts.models import Role, RoleAssignment


@dataclass(frozen=True)
class NavEntry:
    label: str | Promise
    url: str
    current: bool = False


@dataclass(frozen=True)
class _Candidate:
    label: str | Promise
    url_name: str
    roles: frozenset[str] | None  # None: everyone


_PUBLIC = None
_OFFICERS = frozenset({Role.LABOUR_OFFICER, Role.FINANCE_OFFICER})
_PLATFORM = frozenset({Role.PLATFORM_OPERATOR})

# Order is the order in the menu.
_CANDIDATES: tuple[_Candidate, ...] = (
    _Candidate(_("Home"), "portal:home", _PUBLIC),
    _Candidate(_("Training catalogue"), "catalogue:home", _PUBLIC),
    _Candidate(_("Selected platforms"), "selection:public_platforms", _PUBLIC),
    _Candidate(_("My learning"), "learning:mine", frozenset({Role.LEARNER})),
    _Candidate(_("My subsidies"), "subsidies:my_applications", frozenset({Role.LEARNER})),
    _Candidate(_("My profile"), "accounts:profile", frozenset({Role.LEARNER})),
    _Candidate(_("People"), "people:list", frozenset({Role.LABOUR_OFFICER})),
    _Candidate(_("Learning records"), "records:list", _OFFICERS),
    _Candidate(_("Completion certificates"), "certificates:list", _OFFICERS),
    _Candidate(_("Crediting policies"), "learning:policy_list", _OFFICERS),
    _Candidate(_("Organisations"), "orgs:list", _OFFICERS | {Role.SYSTEM_ADMIN}),
    _Candidate(_("Filings to review"), "filings:queue", frozenset({Role.LABOUR_OFFICER})),
    _Candidate(_("Course review"), "courses:review", frozenset({Role.LABOUR_OFFICER})),
    _Candidate(
        _("Catalogues"),
        "courses:institution_list",
        frozenset({Role.LABOUR_OFFICER, Role.SYSTEM_ADMIN}),
    ),
    _Candidate(_("My courses"), "courses:mine", frozenset({Role.PLATFORM_OPERATOR})),
    _Candidate(
        _("My filings"),
        "filings:mine",
        frozenset({Role.ENTERPRISE_ADMIN, Role.INSTITUTION_OPERATOR}),
    ),
    _Candidate(
        _("Shutdown declarations"), "enterprises:declarations", frozenset({Role.ENTERPRISE_ADMIN})
    ),
    _Candidate(_("Roster"), "enterprises:roster", frozenset({Role.ENTERPRISE_ADMIN})),
    _Candidate(
        _("Shutdowns to review"), "enterprises:review_queue", frozenset({Role.LABOUR_OFFICER})
    ),
    _Candidate(
        _("Subsidy claims"),
        "subsidies:enterprise_applications",
        frozenset({Role.ENTERPRISE_ADMIN}),
    ),
    _Candidate(_("Review claims"), "subsidies:review_home", _OFFICERS),
    _Candidate(_("Conflicts of interest"), "subsidies:conflicts", _OFFICERS),
    _Candidate(_("Subsidy policies"), "subsidies:policy_list", _OFFICERS),
    _Candidate(_("Funds"), "subsidies:fund_list", frozenset({Role.FINANCE_OFFICER})),
    _Candidate(_("Payment batches"), "subsidies:batch_list", frozenset({Role.FINANCE_OFFICER})),
    _Candidate(_("Platform selection"), "selection:calls", frozenset({Role.LABOUR_OFFICER})),
    _Candidate(_("My reviews"), "selection:my_reviews", frozenset({Role.LABOUR_OFFICER})),
    _Candidate(_("Calls for platforms"), "selection:open_calls", _PLATFORM),
    _Candidate(_("My platform"), "selection:my_platform", _PLATFORM),
)


def user_roles(request: HttpRequest) -> frozenset[str]:
    """The active roles of the request's user (one query, cached on the request)."""
    cached: frozenset[str] | None = getattr(request, "_zhipei_roles", None)
    if cached is not None:
        return cached
    user = getattr(request, "user", None)
    roles: frozenset[str] = frozenset()
    if user is not None and user.is_authenticated and user.is_active:
        roles = frozenset(
            RoleAssignment.objects.filter(user=user, revoked_at__isnull=True).values_list(
                "role", flat=True
            )
        )
    request._zhipei_roles = roles  # type: ignore[attr-defined]
    return roles


def _reverse_or_none(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _is_current(path: str, url: str) -> bool:
    if url == "/":
        return path == "/"
    return path.startswith(url)


def entries_for(request: HttpRequest) -> list[NavEntry]:
    """Menu entries the request's user may follow, in menu order."""
    roles = user_roles(request)
    user = getattr(request, "user", None)
    entries: list[NavEntry] = []
    for candidate in _CANDIDATES:
        if candidate.roles is not None and not (candidate.roles & roles):
            continue
        url = _reverse_or_none(candidate.url_name)
        if url is None:
            continue
        entries.append(NavEntry(candidate.label, url, _is_current(request.path, url)))
    # The admin site is for operators only: system administrators with staff status.
    if user is not None and user.is_authenticated and user.is_staff and Role.SYSTEM_ADMIN in roles:
        url = reverse("admin:index")
        entries.append(NavEntry(_("Administration"), url, _is_current(request.path, url)))
    return entries
