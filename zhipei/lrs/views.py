"""xAPI resources of the statement store: /xapi/about and /xapi/statements (Communication
§2.1, §2.8). Thin: parse, call services.store_statements or the queries, serialise."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.common import no_append_slash
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from zhipei.lrs import queries
from zhipei.lrs.agents import actor_from_json
from zhipei.lrs.formats import XapiInvalid, check_iri, check_uuid, parse_timestamp
from zhipei.lrs.http import (
    LATEST_1,
    LATEST_2,
    VERSION_HEADER,
    XapiError,
    XapiRequest,
    json_response,
    strip_body,
    xapi_endpoint,
    xapi_error,
    xapi_version,
)
from zhipei.lrs.services import (
    AttachmentPart,
    StatementConflict,
    attachment_sha2,
    store_batch,
)
from zhipei.lrs.validation import actor_key, load_json

CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"
HASH_HEADER = "x-experience-api-hash"
_GET_FILTERS = frozenset(
    {
        "agent",
        "verb",
        "activity",
        "registration",
        "related_activities",
        "related_agents",
        "since",
        "until",
        "limit",
        "format",
        "attachments",
        "ascending",
    }
)
_SINGLE_PARAMS = frozenset({"statementId", "voidedStatementId", "format", "attachments"})
_FORMATS = frozenset({"ids", "exact", "canonical"})


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


@csrf_exempt
@no_append_slash
@require_http_methods(["GET", "HEAD"])
def about(request: HttpRequest) -> HttpResponse:
    """Communication §2.8: the versions this LRS speaks. Open without authentication and
    without a version header, so a client can find out what to send. It takes no
    parameters, and refuses any (Communication §3.2.s3.b7)."""
    if request.GET:
        names = ", ".join(sorted(request.GET))
        message = _("The About resource takes no parameters: %(names)s.") % {"names": names}
        response = xapi_error(400, message)
    else:
        response = json_response(
            {"version": [LATEST_2, LATEST_1, "1.0.2", "1.0.1", "1.0.0"], "extensions": {}}
        )
    try:  # the version the client speaks (2.0 clients get 2.0.0 back)
        response[VERSION_HEADER] = xapi_version(request)
    except XapiError:  # none or another: About still answers, so a client can find out
        response[VERSION_HEADER] = LATEST_1
    if request.method == "HEAD":
        strip_body(response, head=True)
    return response


def _consistent_through(response: HttpResponse, xreq: XapiRequest | None) -> None:
    """Communication §2.1.3.s2.b5: on all responses of the Statement resource, refusals of
    the version header, credentials or method included. A write on PostgreSQL computed it
    inside its own transaction (one round trip less)."""
    horizon = (xreq.extra.get("consistent_through") if xreq is not None else None) or (
        queries.consistent_through()
    )
    response[CONSISTENT_THROUGH] = horizon.astimezone(UTC).isoformat()


@xapi_endpoint({"GET", "PUT", "POST"}, every_response=_consistent_through)
def statements(xreq: XapiRequest) -> HttpResponse:
    try:
        return _get(xreq) if xreq.method == "GET" else _write(xreq)
    except StatementConflict as exc:
        message = str(exc.message) + (f" ({exc.field})" if exc.field else "")
        return xapi_error(409, message)


# --- PUT / POST -----------------------------------------------------------------------------
def _write(xreq: XapiRequest) -> HttpResponse:
    body = xreq.body
    statement_id: str | None = None
    if xreq.method == "PUT":
        extra = set(xreq.params) - {"statementId"}
        if "statementId" not in xreq.params:
            raise XapiError(400, _("PUT /statements needs the statementId parameter."))
        statement_id = check_uuid(xreq.params["statementId"], "statementId")
    else:
        extra = set(xreq.params)
        if "statementId" in extra:
            raise XapiError(400, _("POST /statements must not carry statementId; use PUT."))
    if extra:
        raise XapiError(400, _("Unexpected parameter: ") + ", ".join(sorted(extra)))
    parts: dict[str, AttachmentPart] | None = None
    if xreq.content_type == "multipart/mixed":
        body, parts = _multipart(xreq.content_type_header, body)
    elif xreq.content_type != "application/json":
        raise XapiError(400, _("Statements must be sent as application/json or multipart/mixed."))
    data = load_json(body, check_depth=False)  # store_batch checks it statement by statement
    if xreq.method == "PUT":
        if not isinstance(data, dict):
            raise XapiError(400, _("PUT /statements takes one statement (a JSON object)."))
        stored = store_batch(
            credential=xreq.credential,
            statements=[data],
            version=xreq.version,
            statement_id=statement_id,
            attachments=parts,
        )
        xreq.extra["consistent_through"] = stored.consistent_through
        return HttpResponse(status=204)
    batch = data if isinstance(data, list) else [data]
    if not batch:
        raise XapiError(400, _("The batch is empty."))
    if len(batch) > _setting("XAPI_MAX_BATCH", 1000):
        raise XapiError(413, _("Too many statements in one request."))
    stored = store_batch(
        credential=xreq.credential,
        statements=batch,
        version=xreq.version,
        attachments=parts,
        path_prefix="statements" if isinstance(data, list) else "",
    )
    xreq.extra["consistent_through"] = stored.consistent_through
    return json_response(stored.ids)


def _split_part(chunk: bytes) -> tuple[dict[str, str], bytes]:
    """One part between delimiters: CRLF, header lines, an empty line, the content, and the
    CRLF that belongs to the next delimiter (RFC 2046 §5.1.1)."""
    chunk = chunk.removeprefix(b"\r\n").removesuffix(b"\r\n")
    if chunk.startswith(b"\r\n"):  # no header lines
        head, content = b"", chunk[2:]
    else:
        head, _sep, content = chunk.partition(b"\r\n\r\n")
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\r\n"):
        if ":" in line:
            name, _colon, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return headers, content


def _multipart(content_type_header: str, body: bytes) -> tuple[bytes, dict[str, AttachmentPart]]:
    """Split a multipart/mixed statement request (Communication §1.5.2): the first part is
    the statements (application/json); each other part is raw attachment data with an
    X-Experience-API-Hash header that must equal the SHA-2 of its content."""
    boundary = ""
    for param in content_type_header.split(";")[1:]:
        name, _sep, value = param.strip().partition("=")
        if name.lower() == "boundary":
            boundary = value.strip().strip('"')
    if not boundary:
        raise XapiError(400, _("The multipart/mixed body has no boundary."))
    delimiter = b"--" + boundary.encode("ascii")
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise XapiError(400, _("The multipart/mixed body is not well formed."))
    parsed = [_split_part(chunk) for chunk in chunks[1:-1]]
    first_headers, statements_body = parsed[0]
    if first_headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise XapiError(
            400, _("The first part of a multipart/mixed request must be application/json.")
        )
    parts: dict[str, AttachmentPart] = {}
    for headers, content in parsed[1:]:
        declared = headers.get(HASH_HEADER, "").lower()
        if not declared:
            raise XapiError(400, _("Every attachment part needs an X-Experience-API-Hash header."))
        if headers.get("content-transfer-encoding", "").lower() != "binary":
            raise XapiError(
                400, _("Every attachment part needs Content-Transfer-Encoding: binary.")
            )
        if attachment_sha2(content, declared) != declared:
            raise XapiError(400, _("An attachment part does not match its X-Experience-API-Hash."))
        parts[declared] = AttachmentPart(
            content_type=headers.get("content-type", "application/octet-stream"), content=content
        )
    return statements_body, parts


# --- GET ------------------------------------------------------------------------------------
def _flag(params: dict[str, str], name: str) -> bool:
    value = params.get(name, "false")
    if value not in {"true", "false"}:
        raise XapiInvalid(name, _("must be true or false"))
    return value == "true"


def _get(xreq: XapiRequest) -> HttpResponse:
    params = xreq.params
    fmt = params.get("format", "exact")
    if fmt not in _FORMATS:
        raise XapiInvalid("format", _("must be ids, exact or canonical"))
    with_attachments = _flag(params, "attachments")
    if "statementId" in params or "voidedStatementId" in params:
        return _get_one(xreq, fmt, with_attachments)
    if "more" in params:
        if set(params) != {"more"}:
            raise XapiError(400, _("A more link is used on its own, without other parameters."))
        query, limit, fmt, with_attachments = _decode_more(params["more"], xreq.platform_id)
    else:
        unknown = set(params) - _GET_FILTERS
        if unknown:
            raise XapiError(400, _("Unexpected parameter: ") + ", ".join(sorted(unknown)))
        query, limit = _parse_filter(xreq)
    rows = queries.find_statements(query, limit=limit + 1)
    more = ""
    if len(rows) > limit:
        rows = rows[:limit]
        seq, stored, _payload = rows[-1]
        query.after = (stored, seq)
        more = "/xapi/statements?more=" + _encode_more(query, limit, fmt, with_attachments)
    payloads = [payload for _seq, _stored, payload in rows]
    if fmt == "ids":
        payloads = [json.dumps(ids_format(json.loads(p)), ensure_ascii=False) for p in payloads]
    elif fmt == "canonical":
        languages = accepted_languages(xreq.headers.get_header("accept-language"))
        payloads = [
            json.dumps(canonical_format(json.loads(p), languages), ensure_ascii=False)
            for p in payloads
        ]
    body = '{"statements":[' + ",".join(payloads) + '],"more":' + json.dumps(more) + "}"
    response = _result(xreq, body, payloads, with_attachments)
    if rows:  # xAPI 2.0: when the newest statement returned was stored
        newest = max(stored for _seq, stored, _payload in rows)
        response["Last-Modified"] = http_date(newest.timestamp())
    return response


def _get_one(xreq: XapiRequest, fmt: str, with_attachments: bool) -> HttpResponse:
    params = xreq.params
    if "statementId" in params and "voidedStatementId" in params:
        raise XapiError(400, _("Give statementId or voidedStatementId, not both."))
    unknown = set(params) - _SINGLE_PARAMS
    if unknown:
        raise XapiError(
            400,
            _("With statementId or voidedStatementId only format and attachments are allowed: ")
            + ", ".join(sorted(unknown)),
        )
    voided = "voidedStatementId" in params
    name = "voidedStatementId" if voided else "statementId"
    statement_id = check_uuid(params[name], name)
    payload = queries.statement_payload(xreq.platform_id, statement_id, voided=voided)
    if payload is None:
        raise XapiError(404, _("No such statement."))
    if fmt == "ids":
        payload = json.dumps(ids_format(json.loads(payload)), ensure_ascii=False)
    elif fmt == "canonical":
        languages = accepted_languages(xreq.headers.get_header("accept-language"))
        payload = json.dumps(canonical_format(json.loads(payload), languages), ensure_ascii=False)
    response = _result(xreq, payload, [payload], with_attachments)
    stored = json.loads(payload).get("stored")
    if stored:
        response["Last-Modified"] = http_date(parse_timestamp(stored, "stored").timestamp())
    return response


def _result(
    xreq: XapiRequest, body: str, payloads: list[str], with_attachments: bool
) -> HttpResponse:
    if not with_attachments:
        return HttpResponse(body, content_type="application/json; charset=utf-8")
    boundary = secrets.token_hex(16)
    out = [
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(),
        body.encode("utf-8"),
    ]
    for attachment in queries.attachments_for(xreq.platform_id, payloads):
        out.append(
            (
                f"\r\n--{boundary}\r\nContent-Type: {attachment.content_type}\r\n"
                "Content-Transfer-Encoding: binary\r\n"
                f"X-Experience-API-Hash: {attachment.sha2}\r\n\r\n"
            ).encode()
        )
        out.append(bytes(attachment.content))
    out.append(f"\r\n--{boundary}--".encode())
    return HttpResponse(b"".join(out), content_type=f"multipart/mixed; boundary={boundary}")


def _parse_filter(xreq: XapiRequest) -> tuple[queries.StatementFilter, int]:
    params = xreq.params
    query = queries.StatementFilter(platform_id=xreq.platform_id)
    if "agent" in params:
        key = actor_key(actor_from_json(params["agent"]))
        if not key:
            raise XapiInvalid("agent", _("must be an Agent or an identified Group"))
        query.agent = key
    if "verb" in params:
        query.verb = check_iri(params["verb"], "verb")
    if "activity" in params:
        query.activity = check_iri(params["activity"], "activity")
    if "registration" in params:
        query.registration = check_uuid(params["registration"], "registration")
    query.related_activities = _flag(params, "related_activities")
    query.related_agents = _flag(params, "related_agents")
    query.ascending = _flag(params, "ascending")
    v2 = xreq.version.startswith("2.")  # RFC 3339 (Data §2.2.s4.b4: as in statements)
    if "since" in params:
        query.since = parse_timestamp(params["since"], "since", rfc3339=v2)
    if "until" in params:
        query.until = parse_timestamp(params["until"], "until", rfc3339=v2)
    maximum = _setting("XAPI_MAX_LIMIT", 500)
    try:
        limit = int(params.get("limit", "0"))
    except ValueError as exc:
        raise XapiInvalid("limit", _("must be a non-negative integer")) from exc
    if limit < 0:
        raise XapiInvalid("limit", _("must be a non-negative integer"))
    return query, min(limit or maximum, maximum)


def _encode_more(
    query: queries.StatementFilter, limit: int, fmt: str, with_attachments: bool
) -> str:
    state = {"q": query.to_json(), "l": limit, "f": fmt, "a": with_attachments}
    raw = json.dumps(state, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_more(token: str, platform_id: int) -> tuple[queries.StatementFilter, int, str, bool]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        state = json.loads(raw)
        query = queries.StatementFilter.from_json(state["q"])
        limit, fmt, with_attachments = int(state["l"]), str(state["f"]), bool(state["a"])
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise XapiError(400, _("The more link is not valid.")) from exc
    if query.platform_id != platform_id or fmt not in _FORMATS or limit <= 0:
        raise XapiError(400, _("The more link is not valid."))
    return query, limit, fmt, with_attachments


# --- format=ids (Communication §2.1.3) ------------------------------------------------------
_IFI = ("mbox", "mbox_sha1sum", "openid", "account")


def _ids_actor(actor: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"objectType": actor.get("objectType", "Agent")}
    out.update({key: actor[key] for key in _IFI if key in actor})
    if out["objectType"] == "Group" and len(out) == 1 and "member" in actor:
        out["member"] = [_ids_actor(member) for member in actor["member"]]
    return out


def _ids_object(obj: dict[str, Any]) -> dict[str, Any]:
    object_type = obj.get("objectType", "Activity")
    if object_type in {"Agent", "Group"}:
        return _ids_actor(obj)
    if object_type == "SubStatement":
        return ids_format(obj, sub=True)
    return {"objectType": object_type, "id": obj["id"]}


def ids_format(data: dict[str, Any], *, sub: bool = False) -> dict[str, Any]:
    """A statement with Agents, Groups, Activities and the Verb reduced to their identifiers."""
    out = dict(data)
    out["actor"] = _ids_actor(data["actor"])
    out["verb"] = {"id": data["verb"]["id"]}
    out["object"] = _ids_object(data["object"])
    if not sub and "authority" in data:
        out["authority"] = _ids_actor(data["authority"])
    context = data.get("context")
    if isinstance(context, dict):
        context = dict(context)
        for key in ("instructor", "team"):
            if key in context:
                context[key] = _ids_actor(context[key])
        # xAPI 2.0: each context agent's and group's actor reduced like the others
        for key, inner in (("contextAgents", "agent"), ("contextGroups", "group")):
            if key in context:
                context[key] = [
                    {**item, inner: _ids_actor(item[inner])} if inner in item else item
                    for item in context[key]
                ]
        if "contextActivities" in context:
            context["contextActivities"] = {
                key: [{"objectType": "Activity", "id": a["id"]} for a in items]
                for key, items in context["contextActivities"].items()
            }
        out["context"] = context
    return out


# --- format=canonical (Communication §2.1.3.s4) ----------------------------------------------
def accepted_languages(header: str) -> list[str]:
    """Language ranges of an Accept-Language header, best first (RFC 9110 §12.5.4)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _sep, params = part.strip().partition(";")
        if not tag:
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if quality > 0:
            ranked.append((-quality, index, tag.strip().lower()))
    return [tag for _q, _i, tag in sorted(ranked)]


