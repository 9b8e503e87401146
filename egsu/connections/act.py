"""The service testing act (App.1-SB Table 2) as a PDF, from the application and the journal."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from egsu.connections.fields import SERVICE_KEY
from egsu.quality.act_pdf import _escape, _register_fonts
from egsu_core.clock import to_astana


def _moment(moment) -> str:
    return to_astana(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def build_act(app, seen) -> bytes:
    regular, bold = _register_fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=9.5, leading=12.5)
    head = ParagraphStyle("head", parent=body, fontName=bold)
    title = ParagraphStyle("title", parent=body, fontName=bold, fontSize=14, leading=18, spaceAfter=4)

    def p(text: str, style=body) -> Paragraph:
        return Paragraph(_escape(str(text)), style)

    facts = [
        (_("Service owner name"), _("Ministry of Energy of the Republic of Kazakhstan")),
        (_("Service client name"), f"{app.subject.name}, BIN {app.subject.bin}"),
        (_("Information system of the service owner"), _("Unified State System for Management of the Fuel and Energy Complex")),
        (_("Information system of the service client"), app.fields.get("is_name", "")),
        (_("Service name"), _("Universal service of the information system for metering crude oil, gas condensate, raw gas and its processing products")),
        (_("Service key"), SERVICE_KEY),
        (_("System login"), app.login),
        (_("Testing scenario"), _("Messages the system sent to the test stand since test access, as journalled")),
        (_("Messages received"), str(seen.messages)),
        (_("Answers sent"), str(seen.answers)),
        (_("Period"), f"{_moment(seen.first)} – {_moment(seen.last)}"),
        (_("Date of putting into industrial operation"), app.live_on.isoformat() if app.live_on else "—"),
    ]  # fmt: skip
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#8c959f")),
                       ("VALIGN", (0, 0), (-1, -1), "TOP"),
                       ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f6f8fa"))])  # fmt: skip
    fact_table = Table([[p(k, head), p(v)] for k, v in facts], colWidths=[60 * mm, None], hAlign="LEFT")
    fact_table.setStyle(grid)
    codes = Table([[p(_("Status code"), head), p(_("Count"), head)]] + [[p(c), p(n)] for c, n in seen.codes.items()],
                  colWidths=[60 * mm, 30 * mm], hAlign="LEFT")  # fmt: skip
    codes.setStyle(grid)
    verdicts = Table([[p(_("Signature verdict"), head), p(_("Count"), head)]]
                     + [[p(v), p(n)] for v, n in seen.verdicts.items()], colWidths=[120 * mm, 30 * mm], hAlign="LEFT")  # fmt: skip
    verdicts.setStyle(grid)
    story = [p(_("Service testing act"), title), fact_table, Spacer(0, 4 * mm), codes, Spacer(0, 4 * mm), verdicts,
             Spacer(0, 4 * mm), p(_("Signed electronically by the data operator (signature.xml) and the subject (signature-subject.xml); check with egsu pki verify-document."))]  # fmt: skip
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                      bottomMargin=15 * mm, title=_("Service testing act"), author="EGSU", invariant=1).build(story)  # fmt: skip
    return buffer.getvalue()
