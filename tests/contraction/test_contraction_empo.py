"""Tests of the EMPO part of the contraction analyzer (maps, sweep, report, job, plots).

Expected numbers come from the theory (CONTRACTION_THEORY §0, §2.5, §3), from finite
differences, or from hand calculations, never from the code under test.
"""
import json
import math

import numpy as np
import pytest

from empo_tabular import EmpoParams, random_world, solve_phase1, solve_phase2
from empo_tabular.apps.contraction_job import run_contraction_job
from empo_tabular.contraction import (
    ContractionReport,
    EmpoMaps,
    analyze_contraction,
    beta_crossings,
    classify_eigenvalue,
    fd_jacobian,
    follow_branch,
    load_contraction_report,
)
from empo_tabular.contraction.empo_analysis import branch_derivative
from empo_tabular.worlds.scenarios import get_scenario

FAST = dict(picard_steps=20, n_samples=5, adversarial=False)
PARAMS = EmpoParams(beta_h=5.0, gamma_h=0.9, gamma_r=0.9, zeta=2.0, xi=1.0, eta=1.1, beta_r=3.0)


@pytest.fixture(scope="module")
def cyclic():
    w = random_world(7, n_goals=2, n_actions=2, seed=11)
    prior = solve_phase1(w, PARAMS)
    return w, prior


@pytest.fixture(scope="module")
def acyclic():
    w = random_world(14, acyclic=True, horizon=4, n_goals=2, n_actions=2, seed=5)
    prior = solve_phase1(w, PARAMS)
    return w, prior


def _scaled(J, x, mask):
    """J in relative units: columns of log coordinates times |x_j| (FD noise is relative there)."""
    J = J.toarray() if hasattr(J, "toarray") else np.asarray(J)
    s = np.where(mask, np.abs(x), 1.0)
    return J * s[None, :]


# ------------------------------------------------------------------------------------- maps


@pytest.mark.parametrize("include_v_r", [True, False])
@pytest.mark.parametrize("world_kind", ["cyclic", "acyclic"])
def test_analytic_jacobians_match_finite_differences(request, include_v_r, world_kind):
    w, prior = request.getfixturevalue(world_kind)
    beta = 4.0
    sol = solve_phase2(w, prior, PARAMS.replace(beta_r=beta))
    em = EmpoMaps(w, prior, PARAMS, include_v_r=include_v_r)
    rng = np.random.default_rng(0)
    names = ["jacobi", "gauss_seidel"] + (["reduced"] if include_v_r else [])
    for name in names:
        x = em.fixed_point(name, sol)
        x = x * np.exp(0.05 * rng.uniform(-1, 1, x.size))  # away from the fixed point, same signs
        if name != "reduced":
            e = em.blocks["V_h_e"]
            x[e] = np.clip(x[e], 1e-3, 1.0)
        mask = em.log_mask(name)
        J = em.jacobian(name, x, beta)
        J_fd = fd_jacobian(em.map_function(name, beta), x, log_coords=mask)
        A, B = _scaled(J, x, mask), _scaled(J_fd, x, mask)
        assert np.max(np.abs(A - B)) <= 1e-6 * max(1.0, np.max(np.abs(B))), name


@pytest.mark.parametrize("beta", [0.0, 2.5, 30.0])
def test_exact_solution_is_a_fixed_point_of_every_map(cyclic, beta):
    w, prior = cyclic
    sol = solve_phase2(w, prior, PARAMS.replace(beta_r=beta))
    for include_v_r in (True, False):
        em = EmpoMaps(w, prior, PARAMS, include_v_r=include_v_r)
        for name in (("reduced",) if include_v_r else ()) + ("jacobi", "gauss_seidel"):
            x = em.fixed_point(name, sol)
            fx = em.map_function(name, beta)(x)
            assert np.max(np.abs(fx - x)) <= 1e-9 * max(1.0, np.max(np.abs(x))), (name, include_v_r)


