"""Statement validation (every MUST of xAPI 1.0.3 Data §2, and the 2.0 differences) and the
extraction of the indexed columns. Pure functions: no database, no request.

`prepare_statement` returns a `Prepared`: the statement as it will be stored (id, stored,
authority, version and timestamp filled in; contextActivities as arrays) and the extracted
values. Every refusal is an `XapiInvalid` naming the JSON path.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from django.utils.translation import gettext as _

from zhipei.core.text import ascii_digits
from zhipei.lrs.agents import Agent, Group, parse_actor, parse_agent, parse_group
from zhipei.lrs.formats import (
    BIG_INTEGER_DIGITS,
    BeyondDouble,
    XapiInvalid,
    check_bool,
    check_extensions,
    check_iri,
    check_keys,
    check_language_map,
    check_number,
    check_object,
    check_string,
    check_uuid,
    double_or_refuse,
    has_digit_run,
    is_language_tag,
    new_uuid,
    parse_duration_seconds,
    parse_timestamp,
    refuse_json_constant,
)
from zhipei.lrs.native import ingest
from zhipei.lrs.shape import is_common

VOIDED_VERB = "http://adlnet.gov/expapi/verbs/voided"
SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"

_STATEMENT_KEYS = frozenset(
    {
        "id",
        "actor",
        "verb",
        "object",
        "result",
        "context",
        "timestamp",
        "stored",
        "authority",
        "version",
        "attachments",
    }
)
_SUBSTATEMENT_KEYS = frozenset(
    {"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
)
_VERB_KEYS = frozenset({"id", "display"})
_ACTIVITY_KEYS = frozenset({"objectType", "id", "definition"})
_DEFINITION_KEYS = frozenset(
    {
        "name",
        "description",
        "type",
        "moreInfo",
        "extensions",
        "interactionType",
        "correctResponsesPattern",
        "choices",
        "scale",
        "source",
        "target",
        "steps",
    }
)
_INTERACTION_TYPES = {
    "true-false": frozenset(),
    "choice": frozenset({"choices"}),
    "fill-in": frozenset(),
    "long-fill-in": frozenset(),
    "matching": frozenset({"source", "target"}),
    "performance": frozenset({"steps"}),
    "sequencing": frozenset({"choices"}),
    "likert": frozenset({"scale"}),
    "numeric": frozenset(),
    "other": frozenset(),
}
_COMPONENT_LISTS = frozenset({"choices", "scale", "source", "target", "steps"})
_COMPONENT_KEYS = frozenset({"id", "description"})
_STATEMENT_REF_KEYS = frozenset({"objectType", "id"})
_RESULT_KEYS = frozenset({"score", "success", "completion", "response", "duration", "extensions"})
_SCORE_KEYS = frozenset({"scaled", "raw", "min", "max"})
_CONTEXT_KEYS_1 = frozenset(
    {
        "registration",
        "instructor",
        "team",
        "contextActivities",
        "revision",
        "platform",
        "language",
        "statement",
        "extensions",
    }
)
_CONTEXT_KEYS_2 = _CONTEXT_KEYS_1 | {"contextAgents", "contextGroups"}
_CONTEXT_ACTIVITY_KEYS = frozenset({"parent", "grouping", "category", "other"})
_ATTACHMENT_KEYS = frozenset(
    {"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"}
)
_CONTEXT_AGENT_KEYS = frozenset({"objectType", "agent", "relevantTypes"})
_CONTEXT_GROUP_KEYS = frozenset({"objectType", "group", "relevantTypes"})


@dataclass(slots=True)
class Extracted:
    """What a statement contributes to the indexed columns."""

    actor_ifi: str = ""
    object_agent_ifi: str = ""
    verb_id: str = ""
    activity_id: str = ""
    object_statement_id: str | None = None
    registration: str | None = None
    duration_seconds: float | None = None
    account_home_page: str = ""
    account_name: str = ""
    activities: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Prepared:
    """A validated statement ready to be stored."""

    statement_id: str
    data: dict[str, Any]
    timestamp: datetime
    extracted: Extracted
    is_voiding: bool
    id_was_given: bool
    timestamp_was_given: bool
    attachments: list[dict[str, Any]]
    path: str = ""

    @property
    def voided_target(self) -> str | None:
        return self.extracted.object_statement_id if self.is_voiding else None


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise XapiInvalid(key, _("a property appears more than once in one object"))
            seen.add(key)
    return result


def load_json(raw: bytes | str, path: str = "", *, check_depth: bool = True) -> Any:
    """Parse request JSON; a property used twice in one object is refused (Data §2.2.s2.b2),
    and so are NaN and Infinity, which Python's parser accepts but JSON does not have.

    Hot path: orjson parses, and `orjson_may_differ` rules out what orjson reads otherwise
    than the standard library: a property given twice in one object (orjson keeps the last),
    and an integer beyond 64 bits (19 digits in a row or more: orjson reads a float, json
    keeps it exact, as sent). Anything it cannot rule out, and a body orjson refuses, is
    parsed again by the standard library, whose errors name what is wrong.

    `check_depth=False` leaves the MAX_JSON_DEPTH check to the caller: store_batch has
    prepare_statement make it per statement, where the fast path needs to walk only the
    extensions (the walk of a whole batch costs about as much as parsing it)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _load_json_strictly(raw, path, check_depth=check_depth)
    body = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if orjson_may_differ(body, data):
        return _load_json_strictly(raw, path, check_depth=check_depth)
    if check_depth and depth_exceeds(data, MAX_JSON_DEPTH):
        raise XapiInvalid(path, _too_deep())
    return data


