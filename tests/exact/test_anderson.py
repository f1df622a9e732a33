"""Anderson acceleration: the difference history and the accelerated iteration on analytic cases."""
import numpy as np

from empo_tabular.exact.anderson import History, anderson


def test_history_after_clear_holds_only_the_new_pairs_and_their_gram_matrix():
    rng = np.random.default_rng(0)
    h = History(5, 3)
    for _ in range(4):  # wrap the ring buffer once
        h.push(rng.standard_normal(5), rng.standard_normal(5))
    h.clear()
    new = [rng.standard_normal(5) for _ in range(2)]
    for v in new:
        h.push(v, 2.0 * v)
    assert h.k == 2
    F = np.array(new)
    np.testing.assert_array_equal(h.dF[:h.k], F)  # the stored rows are the pairs pushed since the clear
    np.testing.assert_array_equal(h.dG[:h.k], 2.0 * F)
    np.testing.assert_allclose(h.gram[:2, :2], F @ F.T, rtol=1e-14)


def test_history_gram_matrix_follows_the_ring_buffer():
    rng = np.random.default_rng(1)
    h = History(6, 3)
    for _ in range(7):
        h.push(rng.standard_normal(6), rng.standard_normal(6))
    F = h.dF[:h.k]
    np.testing.assert_allclose(h.gram, F @ F.T, rtol=1e-13, atol=1e-14)


def test_anderson_solves_a_linear_fixed_point_in_at_most_n_plus_two_maps():
    # x = A x + b with rho(A) = 0.99: plain iteration needs thousands of steps; Anderson with a full
    # history is GMRES-like and reaches the exact solution (I - A)^-1 b within about n steps.
    rng = np.random.default_rng(2)
    n = 6
    Qm, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = Qm @ np.diag(np.linspace(0.5, 0.99, n)) @ Qm.T
    b = rng.standard_normal(n)
    exact = np.linalg.solve(np.eye(n) - A, b)
    out = anderson(lambda x: A @ x + b, np.zeros(n), tol=1e-12, m=n, max_iter=50)
    assert out.converged
    assert out.iterations <= n + 3
    np.testing.assert_allclose(out.z, exact, rtol=1e-9, atol=1e-9)


def test_anderson_gives_up_when_the_residual_stops_improving():
    # x = x + 1 has no fixed point: the residual never improves, so the solver stops after `stall` maps
    # instead of spending max_iter of them (the continuation then shortens its step)
    out = anderson(lambda x: x + 1.0, np.zeros(3), tol=1e-10, max_iter=100_000, stall=40)
    assert not out.converged
    assert out.iterations <= 42
    assert "no progress in 40" in out.message


def test_mixing_kernel_against_numpy():
    # oracle: the regularised normal equations and the extrapolation written with NumPy
    from empo_tabular._kernels import anderson as ka
    rng = np.random.default_rng(3)
    n, m = 40, 5
    h = History(n, m)
    F, G = [], []
    f_prev, g_prev = rng.standard_normal(n), rng.standard_normal(n)
    for _ in range(7):  # wraps the ring buffer
        f, gx = rng.standard_normal(n), rng.standard_normal(n)
        coef, cand = np.empty(m), np.empty(n)
        status = ka.anderson_mix(f, f_prev, gx, g_prev, True, h.dF, h.dG, h.gram, h.kh, 1e-10, coef, cand)
        F.append(f - f_prev)
        G.append(gx - g_prev)
        Fk, Gk = np.array(F[-m:]), np.array(G[-m:])
        A = Fk @ Fk.T
        A += 1e-10 * np.trace(A) * np.eye(len(Fk))
        gamma = np.linalg.solve(A, Fk @ f)
        assert status == ka.MIX_OK
        np.testing.assert_allclose(cand, gx - gamma @ Gk, rtol=1e-9, atol=1e-12)
        f_prev, g_prev = f, gx
    w = rng.random(n) + 0.5
    x, gx, out = rng.standard_normal(n), rng.standard_normal(n), np.empty(n)
    assert ka.weighted_residual(x, gx, w, out) == np.max(np.abs((gx - x) * w))
    gx[3] = np.nan
    assert ka.weighted_residual(x, gx, w, out) == np.inf
