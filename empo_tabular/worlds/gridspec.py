"""Parsing of gridworld maps and goal specifications (used by :mod:`empo_tabular.gridworld`).

Coordinates are ``(x, y)``: ``x`` is the column (0 = left), ``y`` the row
(0 = top), as in MultiGrid.  See :func:`empo_tabular.gridworld.build_gridworld`
for the map legend and the goal syntax.
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

import numpy as np

from .._kernels.gridworld import DOOR, FLOOR, OUTSIDE, WALL

LEGEND = {
    "#": "wall",
    " ": "outside (blocked, drawn blank)",
    ".": "floor",
    "H": "human (numbered in reading order)",
    "R": "robot (numbered in reading order)",
    "D": "closed door",
    "d": "open door",
    "B": "box / rock (pushable)",
    "a-z except d": "floor cell of the named region of that letter",
}
_NUMBERS = re.compile(r"^\s*(-?\d+)\s*,\s*(-?\d+)\s*(?:,\s*(-?\d+)\s*,\s*(-?\d+)\s*)?$")


@dataclass
class Layout:
    """The static part of a gridworld plus the initial positions of the movable parts.

    ``terrain[y, x]`` is one of ``FLOOR``, ``WALL``, ``DOOR``, ``OUTSIDE``.
    Lists of cells are lists of ``(x, y)`` tuples.
    """

    rows: list
    terrain: np.ndarray
    humans: list
    robots: list
    rocks: list
    doors: list
    doors_open: list
    regions: dict = field(default_factory=dict)

    @property
    def width(self) -> int:
        return int(self.terrain.shape[1])

    @property
    def height(self) -> int:
        return int(self.terrain.shape[0])

    @property
    def walkable(self) -> np.ndarray:
        """``(height, width)`` mask of floor and door cells."""
        return (self.terrain == FLOOR) | (self.terrain == DOOR)

    def walkable_cells(self) -> list:
        ys, xs = np.nonzero(self.walkable)
        return [(int(x), int(y)) for y, x in zip(ys, xs)]

    def inside(self, x: int, y: int) -> bool:
        return 0 <= x < self.width and 0 <= y < self.height


def normalise_map(ascii_map) -> list:
    """A map given as one string or a list of rows -> list of equal-length rows."""
    if isinstance(ascii_map, str):
        text = textwrap.dedent(ascii_map.expandtabs(4))
        rows = text.split("\n")
    elif isinstance(ascii_map, (list, tuple)):
        rows = [str(r) for r in ascii_map]
    else:
        raise TypeError(f"ascii_map must be a string or a list of row strings, got {type(ascii_map).__name__}")
    rows = [r.rstrip() for r in rows]
    while rows and not rows[0].strip():
        rows.pop(0)
    while rows and not rows[-1].strip():
        rows.pop()
    if not rows:
        raise ValueError("ascii_map is empty")
    width = max(len(r) for r in rows)
    return [r.ljust(width) for r in rows]


def parse_map(ascii_map) -> Layout:
    """Parse an ASCII map (legend: :data:`LEGEND`) into a :class:`Layout`."""
    rows = normalise_map(ascii_map)
    H, W = len(rows), len(rows[0])
    terrain = np.full((H, W), FLOOR, dtype=np.int8)
    humans, robots, rocks, doors, doors_open = [], [], [], [], []
    regions: dict = {}
    for y, row in enumerate(rows):
        for x, ch in enumerate(row):
            if ch == "#":
                terrain[y, x] = WALL
            elif ch == " ":
                terrain[y, x] = OUTSIDE
            elif ch == ".":
                pass
            elif ch == "H":
                humans.append((x, y))
            elif ch == "R":
                robots.append((x, y))
            elif ch == "B":
                rocks.append((x, y))
            elif ch in "Dd":
                terrain[y, x] = DOOR
                doors.append((x, y))
                doors_open.append(ch == "d")
            elif "a" <= ch <= "z":
                regions.setdefault(ch, []).append((x, y))
            else:
                raise ValueError(
                    f"ascii_map: unknown character {ch!r} at (x={x}, y={y}); legend: "
                    + ", ".join(f"{k!r} {v}" for k, v in LEGEND.items())
                )
    if not humans:
        raise ValueError("ascii_map has no human ('H'); EMPO needs at least one human")
    return Layout(rows, terrain, humans, robots, rocks, doors, doors_open, regions)


# ----------------------------------------------------------------------------- goals
@dataclass(frozen=True)
class Goal:
    """A goal of one human: "I am in one of ``cells``", with weight ``weight``."""

    name: str
    cells: tuple
    weight: float

    def to_dict(self) -> dict:
        return {"name": self.name, "at": [list(c) for c in self.cells], "weight": self.weight}


def _rect(x1, y1, x2, y2):
    xa, xb = sorted((x1, x2))
    ya, yb = sorted((y1, y2))
    return [(x, y) for y in range(ya, yb + 1) for x in range(xa, xb + 1)]


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _cells_of(item, layout: Layout, regions: dict, where: str):
    """Cells and a default name of one goal item (cell, rectangle, region name or list of those)."""
    if isinstance(item, str):
        key = item.strip()
        if key in regions:
            return list(regions[key]), key
        m = _NUMBERS.match(key)
        if m is None:
            known = sorted(regions)
            raise ValueError(
                f"{where}: {item!r} is neither a region name (known: {known}) nor 'x,y' / 'x1,y1,x2,y2'"
            )
        nums = tuple(int(v) for v in m.groups() if v is not None)
        return _cells_of(nums, layout, regions, where)
    if isinstance(item, (tuple, list, np.ndarray)) and len(item) in (2, 4) and all(_is_int(v) for v in item):
        v = [int(t) for t in item]
        if len(v) == 2:
            cells, name = [(v[0], v[1])], f"({v[0]},{v[1]})"
        else:
            cells = _rect(*v)
            name = f"[{min(v[0], v[2])}..{max(v[0], v[2])}]x[{min(v[1], v[3])}..{max(v[1], v[3])}]"
        for x, y in cells:
            if not layout.inside(x, y):
                raise ValueError(
                    f"{where}: cell (x={x}, y={y}) of {tuple(v)} is outside the {layout.width}x{layout.height} map"
                )
        return cells, name
    if isinstance(item, (tuple, list)):
        cells, names = [], []
        for sub in item:
            c, n = _cells_of(sub, layout, regions, where)
            cells += c
            names.append(n)
        return cells, "+".join(names)
    raise TypeError(f"{where}: cannot read the goal item {item!r} (type {type(item).__name__})")


def _one_goal(item, layout, regions, where):
    weight = None
    name = None
    if isinstance(item, dict):
        unknown = sorted(set(item) - {"at", "name", "weight"})
        if unknown or "at" not in item:
            raise ValueError(f"{where}: a goal dict needs 'at' and may have 'name', 'weight'; got keys {sorted(item)}")
        weight = item.get("weight")
        name = item.get("name")
        item = item["at"]
    cells, default_name = _cells_of(item, layout, regions, where)
    cells = tuple(sorted(set(cells), key=lambda c: (c[1], c[0])))
    if weight is not None:
        weight = float(weight)
        if not np.isfinite(weight) or weight < 0:
            raise ValueError(f"{where}: goal weight must be finite and >= 0, got {weight!r}")
    return cells, str(name) if name is not None else default_name, weight


def resolve_goals(layout: Layout, goals, n_humans: int, extra_regions=None) -> list:
    """Turn the user's goal specification into ``list[list[Goal]]`` (one list per human).

    ``goals`` is ``None``/``"cells"`` (every walkable cell its own goal),
    ``"regions"`` (one goal per named region), a list of goal items (the
    same goals for every human), or a dict ``{human index: spec}`` (missing
    humans, or the key ``"*"``, get the default).
    """
    regions = {k: list(v) for k, v in layout.regions.items()}
    for name, spec in (extra_regions or {}).items():
        if name in regions:
            raise ValueError(f"regions: {name!r} is already a region letter of the map")
        regions[str(name)], _ = _cells_of(spec, layout, regions, f"regions[{name!r}]")

    def for_human(spec, h):
        where = f"goals of human {h}"
        if spec is None or (isinstance(spec, str) and spec == "cells"):
            items = [{"at": c, "name": f"({c[0]},{c[1]})"} for c in layout.walkable_cells()]
        elif isinstance(spec, str) and spec == "regions":
            if not regions:
                raise ValueError(f"{where}: 'regions' needs region letters in the map or a 'regions' dict")
            items = [{"at": name, "name": name} for name in sorted(regions)]
        elif isinstance(spec, (list, tuple)):
            items = list(spec)
        else:
            raise TypeError(f"{where}: expected 'cells', 'regions' or a list of goals, got {spec!r}")
        if not items:
            raise ValueError(f"{where}: no goals")
        parsed = [_one_goal(it, layout, regions, where) for it in items]
        given = [w is not None for _, _, w in parsed]
        if any(given) and not all(given):
            raise ValueError(f"{where}: give a weight for every goal or for none (then each gets 1/{len(parsed)})")
        if not any(given):
            parsed = [(c, n, 1.0 / len(parsed)) for c, n, _ in parsed]
        if sum(w for _, _, w in parsed) <= 0:
            raise ValueError(f"{where}: the goal weights sum to 0; every human needs a goal with weight > 0")
        return [Goal(n, c, w) for c, n, w in parsed]

    if isinstance(goals, dict):
        bad = [k for k in goals if k != "*" and not (_is_int(k) or (isinstance(k, str) and k.isdigit()))]
        if bad:
            raise ValueError(f"goals: keys must be human indices or '*', got {bad}")
        spec = {int(k): v for k, v in goals.items() if k != "*"}
        out_of_range = [k for k in spec if not 0 <= k < n_humans]
        if out_of_range:
            raise ValueError(f"goals: human index {out_of_range[0]} out of range (the map has {n_humans} humans)")
        default = goals.get("*")
        return [for_human(spec.get(h, default), h) for h in range(n_humans)]
    return [for_human(goals, h) for h in range(n_humans)]
