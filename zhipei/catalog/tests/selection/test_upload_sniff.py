"""Type detection from content and name cleaning (pure functions)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zhipei.catalog.tests.selection.helpers import (
    JPEG_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    docx_like_bytes,
    plain_zip_bytes,
    xlsx_bytes,
)
from zhipei.catalog.uploads import DOCX, JPEG, PDF, PNG, XLSX, check_file, clean_name, sniff
from zhipei.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PDF_BYTES, PDF),
        (PNG_BYTES, PNG),
        (JPEG_BYTES, JPEG),
        (docx_like_bytes(), DOCX),
        (xlsx_bytes(), XLSX),
    ],
)
def test_sniff_recognises_accepted_types(content: bytes, expected: object) -> None:
    assert sniff(content) is expected


@pytest.mark.parametrize(
    "content",
    [b"", b"hello world", b"GIF89a....", plain_zip_bytes(), b"PK\x03\x04broken zip", b"%PD"],
)
def test_sniff_refuses_everything_else(content: bytes) -> None:
    assert sniff(content) is None


def test_clean_name_drops_folders_and_keeps_the_extension() -> None:
    assert clean_name("C:\\Users\\me\\营业执照.pdf") == "营业执照.pdf"
    assert clean_name("../../etc/passwd") == "passwd"
    assert clean_name("") == "file"
    long = "x" * 300 + ".pdf"
    assert len(clean_name(long)) == 200
    assert clean_name(long).endswith(".pdf")


def test_check_file_accepts_upper_case_extension() -> None:
    content, detected, name = check_file(SimpleUploadedFile("SCAN.JPEG", JPEG_BYTES))
    assert (content, detected, name) == (JPEG_BYTES, JPEG, "SCAN.JPEG")


def test_check_file_names_the_file_when_content_and_name_disagree() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_file(SimpleUploadedFile("licence.pdf", PNG_BYTES))
    assert caught.value.field == "file"
    assert "licence.pdf" in str(caught.value.message)
    assert "PNG" in str(caught.value.message)


def test_check_file_refuses_a_docx_named_xlsx() -> None:
    with pytest.raises(InvalidInput, match="DOCX"):
        check_file(SimpleUploadedFile("roster.xlsx", docx_like_bytes()))


def test_check_file_refuses_empty_and_unknown() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        check_file(SimpleUploadedFile("empty.pdf", b""))
    with pytest.raises(InvalidInput, match="not of an accepted type"):
        check_file(SimpleUploadedFile("notes.txt", b"plain text"))


def test_check_file_refuses_oversize_even_when_size_is_not_reported(settings: object) -> None:
    settings.UPLOAD_MAX_BYTES = 1024  # type: ignore[attr-defined]
    big = PDF_BYTES + b"0" * 2000
    with pytest.raises(InvalidInput, match="larger than"):
        check_file(SimpleUploadedFile("big.pdf", big))
    unsized = SimpleUploadedFile("big.pdf", big)
    unsized.size = None
    with pytest.raises(InvalidInput, match="larger than"):
        check_file(unsized)
    content, detected, _name = check_file(SimpleUploadedFile("ok.pdf", PDF_BYTES))
    assert detected is PDF and content == PDF_BYTES
