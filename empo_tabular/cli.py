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
import dataclasses
import json
import math
import re
import shlex
import sys
import time
from pathlib import Path

from .apps.demo import DEMO_GAMMA_R, DEMO_SCENARIO
from .apps.warmup import warm_up_exact_kernels
from .core.progress import end_line, note
from .core.params import EmpoParams
from .io.reference import PUBLIC_CASE
from .sa.config import SAConfig
from .worlds.scenarios import DEFAULT_SCENARIO

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
_NEGATIVE_VALUE = re.compile(r"^-(\d|\.\d|inf)", re.IGNORECASE)


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


def _add_world_args(p: argparse.ArgumentParser, default: str | None = DEFAULT_SCENARIO):
    kw = {"nargs": "?", "default": default} if default else {}
    p.add_argument("world", metavar="WORLD", **kw,
                   help="built-in scenario name (see 'empo-tabular scenarios') or a world .npz file"
                        + (f" (default: {default})" if default else ""))
    p.add_argument("--horizon", type=_horizon, default=None,
                   help="scenarios only: 'none' = stationary, cyclic world (default); an integer = finite "
                        "horizon (acyclic, step counter in the state); 'default' = the scenario's suggestion")
    g = p.add_argument_group("EMPO parameters (override the scenario's suggested values)",
                             "Default of each: the scenario's suggested value ('empo-tabular scenarios NAME' "
                             "shows them); for a world file, the EmpoParams default shown in brackets.")
    defaults = EmpoParams()
    for name in PARAM_FLAGS:
        g.add_argument(f"--{name.replace('_', '-')}", dest=name, type=_float, default=None, metavar="X",
                       help=f"{PARAM_MEANING[name]} [{getattr(defaults, name):g}]")


def _load_world(args):
    """``(world, params, gridworld_or_None, label)`` from a scenario name or a world file."""
    from .worlds.scenarios import get_scenario, list_scenarios
    from .core.world import load_world

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
def _strict(value):
    """A float for strict JSON: None for NaN and +-inf (the caller adds a flag saying which)."""
    return float(value) if math.isfinite(value) else None


def _solve_json(label, world, params, prior, sol, t1, t2, names) -> str:
    s0 = world.initial_state
    v = float(sol.V_r[s0])
    doc = {
        "world": label, "n_states": int(world.n_states), "acyclic": bool(world.is_acyclic),
        "initial_state": int(s0),
        "params": {k: _strict(getattr(params, k)) for k in PARAM_FLAGS},
        "params_infinite": [k for k in PARAM_FLAGS if math.isinf(getattr(params, k))],
        "V_r_s0": _strict(v), "V_r_s0_finite": math.isfinite(v),
        "pi_r_s0": {names[a]: float(sol.pi_r[s0, a]) for a in range(world.n_ar)},
        "Q_r_s0": {names[a]: _strict(sol.Q_r[s0, a]) for a in range(world.n_ar)},
        "phase1": {"converged": bool(prior.converged), "status": int(prior.status), "message": prior.message,
                   "method": prior.method, "iterations": int(prior.iterations), "residual": _strict(prior.residual),
                   "seconds": t1},
        "phase2": {"converged": bool(sol.converged), "status": int(sol.status), "message": sol.message,
                   "method": sol.method, "iterations": int(sol.iterations), "residual": _strict(sol.residual),
                   "seconds": t2},
    }
    return json.dumps(doc, indent=2, allow_nan=False)


def cmd_solve(args) -> int:
    from .io.results import save_result

    world, params, gw, label = _load_world(args)
    warm_up_exact_kernels()
    prior, sol, t1, t2 = _solve(world, params)
    s0 = world.initial_state
    names = _action_names(gw, world)
    if args.json:
        print(_solve_json(label, world, params, prior, sol, t1, t2, names))
        return EXIT_OK if sol.converged else EXIT_FAILED
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
    from .core.storage import atomic_write_text
    from .io.results import save_result
    from .sa.engine import run_sa
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
    atomic_write_text(out / "sa_trace.csv", res.trace_csv())
    print(f"{res.n_steps} steps, {res.n_updates} state updates, {res.updates_per_second / 1e6:.2f} M updates/s")
    print("final sup-norm errors vs exact: " + ", ".join(f"{k} {v:.2e}" for k, v in res.final_errors().items()))
    print(diagnose(res, tol=args.tol))
    if args.plot:
        from .plotting.sa import plot_sa_errors

        fig = plot_sa_errors(res)
        fig.savefig(out / "sa_errors.png", dpi=120)
        print(f"figure: {out / 'sa_errors.png'}")
    print(f"saved result, exact solution and trace (sa_trace.csv) to {out}/")
    return EXIT_OK


