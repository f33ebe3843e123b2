"""The machine-readable reporting profile (xAPI Profiles 1.0 JSON-LD shape) and its copy in
docs/xapi-profile.jsonld."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

from zhipei.lrs_documents.profile import (
    COURSE,
    EXAMPLE_SITE_URL,
    LESSON,
    MEDIA,
    reporting_profile,
    reporting_profile_json,
)

DOC = Path(settings.BASE_DIR) / "docs" / "xapi-profile.jsonld"
SITE = "https://zhipei.hubei.example.cn"


def test_docs_copy_is_the_profile_built_for_the_example_site():
    assert DOC.read_text(encoding="utf-8") == reporting_profile_json(EXAMPLE_SITE_URL)


def test_profile_has_the_required_top_level_properties():
    profile = json.loads(DOC.read_text(encoding="utf-8"))
    assert profile["@context"] == "https://w3id.org/xapi/profiles/context"
    assert profile["type"] == "Profile"
    assert profile["conformsTo"] == "https://w3id.org/xapi/profiles#1.0"
    for key in ("id", "prefLabel", "definition", "author", "versions"):
        assert profile[key], key
    assert profile["author"]["type"] in {"Organization", "Person"}


def test_every_id_is_unique_and_every_part_is_in_the_current_version():
    profile = reporting_profile(SITE)
    version = profile["versions"][0]["id"]
    parts = profile["concepts"] + profile["templates"] + profile["patterns"]
    ids = [part["id"] for part in parts]
    assert len(ids) == len(set(ids))
    assert all(part["inScheme"] == version for part in parts)
    assert all(part["prefLabel"] and part["definition"] for part in parts)


def test_patterns_refer_only_to_templates_and_patterns_of_the_profile():
    profile = reporting_profile(SITE)
    known = {t["id"] for t in profile["templates"]} | {p["id"] for p in profile["patterns"]}
    for pattern in profile["patterns"]:
        kinds = [
            k
            for k in ("sequence", "alternates", "optional", "oneOrMore", "zeroOrMore")
            if k in pattern
        ]
        assert len(kinds) == 1, pattern["id"]  # exactly one of them (Profiles §9)
        value = pattern[kinds[0]]
        for ref in value if isinstance(value, list) else [value]:
            assert ref in known
    assert [p["id"] for p in profile["patterns"] if p.get("primary")] == [
        f"{SITE}/xapi/profile/patterns/session"
    ]


def test_own_extensions_live_under_the_site_and_carry_a_json_schema():
    profile = reporting_profile(SITE)
    own = [c for c in profile["concepts"] if c["type"].endswith("Extension")]
    assert {c["id"] for c in own} == {
        f"{SITE}/xapi/extensions/face-check",
        f"{SITE}/xapi/extensions/media-duration",
        f"{SITE}/xapi/extensions/media-segment",
        f"{SITE}/xapi/extensions/idle",
    }
    for concept in own:
        assert isinstance(json.loads(concept["inlineSchema"]), dict)


def test_learner_rule_pins_the_pseudonym_home_page_of_the_site():
    profile = reporting_profile(SITE + "/")
    for template in profile["templates"]:
        rule = next(r for r in template["rules"] if r["location"] == "$.actor.account.homePage")
        assert rule["all"] == [f"{SITE}/learners"]


def test_face_check_is_required_when_a_session_starts():
    profile = reporting_profile(SITE)
    initialized = next(t for t in profile["templates"] if t["id"].endswith("/initialized"))
    locations = {r["location"]: r["presence"] for r in initialized["rules"]}
    assert locations[f"$.result.extensions['{SITE}/xapi/extensions/face-check']"] == "included"


def test_the_guide_names_every_verb_and_extension_of_the_profile():
    guide = (Path(settings.BASE_DIR) / "docs" / "xapi-profile.md").read_text(encoding="utf-8")
    guide = guide.replace("<SITE_URL>", SITE)
    profile = reporting_profile(SITE)
    verbs = {t["verb"] for t in profile["templates"]}
    extensions = {c["id"] for c in profile["concepts"]}
    for iri in verbs | extensions:
        short = iri.removeprefix("http://adlnet.gov/expapi/verbs/")
        assert iri in guide or f"`{short}`" in guide, iri


def test_lesson_templates_accept_lesson_and_media_activities():
    # The guide (§4): a lesson is `media` for video and audio, `lesson` otherwise; seeking is
    # only for media, completion is of the course, tests are assessments.
    profile = reporting_profile(SITE)
    by_name = {t["id"].rsplit("/", 1)[1]: t for t in profile["templates"]}
    for name in ("launched", "initialized", "progressed", "suspended", "resumed", "terminated"):
        template = by_name[name]
        assert "objectActivityType" not in template, name
        (rule,) = [r for r in template["rules"] if r["location"] == "$.object.definition.type"]
        assert rule["any"] == [LESSON, MEDIA], name
    assert by_name["seeked"]["objectActivityType"] == MEDIA
    assert by_name["completed"]["objectActivityType"] == COURSE


def test_every_learner_template_excludes_the_actors_name_as_the_validator_does():
    for template in reporting_profile(SITE)["templates"]:
        rules = {r["location"]: r["presence"] for r in template["rules"]}
        assert rules["$.actor.name"] == "excluded", template["id"]
