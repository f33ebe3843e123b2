from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Role-aware navigation entries for base.html (filled in by portal.navigation)."""
    from zhipei.portal.navigation import entries_for

    return {"nav_entries": entries_for(request)}
