"""Tests of the matrix-free spectral route of the reduced map (:mod:`empo_tabular.contraction.matrix_free`).

Oracles: NumPy eigenvalues of the dense analytic Jacobian ``J_R`` (``EmpoMaps.reduced_jacobian``, itself
checked against finite differences in test_contraction_empo.py), Perron roots of ``|J_R|`` by
``numpy.linalg.eigvals``, and matrices with eigenvalues chosen by hand.
"""
import numpy as np
import pytest
import scipy.sparse.linalg as spla

from empo_tabular import EmpoParams, random_world, solve_phase1, solve_phase2
from empo_tabular.contraction import EmpoMaps
from empo_tabular.contraction.empo_analysis import analyze_reduced, reduced_route
from empo_tabular.contraction.matrix_free import arpack_spectrum, perron_upper_bound

PARAMS = EmpoParams(beta_h=5.0, gamma_h=0.9, gamma_r=0.9, zeta=2.0, xi=1.0, eta=1.1, beta_r=3.0)
FAST = dict(picard_steps=5, n_samples=2, adversarial=False)
CASES = [(40, 11, 3.0), (60, 3, 10.0), (25, 5, 30.0)]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"S{c[0]}-seed{c[1]}-beta{c[2]:g}")
def case(request):
    S, seed, beta = request.param
    w = random_world(S, n_goals=2, n_actions=2, seed=seed)
    prior = solve_phase1(w, PARAMS)
    sol = solve_phase2(w, prior, PARAMS.replace(beta_r=beta))
    em = EmpoMaps(w, prior, PARAMS)
    return em, em.pack_q(sol.Q_r), beta


def test_matrix_free_route_matches_dense_eigenvalues(case):
    em, q, beta = case
    J = em.reduced_jacobian(q, beta)
    lam = np.linalg.eigvals(J)
    mf = analyze_reduced(em, q, beta, options={**FAST, "reduced_route": "matrix_free"})
    dense = analyze_reduced(em, q, beta, options={**FAST, "reduced_route": "dense"})
    assert mf.jacobian_method == "matrix_free_analytic" and not mf.spectrum_complete
    for rep in (mf, dense):
        assert rep.rho == pytest.approx(np.max(np.abs(lam)), abs=1e-8)
        assert rep.max_re == pytest.approx(np.max(lam.real), abs=1e-8)
        dom = lam[np.argmin(np.abs(lam - rep.dominant_eigenvalue))]
        assert abs(dom - rep.dominant_eigenvalue) <= 1e-8 and abs(dom) == pytest.approx(rep.rho, abs=1e-8)
    assert mf.rho == pytest.approx(dense.rho, abs=1e-8) and mf.max_re == pytest.approx(dense.max_re, abs=1e-8)
    # the dominant eigenvector is one: J v = lambda v
    v = mf.dominant_eigenvector
    np.testing.assert_allclose(J @ v, mf.dominant_eigenvalue * v, atol=1e-7)


def test_matrix_free_norms_are_labelled_upper_bounds(case):
    em, q, beta = case
    J = em.reduced_jacobian(q, beta)
    A = np.abs(J)
    rho_abs = np.max(np.abs(np.linalg.eigvals(A)))
    mf = analyze_reduced(em, q, beta, options={**FAST, "reduced_route": "matrix_free"})
    dense = analyze_reduced(em, q, beta, options={**FAST, "reduced_route": "dense"})
    assert dense.rho_abs_kind == "exact" and dense.rho_abs == pytest.approx(rho_abs, rel=1e-6)
    assert mf.rho_abs_kind == "upper_bound" and mf.norms_kind == "upper_bound"
    assert mf.rho_abs >= rho_abs * (1 - 1e-9)
    assert mf.sup_norm >= A.sum(axis=1).max() * (1 - 1e-12)
    assert mf.log_norm >= np.max(A @ np.abs(q) / np.abs(q)) * (1 - 1e-12)
    assert mf.rho_abs <= mf.sup_norm * (1 + 1e-12)  # the chain still holds for the bounds


def test_route_chosen_by_size():
    assert reduced_route(100) == "dense"
    assert reduced_route(10 ** 5) == "matrix_free"
    assert reduced_route(100, {"reduced_route": "matrix_free"}) == "matrix_free"
    with pytest.raises(ValueError, match="reduced_route"):
        reduced_route(10, {"reduced_route": "sparse"})