def python_orjson_may_differ(body: bytes, data: Any) -> bool:
    """Whether `data`, orjson's reading of the valid JSON `body`, may lack a property given
    twice in one object or hold an integer beyond 64 bits as a float.

    Duplicates, by counting quote characters: every string has its two delimiting quotes and
    any `\\"` escape in both the body and orjson's output of the parsed value; `\\u0022` is
    the only spelling that gains one on the way out; a property orjson kept only once (the last
    wins) loses at least its key's two. So the output has exactly as many quotes as the body
    plus its `\\u0022` sequences when, and only when, nothing was dropped (a `\\\\u0022`
    that is no escape can only make the counts differ, never agree falsely)."""
    try:
        quotes = orjson.dumps(data).count(b'"')
    except orjson.JSONEncodeError:  # nested deeper than orjson writes (255 levels)
        return True
    return quotes != body.count(b'"') + body.count(b"\\u0022") or has_digit_run(
        body, BIG_INTEGER_DIGITS
    )


def _native_orjson_may_differ(body: bytes, data: Any) -> bool:
    """python_orjson_may_differ in C (decision 0012), duplicates by counting properties: in
    valid JSON a string followed by a colon is a property name and nothing else is, so the
    body names as many properties as the parsed objects hold when, and only when, none was
    dropped."""
    assert ingest is not None
    names, big_integer = ingest.scan(body, BIG_INTEGER_DIGITS)
    return big_integer or names != ingest.members(data)


orjson_may_differ: Callable[[bytes, Any], bool] = (
    python_orjson_may_differ if ingest is None else _native_orjson_may_differ
)


def _load_json_strictly(raw: bytes | str, path: str, *, check_depth: bool = True) -> Any:
    try:
        data = json.loads(
            raw,
            object_pairs_hook=_reject_duplicate_keys,
            parse_constant=refuse_json_constant,
            parse_float=double_or_refuse,
        )
    except XapiInvalid as exc:
        raise XapiInvalid(path, str(exc)) from exc
    except BeyondDouble as exc:  # kept as infinity, it would be stored as null
        message = _(
            "the number %(number)s is beyond the range a JSON number is kept in (about ±1.8e308)"
        )
        raise XapiInvalid(path, message % {"number": exc.text}) from exc
    except RecursionError as exc:
        raise XapiInvalid(path, _too_deep()) from exc
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise XapiInvalid(path, _("the body is not valid JSON (UTF-8)")) from exc
    if check_depth and depth_exceeds(data, MAX_JSON_DEPTH):
        raise XapiInvalid(path, _too_deep())
    return data


# Deeper JSON than this is refused with a 400 (no statement needs it; the checks, the store
# and readers that walk a statement recursively stay far from Python's recursion limit).
MAX_JSON_DEPTH = 64


def _too_deep() -> str:
    return _("the JSON is nested more than %(depth)d levels deep") % {"depth": MAX_JSON_DEPTH}


_CONTAINERS = (dict, list)


