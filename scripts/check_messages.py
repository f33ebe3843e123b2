"""CI check for translations (STYLE §14): regenerate the catalogues in a scratch copy and fail
if any zh_Hans entry is missing or fuzzy, or if a committed .mo differs from its .po."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _entries(po_text: str) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) for each entry; plural entries report their first msgstr."""
    entries: list[tuple[str, str, bool]] = []
    for block in po_text.split("\n\n"):
        lines = block.strip().splitlines()
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        msgid: list[str] = []
        msgstr: list[str] = []
        current: list[str] | None = None
        for line in lines:
            if line.startswith("msgid "):
                current = msgid
                msgid.append(line[6:])
            elif line.startswith(("msgstr ", "msgstr[0] ")):
                current = msgstr
                msgstr.append(line.split(" ", 1)[1])
            elif line.startswith(("msgid_plural", "msgstr[")):
                current = None
            elif line.startswith('"') and current is not None:
                current.append(line)
        if msgid:
            joined_id = "".join(s.strip('"') for s in msgid)
            joined_str = "".join(s.strip('"') for s in msgstr)
            if joined_id:
                entries.append((joined_id, joined_str, fuzzy))
    return entries


def main() -> int:
    python = sys.executable
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "src"
        shutil.copytree(
            ROOT, copy, ignore=shutil.ignore_patterns(".venv", "var", ".git", "__pycache__", "*.mo")
        )
        subprocess.run(
            [
                python,
                "manage.py",
                "makemessages",
                "-l",
                "zh_Hans",
                "-l",
                "en",
                "--no-obsolete",
                "--ignore=.venv",
                "--ignore=var",
                "--ignore=bench",
            ],
            cwd=copy,
            check=True,
            capture_output=True,
        )
        for lang in ("zh_Hans", "en"):
            regenerated = (copy / "locale" / lang / "LC_MESSAGES" / "django.po").read_text("utf-8")
            committed_path = ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"
            committed = committed_path.read_text("utf-8") if committed_path.exists() else ""
            have = {mid for mid, _s, _f in _entries(committed)}
            for msgid, msgstr, fuzzy in _entries(regenerated):
                if msgid not in have:
                    problems.append(f"{lang}: not in the committed catalogue: {msgid!r}")
                elif lang == "zh_Hans" and (fuzzy or not msgstr):
                    problems.append(f"{lang}: missing or fuzzy translation: {msgid!r}")
    for lang in ("zh_Hans", "en"):
        po = ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"
        mo = po.with_suffix(".mo")
        if not mo.exists():
            problems.append(f"{mo} is missing; run `make messages`")
            continue
        with tempfile.NamedTemporaryFile(suffix=".mo") as fresh:
            subprocess.run(["msgfmt", "-o", fresh.name, str(po)], check=True)
            if Path(fresh.name).read_bytes() != mo.read_bytes():
                problems.append(f"{mo} is older than its .po; run `make messages`")
    for problem in problems:
        print(problem)
    print(f"messages check: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
