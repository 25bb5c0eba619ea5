"""A settlement statement as a file the merchant downloads: CSV (one row per settled payment) and PDF.

The PDF names things in the reader's language; Chinese is set in the Adobe-Asian CID font
STSong-Light that every PDF reader carries, so no font file ships with the platform. Figures are set
in Helvetica, so they read (and extract) the same in any language.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from . import selectors
from .clearing import Statement
from .models import Settlement

CJK_FONT = "STSong-Light"
FIGURES_FONT = "Helvetica"

CSV_COLUMNS = [
    "merchant",
    "day",
    "occurred_at",
    "kind",
    "reference",
    "ledger_transaction",
    "points",
    "rate_yuan_per_point",
    "rate_source",
    "amount_yuan",
]


def yuan(fen: int) -> str:
    """Whole fen as yuan with two decimals (integers only, no float on the way)."""
    return f"{Decimal(fen) / 100:.2f}"


def statement_csv(settlement: Settlement) -> str:
    """Every payment the statement settles, with the money owed for it; a total row last."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for line in settlement.lines.all():
        writer.writerow(
            [
                settlement.merchant.name,
                settlement.day.isoformat(),
                timezone.localtime(line.occurred_at).isoformat(),
                line.kind,
                line.reference,
                line.spend_tx_id,
                line.points,
                line.rate_yuan_per_point,
                line.rate_source,
                yuan(line.amount_fen),
            ]
        )
    writer.writerow(
        [
            settlement.merchant.name,
            settlement.day.isoformat(),
            "",
            "total",
            "",
            settlement.ledger_tx_id,
            settlement.points_total,
            "",
            "",
            yuan(settlement.amount_fen),
        ]
    )
    return out.getvalue()


def _label_font() -> str:
    if (get_language() or "").lower().startswith("zh"):
        if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        return CJK_FONT
    return FIGURES_FONT


class _Sheet:
    """An A4 statement written from the top down: ``text`` at ``x`` mm from the left margin on the
    current line, ``down`` by some mm, ``room`` for what follows or a new page."""

    def __init__(self, title: str) -> None:
        self.buffer = io.BytesIO()
        self.pdf = Canvas(self.buffer, pagesize=A4, invariant=True)
        self.pdf.setTitle(title)
        self.label = _label_font()
        self.left, self.y = 18 * mm, A4[1] - 22 * mm

    def text(self, x: float, value: str, *, font: str = FIGURES_FONT, size: float = 9) -> None:
        self.pdf.setFont(font, size)
        self.pdf.drawString(self.left + x * mm, self.y, value)

    def down(self, by: float) -> None:
        self.y -= by * mm

    def room(self, needed: float) -> None:
        """A new page when fewer than ``needed`` mm are left above the bottom margin."""
        if self.y < needed * mm:
            self.pdf.showPage()
            self.y = A4[1] - 20 * mm

    def done(self) -> bytes:
        self.pdf.showPage()
        self.pdf.save()
        return self.buffer.getvalue()


def statement_pdf(settlement: Settlement, *, unsettled_points: int) -> bytes:
    """The statement on A4: who and which day, the totals, then one row per settled payment."""
    sheet = _Sheet(
        f"{_('Settlement statement')} {settlement.merchant.name} {settlement.day.isoformat()}"
    )
    sheet.text(0, _("Settlement statement"), font=sheet.label, size=15)
    sheet.down(9)
    for caption, value in [
        (_("Merchant"), settlement.merchant.name),
        (_("Day"), settlement.day.isoformat()),
        (_("Points settled"), str(settlement.points_total)),
        (_("Amount owed (yuan)"), yuan(settlement.amount_fen)),
        (
            _("Ledger transaction"),
            f"#{settlement.ledger_tx_id}" if settlement.ledger_tx_id else "-",
        ),
        (_("Points not yet settled"), str(unsettled_points)),
    ]:
        sheet.text(0, caption, font=sheet.label, size=10)
        # a merchant's name may be Chinese: it is set in the label font, the figures are not
        sheet.text(
            55, value, font=sheet.label if caption == _("Merchant") else FIGURES_FONT, size=10
        )
        sheet.down(6)
    sheet.down(4)
    columns = [
        (0, _("Time")),
        (38, _("Kind")),
        (62, _("Reference")),
        (112, _("Points")),
        (132, _("Rate (yuan per point)")),
        (162, _("Amount (yuan)")),
    ]
    for x, caption in columns:
        sheet.text(x, caption, font=sheet.label, size=8)
    sheet.down(5)
    for line in settlement.lines.all():
        sheet.room(20)
        values = [
            timezone.localtime(line.occurred_at).strftime("%Y-%m-%d %H:%M"),
            line.get_kind_display(),
            line.reference,
            str(line.points),
            f"{line.rate_yuan_per_point.normalize():f}",
            yuan(line.amount_fen),
        ]
        for (x, _caption), value in zip(columns, values, strict=True):
            sheet.text(x, value, font=sheet.label if x == 38 else FIGURES_FONT, size=8)
        sheet.down(4.5)
    return sheet.done()


