"""Fail on auto-named migrations (STYLE §13): every migration says what changed."""

from __future__ import annotations

from pathlib import Path


def main() -> int:
    bad = sorted(str(p) for p in Path("zhipei").glob("*/migrations/*_auto_*.py"))
    for path in bad:
        print(f"{path}: auto-generated name; use makemigrations --name <what_changed>")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
