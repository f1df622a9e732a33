"""The learning-rate note's five experiments on a stationary gridworld, at beta_r in {1, 10, 100}.

Runs Experiments 1-3 (equal rates, U_r pathway 10x faster, Q_r 10x faster),
update-frequency separation 5:1 and staged warm-up vs none with
two-timescale SA on exact tables (expected mode, synchronous sweeps, constant
rates 0.1 / 1.0; see ``empo_tabular.sa.experiments``), traces every run against
the exact solution, saves one PNG per experiment and prints a summary table.

Default world: the stationary ``shared_switch`` scenario (256 states, two
humans) with its parameters except ``gamma_r = 0.5``.  A small robot
discount makes |Q_r| small, so beta_r / |Q_r| - the power law's effective
sharpness - is large and the coupled map loses stability at beta_r = 100
(CONTRACTION_THEORY §2); at the scenario's own gamma_r = 0.9 every scheme
here converges at beta_r <= 100 (try ``--gamma-r 0.9``).

Run::

    python examples/lr_experiments.py [--out examples/out] [--scenario shared_switch] [--gamma-r 0.5]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from empo_tabular import solve_phase1  # noqa: E402
from empo_tabular.sa.experiments import DEFAULT_N_STEPS, EXPERIMENT_NAMES, format_summary, run_all, summarise  # noqa: E402
from empo_tabular.plotting.sa import plot_experiment  # noqa: E402
from empo_tabular.worlds.scenarios import get_scenario  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "out"), help="folder for the PNGs")
    ap.add_argument("--scenario", default="shared_switch", help="stationary scenario (empo_tabular.worlds.scenarios)")
    ap.add_argument("--gamma-r", type=float, default=0.5, help="robot discount (default 0.5, see above)")
    ap.add_argument("--n-steps", type=int, default=DEFAULT_N_STEPS, help="SA steps (sweeps) per run")
    ap.add_argument("--betas", type=float, nargs="+", default=[1.0, 10.0, 100.0])
    ap.add_argument("--quiet", action="store_true", help="no per-run lines")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    gw, params = get_scenario(args.scenario)
    params = params.replace(gamma_r=args.gamma_r)
    world = gw.world
    prior = solve_phase1(world, params)
    print(f"world {args.scenario!r}: {world.n_states} states, {world.n_humans} human(s), {world.n_ar} robot actions; "
          f"gamma_r={params.gamma_r:g}, gamma_h={params.gamma_h:g}; {args.n_steps} sweeps per run")
    results = run_all(world, prior, params, betas=args.betas, n_steps=args.n_steps, progress=not args.quiet,
                      world_name=f"{args.scenario} (stationary)")
    out = Path(args.out)
    for name in EXPERIMENT_NAMES:
        fig = plot_experiment(results[name], out / f"lr_{name}.png")
        plt.close(fig)
        print("saved", out / f"lr_{name}.png")
    print()
    print(format_summary(summarise([results[n] for n in EXPERIMENT_NAMES])))
    print(f"\ntotal {time.perf_counter() - t0:.1f} s (JIT compile or cache load included)")
    return results


if __name__ == "__main__":
    main()