def test_packing_round_trip(cyclic):
    w, prior = cyclic
    sol = solve_phase2(w, prior, PARAMS)
    em = EmpoMaps(w, prior, PARAMS)
    arrays = em.unpack_joint(em.pack_joint(sol))
    live = ~w.terminal
    for k in ("Q_r", "V_h_e", "X_h", "U_r", "V_r"):
        np.testing.assert_array_equal(arrays[k][live], getattr(sol, k)[live])
    np.testing.assert_array_equal(em.unpack_q(em.pack_q(sol.Q_r))[live], sol.Q_r[live])
    assert em.fast_mask().sum() == em.n_e + em.n_x + em.n_u


def test_reduced_map_at_beta_zero_is_affine_gamma_contraction(cyclic):
    """beta = 0: R(q) = gamma_r P (U + mean_a q), so R(q + c) - R(q) = gamma_r c (no terminals)."""
    w, prior = cyclic
    em = EmpoMaps(w, prior, PARAMS)
    q = em.pack_q(solve_phase2(w, prior, PARAMS.replace(beta_r=0.0)).Q_r)
    shift = em.reduced(q - 0.7, 0.0) - em.reduced(q, 0.0)
    np.testing.assert_allclose(shift, -0.7 * PARAMS.gamma_r, rtol=1e-10)


# ------------------------------------------------------------------------------------- sweep


@pytest.mark.parametrize("seed", [1, 2])
def test_reduced_sup_norm_at_beta_zero_is_at_most_gamma_r_random(seed):
    w = random_world(9, n_goals=2, n_actions=2, seed=seed)
    prior = solve_phase1(w, PARAMS)
    rep = analyze_contraction(w, prior, PARAMS, [0.0], maps=("reduced",), n_fixed_point_starts=0, options=FAST)
    row = rep.table[0]
    assert row["sup_norm"] <= PARAMS.gamma_r + 1e-6
    assert row["rho"] == pytest.approx(PARAMS.gamma_r, abs=1e-8)  # no terminals: rows of P sum to gamma_r


def test_reduced_sup_norm_at_beta_zero_scenario():
    gw, params = get_scenario("corridor")
    prior = solve_phase1(gw.world, params)
    rep = analyze_contraction(gw.world, prior, params, [0.0], maps=("reduced",), n_fixed_point_starts=0,
                              options=FAST)
    assert rep.table[0]["sup_norm"] <= params.gamma_r + 1e-6


def test_acyclic_worlds_have_nilpotent_jacobians(acyclic):
    w, prior = acyclic
    rep = analyze_contraction(w, prior, PARAMS, [0.0, 1.0, 20.0, 300.0], n_fixed_point_starts=0, options=FAST)
    for row in rep.table:
        assert row["rho"] <= 1e-9, (row["map"], row["beta_r"], row["rho"])
        assert row["max_re"] <= 1e-9


def test_indicator_chain_and_branch_derivative(cyclic):
    w, prior = cyclic
    betas = [0.0, 1.0, 10.0, 100.0]
    rep = analyze_contraction(w, prior, PARAMS, betas, n_fixed_point_starts=2, options=FAST)
    assert len(rep.table) == 3 * len(betas)
    for r in rep.table:
        tol = 1e-7 * max(1.0, r["sup_norm"])
        assert r["sup_norm"] + tol >= r["rho_abs"] >= r["rho"] - tol
        assert r["rho"] + tol >= r["max_re"]
        assert r["residual"] <= 1e-8 * max(1.0, abs(r["beta_r"]))
    assert rep.ordering["rows_ok"]
    # n_fixed_points at beta = 0: the affine map is a gamma_r-contraction, so exactly one
    assert [r["n_fixed_points"] for r in rep.rows("reduced")][0] == 1
    # dq*/dbeta (implicit function theorem) against central differences along the branch
    em = EmpoMaps(w, prior, PARAMS)
    b, h = 10.0, 1e-4
    sols = follow_branch(w, prior, PARAMS, [b - h, b, b + h])
    q = [em.pack_q(s["Q_r"]) for s in sols]
    fd = (q[2] - q[0]) / (2 * h)
    ift = branch_derivative(em, q[1], b)
    np.testing.assert_allclose(ift, fd, rtol=1e-4, atol=1e-6 * np.max(np.abs(fd)))


