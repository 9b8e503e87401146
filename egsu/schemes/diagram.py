"""The scheme drawn as SVG from its layered layout (the same picture the decision PDF carries)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from egsu.schemes.graph import Direction, Scheme
from egsu.schemes.layout import NODE_H, NODE_W, Layout, layout

MEDIUM_COLOURS = {
    "liquid": "#8250df",
    "crude_oil": "#1f2328",
    "gas": "#0969da",
    "gas_condensate": "#bf8700",
    "water": "#1a7f37",
}
UNMETERED = "#cf222e"


def scheme_layout(scheme: Scheme) -> Layout:
    return layout([n.key for n in scheme.nodes], [(f.source, f.target) for f in scheme.flows])


def label_anchor(points) -> tuple[float, float]:
    """Where a flow's caption goes: a third of the way along its middle segment, so that flows meeting
    at one node keep their captions apart."""
    (x1, y1), (x2, y2) = points[len(points) // 2 - 1], points[len(points) // 2]
    return x1 + (x2 - x1) / 3, y1 + (y2 - y1) / 3


def _clip(text: str, limit: int = 22) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def svg(scheme: Scheme, labels: Mapping[str, str], *, title: str = "") -> str:
    """An accessible SVG: nodes as boxes (kind and name), flows as arrows coloured by medium,
    each labelled with its medium and metering point; an unmetered input/output flow is red and dashed."""
    drawn = scheme_layout(scheme)
    nodes = {n.key: n for n in scheme.nodes}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {drawn.width:.0f} {drawn.height:.0f}" '
        f'width="{drawn.width:.0f}" height="{drawn.height:.0f}" role="img" class="scheme-diagram" '
        f'font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>',
    ]
    for route in drawn.routes:
        flow = scheme.flows[route.index]
        colour = MEDIUM_COLOURS.get(flow.medium.value, "#57606a")
        unmetered = flow.direction is not Direction.INTERNAL and not flow.point
        dash = ' stroke-dasharray="6 4"' if unmetered else ""
        if unmetered:
            colour = UNMETERED
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in route.points)
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dash} '
            f'marker-end="url(#arrow)" data-flow="{escape(flow.key)}"/>'
        )
        lx, ly = label_anchor(route.points)
        caption = labels.get(f"medium:{flow.medium.value}", flow.medium.value)
        if flow.direction is not Direction.INTERNAL:
            caption += f" ({labels.get(f'direction:{flow.direction.value}', flow.direction.value)})"
        point = flow.point or (labels.get("unmetered", "no metering point") if unmetered else "")
        parts.append(
            f'<text x="{lx + 6:.1f}" y="{ly - 2:.1f}" fill="{colour}" font-size="10">'
            f'<tspan>{escape(caption)}</tspan><tspan x="{lx + 6:.1f}" dy="12">{escape(point)}</tspan></text>'
        )
    for key, placed in drawn.nodes.items():
        node = nodes[key]
        parts.append(
            f'<g data-node="{escape(key)}"><rect x="{placed.x:.1f}" y="{placed.y:.1f}" width="{NODE_W:.0f}" '
            f'height="{NODE_H:.0f}" rx="6" fill="#f6f8fa" stroke="#57606a"/>'
            f'<text x="{placed.x + 8:.1f}" y="{placed.y + 18:.1f}" font-weight="bold">{escape(_clip(node.name))}</text>'
            f'<text x="{placed.x + 8:.1f}" y="{placed.y + 35:.1f}" fill="#57606a" font-size="10">'
            f"{escape(_clip(labels.get(f'kind:{node.kind.value}', node.kind.value) + ' · ' + key, 28))}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)