def state_and_kernel_ee_block(em, q, beta):
    """The reduced state at ``q`` and the EE block of the kernel Jacobian there (the reference for the evaluator)."""
    st = em.reduced_state(q, beta)
    Q = np.where(em.live[:, None], em.unpack_q(q), -1.0)
    return st, em.restricted_blocks(beta, Q, st["V_h_e"], np.where(em.live[:, None], st["X_h"], 1.0))["EE"]


def test_ee_matrix_on_cached_pattern_matches_kernel_block(case):
    em, q, beta = case
    st, block = state_and_kernel_ee_block(em, q, beta)
    got = em.ee_matrix(st["pi_r"])
    assert abs(got - block).max() <= 1e-15 * max(1.0, abs(block).max())


def _hand_spectrum_operator(real, pairs, seed=0):
    """A real non-normal matrix ``V D V^-1`` with eigenvalues ``real`` and ``pairs``, ``conj(pairs)``."""
    n = len(real) + 2 * len(pairs)
    D = np.zeros((n, n))
    D[np.arange(len(real)), np.arange(len(real))] = real
    for k, z in enumerate(pairs):
        i = len(real) + 2 * k
        D[i:i + 2, i:i + 2] = [[z.real, z.imag], [-z.imag, z.real]]
    rng = np.random.default_rng(seed)
    V = np.eye(n) + 0.3 * rng.standard_normal((n, n)) / np.sqrt(n)
    return spla.aslinearoperator(V @ D @ np.linalg.inv(V))


def test_arpack_spectrum_finds_largest_real_part_not_only_largest_modulus():
    # 30 eigenvalues of modulus 0.8-0.99 with negative real part or large imaginary part, and the largest
    # real part (0.3) carried by an eigenvalue of small modulus: LM alone would report max_re < 0.
    rng = np.random.default_rng(3)
    big = -rng.uniform(0.8, 0.99, 20)
    pairs = 0.9 * np.exp(1j * rng.uniform(0.6 * np.pi, 0.9 * np.pi, 5))
    real = np.concatenate([big, [0.3, 0.1, -0.05, 0.02, 0.0]])
    lam = np.concatenate([real, pairs, pairs.conj()])
    op = _hand_spectrum_operator(real, pairs)
    got, dom, vec, max_re = arpack_spectrum(op, lam.size, 4, 1e-12, np.random.default_rng(0), [])
    assert max_re == pytest.approx(0.3, abs=1e-9)
    assert abs(dom) == pytest.approx(np.max(np.abs(lam)), abs=1e-9)


def test_perron_upper_bound_brackets_the_root():
    rng = np.random.default_rng(5)
    A = rng.random((40, 40)) * (rng.random((40, 40)) < 0.2) + 0.01 * np.eye(40)
    root = np.max(np.abs(np.linalg.eigvals(A)))
    hi, lo, x = perron_upper_bound(lambda v: A @ v, 40)
    assert lo <= root * (1 + 1e-12) and hi >= root * (1 - 1e-12) and hi - lo <= 1e-6 * hi


def test_sweep_routes_agree_and_label_bounds():
    from empo_tabular.contraction import analyze_contraction

    w = random_world(30, n_goals=2, n_actions=2, seed=4)
    prior = solve_phase1(w, PARAMS)
    betas = [0.0, 2.0, 20.0]
    reps = {route: analyze_contraction(w, prior, PARAMS, betas, maps=("reduced",), n_fixed_point_starts=0,
                                       options={**FAST, "reduced_route": route}) for route in ("dense", "matrix_free")}
    d, m = reps["dense"].rows("reduced"), reps["matrix_free"].rows("reduced")
    for a, b in zip(d, m):
        assert b["rho"] == pytest.approx(a["rho"], abs=1e-8) and b["max_re"] == pytest.approx(a["max_re"], abs=1e-8)
        assert b["dq_dbeta"] == pytest.approx(a["dq_dbeta"], rel=1e-6)  # Woodbury solve vs GMRES
        assert b["rho_abs_kind"] == "upper_bound" and a["rho_abs_kind"] == "exact"
        assert b["rho_abs"] >= a["rho_abs"] * (1 - 1e-9)
    assert reps["matrix_free"].ordering["rows_ok"]
    assert "UPPER BOUND" in reps["matrix_free"].summary() and "UPPER BOUND" not in reps["dense"].summary()


