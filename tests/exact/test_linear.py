"""The Newton steps' linear solves: no spurious breakdown at tiny right-hand sides, fallbacks of bounded cost."""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from empo_tabular._kernels import sparse as ks
from empo_tabular.exact.linear import LinearSolver


def relative_residual(A, x, b):
    return float(np.max(np.abs(A @ x - b)) / np.max(np.abs(b)))


def discounted_random_walk(n, seed, gamma=0.9, k=3):
    """``I - gamma P`` with ``P`` a random row-stochastic matrix, ``k`` successors per row (a random graph)."""
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), k)
    cols = rng.integers(0, n, size=n * k)
    vals = rng.random(n * k)
    P = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    P = sp.diags(1.0 / np.asarray(P.sum(axis=1)).ravel()) @ P
    return (sp.identity(n) - gamma * P).tocsr()


def cyclic_shift(n):
    """``P e_i = e_{i+1 mod n}``: a permutation, so ``P^-1 = P^T``; Krylov methods need ``n`` steps on it."""
    return sp.csr_matrix((np.ones(n), ((np.arange(n) + 1) % n, np.arange(n))), shape=(n, n))


def test_a_tiny_right_hand_side_does_not_break_bicgstab_down():
    # Newton's last steps solve with a right-hand side of about 1e-12 (the nonlinear residual); SciPy's
    # BiCGSTAB tests |r0 . r| against eps^2 in absolute terms and breaks down there (seen at 200,000 unknowns,
    # Phase 1 of the 10^5-state benchmark family, seed 7).  The solver scales the right-hand side to norm 1.
    A = discounted_random_walk(400, seed=3)
    b = 1e-12 * np.random.default_rng(4).random(400)
    with np.errstate(all="ignore"):
        x_raw, info_raw = spla.bicgstab(A, b, rtol=1e-12, atol=0.0, maxiter=1000)
    assert info_raw < 0 or relative_residual(A, x_raw, b) > 1e-8  # the failure this test is about occurs
    solver = LinearSolver(direct_below=0)
    x = solver.solve(A, b)
    assert relative_residual(A, x, b) <= 1e-8
    assert solver.last_method == "bicgstab"
    method, iterations, rel, info = solver.last_report[0]
    assert (method, info) == ("bicgstab", 0) and 0 < iterations < 1000 and rel <= 1e-8


def test_a_stagnating_bicgstab_falls_back_to_gauss_seidel_preconditioned_gmres():
    # I - 0.999 P (P the cyclic shift): unpreconditioned Krylov methods gain a factor of about 0.999 per step,
    # one forward Gauss-Seidel pass inverts it but for the wrap-around entry
    n = 300
    A = (sp.identity(n) - 0.999 * cyclic_shift(n)).tocsr()
    b = np.random.default_rng(5).random(n)
    solver = LinearSolver(direct_below=0, krylov_maxiter=100)
    x = solver.solve(A, b)
    assert relative_residual(A, x, b) <= 1e-8
    assert solver.last_report[0][0] == "bicgstab" and solver.last_report[0][2] > 1e-8
    assert solver.last_method == "sgs_gmres"


def test_no_lu_above_direct_below():
    # the shift matrix with a zero diagonal: BiCGSTAB and GMRES (no Gauss-Seidel without a diagonal) fail in
    # 10 iterations; a LU solves it exactly, but only where it is allowed
    n = 60
    A = cyclic_shift(n)
    b = np.random.default_rng(6).random(n)
    with pytest.raises(RuntimeError, match="no LU above 59 unknowns"):
        LinearSolver(direct_below=59, krylov_maxiter=10).solve(A, b)
    solver = LinearSolver(direct_below=60, krylov_maxiter=10)
    x = solver.solve(A, b)
    assert solver.last_method == "splu"
    np.testing.assert_allclose(x, A.T @ b, rtol=0, atol=1e-14)  # P^-1 = P^T


def test_between_lu_first_below_and_direct_below_krylov_goes_first_with_the_lu_as_fallback():
    A = discounted_random_walk(200, seed=10)
    b = np.random.default_rng(11).random(200)
    solver = LinearSolver(lu_first_below=199, direct_below=1000)
    x = solver.solve(A, b)
    assert solver.last_method == "bicgstab" and relative_residual(A, x, b) <= 1e-8
    lu_first = LinearSolver(lu_first_below=200, direct_below=1000)
    lu_first.solve(A, b)
    assert lu_first.last_method == "splu"
    hard = cyclic_shift(200)  # Krylov fails in 10 iterations, the LU is allowed (200 <= direct_below)
    solver = LinearSolver(lu_first_below=100, direct_below=1000, krylov_maxiter=10)
    x = solver.solve(hard, b)
    assert solver.last_report[0][0] == "bicgstab" and solver.last_method == "splu"
    np.testing.assert_allclose(x, hard.T @ b, rtol=0, atol=1e-14)


def test_catastrophic_fill_turns_the_solver_krylov_first():
    A = discounted_random_walk(200, seed=7)
    b = np.random.default_rng(8).random(200)
    solver = LinearSolver(max_fill=0.5)  # every LU "fills in" beyond half the matrix's nonzeros
    solver.solve(A, b)
    assert solver.last_method == "splu" and solver.krylov_first
    x = solver.solve(A, b)
    assert solver.last_method == "bicgstab" and relative_residual(A, x, b) <= 1e-8
    lenient = LinearSolver(max_fill=1e9)
    lenient.solve(A, b)
    lenient.solve(A, b)
    assert lenient.last_method == "splu" and not lenient.krylov_first


def test_symmetric_gauss_seidel_kernel_against_the_formula():
    rng = np.random.default_rng(9)
    n = 5
    M = rng.random((n, n)) * (rng.random((n, n)) < 0.6)
    np.fill_diagonal(M, 3.0 + rng.random(n))
    b = rng.random(n)
    expected = np.zeros(n)
    for i in list(range(n)) + list(range(n - 1, -1, -1)):  # forward pass, then backward pass
        expected[i] = (b[i] - sum(M[i, j] * expected[j] for j in range(n) if j != i)) / M[i, i]
    A = sp.csr_matrix(M)
    x = np.zeros(n)
    ks.csr_symmetric_gauss_seidel(A.indptr, A.indices, A.data, 1.0 / A.diagonal(), b, x, 1)
    np.testing.assert_allclose(x, expected, rtol=1e-14, atol=0)
    ks.csr_symmetric_gauss_seidel(A.indptr, A.indices, A.data, 1.0 / A.diagonal(), b, x, 60)
    np.testing.assert_allclose(x, np.linalg.solve(M, b), rtol=1e-12, atol=0)
