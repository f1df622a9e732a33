"""Command line: ``empo-tabular {demo, solve, sa, contraction, verify-reference, scenarios}``.

Every subcommand takes a *world*: the name of a built-in scenario (see
``empo-tabular scenarios``) or a world file written by ``world.save``.
User mistakes (a missing file, a bad parameter, a malformed world) are
reported in one line on stderr without a traceback.

Exit codes: 0 success; 1 the computation finished but failed its check
(a solver that did not converge, a reference comparison out of tolerance);
2 a usage error (bad arguments, missing or malformed input).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from .apps.warmup import warm_up_exact_kernels

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

PARAM_FLAGS = ("beta_h", "gamma_h", "beta_r", "gamma_r", "zeta", "xi", "eta", "terminal_v_r", "c_r")


class UsageError(Exception):
    """A user mistake: reported in one line, exit code 2."""


# ------------------------------------------------------------------ helpers
def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _horizon(text: str):
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


def _betas(text: str) -> list:
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


def _add_world_args(p: argparse.ArgumentParser, default: str | None = "door"):
    kw = {"nargs": "?", "default": default} if default else {}
    p.add_argument("world", metavar="WORLD", **kw,
                   help="built-in scenario name (see 'empo-tabular scenarios') or a world .npz file"
                        + (f" (default: {default})" if default else ""))
    p.add_argument("--horizon", type=_horizon, default=None,
                   help="scenarios only: 'none' = stationary, cyclic world (default); an integer = finite "
                        "horizon (acyclic, step counter in the state); 'default' = the scenario's suggestion")
    g = p.add_argument_group("EMPO parameters (override the scenario's suggested values)")
    for name in PARAM_FLAGS:
        g.add_argument(f"--{name.replace('_', '-')}", dest=name, type=_float, default=None, metavar="X")


def _load_world(args):
    """``(world, params, gridworld_or_None, label)`` from a scenario name or a world file."""
    from .core.params import EmpoParams
    from .worlds.scenarios import get_scenario, list_scenarios
    from .core.world import load_world

    target = args.world
    path = Path(target)
    if path.suffix == ".npz" or path.exists():
        if not path.exists():
            raise UsageError(f"world file not found: {path}")
        if args.horizon is not None:
            raise UsageError("--horizon applies to scenarios only; a world file fixes its own horizon")
        world = load_world(path)
        params, gw, label = EmpoParams(), None, path.name
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


def _solve(world, params, progress=False):
    from .exact.phase1 import solve_phase1
    from .exact.phase2 import solve_phase2

    t0 = time.perf_counter()
    prior = solve_phase1(world, params)
    t1 = time.perf_counter()
    sol = solve_phase2(world, prior, params, progress=progress)
    t2 = time.perf_counter()
    return prior, sol, t1 - t0, t2 - t1


def _action_names(gw, world):
    if gw is not None:
        try:
            return [" ".join(a) if isinstance(a, (tuple, list)) else str(a) for a in gw.robot_action_names()]
        except Exception:  # noqa: BLE001 - names are cosmetic
            pass
    return [f"a{i}" for i in range(world.n_ar)]


# ------------------------------------------------------------------ subcommands
def cmd_solve(args) -> int:
    from .io.results import save_result

    world, params, gw, label = _load_world(args)
    warm_up_exact_kernels()
    prior, sol, t1, t2 = _solve(world, params)
    s0 = world.initial_state
    names = _action_names(gw, world)
    kind = "acyclic (finite horizon)" if world.is_acyclic else "cyclic (stationary)"
    print(f"world {label}: {world.n_states} states, {kind}, {world.n_humans} human(s), n_ar={world.n_ar}, "
          f"n_ah={world.n_ah}, {world.n_goals} goal slot(s)")
    print(f"params: beta_r={params.beta_r:g} gamma_r={params.gamma_r:g} beta_h={params.beta_h:g} "
          f"gamma_h={params.gamma_h:g} zeta={params.zeta:g} xi={params.xi:g} eta={params.eta:g}")
    print(f"Phase 1: {t1 * 1e3:9.2f} ms  ({prior.method})")
    print(f"Phase 2: {t2 * 1e3:9.2f} ms  ({sol.method}, {sol.iterations} iterations, residual {sol.residual:.1e})")
    print(f"V_r(s0) = {sol.V_r[s0]:.10g}")
    print("pi_r(.|s0):")
    order = sorted(range(world.n_ar), key=lambda a: -sol.pi_r[s0, a])
    for a in order[: min(len(order), 10)]:
        print(f"  {names[a]:>16s}  {sol.pi_r[s0, a]:.6f}   Q_r = {sol.Q_r[s0, a]:.6g}")
    if args.save:
        out = Path(args.save)
        save_result(prior, out / "phase1_prior")
        save_result(sol, out / "phase2_solution")
        world.save(out / "world.npz")
        print(f"saved world, prior and solution to {out}/")
    return EXIT_OK if sol.converged else EXIT_FAILED


def _parse_sets(items) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise UsageError(f"--set expects FIELD=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value  # a bare string such as mode=sampled
    return out


def cmd_sa(args) -> int:
    from .io.results import save_result
    from .sa.engine import run_sa
    from .sa.config import SAConfig
    from .sa.diagnose import diagnose

    world, params, gw, label = _load_world(args)
    fields = {}
    if args.config:
        path = Path(args.config)
        if not path.exists():
            raise UsageError(f"config file not found: {path}")
        try:
            fields.update(json.loads(path.read_text()))
        except json.JSONDecodeError as exc:
            raise UsageError(f"config file {path} is not valid JSON: {exc}") from None
    fields.update({k: v for k, v in (("mode", args.mode), ("visit", args.visit)) if v is not None})
    fields.update(_parse_sets(args.set))
    config = SAConfig.from_dict(fields)
    warm_up_exact_kernels()
    prior, exact, _, _ = _solve(world, params)
    out = Path(args.out)
    ckpt = out / "sa_checkpoint.npz"
    res = run_sa(world, prior, params, config, args.steps, exact=exact, seed=args.seed, progress=not args.quiet,
                 checkpoint=ckpt if (args.checkpoint_every or args.resume) else None,
                 checkpoint_every=args.checkpoint_every or (args.steps // 20 if args.resume else None),
                 resume=args.resume)
    save_result(res, out / "sa_result")
    save_result(exact, out / "exact_solution")
    print(f"{res.n_steps} steps, {res.n_updates} state updates, {res.updates_per_second / 1e6:.2f} M updates/s")
    print("final sup-norm errors vs exact: " + ", ".join(f"{k} {v:.2e}" for k, v in res.final_errors().items()))
    print(diagnose(res, tol=args.tol))
    if args.plot:
        from .plotting.sa import plot_sa_errors

        fig = plot_sa_errors(res)
        fig.savefig(out / "sa_errors.png", dpi=120)
        print(f"figure: {out / 'sa_errors.png'}")
    print(f"saved to {out}/")
    return EXIT_OK


def cmd_contraction(args) -> int:
    from .apps.contraction_job import run_contraction_job
    from .exact.phase1 import solve_phase1

    world, params, gw, label = _load_world(args)
    if any(b < 0 or math.isnan(b) for b in args.betas):
        raise UsageError("betas must be >= 0")
    prior = solve_phase1(world, params)
    report = run_contraction_job(world, prior, params, args.betas, Path(args.out), maps=tuple(args.maps),
                                 progress=not args.quiet, with_sa_overlay=not args.no_sa, seed=args.seed)
    print(report.summary())
    print(f"report and figures written to {args.out}/")
    return EXIT_OK


def cmd_verify_reference(args) -> int:
    from .io.reference import compare_with_reference, load_reference_export

    path = Path(args.case)
    if not path.exists():
        raise UsageError(f"reference export not found: {path}")
    case = load_reference_export(path)
    warm_up_exact_kernels()
    rows = {num: compare_with_reference(case, num) for num in ("reference_fp16", "float64")}
    keys = sorted(set().union(*[r.keys() for r in rows.values()]))
    print(f"reference case {path.name}: {case.world.n_states} states; max |ours - reference| per array")
    print(f"  {'array':>18s}  {'reference_fp16':>15s}  {'float64':>12s}")
    for k in keys:
        print(f"  {k:>18s}  {rows['reference_fp16'].get(k, float('nan')):15.3e}  "
              f"{rows['float64'].get(k, float('nan')):12.3e}")
    worst = max(rows["reference_fp16"].values())
    ok = worst <= args.tol
    print(f"reference_fp16 numerics: worst deviation {worst:.3e} -> {'OK' if ok else 'FAIL'} (tol {args.tol:g})")
    return EXIT_OK if ok else EXIT_FAILED


def cmd_scenarios(args) -> int:
    from .worlds.scenarios import describe_scenario, get_scenario, list_scenarios, suggested_horizon

    if not args.name:
        for name in list_scenarios():
            first = describe_scenario(name).strip().splitlines()[0]
            print(f"{name:>14s}  {first}")
        print("\nshow one with: empo-tabular scenarios NAME [--plot FILE.png]")
        return EXIT_OK
    if args.name not in list_scenarios():
        raise UsageError(f"unknown scenario {args.name!r}; choose one of {', '.join(list_scenarios())}")
    gw, params = get_scenario(args.name)
    print(describe_scenario(args.name).strip())
    print()
    print(gw.render())
    print(f"\nstationary: {gw.world.n_states} states; suggested horizon {suggested_horizon(args.name)}; "
          f"suggested params beta_r={params.beta_r:g} gamma_r={params.gamma_r:g} gamma_h={params.gamma_h:g}")
    if args.plot:
        from .plotting import draw_map, save_figure

        ax = draw_map(gw, title=args.name)
        save_figure(ax.figure, args.plot)
        print(f"figure: {args.plot}")
    return EXIT_OK


def cmd_demo(args) -> int:
    from .apps.demo import run_demo

    run_demo(Path(args.out), quick=args.quick, seed=args.seed, progress=not args.quiet)
    return EXIT_OK


# ------------------------------------------------------------------ parser
def _add_atlas_parser(sub) -> None:
    p = sub.add_parser("atlas", help="the convergence atlas: SA vs the analyzer across worlds, beta_r, schemes, "
                                     "modes and seeds, on Dask",
                       description="Run every cell of SPEC (default: the bundled atlas, 2,448 cells in 48 tasks) on a Dask "
                                   "cluster, write Parquet parts under OUT/cells and the report OUT/atlas.md. Cells "
                                   "already under OUT/cells are skipped, so a rerun or --resume continues.")
    p.add_argument("spec", nargs="?", metavar="SPEC.toml",
                   help="atlas specification (default: empo_tabular/atlas/default_atlas.toml)")
    p.add_argument("--out", default="atlas_out", metavar="DIR", help="output folder (default atlas_out)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="address of an existing Dask scheduler, e.g. tcp://host:8786 (default: an embedded "
                        "LocalCluster with one single-threaded worker process per core)")
    p.add_argument("--workers", type=int, metavar="N", help="workers of the embedded LocalCluster (default: cores)")
    p.add_argument("--serial", action="store_true", help="no Dask: run the groups one by one in this process")
    p.add_argument("--resume", action="store_true",
                   help="continue a run in DIR (cells already written are skipped; a rerun does the same)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_atlas)


def cmd_atlas(args) -> int:
    """``empo-tabular atlas``: validate SPEC (exit 2 on a bad one), run, write atlas.md."""
    from .apps.atlas_job import run_atlas_job
    from .atlas import parse_spec

    spec = parse_spec(args.spec)  # a SpecError (ValueError) becomes one line and exit 2 in main()
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers}")
    run = run_atlas_job(spec, args.out, scheduler=args.scheduler, engine="serial" if args.serial else "dask",
                        n_workers=args.workers, progress=not args.no_progress)
    print(run.summary())
    print(f"wrote {Path(args.out) / 'atlas.md'}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__

    parser = argparse.ArgumentParser(
        prog="empo-tabular",
        description="Exact tabular EMPO solver: Phase 1 human prior, exact Phase 2 (Q_r, pi_r, V_h^e, X_h, U_r, "
                    "V_r), two-timescale stochastic approximation measured against it, and the contraction of "
                    "the coupled map versus beta_r.",
        epilog="Start with 'empo-tabular demo' (writes empo_out/report.md), or 'empo-tabular solve' to solve the "
               "embedded door world. Each subcommand has its own --help.",
    )
    parser.add_argument("--version", action="version", version=f"empo_tabular {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="the main job: exact solution, learning-rate experiments, contraction sweep "
                                    "and a report on the embedded door world",
                       description="Run everything on the embedded stationary door world and write figures, "
                                   "CSV/JSON data and report.md into --out.")
    p.add_argument("--out", default="empo_out", help="output folder (default: empo_out)")
    p.add_argument("--quick", action="store_true", help="fewer SA steps and betas (a smoke run)")
    p.add_argument("--seed", type=int, default=0, help="seed of every stochastic step (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("solve", help="exact Phase 1 + Phase 2; prints V_r(s0), pi_r(s0) and timings",
                       description="Solve Phase 1 and Phase 2 exactly and print V_r, pi_r at the initial state "
                                   "and the solve times (JIT compilation excluded).")
    _add_world_args(p)
    p.add_argument("--save", metavar="DIR", help="also save world, prior and solution (.npz + .json) into DIR")
    p.set_defaults(func=cmd_solve)

    p = sub.add_parser("sa", help="two-timescale SA on exact tables, traced against the exact solution",
                       description="Run two-timescale stochastic approximation (SAConfig) and compare every "
                                   "record with the exact solution. Any SAConfig field can be set with "
                                   "--set FIELD=VALUE (JSON values), e.g. --set lr_q_r=0.01 --set "
                                   "warmup_q_r_steps=1000.")
    _add_world_args(p)
    p.add_argument("--steps", type=int, default=200_000, help="SA steps (default 200000)")
    p.add_argument("--mode", choices=("expected", "sampled"), default=None, help="update mode (default expected)")
    p.add_argument("--visit", choices=("uniform", "sweep", "synchronous", "on_policy"), default=None,
                   help="which states are updated (default uniform)")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE", help="set an SAConfig field (repeatable)")
    p.add_argument("--config", metavar="FILE.json", help="SAConfig fields from a JSON file")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0); same seed, same bits")
    p.add_argument("--out", default="empo_out/sa", help="output folder (default empo_out/sa)")
    p.add_argument("--checkpoint-every", type=int, default=None, metavar="N",
                   help="write OUT/sa_checkpoint.npz every N steps")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUT/sa_checkpoint.npz; the final result is bit-identical to an "
                        "uninterrupted run")
    p.add_argument("--tol", type=float, default=1e-6, help="error counted as converged by the diagnosis")
    p.add_argument("--plot", action="store_true", help="save error-vs-step curves (sa_errors.png)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sa)

    p = sub.add_parser("contraction", help="contraction indicators of the coupled map versus beta_r",
                       description="Follow the fixed point from beta_r = 0, measure every contraction indicator "
                                   "of the reduced, Jacobi and Gauss-Seidel maps per beta_r, find the critical "
                                   "beta_r values and write the report (CSV/JSON) and figures.")
    _add_world_args(p)
    p.add_argument("--betas", type=_betas, default=_betas("log0:0.01:1000:20"),
                   help="beta_r values: comma list or log:LO:HI:N (log0: adds beta_r = 0); "
                        "default log0:0.01:1000:20")
    p.add_argument("--maps", nargs="+", default=["reduced", "jacobi", "gauss_seidel"],
                   choices=("reduced", "jacobi", "gauss_seidel"), help="maps to analyse")
    p.add_argument("--no-sa", action="store_true", help="skip the empirical SA runs on the ratio heat map")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="empo_out/contraction", help="output folder (default empo_out/contraction)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_contraction)

    p = sub.add_parser("verify-reference", help="compare with a reference export (FORMAT.md), both numerics",
                       description="Solve a reference export with float64 and with the reference's float16 "
                                   "storage emulated, and print the largest deviation per array.")
    p.add_argument("case", metavar="CASE.npz", help="reference export, e.g. ../shared/validation/trivial_br10.npz")
    p.add_argument("--tol", type=float, default=1e-10,
                   help="pass when every reference_fp16 deviation is at most this (default 1e-10)")
    p.set_defaults(func=cmd_verify_reference)

    p = sub.add_parser("scenarios", help="list the built-in gridworlds, or show one",
                       description="Without NAME: list the scenarios. With NAME: describe it and draw its map.")
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("--plot", metavar="FILE.png", help="also save a picture of the map")
    p.set_defaults(func=cmd_scenarios)
    _add_atlas_parser(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``empo-tabular`` script; returns the exit code."""
    from .exact.continuation import ConvergenceError
    from .exact.system import XhZeroError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except (UsageError, ValueError, TypeError, FileNotFoundError, XhZeroError) as exc:
        print(f"empo-tabular {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConvergenceError as exc:
        print(f"empo-tabular {args.command}: did not converge: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"empo-tabular {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