def test_krylov_and_refined_solvers_solve_the_system():
    import scipy.sparse as sp

    from empo_tabular.contraction.matrix_free import KrylovSolver, RefinedSolver

    rng = np.random.default_rng(7)
    n = 300
    A = sp.random(n, n, density=0.02, random_state=8, format="csr")
    A = 0.9 * sp.diags(1.0 / np.maximum(np.asarray(A.sum(axis=1)).ravel(), 1e-12)) @ A  # substochastic * 0.9
    M = (sp.identity(n) - A).tocsc()
    b = rng.standard_normal(n)
    x_ref, xt_ref = np.linalg.solve(M.toarray(), b), np.linalg.solve(M.toarray().T, b)
    ks = KrylovSolver(M)
    np.testing.assert_allclose(ks.solve(b), x_ref, atol=1e-11)
    np.testing.assert_allclose(ks.solve(b, trans="T"), xt_ref, atol=1e-11)
    near = spla.splu((sp.identity(n) - 0.98 * A).tocsc())  # a nearby matrix's factorisation
    rs = RefinedSolver(M, near, spla.splu)
    np.testing.assert_allclose(rs.solve(b), x_ref, atol=1e-12)
    np.testing.assert_allclose(rs.solve(b, trans="T"), xt_ref, atol=1e-12)


def test_evaluator_matrix_is_identity_minus_kernel_block(case):
    import scipy.sparse as sp

    em, q, beta = case
    st, block = state_and_kernel_ee_block(em, q, beta)
    M = em.evaluator_matrix(st["pi_r"])
    assert M.format == "csc" and M.has_sorted_indices
    assert abs(M - (sp.identity(em.n_e) - block)).max() <= 1e-15


def test_far_evaluations_by_gmres_match_the_direct_solve(case, monkeypatch):
    """Consistency check: R at points of the estimators' box by GMRES (no factorisation kept) equals R by a fresh
    LU; and the GMRES path is the one taken (no LU in the returned state)."""
    from empo_tabular.contraction import evaluator

    em, q, beta = case
    monkeypatch.setattr(evaluator, "FAR_KRYLOV_MIN", 0)
    st = em.reduced_state(q, beta)
    rng = np.random.default_rng(2)
    for _ in range(3):
        x = q * np.exp(rng.uniform(-0.3, 0.3, q.size))  # far enough that refinement from q's LU fails
        far = em.reduced_state(x, beta, near=st, keep_solver=False)
        direct = em.reduced_state(x, beta)
        assert far["lu"] is None and direct["lu"] is not None
        np.testing.assert_allclose(far["q_next"], direct["q_next"], rtol=1e-11)
        np.testing.assert_allclose(far["e"], direct["e"], atol=1e-11)
        np.testing.assert_allclose(em.reduced_near(st, beta)(x), direct["q_next"], rtol=1e-11)


def test_arpack_skips_lr_only_when_the_dominant_eigenvalue_is_real_positive():
    # dominant 0.95 (real, positive): it is the largest real part too, LR is skipped
    real, pairs = [0.95, 0.5, -0.9, 0.2, 0.1, -0.3] + [0.05 * k for k in range(-10, 10)], [0.3 + 0.8j, -0.2 + 0.6j]
    lam = np.concatenate([real, pairs, np.conj(pairs)])
    notes = []
    got, dom, vec, max_re = arpack_spectrum(_hand_spectrum_operator(real, pairs), lam.size, 1, 1e-12,
                                            np.random.default_rng(0), notes)
    assert dom == pytest.approx(0.95, abs=1e-10) and max_re == pytest.approx(0.95, abs=1e-10)
    assert any("'LR' skipped" in n for n in notes)
    # dominant -0.97 (real, negative): LR must run and find 0.6
    real2 = [-0.97, 0.6] + real[2:]
    notes2 = []
    got, dom, vec, max_re = arpack_spectrum(_hand_spectrum_operator(real2, pairs), lam.size, 1, 1e-12,
                                            np.random.default_rng(0), notes2)
    assert dom == pytest.approx(-0.97, abs=1e-10) and max_re == pytest.approx(0.6, abs=1e-10)
    assert not any("skipped" in n for n in notes2)


