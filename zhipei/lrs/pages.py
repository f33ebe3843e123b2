"""Officer pages: learning records of the people in the officer's region scope (issue 4
item 1). Read-only; a statement outside the scope is a 404."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from zhipei.accounts.models import User
from zhipei.accounts.queries import signed_in_user
from zhipei.accounts.scope import officer_prefixes
from zhipei.core.text import ascii_digits
from zhipei.lrs import queries

PAGE_SIZE = 50


def _officer(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not officer_prefixes(user):
        raise PermissionDenied
    return user


def _int_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    # A key has at most 18 digits (bigint); anything else filters nothing.
    return int(value) if ascii_digits(value) and len(value) <= 18 else None


@never_cache
@login_required
def record_list(request: HttpRequest) -> HttpResponse:
    user = _officer(request)
    rows = queries.statements_for_officer(user)
    person_id = _int_param(request, "person")
    platform_id = _int_param(request, "platform")
    if person_id is not None:
        rows = rows.filter(person_id=person_id)
    if platform_id is not None:
        rows = rows.filter(platform_id=platform_id)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context: dict[str, Any] = {
        "page": page,
        "query_string": query.urlencode(),
        "person_id": person_id,
        "platform_id": platform_id,
    }
    return render(request, "lrs/records.html", context)


@never_cache
@login_required
def record_detail(request: HttpRequest, seq: int) -> HttpResponse:
    user = _officer(request)
    row = queries.statements_for_officer(user).filter(seq=seq).first()
    if row is None:
        raise Http404
    pretty = json.dumps(json.loads(row.payload), ensure_ascii=False, indent=2)
    return render(request, "lrs/record.html", {"row": row, "pretty": pretty})