def depth_exceeds(data: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels (iteratively, no recursion).
    Level by level: on the ingest hot path this walk of every body is 2-3× cheaper than a
    stack of (value, depth) pairs."""
    level = [data] if isinstance(data, _CONTAINERS) else []
    depth = 1
    while level:
        if depth > limit:
            return True
        below: list[Any] = []
        for value in level:
            children = value.values() if isinstance(value, dict) else value
            below += [child for child in children if isinstance(child, _CONTAINERS)]
        level = below
        depth += 1
    return False


def actor_key(actor: Agent | Group) -> str:
    """The key the store indexes an Agent or identified Group under: "<objectType>|<ifi>".
    Anonymous groups have no key (each is distinct, Data §2.4.2.2.s3.b1)."""
    ifi = actor.ifi_key
    return f"{actor.objectType}|{ifi}" if ifi else ""


class _Checker:
    def __init__(self, *, version: str) -> None:
        self.v2 = version.startswith("2.")
        self.extracted = Extracted()

    def agent_keys(self, actor: Agent | Group) -> None:
        key = actor_key(actor)
        if key:
            self.extracted.agents.append(key)
        if isinstance(actor, Group) and actor.member:
            for member in actor.member:
                self.extracted.agents.append(actor_key(member))

    def members(self, actor: Agent | Group) -> None:
        if isinstance(actor, Group) and actor.member:
            self.extracted.members.extend(actor_key(member) for member in actor.member)

    def verb(self, value: object, path: str) -> str:
        verb = check_object(value, path)
        check_keys(verb, _VERB_KEYS, path)
        if "id" not in verb:
            raise XapiInvalid(path, _("a verb needs an id"))
        verb_id = check_iri(verb["id"], path + ".id")
        if "display" in verb:
            check_language_map(verb["display"], path + ".display")
        return verb_id

    def activity(self, value: object, path: str) -> str:
        activity = check_object(value, path)
        check_keys(activity, _ACTIVITY_KEYS, path)
        if activity.get("objectType", "Activity") != "Activity":
            raise XapiInvalid(path + ".objectType", _('must be "Activity" here'))
        if "id" not in activity:
            raise XapiInvalid(path, _("an Activity needs an id"))
        activity_id = check_iri(activity["id"], path + ".id")
        if "definition" in activity:
            self.definition(activity["definition"], path + ".definition")
        self.extracted.activities.append(activity_id)
        return activity_id

    def definition(self, value: object, path: str) -> None:  # noqa: PLR0912 - per property
        definition = check_object(value, path)
        check_keys(definition, _DEFINITION_KEYS, path)
        for key in ("name", "description"):
            if key in definition:
                check_language_map(definition[key], f"{path}.{key}")
        if "type" in definition:
            check_iri(definition["type"], path + ".type")
        if "moreInfo" in definition:
            check_iri(definition["moreInfo"], path + ".moreInfo")
        if "extensions" in definition:
            check_extensions(definition["extensions"], path + ".extensions")
        interaction = definition.get("interactionType")
        lists = _COMPONENT_LISTS & definition.keys()
        if interaction is None:
            if lists or "correctResponsesPattern" in definition:
                raise XapiInvalid(path, _("interaction properties need an interactionType"))
            return
        # A JSON array or object here is unhashable: test the type before the lookup.
        if not isinstance(interaction, str) or interaction not in _INTERACTION_TYPES:
            raise XapiInvalid(
                path + ".interactionType", _("is not one of the interaction types of xAPI")
            )
        for name in lists:
            if name not in _INTERACTION_TYPES[interaction]:
                raise XapiInvalid(
                    f"{path}.{name}", _("is not a component list of this interactionType")
                )
            self.components(definition[name], f"{path}.{name}")
        if "correctResponsesPattern" in definition:
            patterns = definition["correctResponsesPattern"]
            where = path + ".correctResponsesPattern"
            if not isinstance(patterns, list):
                raise XapiInvalid(where, _("must be an array of strings"))
            for index, item in enumerate(patterns):
                check_string(item, f"{where}[{index}]")

    def components(self, value: object, path: str) -> None:
        if not isinstance(value, list):
            raise XapiInvalid(path, _("must be an array of interaction components"))
        seen: set[str] = set()
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            component = check_object(item, where)
            check_keys(component, _COMPONENT_KEYS, where)
            if "id" not in component:
                raise XapiInvalid(where, _("an interaction component needs an id"))
            component_id = check_string(component["id"], where + ".id")
            if component_id in seen:
                raise XapiInvalid(
                    where + ".id", _("ids within one component list must be distinct")
                )
            seen.add(component_id)
            if "description" in component:
                check_language_map(component["description"], where + ".description")

    def statement_ref(self, value: dict[str, Any], path: str) -> str:
        check_keys(value, _STATEMENT_REF_KEYS, path)
        if "id" not in value:
            raise XapiInvalid(path, _("a StatementRef needs the id of a statement"))
        return check_uuid(value["id"], path + ".id")

    def statement_object(self, value: object, path: str, *, sub: bool) -> str:
        """Validate the object; returns its objectType."""
        obj = check_object(value, path)
        object_type = obj.get("objectType", "Activity")
        if object_type == "Activity":
            activity_id = self.activity(obj, path)
            if not sub:
                self.extracted.activity_id = activity_id
        elif object_type in ("Agent", "Group"):  # a tuple: objectType may be any JSON value
            actor: Agent | Group = (
                parse_agent(obj, path) if object_type == "Agent" else parse_group(obj, path)
            )
            self.agent_keys(actor)
            if not sub:
                self.extracted.object_agent_ifi = actor_key(actor)
                self.members(actor)
        elif object_type == "StatementRef":
            ref = self.statement_ref(obj, path)
            if not sub:
                self.extracted.object_statement_id = ref
        elif object_type == "SubStatement":
            if sub:
                raise XapiInvalid(path, _("a SubStatement must not contain a SubStatement"))
            check_keys(obj, _SUBSTATEMENT_KEYS, path)
            self.statement_body(obj, path, sub=True)
        else:
            raise XapiInvalid(
                path + ".objectType",
                _("must be Activity, Agent, Group, StatementRef or SubStatement"),
            )
        return str(object_type)

    def result(self, value: object, path: str, *, top: bool) -> None:
        result = check_object(value, path)
        check_keys(result, _RESULT_KEYS, path)
        if "score" in result:
            self.score(result["score"], path + ".score")
        for key in ("success", "completion"):
            if key in result:
                check_bool(result[key], f"{path}.{key}")
        if "response" in result:
            check_string(result["response"], path + ".response")
        if "duration" in result:
            seconds = parse_duration_seconds(result["duration"], path + ".duration")
            if top:
                self.extracted.duration_seconds = seconds
        if "extensions" in result:
            check_extensions(result["extensions"], path + ".extensions")

    @staticmethod
    def score(value: object, path: str) -> None:
        score = check_object(value, path)
        check_keys(score, _SCORE_KEYS, path)
        numbers = {key: check_number(score[key], f"{path}.{key}") for key in score}
        if "scaled" in numbers and not -1 <= numbers["scaled"] <= 1:
            raise XapiInvalid(path + ".scaled", _("must be between -1 and 1 inclusive"))
        low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
        if low is not None and high is not None and not low < high:
            raise XapiInvalid(path + ".min", _("must be less than max"))
        if raw is not None and low is not None and raw < low:
            raise XapiInvalid(path + ".raw", _("must not be less than min"))
        if raw is not None and high is not None and raw > high:
            raise XapiInvalid(path + ".raw", _("must not be greater than max"))

    def context(  # noqa: PLR0912 - one branch per context property
        self, value: object, path: str, *, object_type: str, top: bool
    ) -> None:
        context = check_object(value, path)
        check_keys(context, _CONTEXT_KEYS_2 if self.v2 else _CONTEXT_KEYS_1, path)
        if "registration" in context:
            registration = check_uuid(context["registration"], path + ".registration")
            if top:
                self.extracted.registration = registration
        if "instructor" in context:
            self.agent_keys(parse_actor(context["instructor"], path + ".instructor"))
        if "team" in context:
            team = context["team"]
            if not isinstance(team, dict) or team.get("objectType") != "Group":
                raise XapiInvalid(path + ".team", _("must be a Group"))
            self.agent_keys(parse_group(team, path + ".team"))
        if "contextActivities" in context:
            context["contextActivities"] = self.context_activities(
                context["contextActivities"], path + ".contextActivities"
            )
        for key in ("revision", "platform"):
            if key in context:
                check_string(context[key], f"{path}.{key}")
                if object_type != "Activity":
                    raise XapiInvalid(
                        f"{path}.{key}", _("may only be used when the object is an Activity")
                    )
        if "language" in context and not is_language_tag(context["language"]):
            raise XapiInvalid(path + ".language", _("is not an RFC 5646 language tag"))
        if "statement" in context:
            ref = check_object(context["statement"], path + ".statement")
            if ref.get("objectType") != "StatementRef":
                raise XapiInvalid(path + ".statement.objectType", _('must be "StatementRef"'))
            self.statement_ref(ref, path + ".statement")
        if "extensions" in context:
            check_extensions(context["extensions"], path + ".extensions")
        if "contextAgents" in context:
            self.context_agents(context["contextAgents"], path + ".contextAgents", group=False)
        if "contextGroups" in context:
            self.context_agents(context["contextGroups"], path + ".contextGroups", group=True)

    def context_activities(self, value: object, path: str) -> dict[str, list[Any]]:
        mapping = check_object(value, path)
        check_keys(mapping, _CONTEXT_ACTIVITY_KEYS, path)
        normalised: dict[str, list[Any]] = {}
        for key, item in mapping.items():
            # A single Activity is allowed for 0.95 compatibility and returned as an array
            # of one (Data §2.4.6.2.s4.b3-b4).
            items = item if isinstance(item, list) else [item]
            for index, activity in enumerate(items):
                self.activity(activity, f"{path}.{key}[{index}]")
            normalised[key] = items
        return normalised

    def context_agents(self, value: object, path: str, *, group: bool) -> None:
        """xAPI 2.0 contextAgents / contextGroups."""
        if not isinstance(value, list):
            raise XapiInvalid(path, _("must be an array"))
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            entry = check_object(item, where)
            check_keys(entry, _CONTEXT_GROUP_KEYS if group else _CONTEXT_AGENT_KEYS, where)
            expected = "contextGroup" if group else "contextAgent"
            if entry.get("objectType") != expected:
                raise XapiInvalid(where + ".objectType", _("has the wrong objectType"))
            member = "group" if group else "agent"
            if member not in entry:
                raise XapiInvalid(where, _("the agent or group is missing"))
            actor = (
                parse_group(entry[member], f"{where}.{member}")
                if group
                else parse_agent(entry[member], f"{where}.{member}")
            )
            self.agent_keys(actor)
            if "relevantTypes" in entry:
                types = entry["relevantTypes"]
                if not isinstance(types, list) or not types:
                    raise XapiInvalid(where + ".relevantTypes", _("must be a non-empty array"))
                for type_index, iri in enumerate(types):
                    check_iri(iri, f"{where}.relevantTypes[{type_index}]")

    def attachments(self, value: object, path: str) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise XapiInvalid(path, _("must be an array of attachments"))
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            attachment = check_object(item, where)
            check_keys(attachment, _ATTACHMENT_KEYS, where)
            for key in ("usageType", "display", "contentType", "length", "sha2"):
                if key not in attachment:
                    raise XapiInvalid(
                        where,
                        _("an attachment needs usageType, display, contentType, length and sha2"),
                    )
            check_iri(attachment["usageType"], where + ".usageType")
            check_language_map(attachment["display"], where + ".display")
            if "description" in attachment:
                check_language_map(attachment["description"], where + ".description")
            check_string(attachment["contentType"], where + ".contentType")
            length = attachment["length"]
            if isinstance(length, bool) or not isinstance(length, int) or length < 0:
                raise XapiInvalid(where + ".length", _("must be a non-negative integer"))
            check_string(attachment["sha2"], where + ".sha2")
            if "fileUrl" in attachment:
                check_iri(attachment["fileUrl"], where + ".fileUrl")
        return value

    def statement_body(self, data: dict[str, Any], path: str, *, sub: bool) -> str:
        """Actor, verb, object, result, context, timestamp, attachments; returns the verb."""
        for required in ("actor", "verb", "object"):
            if required not in data:
                raise XapiInvalid(path, _("a statement must have actor, verb and object"))
        where = (path + ".") if path else ""
        actor = parse_actor(data["actor"], where + "actor")
        self.agent_keys(actor)
        if not sub:
            self.extracted.actor_ifi = actor_key(actor)
            self.members(actor)
            if isinstance(actor, Agent) and actor.account is not None:
                self.extracted.account_home_page = actor.account.homePage
                self.extracted.account_name = actor.account.name
        verb_id = self.verb(data["verb"], where + "verb")
        if not sub:
            self.extracted.verb_id = verb_id
        raw_object = data["object"]
        if isinstance(raw_object, dict) and raw_object.get("objectType") in ("Agent", "Group"):
            pass
        elif (
            isinstance(raw_object, dict)
            and "objectType" not in raw_object
            and (set(raw_object) & {"mbox", "mbox_sha1sum", "openid", "account", "member"})
        ):
            # Agents as objects MUST say so (Data §2.4.4.2.s1.b1).
            raise XapiInvalid(
                where + "object.objectType", _("an Agent or Group object needs objectType")
            )
        object_type = self.statement_object(raw_object, where + "object", sub=sub)
        if verb_id == VOIDED_VERB and object_type != "StatementRef":
            raise XapiInvalid(
                where + "object", _("a voiding statement's object must be a StatementRef")
            )
        if "result" in data:
            self.result(data["result"], where + "result", top=not sub)
        if "context" in data:
            self.context(data["context"], where + "context", object_type=object_type, top=not sub)
        if "timestamp" in data:
            parse_timestamp(data["timestamp"], where + "timestamp", rfc3339=self.v2)
        if "attachments" in data:
            self.attachments(data["attachments"], where + "attachments")
        return verb_id


# --- Fast path for the common statement shape --------------------------------------------------
# Most statements are an Agent doing something to an Activity, with a plain result and context.
# `_fast_prepare` takes exactly that shape: shape.is_common checks its structure, types, IRIs,
# UUIDs and language tags in one compiled call, and the rest of the rules the walkers above
# apply are checked here, inline. On anything else — another shape, or any rule broken — it
# returns None and `prepare_statement` runs the full validator, which also makes the error
# message. So it may only ever accept what the full validator accepts, and must produce the
# same Prepared (tests/test_fast_path.py compares the two).

# The fast path's shape nests at most 7 levels down to an extensions object (statement,
# context, contextActivities, list, activity, definition, extensions), 8 within a batch: what
# an extension holds may go this many levels deeper (the extensions object counted) before
# the statement could exceed MAX_JSON_DEPTH; anything deeper takes the full path, which
# measures exactly.
_FAST_EXTENSIONS_DEPTH = MAX_JSON_DEPTH - 7


class _NotFast(Exception):
    """The statement is not of the fast path's shape (or breaks a rule): use the full path."""


def _shallow(holder: dict[str, Any], depth: int) -> None:
    """The extensions of `holder` (a result, context or definition), if any, nest no deeper
    than `depth` levels."""
    extensions = holder.get("extensions")
    if extensions is not None and depth_exceeds(extensions, depth):
        raise _NotFast


def _fast_activity(activity: dict[str, Any], activities: list[str], depth: int) -> str:
    definition = activity.get("definition")
    if definition is not None:
        _shallow(definition, depth)
    activity_id: str = activity["id"]
    activities.append(activity_id)
    return activity_id


def _fast_agent_key(agent: dict[str, Any]) -> tuple[str, str, str]:
    """(actor key, account homePage, account name) of an Agent of the common shape."""
    account = agent.get("account")
    if account is not None:
        home_page, name = account["homePage"], account["name"]
        return f"Agent|account:{home_page} {name}", home_page, name
    if "mbox" in agent:
        local, _sep, domain = agent["mbox"].partition("@")
        return f"Agent|mbox:{local}@{domain.lower()}", "", ""
    if "mbox_sha1sum" in agent:
        return f"Agent|mbox_sha1sum:{agent['mbox_sha1sum'].lower()}", "", ""
    return f"Agent|openid:{agent['openid']}", "", ""


# What common_shape gives for a statement of the common shape: (actor key, account homePage,
# account name, verb id, activity id, activity ids (the object's, then contextActivities'),
# registration lower-cased or None, contextActivities keys given one object, not an array,
# the timestamp when common_shape parsed it (the C walk does for the usual UTC form), else None).
CommonShape = tuple[str, str, str, str, str, list[str], str | None, list[str], datetime | None]


def python_common_shape(value: object, extensions_depth: int) -> CommonShape | None:
    """common_shape in Python: shape.is_common, then a walk that reads the columns."""
    if not is_common(value):
        return None
    data: dict[str, Any] = value  # type: ignore[assignment] # is_common: a JSON object
    try:
        actor_ifi, home_page, account_name = _fast_agent_key(data["actor"])
        activities: list[str] = []
        activity_id = _fast_activity(data["object"], activities, extensions_depth)
        result = data.get("result")
        if result is not None:
            _shallow(result, extensions_depth)
        registration: str | None = None
        single: list[str] = []
        context = data.get("context")
        if context is not None:
            if "registration" in context:
                registration = context["registration"].lower()
            mapping = context.get("contextActivities")
            if mapping is not None:
                for key, item in mapping.items():
                    if type(item) is list:
                        for activity in item:
                            _fast_activity(activity, activities, extensions_depth)
                    else:
                        _fast_activity(item, activities, extensions_depth)
                        single.append(key)
            _shallow(context, extensions_depth)
    except _NotFast:
        return None
    verb_id: str = data["verb"]["id"]
    return (
        actor_ifi,
        home_page,
        account_name,
        verb_id,
        activity_id,
        activities,
        registration,
        single,
        None,
    )


# The C walk (zhipei/lrs/_ingest.c, decision 0012) where it was built; it accepts what
# python_common_shape accepts and reads the same columns.
common_shape: Callable[[object, int], CommonShape | None] = (
    python_common_shape if ingest is None else ingest.common
)


def _fast_prepare(  # noqa: PLR0912 - one flat pass, by design
    value: object,
    path: str,
    *,
    version: str,
    stored: datetime,
    authority: dict[str, Any],
    authority_key: str,
    statement_id: str | None,
) -> Prepared | None:
    shape = common_shape(value, _FAST_EXTENSIONS_DEPTH)
    if shape is None:
        return None
    (
        actor_ifi,
        home_page,
        account_name,
        verb_id,
        activity_id,
        activities,
        registration,
        single,
        parsed_timestamp,
    ) = shape
    if verb_id == VOIDED_VERB:
        return None
    data: dict[str, Any] = value  # type: ignore[assignment] # the common shape: a JSON object
    v2 = version.startswith("2.")
    try:
        duration: float | None = None
        result = data.get("result")
        if result is not None:
            if "score" in result:
                _Checker.score(result["score"], "")
            if "duration" in result:
                duration = parse_duration_seconds(result["duration"], "")
        timestamp_was_given = "timestamp" in data
        if v2 and timestamp_was_given:
            # the C read admits "," before a fraction, which RFC 3339 does not
            timestamp = parse_timestamp(data["timestamp"], "", rfc3339=True)
        elif parsed_timestamp is not None:
            timestamp = parsed_timestamp
        elif timestamp_was_given:
            timestamp = parse_timestamp(data["timestamp"], "")
        else:
            timestamp = stored
        # chosen by the client (in the body, or as PUT's statementId): it may be stored
        # already, or targeted by a voiding statement stored before it
        id_was_given = "id" in data or statement_id is not None
        if "id" in data:
            own: str = data["id"].lower()
            if statement_id is not None and own != statement_id:
                return None
            statement_id = own
    except XapiInvalid:
        return None
    # Valid: now fill in what the LRS sets, in the order prepare_statement does.
    if single:
        mapping = data["context"]["contextActivities"]
        for key in single:
            mapping[key] = [mapping[key]]
    data["version"] = "2.0.0" if v2 else "1.0.0"
    data["id"] = statement_id = statement_id or new_uuid()
    stored_text = _iso(stored)
    if not timestamp_was_given:
        data["timestamp"] = stored_text
    elif v2:
        data["timestamp"] = _iso(timestamp)
    data["stored"] = stored_text
    data["authority"] = authority
    extracted = Extracted(
        actor_ifi=actor_ifi,
        verb_id=verb_id,
        activity_id=activity_id,
        registration=registration,
        duration_seconds=duration,
        account_home_page=home_page,
        account_name=account_name,
        activities=activities,
        agents=[actor_ifi, authority_key],
    )
    return Prepared(
        statement_id=statement_id,
        data=data,
        timestamp=timestamp,
        extracted=extracted,
        is_voiding=False,
        id_was_given=id_was_given,
        timestamp_was_given=timestamp_was_given,
        attachments=[],
        path=path,
    )


def prepare_statement(
    value: object,
    path: str,
    *,
    version: str,
    stored: datetime,
    authority: dict[str, Any],
    statement_id: str | None = None,
    max_depth: int = MAX_JSON_DEPTH,
    authority_key: str | None = None,
) -> Prepared:
    """Validate one statement and fill in what the LRS sets (Data §2.4.1, §2.4.7-2.4.10).

    `statement_id` is the id from PUT's statementId parameter: the statement's own id, when
    given, must be the same. `max_depth` is how deep the statement may nest (arrays and
    objects, itself counted): MAX_JSON_DEPTH less its own level in the request body.
    `authority_key` is actor_key_from_json(authority), which a batch reads once. The
    common shape goes through `_fast_prepare`, whose shape bounds the depth; everything else,
    and every refusal, through `_full_prepare`, which measures it first."""
    if authority_key is None:
        authority_key = actor_key_from_json(authority)
    fast = _fast_prepare(
        value,
        path,
        version=version,
        stored=stored,
        authority=authority,
        authority_key=authority_key,
        statement_id=statement_id,
    )
    if fast is not None:
        return fast
    if depth_exceeds(value, max_depth):
        raise XapiInvalid(path, _too_deep())
    return _full_prepare(
        value,
        path,
        version=version,
        stored=stored,
        authority=authority,
        authority_key=authority_key,
        statement_id=statement_id,
    )


def _full_prepare(  # noqa: PLR0912 - the LRS-set properties, one by one
    value: object,
    path: str,
    *,
    version: str,
    stored: datetime,
    authority: dict[str, Any],
    authority_key: str,
    statement_id: str | None = None,
) -> Prepared:
    """The full validator: every shape, every rule, the error message naming the path."""
    data = check_object(value, path)
    check_keys(data, _STATEMENT_KEYS, path)
    where = (path + ".") if path else ""
    checker = _Checker(version=version)
    verb_id = checker.statement_body(data, path, sub=False)
    id_was_given = "id" in data or statement_id is not None  # as in _fast_prepare
    if "id" in data:
        own = check_uuid(data["id"], where + "id")
        if statement_id is not None and own != statement_id:
            raise XapiInvalid(where + "id", _("differs from the statementId parameter"))
        statement_id = own
    statement_id = statement_id or new_uuid()
    if "stored" in data:
        # validated, then overwritten
        parse_timestamp(data["stored"], where + "stored", rfc3339=checker.v2)
    if "authority" in data:
        authority_value = data["authority"]
        if isinstance(authority_value, dict) and authority_value.get("objectType") == "Group":
            group = parse_group(authority_value, where + "authority")
            if group.member is None or len(group.member) != 2:
                raise XapiInvalid(
                    where + "authority", _("a Group as authority must have exactly two Agents")
                )
        else:
            parse_agent(authority_value, where + "authority")
    if "version" in data:
        version_value = check_string(data["version"], where + "version")
        allowed = ("1.0.", "2.0.") if checker.v2 else ("1.0.",)
        if not version_value.startswith(allowed) or not ascii_digits(version_value.split(".")[-1]):
            raise XapiInvalid(where + "version", _("must be a 1.0.x version (2.0.x with xAPI 2.0)"))
    else:
        data["version"] = "2.0.0" if checker.v2 else "1.0.0"
    data["id"] = statement_id
    stored_text = _iso(stored)
    timestamp_was_given = "timestamp" in data
    if timestamp_was_given:
        timestamp = parse_timestamp(data["timestamp"], where + "timestamp", rfc3339=checker.v2)
        if checker.v2:
            # xAPI 2.0: timestamps not in UTC are converted (IEEE 9274.1.1).
            data["timestamp"] = _iso(timestamp)
    else:
        timestamp = stored
        data["timestamp"] = stored_text
    data["stored"] = stored_text
    data["authority"] = authority
    extracted = checker.extracted
    extracted.agents.append(authority_key)
    attachments = data.get("attachments", [])
    return Prepared(
        statement_id=statement_id,
        data=data,
        timestamp=timestamp,
        extracted=extracted,
        is_voiding=verb_id == VOIDED_VERB,
        id_was_given=id_was_given,
        timestamp_was_given=timestamp_was_given,
        attachments=attachments,
        path=path,
    )


def actor_key_from_json(value: dict[str, Any]) -> str:
    account = value.get("account")
    if (
        value.get("objectType", "Agent") == "Agent"
        and isinstance(account, dict)
        and len(value) <= 3
        and set(value) <= {"objectType", "name", "account"}
    ):
        # The LRS's own authority, on every statement: no need to parse it each time.
        return f"Agent|account:{account['homePage']} {account['name']}"
    return actor_key(parse_actor(value, "authority"))


@functools.lru_cache(maxsize=16)  # a batch stamps every statement with the same moment
def _iso(moment: datetime) -> str:
    """UTC with millisecond precision, the form the LRS writes stored and timestamp in."""
    # isoformat truncates to the millisecond, as the stored column is written; "+00:00" → "Z"
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


# --- Statement comparison (Data §2.3.1.s9) ----------------------------------------------------
def comparable(data: dict[str, Any], *, ignore_timestamp: bool) -> dict[str, Any]:
    """The statement with everything the immutability exceptions allow to differ removed: id,
    stored, authority, version, attachments' data, verb display, activity definitions, group
    member order, timestamp serialisation (compared as instants) and mbox domain case."""
    body = {
        key: value
        for key, value in data.items()
        if key not in {"id", "stored", "authority", "version", "timestamp"}
    }
    if not ignore_timestamp and "timestamp" in data:
        body["timestamp"] = parse_timestamp(data["timestamp"], "timestamp").isoformat()
    stripped: dict[str, Any] = _strip(body)
    return stripped


_DEFAULT_OBJECT_TYPES = {
    "object": "Activity",
    "parent": "Activity",
    "grouping": "Activity",
    "category": "Activity",
    "other": "Activity",
    "actor": "Agent",
    "instructor": "Agent",
    "member": "Agent",
}


def _strip(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for name, item in value.items():
            if name == "definition" and isinstance(item, dict):
                continue
            if name == "display" and key == "verb":
                continue
            out[name] = _strip(item, name)
        if "objectType" not in out and key in _DEFAULT_OBJECT_TYPES:
            out["objectType"] = _DEFAULT_OBJECT_TYPES[key]
        if "mbox" in out and isinstance(out["mbox"], str):
            local, _sep, domain = out["mbox"].partition("@")
            out["mbox"] = f"{local}@{domain.lower()}"
        return out
    if isinstance(value, list):
        items = [_strip(item, key) for item in value]
        if key == "member":
            return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
        return items
    if key == "timestamp" and isinstance(value, str):
        try:
            return parse_timestamp(value, key).isoformat()
        except XapiInvalid:
            return value
    return value
