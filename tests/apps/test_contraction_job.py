"""SA on every cell of the predicted region: one labelled run per runnable cell, the agreement count."""
import numpy as np
import pytest

from empo_tabular import EmpoParams, solve_phase1
from empo_tabular.apps.contraction_job import region_agreement, run_contraction_job
from empo_tabular.worlds.random_worlds import random_world

PARAMS = EmpoParams(beta_h=5.0, gamma_h=0.9, gamma_r=0.5, zeta=2.0, xi=1.0, eta=1.1, beta_r=3.0)


def test_region_agreement_counts_constructed_cells():
    runs = [{"ran": True, "agrees": True}, {"ran": True, "agrees": False}, {"ran": True, "agrees": None},
            {"ran": False, "agrees": None}, {"ran": True, "agrees": True}]
    assert region_agreement(runs) == {"agree": 2, "counted": 3, "ran": 4, "cells": 5, "unmeasurable": 1,
                                      "not_run": 1}
    assert region_agreement([]) == {"agree": 0, "counted": 0, "ran": 0, "cells": 0, "unmeasurable": 0,
                                    "not_run": 0}


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    w = random_world(7, n_goals=2, n_actions=2, seed=11)
    out = tmp_path_factory.mktemp("job")
    rep = run_contraction_job(w, solve_phase1(w, PARAMS), PARAMS, [0.0, 100.0], out, maps=("reduced", "jacobi"),
                              progress=False, options=dict(picard_steps=20, n_samples=5, adversarial=False),
                              n_fixed_point_starts=0, sa_steps=60, sa_max_steps=120, a_values=(0.1, 1.0),
                              kappa_values=(0.5, 3.0), region_beta=100.0)
    return rep, out


def test_every_cell_has_a_run_or_says_why_not(job):
    rep, out = job
    runs = rep.sa_runs
    assert [(r["i"], r["j"]) for r in runs] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    rho = np.asarray(rep.region["rho_pred"])
    for r in runs:
        assert r["rho_pred"] == rho[r["i"], r["j"]]  # the cell's own prediction, not the nearest grid point
        if r["kappa"] * r["a"] > 1:
            assert not r["ran"] and r["label"] is None and "exceeds 1" in r["reason"]
        else:
            assert r["ran"] and r["label"] in ("converged", "converging", "oscillating", "diverging", "plateau")
            assert 60 <= r["n_steps"] <= 120
            if r["agrees"] is not None:
                assert r["agrees"] == ((r["rho_pred"] < 1) == (r["label"] in ("converged", "converging")))
    assert sum(not r["ran"] for r in runs) == 1  # a = 1, kappa = 3
    for name in ("indicators.png", "spectra_reduced.png", "spectra_jacobi.png", "bifurcation.png", "region.png"):
        assert (out / name).stat().st_size > 5000, name
