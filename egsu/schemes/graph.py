"""A scheme as data: nodes, flows between them and the metering point on each flow (OGM-01..03).

Plain Python. The cabinet edits a scheme as two small tables of text, one row a line, cells
separated by ";" (robust to paste from a spreadsheet, and diff-able between versions):

    nodes:  key; kind; name                       W1; well; Well 101
    flows:  from; to; medium; direction; point    W1; U1; liquid; input; A100/D1

A flow's direction is `input` (used in the subject's processes), `output` (produced and leaving),
or `internal`; the point is the metering point's store key ``object/device`` — which may be a
device of another subject's acceptance-delivery point (OGM-02).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum


def gettext_noop(text: str) -> str:
    return text


class NodeKind(StrEnum):
    WELL = "well"
    PREPARATION = "preparation_unit"
    TANK = "tank"
    PUMP = "pump"
    FLARE = "flare"
    REINJECTION = "reinjection"
    DELIVERY_POINT = "delivery_point"  # an acceptance-delivery point (OGM-02)

    @property
    def label(self) -> str:
        return NODE_LABELS[self]


NODE_LABELS = {
    NodeKind.WELL: gettext_noop("Well"),
    NodeKind.PREPARATION: gettext_noop("Preparation unit"),
    NodeKind.TANK: gettext_noop("Tank"),
    NodeKind.PUMP: gettext_noop("Pump"),
    NodeKind.FLARE: gettext_noop("Flare"),
    NodeKind.REINJECTION: gettext_noop("Reinjection"),
    NodeKind.DELIVERY_POINT: gettext_noop("Acceptance-delivery point"),
}


class Medium(StrEnum):
    LIQUID = "liquid"
    CRUDE_OIL = "crude_oil"
    GAS = "gas"
    GAS_CONDENSATE = "gas_condensate"
    WATER = "water"

    @property
    def label(self) -> str:
        return MEDIUM_LABELS[self]


MEDIUM_LABELS = {
    Medium.LIQUID: gettext_noop("Liquid"),
    Medium.CRUDE_OIL: gettext_noop("Crude oil"),
    Medium.GAS: gettext_noop("Gas"),
    Medium.GAS_CONDENSATE: gettext_noop("Gas condensate"),
    Medium.WATER: gettext_noop("Water"),
}


class Direction(StrEnum):
    INPUT = "input"
    OUTPUT = "output"
    INTERNAL = "internal"

    @property
    def label(self) -> str:
        return DIRECTION_LABELS[self]


DIRECTION_LABELS = {
    Direction.INPUT: gettext_noop("Input"),
    Direction.OUTPUT: gettext_noop("Output"),
    Direction.INTERNAL: gettext_noop("Internal"),
}


@dataclass(frozen=True)
class Node:
    key: str
    kind: NodeKind
    name: str


@dataclass(frozen=True)
class Flow:
    source: str
    target: str
    medium: Medium
    direction: Direction
    point: str = ""  # "object/device", empty when unmetered

    @property
    def key(self) -> str:
        return f"{self.source}->{self.target}:{self.medium}"


@dataclass(frozen=True)
class Scheme:
    nodes: tuple[Node, ...]
    flows: tuple[Flow, ...]

    def to_json(self) -> dict:
        return {
            "nodes": [{"key": n.key, "kind": n.kind.value, "name": n.name} for n in self.nodes],
            "flows": [
                {"from": f.source, "to": f.target, "medium": f.medium.value, "direction": f.direction.value,
                 "point": f.point}
                for f in self.flows
            ],
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict) -> Scheme:
        return cls(
            tuple(Node(n["key"], NodeKind(n["kind"]), n["name"]) for n in data.get("nodes", [])),
            tuple(
                Flow(f["from"], f["to"], Medium(f["medium"]), Direction(f["direction"]), f.get("point", ""))
                for f in data.get("flows", [])
            ),
        )

    def nodes_text(self) -> str:
        return "\n".join(f"{n.key}; {n.kind.value}; {n.name}" for n in self.nodes)

    def flows_text(self) -> str:
        return "\n".join(
            f"{f.source}; {f.target}; {f.medium.value}; {f.direction.value}; {f.point}".rstrip("; ")
            for f in self.flows
        )

    @property
    def points(self) -> list[str]:
        return sorted({f.point for f in self.flows if f.point})


EMPTY = Scheme((), ())


@dataclass(frozen=True)
class Problem:
    """One thing wrong: `where` is "nodes:3", "flows:2" or a flow/point key; `text` an English template."""

    where: str
    text: str
    params: dict = field(default_factory=dict)


class SchemeSyntaxError(ValueError):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(f"{p.where}: {p.text % p.params}" for p in problems))
        self.problems = problems


def _rows(text: str) -> Iterable[tuple[int, list[str]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, [cell.strip() for cell in line.split(";")]


def parse(nodes_text: str, flows_text: str) -> Scheme:
    """The two tables as a Scheme; SchemeSyntaxError lists every bad line at once."""
    problems: list[Problem] = []
    nodes: list[Node] = []
    keys: set[str] = set()
    for number, cells in _rows(nodes_text):
        where = f"nodes:{number}"
        if len(cells) != 3 or not all(cells):
            problems.append(Problem(where, gettext_noop("a node is: key; kind; name")))
            continue
        key, kind, name = cells
        if kind not in NodeKind.__members__.values():
            problems.append(Problem(where, gettext_noop("unknown node kind %(kind)s"), {"kind": kind}))
            continue
        if key in keys:
            problems.append(Problem(where, gettext_noop("node %(key)s is listed twice"), {"key": key}))
            continue
        keys.add(key)
        nodes.append(Node(key, NodeKind(kind), name))
    flows: list[Flow] = []
    seen: set[str] = set()
    for number, cells in _rows(flows_text):
        where = f"flows:{number}"
        if len(cells) == 4:
            cells.append("")
        if len(cells) != 5 or not all(cells[:4]):
            problems.append(Problem(where, gettext_noop("a flow is: from; to; medium; direction; point")))
            continue
        source, target, medium, direction, point = cells
        for end in (source, target):
            if end not in keys:
                problems.append(Problem(where, gettext_noop("no node %(key)s"), {"key": end}))
        if medium not in Medium.__members__.values():
            problems.append(Problem(where, gettext_noop("unknown medium %(medium)s"), {"medium": medium}))
            continue
        if direction not in Direction.__members__.values():
            problems.append(
                Problem(where, gettext_noop("unknown direction %(direction)s"), {"direction": direction})
            )
            continue
        if point and point.count("/") != 1:
            problems.append(
                Problem(
                    where, gettext_noop("a metering point is object/device, not %(point)s"), {"point": point}
                )
            )
            continue
        flow = Flow(source, target, Medium(medium), Direction(direction), point)
        if flow.key in seen:
            problems.append(Problem(where, gettext_noop("this flow is listed twice")))
            continue
        seen.add(flow.key)
        flows.append(flow)
    if problems:
        raise SchemeSyntaxError(problems)
    return Scheme(tuple(nodes), tuple(flows))


@dataclass(frozen=True)
class PointFacts:
    """What the registry says about a metering point named on a flow."""

    registered: bool
    type_approved: bool
    owner: str = ""  # the subject's BIN that owns the device


def completeness(scheme: Scheme, facts: Callable[[str], PointFacts]) -> list[Problem]:
    """OGM-03: every input and output flow metered; every point a registered device of an approved type."""
    problems: list[Problem] = []
    if not scheme.nodes:
        problems.append(Problem("nodes", gettext_noop("the scheme has no nodes")))
    if not any(f.direction is not Direction.INTERNAL for f in scheme.flows):
        problems.append(Problem("flows", gettext_noop("the scheme has no input or output flow")))
    for flow in scheme.flows:
        if flow.direction is Direction.INTERNAL:
            continue
        if not flow.point:
            problems.append(Problem(flow.key, gettext_noop("this flow has no metering point")))
    for point in scheme.points:
        found = facts(point)
        if not found.registered:
            problems.append(
                Problem(point, gettext_noop("%(point)s is not a registered device"), {"point": point})
            )
        elif not found.type_approved:
            problems.append(
                Problem(
                    point, gettext_noop("%(point)s has no approved type (state register)"), {"point": point}
                )
            )
    return problems