def test_arpack_warm_start_gives_the_same_eigenvalue(case):
    from empo_tabular.contraction.empo_analysis import matrix_free_state
    from empo_tabular.contraction.matrix_free import ReducedOperator

    em, q, beta = case
    lam = np.linalg.eigvals(em.reduced_jacobian(q, beta))
    st = matrix_free_state(em, q, beta)
    op = ReducedOperator(em, q, beta, st)
    A = op.operator("wp")
    _, dom, u, _ = arpack_spectrum(A, q.size, 1, 1e-12, np.random.default_rng(0), [])
    for v0 in (np.real(u) + np.imag(u), np.zeros(A.shape[0]), np.full(A.shape[0], np.nan)):  # good, ignored, ignored
        _, dom2, _, max_re = arpack_spectrum(A, q.size, 1, 1e-12, np.random.default_rng(1), [], v0=v0)
        assert abs(dom2) == pytest.approx(np.max(np.abs(lam)), abs=1e-9)
        assert max_re == pytest.approx(np.max(lam.real), abs=1e-9)
    # the branch derivative's GMRES from a start: same solution of (I - J_R) x = r
    r = np.random.default_rng(3).standard_normal(q.size)
    x_ref = np.linalg.solve(np.eye(q.size) - em.reduced_jacobian(q, beta), r)
    x1 = op.branch_derivative(r)
    x2 = op.branch_derivative(r, y0=op.last_y * 1.1)
    np.testing.assert_allclose(x1, x_ref, atol=1e-9 * max(1.0, np.abs(x_ref).max()))
    np.testing.assert_allclose(x2, x_ref, atol=1e-9 * max(1.0, np.abs(x_ref).max()))


def test_batched_estimators_match_serial_ones(case, monkeypatch):
    """Consistency check: the matrix-free report with the estimators in lockstep (shared multi-column solves)
    equals the one with the same tasks run one after the other; the side task's result is the branch derivative
    of the dense Jacobian (oracle: numpy.linalg.solve)."""
    from empo_tabular.contraction import empo_analysis as ea

    em, q, beta = case
    monkeypatch.setattr(ea, "BATCH_MIN", 0)  # batch even these small systems
    r = np.random.default_rng(5).standard_normal(q.size)

    def run():
        st = ea.matrix_free_state(em, q, beta)
        op = ea.ReducedOperator(em, q, beta, st)
        ws = {}
        rep = ea.analyze_reduced_matrix_free(em, q, beta, options={**FAST, "reduced_route": "matrix_free"},
                                             state=st, operator=op, workspace=ws,
                                             side_tasks={"dq": lambda: op.branch_derivative(r)})
        return rep, ws["side_results"]["dq"]

    batched, dq = run()
    assert any("batched" in n for n in batched.notes)
    monkeypatch.setattr(ea, "run_batched", lambda solver, tasks: [t() for t in tasks])
    serial, dq_serial = run()
    for k in ("rho", "max_re", "rho_abs", "sup_norm", "log_norm", "picard_ratio", "lower_bound_sampled"):
        assert getattr(batched, k) == pytest.approx(getattr(serial, k), rel=1e-9, abs=1e-12), k
    x_ref = np.linalg.solve(np.eye(q.size) - em.reduced_jacobian(q, beta), r)
    for x in (dq, dq_serial):
        np.testing.assert_allclose(x, x_ref, atol=1e-9 * max(1.0, np.abs(x_ref).max()))


def test_refined_orbit_matches_direct_solves(case):
    """Consistency check: a Picard orbit of R evaluated by refinement from the fixed point's LU (each solve started
    from the previous point's, the tail-estimate stop) equals R with a fresh LU at every point."""
    em, q, beta = case
    st = em.reduced_state(q, beta)
    F = em.reduced_near(st, beta)
    x = q * np.exp(1e-3 * np.random.default_rng(6).uniform(-1, 1, q.size))
    for _ in range(6):
        fx = F(x)
        np.testing.assert_allclose(fx, em.reduced(x, beta), rtol=1e-12, atol=1e-13)
        x = fx