def cmd_contraction(args) -> int:
    from ._validation import check_betas
    from .apps.contraction_job import run_contraction_job
    from .exact.phase1 import solve_phase1

    world, params, gw, label = _load_world(args)
    try:
        check_betas(args.betas, "--betas")
    except ValueError as exc:
        raise UsageError(f"{exc} (beta_r is the robot power-law exponent, >= 0)") from None
    prior = solve_phase1(world, params)
    report = run_contraction_job(world, prior, params, args.betas, Path(args.out), maps=tuple(args.maps),
                                 progress=not args.quiet, with_sa_overlay=not args.no_sa, seed=args.seed)
    if args.quiet:  # with progress on, run_contraction_job has printed the summary already
        print(report.summary())
    print(f"report and figures written to {args.out}/")
    return EXIT_OK


def cmd_verify_reference(args) -> int:
    from .io.reference import compare_with_reference, load_reference_export

    path = Path(args.case) if args.case else PUBLIC_CASE
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


def cmd_score(args) -> int:
    """Score learned tables (LEARNED.npz, arrays named by Phase2Solution.FIELDS) against the exact solution."""
    import numpy as np

    from .core.conventions import FIELDS
    from .core.storage import atomic_write_text, dumps_strict
    from .exact.score import score

    path = Path(args.learned)
    if not path.exists():
        raise UsageError(f"learned file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            learned = {k: np.array(data[k]) for k in data.files}
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} is not a readable .npz file: {exc}") from None
    unknown = sorted(set(learned) - set(FIELDS))
    if unknown:
        raise UsageError(f"{path} holds {unknown[0]!r}, which is not a Phase 2 quantity; "
                         f"name the arrays {', '.join(FIELDS)}")
    if not learned:
        raise UsageError(f"{path} holds no arrays; name them {', '.join(FIELDS)}")
    world, params, gw, label = _load_world(args)
    warm_up_exact_kernels()
    prior, exact, _, _ = _solve(world, params)
    res = score(exact, learned, world=gw if gw is not None else world, prior=prior, tol=args.tol)
    print(f"world {label}: {world.n_states} states; scored {', '.join(res.errors)} from {path.name}")
    print(res.report)
    out = Path(args.out)
    atomic_write_text(out / "score.json", dumps_strict(res.to_dict()))
    atomic_write_text(out / "score_report.txt", res.report + "\n")
    if gw is not None:
        from .plotting.grid import save_figure
        from .plotting.score import plot_score_maps

        save_figure(plot_score_maps(gw, res), out / "score_maps.png")
    print(f"written: {out}/score.json, score_report.txt" + (", score_maps.png" if gw is not None else ""))
    if args.tol is None:
        return EXIT_OK
    return EXIT_OK if res.converged else EXIT_FAILED


def _add_score_parser(sub) -> None:
    p = sub.add_parser("score", help="score learned tables (LEARNED.npz) against the exact solution",
                       description="Solve WORLD exactly and compare the arrays of LEARNED.npz (named Q_r, pi_r, "
                                   "V_h_e, X_h, U_r, V_r; any subset) with the exact ones: sup, mean and "
                                   "visitation-weighted errors, TV and KL for pi_r, the V_r(s0) gap and the worst "
                                   "states. Writes score.json, score_report.txt and (gridworlds) score_maps.png.")
    _add_world_args(p, default=None)
    p.add_argument("learned", metavar="LEARNED.npz", help="learned arrays named by the Phase 2 fields")
    p.add_argument("--out", default="empo_out/score", help="output folder (default empo_out/score)")
    p.add_argument("--tol", type=_float, default=None,
                   help="exit 1 unless every sup error is <= TOL (default: no check, exit 0)")
    p.set_defaults(func=cmd_score)


