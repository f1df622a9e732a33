"""Atlas benchmark: cells per second serially and on a 2-worker LocalCluster, and the scheduler's overhead.

Run ``python benchmarks/bench_atlas.py`` (``--workers N``, ``--noop N`` no-op tasks for the overhead).

1. The same SPEC (:data:`SPEC`: one random stationary 40-state world x 16 beta_r x 4 schemes in
   expected mode + 4 schemes x 5 seeds in sampled mode = 384 cells in 16 group tasks) runs
   serially in this process (``engine="serial"``) and on a fresh ``LocalCluster(n_workers, 1 thread,
   processes)``; before the timed run every worker computes one warm-up group, so JIT loading from
   the Numba cache and imports are excluded on both sides.  Printed: cells/s of each and the speed-up
   (goal >= 1.7x on 2 workers).
2. Scheduler overhead per task: ``--noop`` tasks that return immediately, submitted at once on the
   same cluster; (wall time) / (tasks) is the scheduler + transfer cost of one task with no work.
   With the measured mean group duration this gives the overhead fraction
   ``overhead / (overhead + task seconds)`` and the smallest task grain that keeps it under 5 %.

Timings are wall-clock on whatever else the machine runs; CPU seconds per group (``group_cpu_seconds``)
are printed too, since they do not depend on the load.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time

SPEC = {
    "name": "bench",
    "betas": [0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 50.0, 100.0, 150.0, 200.0, 300.0],
    "modes": ["expected", "sampled"],
    "seeds": 5,
    "schemes": ["equal_slow", "equal_fast", "u_r_fast", "update_freq_5to1"],
    "schemes_sampled": ["equal_slow", "equal_fast", "u_r_fast", "q_r_fast"],
    "expected": {"n_steps": 300},
    "sampled": {"sweeps": 250},
    "fixed_points": {"starts": 0},
    "worlds": [{"random": "bench", "seed": 7, "n_states": 40, "n_goals": 3}],
}
WARMUP = dict(SPEC, betas=[0.5])


def _noop(i):
    return i


def main(argv=None):
    from distributed import Client, LocalCluster

    from empo_tabular.atlas import load_atlas, run_atlas

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--noop", type=int, default=2000)
    args = ap.parse_args(argv)
    root = tempfile.mkdtemp(prefix="bench_atlas_")
    try:
        run_atlas(WARMUP, os.path.join(root, "warm"), engine="serial", progress=False, report=False)
        serial = run_atlas(SPEC, os.path.join(root, "serial"), engine="serial", progress=False, report=False)
        df = load_atlas(os.path.join(root, "serial"))
        groups = df.drop_duplicates(["world", "beta_r"])
        task_s, task_cpu = float(groups["group_seconds"].mean()), float(groups["group_cpu_seconds"].mean())
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          dashboard_address=":0") as cluster, Client(cluster) as client:
            warm = [client.submit(run_atlas, WARMUP, os.path.join(root, f"warm{i}"), None, engine="serial",
                                  progress=False, report=False, pure=False, workers=[w])
                    for i, w in enumerate(client.scheduler_info()["workers"])]
            client.gather(warm)
            dask = run_atlas(SPEC, os.path.join(root, "dask"), client, progress=False, report=False)
            t0 = time.perf_counter()
            client.gather(client.map(_noop, range(args.noop), pure=False))
            overhead = (time.perf_counter() - t0) / args.noop
    finally:
        shutil.rmtree(root, ignore_errors=True)
    speedup = dask.cells_per_second / serial.cells_per_second
    # per-task overhead as seen by one worker: the cluster runs `workers` tasks at a time
    per_task = overhead * args.workers
    grain_5pct = per_task * 19.0  # overhead / (overhead + t) <= 5 %  <=>  t >= 19 overhead
    out = {"cells": serial.n_cells, "tasks": serial.n_tasks, "serial_cells_per_s": serial.cells_per_second,
           "dask_cells_per_s": dask.cells_per_second, "workers": args.workers, "speedup": speedup,
           "mean_task_seconds": task_s, "mean_task_cpu_seconds": task_cpu,
           "noop_wall_per_task_s": overhead, "overhead_per_task_per_worker_s": per_task,
           "overhead_fraction_of_atlas_task": per_task / (per_task + task_s),
           "min_task_seconds_for_5pct_overhead": grain_5pct}
    print(f"serial: {serial.n_cells} cells in {serial.seconds:.1f} s = {serial.cells_per_second:.2f} cells/s")
    print(f"dask ({args.workers} workers): {dask.n_cells} cells in {dask.seconds:.1f} s = "
          f"{dask.cells_per_second:.2f} cells/s  -> speed-up {speedup:.2f}x (goal >= 1.7x)")
    print(f"group task: {task_s:.2f} s wall, {task_cpu:.2f} s CPU on average ({serial.n_cells // serial.n_tasks} cells)")
    print(f"scheduler: {args.noop} no-op tasks, {overhead * 1e3:.2f} ms wall each ({per_task * 1e3:.2f} ms per task "
          f"per worker) -> {100 * out['overhead_fraction_of_atlas_task']:.2f} % of an atlas task; tasks >= "
          f"{grain_5pct * 1e3:.0f} ms keep it under 5 %")
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
