"""The certificate PDF: it parses, carries the particulars and the masked ID number only, and
its QR code encodes the verification URL."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import segno
from django.utils import translation
from reportlab.lib.pagesizes import A4, landscape

from conftest import skip_or_fail
from zhipei.learning.certificates.pdf import (
    QR_BORDER,
    QR_BOX,
    CertificateContent,
    render_certificate_pdf,
)

CONTENT = CertificateContent(
    number="420102-2026-000001-5",
    holder_name="王小芳",
    id_masked="420***********123X",
    course_title="焊工安全操作与实训",
    occupation_code="6-18-02-04",
    occupation_name="焊工",
    class_hours=Decimal("24.0"),
    started_on=date(2026, 5, 1),
    completed_on=date(2026, 6, 3),
    platform_name="武汉智学在线教育科技有限公司",
    issued_on=date(2026, 6, 4),
    verify_url="https://zhipei.example.gov.cn/verify/completion/abcdefghijklmnopqrstuvwxyz012345",
)


def _text(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        skip_or_fail("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=30
    )
    return out.stdout.decode()


def test_pdf_is_one_a4_landscape_page(tmp_path: Path) -> None:
    pdf = render_certificate_pdf(CONTENT)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    if shutil.which("pdfinfo") is None:
        skip_or_fail("pdfinfo (poppler-utils) is not installed")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, timeout=30)
    text = info.stdout.decode()
    assert re.search(r"^Pages:\s+1$", text, re.MULTILINE)
    assert "841.89 x 595.276 pts (A4)" in text


def test_pdf_text_carries_the_particulars_in_chinese(tmp_path: Path) -> None:
    with translation.override("zh-hans"):
        text = _text(render_certificate_pdf(CONTENT), tmp_path)
    for expected in (
        "培训合格证明",
        "420102-2026-000001-5",
        "王小芳",
        "420***********123X",
        "焊工安全操作与实训",
        "6-18-02-04 焊工",
        "24",
        "2026-05-01",
        "2026-06-03",
        "武汉智学在线教育科技有限公司",
        "2026-06-04",
        "姓名",
    ):
        assert expected in text, expected
    assert text.count("培训合格证明") == 1  # the Chinese subtitle would repeat the title


def test_pdf_labels_follow_the_active_language(tmp_path: Path) -> None:
    with translation.override("en"):
        text = _text(render_certificate_pdf(CONTENT), tmp_path)
    assert "Name" in text
    assert "Training platform" in text


def _read_pgm(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    fields: list[bytes] = []
    position = 0
    while len(fields) < 4:
        while data[position : position + 1].isspace():
            position += 1
        if data[position : position + 1] == b"#":
            position = data.index(b"\n", position) + 1
            continue
        end = position
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[position:end])
        position = end
    assert fields[0] == b"P5"
    width, height = int(fields[1]), int(fields[2])
    return width, height, data[position + 1 :]


def test_qr_code_on_the_page_is_the_verification_url(tmp_path: Path) -> None:
    # Render the page in grey, read the module at the centre of every QR cell and compare with
    # the QR code segno makes for the verification URL: the page must show exactly that code.
    if shutil.which("pdftoppm") is None:
        skip_or_fail("pdftoppm (poppler-utils) is not installed")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(render_certificate_pdf(CONTENT))
    dpi = 216
    subprocess.run(
        ["pdftoppm", "-gray", "-r", str(dpi), "-singlefile", str(path), str(tmp_path / "page")],
        check=True,
        timeout=30,
    )
    width, _height, pixels = _read_pgm(tmp_path / "page.pgm")
    scale = dpi / 72
    page_width, page_height = landscape(A4)
    x0, y0, side = QR_BOX(page_width)
    matrix = [list(row) for row in segno.make(CONTENT.verify_url, error="m", micro=False).matrix]
    cells = len(matrix) + 2 * QR_BORDER
    cell = side / cells
    seen = []
    for r in range(len(matrix)):
        row = []
        for c in range(len(matrix)):
            x = (x0 + (c + QR_BORDER + 0.5) * cell) * scale
            y = (page_height - (y0 + side - (r + QR_BORDER + 0.5) * cell)) * scale
            row.append(pixels[int(y) * width + int(x)] < 128)
        seen.append(row)
    assert seen == [[bool(v) for v in row] for row in matrix]
    other = [list(r) for r in segno.make(CONTENT.verify_url + "x", error="m").matrix]
    assert seen != [[bool(v) for v in row] for row in other]


def test_full_id_number_is_never_asked_for() -> None:
    assert "id_number" not in CertificateContent.__dataclass_fields__
