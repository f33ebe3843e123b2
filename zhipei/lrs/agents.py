"""Agents and Groups (xAPI 1.0.3 Data §2.4.2), shared by the statement store (zhipei.lrs) and
the document resources (zhipei.lrs_documents).

Validation is hand-written so each refusal names the JSON path and the rule it breaks; the
pydantic models are the typed result. `ifi_key` is the one string form of an inverse
functional identifier that both apps store and match on.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict

from zhipei.lrs.formats import (
    XapiInvalid,
    check_iri,
    check_key_text,
    check_keys,
    check_mailto,
    check_object,
    check_sha1,
    check_string,
)

IFI_PROPERTIES = ("mbox", "mbox_sha1sum", "openid", "account")
_AGENT_KEYS = frozenset({"objectType", "name", *IFI_PROPERTIES})
_GROUP_KEYS = frozenset({"objectType", "name", "member", *IFI_PROPERTIES})
_ACCOUNT_KEYS = frozenset({"homePage", "name"})


class Account(BaseModel):
    """A user account on an existing system (Data §2.4.2.4): both properties required."""

    model_config = ConfigDict(frozen=True)

    homePage: str  # noqa: N815 - the xAPI property name
    name: str


class _Identified(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str | None = None
    mbox: str | None = None
    mbox_sha1sum: str | None = None
    openid: str | None = None
    account: Account | None = None

    @property
    def ifi_key(self) -> str | None:
        """The inverse functional identifier as one string ("mbox:mailto:a@b",
        "account:<homePage> <name>", …), or None for an anonymous group. The domain of an
        e-mail address is case-insensitive (Data §2.4.2.3.s4.b1), so it is lower-cased here."""
        if self.mbox is not None:
            local, _sep, domain = self.mbox.partition("@")
            return f"mbox:{local}@{domain.lower()}"
        if self.mbox_sha1sum is not None:
            return f"mbox_sha1sum:{self.mbox_sha1sum.lower()}"
        if self.openid is not None:
            return f"openid:{self.openid}"
        if self.account is not None:
            return f"account:{self.account.homePage} {self.account.name}"
        return None

    def ifi_json(self) -> dict[str, Any]:
        if self.mbox is not None:
            return {"mbox": self.mbox}
        if self.mbox_sha1sum is not None:
            return {"mbox_sha1sum": self.mbox_sha1sum}
        if self.openid is not None:
            return {"openid": self.openid}
        if self.account is not None:
            return {"account": {"homePage": self.account.homePage, "name": self.account.name}}
        return {}


class Agent(_Identified):
    """An individual (Data §2.4.2.1): exactly one inverse functional identifier."""

    objectType: Literal["Agent"] = "Agent"  # noqa: N815 - the xAPI property name

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"objectType": "Agent"}
        if self.name is not None:
            data["name"] = self.name
        data.update(self.ifi_json())
        return data


class Group(_Identified):
    """A Group (Data §2.4.2.2): identified (one IFI, members optional) or anonymous (no IFI,
    members required). Members are Agents, never Groups."""

    objectType: Literal["Group"] = "Group"  # noqa: N815 - the xAPI property name
    member: tuple[Agent, ...] | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.ifi_key is None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"objectType": "Group"}
        if self.name is not None:
            data["name"] = self.name
        data.update(self.ifi_json())
        if self.member is not None:
            data["member"] = [agent.to_json() for agent in self.member]
        return data


def _ifis(obj: dict[str, Any], path: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key in IFI_PROPERTIES:
        if key not in obj:
            continue
        value = obj[key]
        where = f"{path}.{key}" if path else key
        if key == "mbox":
            found[key] = check_mailto(value, where)
        elif key == "mbox_sha1sum":
            found[key] = check_sha1(value, where)
        elif key == "openid":
            found[key] = check_iri(value, where)
        else:
            account = check_object(value, where)
            check_keys(account, _ACCOUNT_KEYS, where)
            if "homePage" not in account or "name" not in account:
                raise XapiInvalid(where, _("an account needs both homePage and name"))
            # Validated just above: model_construct skips pydantic's second pass (hot path).
            found[key] = Account.model_construct(
                homePage=check_iri(account["homePage"], where + ".homePage"),
                name=check_key_text(account["name"], where + ".name"),
            )
    if len(found) > 1:
        raise XapiInvalid(
            path,
            _(
                "must have only one inverse functional identifier (mbox, mbox_sha1sum, openid or account)"
            ),
        )
    return found


def parse_agent(value: object, path: str) -> Agent:
    """An Agent: objectType optional but "Agent" when present (exact case), exactly one IFI."""
    obj = check_object(value, path)
    check_keys(obj, _AGENT_KEYS, path)
    object_type = obj.get("objectType", "Agent")
    if object_type != "Agent":
        raise XapiInvalid(_at(path, "objectType"), _('must be "Agent" here'))
    name = check_string(obj["name"], _at(path, "name")) if "name" in obj else None
    ifis = _ifis(obj, path)
    if not ifis:
        raise XapiInvalid(
            path,
            _(
                "an Agent needs one inverse functional identifier (mbox, mbox_sha1sum, openid or account)"
            ),
        )
    return Agent.model_construct(name=name, **ifis)


def parse_group(value: object, path: str) -> Group:
    obj = check_object(value, path)
    check_keys(obj, _GROUP_KEYS, path)
    if obj.get("objectType") != "Group":
        raise XapiInvalid(_at(path, "objectType"), _('must be "Group"'))
    name = check_string(obj["name"], _at(path, "name")) if "name" in obj else None
    ifis = _ifis(obj, path)
    members: tuple[Agent, ...] | None = None
    if "member" in obj:
        raw = obj["member"]
        if not isinstance(raw, list):
            raise XapiInvalid(_at(path, "member"), _("must be an array of Agents"))
        parsed = []
        for index, item in enumerate(raw):
            where = f"{_at(path, 'member')}[{index}]"
            if isinstance(item, dict) and item.get("objectType") == "Group":
                raise XapiInvalid(where, _("a Group must not contain Groups"))
            parsed.append(parse_agent(item, where))
        members = tuple(parsed)
    if not ifis and not members:
        raise XapiInvalid(
            path, _("an anonymous Group (no identifier) must list its members in member")
        )
    return Group.model_construct(name=name, member=members, **ifis)


def parse_actor(value: object, path: str) -> Agent | Group:
    """An Agent or a Group, told apart by objectType."""
    if isinstance(value, dict) and value.get("objectType") == "Group":
        return parse_group(value, path)
    return parse_agent(value, path)


def agent_from_json(text: str, *, path: str = "agent") -> Agent:
    """The `agent` query parameter of the xAPI resources: JSON text of one Agent. Raises
    XapiInvalid (a 400) on bad JSON or a bad Agent."""
    return parse_agent(_load(text, path), path)


def actor_from_json(text: str, *, path: str = "agent") -> Agent | Group:
    """Like agent_from_json, but an identified or anonymous Group is accepted too."""
    return parse_actor(_load(text, path), path)


def _load(text: str, path: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, TypeError, RecursionError) as exc:  # "[[[[…" nests past the stack
        raise XapiInvalid(path, _("is not valid JSON")) from exc


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
