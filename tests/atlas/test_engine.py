"""The atlas on a real 2-worker LocalCluster: a worker killed mid-run loses nothing, values equal the
serial run, and a rerun computes 0 new cells."""
import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

from empo_tabular.atlas import load_atlas, parse_spec, run_atlas
from empo_tabular.atlas.cells import enumerate_groups
from empo_tabular.atlas.store import part_files

SPEC = {
    "name": "engine-test",
    "betas": [0.5, 2.0, 5.0, 20.0, 50.0, 100.0],
    "modes": ["expected", "sampled"],
    "seeds": 2,
    "schemes": ["equal_fast", "u_r_fast", "update_freq_5to1"],
    "schemes_sampled": ["equal_fast"],
    "expected": {"n_steps": 100},
    "sampled": {"sweeps": 30},
    "fixed_points": {"starts": 0},
    "worlds": [{"random": "tiny", "seed": 4, "n_states": 10, "n_goals": 2}],
}
TIMING = ["sa_seconds", "group_seconds", "group_cpu_seconds", "prediction_seconds"]


def _values(df):
    return df.drop(columns=TIMING).sort_values("cell_key").reset_index(drop=True)


@pytest.fixture(scope="module")
def serial_atlas(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    run = run_atlas(SPEC, out, engine="serial", progress=False, report=False)
    return out, run


def test_killed_worker_loses_nothing_and_matches_serial(tmp_path, serial_atlas):
    from distributed import Client, LocalCluster

    expected_keys = {c.key for g in enumerate_groups(parse_spec(SPEC)) for c in g.cells}
    n_groups = len(enumerate_groups(parse_spec(SPEC)))
    out = tmp_path / "dask"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        result = {}
        th = threading.Thread(target=lambda: result.update(run=run_atlas(SPEC, out, client, progress=False,
                                                                         report=False)))
        th.start()
        deadline = time.monotonic() + 120
        while not part_files(out) and time.monotonic() < deadline:
            time.sleep(0.02)
        parts_at_kill = len(part_files(out))
        pids = client.run(os.getpid)
        victim = sorted(pids.values())[0]
        os.kill(victim, signal.SIGKILL)
        th.join(timeout=240)
        assert not th.is_alive()
    assert 1 <= parts_at_kill < n_groups  # the kill really happened mid-run
    run = result["run"]
    assert run.n_computed == len(expected_keys)
    df = load_atlas(out)
    assert sorted(df["cell_key"]) == sorted(expected_keys)  # every cell exactly once
    serial = load_atlas(serial_atlas[0])
    pd.testing.assert_frame_equal(_values(df), _values(serial), check_exact=True)


def test_rerun_computes_no_new_cell(serial_atlas):
    out, first = serial_atlas
    assert first.n_computed == first.n_cells
    again = run_atlas(SPEC, out, engine="serial", progress=False, report=False)
    assert again.n_computed == 0 and again.n_done_before == first.n_cells
    assert len(load_atlas(out)) == first.n_cells


def test_load_atlas_columns(serial_atlas):
    df = load_atlas(serial_atlas[0])
    need = ["world", "beta_r", "scheme", "mode", "seed", "predicted_converges", "predicted_rate", "label",
            "converged", "steps_to_1e-3"] + [f"err_{t}" for t in ("Q_r", "pi_r", "V_h_e", "X_h", "U_r", "V_r")]
    assert set(need) <= set(df.columns)
    assert df["predicted_converges"].dtype == bool and df["converged"].dtype == bool
    assert np.all(df.loc[df["mode"] == "expected", "seed"] == 0)


def test_killed_client_resumes(tmp_path):
    """A client process killed mid-run leaves whole parts only; the next run computes exactly the rest."""
    import json
    import subprocess
    import sys

    out = tmp_path / "killed"
    code = ("import json, sys; from empo_tabular.atlas import run_atlas; "
            f"run_atlas(json.loads(sys.argv[1]), {str(out)!r}, engine='serial', progress=False, report=False)")
    proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(SPEC)], env=os.environ.copy())
    deadline = time.monotonic() + 120
    while not part_files(out) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    n_total = len({c.key for g in enumerate_groups(parse_spec(SPEC)) for c in g.cells})
    before = len(load_atlas(out))
    assert 0 < before < n_total  # killed mid-run
    run = run_atlas(SPEC, out, engine="serial", progress=False, report=False)
    assert run.n_done_before == before and run.n_computed == n_total - before
    assert len(load_atlas(out)) == n_total
