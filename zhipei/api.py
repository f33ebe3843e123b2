"""The platform API at /api/v1/: assembles each app's router and renders every error as
RFC 9457 application/problem+json."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
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

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super()._get_urls()
        for url in urls:
            if isinstance(url, URLPattern):
                url.callback = _method_problem(url.callback)
        return urls


def _method_problem(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """django-ninja answers a method a path does not take with a plain-text 405; the API
    answers every refusal with a problem document (docs/api-auth.md), Allow kept."""

    @wraps(view)  # keeps csrf_exempt and the other marks ninja set on the view
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code != 405 or response.get("Content-Type", "").startswith(
            PROBLEM_CONTENT_TYPE
        ):
            return response
        allowed = response.get("Allow", "")
        answer = problem_response(
            request,
            status=405,
            title=_("This address does not take %(method)s requests; it takes %(allowed)s.")
            % {"method": request.method, "allowed": allowed},
            code="method_not_allowed",
        )
        answer["Allow"] = allowed
        return answer

    return wrapper


# Pydantic's messages, by error type, in the reader's language; others keep pydantic's
# English (a validator's own message comes translated already).
_INPUT_MESSAGES = {
    "missing": gettext_lazy("This field is required."),
    "string_type": gettext_lazy("Must be a string."),
    "int_type": gettext_lazy("Must be a whole number."),
    "int_parsing": gettext_lazy("Must be a whole number."),
    "int_from_float": gettext_lazy("Must be a whole number."),
    "float_type": gettext_lazy("Must be a number."),
    "float_parsing": gettext_lazy("Must be a number."),
    "decimal_type": gettext_lazy("Must be a number."),
    "decimal_parsing": gettext_lazy("Must be a number."),
    "bool_type": gettext_lazy("Must be true or false."),
    "bool_parsing": gettext_lazy("Must be true or false."),
    "dict_type": gettext_lazy("Must be a JSON object."),
    "model_type": gettext_lazy("Must be a JSON object."),
    "model_attributes_type": gettext_lazy("Must be a JSON object."),
    "list_type": gettext_lazy("Must be a JSON array."),
    "date_type": gettext_lazy("Must be a date like 2026-05-01."),
    "date_parsing": gettext_lazy("Must be a date like 2026-05-01."),
    "date_from_datetime_parsing": gettext_lazy("Must be a date like 2026-05-01."),
    "datetime_type": gettext_lazy("Must be a date and time like 2026-05-01T08:30:00+08:00."),
    "datetime_parsing": gettext_lazy("Must be a date and time like 2026-05-01T08:30:00+08:00."),
    "uuid_type": gettext_lazy("Must be a UUID."),
    "uuid_parsing": gettext_lazy("Must be a UUID."),
    "extra_forbidden": gettext_lazy("This field is not accepted here."),
    "json_invalid": gettext_lazy("The body is not valid JSON."),
}


def _input_message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    if kind == "string_too_short" and "min_length" in context:
        return _("Must be at least %(count)s characters long.") % {"count": context["min_length"]}
    if kind == "string_too_long" and "max_length" in context:
        return _("Must be at most %(count)s characters long.") % {"count": context["max_length"]}
    if kind in {"enum", "literal_error"} and "expected" in context:
        return _("Must be one of %(expected)s.") % {"expected": context["expected"]}
    message = _INPUT_MESSAGES.get(kind)
    return str(message) if message is not None else str(error.get("msg", ""))


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
        {"location": ".".join(str(p) for p in e.get("loc", [])), "message": _input_message(e)}
        for e in exc.errors
    ]
    return problem_response(
        request,
        status=422,
        title=_("The request body or parameters are not valid."),
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
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        # django-ninja's own words for a body its parser refused
        title = _("The request body is not valid JSON.")
        return problem_response(request, status=400, title=title, code="unreadable_body")
    return problem_response(request, status=exc.status_code, title=str(exc), code="http_error")


api.add_router("/platform", orgs_router)
api.add_router("/courses", courses_router)
api.add_router("/learners", learners_router)
api.add_router("/enrolments", enrolments_router)
api.add_router("/profile", profile_router)


@api.get("/ping", auth=None, summary="Check that the API answers", tags=["meta"])
def ping(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}
