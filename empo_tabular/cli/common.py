"""Shared pieces of the command line: exit codes, parameter flags, argument parsers, world loading."""
from __future__ import annotations

import argparse
import math
import re
import time
from pathlib import Path

from ..core.storage import dumps_strict
from ..core.params import EmpoParams
from ..worlds.scenarios import DEFAULT_SCENARIO

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

PARAM_FLAGS = ("beta_h", "gamma_h", "beta_r", "gamma_r", "zeta", "xi", "eta", "terminal_v_r", "c_r")
PARAM_MEANING = {
    "beta_h": "human inverse temperature of the Phase 1 prior, >= 0 or inf",
    "gamma_h": "human discount, in (0, 1]; 1 only on acyclic worlds",
    "beta_r": "robot power-law exponent, >= 0 or inf",
    "gamma_r": "robot discount, in (0, 1]; 1 only on acyclic worlds",
    "zeta": "risk aversion in X_h = sum_g w V_h^e^zeta, > 0",
    "xi": "inter-human inequality aversion in U_r, > 0",
    "eta": "intertemporal inequality aversion in U_r, > 0",
    "terminal_v_r": "V_r at terminal states, < 0",
    "c_r": "weight of U_r in V_r = c_r U_r + E[Q_r], > 0",
}
NEGATIVE_VALUE = re.compile(r"^-(\d|\.\d|inf)", re.IGNORECASE)


class UsageError(Exception):
    """A user mistake: reported in one line, exit code 2."""


# ------------------------------------------------------------------ helpers
def parse_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def parse_horizon(text: str):
    if text.lower() in ("none", "stationary", "inf"):
        return None
    if text.lower() == "default":
        return "default"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"horizon must be an integer, 'default' or 'none', got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"horizon must be >= 1, got {value}")
    return value


def parse_betas(text: str) -> list:
    """``"0,0.1,1,10"`` or ``"log:1e-2:1e3:20"`` (20 log-spaced values, plus 0 if ``log0:``)."""
    import numpy as np

    try:
        if text.startswith(("log:", "log0:")):
            head, lo, hi, n = text.split(":")
            values = list(np.geomspace(float(lo), float(hi), int(n)))
            return ([0.0] if head == "log0" else []) + [float(v) for v in values]
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"betas must be a comma list (0,1,10) or log:LO:HI:N / log0:LO:HI:N, got {text!r}") from None


def add_world_args(p: argparse.ArgumentParser, default: str | None = DEFAULT_SCENARIO):
    kw = {"nargs": "?", "default": default} if default else {}
    p.add_argument("world", metavar="WORLD", **kw,
                   help="built-in scenario name (see 'empo-tabular scenarios') or a world .npz file"
                        + (f" (default: {default})" if default else ""))
    p.add_argument("--horizon", type=parse_horizon, default=None,
                   help="scenarios only: 'none' = stationary, cyclic world (default); an integer = finite "
                        "horizon (acyclic, step counter in the state); 'default' = the scenario's suggestion")
    g = p.add_argument_group("EMPO parameters (override the scenario's suggested values)",
                             "Default of each: the scenario's suggested value ('empo-tabular scenarios NAME' "
                             "shows them); for a world file, the EmpoParams default shown in brackets.")
    defaults = EmpoParams()
    for name in PARAM_FLAGS:
        g.add_argument(f"--{name.replace('_', '-')}", dest=name, type=parse_float, default=None, metavar="X",
                       help=f"{PARAM_MEANING[name]} [{getattr(defaults, name):g}]")


def load_world_arg(args):
    """``(world, params, gridworld_or_None, label)`` from a scenario name or a world file."""
    from ..worlds.scenarios import get_scenario, list_scenarios
    from ..core.world import load_world

    target = args.world
    path = Path(target)
    if path.suffix == ".npz" or path.exists():
        if not path.exists():
            raise UsageError(f"world file not found: {path}")
        if args.horizon is not None:
            raise UsageError("--horizon applies to scenarios only; a world file fixes its own horizon")
        world, saved = load_world(path, with_params=True)  # a world file carries the parameters it was saved with
        params, gw, label = saved or EmpoParams(), None, path.name
    else:
        if target not in list_scenarios() and target != "default":
            raise UsageError(f"unknown scenario {target!r}; choose one of {', '.join(list_scenarios())} "
                             f"or give a world .npz file")
        gw, params = get_scenario(target, horizon=args.horizon)
        world, label = gw.world, target
    changes = {k: getattr(args, k) for k in PARAM_FLAGS if getattr(args, k, None) is not None}
    if changes:
        params = params.replace(**changes)
    return world, params, gw, label


def solve_both(world, params, progress=False):
    from ..exact.phase1 import solve_phase1
    from ..exact.phase2 import solve_phase2

    t0 = time.perf_counter()
    prior = solve_phase1(world, params)
    t1 = time.perf_counter()
    sol = solve_phase2(world, prior, params, progress=progress)
    t2 = time.perf_counter()
    return prior, sol, t1 - t0, t2 - t1


def action_names(gw, world):
    if gw is not None:
        try:
            return [" ".join(a) if isinstance(a, (tuple, list)) else str(a) for a in gw.robot_action_names()]
        except Exception:  # noqa: BLE001 - names are cosmetic
            pass
    return [f"a{i}" for i in range(world.n_ar)]


# ------------------------------------------------------------------ subcommands
def solve_json(label, world, params, prior, sol, t1, t2, names) -> str:
    """``solve --json``: strict JSON (core.storage.dumps_strict), with flags naming the non-finite values."""
    s0 = world.initial_state
    v = float(sol.V_r[s0])
    doc = {
        "world": label, "n_states": int(world.n_states), "acyclic": bool(world.is_acyclic),
        "initial_state": int(s0),
        "params": {k: float(getattr(params, k)) for k in PARAM_FLAGS},
        "params_infinite": [k for k in PARAM_FLAGS if math.isinf(getattr(params, k))],
        "V_r_s0": float(v), "V_r_s0_finite": math.isfinite(v),
        "pi_r_s0": {names[a]: float(sol.pi_r[s0, a]) for a in range(world.n_ar)},
        "Q_r_s0": {names[a]: float(sol.Q_r[s0, a]) for a in range(world.n_ar)},
        "phase1": {"converged": bool(prior.converged), "status": int(prior.status), "message": prior.message,
                   "method": prior.method, "iterations": int(prior.iterations), "residual": float(prior.residual),
                   "seconds": t1},
        "phase2": {"converged": bool(sol.converged), "status": int(sol.status), "message": sol.message,
                   "method": sol.method, "iterations": int(sol.iterations), "residual": float(sol.residual),
                   "seconds": t2},
    }
    return dumps_strict(doc, indent=2)  # non-finite values: null, listed under "nonfinite"


def join_negative_values(argv: list) -> list:
    """``--betas -1,2`` -> ``--betas=-1,2``: argparse would read a value such as -1,2 or -1e-10 as an option."""
    out = []
    for tok in argv:
        if out and out[-1].startswith("--") and "=" not in out[-1] and NEGATIVE_VALUE.match(tok):
            out[-1] = f"{out[-1]}={tok}"  # (after a flag without value it is an error either way)
        else:
            out.append(tok)
    return out
