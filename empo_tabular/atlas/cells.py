"""Cells of the atlas: enumeration, stable keys and seeds, and the per-(world, beta_r) groups.

A cell is ``(world, beta_r, scheme, mode, seed)``; its key is the string
``"world|beta_r|scheme|mode|seed"`` (beta_r written with ``repr`` so that it round-trips), and the SA
seed of the cell is a stable hash of that key (BLAKE2b, 8 bytes, top bit cleared), so a cell gives
the same bits on whichever worker, machine or rerun computes it.  Expected mode is deterministic
(synchronous sweeps, no draws): one seed (index 0); sampled mode has ``spec.seeds`` seeds.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .spec import AtlasSpec, Scheme, WorldSpec


def cell_key(world: str, beta_r: float, scheme: str, mode: str, seed: int) -> str:
    """The canonical key of a cell."""
    return f"{world}|{float(beta_r)!r}|{scheme}|{mode}|{int(seed)}"


def cell_seed(key: str) -> int:
    """The SA seed of a cell: the first 8 bytes of BLAKE2b(key), as an integer in [0, 2**63)."""
    h = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(h, "big") >> 1


@dataclass(frozen=True)
class Cell:
    world: str
    beta_r: float
    scheme: Scheme
    mode: str
    seed: int

    @property
    def key(self) -> str:
        return cell_key(self.world, self.beta_r, self.scheme.name, self.mode, self.seed)


@dataclass(frozen=True)
class Group:
    """The cells sharing one exact solution, Jacobian and prediction: one (world, beta_r)."""

    world: WorldSpec
    beta_r: float
    cells: tuple

    @property
    def key(self) -> str:
        return f"{self.world.key}|{self.beta_r!r}"


def enumerate_groups(spec: AtlasSpec) -> list:
    """All groups of the SPEC, worlds outer, beta_r inner; cells in (mode, scheme, seed) order."""
    groups = []
    for w in spec.worlds:
        for b in spec.betas:
            cells = []
            for mode in spec.modes:
                n_seeds = 1 if mode == "expected" else spec.seeds
                for s in spec.schemes_for(mode):
                    for seed in range(n_seeds):
                        cells.append(Cell(w.key, float(b), s, mode, seed))
            groups.append(Group(w, float(b), tuple(cells)))
    return groups


def n_cells(spec: AtlasSpec) -> int:
    return sum(len(g.cells) for g in enumerate_groups(spec))
