"""Agents and Groups, one test per MUST of xAPI 1.0.3 Data §2.4.2."""

from __future__ import annotations

import pytest

from zhipei.lrs.agents import actor_from_json, agent_from_json, parse_actor
from zhipei.lrs.formats import XapiInvalid

ACCOUNT = {"homePage": "https://zhipei.example.cn/learners", "name": "p-1"}


def test_agent_with_one_ifi_is_valid():
    agent = agent_from_json('{"mbox": "mailto:a@Example.COM", "name": "A"}')
    assert agent.ifi_key == "mbox:mailto:a@example.com"
    assert agent.to_json() == {"objectType": "Agent", "name": "A", "mbox": "mailto:a@Example.COM"}


@pytest.mark.parametrize(
    "ifi",
    [
        {"mbox": "mailto:a@b.cn"},
        {"mbox_sha1sum": "a" * 40},
        {"openid": "https://openid.example.cn/a"},
        {"account": ACCOUNT},
    ],
)
def test_each_of_the_four_ifis_identifies_an_agent(ifi):
    assert parse_actor(ifi, "actor").ifi_key is not None


def test_agent_must_be_identified_by_an_ifi():
    with pytest.raises(XapiInvalid, match="inverse functional identifier"):
        agent_from_json('{"name": "nobody"}')


def test_agent_must_not_include_more_than_one_ifi():
    with pytest.raises(XapiInvalid, match="only one"):
        parse_actor({"mbox": "mailto:a@b.cn", "account": ACCOUNT}, "actor")


def test_mbox_must_be_a_mailto_iri():
    with pytest.raises(XapiInvalid) as caught:
        parse_actor({"mbox": "a@b.cn"}, "actor")
    assert caught.value.path == "actor.mbox"


def test_mbox_sha1sum_must_be_hex_sha1():
    with pytest.raises(XapiInvalid):
        parse_actor({"mbox_sha1sum": "xyz"}, "actor")


def test_account_needs_homepage_and_name():
    with pytest.raises(XapiInvalid, match="homePage and name"):
        parse_actor({"account": {"name": "x"}}, "actor")


def test_account_homepage_must_be_an_iri():
    with pytest.raises(XapiInvalid) as caught:
        parse_actor({"account": {"homePage": "learners", "name": "x"}}, "actor")
    assert caught.value.path == "actor.account.homePage"


def test_anonymous_group_must_include_member():
    with pytest.raises(XapiInvalid, match="member"):
        parse_actor({"objectType": "Group", "name": "team"}, "actor")


def test_anonymous_group_must_not_contain_groups():
    group = {"objectType": "Group", "member": [{"objectType": "Group", "mbox": "mailto:g@b.cn"}]}
    with pytest.raises(XapiInvalid, match="must not contain Groups"):
        parse_actor(group, "actor")


def test_identified_group_must_include_exactly_one_ifi():
    group = {"objectType": "Group", "mbox": "mailto:g@b.cn", "openid": "https://o.cn/g"}
    with pytest.raises(XapiInvalid):
        parse_actor(group, "actor")


def test_identified_group_must_not_contain_groups():
    group = {
        "objectType": "Group",
        "mbox": "mailto:g@b.cn",
        "member": [{"objectType": "Group", "member": [{"mbox": "mailto:a@b.cn"}]}],
    }
    with pytest.raises(XapiInvalid):
        parse_actor(group, "actor")


def test_identified_group_without_members_is_valid():
    group = actor_from_json(
        '{"objectType": "Group", "account": {"homePage": "https://x.cn", "name": "g"}}'
    )
    assert group.ifi_key == "account:https://x.cn g"


def test_object_type_case_must_match():
    with pytest.raises(XapiInvalid):
        parse_actor({"objectType": "agent", "mbox": "mailto:a@b.cn"}, "actor")


def test_unknown_property_rejected():
    with pytest.raises(XapiInvalid) as caught:
        parse_actor({"mbox": "mailto:a@b.cn", "Name": "x"}, "actor")
    assert caught.value.path == "actor.Name"


def test_null_value_rejected():
    with pytest.raises(XapiInvalid):
        parse_actor({"mbox": "mailto:a@b.cn", "name": None}, "actor")


def test_agent_parameter_must_be_json():
    with pytest.raises(XapiInvalid, match="JSON"):
        agent_from_json("mailto:a@b.cn")