def test_bad_inputs_raise(cyclic):
    w, prior = cyclic
    with pytest.raises(ValueError, match="betas"):
        analyze_contraction(w, prior, PARAMS, [-1.0, 2.0])
    with pytest.raises(ValueError, match="unknown map"):
        analyze_contraction(w, prior, PARAMS, [1.0], maps=("newton",))
    with pytest.raises(TypeError):
        analyze_contraction(w, prior, "params", [1.0])
    with pytest.raises(ValueError, match="option"):
        analyze_contraction(w, prior, PARAMS, [1.0], options={"bogus": 1})
    em = EmpoMaps(w, prior, PARAMS)
    with pytest.raises(ValueError, match="beta"):
        em.reduced(np.full(em.n_q, -1.0), -2.0)
    with pytest.raises(ValueError, match="shape"):
        em.reduced(np.full(em.n_q + 1, -1.0), 1.0)
    with pytest.raises(ValueError, match="negative"):
        em.reduced(np.full(em.n_q, 1.0), 1.0)


# ------------------------------------------------------------------------------------- beta*


def test_beta_crossings_on_synthetic_table():
    betas = [0.0, 1.0, 10.0, 100.0, 1000.0]
    values = [0.5, 0.8, 1.2, 0.9, 1.5]
    out = beta_crossings(betas, values, indicator="sup_norm")
    got = [c["beta"] for c in out["all"]]
    # hand values: log-linear interpolation between the grid points
    assert got == pytest.approx([10 ** 0.5, 10 ** (1 + 2 / 3), 10 ** (2 + 1 / 6)], rel=1e-12)
    assert [c["direction"] for c in out["all"]] == ["up", "down", "up"]
    assert out["first"] == pytest.approx(10 ** 0.5)
    assert {c["type"] for c in out["all"]} == {"norm"}
    # the beta = 0 segment is linear in beta; shuffled input is sorted
    out0 = beta_crossings([2.0, 0.0], [1.5, 0.5])
    assert out0["first"] == pytest.approx(1.0)
    # already above at the start; never reached
    assert beta_crossings([0.0, 1.0], [1.2, 0.5])["all"][0]["direction"] == "start"
    assert beta_crossings([0.0, 1.0], [0.2, 0.5])["first"] == math.inf
    # classification from the eigenvalue on the unstable side
    eig = [0.5, 0.9, -1.3, 1.2 + 0.5j]
    c = beta_crossings([1.0, 2.0, 3.0, 4.0], [0.5, 0.9, 1.3, 0.8], eigenvalues=eig, indicator="rho")
    assert c["all"][0]["type"] == "flip"
    assert classify_eigenvalue(0.6 + 0.9j, "rho") == "neimark_sacker"
    assert classify_eigenvalue(1.01, "rho") == "fold"
    assert classify_eigenvalue(1.0 + 0.3j, "max_re") == "hopf"
    with pytest.raises(ValueError):
        beta_crossings([0.0, -1.0], [1.0, 2.0])


# ------------------------------------------------------------------------------------- report, job, plots


def test_report_round_trip(tmp_path, cyclic):
    w, prior = cyclic
    rep = analyze_contraction(w, prior, PARAMS, [0.0, 3.0, 30.0], n_fixed_point_starts=0, options=FAST)
    csv_path, json_path = rep.save(tmp_path / "rep")
    assert csv_path.exists() and json_path.exists()
    header = csv_path.read_text().splitlines()[0].split(",")
    for k in ("map", "beta_r", "sup_norm", "rho_abs", "rho", "max_re", "dominant_eigenvalue_re", "dq_dbeta"):
        assert k in header
    back = load_contraction_report(json_path)
    assert isinstance(back, ContractionReport)
    assert back == rep
    assert load_contraction_report(tmp_path / "rep") == rep
    assert isinstance(back.table[0]["dominant_eigenvalue"], complex)
    data = json.loads(json_path.read_text())
    assert data["world_checksum"] == w.checksum and data["params"]["gamma_r"] == PARAMS.gamma_r
    assert "versions" in data and data["betas"] == [0.0, 3.0, 30.0]


