"""Reads for the xAPI document, activities and agents resources; every one is scoped to the
platform whose credential asks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Max

from zhipei.catalog.models import Course, Lesson
from zhipei.lrs.agents import Agent
from zhipei.lrs.models import Statement
from zhipei.lrs_documents import profile
from zhipei.lrs_documents.models import Document
from zhipei.lrs_documents.profile import media_duration_iri
from zhipei.lrs_documents.services import DocumentKey, context_sha256

COURSE_TYPE = profile.COURSE
LESSON_TYPE = profile.LESSON
MEDIA_TYPE = profile.MEDIA


def media_duration_extension() -> str:
    """Extension IRI (activity definition and context) carrying a lesson's media length in
    seconds; see docs/xapi-profile.md."""
    return media_duration_iri(settings.SITE_URL)


def get_document(platform_id: int, key: DocumentKey) -> Document | None:
    return Document.objects.filter(platform_id=platform_id, key_sha256=key.key_sha256).first()


@dataclass(frozen=True)
class DocumentIds:
    ids: list[str]
    last_modified: datetime | None


def document_ids(
    platform_id: int,
    kind: str,
    *,
    activity_id: str = "",
    agent_ifi: str = "",
    registration: UUID | None = None,
    since: datetime | None = None,
) -> DocumentIds:
    """The ids of the platform's documents in one context (GET without stateId/profileId),
    optionally of one registration and only those stored or updated after `since`
    (exclusive), in id order; and when the newest of them was last modified."""
    documents = Document.objects.filter(
        platform_id=platform_id,
        context_sha256=context_sha256(kind, activity_id=activity_id, agent_ifi=agent_ifi),
    )
    if registration is not None:
        documents = documents.filter(registration=registration)
    if since is not None:
        documents = documents.filter(updated_at__gt=since)
    ids = sorted(set(documents.values_list("document_id", flat=True)))
    newest = documents.aggregate(newest=Max("updated_at"))["newest"]
    return DocumentIds(ids=ids, last_modified=newest)


STATEMENTS_SEARCHED_FOR_A_DEFINITION = 50


def activity_object(platform_id: int, activity_id: str) -> dict[str, Any]:
    """The Activity Object for the Activities resource (Communication §2.5), in this order:
    the definition the platform published in the catalogue for one of its own courses or
    lessons (name, description, type, and the media duration of a video or audio lesson); else
    the definitions in the platform's statements about the activity, merged, the newest
    first (_definition_from_statements); else an Activity Object with only its id
    (§2.5.s2.b1)."""
    activity: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    course = (
        Course.objects.filter(platform_id=platform_id, activity_iri=activity_id)
        .only("title", "description")
        .first()
    )
    if course is not None:
        definition: dict[str, Any] = {"name": {"zh-CN": course.title}, "type": COURSE_TYPE}
        if course.description:
            definition["description"] = {"zh-CN": course.description}
        activity["definition"] = definition
        return activity
    lesson = (
        Lesson.objects.filter(course__platform_id=platform_id, activity_iri=activity_id)
        .only("title", "kind", "media_duration_seconds")
        .first()
    )
    if lesson is not None:
        media = lesson.kind in {Lesson.Kind.VIDEO, Lesson.Kind.AUDIO}
        definition = {"name": {"zh-CN": lesson.title}, "type": MEDIA_TYPE if media else LESSON_TYPE}
        if lesson.media_duration_seconds:
            definition["extensions"] = {media_duration_extension(): lesson.media_duration_seconds}
        activity["definition"] = definition
        return activity
    reported = _definition_from_statements(platform_id, activity_id)
    if reported is not None:
        activity["definition"] = reported
    return activity


def _definition_from_statements(platform_id: int, activity_id: str) -> dict[str, Any] | None:
    """The platform's statements about the activity that carry a definition, newest first,
    merged (Data §2.4.4.1.s4.b3: a later definition updates the stored one): each property
    from the newest statement that gives it, and the language maps name and description
    language by language, so a statement with a partial definition (a new description
    alone) keeps the name and type given before, and statements without one change nothing.
    Only the newest STATEMENTS_SEARCHED_FOR_A_DEFINITION that carry one are read."""
    payloads = (
        Statement.objects.filter(
            platform_id=platform_id, activity_id=activity_id, payload__contains='"definition"'
        )
        .order_by("-seq")
        .values_list("payload", flat=True)[:STATEMENTS_SEARCHED_FOR_A_DEFINITION]
    )
    merged: dict[str, Any] = {}
    for payload in payloads:
        target = json.loads(payload).get("object") or {}
        definition = target.get("definition") if target.get("id") == activity_id else None
        if isinstance(definition, dict):
            _merge_older(merged, definition)
    return merged or None


_LANGUAGE_MAPS = frozenset({"name", "description"})


def _merge_older(merged: dict[str, Any], older: dict[str, Any]) -> None:
    """Fill `merged` (built from newer definitions) with what `older` adds."""
    for key, value in older.items():
        if key not in merged:
            merged[key] = dict(value) if isinstance(value, dict) else value
        elif key in _LANGUAGE_MAPS and isinstance(value, dict) and isinstance(merged[key], dict):
            for language, text in value.items():
                merged[key].setdefault(language, text)
        elif key == "extensions" and isinstance(value, dict) and isinstance(merged[key], dict):
            for iri, extension in value.items():
                merged[key].setdefault(iri, extension)


def person_object(agent: Agent) -> dict[str, Any]:
    """The Person Object for the Agents resource (Communication §2.4): the identifiers of the
    Agent asked about, each as an array (§2.4.s3.b3, §2.4.s6). Nothing is combined from other
    sources: a learner has exactly one account per platform here (its pseudonym), the real
    name stays out of xAPI responses, and pseudonyms issued to other platforms are never
    added — that would let platforms link their learners."""
    person: dict[str, Any] = {"objectType": "Person"}
    if agent.name:
        person["name"] = [agent.name]
    if agent.mbox is not None:
        person["mbox"] = [agent.mbox]
    if agent.mbox_sha1sum is not None:
        person["mbox_sha1sum"] = [agent.mbox_sha1sum]
    if agent.openid is not None:
        person["openid"] = [agent.openid]
    if agent.account is not None:
        person["account"] = [{"homePage": agent.account.homePage, "name": agent.account.name}]
    return person
