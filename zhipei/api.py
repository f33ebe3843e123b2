"""The platform API at /api/v1/: assembles each app's router and renders every error as
RFC 9457 application/problem+json."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from zhipei.catalog.catalogues.api import router as courses_router
from zhipei.core.errors import DomainError
from zhipei.core.problem import problem_response
from zhipei.learning.api import router as enrolments_router
from zhipei.lrs.api import router as profile_router
from zhipei.orgs.api import router as orgs_router
from zhipei.people.api import router as learners_router

api = NinjaAPI(
    title="Zhipei platform API",
    version="1",
    urls_namespace="api",
    description="API for selected online training platforms. Requests are signed; see docs/api-auth.md.",
)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return problem_response(
        request, status=exc.status, title=str(exc.message), code=exc.code, field=exc.field
    )


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: list[dict[str, Any]] = [
        {"location": ".".join(str(p) for p in e.get("loc", [])), "message": e.get("msg", "")}
        for e in exc.errors
    ]
    return problem_response(
        request,
        status=422,
        title="The request body or parameters are not valid.",
        code="invalid_input",
        errors=errors,
    )


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    # Signature failures (orgs.signing.SignatureRejected) carry a specific code, detail and
    # extension members; a bare AuthenticationError (no auth headers at all) does not.
    title = str(exc) or "Missing or invalid credentials."
    response = problem_response(
        request,
        status=401,
        title=title,
        code=getattr(exc, "code", "unauthenticated"),
        detail=getattr(exc, "detail", None) or None,
        extra=getattr(exc, "extra", None),
    )
    response["WWW-Authenticate"] = getattr(exc, "www_authenticate", "Zhipei-HMAC-SHA256")
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem_response(request, status=exc.status_code, title=str(exc), code="http_error")


api.add_router("/platform", orgs_router)
api.add_router("/courses", courses_router)
api.add_router("/learners", learners_router)
api.add_router("/enrolments", enrolments_router)
api.add_router("/profile", profile_router)


@api.get("/ping", auth=None, summary="Check that the API answers", tags=["meta"])
def ping(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}
