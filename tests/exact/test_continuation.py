"""Continuation never steps over a fold: an analytic scalar fold, and a random EMPO world whose branch folds."""
import math

import numpy as np
import pytest
import scipy.sparse as sp

import empo_tabular as et
from empo_tabular.exact.branch import (det_sign, passes_branch_test, permutation_sign, rightmost_at_fixed_point,
                                       rightmost_eigenvalue)
from empo_tabular.exact.continuation import NewtonOutcome, continuation, newton
from empo_tabular.exact.system import NewtonSystem, newton_at_beta

BETA_FOLD = 5.0


def scalar_solve_at(beta, z0):
    """Newton on F(z) = (BETA_FOLD - beta - z^2)(z + 10) = 0, written as the fixed point of G(z) = z + F(z).

    Branch from beta = 0: z = +sqrt(BETA_FOLD - beta), which folds at beta = BETA_FOLD (it meets
    z = -sqrt(...)); the sheet z = -10 exists for every beta, far away.
    """
    def F(z):
        return (BETA_FOLD - beta - z[0] ** 2) * (z[0] + 10.0)

    def dF(z):
        return -2.0 * z[0] * (z[0] + 10.0) + (BETA_FOLD - beta - z[0] ** 2)

    return newton(lambda z: (np.array([F(z)]), abs(F(z))), lambda z: sp.csr_matrix([[-dF(z)]]), z0, tol=1e-13)


def test_scalar_fold_is_found_and_not_stepped_over():
    out = continuation(scalar_solve_at, np.array([math.sqrt(BETA_FOLD)]), 8.0)
    assert not out.converged
    assert abs(out.fold_beta - BETA_FOLD) < 1e-3
    assert out.z[0] > 0.0 and abs(out.z[0] - math.sqrt(BETA_FOLD - out.beta)) < 1e-9
    assert f"fold at beta = {out.fold_beta:.6g}" in out.message


def jumping_solve_at(beta, z0):
    """A corrector that, past the fold of z = sqrt(BETA_FOLD - beta), converges to the far sheet z = -10
    (as a fast fixed-point method may): continuation must refuse that step, not return -10."""
    z = math.sqrt(BETA_FOLD - beta) if beta <= BETA_FOLD else -10.0
    return NewtonOutcome(np.array([z]), 0.0, 3, True)


def test_a_corrector_landing_on_another_sheet_is_rejected():
    out = continuation(jumping_solve_at, np.array([math.sqrt(BETA_FOLD)]), 8.0)
    assert not out.converged and out.z[0] > 0.0
    assert abs(out.fold_beta - BETA_FOLD) < 1e-3
    assert "another sheet" in out.message


def test_a_resumed_continuation_checks_its_first_step_against_the_secant_before():
    # resuming at beta = 4.9 (a grid point of the analyzer's branch following): the first step of 1.0 crosses the
    # fold and the corrector lands on z = -10.  Without a point before the start that step has nothing to be
    # checked against; with the previous grid point's secant it is rejected and the fold found.
    def resumed(t, z0):
        return jumping_solve_at(4.9 + t, z0)

    start = np.array([math.sqrt(BETA_FOLD - 4.9)])
    blind = continuation(resumed, start, 3.0)
    assert blind.converged and blind.z[0] == -10.0  # what the check guards against
    out = continuation(resumed, start, 3.0, previous=(-0.1, np.array([math.sqrt(BETA_FOLD - 4.8)])))
    assert not out.converged and out.z[0] > 0.0 and "another sheet" in out.message
    assert abs(4.9 + out.fold_beta - BETA_FOLD) < 1e-3


def test_scalar_branch_below_the_fold_is_followed():
    out = continuation(scalar_solve_at, np.array([math.sqrt(BETA_FOLD)]), 4.5)
    assert out.converged and out.fold_beta is None
    assert abs(out.z[0] - math.sqrt(0.5)) < 1e-10


