from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from zhipei.core.errors import DomainError, NotAllowed, NotInScope


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness plus a database round trip; 503 when the database does not answer."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def raise_for_scope_errors(exc: DomainError) -> None:
    """Turn a service's scope and role refusals into 404 and 403 (outside the region subtree
    existence must not leak, so NotInScope is a 404); other domain errors pass through."""
    if isinstance(exc, NotInScope):
        raise Http404 from exc
    if isinstance(exc, NotAllowed):
        raise PermissionDenied from exc
