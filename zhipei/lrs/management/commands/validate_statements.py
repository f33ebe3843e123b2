"""manage.py validate_statements FILE [--platform KEY_ID] [--format text|json]: check a file
of statements against the reporting profile (docs/xapi-profile.md) before a platform goes
live. The file holds a JSON array of statements, one statement, or JSON Lines (one statement
per line). Nothing is stored. Exit status 1 when any statement breaks the profile, 2 when
the file cannot be read as statements."""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from zhipei.lrs import profile_check
from zhipei.orgs.services import active_credential

_JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")


@dataclass
class Loaded:
    statements: list[Any]
    # The line of each statement in a JSON Lines file (None for a JSON document).
    lines: list[int] | None = None


def _bad_json(name: str, exc: json.JSONDecodeError, line: int | None = None) -> CommandError:
    return CommandError(
        _("%(file)s, line %(line)s, column %(column)s: not valid JSON (%(error)s).")
        % {"file": name, "line": line or exc.lineno, "column": exc.colno, "error": exc.msg},
        returncode=2,
    )


def _too_deep(name: str, line: int | None = None) -> CommandError:
    if line is None:
        message = _("%(file)s: the JSON is nested too deeply.") % {"file": name}
    else:
        message = _("%(file)s, line %(line)s: the JSON is nested too deeply.") % {
            "file": name,
            "line": line,
        }
    return CommandError(message, returncode=2)


def load_statements(path: Path) -> Loaded:
    """Read a JSON array, one JSON object or JSON Lines; CommandError names the file and the
    line and column of anything unreadable."""
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CommandError(_("%(file)s: no such file.") % {"file": name}, returncode=2) from None
    except OSError as exc:
        raise CommandError(
            _("%(file)s: cannot be read (%(error)s).") % {"file": name, "error": exc.strerror},
            returncode=2,
        ) from None
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        raise CommandError(
            _("%(file)s, line %(line)s, column %(column)s: not UTF-8 text.")
            % {
                "file": name,
                "line": raw.count(b"\n", 0, exc.start) + 1,
                "column": len(raw[line_start : exc.start].decode("utf-8")) + 1,
            },
            returncode=2,
        ) from None
    if not text.strip():
        raise CommandError(
            _("%(file)s is empty: it holds no statements.") % {"file": name}, returncode=2
        )
    if path.suffix.lower() not in _JSON_LINES_SUFFIXES:
        try:
            data = profile_check.parse_json(text)
        except profile_check.JsonTooDeep:
            raise _too_deep(name) from None
        except json.JSONDecodeError as exc:
            if exc.msg != "Extra data":
                raise _bad_json(name, exc) from None
        else:
            if not isinstance(data, dict | list):
                raise CommandError(
                    _("%(file)s holds neither a statement (a JSON object) nor an array of them.")
                    % {"file": name},
                    returncode=2,
                )
            statements = profile_check.as_statement_list(data)
            if not statements:
                raise CommandError(
                    _("%(file)s holds an empty array.") % {"file": name}, returncode=2
                )
            return Loaded(statements)
    return _json_lines(name, text)


def _json_lines(name: str, text: str) -> Loaded:
    loaded = Loaded([], [])
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            loaded.statements.append(profile_check.parse_json(line))
        except profile_check.JsonTooDeep:
            raise _too_deep(name, number) from None
        except json.JSONDecodeError as exc:
            raise _bad_json(name, exc, line=number) from None
        assert loaded.lines is not None
        loaded.lines.append(number)
    return loaded


class Command(BaseCommand):
    help = (
        "Check a file of xAPI statements (a JSON array, one statement, or JSON Lines) against "
        "the Zhipei reporting profile; print every problem and exit with status 1 when any "
        "statement breaks the profile (2 when the file cannot be read). Nothing is stored."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", metavar="FILE")
        parser.add_argument(
            "--platform",
            metavar="KEY_ID",
            help="also check pseudonyms and activity IRIs against this platform's learners "
            "and courses (the key id of one of its API credentials)",
        )
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.add_argument(
            "--xapi-version",
            choices=("1.0.3", "2.0.0"),
            default="1.0.3",
            help="the xAPI version the statements are sent with",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        catalogue = None
        platform_id: int | None = None
        if options["platform"]:
            credential = active_credential(options["platform"])
            if credential is None:
                raise CommandError(
                    _("No active API key has the key id %(key)s.") % {"key": options["platform"]},
                    returncode=2,
                )
            platform_id = credential.platform_id
        loaded = load_statements(Path(options["file"]))
        if platform_id is not None:
            catalogue = profile_check.catalogue_for(platform_id, loaded.statements)
        report = profile_check.check_statements(
            loaded.statements, catalogue=catalogue, version=options["xapi_version"]
        )
        if options["format"] == "json":
            self._write_json(report, loaded)
        else:
            self._write_text(report, loaded, file=options["file"])
        if not report.valid:
            sys.exit(1)

    def _write_json(self, report: profile_check.Report, loaded: Loaded) -> None:
        body = report.to_json()
        if loaded.lines is not None:
            for problem in body["problems"]:
                problem["line"] = loaded.lines[problem["index"]]
        self.stdout.write(json.dumps(body, ensure_ascii=False, indent=2))

    def _write_text(self, report: profile_check.Report, loaded: Loaded, *, file: str) -> None:
        for problem in report.problems:
            where = [f"#{problem.index}"]
            if loaded.lines is not None:
                where.append(_("line %(line)s") % {"line": loaded.lines[problem.index]})
            if problem.statement_id:
                where.append(_("id %(id)s") % {"id": problem.statement_id})
            self.stdout.write(
                f"{' '.join(where)}  {problem.severity.upper()}  {problem.code}\n"
                f"    {problem.path}: {problem.message}"
            )
        summary = _(
            "%(file)s: %(statements)s statements checked, %(errors)s errors, %(warnings)s warnings."
        ) % {
            "file": file,
            "statements": report.statements,
            "errors": report.errors,
            "warnings": report.warnings,
        }
        if report.valid:
            verdict = _("The statements conform to the profile.")
        else:
            verdict = _("%(count)s of %(statements)s statements break the profile.") % {
                "count": report.statements_with_errors,
                "statements": report.statements,
            }
        self.stdout.write(f"{summary} {verdict}")
