"""The subcommands score (learned tables vs the exact ones) and atlas (the convergence atlas)."""
from __future__ import annotations

from pathlib import Path

from ..apps.warmup import warm_up_exact_kernels
from .common import EXIT_FAILED, EXIT_OK, UsageError, add_world_args, load_world_arg, parse_float, solve_both


def cmd_score(args) -> int:
    """Score learned tables (LEARNED.npz, arrays named by Phase2Solution.FIELDS) against the exact solution."""
    import numpy as np

    from ..core.conventions import FIELDS
    from ..core.storage import atomic_write_text, dumps_strict
    from ..exact.score import score

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
    world, params, gw, label = load_world_arg(args)
    warm_up_exact_kernels()
    prior, exact, _, _ = solve_both(world, params)
    res = score(exact, learned, world=gw if gw is not None else world, prior=prior, tol=args.tol)
    print(f"world {label}: {world.n_states} states; scored {', '.join(res.errors)} from {path.name}")
    print(res.report)
    out = Path(args.out)
    atomic_write_text(out / "score.json", dumps_strict(res.to_dict()))
    atomic_write_text(out / "score_report.txt", res.report + "\n")
    if gw is not None:
        from ..plotting.grid import save_figure
        from ..plotting.score import plot_score_maps

        save_figure(plot_score_maps(gw, res), out / "score_maps.png")
    print(f"written: {out}/score.json, score_report.txt" + (", score_maps.png" if gw is not None else ""))
    if args.tol is None:
        return EXIT_OK
    return EXIT_OK if res.converged else EXIT_FAILED


def add_score_parser(sub) -> None:
    p = sub.add_parser("score", help="score learned tables (LEARNED.npz) against the exact solution",
                       description="Solve WORLD exactly and compare the arrays of LEARNED.npz (named Q_r, pi_r, "
                                   "V_h_e, X_h, U_r, V_r; any subset) with the exact ones: sup, mean and "
                                   "visitation-weighted errors, TV and KL for pi_r, the V_r(s0) gap and the worst "
                                   "states. Writes score.json, score_report.txt and (gridworlds) score_maps.png.")
    add_world_args(p, default=None)
    p.add_argument("learned", metavar="LEARNED.npz", help="learned arrays named by the Phase 2 fields")
    p.add_argument("--out", default="empo_out/score", help="output folder (default empo_out/score)")
    p.add_argument("--tol", type=parse_float, default=None,
                   help="exit 1 unless every sup error is <= TOL (default: no check, exit 0)")
    p.set_defaults(func=cmd_score)


# ------------------------------------------------------------------ parser
def add_atlas_parser(sub) -> None:
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
    from ..apps.atlas_job import run_atlas_job
    from ..atlas import parse_spec

    spec = parse_spec(args.spec)  # a SpecError (ValueError) becomes one line and exit 2 in main()
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers}")
    run = run_atlas_job(spec, args.out, scheduler=args.scheduler, engine="serial" if args.serial else "dask",
                        n_workers=args.workers, progress=not args.no_progress)
    print(run.summary())
    print(f"wrote {Path(args.out) / 'atlas.md'}")
    return EXIT_OK
