"""Command line: ``empo-tabular {demo, solve, sa, contraction, verify-reference, scenarios, score, atlas}``.

The parser and ``main`` live here; the subcommands in :mod:`.commands` and :mod:`.score_atlas`, the shared
argument parsers and world loading in :mod:`.common`.

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
import shlex
import sys
from pathlib import Path

from ..apps.demo import DEMO_GAMMA_R, DEMO_SCENARIO
from ..core.progress import end_line, note
from ..io.reference import PUBLIC_CASE
from ..sa.config import SAConfig
from ..worlds.scenarios import DEFAULT_SCENARIO
from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, add_world_args, join_negative_values, parse_betas
from .commands import (cmd_contraction, cmd_demo, cmd_sa, cmd_scenarios, cmd_solve, cmd_verify_reference)
from .score_atlas import add_atlas_parser, add_score_parser

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    from .._version import __version__

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
    add_world_args(p)
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
    add_world_args(p)
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
    add_world_args(p)
    p.add_argument("--betas", type=parse_betas, default=parse_betas("log0:0.01:1000:20"),
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
    add_score_parser(sub)
    add_atlas_parser(sub)
    return parser






def resume_hint(args, argv: list) -> str:
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
    from ..exact.continuation import ConvergenceError
    from ..exact.system import XhZeroError

    argv = join_negative_values(list(sys.argv[1:] if argv is None else argv))
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
        hint = resume_hint(args, argv)
        if hint:
            note(hint)
        return 130