# A random 8-state stationary world (found by searching seeds of this family) whose Phase 2 branch from
# beta_r = 0 ends at a fold near beta_r = 89.17: sigma_min(I - J) falls to 0 there (checked below).
FOLD_WORLD = dict(n_states=8, n_actions=2, n_goals=2, concentration=0.2, branching=2, goal_density=0.3, seed=11)
FOLD_PARAMS = et.EmpoParams(beta_r=100.0, gamma_r=0.9, gamma_h=0.9)


@pytest.fixture(scope="module")
def fold_case():
    w = et.random_world(**FOLD_WORLD)
    return w, et.solve_phase1(w, FOLD_PARAMS)


def sigma_min(w, prior, p, beta, z0):
    system = NewtonSystem(w, prior, p)
    out = newton_at_beta(system, 1e-12)(beta, z0)
    assert out.converged
    return np.linalg.svd(system.newton_matrix(out.z, beta).toarray(), compute_uv=False)[-1], out.z


def test_the_fold_world_really_folds(fold_case):
    """Independent of the continuation code: Newton in fixed steps of 0.5, and the smallest singular value of
    I - J, which tends to 0 at a fold (and only there along a smooth branch)."""
    w, prior = fold_case
    system = NewtonSystem(w, prior, FOLD_PARAMS)
    solve_at = newton_at_beta(system, 1e-12)
    z = solve_at(0.0, system.beta0_start()).z
    sig = {}
    for beta in np.arange(0.5, 89.01, 0.5):
        out = solve_at(float(beta), z)
        assert out.converged, beta
        z = out.z
        if beta in (50.0, 89.0):
            sig[beta] = np.linalg.svd(system.newton_matrix(z, float(beta)).toarray(), compute_uv=False)[-1]
    assert sig[89.0] < 0.06 * sig[50.0]


def test_asking_past_the_fold_raises_with_the_fold_beta(fold_case):
    w, prior = fold_case
    with pytest.raises(et.ConvergenceError, match=r"fold at beta_r = 89\.1\d") as info:
        et.solve_phase2(w, prior, FOLD_PARAMS)
    part = info.value.partial
    assert 89.1 < part.fold_beta < 89.18 and not part.converged and part.status == 1


def test_newton_past_the_fold_warns_with_the_fold_beta(fold_case):
    w, prior = fold_case
    with pytest.warns(RuntimeWarning, match=r"fold at beta_r = 89\.1\d"):
        sol = et.solve_phase2(w, prior, FOLD_PARAMS, method="newton", strict=False)
    assert 89.1 < sol.fold_beta < 89.18 and not sol.converged


def test_just_below_the_fold_both_methods_stay_on_the_branch(fold_case):
    """At beta_r = 89 the fold's middle sheet is within 1% of the branch.  A Newton step from 63 to 89 lands on
    it (the step passes the distance test); the sign of det(I - J) rejects it.  Reference: Newton in fixed
    steps of 0.5 from beta_r = 0."""
    w, prior = fold_case
    p = FOLD_PARAMS.replace(beta_r=89.0)
    system = NewtonSystem(w, prior, p)
    solve_at = newton_at_beta(system, 1e-12)
    z = solve_at(0.0, system.beta0_start()).z
    for beta in np.arange(0.5, 89.01, 0.5):
        z = solve_at(float(beta), z).z
    _, VE, V = system.split(z)
    for method in ("auto", "newton"):
        sol = et.solve_phase2(w, prior, p, method=method)
        assert sol.fold_beta is None
        np.testing.assert_allclose(sol.V_r, V, rtol=1e-9, err_msg=method)
        np.testing.assert_allclose(sol.V_h_e, VE, atol=1e-9, err_msg=method)


def test_det_sign_and_permutation_sign_by_hand():
    rng = np.random.default_rng(0)
    for n in (1, 2, 5, 9):
        for _ in range(5):
            A = rng.normal(size=(n, n))
            assert det_sign(sp.csr_matrix(A)) == np.sign(np.linalg.det(A))
    assert permutation_sign([0, 1, 2]) == 1 and permutation_sign([1, 0, 2]) == -1
    assert permutation_sign([1, 2, 0]) == 1 and permutation_sign([3, 2, 1, 0]) == 1
    assert det_sign(sp.csr_matrix(np.array([[1.0, 2.0], [2.0, 4.0]]))) == 0