# ------------------------------------------------------------------ parser
def _add_atlas_parser(sub) -> None:
    p = sub.add_parser("atlas", help="the convergence atlas: SA vs the analyzer across worlds, beta_r, schemes, "
                                     "modes and seeds, on Dask",
                       description="Run every cell of SPEC (default: the bundled atlas, 2,448 cells in 48 tasks) "
                                   "on a Dask cluster, write Parquet parts under OUT/cells and the report OUT/atlas.md. Cells "
                                   "already under OUT/cells are skipped, so a rerun or --resume continues.")
    p.add_argument("spec", nargs="?", metavar="SPEC.toml",
                   help="atlas specification (default: empo_tabular/atlas/default_atlas.toml)")
    p.add_argument("--out", default="atlas_out", metavar="DIR", help="output folder (default atlas_out)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="address of an existing Dask scheduler, e.g. tcp://host:8786 (default: an embedded "
                        "LocalCluster with one single-threaded worker process per core)")
    p.add_argument("--workers", type=int, metavar="N", help="workers of the embedded LocalCluster (default: cores)")
    p.add_argument("--serial", action="store_true",
                   help="no Dask: run the groups one by one in this process (default: off, a LocalCluster with "
                        "one single-threaded worker process per core, or --scheduler)")
    p.add_argument("--resume", action="store_true",
                   help="continue a run in DIR (cells already written are skipped; a rerun does the same; "
                        "default: off)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (default: a bar counting cells on stderr)")
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
        epilog=f"Start with 'empo-tabular demo' (the '{DEMO_SCENARIO}' world; writes empo_out/report.md), or "
               f"'empo-tabular solve' (the '{DEFAULT_SCENARIO}' world unless WORLD is given). Each subcommand has "
               f"its own --help. Progress bars go to stderr, results to stdout.",
    )
    parser.add_argument("--version", action="version", version=f"empo_tabular {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help=f"the main job: exact solution, learning-rate experiments, contraction sweep "
                                    f"and a report on the '{DEMO_SCENARIO}' world",
                       description=f"Run everything on the stationary '{DEMO_SCENARIO}' gridworld with "
                                   f"gamma_r = {DEMO_GAMMA_R:g} and write figures, CSV/JSON data and report.md "
                                   f"into --out.")
    p.add_argument("--out", default="empo_out", help="output folder (default: empo_out)")
    p.add_argument("--quick", action="store_true", help="fewer SA steps and betas, a smoke run (default: off)")
    p.add_argument("--seed", type=int, default=0, help="seed of every stochastic step (default: 0)")
    p.add_argument("--quiet", action="store_true", help="no progress output (default: off)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("solve", help="exact Phase 1 + Phase 2; prints V_r(s0), pi_r(s0) and timings",
                       description="Solve Phase 1 and Phase 2 exactly and print V_r, pi_r at the initial state "
                                   "and the solve times (JIT compilation excluded).")
    _add_world_args(p)
    p.add_argument("--save", metavar="DIR",
                   help="also save world, prior and solution (.npz + .json) into DIR (default: not saved)")
    p.add_argument("--json", action="store_true",
                   help="print one strict JSON object instead of text: V_r(s0), pi_r(s0) and Q_r(s0) by action "
                        "name, status fields and seconds of both phases (default: text)")
    p.set_defaults(func=cmd_solve)

    fields = ", ".join(f"{f.name}={json.dumps(f.default)}" for f in dataclasses.fields(SAConfig))
    p = sub.add_parser("sa", help="two-timescale SA on exact tables, traced against the exact solution",
                       description="Run two-timescale stochastic approximation (SAConfig) and compare every "
                                   "record with the exact solution. Any SAConfig field can be set with "
                                   "--set FIELD=VALUE (JSON values), e.g. --set lr_q_r=0.01 --set "
                                   "warmup_q_r_steps=1000. Writes sa_result.npz/.json, exact_solution.npz/.json "
                                   "and the trace as sa_trace.csv into --out.",
                       epilog=f"SAConfig fields for --set, with their defaults: {fields}. "
                              f"Meanings: help(empo_tabular.SAConfig).")
    _add_world_args(p)
    p.add_argument("--steps", type=int, default=200_000, help="SA steps (default: 200000)")
    p.add_argument("--mode", choices=("expected", "sampled"), default=None,
                   help="update mode: full expectations or sampled targets (default: SAConfig's, expected)")
    p.add_argument("--visit", choices=("uniform", "sweep", "synchronous", "on_policy"), default=None,
                   help="which states a step updates (default: SAConfig's, uniform)")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="set an SAConfig field, repeatable; the fields are listed below (default: none)")
    p.add_argument("--config", metavar="FILE.json",
                   help="SAConfig fields from a JSON object; --mode, --visit and --set override it (default: none)")
    p.add_argument("--seed", type=int, default=0, help="seed; same seed, same bits (default: 0)")
    p.add_argument("--out", default="empo_out/sa", help="output folder (default: empo_out/sa)")
    p.add_argument("--checkpoint-every", type=int, default=None, metavar="N",
                   help="write OUT/sa_checkpoint.npz every N steps (default: no checkpoint)")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUT/sa_checkpoint.npz; the final result is bit-identical to an "
                        "uninterrupted run (default: start afresh)")
    p.add_argument("--tol", type=float, default=1e-6,
                   help="sup-norm error below which the diagnosis calls a table converged (default: 1e-6)")
    p.add_argument("--plot", action="store_true", help="also save error-vs-step curves, sa_errors.png (default: off)")
    p.add_argument("--quiet", action="store_true", help="no progress bar (default: bar on stderr)")
    p.set_defaults(func=cmd_sa)

    p = sub.add_parser("contraction", help="contraction indicators of the coupled map versus beta_r",
                       description="Follow the fixed point from beta_r = 0, measure every contraction indicator "
                                   "of the reduced, Jacobi and Gauss-Seidel maps per beta_r, find the critical "
                                   "beta_r values and write the report (CSV/JSON) and figures.")
    _add_world_args(p)
    p.add_argument("--betas", type=_betas, default=_betas("log0:0.01:1000:20"),
                   help="beta_r values: comma list (--betas=0,1,10) or log:LO:HI:N (N log-spaced values; "
                        "log0: adds beta_r = 0) (default: log0:0.01:1000:20)")
    p.add_argument("--maps", nargs="+", default=["reduced", "jacobi", "gauss_seidel"],
                   choices=("reduced", "jacobi", "gauss_seidel"),
                   help="maps to analyse (default: reduced jacobi gauss_seidel)")
    p.add_argument("--no-sa", action="store_true",
                   help="skip the empirical SA runs on the ratio heat map (default: run them)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the random starts (fixed-point search, sampled bounds) and the SA runs (default: 0)")
    p.add_argument("--out", default="empo_out/contraction", help="output folder (default: empo_out/contraction)")
    p.add_argument("--quiet", action="store_true", help="no progress bar (default: bar on stderr)")
    p.set_defaults(func=cmd_contraction)

    p = sub.add_parser("verify-reference",
                       help="compare with a reference export (docs/REFERENCE_FORMAT.md), both numerics",
                       description="Solve a reference export with float64 and with the reference's float16 "
                                   "storage emulated, and print the largest deviation per array.")
    p.add_argument("case", metavar="CASE.npz", nargs="?", default=None,
                   help=f"reference export (default: the public case shipped in the package, {PUBLIC_CASE.name})")
    p.add_argument("--tol", type=float, default=1e-10,
                   help="pass when every reference_fp16 deviation is at most this (default: 1e-10)")
    p.set_defaults(func=cmd_verify_reference)

    p = sub.add_parser("scenarios", help="list the built-in gridworlds, or show one",
                       description="Without NAME: list the scenarios. With NAME: describe it and draw its map.")
    p.add_argument("name", nargs="?", metavar="NAME", help="scenario to show (default: list them all)")
    p.add_argument("--plot", metavar="FILE.png", help="also save a picture of the map (default: none)")
    p.set_defaults(func=cmd_scenarios)
    _add_score_parser(sub)
    _add_atlas_parser(sub)
    return parser