def test_job_writes_report_and_figures(tmp_path, cyclic):
    w, prior = cyclic
    rep = run_contraction_job(w, prior, PARAMS, [0.0, 5.0, 50.0], tmp_path, progress=False,
                              options=FAST, n_fixed_point_starts=2, sa_points=((1.0, 1.0), (0.5, 0.1)),
                              sa_steps=50, a_values=(0.2, 1.0), kappa_values=(0.1, 1.0))
    for name in ("contraction.csv", "contraction.json", "indicators.png", "spectra_reduced.png",
                 "spectra_jacobi.png", "spectra_gauss_seidel.png", "bifurcation.png", "region.png"):
        assert (tmp_path / name).stat().st_size > 1000, name
    assert len(rep.sa_runs) == 2 and rep.region is not None
    assert np.asarray(rep.region["rho_pred"]).shape == (2, 2)
    assert load_contraction_report(tmp_path / "contraction.json") == rep


# ------------------------------------------------------------------------------------- fast paths


def test_factored_fast_paths_match_direct_solves(cyclic, monkeypatch):
    """W from dense component inverses = W from sparse LU solves; refined map values = direct ones."""
    import empo_tabular.contraction.empo_maps as em_mod

    w, prior = cyclic
    beta = 6.0
    em = EmpoMaps(w, prior, PARAMS)
    q = em.pack_q(solve_phase2(w, prior, PARAMS.replace(beta_r=beta)).Q_r)
    P, W, st = em.reduced_factors(q, beta)
    monkeypatch.setattr(em_mod, "component_product", lambda *a: None)
    _, W_lu, _ = em.reduced_factors(q, beta)
    np.testing.assert_allclose(W, W_lu, rtol=0, atol=1e-12 * np.max(np.abs(W_lu)))
    F = em.reduced_near(st, beta)
    rng = np.random.default_rng(3)
    for scale in (1e-4, 0.1, 1.0):  # near (refinement) and far (fallback to a fresh LU)
        x = q * np.exp(scale * rng.uniform(-1, 1, q.size))
        np.testing.assert_allclose(F(x), em.reduced(x, beta), rtol=1e-12, atol=1e-13)
    r_fast = em.reduced_beta_derivative(q, beta, state=st)
    np.testing.assert_allclose(r_fast, em.reduced_beta_derivative(q, beta), rtol=1e-6, atol=1e-9)


def test_perron_krylov_path_is_certified():
    """ARPACK + Collatz-Wielandt path (float64 and float32 storage) against the dense Perron root."""
    from empo_tabular.contraction.spectral import collatz_wielandt, perron

    rng = np.random.default_rng(0)
    A = rng.uniform(0, 1, (80, 80)) * (rng.uniform(0, 1, (80, 80)) < 0.2)
    ref = float(np.max(np.abs(np.linalg.eigvals(A))))
    for M in (A, A.astype(np.float32)):
        root, wv = perron(M, dense_limit=10)
        assert root == pytest.approx(ref, rel=1e-6)
        lo, hi, _ = collatz_wielandt(A, wv)
        assert lo <= ref * (1 + 1e-12) and hi >= ref * (1 - 1e-12) and hi - lo <= 2e-6 * hi
        root2, _ = perron(M, dense_limit=10, v0=wv)  # warm start
        assert root2 == pytest.approx(ref, rel=1e-6)