def _pick(mapping: dict[str, str], languages: list[str]) -> dict[str, str]:
    """The one entry of a language map the client prefers (first key when none matches)."""
    if not mapping:
        return mapping
    keys = {key.lower(): key for key in mapping}
    for wanted in languages:
        if wanted == "*":
            break
        if wanted in keys:
            return {keys[wanted]: mapping[keys[wanted]]}
        for lower, key in keys.items():
            if lower.startswith(wanted + "-") or wanted.startswith(lower + "-"):
                return {key: mapping[key]}
    first = next(iter(mapping))
    return {first: mapping[first]}


def _canonical_activity(activity: dict[str, Any], languages: list[str]) -> dict[str, Any]:
    definition = activity.get("definition")
    if not isinstance(definition, dict):
        return activity
    definition = dict(definition)
    for key in ("name", "description"):
        if key in definition:
            definition[key] = _pick(definition[key], languages)
    for key in ("choices", "scale", "source", "target", "steps"):
        if key in definition:
            definition[key] = [
                dict(c, description=_pick(c["description"], languages)) if "description" in c else c
                for c in definition[key]
            ]
    return dict(activity, definition=definition)


def canonical_format(data: dict[str, Any], languages: list[str]) -> dict[str, Any]:
    """Verb display and Activity language maps reduced to the one language the client prefers;
    Agents and Groups as received. The stored definition is the canonical one: this LRS keeps
    no separate activity registry."""
    out = dict(data)
    if "display" in data["verb"]:
        out["verb"] = dict(data["verb"], display=_pick(data["verb"]["display"], languages))
    obj = data["object"]
    object_type = obj.get("objectType", "Activity")
    if object_type == "Activity":
        out["object"] = _canonical_activity(obj, languages)
    elif object_type == "SubStatement":
        out["object"] = canonical_format(obj, languages)
    context = data.get("context")
    if isinstance(context, dict) and "contextActivities" in context:
        out["context"] = dict(
            context,
            contextActivities={
                key: [_canonical_activity(a, languages) for a in items]
                for key, items in context["contextActivities"].items()
            },
        )
    return out