def test_rightmost_eigenvalue_of_an_affine_map():
    rng = np.random.default_rng(1)
    n = 40
    Vq = np.linalg.qr(rng.normal(size=(n, n)))[0]
    lam = np.concatenate([[0.97, -0.99], np.linspace(-0.5, 0.9, n - 2)])
    A = Vq @ np.diag(lam) @ Vq.T
    b = rng.normal(size=n)
    x = np.linalg.solve(np.eye(n) - A, b)
    got = rightmost_eigenvalue(lambda y: A @ y + b, x, A @ x + b, tol=1e-10)
    assert abs(got - 0.97) < 1e-6


def affine_map(eigs, seed=2, complex_pair=None):
    """``y -> A y + b`` with ``A = V diag(eigs) V^-1`` (plus an optional 2x2 rotation block) and its fixed point."""
    rng = np.random.default_rng(seed)
    n = len(eigs) + (2 if complex_pair is not None else 0)
    D = np.zeros((n, n))
    D[np.arange(len(eigs)), np.arange(len(eigs))] = eigs
    if complex_pair is not None:  # real block [[a, -b], [b, a]] has the eigenvalues a +- i b
        a, bb = complex_pair
        D[n - 2:, n - 2:] = [[a, -bb], [bb, a]]
    Vq = rng.normal(size=(n, n)) + 3.0 * np.eye(n)
    A = Vq @ D @ np.linalg.inv(Vq)
    b = rng.normal(size=n)
    x = np.linalg.solve(np.eye(n) - A, b)
    return (lambda y: A @ y + b), x


@pytest.mark.parametrize("eigs, pair, passes", [
    (np.linspace(-0.5, 0.8, 80), None, True),                      # well inside: the screen decides
    (np.concatenate([[0.98], np.linspace(-0.5, 0.8, 79)]), None, True),   # in the band: repeated tightly
    (np.concatenate([[1.3], np.linspace(-0.5, 0.8, 79)]), None, False),   # a real eigenvalue above 1 (a fold's middle sheet)
    (np.linspace(-0.5, 0.8, 78), (0.9, 0.6), True),                # |lambda| = 1.08 but Re lambda = 0.9 < 1
    (np.linspace(-0.5, 0.8, 78), (1.05, 0.3), False),              # a complex pair right of 1
])
def test_branch_test_on_affine_maps_with_known_spectra(eigs, pair, passes):
    g, x = affine_map(eigs, complex_pair=pair)
    lam = rightmost_at_fixed_point(g, x)
    expected = max(max(eigs), pair[0] if pair is not None else -np.inf)
    assert abs(lam.real - expected) < 2e-2 * max(1.0, abs(expected))
    assert passes_branch_test(lam) is passes


def test_phase1_default_falls_back_to_newton_when_the_branch_test_fails(monkeypatch):
    # plumbing: a failed branch test must make the sweep solver report non-convergence and `auto` fall back
    import empo_tabular.exact.phase1 as phase1_module
    w = et.random_world(30, n_actions=2, n_goals=2, seed=3)
    p = et.EmpoParams(beta_h=5.0, gamma_h=0.9)
    monkeypatch.setattr(phase1_module, "rightmost_at_fixed_point", lambda g, x, secant=None: complex(1.2, 0.0))
    prior = et.solve_phase1(w, p)
    assert prior.method == "newton_continuation" and prior.converged
    assert "after anderson_continuation failed: branch test failed" in prior.message
    assert "1.2" in prior.message
    with pytest.warns(RuntimeWarning, match="branch test failed"):
        alone = et.solve_phase1(w, p, method="anderson", strict=False)
    assert not alone.converged
