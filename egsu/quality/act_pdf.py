"""The commission act as a PDF (Rules §53): plain data in, bytes out; no Django here.

Fonts are DejaVu, found on the machine (air-gapped: nothing is fetched), because subject
names and reasons are Kazakh or Russian and the PDF core fonts have no Cyrillic.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import KeepTogether

from egsu.fonts import FontMissingError, find_font

FONT_FILES = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}
FontsMissing = FontMissingError  # DejaVu fonts are not where we look: the act cannot be typeset


@dataclass(frozen=True)
class ActLine:
    object_id: str
    device_id: str
    quantity: str
    interval: str
    period: str  # Astana time, already formatted
    original: str
    original_revision: int
    corrected: str
    unit: str
    difference: str
    applied_revision: int | None = None


@dataclass(frozen=True)
class ActDocument:
    """Everything the act states, already formatted for people (dates in Astana time)."""

    number: str
    date: str
    status: str
    subject: str  # name and BIN
    facility: str  # object id and name
    proposer: str  # name, role, organisation
    proposed_at: str
    reason: str
    lines: Sequence[ActLine]
    labels: Mapping[str, str]  # captions in the reader's language (keys: see egsu.quality.act_document)
    decider: str = ""
    decided_at: str = ""
    refusal_reason: str = ""
    source: str = ""  # act:<number>, what the corrected revisions carry
    draft: bool = False


@cache
def _register_fonts() -> tuple[str, str]:
    regular, bold = "EgsuDejaVu", "EgsuDejaVu-Bold"
    pdfmetrics.registerFont(TTFont(regular, str(find_font(FONT_FILES["regular"]))))
    pdfmetrics.registerFont(TTFont(bold, str(find_font(FONT_FILES["bold"]))))
    return regular, bold


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br/>")


def render_act(doc: ActDocument) -> bytes:
    """The act as PDF bytes; the same document always gives the same bytes (invariant mode)."""
    regular, bold = _register_fonts()
    label = doc.labels
    body = ParagraphStyle("body", fontName=regular, fontSize=9.5, leading=12.5)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10)
    cell = ParagraphStyle("cell", parent=body, fontSize=8, leading=10)
    num = ParagraphStyle("num", parent=cell, alignment=TA_RIGHT)
    head = ParagraphStyle("head", parent=cell, fontName=bold)
    title = ParagraphStyle("title", parent=body, fontName=bold, fontSize=14, leading=18, spaceAfter=4)
    warn = ParagraphStyle("warn", parent=body, fontName=bold, textColor=colors.HexColor("#b42318"))

    def p(text: str, style=body) -> Paragraph:
        return Paragraph(_escape(text), style)

    story: list = [p(f"{label['title']} № {doc.number}", title)]
    if doc.draft:
        story.append(p(label["draft"], warn))
    story += [p(label["basis"], small), Spacer(0, 4 * mm)]

    facts = [
        (label["number"], doc.number),
        (label["date"], doc.date),
        (label["status"], doc.status),
        (label["subject"], doc.subject),
        (label["facility"], doc.facility),
        (label["proposer"], doc.proposer),
        (label["proposed_at"], doc.proposed_at),
    ]
    if doc.decider:
        facts += [(label["decider"], doc.decider), (label["decided_at"], doc.decided_at)]
    facts.append((label["reason"], doc.reason))
    if doc.refusal_reason:
        facts.append((label["refusal_reason"], doc.refusal_reason))
    fact_table = Table([[p(k, head), p(v, cell)] for k, v in facts], colWidths=[55 * mm, None], hAlign="LEFT")
    fact_table.setStyle(
        TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#8c959f")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f6f8fa")),
        ])
    )  # fmt: skip
    story += [fact_table, Spacer(0, 5 * mm), p(label["values"], head), Spacer(0, 1 * mm)]

    columns = ["object", "device", "quantity", "interval", "period", "original", "revision", "corrected",
               "difference", "unit", "applied"]  # fmt: skip
    rows = [[p(label[c], head) for c in columns]]
    for line in doc.lines:
        rows.append([
            p(line.object_id, cell), p(line.device_id, cell), p(line.quantity, cell), p(line.interval, cell),
            p(line.period, cell), p(line.original, num), p(str(line.original_revision), num),
            p(line.corrected, num), p(line.difference, num), p(line.unit, cell),
            p("" if line.applied_revision is None else str(line.applied_revision), num),
        ])  # fmt: skip
    widths = [22, 18, 26, 18, 34, 30, 12, 30, 30, 16, 16]  # mm; the period fits on one line
    value_table = Table(rows, repeatRows=1, hAlign="LEFT", colWidths=[w * mm for w in widths])
    value_table.setStyle(
        TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#8c959f")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f6f8fa")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ])
    )  # fmt: skip
    story += [value_table, Spacer(0, 3 * mm)]
    if doc.source:
        story.append(p(label["keeps"].format(source=doc.source), small))
    story.append(p(label["times"], small))

    signatures = Table(
        [
            [p(label["for_operator"], head), p(label["for_subject"], head)],
            [p(f"{doc.proposer}\n{doc.proposed_at}", cell), p(f"{doc.decider}\n{doc.decided_at}", cell)],
            [p("____________________", cell), p("____________________", cell)],
        ],
        hAlign="LEFT",
        colWidths=[120 * mm, 120 * mm],
    )
    story += [Spacer(0, 6 * mm), KeepTogether([p(label["signatures"], head), signatures])]

    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"{label['title']} № {doc.number}",
        author="EGSU",
        invariant=1,
    ).build(story)
    return buffer.getvalue()
