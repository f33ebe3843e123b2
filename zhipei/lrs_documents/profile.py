"""The Zhipei reporting profile (docs/xapi-profile.md) in machine-readable form: the xAPI
Profiles 1.0 JSON-LD document listing the verbs, activity types, extensions, statement
templates and the session pattern a platform reports with.

Zhipei's own IRIs live under `<SITE_URL>/xapi/…`, so the profile is built for a site URL
(`reporting_profile(settings.SITE_URL)`); docs/xapi-profile.jsonld is the same document built
for the example site https://zhipei.example.gov.cn (a test keeps the two in step). Verbs and
activity types are the well-known ADL ones, and session ids, progress and seeking reuse the
cmi5 and xAPI Video profile IRIs, so ordinary xAPI clients need nothing new.
"""

from __future__ import annotations

import json
from typing import Any

EXAMPLE_SITE_URL = "https://zhipei.example.gov.cn"
PROFILE_VERSION = "1.0.0"
PROFILE_DATE = "2026-11-26T00:00:00Z"

ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
ADL_ACTIVITIES = "http://adlnet.gov/expapi/activities/"

# Verbs (ADL vocabulary, plus the xAPI Video profile's "seeked").
LAUNCHED = ADL_VERBS + "launched"
INITIALIZED = ADL_VERBS + "initialized"
PROGRESSED = ADL_VERBS + "progressed"
SUSPENDED = ADL_VERBS + "suspended"
RESUMED = ADL_VERBS + "resumed"
TERMINATED = ADL_VERBS + "terminated"
COMPLETED = ADL_VERBS + "completed"
PASSED = ADL_VERBS + "passed"
FAILED = ADL_VERBS + "failed"
SEEKED = "https://w3id.org/xapi/video/verbs/seeked"

# Activity types.
COURSE = ADL_ACTIVITIES + "course"
LESSON = ADL_ACTIVITIES + "lesson"
MEDIA = ADL_ACTIVITIES + "media"
ASSESSMENT = ADL_ACTIVITIES + "assessment"

# Extensions reused from other profiles.
SESSION_ID = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"
TIME_FROM = "https://w3id.org/xapi/video/extensions/time-from"
TIME_TO = "https://w3id.org/xapi/video/extensions/time-to"


def extension_iri(site_url: str, name: str) -> str:
    """One of Zhipei's own extension IRIs: `<site>/xapi/extensions/<name>`."""
    return f"{site_url.rstrip('/')}/xapi/extensions/{name}"


def face_check_iri(site_url: str) -> str:
    return extension_iri(site_url, "face-check")


def media_duration_iri(site_url: str) -> str:
    return extension_iri(site_url, "media-duration")


def media_segment_iri(site_url: str) -> str:
    return extension_iri(site_url, "media-segment")


def idle_iri(site_url: str) -> str:
    return extension_iri(site_url, "idle")


