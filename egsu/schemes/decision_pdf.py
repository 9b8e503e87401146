"""The agreement decision as a PDF (OGM-06): facts, the decision and reasons, the scheme's diagram
and tables. Plain data in, bytes out; no Django. Fonts as the commission act (DejaVu, Cyrillic)."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reportlab.graphics.shapes import Drawing, Group, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from egsu.quality.act_pdf import _escape, _register_fonts
from egsu.schemes.diagram import MEDIUM_COLOURS, UNMETERED, label_anchor, scheme_layout
from egsu.schemes.graph import Direction, Scheme
from egsu.schemes.layout import NODE_H, NODE_W


@dataclass(frozen=True)
class Decision:
    title: str
    facts: Sequence[tuple[str, str]]  # caption, value — already in the reader's language
    scheme: Scheme
    labels: Mapping[str, str]  # kind:/medium:/direction: words and table captions
    reasons: str = ""


def _drawing(scheme: Scheme, labels: Mapping[str, str], font: str, bold: str, width: float) -> Drawing:
    drawn = scheme_layout(scheme)
    scale = min(1.0, width / max(drawn.width, 1))
    drawing = Drawing(drawn.width * scale, drawn.height * scale)
    group = Group()
    top = drawn.height

    def flip(x: float, y: float) -> tuple[float, float]:
        return x, top - y

    for route in drawn.routes:
        flow = scheme.flows[route.index]
        unmetered = flow.direction is not Direction.INTERNAL and not flow.point
        colour = colors.HexColor(UNMETERED if unmetered else MEDIUM_COLOURS.get(flow.medium.value, "#57606a"))
        pts = [c for p in route.points for c in flip(*p)]
        group.add(
            PolyLine(pts, strokeColor=colour, strokeWidth=1.5, strokeDashArray=[4, 3] if unmetered else None)
        )
        (x1, y1), (x2, y2) = flip(*route.points[-2]), flip(*route.points[-1])
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        ux, uy = (x2 - x1) / length, (y2 - y1) / length  # the last segment's direction: the arrow's
        bx, by = x2 - 8 * ux, y2 - 8 * uy
        group.add(Polygon([x2, y2, bx - 4 * uy, by + 4 * ux, bx + 4 * uy, by - 4 * ux], fillColor=colour,
                          strokeColor=colour))  # fmt: skip
        lx, ly = label_anchor(route.points)
        mx, my = flip(lx + 5, ly)
        text = labels.get(f"medium:{flow.medium.value}", flow.medium.value)
        group.add(String(mx, my + 2, text, fontName=font, fontSize=7, fillColor=colour))
        group.add(String(mx, my - 7, flow.point or (labels.get("unmetered", "—") if unmetered else ""), fontName=font, fontSize=7,
                         fillColor=colour))  # fmt: skip
    names = {n.key: n for n in scheme.nodes}
    for key, placed in drawn.nodes.items():
        x, y = flip(placed.x, placed.y + NODE_H)
        group.add(Rect(x, y, NODE_W, NODE_H, rx=5, ry=5, fillColor=colors.HexColor("#f6f8fa"),
                       strokeColor=colors.HexColor("#57606a")))  # fmt: skip
        node = names[key]
        group.add(String(x + 6, y + NODE_H - 16, node.name[:24], fontName=bold, fontSize=9))
        kind = labels.get(f"kind:{node.kind.value}", node.kind.value)
        group.add(String(x + 6, y + 10, f"{kind} · {key}"[:30], fontName=font, fontSize=7,
                         fillColor=colors.HexColor("#57606a")))  # fmt: skip
    group.scale(scale, scale)
    drawing.add(group)
    return drawing


def render(decision: Decision) -> bytes:
    regular, bold = _register_fonts()
    label = decision.labels
    body = ParagraphStyle("body", fontName=regular, fontSize=9.5, leading=12.5)
    cell = ParagraphStyle("cell", parent=body, fontSize=8, leading=10)
    head = ParagraphStyle("head", parent=cell, fontName=bold)
    title = ParagraphStyle("title", parent=body, fontName=bold, fontSize=14, leading=18, spaceAfter=4)

    def p(text: str, style=body) -> Paragraph:
        return Paragraph(_escape(text), style)

    grid = TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#8c959f")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f6f8fa")),
    ])  # fmt: skip
    facts = list(decision.facts)
    if decision.reasons:
        facts.append((label["reasons"], decision.reasons))
    fact_table = Table([[p(k, head), p(v, cell)] for k, v in facts], colWidths=[55 * mm, None], hAlign="LEFT")
    fact_table.setStyle(grid)
    story: list = [p(decision.title, title), fact_table, Spacer(0, 5 * mm), p(label["diagram"], head)]
    width = A4[0] - 30 * mm
    story += [
        _drawing(decision.scheme, label, regular, bold, width),
        Spacer(0, 4 * mm),
        p(label["flows"], head),
    ]
    rows = [[p(label[c], head) for c in ("from", "to", "medium", "direction", "point")]]
    names = {n.key: f"{n.name} ({n.key})" for n in decision.scheme.nodes}
    for flow in decision.scheme.flows:
        rows.append([
            p(names.get(flow.source, flow.source), cell), p(names.get(flow.target, flow.target), cell),
            p(label.get(f"medium:{flow.medium.value}", flow.medium.value), cell),
            p(label.get(f"direction:{flow.direction.value}", flow.direction.value), cell),
            p(flow.point or "—", cell),
        ])  # fmt: skip
    flows = Table(rows, repeatRows=1, hAlign="LEFT")
    flows.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#8c959f")),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f6f8fa"))]))  # fmt: skip
    story += [flows, Spacer(0, 4 * mm), p(label["signed"], cell)]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm,
        title=decision.title, author="EGSU", invariant=1,
    ).build(story)  # fmt: skip
    return buffer.getvalue()
