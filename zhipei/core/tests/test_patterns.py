"""Anchored patterns end in \\Z: `$` also matches just before a final newline, so
`^[0-9]{11}$` takes "13800138000\\n" — a value that is not what the pattern describes."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import zhipei


def _module_patterns() -> list[tuple[str, re.Pattern[str]]]:
    found = []
    for info in pkgutil.walk_packages(zhipei.__path__, "zhipei."):
        if ".tests" in info.name or ".migrations" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                found.append((f"{info.name}.{name}", value))
    return found


PATTERNS = _module_patterns()


def test_the_project_has_anchored_patterns_to_check():
    assert sum(1 for _name, pattern in PATTERNS if pattern.pattern.startswith("^")) >= 20


@pytest.mark.parametrize(
    ("name", "pattern"), [p for p in PATTERNS if p[1].pattern.startswith("^")], ids=lambda v: v
)
def test_an_anchored_pattern_does_not_end_in_a_dollar(name, pattern):
    for branch in pattern.pattern.split("|"):
        assert not branch.endswith("$"), f"{name} ends a branch in $; use \\Z"


@pytest.mark.parametrize(
    ("module", "name", "value"),
    [
        ("zhipei.accounts.phones", "MOBILE_RE", "13800138000"),
        ("zhipei.core.idempotency", "_KEY", "order-1"),
        ("zhipei.orgs.signing", "NONCE_RE", "abcdefghijklmnop"),
        ("zhipei.orgs.signing", "SIGNATURE_RE", "a" * 64),
        ("zhipei.people.forms", "ID_NUMBER_SHAPE", "11010519491231002X"),
        ("zhipei.subsidies.forms_applications", "TOKEN_RE", "abcdefghijklmnop"),
        ("zhipei.lrs.formats", "_UUID", "31be2b51-981d-4d72-b93f-f4e7bf3dcd51"),
        ("zhipei.lrs.formats", "_IRI", "https://x.cn/a"),
    ],
)
def test_a_value_followed_by_a_newline_does_not_match(module, name, value):
    pattern = getattr(importlib.import_module(module), name)
    assert pattern.match(value)
    assert not pattern.match(value + "\n")
