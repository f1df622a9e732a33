"""Running an atlas: :func:`run_atlas` on Dask ``distributed`` (or serially, in process).

Engine
------
* ``client=None, scheduler=None`` (default): an embedded ``LocalCluster`` with one single-threaded
  worker *process* per core (``n_workers`` to change), closed at the end;
* ``scheduler="tcp://host:8786"``: connect to an existing cluster (e.g. one started by
  ``dask-jobqueue`` on SLURM, see the README section "Scaling the atlas");
* ``client=<distributed.Client>``: use that client (not closed);
* ``engine="serial"``: no Dask at all, groups run one after the other in this process (the
  reference the distributed runs are compared with).

One task per (world, beta_r) group (:func:`~empo_tabular.atlas.group.run_group`), so the exact solve,
the Jacobian, the prediction and the JIT are paid once per group.  A task writes its Parquet part
itself before it returns; a worker killed mid-task loses only that task, which the scheduler
reruns on another worker (``retries`` on top of the scheduler's own reassignment).  Cells already
present under ``DIR/cells`` are never recomputed (a rerun, ``resume``, or a restarted client).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

from ..core.progress import progress_bar
from .cells import enumerate_groups
from .spec import parse_spec
from .store import done_keys, log_run

ENGINES = ("dask", "serial")


@dataclass
class AtlasRun:
    """What one :func:`run_atlas` call did."""

    out: str
    n_cells: int
    n_done_before: int
    n_computed: int
    n_tasks: int
    seconds: float
    engine: str
    n_workers: int

    @property
    def cells_per_second(self) -> float:
        return self.n_computed / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        return (f"atlas: {self.n_cells} cells, {self.n_done_before} already done, {self.n_computed} computed in "
                f"{self.n_tasks} group tasks on {self.n_workers} worker(s) ({self.engine}) in {self.seconds:.1f} s "
                f"({self.cells_per_second:.2f} cells/s)")


def run_atlas(spec=None, out="atlas_out", client=None, *, scheduler: str | None = None, engine: str = "dask",
              n_workers: int | None = None, progress: bool = True, report: bool = True, figure_writer=None,
              retries: int = 3) -> AtlasRun:
    """Compute every cell of ``spec`` not yet under ``out/cells``, then write ``out/atlas.md``.

    Parameters
    ----------
    spec : path, dict, AtlasSpec or None
        The SPEC (None: the bundled default, :data:`~empo_tabular.atlas.spec.DEFAULT_SPEC`).
        Validated before anything runs.
    out : path
        Output folder (``cells/`` parts, ``atlas.md``, figures).
    client : distributed.Client, optional
        Run on this client.
    scheduler : str, optional
        Address of an existing scheduler.
    engine : {"dask", "serial"}
    n_workers : int, optional
        Workers of the embedded LocalCluster (default: the number of cores).
    progress : bool
        A progress bar counting cells (stderr, throttled).
    report : bool
        Write ``atlas.md`` (and figures through ``figure_writer``) at the end.
    figure_writer : callable, optional
        ``figure_writer(df, out_dir) -> list of (file name, caption)``; the app layer passes
        :func:`empo_tabular.plotting.atlas.write_atlas_figures`.
    retries : int
        Extra attempts per group task.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    sp = parse_spec(spec)
    spec_dict = sp.to_dict()
    os.makedirs(out, exist_ok=True)
    groups = enumerate_groups(sp)
    total = sum(len(g.cells) for g in groups)
    done = done_keys(out)
    n_before = sum(1 for g in groups for c in g.cells if c.key in done)
    todo = [g for g in groups if any(c.key not in done for c in g.cells)]
    t0 = time.perf_counter()
    computed = 0
    workers = 1
    bar = progress_bar(total - n_before, "atlas", "cell", enabled=progress)
    if engine == "serial":
        from .group import run_group

        for g in todo:
            res = run_group(g, spec_dict, frozenset(c.key for c in g.cells if c.key in done), out)
            computed += res["n_cells"]
            bar.update(res["n_cells"])
    elif todo:
        own_cluster = None
        from distributed import Client, LocalCluster

        if client is None:
            if scheduler is not None:
                client = own_client = Client(scheduler)
            else:
                n = n_workers or os.cpu_count() or 1
                own_cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                           dashboard_address=":0")
                client = own_client = Client(own_cluster)
        else:
            own_client = None
        try:
            workers = max(1, len(client.scheduler_info().get("workers", {})))
            computed = _run_dask(client, todo, spec_dict, done, out, bar, retries)
        finally:
            if own_client is not None:
                own_client.close()
            if own_cluster is not None:
                own_cluster.close()
    bar.close()
    run = AtlasRun(str(out), total, n_before, computed, len(todo), time.perf_counter() - t0, engine, workers)
    log_run(out, run)
    if report:
        from .report import write_report
        from .store import load_atlas

        write_report(load_atlas(out), out, sp, run, figure_writer=figure_writer)
    return run


def _run_dask(client, groups, spec_dict, done, out, bar, retries) -> int:
    from distributed import as_completed

    from .group import run_group

    futures = []
    for g in groups:
        gdone = frozenset(c.key for c in g.cells if c.key in done)
        futures.append(client.submit(run_group, g, spec_dict, gdone, str(out), pure=False, retries=retries,
                                     key=f"atlas-group-{abs(hash((g.key, time.time_ns()))):x}"))
    computed = 0
    for fut in as_completed(futures):
        res = fut.result()
        computed += res["n_cells"]
        bar.update(res["n_cells"])
    return computed