def _join_negative_values(argv: list) -> list:
    """``--betas -1,2`` -> ``--betas=-1,2``: argparse would read a value such as -1,2 or -1e-10 as an option."""
    out = []
    for tok in argv:
        if out and out[-1].startswith("--") and "=" not in out[-1] and _NEGATIVE_VALUE.match(tok):
            out[-1] = f"{out[-1]}={tok}"  # (after a flag without value it is an error either way)
        else:
            out.append(tok)
    return out



def _resume_hint(args, argv: list) -> str:
    """What to run after Ctrl-C: the same command with --resume, if a checkpoint was written."""
    if getattr(args, "command", None) != "sa":
        return ""
    ckpt = Path(args.out) / "sa_checkpoint.npz"
    if not ckpt.exists():
        return "no checkpoint was written (add --checkpoint-every N to make a run resumable)"
    cmd = [a for a in argv if a != "--resume"]
    if not args.checkpoint_every:
        cmd += ["--checkpoint-every", str(max(1, args.steps // 20))]
    return f"checkpoint {ckpt} kept; resume with: empo-tabular {shlex.join(cmd)} --resume"


def main(argv=None) -> int:
    """Entry point of the ``empo-tabular`` script; returns the exit code."""
    from .exact.continuation import ConvergenceError
    from .exact.system import XhZeroError

    argv = _join_negative_values(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except (UsageError, ValueError, TypeError, FileNotFoundError, XhZeroError) as exc:
        note(f"empo-tabular {args.command}: error: {exc}")
        return EXIT_USAGE
    except ConvergenceError as exc:
        note(f"empo-tabular {args.command}: did not converge: {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        end_line()
        note(f"empo-tabular {args.command}: interrupted")
        hint = _resume_hint(args, argv)
        if hint:
            note(hint)
        return 130


if __name__ == "__main__":
    sys.exit(main())
