"""The certificate PDF (培训合格证明): A4 landscape, drawn with ReportLab. Chinese renders
with ReportLab's built-in CID font STSong-Light (no font files); the QR code is drawn as
vector squares from segno's matrix (no Pillow) and encodes the public verification URL.

Only the masked ID number ever reaches the document."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import segno
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.lib.colors import HexColor, black, white
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

FONT = "STSong-Light"
TITLE = "培训合格证明"  # the document's name (GLOSSARY), printed as such in every language
_INK = HexColor("#7a1f1f")


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


@dataclass(frozen=True)
class CertificateContent:
    """Everything printed on one certificate. `id_masked` is the masked ID number
    (`110***********123X`); the full number is never given to this module."""

    number: str
    holder_name: str
    id_masked: str
    course_title: str
    occupation_code: str
    occupation_name: str
    class_hours: Decimal
    started_on: date
    completed_on: date
    platform_name: str
    issued_on: date
    verify_url: str


def _date(value: date) -> str:
    return formats.date_format(value, "Y-m-d")


def _hours(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _fit(canvas: Canvas, text: str, size: float, width: float) -> float:
    """The largest font size ≤ `size` at which `text` fits in `width`."""
    while size > 6 and pdfmetrics.stringWidth(text, FONT, size) > width:
        size -= 0.5
    return size


QR_BORDER = 2  # quiet zone, in modules


def QR_BOX(page_width: float) -> tuple[float, float, float]:  # noqa: N802 - a layout constant
    """Where the QR code sits: left, bottom and side, in points."""
    side = 150.0
    return page_width - 80 - side, 110.0, side


def _draw_qr(canvas: Canvas, data: str, x: float, y: float, side: float) -> None:
    qr = segno.make(data, error="m", micro=False)
    matrix = [list(row) for row in qr.matrix]
    border = QR_BORDER
    cells = len(matrix) + 2 * border
    cell = side / cells
    canvas.setFillColor(white)
    canvas.rect(x, y, side, side, stroke=0, fill=1)
    canvas.setFillColor(black)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(
                    x + (c + border) * cell,
                    y + side - (r + border + 1) * cell,
                    cell,
                    cell,
                    stroke=0,
                    fill=1,
                )


def render_certificate_pdf(content: CertificateContent) -> bytes:
    """The certificate as PDF bytes (one page, A4 landscape), labels in the active language."""
    _register_font()
    buffer = io.BytesIO()
    width, height = landscape(A4)
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1)
    canvas.setTitle(f"{TITLE} {content.number}")
    canvas.setAuthor(content.platform_name)
    canvas.setSubject(_("Certificate of training completion"))

    # Frame
    canvas.setStrokeColor(_INK)
    canvas.setLineWidth(3)
    canvas.rect(24, 24, width - 48, height - 48)
    canvas.setLineWidth(0.8)
    canvas.rect(32, 32, width - 64, height - 64)

    # Title
    canvas.setFillColor(_INK)
    canvas.setFont(FONT, 34)
    canvas.drawCentredString(width / 2, height - 96, TITLE)
    subtitle = str(_("Certificate of training completion"))
    if subtitle != TITLE:  # in Chinese the document's name is the title already
        canvas.setFont(FONT, 12)
        canvas.drawCentredString(width / 2, height - 118, subtitle)
    canvas.setFillColor(black)
    canvas.setFont(FONT, 11)
    canvas.drawRightString(
        width - 60, height - 60, _("No. %(number)s") % {"number": content.number}
    )

    occupation = " ".join(p for p in (content.occupation_code, content.occupation_name) if p)
    rows = [
        (pgettext("person", "Name"), content.holder_name),
        (_("ID number"), content.id_masked),
        (_("Course"), content.course_title),
        (_("Occupation"), occupation or "—"),
        (_("Class hours"), _hours(content.class_hours)),
        (
            _("Training period"),
            _("%(start)s to %(end)s")
            % {"start": _date(content.started_on), "end": _date(content.completed_on)},
        ),
        (_("Training platform"), content.platform_name),
        (_("Date of issue"), _date(content.issued_on)),
    ]
    label_x, value_x, value_width = 80, 210, 390
    y = height - 175
    for label, value in rows:
        canvas.setFont(FONT, 12)
        canvas.setFillColor(HexColor("#555555"))
        canvas.drawString(label_x, y, label)
        canvas.setFillColor(black)
        canvas.setFont(FONT, _fit(canvas, value, 15, value_width))
        canvas.drawString(value_x, y, value)
        y -= 36

    statement = _(
        "The holder has completed the online vocational skills training above with the "
        "required class hours."
    )
    canvas.setFont(FONT, _fit(canvas, statement, 11, width - 160))
    canvas.drawString(label_x, 70, statement)

    # QR code with the verification URL
    qr_x, qr_y, side = QR_BOX(width)
    _draw_qr(canvas, content.verify_url, qr_x, qr_y, side)
    canvas.setFont(FONT, 10)
    canvas.drawCentredString(qr_x + side / 2, qr_y - 16, _("Scan to verify this certificate"))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