def statement_download(settlement: Settlement, *, file_format: str) -> HttpResponse:
    """A statement as a file: CSV (one row per settled payment) or PDF."""
    name = f"settlement-{settlement.merchant_id}-{settlement.day.isoformat()}"
    if file_format == "pdf":
        unsettled = selectors.merchant_points_unsettled(merchant_id=settlement.merchant_id)
        response = HttpResponse(
            statement_pdf(settlement, unsettled_points=unsettled), content_type="application/pdf"
        )
    elif file_format == "csv":
        response = HttpResponse(statement_csv(settlement), content_type="text/csv; charset=utf-8")
    else:
        raise ValueError(f"no statement format {file_format!r}")
    response["Content-Disposition"] = f'attachment; filename="{name}.{file_format}"'
    return response


def clearing_pdf(report: Statement, *, names: dict[str, str]) -> bytes:
    """The month's clearing statement between regions on A4: the net lines (who owes whom), the
    gross ones (each direction), then each region's points spent and taken."""
    sheet = _Sheet(f"{_('Clearing statement')} {report.month}")
    label = sheet.label

    def region(code: str) -> str:
        return f"{code} {names.get(code, '')}".strip()

    sheet.text(0, _("Clearing statement between regions"), font=label, size=15)
    sheet.down(9)
    sheet.text(0, _("Month"), font=label, size=10)
    sheet.text(55, report.month, size=10)
    sheet.down(6)
    sheet.text(0, _("Posted up to"), font=label, size=10)
    posted = (
        timezone.localtime(report.posted_until).strftime("%Y-%m-%d %H:%M")
        if report.posted_until
        else "-"
    )
    sheet.text(55, posted, size=10)
    sheet.down(10)
    columns = [(0, _("Owes")), (60, _("Owed to")), (120, _("Points")), (150, _("Amount (yuan)"))]
    for title, lines in ((_("Net"), report.net), (_("Gross"), report.gross)):
        sheet.text(0, title, font=label, size=11)
        sheet.down(6)
        for x, caption in columns:
            sheet.text(x, caption, font=label, size=8)
        sheet.down(5)
        for line in lines:
            sheet.room(20)
            sheet.text(0, region(line.owes), font=label, size=8)
            sheet.text(60, region(line.to), font=label, size=8)
            sheet.text(120, str(line.points), size=8)
            sheet.text(150, f"{line.yuan:.2f}", size=8)
            sheet.down(4.5)
        if not lines:
            sheet.text(0, _("Nothing to clear."), font=label, size=8)
            sheet.down(4.5)
        sheet.down(5)
    sheet.room(40)
    sheet.text(0, _("Per region"), font=label, size=11)
    sheet.down(6)
    for x, caption in [
        (0, _("Region")),
        (60, _("Funded points spent")),
        (110, _("Points spent at its merchants")),
    ]:
        sheet.text(x, caption, font=label, size=8)
    sheet.down(5)
    for code in sorted(set(report.regions) | set(report.taken)):
        sheet.room(20)
        held = report.regions.get(code)
        sheet.text(0, region(code), font=label, size=8)
        sheet.text(60, str(held.spent if held else 0), size=8)
        sheet.text(110, str(report.taken.get(code, 0)), size=8)
        sheet.down(4.5)
    return sheet.done()