def test_reduced_fast_path_matches_dense_analysis(cyclic, monkeypatch):
    """Factored indicators (float32 |J|, ARPACK Perron, eigvals + inverse iteration) = dense ones."""
    import empo_tabular.contraction.empo_analysis as ea

    w, prior = cyclic
    betas = [0.0, 5.0, 60.0]
    slow = analyze_contraction(w, prior, PARAMS, betas, maps=("reduced",), n_fixed_point_starts=0, options=FAST)
    monkeypatch.setattr(ea, "ABS32_MIN", 0)
    monkeypatch.setattr(ea, "PERRON_DENSE_MAX", 5)
    fast = analyze_contraction(w, prior, PARAMS, betas, maps=("reduced",), n_fixed_point_starts=0, options=FAST)
    par = analyze_contraction(w, prior, PARAMS, betas, maps=("reduced",), n_fixed_point_starts=0, options=FAST,
                              n_jobs=2)
    em = EmpoMaps(w, prior, PARAMS)
    for rs, rf, rp in zip(slow.table, fast.table, par.table):
        for k in ("sup_norm", "log_norm", "rho", "max_re", "alpha_max", "picard_ratio", "lower_bound_sampled",
                  "dq_dbeta"):
            assert rf[k] == pytest.approx(rs[k], rel=1e-9, abs=1e-12), k
            assert rp[k] == pytest.approx(rf[k], rel=1e-9, abs=1e-12), k
        assert rf["rho_abs"] == pytest.approx(rs["rho_abs"], rel=1e-6)
        assert rp["rho_abs"] == pytest.approx(rf["rho_abs"], rel=1e-6)
        # the dense Jacobian's spectrum and norms (no factorisation involved)
        q = em.pack_q(follow_branch(w, prior, PARAMS, [rs["beta_r"]])[0]["Q_r"])
        J = em.reduced_jacobian(q, rs["beta_r"])
        lam = np.linalg.eigvals(J)
        assert rs["rho"] == pytest.approx(np.max(np.abs(lam)), rel=1e-9)
        assert rf["sup_norm"] == pytest.approx(np.max(np.abs(J).sum(axis=1)), rel=1e-12)
        assert rf["rho_abs"] == pytest.approx(np.max(np.abs(np.linalg.eigvals(np.abs(J)))), rel=1e-6)
        rep = ea.analyze_reduced(em, q, rs["beta_r"], options=FAST)
        v, lam_dom = rep.dominant_eigenvector, rep.dominant_eigenvalue
        assert np.linalg.norm(v) == pytest.approx(1.0)
        assert np.max(np.abs(J @ v - lam_dom * v)) <= 1e-8
    with pytest.raises(ValueError, match="n_jobs"):
        analyze_contraction(w, prior, PARAMS, [0.0], maps=("reduced",), n_jobs=0)


def test_points_streamed_during_the_branch_equal_the_serial_sweep(cyclic, monkeypatch):
    """Consistency check: with 2 workers the grid points are analysed while the branch is followed (a note says
    so) and the table equals the 1-worker sweep; a withdrawn point (fed twice) makes the sweep analyse the final
    branch afresh, with the same table."""
    import empo_tabular.contraction.empo_sweep as es

    w, prior = cyclic
    betas = [0.0, 2.0, 5.0, 20.0]
    kw = dict(maps=("reduced",), n_fixed_point_starts=0, options=FAST)
    one = analyze_contraction(w, prior, PARAMS, betas, **kw)
    two = analyze_contraction(w, prior, PARAMS, betas, n_jobs=2, **kw)
    assert any("while the branch was followed" in n for n in two.notes)
    real = es.follow_branch

    def withdrawing(*args, on_point=None, **kwargs):
        sols = real(*args, on_point=on_point, **kwargs)
        on_point(1, dict(sols[1]))  # point 1 fed again (another dict): the streamed results are discarded
        return sols

    monkeypatch.setattr(es, "follow_branch", withdrawing)
    again = analyze_contraction(w, prior, PARAMS, betas, n_jobs=2, **kw)
    assert not any("while the branch was followed" in n for n in again.notes)
    for rows in (two.table, again.table):
        for r1, r2 in zip(one.table, rows):
            for k in ("rho", "max_re", "rho_abs", "sup_norm", "picard_ratio", "lower_bound_sampled", "dq_dbeta"):
                assert r2[k] == pytest.approx(r1[k], rel=1e-9, abs=1e-12), k
