"""xAPI resources of the statement store: /xapi/about and /xapi/statements."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.common import no_append_slash
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from zhipei.lrs.http import LATEST_1, LATEST_2, VERSION_HEADER, json_response


@csrf_exempt
@no_append_slash
@require_http_methods(["GET", "HEAD"])
def about(request: HttpRequest) -> HttpResponse:
    """Communication §2.8: the versions this LRS speaks. Open without authentication and
    without a version header, so a client can find out what to send."""
    response = json_response({"version": [LATEST_1, "1.0.2", "1.0.1", "1.0.0", LATEST_2]})
    response[VERSION_HEADER] = LATEST_1
    if request.method == "HEAD":
        response.content = b""
    return response
