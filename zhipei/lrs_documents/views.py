"""xAPI document resources (xAPI 1.0.3 Communication §2.3-2.7), routed by zhipei/lrs/urls.py.

Work in progress: the views answer 501 until the document store lands (same session).
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse


def _not_yet(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        json.dumps({"error": "This xAPI resource is not available yet."}),
        status=501,
        content_type="application/json",
    )


def activity_state(request: HttpRequest) -> HttpResponse:
    return _not_yet(request)


def activity_profile(request: HttpRequest) -> HttpResponse:
    return _not_yet(request)


def agent_profile(request: HttpRequest) -> HttpResponse:
    return _not_yet(request)


def activities(request: HttpRequest) -> HttpResponse:
    return _not_yet(request)


def agents(request: HttpRequest) -> HttpResponse:
    return _not_yet(request)
