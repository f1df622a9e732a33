"""Gridworld build benchmark: build time and states per second for 10^3 .. 10^6 states.

Run ``python benchmarks/bench_gridworld.py`` (``--quick`` stops at ~10^5
states).  JIT compilation is excluded: every configuration is built once
on a tiny map first.  Columns: states, rows (``S * n_ar * n_ah``),
stored transitions, the jitted enumeration, the rest of the build
(goals, ``TabularWorld`` validation, decoding), the total, and states per
second of the total.
"""
from __future__ import annotations

import argparse
import gc
import time


def room(w, h, humans=1, robots=1, extra=""):
    """A ``w x h`` open room with agents in the corners; ``extra`` is appended to the first row."""
    rows = [["."] * w for _ in range(h)]
    spots = [(0, 0), (w - 1, h - 1), (w - 1, 0), (0, h - 1), (w // 2, 0), (w // 2, h - 1)]
    for i in range(humans):
        x, y = spots[i]
        rows[y][x] = "H"
    for j in range(robots):
        x, y = spots[humans + j]
        rows[y][x] = "R"
    for k, ch in enumerate(extra):
        rows[h // 2][1 + 2 * k] = ch
    return ["#" * (w + 2)] + ["#" + "".join(r) + "#" for r in rows] + ["#" * (w + 2)]


CASES = [
    # name, map, build kwargs, quick
    ("room 6x6, 1H 1R, stationary", room(6, 6), dict(), True),
    ("room 10x10, 1H 1R, stationary", room(10, 10), dict(), True),
    ("room 4x4 + door + rock, 2H 1R, stat.", room(4, 4, 2, 1, "DB"), dict(), True),
    ("room 10x10, 1H 1R, horizon 10", room(10, 10), dict(horizon=10), True),
    ("room 7x7, 2H 1R, stationary", room(7, 7, 2, 1), dict(), True),
    ("room 7x7, 2H 1R, random order, slip", room(7, 7, 2, 1), dict(conflict="random", slip=0.1), False),
    ("room 12x12, 1H 1R, horizon 65", room(12, 12), dict(horizon=65), False),
]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the cases up to ~10^5 states")
    args = ap.parse_args(argv)
    from empo_tabular.worlds.gridworld import build_gridworld

    # warm-up: compile the kernels for both conflict modes and with/without doors
    for kw in (dict(), dict(conflict="random", slip=0.1), dict(horizon=2)):
        build_gridworld(room(2, 2, 1, 1, "D"), **kw)
    header = f"{'world':40s} {'states':>10s} {'rows':>12s} {'nnz':>12s} {'enum s':>8s} {'rest s':>8s} {'total s':>8s} {'states/s':>11s}"
    print(header)
    print("-" * len(header))
    for name, m, kw, quick in CASES:
        if args.quick and not quick:
            continue
        gc.collect()
        t0 = time.perf_counter()
        gw = build_gridworld(m, **kw)
        total = time.perf_counter() - t0
        w = gw.world
        bs = gw.build_seconds
        print(f"{name:40s} {w.n_states:10,d} {w.n_rows:12,d} {w.nnz:12,d} {bs['enumerate']:8.2f} "
              f"{total - bs['enumerate']:8.2f} {total:8.2f} {w.n_states / total:11,.0f}", flush=True)
        del gw, w


if __name__ == "__main__":
    main()
