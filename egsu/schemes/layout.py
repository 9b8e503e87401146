"""A layered (Sugiyama-style) drawing of a scheme, computed here in plain Python.

Steps: break cycles (a reinjection loop) by reversing DFS back edges; put every node on a layer
by its longest path from a source; split edges that skip layers with dummy points; order each
layer by the barycentre of its neighbours, sweeping down and up a few times; place nodes on a
grid centred per layer. Schemes have tens of nodes, so the simple steps are fast and stable:
the same scheme always gives the same picture.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

NODE_W = 150.0
NODE_H = 46.0
GAP_X = 40.0
GAP_Y = 80.0
MARGIN = 20.0


@dataclass(frozen=True)
class Placed:
    key: str
    x: float  # left
    y: float  # top
    w: float = NODE_W
    h: float = NODE_H

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2


@dataclass(frozen=True)
class Route:
    index: int  # the edge's position in the input
    points: tuple[tuple[float, float], ...]  # from the source's bottom to the target's top


@dataclass(frozen=True)
class Layout:
    nodes: dict[str, Placed]
    routes: tuple[Route, ...]
    width: float
    height: float


def _acyclic(keys: list[str], edges: list[tuple[str, str]]) -> list[tuple[str, str, bool]]:
    """Edges with back edges (those closing a cycle) reversed; the flag says which were."""
    out: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        out[a].append(b)
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()

    def visit(start: str) -> None:  # iterative DFS: deep chains do not hit the recursion limit
        stack = [(start, iter(out[start]))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                if state.get(child) == 1:
                    back.add((node, child))
                elif child not in state:
                    state[child] = 1
                    stack.append((child, iter(out[child])))
                    break
            else:
                state[node] = 2
                stack.pop()

    for key in keys:
        if key not in state:
            visit(key)
    return [((b, a, True) if (a, b) in back or a == b else (a, b, False)) for a, b in edges]


def layout(keys: list[str], edges: list[tuple[str, str]]) -> Layout:
    """Positions for `keys` and a polyline per edge of `edges` (pairs of keys), top to bottom."""
    directed = _acyclic(keys, edges)
    preds: dict[str, list[str]] = defaultdict(list)
    for a, b, _rev in directed:
        if a != b:
            preds[b].append(a)
    layer: dict[str, int] = {}

    def depth(key: str) -> int:
        pending = [key]
        while pending:
            node = pending[-1]
            missing = [p for p in preds[node] if p not in layer]
            if missing:
                pending.extend(missing)
                continue
            layer[node] = 1 + max((layer[p] for p in preds[node]), default=-1)
            pending.pop()
        return layer[key]

    for key in keys:
        depth(key)
    # Chains of layers: real nodes and dummies ("~i~n") along long edges.
    layers: dict[int, list[str]] = defaultdict(list)
    for key in keys:
        layers[layer[key]].append(key)
    chains: list[list[str]] = []
    down: dict[str, list[str]] = defaultdict(list)
    up: dict[str, list[str]] = defaultdict(list)
    for index, (a, b, _rev) in enumerate(directed):
        chain = [a]
        for step in range(layer[a] + 1, layer[b]):
            dummy = f"~{index}~{step}"
            layer[dummy] = step
            layers[step].append(dummy)
            chain.append(dummy)
        chain.append(b)
        chains.append(chain)
        for u, v in zip(chain, chain[1:], strict=False):
            if u != v:
                down[u].append(v)
                up[v].append(u)
    depth_count = max(layers) + 1 if layers else 0
    order = {n: i for d in range(depth_count) for i, n in enumerate(layers[d])}

    def sweep(rows: range, neighbours: dict[str, list[str]]) -> None:
        for d in rows:
            row = layers[d]

            def centre(n: str, row=row) -> float:
                near = neighbours[n]
                return sum(order[m] for m in near) / len(near) if near else order[n]

            row.sort(key=lambda n: (centre(n), order[n]))
            for i, n in enumerate(row):
                order[n] = i

    for _ in range(4):
        sweep(range(1, depth_count), up)
        sweep(range(depth_count - 2, -1, -1), down)
    widest = max((len(layers[d]) for d in range(depth_count)), default=0)
    width = 2 * MARGIN + widest * NODE_W + max(widest - 1, 0) * GAP_X
    height = 2 * MARGIN + depth_count * NODE_H + max(depth_count - 1, 0) * GAP_Y
    slot: dict[str, tuple[float, float]] = {}
    for d in range(depth_count):
        row = layers[d]
        row_width = len(row) * NODE_W + max(len(row) - 1, 0) * GAP_X
        left = (width - row_width) / 2
        for i, n in enumerate(row):
            slot[n] = (left + i * (NODE_W + GAP_X), MARGIN + d * (NODE_H + GAP_Y))
    placed = {k: Placed(k, *slot[k]) for k in keys}
    routes = []
    for index, ((a, b), chain, (_x, _y, reversed_)) in enumerate(zip(edges, chains, directed, strict=True)):
        if a == b:
            x, y = slot[a]
            routes.append(Route(index, ((x + NODE_W, y + NODE_H / 2), (x + NODE_W + 25, y + NODE_H / 2),
                                        (x + NODE_W + 25, y + NODE_H + 10), (x + NODE_W - 20, y + NODE_H))))  # fmt: skip
            continue
        pts = []
        for i, n in enumerate(chain):
            x, y = slot[n]
            cx = x + NODE_W / 2
            if n in placed:
                pts.append((cx, y + (NODE_H if i == 0 else 0)))
            else:
                pts.append((cx, y + NODE_H / 2))
        if reversed_:
            pts.reverse()
        routes.append(Route(index, tuple(pts)))
    return Layout(placed, tuple(routes), width, height)
