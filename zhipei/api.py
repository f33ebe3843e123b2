"""The platform API at /api/v1/: assembles each app's router and renders every error as
RFC 9457 application/problem+json."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema

from zhipei.catalog.catalogues.api import router as courses_router
from zhipei.core.errors import DomainError
from zhipei.core.problem import PROBLEM_CONTENT_TYPE, problem_response
from zhipei.learning.api import router as enrolments_router
from zhipei.lrs.api import router as profile_router
from zhipei.orgs.api import router as orgs_router
from zhipei.people.api import router as learners_router

# Every operation may answer with these problem documents (docs/api-auth.md, "Errors");
# an operation's own description says when. 401 only where a signature is asked for.
_PROBLEM_ANSWERS = {
    400: "The request cannot be read: a malformed body, U+0000 or a lone surrogate in it.",
    401: "The signature is missing or wrong (docs/api-auth.md).",
    403: "The platform may not call this endpoint now.",
    404: "Nothing has this address or id.",
    413: "The body is larger than the server accepts.",
    422: "The body or parameters are not valid; `errors` or `field` say where.",
    500: "A fault on the server's side; logged.",
}
_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable and meant for programs.",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "field": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}


class PlatformApi(NinjaAPI):
    """NinjaAPI whose OpenAPI description lists the problem answers of every operation."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = _PROBLEM_SCHEMA
        problem = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in _PROBLEM_ANSWERS.items():
                    if status == 401 and not operation.get("security"):
                        continue
                    responses.setdefault(status, {"description": description, "content": problem})
        return schema


api = PlatformApi(
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
