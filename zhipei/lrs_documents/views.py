"""xAPI document resources (xAPI 1.0.3 Communication §2.2-2.7, and 2.0 where compatible),
routed by zhipei/lrs/urls.py:

    /xapi/activities/state    activity_state    PUT POST GET DELETE (+HEAD)
    /xapi/activities/profile  activity_profile  PUT POST GET DELETE (+HEAD)
    /xapi/agents/profile      agent_profile     PUT POST GET DELETE (+HEAD)
    /xapi/activities          activities        GET (+HEAD)
    /xapi/agents              agents            GET (+HEAD)

zhipei.lrs.http.xapi_endpoint does the edge work (Basic auth with a platform credential, the
version header, the alternate request syntax, HEAD, JSON errors). The views parse and check
the parameters — an unknown parameter is a 400 (§3.2.s3.b7) — and call one service or query,
always for the authenticated platform only: a platform never sees or changes another
platform's documents, and asking for one finds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from django.http import HttpResponse
from django.utils.http import http_date
from django.utils.translation import gettext as _

from zhipei.core.errors import DomainError
from zhipei.lrs.agents import agent_from_json
from zhipei.lrs.formats import check_iri, check_uuid, parse_timestamp
from zhipei.lrs.http import XapiError, XapiRequest, json_response, xapi_endpoint, xapi_error
from zhipei.lrs_documents import queries, services
from zhipei.lrs_documents.models import Document
from zhipei.lrs_documents.services import DocumentKey, Preconditions, parse_etag_list

_DOCUMENT_METHODS = frozenset({"GET", "PUT", "POST", "DELETE"})

# The parameters each resource and method recognises (Communication §2.3-2.7). Anything else
# is refused (§3.2.s3.b7).
_STATE_PARAMS = {
    "GET": frozenset({"activityId", "agent", "registration", "stateId", "since"}),
    "PUT": frozenset({"activityId", "agent", "registration", "stateId"}),
    "POST": frozenset({"activityId", "agent", "registration", "stateId"}),
    "DELETE": frozenset({"activityId", "agent", "registration", "stateId"}),
}
_ACTIVITY_PROFILE_PARAMS = {
    "GET": frozenset({"activityId", "profileId", "since"}),
    "PUT": frozenset({"activityId", "profileId"}),
    "POST": frozenset({"activityId", "profileId"}),
    "DELETE": frozenset({"activityId", "profileId"}),
}
_AGENT_PROFILE_PARAMS = {
    "GET": frozenset({"agent", "profileId", "since"}),
    "PUT": frozenset({"agent", "profileId"}),
    "POST": frozenset({"agent", "profileId"}),
    "DELETE": frozenset({"agent", "profileId"}),
}


# --- parameters ------------------------------------------------------------------------------
def _only(xreq: XapiRequest, allowed: frozenset[str]) -> None:
    unknown = sorted(set(xreq.params) - allowed)
    if unknown:
        raise XapiError(
            400,
            _("Parameter %(name)s is not recognised here; this request accepts: %(allowed)s.")
            % {"name": unknown[0], "allowed": ", ".join(sorted(allowed))},
        )


def _required(xreq: XapiRequest, name: str) -> str:
    value = xreq.params.get(name)
    if value is None:
        raise XapiError(400, _("The %(name)s parameter is required.") % {"name": name})
    return value


def _activity_id(xreq: XapiRequest) -> str:
    return check_iri(_required(xreq, "activityId"), "activityId")


def _agent_ifi(xreq: XapiRequest) -> str:
    agent = agent_from_json(_required(xreq, "agent"), path="agent")
    ifi = agent.ifi_key
    assert ifi is not None  # an Agent always has exactly one identifier
    return ifi


def _registration(xreq: XapiRequest) -> UUID | None:
    value = xreq.params.get("registration")
    return None if value is None else UUID(check_uuid(value, "registration"))


def _since(xreq: XapiRequest) -> datetime | None:
    value = xreq.params.get("since")
    if value is None:
        return None
    return parse_timestamp(value, "since", rfc3339=xreq.version.startswith("2."))


def _preconditions(xreq: XapiRequest) -> Preconditions:
    return Preconditions(
        if_match=parse_etag_list(xreq.headers.get("if-match")),
        if_none_match=parse_etag_list(xreq.headers.get("if-none-match")),
    )


# --- responses -------------------------------------------------------------------------------
def _quoted(etag: str) -> str:
    return f'"{etag}"'


def _document_response(document: Document) -> HttpResponse:
    response = HttpResponse(bytes(document.content), content_type=document.content_type)
    response["ETag"] = _quoted(document.etag)
    response["Last-Modified"] = http_date(document.updated_at.timestamp())
    return response


def _json_with_etag(data: object, *, last_modified: datetime | None = None) -> HttpResponse:
    response = json_response(data)
    response["ETag"] = _quoted(hashlib.sha1(response.content).hexdigest())  # noqa: S324 - spec
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified.timestamp())
    return response


def _no_content(document: Document | None = None) -> HttpResponse:
    response = HttpResponse(status=204)
    if document is not None:
        response["ETag"] = _quoted(document.etag)
    return response


def _domain(call: Callable[[], HttpResponse]) -> HttpResponse:
    """Run a service call; its domain errors become xAPI errors (bad input is a 400 in xAPI)."""
    try:
        return call()
    except DomainError as exc:
        status = 400 if exc.status == 422 else exc.status
        return xapi_error(status, str(exc.message))


def _single(xreq: XapiRequest, key: DocumentKey) -> HttpResponse:
    """GET / PUT / POST / DELETE of one document."""
    platform_id = xreq.platform_id
    if xreq.method == "GET":
        document = queries.get_document(platform_id, key)
        if document is None:
            return xapi_error(404, _("There is no such document."))
        return _document_response(document)
    preconditions = _preconditions(xreq)

    def delete() -> HttpResponse:
        services.delete_document(platform_id, key, preconditions=preconditions)
        return _no_content()

    def write() -> HttpResponse:
        store = services.put_document if xreq.method == "PUT" else services.post_document
        document = store(
            platform_id,
            key,
            content=xreq.body,
            content_type=xreq.content_type,
            preconditions=preconditions,
        )
        return _no_content(document)

    return _domain(delete if xreq.method == "DELETE" else write)


def _ids(xreq: XapiRequest, kind: str, **context: str) -> HttpResponse:
    found = queries.document_ids(
        xreq.platform_id,
        kind,
        registration=_registration(xreq) if kind == Document.Kind.STATE else None,
        since=_since(xreq),
        **context,
    )
    return _json_with_etag(found.ids, last_modified=found.last_modified)


# --- resources -------------------------------------------------------------------------------
@xapi_endpoint(_DOCUMENT_METHODS)
def activity_state(xreq: XapiRequest) -> HttpResponse:
    """State resource (Communication §2.3): documents per Activity + Agent [+ registration]."""
    _only(xreq, _STATE_PARAMS[xreq.method])
    activity_id, agent_ifi = _activity_id(xreq), _agent_ifi(xreq)
    registration = _registration(xreq)
    state_id = xreq.params.get("stateId")
    if state_id is None:
        if xreq.method == "GET":
            return _ids(xreq, Document.Kind.STATE, activity_id=activity_id, agent_ifi=agent_ifi)
        if xreq.method == "DELETE":
            services.delete_states(
                xreq.platform_id,
                activity_id=activity_id,
                agent_ifi=agent_ifi,
                registration=registration,
            )
            return _no_content()
        raise XapiError(400, _("The stateId parameter is required."))
    key = DocumentKey(
        kind=Document.Kind.STATE,
        document_id=state_id,
        activity_id=activity_id,
        agent_ifi=agent_ifi,
        registration=registration,
    )
    return _single(xreq, key)


@xapi_endpoint(_DOCUMENT_METHODS)
def activity_profile(xreq: XapiRequest) -> HttpResponse:
    """Activity Profile resource (Communication §2.7): documents per Activity."""
    _only(xreq, _ACTIVITY_PROFILE_PARAMS[xreq.method])
    activity_id = _activity_id(xreq)
    profile_id = xreq.params.get("profileId")
    if profile_id is None:
        if xreq.method == "GET":
            return _ids(xreq, Document.Kind.ACTIVITY_PROFILE, activity_id=activity_id)
        raise XapiError(400, _("The profileId parameter is required."))
    key = DocumentKey(
        kind=Document.Kind.ACTIVITY_PROFILE, document_id=profile_id, activity_id=activity_id
    )
    return _single(xreq, key)


@xapi_endpoint(_DOCUMENT_METHODS)
def agent_profile(xreq: XapiRequest) -> HttpResponse:
    """Agent Profile resource (Communication §2.6): documents per Agent."""
    _only(xreq, _AGENT_PROFILE_PARAMS[xreq.method])
    agent_ifi = _agent_ifi(xreq)
    profile_id = xreq.params.get("profileId")
    if profile_id is None:
        if xreq.method == "GET":
            return _ids(xreq, Document.Kind.AGENT_PROFILE, agent_ifi=agent_ifi)
        raise XapiError(400, _("The profileId parameter is required."))
    key = DocumentKey(kind=Document.Kind.AGENT_PROFILE, document_id=profile_id, agent_ifi=agent_ifi)
    return _single(xreq, key)


@xapi_endpoint({"GET"})
def activities(xreq: XapiRequest) -> HttpResponse:
    """Activities resource (Communication §2.5): the Activity Object for activityId."""
    _only(xreq, frozenset({"activityId"}))
    return _json_with_etag(queries.activity_object(xreq.platform_id, _activity_id(xreq)))


@xapi_endpoint({"GET"})
def agents(xreq: XapiRequest) -> HttpResponse:
    """Agents resource (Communication §2.4): the Person Object for an Agent."""
    _only(xreq, frozenset({"agent"}))
    return _json_with_etag(queries.person_object(agent_from_json(_required(xreq, "agent"))))
