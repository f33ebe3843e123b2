"""manage.py validate_statements FILE: reads a JSON array, one statement or JSON Lines,
prints each problem and a summary, exits 1 when a statement breaks the profile and refuses
unreadable files with a CommandError naming file, line and column."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from zhipei.lrs.models import Statement
from zhipei.lrs.tests.helpers import make_platform
from zhipei.lrs.tests.test_profile_check import conforming_session
from zhipei.people.services import pseudonym_for
from zhipei.people.testing import make_person
from zhipei.regions.testing import make_region_tree


def run(*args: str) -> tuple[int, str]:
    """(exit status, stdout) of the command."""
    out = StringIO()
    try:
        call_command("validate_statements", *args, stdout=out)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue()
    return 0, out.getvalue()


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def broken_session() -> list[dict[str, Any]]:
    statements = conforming_session()
    del statements[2]["result"]["duration"]
    statements[7]["result"]["duration"] = "PT2M"
    return statements


def test_conforming_array_exits_0_with_a_summary(tmp_path):
    path = write(tmp_path, "ok.json", json.dumps(conforming_session()))
    status, out = run(path)
    assert status == 0
    assert out.strip() == (
        f"{path}: 11 statements checked, 0 errors, 0 warnings. "
        "The statements conform to the profile."
    )


def test_off_profile_statements_are_listed_and_exit_1(tmp_path):
    statements = broken_session()
    path = write(tmp_path, "bad.json", json.dumps(statements))
    status, out = run(path)
    assert status == 1
    lines = out.splitlines()
    assert lines[0] == f"#2 id {statements[2]['id']}  ERROR  progressed_without_duration"
    assert lines[1].startswith("    statements[2].result.duration: A heartbeat (progressed)")
    assert lines[2] == f"#7 id {statements[7]['id']}  WARNING  heartbeat_too_long"
    assert lines[-1] == (
        f"{path}: 11 statements checked, 1 errors, 1 warnings. "
        "1 of 11 statements break the profile."
    )


def test_warnings_alone_exit_0(tmp_path):
    statements = conforming_session()
    statements[7]["result"]["duration"] = "PT2M"
    status, out = run(write(tmp_path, "warn.json", json.dumps(statements)))
    assert status == 0
    assert "WARNING  heartbeat_too_long" in out


def test_one_statement_object_is_read(tmp_path):
    status, out = run(write(tmp_path, "one.json", json.dumps(conforming_session()[9])))
    assert status == 0
    assert "1 statements checked" in out


def test_json_lines_are_read_one_statement_per_line_and_problems_name_the_line(tmp_path):
    statements = broken_session()
    text = "\n".join(json.dumps(s) for s in statements[:5]) + "\n\n"
    text += "\n".join(json.dumps(s) for s in statements[5:]) + "\n"
    path = write(tmp_path, "statements.jsonl", text)
    status, out = run(path)
    assert status == 1
    assert out.splitlines()[0] == (
        f"#2 line 3 id {statements[2]['id']}  ERROR  progressed_without_duration"
    )
    # The blank line is skipped: statement 7 is on line 9.
    assert f"#7 line 9 id {statements[7]['id']}  WARNING  heartbeat_too_long" in out


def test_json_lines_are_recognised_without_the_jsonl_suffix(tmp_path):
    text = "\n".join(json.dumps(s) for s in conforming_session())
    status, out = run(write(tmp_path, "statements.json", text))
    assert status == 0
    assert "11 statements checked" in out


def test_a_bad_json_line_names_file_line_and_column(tmp_path):
    lines = [json.dumps(s) for s in conforming_session()[:3]]
    lines[2] = '{"actor": }'
    path = write(tmp_path, "statements.jsonl", "\n".join(lines))
    with pytest.raises(CommandError) as caught:
        run(path)
    assert str(caught.value) == (f"{path}, line 3, column 11: not valid JSON (Expecting value).")
    assert caught.value.returncode == 2


def test_bad_json_names_file_line_and_column(tmp_path):
    path = write(tmp_path, "bad.json", '[\n  {"actor": {"objectType": "Agent",}}\n]')
    with pytest.raises(CommandError) as caught:
        run(path)
    # The "}" after the trailing comma is the 36th character of line 2.
    assert str(caught.value) == (
        f"{path}, line 2, column 36: not valid JSON "
        "(Expecting property name enclosed in double quotes)."
    )


def test_a_file_that_is_not_utf8_names_line_and_column(tmp_path):
    path = write(tmp_path, "latin1.json", '[\n{"name": "Zoë"}\n]'.encode("latin-1"))
    with pytest.raises(CommandError) as caught:
        run(path)
    assert str(caught.value) == f"{path}, line 2, column 13: not UTF-8 text."


def test_a_missing_file_is_named(tmp_path):
    path = str(tmp_path / "nowhere.json")
    with pytest.raises(CommandError) as caught:
        run(path)
    assert str(caught.value) == f"{path}: no such file."


def test_an_empty_file_and_an_empty_array_are_refused(tmp_path):
    empty = write(tmp_path, "empty.json", "  \n")
    with pytest.raises(CommandError, match="is empty"):
        run(empty)
    array = write(tmp_path, "array.json", "[]")
    with pytest.raises(CommandError, match="holds an empty array"):
        run(array)


def test_json_that_is_neither_a_statement_nor_an_array_is_refused(tmp_path):
    with pytest.raises(CommandError, match="neither a statement"):
        run(write(tmp_path, "number.json", "42"))


def test_a_byte_order_mark_is_allowed(tmp_path):
    path = write(tmp_path, "bom.json", b"\xef\xbb\xbf" + json.dumps(conforming_session()).encode())
    assert run(path)[0] == 0


def test_json_format_prints_the_api_answer_with_lines_for_json_lines(tmp_path):
    statements = broken_session()
    path = write(tmp_path, "s.jsonl", "\n".join(json.dumps(s) for s in statements))
    status, out = run(path, "--format", "json")
    assert status == 1
    body = json.loads(out)
    assert (body["valid"], body["statements"], body["errors"], body["warnings"]) == (
        False,
        11,
        1,
        1,
    )
    first = body["problems"][0]
    assert (first["index"], first["line"], first["code"], first["path"]) == (
        2,
        3,
        "progressed_without_duration",
        "statements[2].result.duration",
    )


def test_xapi_version_option(tmp_path):
    statement = conforming_session()[9]
    statement["version"] = "2.0.0"
    path = write(tmp_path, "v2.json", json.dumps(statement))
    assert run(path)[0] == 1
    assert run(path, "--xapi-version", "2.0.0")[0] == 0


@pytest.mark.django_db
def test_platform_option_checks_learners_and_courses_and_stores_nothing(tmp_path):
    regions = make_region_tree()
    platform, credential, _secret = make_platform(regions["420102"], 1)
    pseudonym, _created = pseudonym_for(make_person(regions["420102"]), platform=platform)
    statements = conforming_session(pseudonym)
    path = write(tmp_path, "s.json", json.dumps(statements))
    status, out = run(path, "--platform", credential.key_id)
    assert status == 0  # unknown lessons and courses are warnings
    assert "WARNING  unknown_lesson" in out
    assert "WARNING  unknown_course" in out
    assert "unknown_learner" not in out
    assert Statement.objects.count() == 0


@pytest.mark.django_db
def test_an_unknown_platform_key_is_refused(tmp_path):
    path = write(tmp_path, "s.json", json.dumps(conforming_session()))
    with pytest.raises(CommandError, match="No active API key has the key id nokey"):
        run(path, "--platform", "nokey")


def test_the_process_exit_status_is_1_for_errors_0_for_conforming_2_for_bad_files(tmp_path):
    """Through manage.py, as a platform's CI would run it (no database needed)."""
    manage = Path(settings.BASE_DIR) / "manage.py"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    # The statements use the site URL of the settings the child process reads.
    env["SITE_URL"] = settings.SITE_URL
    files = {
        "ok.json": (json.dumps(conforming_session()), 0),
        "bad.json": (json.dumps(broken_session()), 1),
        "broken.json": ("[{", 2),
    }
    for name, (content, expected) in files.items():
        path = write(tmp_path, name, content)
        done = subprocess.run(
            [sys.executable, str(manage), "validate_statements", path, "--format", "json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert done.returncode == expected, (name, done.stderr)
        if expected < 2:
            assert json.loads(done.stdout)["valid"] is (expected == 0)
        else:
            # The command speaks the site's default language (Chinese) outside the test run.
            assert (
                f"{path}, line 1, column 3" in done.stderr or f"{path}第1行第3列" in done.stderr
            ), done.stderr


def test_json_nested_too_deeply_is_refused_naming_the_line(tmp_path):
    deep = "[" * 50_000 + "]" * 50_000
    with pytest.raises(CommandError) as caught:
        run(write(tmp_path, "deep.json", deep))
    assert str(caught.value).endswith("deep.json: the JSON is nested too deeply.")
    lines = write(tmp_path, "deep.jsonl", json.dumps(conforming_session()[0]) + "\n" + deep)
    with pytest.raises(CommandError) as caught:
        run(lines)
    assert str(caught.value) == f"{lines}, line 2: the JSON is nested too deeply."


@pytest.mark.django_db
def test_text_no_database_can_hold_is_reported_not_looked_up(tmp_path):
    # A lone surrogate (a JSON escape UTF-8 cannot encode) or a NUL in the learner's name or
    # an activity id used to reach the learner and course queries: on PostgreSQL a crash.
    regions = make_region_tree()
    _platform, credential, _secret = make_platform(regions["420102"], 1)
    statements = conforming_session("learner\\ud800")
    text = json.dumps(statements).replace("learner\\\\ud800", "learner\\ud800")
    text = text.replace(
        json.dumps(statements[0]["object"]["id"]), '"https://example.cn/\\u0000"', 1
    )
    path = write(tmp_path, "s.json", text)
    status, out = run(path, "--platform", credential.key_id)
    assert status == 1
    assert "not valid Unicode (a lone surrogate)" in out
    assert Statement.objects.count() == 0


def test_an_integer_longer_than_python_reads_names_line_and_column(tmp_path):
    path = write(tmp_path, "big.json", '[\n  {"x": 1' + "0" * 4300 + "}\n]")
    with pytest.raises(CommandError) as caught:
        run(path)
    assert str(caught.value).startswith(f"{path}, line 2, column 9: not valid JSON (a number")