_FACE_CHECK_SCHEMA = {
    "type": "object",
    "required": ["result", "checkedAt"],
    "properties": {
        "result": {"enum": ["passed", "failed", "missed"]},
        "checkedAt": {"type": "string", "format": "date-time"},
        "trigger": {"enum": ["session-start", "random"]},
        "similarity": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "additionalProperties": False,
}
_MEDIA_SEGMENT_SCHEMA = {
    "type": "object",
    "required": ["from", "to"],
    "properties": {
        "from": {"type": "number", "minimum": 0},
        "to": {"type": "number", "minimum": 0},
    },
    "additionalProperties": False,
}
_IDLE_SCHEMA = {
    "type": "object",
    "required": ["since"],
    "properties": {
        "since": {"type": "string", "format": "date-time"},
        "promptedAt": {"type": "string", "format": "date-time"},
    },
    "additionalProperties": False,
}


# A lesson's activity type: media for video and audio, lesson otherwise (docs/xapi-profile.md §4).
LESSON_OR_MEDIA = (LESSON, MEDIA)


def _label(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh-CN": zh}


def _template(
    site_url: str,
    scheme: str,
    *,
    name: str,
    en: str,
    zh: str,
    definition: str,
    verb: str,
    object_type: str | tuple[str, ...],
    rules: list[dict[str, Any]],
) -> dict[str, Any]:
    """One activity type is the template's objectActivityType; several (a lesson is either
    `lesson` or, for video and audio, `media`) become a rule on the object's type, since
    objectActivityType names exactly one."""
    template: dict[str, Any] = {
        "id": f"{site_url}/xapi/profile/templates/{name}",
        "type": "StatementTemplate",
        "inScheme": scheme,
        "prefLabel": _label(en, zh),
        "definition": {"en": definition},
        "verb": verb,
    }
    if isinstance(object_type, str):
        template["objectActivityType"] = object_type
    else:
        rules = [
            {"location": "$.object.definition.type", "presence": "included", "any": [*object_type]},
            *rules,
        ]
    template["rules"] = rules
    return template


def _learner_rules(site_url: str) -> list[dict[str, Any]]:
    # Imported here: this module is otherwise free of Django models, so scripts can read the
    # profile's constants before django.setup().
    from zhipei.people.queries import learners_home_page

    return [
        {
            "location": "$.actor.account.homePage",
            "presence": "included",
            "all": [learners_home_page(site_url)],
            "scopeNote": {"en": "The learner's pseudonym account from POST /api/v1/learners."},
        },
        {"location": "$.actor.account.name", "presence": "included"},
        {
            "location": "$.actor.name",
            "presence": "excluded",
            "scopeNote": {"en": "No real names in statements: the pseudonym identifies."},
        },
        {"location": "$.actor.mbox", "presence": "excluded"},
        {"location": "$.actor.mbox_sha1sum", "presence": "excluded"},
        {"location": "$.actor.openid", "presence": "excluded"},
        {"location": "$.timestamp", "presence": "included"},
    ]


def _session_rules() -> list[dict[str, Any]]:
    return [
        {"location": "$.context.registration", "presence": "included"},
        {"location": f"$.context.extensions['{SESSION_ID}']", "presence": "included"},
        {
            "location": "$.context.contextActivities.parent[*].id",
            "presence": "included",
            "scopeNote": {"en": "The course's activity IRI (Course.activity_iri)."},
        },
    ]


def reporting_profile(site_url: str) -> dict[str, Any]:
    """The profile as a JSON-LD object for the deployment at `site_url`."""
    site_url = site_url.rstrip("/")
    profile_id = f"{site_url}/xapi/profile"
    scheme = f"{profile_id}/v{PROFILE_VERSION}"
    face_check = face_check_iri(site_url)
    media_duration = media_duration_iri(site_url)
    media_segment = media_segment_iri(site_url)
    idle = idle_iri(site_url)
    learner = _learner_rules(site_url)
    session = _session_rules()

    concepts: list[dict[str, Any]] = [
        {
            "id": face_check,
            "type": "ResultExtension",
            "inScheme": scheme,
            "prefLabel": _label("face check", "人脸核验"),
            "definition": {
                "en": "The outcome of one face check of the learner: result (passed, failed or "
                "missed — no answer in time), when it was made (checkedAt), what triggered it "
                "(session-start or random) and optionally the similarity score."
            },
            "recommendedVerbs": [INITIALIZED, PROGRESSED],
            "inlineSchema": json.dumps(_FACE_CHECK_SCHEMA, separators=(",", ":")),
        },
        {
            "id": media_duration,
            "type": "ActivityExtension",
            "inScheme": scheme,
            "prefLabel": _label("media duration", "媒体时长"),
            "definition": {
                "en": "Length of a video or audio lesson in seconds. The catalogue's "
                "Lesson.media_duration_seconds is authoritative; statements may repeat it in "
                "the activity definition or as a context extension."
            },
            "inlineSchema": json.dumps({"type": "number", "exclusiveMinimum": 0}),
        },
        {
            "id": media_segment,
            "type": "ResultExtension",
            "inScheme": scheme,
            "prefLabel": _label("media segment", "播放区间"),
            "definition": {
                "en": "The part of the media (positions in seconds, from and to) played since "
                "the previous heartbeat of the session."
            },
            "recommendedVerbs": [PROGRESSED],
            "inlineSchema": json.dumps(_MEDIA_SEGMENT_SCHEMA, separators=(",", ":")),
        },
        {
            "id": idle,
            "type": "ResultExtension",
            "inScheme": scheme,
            "prefLabel": _label("idle", "无操作"),
            "definition": {
                "en": "The learner stopped interacting: since when (no input from then on) and "
                "when the platform prompted them. Time from `since` until `resumed` is not "
                "credited."
            },
            "recommendedVerbs": [SUSPENDED],
            "inlineSchema": json.dumps(_IDLE_SCHEMA, separators=(",", ":")),
        },
    ]

    templates = [
        _template(
            site_url,
            scheme,
            name="launched",
            en="course launched",
            zh="课程启动",
            definition="The platform opened a lesson of a course for the learner.",
            verb=LAUNCHED,
            object_type=LESSON_OR_MEDIA,
            rules=learner + session,
        ),
        _template(
            site_url,
            scheme,
            name="initialized",
            en="session started",
            zh="学习开始",
            definition="A learning session starts; it carries the face check made before it.",
            verb=INITIALIZED,
            object_type=LESSON_OR_MEDIA,
            rules=[
                *learner,
                *session,
                {"location": f"$.result.extensions['{face_check}']", "presence": "included"},
            ],
        ),
        _template(
            site_url,
            scheme,
            name="progressed",
            en="heartbeat",
            zh="学习进度",
            definition="Sent at most every 60 seconds while the learner studies: "
            "result.duration is the time since the previous heartbeat of the session; media "
            "lessons add the segment played; a random face check adds its outcome.",
            verb=PROGRESSED,
            object_type=LESSON_OR_MEDIA,
            rules=[
                *learner,
                *session,
                {"location": "$.result.duration", "presence": "included"},
                {"location": f"$.result.extensions['{media_segment}']", "presence": "recommended"},
                {"location": f"$.result.extensions['{PROGRESS}']", "presence": "recommended"},
            ],
        ),
        _template(
            site_url,
            scheme,
            name="seeked",
            en="media seeked",
            zh="拖动进度",
            definition="The learner moved the media position (time-from → time-to, seconds). "
            "A forward jump is not credited.",
            verb=SEEKED,
            object_type=MEDIA,
            rules=[
                *learner,
                *session,
                {"location": f"$.result.extensions['{TIME_FROM}']", "presence": "included"},
                {"location": f"$.result.extensions['{TIME_TO}']", "presence": "included"},
            ],
        ),
        _template(
            site_url,
            scheme,
            name="suspended",
            en="idle",
            zh="无操作暂停",
            definition="The learner did not answer an idle prompt; time from idle.since is "
            "not credited until resumed.",
            verb=SUSPENDED,
            object_type=LESSON_OR_MEDIA,
            rules=[
                *learner,
                *session,
                {"location": f"$.result.extensions['{idle}']", "presence": "included"},
            ],
        ),
        _template(
            site_url,
            scheme,
            name="resumed",
            en="resumed",
            zh="恢复学习",
            definition="The learner is back after an idle pause.",
            verb=RESUMED,
            object_type=LESSON_OR_MEDIA,
            rules=learner + session,
        ),
        _template(
            site_url,
            scheme,
            name="terminated",
            en="session ended",
            zh="学习结束",
            definition="The session ends; result.duration is the time since the last heartbeat.",
            verb=TERMINATED,
            object_type=LESSON_OR_MEDIA,
            rules=[*learner, *session, {"location": "$.result.duration", "presence": "included"}],
        ),
        _template(
            site_url,
            scheme,
            name="completed",
            en="course completed",
            zh="课程学完",
            definition="The learner finished every lesson of the course (object: the course).",
            verb=COMPLETED,
            object_type=COURSE,
            rules=[
                *learner,
                {"location": "$.context.registration", "presence": "included"},
                {"location": "$.result.completion", "presence": "included", "all": [True]},
            ],
        ),
        _template(
            site_url,
            scheme,
            name="passed",
            en="test passed",
            zh="考核通过",
            definition="The learner passed the course's test (object: the test, parent: the "
            "course); result.score.scaled and result.success are required.",
            verb=PASSED,
            object_type=ASSESSMENT,
            rules=[
                *learner,
                *session,
                {"location": "$.result.success", "presence": "included", "all": [True]},
                {"location": "$.result.score.scaled", "presence": "included"},
            ],
        ),
        _template(
            site_url,
            scheme,
            name="failed",
            en="test failed",
            zh="考核未通过",
            definition="The learner failed the course's test.",
            verb=FAILED,
            object_type=ASSESSMENT,
            rules=[
                *learner,
                *session,
                {"location": "$.result.success", "presence": "included", "all": [False]},
                {"location": "$.result.score.scaled", "presence": "included"},
            ],
        ),
    ]
    template_id = {t["verb"]: t["id"] for t in templates}
    study_events = {
        "id": f"{profile_id}/patterns/study-events",
        "type": "Pattern",
        "inScheme": scheme,
        "prefLabel": _label("study events", "学习事件"),
        "definition": {"en": "Anything that happens while a session runs."},
        "alternates": [template_id[v] for v in (PROGRESSED, SEEKED, SUSPENDED, RESUMED)],
    }
    study_loop = {
        "id": f"{profile_id}/patterns/study-loop",
        "type": "Pattern",
        "inScheme": scheme,
        "prefLabel": _label("study loop", "学习过程"),
        "definition": {"en": "Heartbeats, seeks and idle pauses, in any order."},
        "zeroOrMore": study_events["id"],
    }
    optional_launch = {
        "id": f"{profile_id}/patterns/optional-launch",
        "type": "Pattern",
        "inScheme": scheme,
        "prefLabel": _label("optional launch", "可选启动"),
        "definition": {"en": "A session may be preceded by a launched statement."},
        "optional": template_id[LAUNCHED],
    }
    session_pattern = {
        "id": f"{profile_id}/patterns/session",
        "type": "Pattern",
        "primary": True,
        "inScheme": scheme,
        "prefLabel": _label("learning session", "一次学习"),
        "definition": {
            "en": "One session on one lesson: (launched) → initialized with a face check → "
            "heartbeats, seeks and idle pauses → terminated."
        },
        "sequence": [
            optional_launch["id"],
            template_id[INITIALIZED],
            study_loop["id"],
            template_id[TERMINATED],
        ],
    }
    return {
        "@context": "https://w3id.org/xapi/profiles/context",
        "id": profile_id,
        "type": "Profile",
        "conformsTo": "https://w3id.org/xapi/profiles#1.0",
        "prefLabel": _label("Zhipei reporting profile", "职培学习记录上报规范"),
        "definition": {
            "en": "How a selected online training platform reports learning to Zhipei: learner "
            "pseudonym accounts, courses and lessons by their catalogue activity IRIs, "
            "sessions with heartbeats, face checks, media segments, seeks, idle pauses, "
            "completion and test results. See docs/xapi-profile.md."
        },
        "author": {"type": "Organization", "name": "Zhipei"},
        "versions": [{"id": scheme, "generatedAtTime": PROFILE_DATE}],
        "concepts": concepts,
        "templates": templates,
        "patterns": [session_pattern, optional_launch, study_loop, study_events],
    }


def reporting_profile_json(site_url: str) -> str:
    """The profile serialised as docs/xapi-profile.jsonld is (indent 2, UTF-8, newline)."""
    return json.dumps(reporting_profile(site_url), ensure_ascii=False, indent=2) + "\n"
