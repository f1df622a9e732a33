"""The subcommands solve, sa, contraction, verify-reference, scenarios and demo."""
from __future__ import annotations

import json
from pathlib import Path

from ..apps.warmup import warm_up_exact_kernels
from ..io.reference import PUBLIC_CASE
from ..sa.config import SAConfig
from .common import EXIT_FAILED, EXIT_OK, UsageError, action_names, load_world_arg, solve_both, solve_json


def cmd_solve(args) -> int:
    from ..io.results import save_result

    world, params, gw, label = load_world_arg(args)
    warm_up_exact_kernels()
    prior, sol, t1, t2 = solve_both(world, params)
    s0 = world.initial_state
    names = action_names(gw, world)
    if args.json:
        print(solve_json(label, world, params, prior, sol, t1, t2, names))
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


def parse_sets(items) -> dict:
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
    from ..core.storage import atomic_write_text
    from ..io.results import save_result
    from ..sa.engine import run_sa
    from ..sa.diagnose import diagnose

    world, params, gw, label = load_world_arg(args)
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
    fields.update(parse_sets(args.set))
    config = SAConfig.from_dict(fields)
    warm_up_exact_kernels()
    prior, exact, _, _ = solve_both(world, params)
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
        from ..plotting.sa import plot_sa_errors

        fig = plot_sa_errors(res)
        fig.savefig(out / "sa_errors.png", dpi=120)
        print(f"figure: {out / 'sa_errors.png'}")
    print(f"saved result, exact solution and trace (sa_trace.csv) to {out}/")
    return EXIT_OK


def cmd_contraction(args) -> int:
    from .._validation import check_betas
    from ..apps.contraction_job import run_contraction_job
    from ..exact.phase1 import solve_phase1

    world, params, gw, label = load_world_arg(args)
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
    from ..io.reference import compare_with_reference, load_reference_export

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
    from ..worlds.scenarios import describe_scenario, get_scenario, list_scenarios, suggested_horizon

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
        from ..plotting import draw_map, save_figure

        ax = draw_map(gw, title=args.name)
        save_figure(ax.figure, args.plot)
        print(f"figure: {args.plot}")
    return EXIT_OK


def cmd_demo(args) -> int:
    from ..apps.demo import run_demo

    run_demo(Path(args.out), quick=args.quick, seed=args.seed, progress=not args.quiet)
    return EXIT_OK
