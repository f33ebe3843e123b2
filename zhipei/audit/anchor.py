"""The external anchor of the audit chain: one line "seq hash timestamp" per sealed head.

The anchor lives outside the database (settings.AUDIT_ANCHOR_PATH, ideally on storage the
database's operators cannot rewrite, and shipped with the logs), so deleting the newest events
and rewinding the chain is visible: the head falls behind the last anchored seq, or the hash at
an anchored seq differs.

Several sealer processes on one machine append under an exclusive `flock`, and a line is written
only if its seq is above the last one in the file, so the file stays strictly increasing even
when two sealers' post-commit writes arrive out of order (the later head covers the earlier).
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger("zhipei.audit")

_LINE_RE = re.compile(r"^(?P<seq>[1-9][0-9]*) (?P<hash>[0-9a-f]{64}) (?P<at>\S+)\Z")
_TAIL_BYTES = 4096


@dataclass(frozen=True)
class Anchor:
    seq: int
    chain_hash: str
    at: str
    line_no: int


class AnchorFileError(Exception):
    """The anchor file cannot be read as anchors (names the line; never shows key material)."""


def anchor_path() -> Path:
    return Path(settings.AUDIT_ANCHOR_PATH)


def _last_seq(fd: int) -> int:
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return 0
    start = max(0, size - _TAIL_BYTES)
    os.lseek(fd, start, os.SEEK_SET)
    tail = os.read(fd, size - start).decode("utf-8", errors="replace")
    for line in reversed(tail.splitlines()):
        match = _LINE_RE.match(line.strip())
        if match:
            return int(match["seq"])
    return 0


def write_anchor(seq: int, chain_hash: str) -> bool:
    """Append "seq hash timestamp" (fsynced) and log it; False if a later head is there already."""
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _last_seq(fd) >= seq:
            return False
        os.write(fd, f"{seq} {chain_hash} {stamp}\n".encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)  # also releases the flock
    logger.info("audit anchor seq=%d hash=%s at=%s", seq, chain_hash, stamp)
    return True


def read_anchors(path: Path | None = None) -> list[Anchor] | None:
    """Every anchor line in file order, or None when the file does not exist.

    Raises AnchorFileError for a malformed line or seqs that do not increase.
    """
    path = path or anchor_path()
    if not path.exists():
        return None
    anchors: list[Anchor] = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line_no, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line:
                continue
            match = _LINE_RE.match(line)
            if match is None:
                raise AnchorFileError(f"{path}: line {line_no} is not 'seq hash timestamp'.")
            anchor = Anchor(int(match["seq"]), match["hash"], match["at"], line_no)
            if anchors and anchor.seq <= anchors[-1].seq:
                raise AnchorFileError(
                    f"{path}: line {line_no} has seq {anchor.seq}, not above the previous "
                    f"line's {anchors[-1].seq}."
                )
            anchors.append(anchor)
    return anchors
