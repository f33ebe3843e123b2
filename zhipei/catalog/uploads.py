"""Storing uploaded documents (platform applications, filings) after checking them.

The type is decided from the content (magic bytes), never from the name or the browser's
Content-Type: a ".pdf" that is really a PNG is refused with a message naming the file. The
accepted types are PDF, PNG, JPEG and the Office Open XML documents DOCX and XLSX (a zip with
`[Content_Types].xml` and the part that makes it a document or a workbook). Every stored file
is named by its SHA-256, which is kept on the Upload row.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhipei.audit.services import record
from zhipei.catalog.models import Filing, PlatformApplication, Upload
from zhipei.core.errors import InvalidInput

if TYPE_CHECKING:
    from zhipei.accounts.models import User

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FileType:
    name: str  # shown to people: "PDF", "PNG image", …
    content_type: str
    extensions: tuple[str, ...]


PDF = FileType("PDF", "application/pdf", (".pdf",))
PNG = FileType("PNG", "image/png", (".png",))
JPEG = FileType("JPEG", "image/jpeg", (".jpg", ".jpeg"))
DOCX = FileType(
    "DOCX",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
)
XLSX = FileType(
    "XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)
)
ACCEPTED: tuple[FileType, ...] = (PDF, PNG, JPEG, DOCX, XLSX)
ACCEPTED_EXTENSIONS = frozenset(ext for t in ACCEPTED for ext in t.extensions)
# For <input type="file" accept="…">; the server still checks the content.
ACCEPT_ATTRIBUTE = ",".join(sorted(ACCEPTED_EXTENSIONS))


def max_upload_bytes() -> int:
    return int(getattr(settings, "UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def _ooxml_type(content: bytes) -> FileType | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, EOFError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def sniff(content: bytes) -> FileType | None:
    """The accepted type the content is, from its first bytes (and, for zips, its parts)."""
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"PK\x03\x04"):
        return _ooxml_type(content)
    return None


def clean_name(name: str) -> str:
    """The file's own name without any folder part a browser may send, at most 200 chars
    (the extension kept)."""
    base = PurePath((name or "").replace("\\", "/")).name.strip() or "file"
    if len(base) > 200:
        suffix = PurePath(base).suffix[:20]
        base = base[: 200 - len(suffix)] + suffix
    return base


def _too_large(name: str, limit: int) -> InvalidInput:
    return InvalidInput(
        _("The file “%(name)s” is larger than %(limit)s.")
        % {"name": name, "limit": filesizeformat(limit)},
        field="file",
    )


def _read_limited(file: UploadedFile, limit: int, name: str) -> bytes:
    """Read at most limit + 1 bytes, so an oversize file is refused without reading it all."""
    file.seek(0)
    buffer = bytearray()
    for chunk in file.chunks(READ_CHUNK):
        buffer.extend(chunk)
        if len(buffer) > limit:
            raise _too_large(name, limit)
    return bytes(buffer)


def check_file(file: UploadedFile) -> tuple[bytes, FileType, str]:
    """Check an uploaded file and return its content, type and cleaned name.

    Raises InvalidInput (field "file") naming the file when it is empty, larger than
    UPLOAD_MAX_BYTES, of a type not accepted, or when its extension does not match its content.
    """
    name = clean_name(file.name or "")
    limit = max_upload_bytes()
    if file.size is not None and file.size > limit:
        raise _too_large(name, limit)
    content = _read_limited(file, limit, name)
    if not content:
        raise InvalidInput(_("The file “%(name)s” is empty.") % {"name": name}, field="file")
    detected = sniff(content)
    if detected is None:
        raise InvalidInput(
            _(
                "The file “%(name)s” is not of an accepted type: upload a PDF, PNG, JPEG, "
                "DOCX or XLSX file."
            )
            % {"name": name},
            field="file",
        )
    extension = PurePath(name).suffix.lower()
    if extension not in detected.extensions:
        raise InvalidInput(
            _(
                "The file “%(name)s” is named like a %(claimed)s file but its content is "
                "%(actual)s. Upload the right file or give it the right name."
            )
            % {
                "name": name,
                "claimed": extension.lstrip(".").upper() or _("typeless"),
                "actual": detected.name,
            },
            field="file",
        )
    return content, detected, name


@transaction.atomic
def store_upload(
    file: UploadedFile,
    *,
    kind: str,
    by: User,
    application: PlatformApplication | None = None,
    filing: Filing | None = None,
) -> Upload:
    """Check `file` (check_file) and store it for exactly one owner: an application or a
    filing. The caller checks that `by` may add documents to that owner. The stored name is
    the content's SHA-256, so it never carries what the person typed. Audited.

    Raises InvalidInput: field "file" (empty, oversize, wrong or mismatched type), field
    "kind" (unknown kind); ValueError when not exactly one owner is given (a programming
    error).
    """
    if (application is None) == (filing is None):
        raise ValueError("store_upload needs exactly one of application or filing")
    if kind not in Upload.Kind.values:
        raise InvalidInput(_("Choose the kind of document."), field="kind")
    content, detected, name = check_file(file)
    digest = hashlib.sha256(content).hexdigest()
    upload = Upload(
        kind=kind,
        original_name=name,
        content_type=detected.content_type,
        size_bytes=len(content),
        sha256=digest,
        application=application,
        filing=filing,
        uploaded_by=by,
        uploaded_at=timezone.now(),
    )
    # The file is written before the row; a rolled-back row leaves an unreferenced file named
    # by its hash, never a row without its file.
    upload.file.save(digest + detected.extensions[0], ContentFile(content), save=False)
    upload.save()
    if application is not None:
        region_code = application.call.region.code
    else:
        assert filing is not None
        region_code = filing.region.code
    record(
        "catalog.upload.stored",
        actor=by,
        obj=upload,
        region_code=region_code,
        data={
            "kind": kind,
            "name": name,
            "content_type": detected.content_type,
            "size_bytes": len(content),
            "sha256": digest,
            "application": application.pk if application is not None else None,
            "filing": filing.pk if filing is not None else None,
        },
    )
    return upload
