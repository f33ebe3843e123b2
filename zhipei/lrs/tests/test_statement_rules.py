"""The MUST rules of xAPI 1.0.3 Data §2 (and the 2.0 differences), one test per rule, named
after it. They call the validator directly; test_statements_api.py covers the HTTP side."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhipei.lrs import formats
from zhipei.lrs.formats import XapiInvalid, parse_duration_seconds, parse_timestamp
from zhipei.lrs.tests.helpers import statement
from zhipei.lrs.validation import (
    _load_json_strictly,
    comparable,
    load_json,
    prepare_statement,
)

NOW = datetime(2026, 5, 1, 1, 2, 3, 456000, tzinfo=UTC)
AUTHORITY = {"objectType": "Agent", "account": {"homePage": "https://z.cn/xapi", "name": "k"}}
ACTIVITY = {"objectType": "Activity", "id": "https://x.cn/a"}


def prepare(data, version="1.0.3"):
    return prepare_statement(data, "", version=version, stored=NOW, authority=AUTHORITY)


def rejects(data, path=None, version="1.0.3"):
    with pytest.raises(XapiInvalid) as caught:
        prepare(data, version)
    if path is not None:
        assert caught.value.path == path, caught.value
    return caught.value


# --- 2.2 Formatting requirements ------------------------------------------------------------
def test_statement_must_use_each_property_no_more_than_one_time():
    with pytest.raises(XapiInvalid, match="more than once"):
        load_json('{"actor": {}, "actor": {}}')


@pytest.mark.parametrize(
    "text",
    [
        '[{"id": 1}, {"a": {"b": [1, {"c": 1, "c": 2}]}}]',  # deep in a later element
        '{"a\\u0022": 1, "a\\"": 2}',  # the same key spelled two ways
        '{"x": "\\\\u0022", "x": 1}',  # a backslash, then u0022: no escape
        '{"\\u0022": "\\u0022", "\\"": 1}',
        '{"a": "\u738b", "a": "\u738b"}',  # the same value twice, non-ASCII as is
        b'{"k": 1, "k": 1}',
    ],
)
def test_a_repeated_property_is_found_however_it_is_spelled(text):
    # The fast path counts quote characters (validation.load_json); each of these tries to
    # make the counts agree although a property was dropped.
    with pytest.raises(XapiInvalid, match="more than once"):
        load_json(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ('{"a\\u0022": 1, "b\\"": 2}', {'a"': 1, 'b"': 2}),
        ('{"s": "\\\\u0022"}', {"s": "\\u0022"}),
        ('{"n": 123456789012345678901234567890}', {"n": 123456789012345678901234567890}),
        ('{"n": -18446744073709551617}', {"n": -18446744073709551617}),
        ('{"f": 1.5, "t": true, "z": null}', {"f": 1.5, "t": True, "z": None}),
    ],
)
def test_json_is_read_exactly_as_sent(text, expected):
    value = load_json(text)
    assert value == expected
    assert [type(v) for v in value.values()] == [type(v) for v in expected.values()]


@pytest.mark.parametrize("missing", ["actor", "verb", "object"])
def test_statement_must_use_actor_verb_and_object(missing):
    rejects(statement(**{missing: None}))


def test_lrs_must_reject_null_values():
    rejects(statement(result={"success": None}), "result.success")


def test_lrs_allows_null_inside_extensions():
    prepare(statement(result={"extensions": {"https://x.cn/e": None}}))


def test_lrs_rejects_json_that_is_not_json_nan_and_infinity():
    # Python's parser accepts these; JSON (RFC 8259) has no such values.
    for text in ('{"result": {"score": {"raw": NaN}}}', '{"a": Infinity}', "[-Infinity]"):
        with pytest.raises(XapiInvalid, match="not valid JSON"):
            load_json(text)


@pytest.mark.parametrize("value", [[], {}, ["Agent"], 1, True])
def test_object_type_that_is_not_a_string_is_refused_not_a_crash(value):
    # Found by the fast-path fuzz test: an array here once reached a set lookup (TypeError).
    rejects(statement(object={"objectType": value, "id": "https://x.cn/a"}), "object.objectType")


@pytest.mark.parametrize("value", [[], {}, 1])
def test_interaction_type_that_is_not_a_string_is_refused_not_a_crash(value):
    data = statement(object={"id": "https://x.cn/a", "definition": {"interactionType": value}})
    rejects(data, "object.definition.interactionType")


def test_lrs_must_reject_strings_where_numbers_are_required():
    rejects(statement(result={"score": {"raw": "5"}}), "result.score.raw")


def test_lrs_must_reject_strings_where_booleans_are_required():
    rejects(statement(result={"success": "true"}), "result.success")


def test_lrs_must_reject_empty_string_where_an_iri_is_required():
    rejects(statement(verb={"id": ""}), "verb.id")


def test_lrs_must_reject_keys_whose_case_does_not_match():
    rejects(statement(Verb={"id": "https://x.cn/v"}), "Verb")


def test_lrs_must_reject_enumerated_values_in_the_wrong_case():
    data = statement(object={"objectType": "activity", "id": "https://x.cn/a"})
    rejects(data)


def test_lrs_must_reject_properties_not_allowed():
    rejects(statement(extra=1), "extra")


def test_lrs_must_reject_iris_without_a_scheme():
    rejects(statement(object={"id": "www.example.cn/a"}), "object.id")


def test_lrs_must_validate_language_map_keys_as_rfc5646_tags():
    data = statement()
    data["verb"]["display"] = {"not a tag!": "x"}
    rejects(data, "verb.display.not a tag!")


@pytest.mark.parametrize("tag", ["en", "en-US", "zh-Hans-CN", "zh-CN", "x-private", "es-419"])
def test_valid_language_tags_are_accepted(tag):
    data = statement()
    data["verb"]["display"] = {tag: "x"}
    prepare(data)


def test_lrs_must_keep_number_precision():
    data = prepare(statement(result={"score": {"raw": 0.123456789, "min": 0, "max": 1}})).data
    assert data["result"]["score"]["raw"] == 0.123456789


# --- 2.3.1 Statement comparison -------------------------------------------------------------
def test_comparison_ignores_verb_display_and_activity_definitions():
    one = statement()
    two = dict(one, verb={"id": one["verb"]["id"]}, object={"id": one["object"]["id"]})
    assert comparable(one, ignore_timestamp=False) == comparable(two, ignore_timestamp=False)


def test_comparison_does_not_ignore_duration_serialisation():
    one = statement(result={"duration": "PT60S"})
    two = dict(one, result={"duration": "PT1M"})
    assert comparable(one, ignore_timestamp=False) != comparable(two, ignore_timestamp=False)


def test_comparison_treats_timestamps_as_instants():
    one = statement(timestamp="2026-05-01T08:30:00+08:00")
    two = dict(one, timestamp="2026-05-01T00:30:00Z")
    assert comparable(one, ignore_timestamp=False) == comparable(two, ignore_timestamp=False)


# --- 2.3.2 Voiding --------------------------------------------------------------------------
def test_voiding_statement_object_must_be_a_statement_ref():
    data = statement(verb={"id": "http://adlnet.gov/expapi/verbs/voided"}, object=ACTIVITY)
    rejects(data, "object")


def test_voiding_statement_with_statement_ref_is_valid():
    target = "e05aa883-acaf-40ad-bf54-02c8ce485fb0"
    data = statement(
        verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
        object={"objectType": "StatementRef", "id": target},
        context=None,
    )
    prepared = prepare(data)
    assert prepared.is_voiding
    assert prepared.voided_target == target


# --- 2.4.1 id, 2.4.3 verb -------------------------------------------------------------------
def test_statement_id_must_be_a_uuid():
    rejects(statement(id="12345"), "id")


def test_statement_ids_must_be_generated_by_the_lrs_when_missing():
    prepared = prepare(statement(id=None))
    assert prepared.data["id"] == prepared.statement_id
    assert not prepared.id_was_given


def test_verb_must_have_an_iri_id():
    rejects(statement(verb={"display": {"en-US": "did"}}), "verb")


def test_verb_display_must_be_a_language_map():
    rejects(statement(verb={"id": "https://x.cn/v", "display": "did"}), "verb.display")


# --- 2.4.4 object ---------------------------------------------------------------------------
def test_activity_must_have_an_id():
    rejects(statement(object={"objectType": "Activity"}), "object")


def test_object_agent_must_specify_object_type():
    rejects(statement(object={"mbox": "mailto:a@b.cn"}, context=None), "object.objectType")


def test_object_agent_with_object_type_is_valid():
    prepared = prepare(
        statement(object={"objectType": "Agent", "mbox": "mailto:a@b.cn"}, context=None)
    )
    assert prepared.extracted.object_agent_ifi == "Agent|mbox:mailto:a@b.cn"


def test_interaction_activity_must_have_a_valid_interaction_type():
    data = statement(object={"id": "https://x.cn/q", "definition": {"interactionType": "essay"}})
    rejects(data, "object.definition.interactionType")


def test_interaction_component_ids_must_be_distinct():
    definition = {
        "interactionType": "choice",
        "choices": [{"id": "a"}, {"id": "a"}],
    }
    rejects(
        statement(object={"id": "https://x.cn/q", "definition": definition}),
        "object.definition.choices[1].id",
    )


def test_statement_ref_must_have_a_uuid_id():
    rejects(statement(object={"objectType": "StatementRef", "id": "x"}, context=None), "object.id")


def test_substatement_must_be_validated_as_a_statement():
    sub = {
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:a@b.cn"},
        "verb": {"id": "nope"},
        "object": ACTIVITY,
    }
    rejects(statement(object=sub, context=None), "object.verb.id")


@pytest.mark.parametrize("key", ["id", "stored", "version", "authority"])
def test_substatement_must_not_have_id_stored_version_or_authority(key):
    value = {
        "id": "e05aa883-acaf-40ad-bf54-02c8ce485fb0",
        "stored": "2026-01-01T00:00:00Z",
        "version": "1.0.0",
        "authority": AUTHORITY,
    }[key]
    sub = {
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:a@b.cn"},
        "verb": {"id": "https://x.cn/v"},
        "object": ACTIVITY,
        key: value,
    }
    rejects(statement(object=sub, context=None), f"object.{key}")


def test_substatement_must_not_contain_a_substatement():
    inner = {
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:a@b.cn"},
        "verb": {"id": "https://x.cn/v"},
        "object": ACTIVITY,
    }
    sub = dict(inner, object=inner)
    rejects(statement(object=sub, context=None), "object.object")


# --- 2.4.5 result ---------------------------------------------------------------------------
@pytest.mark.parametrize("scaled", [-1.01, 1.5])
def test_scaled_score_must_be_between_minus_one_and_one(scaled):
    rejects(statement(result={"score": {"scaled": scaled}}), "result.score.scaled")


def test_scaled_score_bounds_are_inclusive():
    prepare(statement(result={"score": {"scaled": -1}}))
    prepare(statement(result={"score": {"scaled": 1}}))


def test_raw_score_must_not_be_below_min():
    rejects(statement(result={"score": {"raw": 1, "min": 2, "max": 5}}), "result.score.raw")


def test_raw_score_must_not_exceed_max():
    rejects(statement(result={"score": {"raw": 6, "min": 2, "max": 5}}), "result.score.raw")


def test_min_must_be_less_than_max():
    rejects(statement(result={"score": {"min": 5, "max": 5}}), "result.score.min")


def test_duration_must_be_iso8601():
    rejects(statement(result={"duration": "5 minutes"}), "result.duration")


# --- 2.4.6 context --------------------------------------------------------------------------
def test_context_revision_only_with_an_activity_object():
    data = statement(
        object={"objectType": "Agent", "mbox": "mailto:a@b.cn"}, context={"revision": "2"}
    )
    rejects(data, "context.revision")


def test_context_platform_only_with_an_activity_object():
    data = statement(
        object={"objectType": "StatementRef", "id": "e05aa883-acaf-40ad-bf54-02c8ce485fb0"},
        context={"platform": "x"},
    )
    rejects(data, "context.platform")


def test_context_registration_must_be_a_uuid():
    rejects(statement(context={"registration": "r-1"}), "context.registration")


def test_context_activities_keys_must_be_parent_grouping_category_or_other():
    rejects(
        statement(context={"contextActivities": {"sibling": [ACTIVITY]}}),
        "context.contextActivities.sibling",
    )


def test_single_context_activity_is_returned_as_an_array():
    prepared = prepare(statement(context={"contextActivities": {"parent": ACTIVITY}}))
    assert prepared.data["context"]["contextActivities"]["parent"] == [ACTIVITY]


def test_context_team_must_be_a_group():
    rejects(statement(context={"team": {"mbox": "mailto:a@b.cn"}}), "context.team")


def test_context_statement_must_be_a_statement_ref():
    rejects(
        statement(context={"statement": {"id": "e05aa883-acaf-40ad-bf54-02c8ce485fb0"}}),
        "context.statement.objectType",
    )


def test_context_agents_are_refused_in_1_0_3():
    agents = [{"objectType": "contextAgent", "agent": {"mbox": "mailto:a@b.cn"}}]
    rejects(statement(context={"contextAgents": agents}), "context.contextAgents")


def test_context_agents_are_validated_in_2_0():
    good = [
        {
            "objectType": "contextAgent",
            "agent": {"mbox": "mailto:a@b.cn"},
            "relevantTypes": ["https://x.cn/t"],
        }
    ]
    prepare(statement(context={"contextAgents": good}), version="2.0.0")
    bad = [{"objectType": "contextAgent", "agent": {"mbox": "mailto:a@b.cn"}, "relevantTypes": []}]
    rejects(
        statement(context={"contextAgents": bad}),
        "context.contextAgents[0].relevantTypes",
        version="2.0.0",
    )


def test_extension_keys_must_be_iris():
    rejects(statement(context={"extensions": {"speed": 3}}), "context.extensions.speed")


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"id": "31be2b51-981d-4d72-b93f-f4e7bf3dcd51\n"}, "id"),
        ({"verb": {"id": "https://x.cn/v\n"}}, "verb.id"),
        ({"verb": {"id": "https://x.cn/v", "display": {"en-US\n": "x"}}}, "verb.display.en-US\n"),
        ({"timestamp": "2026-05-01T08:30:00Z\n"}, "timestamp"),
        ({"result": {"duration": "PT1H\n"}}, "result.duration"),
        ({"context": {"registration": "31be2b51-981d-4d72-b93f-f4e7bf3dcd51\n"}}, None),
        ({"actor": {"mbox": "mailto:a@x.cn\n"}}, None),
        ({"actor": {"mbox_sha1sum": "a" * 40 + "\n"}}, None),
    ],
)
def test_a_value_with_a_final_newline_is_not_well_formed(change, path):
    # A pattern ending in $ also matches before a final newline; formats ends them in \Z.
    rejects(statement(**change), path)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"timestamp": "\u0662\u0660\u0662\u0666-05-01T08:30:00Z"}, "timestamp"),  # Arabic-Indic
        ({"timestamp": "2026-05-01T08:30:00+\uff10\uff18:00"}, "timestamp"),  # full-width
        ({"result": {"duration": "PT\u0661H"}}, "result.duration"),
    ],
)
def test_digits_of_other_scripts_are_not_iso8601_digits(change, path):
    # Python's \d matches any script's decimal digits, and int() reads them.
    rejects(statement(**change), path)


# --- 2.4.7-2.4.10 timestamp, stored, authority, version ------------------------------------
def test_timestamp_must_be_iso8601():
    rejects(statement(timestamp="01/05/2026 08:30"), "timestamp")


@pytest.mark.parametrize(
    ("basic", "extended"),
    [
        ("20260501T083000Z", "2026-05-01T08:30:00Z"),
        ("20260501T083000.25+0800", "2026-05-01T08:30:00.25+08:00"),
        ("20260501T083000-05", "2026-05-01T08:30:00-05"),
    ],
)
def test_timestamp_in_the_iso8601_basic_format_is_read(basic, extended):
    # ADL conformance XAPI-00123: ISO 8601 Extended or Basic; kept as sent (1.0.3)
    assert parse_timestamp(basic, "timestamp") == parse_timestamp(extended, "timestamp")
    assert prepare(statement(timestamp=basic)).data["timestamp"] == basic


@pytest.mark.parametrize("bad", ["2026-0501T083000Z", "20260501T08:30:00Z", "20260501T0830Z"])
def test_basic_and_extended_formats_are_not_mixed(bad):
    rejects(statement(timestamp=bad), "timestamp")


@pytest.mark.parametrize(
    "bad",
    [
        "2026-05-01T08:30:00",  # a local time: no offset
        "20260501T083000Z",  # ISO 8601 basic format
        "2026-05-01T08:30:00,5Z",  # a comma before the fraction
        "2026-05-01T08:30:00+0800",  # an offset without its colon
    ],
)
def test_xapi_2_timestamps_are_rfc_3339(bad):
    rejects(statement(timestamp=bad), "timestamp", version="2.0.0")
    prepare(statement(timestamp=bad))  # ISO 8601 is enough for 1.0.3


def test_xapi_2_reads_lower_case_t_and_z_and_converts_to_utc():
    prepared = prepare(statement(timestamp="2026-05-01t16:30:00.5+08:00"), version="2.0.0")
    assert prepared.data["timestamp"] == "2026-05-01T08:30:00.500Z"
    assert prepare(statement(timestamp="2026-05-01t08:30:00z"), "2.0.0").data["timestamp"] == (
        "2026-05-01T08:30:00.000Z"
    )


def test_timestamp_offset_minus_zero_is_rejected():
    rejects(statement(timestamp="2026-05-01T08:30:00-00:00"), "timestamp")


@pytest.mark.parametrize("offset", ["+24:00", "+99:00", "-23:60", "+0575", "+99"])
def test_timestamp_offset_out_of_range_is_rejected(offset):
    # RFC 3339 time-numoffset: hours 00-23, minutes 00-59; +99:00 is no time zone.
    message = rejects(statement(timestamp=f"2026-05-01T08:30:00{offset}"), "timestamp")
    assert "-23:59" in str(message)


def test_timestamp_offset_at_the_limits_is_read():
    prepared = prepare(statement(timestamp="2026-05-01T08:30:00+23:59"))
    assert prepared.data["timestamp"] == "2026-05-01T08:30:00+23:59"


@pytest.mark.parametrize("number", ["1e400", "-1e400", "2.5E+999"])
def test_a_number_beyond_a_double_is_refused_not_stored_as_null(number):
    # Data §2.2.s4.b1: no nulls; Python would read infinity, which JSON writes as null
    for body in (
        '{"result": {"score": {"raw": NUMBER}}}'.replace("NUMBER", number),
        '{"result": {"extensions": {"https://x.cn/e": NUMBER}}}'.replace("NUMBER", number),
    ):
        with pytest.raises(XapiInvalid, match=r"1\.8e308") as caught:
            load_json(body.encode())
        assert number in str(caught.value)


def test_a_number_just_within_a_double_is_kept():
    assert load_json(b'{"a": 1.7976931348623157e308, "b": 1e-400}') == {
        "a": 1.7976931348623157e308,
        "b": 0.0,
    }


def test_timestamp_in_the_future_is_not_rejected():
    prepare(statement(timestamp="2099-01-01T00:00:00Z"))


def test_timestamp_is_set_to_stored_when_missing():
    prepared = prepare(statement(timestamp=None))
    assert prepared.data["timestamp"] == prepared.data["stored"] == "2026-05-01T01:02:03.456Z"


def test_timestamp_keeps_its_serialisation_in_1_0_3():
    prepared = prepare(statement(timestamp="2026-05-01T08:30:00+08:00"))
    assert prepared.data["timestamp"] == "2026-05-01T08:30:00+08:00"


def test_timestamp_is_converted_to_utc_in_2_0():
    prepared = prepare(statement(timestamp="2026-05-01T08:30:00+08:00"), version="2.0.0")
    assert prepared.data["timestamp"] == "2026-05-01T00:30:00.000Z"


def test_stored_must_be_overwritten_by_the_lrs():
    prepared = prepare(statement(stored="2001-01-01T00:00:00Z"))
    assert prepared.data["stored"] == "2026-05-01T01:02:03.456Z"


def test_stored_given_by_the_client_is_validated():
    rejects(statement(stored="yesterday"), "stored")


def test_authority_must_be_an_agent_or_a_two_agent_group():
    group = {"objectType": "Group", "member": [{"mbox": "mailto:a@b.cn"}]}
    rejects(statement(authority=group), "authority")


def test_lrs_must_ensure_every_statement_has_an_authority():
    assert prepare(statement()).data["authority"] == AUTHORITY


def test_version_must_start_with_1_0():
    rejects(statement(version="0.95"), "version")
    rejects(statement(version="2.0.0"), "version")


def test_version_2_0_is_accepted_with_xapi_2_0():
    prepare(statement(version="2.0.0"), version="2.0.0")


def test_version_is_set_to_1_0_0_when_missing():
    assert prepare(statement()).data["version"] == "1.0.0"


# --- 2.4.11 attachments ---------------------------------------------------------------------
def test_attachment_must_have_usage_type_display_content_type_length_and_sha2():
    rejects(statement(attachments=[{"usageType": "https://x.cn/u"}]), "attachments[0]")


def test_attachment_length_must_be_an_integer():
    attachment = {
        "usageType": "https://x.cn/u",
        "display": {"en": "a"},
        "contentType": "text/plain",
        "length": "3",
        "sha2": "ab",
    }
    rejects(statement(attachments=[attachment]), "attachments[0].length")


# --- 4.5 / 4.6 data types -------------------------------------------------------------------
def test_timestamps_with_offsets_parse_to_utc():
    assert parse_timestamp("2026-05-01T08:30:00.5+08:00", "t") == datetime(
        2026, 5, 1, 0, 30, 0, 500000, tzinfo=UTC
    )


def test_impossible_dates_are_rejected():
    for text in ("2026-02-30T00:00:00Z", "2026-05-01T24:00:00Z", "2026-05-01T08:30:60Z"):
        with pytest.raises(XapiInvalid, match="not a real date and time"):
            parse_timestamp(text, "t")


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_instants_before_year_1_or_after_9999_in_utc_are_refused_not_a_crash(text):
    with pytest.raises(XapiInvalid, match="outside the years 1 to 9999"):
        parse_timestamp(text, "t")
    rejects(statement(timestamp=text), "timestamp")


@settings(max_examples=300, deadline=None)
@given(
    # naive: the text gets its offset below
    moment=st.datetimes(
        min_value=datetime(1, 1, 2),  # noqa: DTZ001
        max_value=datetime(9999, 12, 30),  # noqa: DTZ001
    ),
    fraction=st.sampled_from(["", ".5", ",25", ".123", ".123456", ".1234567891"]),
    offset=st.sampled_from(["", "Z", "+08:00", "+0800", "+08", "-05:30", "+23:59", "-1200"]),
)
def test_the_fast_reading_of_a_timestamp_is_the_part_by_part_one(moment, fraction, offset):
    text = moment.isoformat(timespec="seconds") + fraction + offset
    match = formats._TIMESTAMP.match(text)
    assert match is not None
    assert parse_timestamp(text, "t") == formats._parse_timestamp_parts(match, "t")


@pytest.mark.parametrize(
    ("text", "seconds"), [("PT5M", 300), ("PT1H0.5S", 3600.5), ("P1DT1S", 86401), ("P1W", 604800)]
)
def test_durations_in_seconds(text, seconds):
    assert parse_duration_seconds(text, "d") == seconds


@pytest.mark.parametrize("text", ["P", "PT", "5M", "PT5", "P1WT1H"])
def test_bad_durations_are_rejected(text):
    with pytest.raises(XapiInvalid):
        parse_duration_seconds(text, "d")


def test_json_nesting_limit_is_exactly_64_levels_of_arrays_and_objects():
    # Alternate objects and arrays; the body itself is level 1.
    def nested(levels):
        text = "1"
        for level in range(levels):
            text = f'{{"k": {text}}}' if level % 2 else f"[{text}]"
        return text

    assert load_json(nested(64)) is not None
    with pytest.raises(XapiInvalid, match="nested more than 64 levels"):
        load_json(nested(65))
    with pytest.raises(XapiInvalid, match="nested more than 64 levels"):
        load_json("[" + ",".join(["1", "[]", nested(64)]) + "]")  # deep in a later element


# Text built from pairs, so that an object may repeat a key; keys and strings spelled with and
# without \u escapes, quotes and backslashes among the characters.
_chars = st.text(alphabet='ab"\\\u738b', max_size=3)


def _spell(text: str, ascii_only: bool) -> str:
    return json.dumps(text, ensure_ascii=ascii_only)


_json_text = st.recursive(
    st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.sampled_from(["true", "false", "null", "1.5"]),
        st.tuples(_chars, st.booleans()).map(lambda p: _spell(*p)),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: "[" + ",".join(items) + "]"),
        st.lists(st.tuples(_chars, st.booleans(), inner), max_size=3).map(
            lambda pairs: "{" + ",".join(f"{_spell(k, a)}:{v}" for k, a, v in pairs) + "}"
        ),
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(_json_text)
def test_fast_json_reading_agrees_with_the_strict_reader(text):
    try:
        expected = _load_json_strictly(text, "")
    except XapiInvalid as exc:
        with pytest.raises(XapiInvalid) as caught:
            load_json(text)
        assert str(caught.value) == str(exc)
    else:
        assert load_json(text) == expected


def test_iris_and_durations_read_alike_below_and_above_the_cached_length():
    cached_before = formats._is_iri_text.cache_info().currsize
    for length in (10, formats._CACHED_TEXT_MAX + 100):
        assert formats.is_iri("https://example.cn/" + "a" * length)
        assert not formats.is_iri("https://example.cn/ " + "a" * length)  # a space
        assert parse_duration_seconds("PT" + "1" * length + "S", "d") == float("1" * length)
        with pytest.raises(XapiInvalid):
            parse_duration_seconds("PT" + "1" * length, "d")
    # Only the short ones were kept.
    assert formats._is_iri_text.cache_info().currsize <= cached_before + 2
