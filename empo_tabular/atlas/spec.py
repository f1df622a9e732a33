"""The atlas SPEC: parsing, validation and the SA schemes it names.

A SPEC is a TOML file (or the equivalent dict) with these keys (all optional; the bundled
``default_atlas.toml`` shows every one):

``name``                 a label for the report
``betas``                beta_r values (each finite and >= 0)
``modes``                subset of ``["expected", "sampled"]``
``seeds``                seeds per sampled cell (expected mode is deterministic: 1 seed)
``init_noise``           relative noise on the cold-start Q_r (-1 times exp(noise U(-1, 1)), drawn from the
                         cell's seed; default 1e-6).  0 gives the exactly symmetric start Q_r = -1, which
                         can hide an unstable mode (two_trapped, beta_r = 300)
``schemes``              named schemes (:data:`NAMED_SCHEMES`) run in both modes
``schemes_sampled``      named schemes for the sampled mode (default: ``schemes``)
``[grid]``               ``a`` (evaluator steps) x ``kappa`` (lr_q_r / lr_evaluator); pairs with
                         ``kappa * a > 1`` are skipped (rates must be <= 1)
``[grid_sampled]``       the grid of the sampled mode (default: ``[grid]``)
``[expected]``           ``n_steps`` (synchronous sweeps), ``tol`` (on the Q_r sup error)
``[sampled]``            ``sweeps`` (steps = sweeps x non-terminal states), ``tol``,
                         ``fast_exponent``, ``slow_exponent`` (a_n ~ n^-fast, b_n ~ n^-slow; slow >
                         fast gives b_n / a_n -> 0), ``constant_fraction``
``[fixed_points]``       ``starts`` (multistart Newton runs on the reduced map; 0: not searched),
                         ``max_nq`` (searched only where n_q <= max_nq)
``[[worlds]]``           each one of ``{scenario = NAME}`` (``"all"``: every scenario),
                         ``{file = PATH}`` or ``{random = FAMILY, seed = N, n_states = .., ...}``

Every error is a :class:`SpecError` (a ``ValueError``) whose one-line message names the key.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MODES = ("expected", "sampled")
DEFAULT_SPEC = Path(__file__).with_name("default_atlas.toml")

#: name -> (evaluator step a, ratio kappa = lr_q_r / a, extra): the design note's schemes.
NAMED_SCHEMES = {
    "equal_slow": (0.1, 1.0, {}),
    "equal_fast": (1.0, 1.0, {}),
    "u_r_fast": (1.0, 0.1, {}),
    "q_r_fast": (0.1, 10.0, {}),
    "rates_5to1": (1.0, 0.2, {}),
    "update_freq_5to1": (1.0, 1.0, {"k": 5}),
    "staged_warmup": (1.0, 1.0, {"warmup": True}),
    "beta_ramp": (1.0, 1.0, {"ramp": True}),
    "target_interval_10": (1.0, 1.0, {"q_target": 10}),
}
RANDOM_KEYS = {"n_states": int, "n_humans": int, "n_actions": int, "n_goals": int, "branching": int,
               "concentration": float, "goal_density": float}


class SpecError(ValueError):
    """A bad SPEC: one line naming the key."""


@dataclass(frozen=True)
class Scheme:
    """One SA scheme: evaluator step ``a``, ratio ``kappa``, update frequency ``k``, Q_r target interval,
    staged warm-up and beta_r ramp flags."""

    name: str
    a: float
    kappa: float
    k: int = 1
    q_target: int = 1
    warmup: bool = False
    ramp: bool = False

    @property
    def linear_key(self) -> tuple:
        """Schemes with the same key have the same linearisation at the fixed point."""
        return (self.a, self.kappa, self.k, self.q_target)


def grid_scheme_name(a: float, kappa: float) -> str:
    return f"grid_a{a:g}_k{kappa:g}"


@dataclass(frozen=True)
class WorldSpec:
    """A world of the atlas: ``kind`` in scenario / file / random, with its arguments."""

    key: str
    kind: str
    args: tuple = ()

    def arg(self, name, default=None):
        return dict(self.args).get(name, default)


@dataclass(frozen=True)
class AtlasSpec:
    """A validated SPEC (see the module docstring)."""

    name: str
    worlds: tuple
    betas: tuple
    modes: tuple
    seeds: int
    schemes: tuple
    schemes_sampled: tuple
    expected: dict = field(default_factory=dict)
    sampled: dict = field(default_factory=dict)
    fixed_points: dict = field(default_factory=dict)
    source: str = ""
    init_noise: float = 1e-6

    def schemes_for(self, mode: str) -> tuple:
        return self.schemes if mode == "expected" else self.schemes_sampled

    def to_dict(self) -> dict:
        return {"name": self.name, "betas": list(self.betas), "modes": list(self.modes), "seeds": self.seeds,
                "worlds": [dict(w.args, key=w.key, kind=w.kind) for w in self.worlds],
                "schemes": [s.name for s in self.schemes], "schemes_sampled": [s.name for s in self.schemes_sampled],
                "expected": self.expected, "sampled": self.sampled, "fixed_points": self.fixed_points,
                "init_noise": self.init_noise}


def _num(value, key, *, low=None, low_open=False, integer=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"{key} must be a number, got {value!r}")
    if integer and (not isinstance(value, int)):
        raise SpecError(f"{key} must be an integer, got {value!r}")
    if not math.isfinite(value):
        raise SpecError(f"{key} must be finite, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise SpecError(f"{key} must be {'>' if low_open else '>='} {low:g}, got {value!r}")
    return value


def _list(d, key, default, name=None):
    v = d.get(name or key, default)
    if not isinstance(v, (list, tuple)):
        raise SpecError(f"{key} must be a list, got {v!r}")
    if len(v) == 0:
        raise SpecError(f"{key} is empty: give at least one value")
    return list(v)


def _section(d, key, known: dict) -> dict:
    sec = d.get(key, {})
    if not isinstance(sec, dict):
        raise SpecError(f"[{key}] must be a table, got {sec!r}")
    unknown = sorted(set(sec) - set(known))
    if unknown:
        raise SpecError(f"{key}.{unknown[0]}: unknown key; known: {sorted(known)}")
    out = {}
    for k, (default, low, low_open, integer) in known.items():
        out[k] = _num(sec.get(k, default), f"{key}.{k}", low=low, low_open=low_open, integer=integer)
    return out


EXPECTED_KEYS = {"n_steps": (300, 1, False, True), "tol": (1e-6, 0.0, True, False)}
SAMPLED_KEYS = {"sweeps": (100, 1, False, True), "tol": (1e-2, 0.0, True, False),
                "fast_exponent": (0.6, 0.5, True, False), "slow_exponent": (0.9, 0.5, True, False),
                "constant_fraction": (0.05, 0.0, False, False)}
FIXED_POINT_KEYS = {"starts": (4, 0, False, True), "max_nq": (200, 0, False, True)}
TOP_KEYS = {"name", "betas", "modes", "seeds", "init_noise", "schemes", "schemes_sampled", "grid", "grid_sampled", "expected",
            "sampled", "fixed_points", "worlds"}


def _worlds(raw) -> tuple:
    from ..worlds.scenarios import list_scenarios

    if not isinstance(raw, list) or not raw:
        raise SpecError("worlds is empty: give at least one [[worlds]] entry")
    out = []
    for i, w in enumerate(raw):
        where = f"worlds[{i}]"
        if not isinstance(w, dict):
            raise SpecError(f"{where} must be a table, got {w!r}")
        kinds = [k for k in ("scenario", "file", "random") if k in w]
        if len(kinds) != 1:
            raise SpecError(f"{where} must have exactly one of scenario, file, random; got keys {sorted(w)}")
        kind = kinds[0]
        if kind == "scenario":
            name = w["scenario"]
            names = list_scenarios() if name == "all" else [name]
            for n in names:
                if n not in list_scenarios():
                    raise SpecError(f"{where}.scenario: unknown world {n!r}; known: {list_scenarios()} or 'all'")
                out.append(WorldSpec(n, "scenario", (("name", n),)))
        elif kind == "file":
            path = Path(str(w["file"]))
            if not path.is_file():
                raise SpecError(f"{where}.file: world file not found: {path}")
            out.append(WorldSpec(str(w.get("key", path.stem)), "file", (("path", str(path.resolve())),)))
        else:
            family = w["random"]
            if not isinstance(family, str) or not family:
                raise SpecError(f"{where}.random must be a family name (a string), got {family!r}")
            args = {"family": family, "seed": _num(w.get("seed", 0), f"{where}.seed", low=0, integer=True)}
            for k, v in w.items():
                if k in ("random", "seed", "key"):
                    continue
                if k not in RANDOM_KEYS:
                    raise SpecError(f"{where}.{k}: unknown key; known: random, seed, key, {sorted(RANDOM_KEYS)}")
                args[k] = _num(v, f"{where}.{k}", low=0, low_open=True, integer=RANDOM_KEYS[k] is int)
            key = str(w.get("key", f"{family}_seed{args['seed']}"))
            out.append(WorldSpec(key, "random", tuple(sorted(args.items()))))
    keys = [w.key for w in out]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise SpecError(f"worlds: duplicate world key {dup[0]!r}; give a distinct 'key'")
    return tuple(out)


def _schemes(names, key, grid) -> tuple:
    out = []
    for n in names:
        if n not in NAMED_SCHEMES:
            raise SpecError(f"{key}: unknown scheme {n!r}; known: {sorted(NAMED_SCHEMES)}")
        a, kappa, extra = NAMED_SCHEMES[n]
        out.append(Scheme(n, a, kappa, **extra))
    return tuple(out) + grid


def _grid(raw, key) -> tuple:
    g = raw.get(key, {})
    if not isinstance(g, dict):
        raise SpecError(f"[{key}] must be a table, got {g!r}")
    unknown = sorted(set(g) - {"a", "kappa"})
    if unknown:
        raise SpecError(f"{key}.{unknown[0]}: unknown key; known: ['a', 'kappa']")
    if not g:
        return ()
    a_vals = [float(_num(a, f"{key}.a[{i}]", low=0.0, low_open=True))
              for i, a in enumerate(_list(g, f"{key}.a", [], "a"))]
    k_vals = [float(_num(k, f"{key}.kappa[{i}]", low=0.0, low_open=True))
              for i, k in enumerate(_list(g, f"{key}.kappa", [], "kappa"))]
    for i, a in enumerate(a_vals):
        if a > 1.0:
            raise SpecError(f"{key}.a[{i}] must be <= 1 (an SA rate), got {a!r}")
    grid = tuple(Scheme(grid_scheme_name(a, k), a, k) for a in a_vals for k in k_vals if k * a <= 1.0 + 1e-12)
    if not grid:
        raise SpecError(f"{key}: every (a, kappa) pair has kappa * a > 1 (rates must be <= 1): the grid is empty")
    return grid


def parse_spec(spec=None) -> AtlasSpec:
    """A validated :class:`AtlasSpec` from a TOML path, a dict, an AtlasSpec, or None (the bundled default)."""
    if isinstance(spec, AtlasSpec):
        return spec
    source = ""
    if spec is None:
        spec = DEFAULT_SPEC
    if isinstance(spec, (str, Path)):
        path = Path(spec)
        if not path.is_file():
            raise SpecError(f"SPEC file not found: {path}")
        try:
            with open(path, "rb") as fh:
                raw = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"SPEC {path} is not valid TOML: {exc}") from None
        source = str(path)
    elif isinstance(spec, dict):
        raw = spec
    else:
        raise SpecError(f"SPEC must be a TOML path, a dict or None, got {type(spec).__name__}")
    unknown = sorted(set(raw) - TOP_KEYS)
    if unknown:
        raise SpecError(f"{unknown[0]}: unknown key; known: {sorted(TOP_KEYS)}")
    betas = tuple(float(_num(b, f"betas[{i}]", low=0.0)) for i, b in enumerate(_list(raw, "betas", [1.0])))
    modes = tuple(_list(raw, "modes", list(MODES)))
    for m in modes:
        if m not in MODES:
            raise SpecError(f"modes: unknown mode {m!r}; known: {list(MODES)}")
    seeds = _num(raw.get("seeds", 5), "seeds", low=1, integer=True)
    grid = _grid(raw, "grid")
    grid_sampled = _grid(raw, "grid_sampled") if "grid_sampled" in raw else grid
    schemes = _schemes(_list(raw, "schemes", []) if "schemes" in raw else [], "schemes", grid)
    sampled_names = raw.get("schemes_sampled", None)
    named_sampled = ([s.name for s in schemes if not s.name.startswith("grid_")] if sampled_names is None
                     else _list(raw, "schemes_sampled", []))
    schemes_sampled = _schemes(named_sampled, "schemes_sampled", grid_sampled)
    if not schemes:
        raise SpecError("schemes: no scheme and no grid: the atlas would be empty")
    expected = _section(raw, "expected", EXPECTED_KEYS)
    sampled = _section(raw, "sampled", SAMPLED_KEYS)
    if sampled["constant_fraction"] > 1.0:
        raise SpecError(f"sampled.constant_fraction must be <= 1, got {sampled['constant_fraction']!r}")
    fixed_points = _section(raw, "fixed_points", FIXED_POINT_KEYS)
    name = raw.get("name", "atlas")
    if not isinstance(name, str):
        raise SpecError(f"name must be a string, got {name!r}")
    init_noise = float(_num(raw.get("init_noise", 1e-6), "init_noise", low=0.0))
    if init_noise > 0.1:
        raise SpecError(f"init_noise must be <= 0.1 (a relative perturbation), got {init_noise!r}")
    return AtlasSpec(name, _worlds(raw.get("worlds", [])), betas, modes, int(seeds), schemes, schemes_sampled,
                     expected, sampled, fixed_points, source, init_noise)
