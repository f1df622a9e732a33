"""Calibration tests of the generic contraction analyzer (CONTRACTION_THEORY §6, P9, P10, P12).

Known answers: affine maps F(x) = A x + b with a prescribed spectrum (every indicator is a
closed-form matrix quantity), and the Asadi-Littman two-state MDP with the Boltzmann operator
(a fold: three fixed points in a narrow window of beta).
"""
import json
import math
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from empo_tabular.contraction import (
    FixedPointSet,
    MapReport,
    alpha_best_from_eigenvalues,
    analyze_map,
    damped_rate,
    fd_jacobian,
    find_fixed_points,
    iterate_damped,
    predict_convergence_region,
)

# --------------------------------------------------------------------------------------------
# helpers


def block_matrix(spectrum):
    """Real block-diagonal matrix with the given spectrum (complex values stand for conjugate pairs)."""
    blocks = []
    for lam in spectrum:
        lam = complex(lam)
        if lam.imag == 0:
            blocks.append(np.array([[lam.real]]))
        else:
            blocks.append(np.array([[lam.real, lam.imag], [-lam.imag, lam.real]]))
    n = sum(b.shape[0] for b in blocks)
    B = np.zeros((n, n))
    i = 0
    for b in blocks:
        k = b.shape[0]
        B[i:i + k, i:i + k] = b
        i += k
    return B


def full_spectrum(spectrum):
    out = []
    for lam in spectrum:
        lam = complex(lam)
        out += [lam] if lam.imag == 0 else [lam, lam.conjugate()]
    return np.array(out)


def affine_map(spectrum, seed=0):
    """F(x) = A x + b with A = V B V^-1 similar to ``block_matrix(spectrum)``; returns F, A, x*."""
    rng = np.random.default_rng(seed)
    B = block_matrix(spectrum)
    n = B.shape[0]
    V = np.eye(n) + 0.8 * rng.standard_normal((n, n)) / math.sqrt(n)
    A = V @ B @ np.linalg.inv(V)
    b = rng.standard_normal(n)
    x_star = np.linalg.solve(np.eye(n) - A, b)
    return (lambda x: A @ x + b), A, x_star


def rel(a, b):
    return abs(a - b) / max(1.0, abs(b))


SPECTRA = {
    "real": [0.9, 0.5, -0.3, 0.1],
    "complex_pair": [0.8, complex(0.3, 0.6), -0.5],
    "negative_dominant": [-0.95, 0.6, complex(0.2, 0.1)],
    "flip_unstable": [-1.4, 0.5, 0.2],
}


# --------------------------------------------------------------------------------------------
# affine maps: every indicator exact


@pytest.mark.parametrize("name", sorted(SPECTRA))
def test_affine_map_indicators_exact(name):
    spectrum = SPECTRA[name]
    F, A, x_star = affine_map(spectrum, seed=1)
    lam = full_spectrum(spectrum)
    rep = analyze_map(F, x_star, n_samples=50, keep_jacobian=True)
    assert rep.jacobian_method == "dense_fd" and rep.n == A.shape[0]
    assert rep.residual < 1e-12 * max(1.0, np.max(np.abs(x_star)))
    np.testing.assert_allclose(rep.jacobian, A, rtol=0, atol=1e-7 * max(1.0, np.max(np.abs(A))))
    absA = np.abs(A)
    assert rel(rep.sup_norm, absA.sum(1).max()) < 1e-7
    D = np.abs(x_star)
    assert rel(rep.log_norm, (absA * D[None, :] / D[:, None]).sum(1).max()) < 1e-7
    assert rel(rep.rho_abs, np.max(np.abs(np.linalg.eigvals(absA)))) < 1e-7
    assert rel(rep.rho, np.max(np.abs(lam))) < 1e-7
    assert rel(rep.max_re, np.max(lam.real)) < 1e-7
    dom = lam[np.argmax(np.abs(lam))]
    dom = complex(dom.real, abs(dom.imag))
    assert abs(rep.dominant_eigenvalue - dom) < 1e-7
    v = rep.dominant_eigenvector
    assert np.linalg.norm(A @ v - rep.dominant_eigenvalue * v) < 1e-6 and abs(np.linalg.norm(v) - 1) < 1e-12
    # Perron weights: Collatz-Wielandt equality max_i (|A| w)_i / w_i = rho(|A|)
    w = rep.perron_weights
    assert np.all(w > 0) and rel(np.max(absA @ w / w), rep.rho_abs) < 1e-6
    # P12 ordering
    assert rep.sup_norm >= rep.rho_abs - 1e-9 >= rep.rho - 2e-9 >= rep.max_re - 3e-9
    # damping limit and best step
    z = 1 - lam
    assert rel(rep.alpha_max, np.min(2 * z.real / np.abs(z) ** 2)) < 1e-7
    grid = np.linspace(1e-4, 3 * rep.alpha_max, 30001)
    rates = np.max(np.abs(1 - grid[:, None] * z[None, :]), axis=1)
    assert rep.alpha_best_rate <= rates.min() + 1e-9
    assert abs(rep.alpha_best - grid[np.argmin(rates)]) < 1e-3
    assert rel(rep.alpha_best_rate, np.max(np.abs(1 - rep.alpha_best * z))) < 1e-7
    # lower bounds: below ||A||_inf, and the adversary reaches it
    norm = absA.sum(1).max()
    assert rep.lower_bound_sampled <= norm + 1e-12 * max(1, norm)
    assert rep.lower_bound_sampled >= 0.05 * norm  # a real ratio was computed
    assert abs(rep.lower_bound_adversarial - norm) <= 1e-6 * norm
    assert rep.lower_bound_adversarial >= rep.lower_bound_sampled


def test_alpha_best_closed_form_for_real_spectrum():
    F, A, x_star = affine_map([-0.7, -0.2, 0.4, 0.85], seed=2)
    rep = analyze_map(F, x_star, n_samples=0, adversarial=False, picard_steps=0)
    assert rel(rep.alpha_best, 2 / (2 - (-0.7) - 0.85)) < 1e-7
    assert rel(rep.alpha_best_rate, (0.85 + 0.7) / (2 + 0.7 - 0.85)) < 1e-7
    assert math.isnan(rep.picard_ratio) and math.isnan(rep.lower_bound_sampled)


@settings(deadline=None, max_examples=30)
@given(st.lists(st.tuples(st.floats(-3, 0.99), st.floats(0, 2), st.booleans()), min_size=1, max_size=6))
def test_alpha_best_is_the_minimax_step(spec):
    lam = []
    for re, im, pair in spec:
        lam += [complex(re, im), complex(re, -im)] if pair and im > 0 else [complex(re, 0)]
    lam = np.array(lam)
    a_best, rate = alpha_best_from_eigenvalues(lam)
    z = 1 - lam
    grid = np.linspace(0, 4 / np.min(z.real), 20001)
    rates = np.max(np.abs(1 - grid[:, None] * z[None, :]), axis=1)
    assert rate <= rates.min() + 1e-10
    assert abs(rate - np.max(np.abs(1 - a_best * z))) < 1e-12
    if np.all(lam.imag == 0):
        assert rel(a_best, 2 / (2 - lam.real.min() - lam.real.max())) < 1e-9


@settings(deadline=None, max_examples=12)
@given(st.integers(1, 7), st.integers(0, 10_000), st.floats(0.2, 3.0))
def test_random_affine_maps(n, seed, scale):
    rng = np.random.default_rng(seed)
    A = scale * rng.standard_normal((n, n)) / math.sqrt(n)
    b = rng.standard_normal(n)
    x_star = rng.uniform(-3, 3, n)  # any point: the indicators of an affine map do not depend on it
    F = lambda x: A @ x + b  # noqa: E731
    rep = analyze_map(F, x_star, n_samples=40, picard_steps=0, seed=seed)
    lam = np.linalg.eigvals(A)
    norm = np.abs(A).sum(1).max()
    assert rel(rep.sup_norm, norm) < 1e-7
    assert rel(rep.rho_abs, np.max(np.abs(np.linalg.eigvals(np.abs(A))))) < 1e-7
    assert rel(rep.rho, np.max(np.abs(lam))) < 1e-7
    assert rel(rep.max_re, np.max(lam.real)) < 1e-7
    assert rep.sup_norm >= rep.rho_abs - 1e-9 >= rep.rho - 2e-9 >= rep.max_re - 3e-9
    assert rep.lower_bound_sampled <= norm + 1e-12 * max(1.0, norm)
    assert abs(rep.lower_bound_adversarial - norm) <= 1e-6 * norm


# --------------------------------------------------------------------------------------------
# damping, Picard ratio, period 2


@pytest.mark.parametrize("spectrum", [[-1.5, 0.5, 0.3], [-1.5, complex(0.5, 1.2), 0.2]])
def test_damping_converges_below_alpha_max_and_not_above(spectrum):
    F, A, x_star = affine_map(spectrum, seed=3)
    rep = analyze_map(F, x_star, n_samples=0, adversarial=False, picard_steps=0)
    assert 0 < rep.alpha_max < 1
    x0 = x_star + 0.1
    _, err_ok = iterate_damped(F, x0, 0.9 * rep.alpha_max, 2000, x_star=x_star)
    _, err_bad = iterate_damped(F, x0, 1.1 * rep.alpha_max, 2000, x_star=x_star)
    assert err_ok[-1] < 1e-8 * err_ok[0]
    assert err_bad[-1] > 1e3 * err_bad[0]
    assert damped_rate(A, 0.9 * rep.alpha_max) < 1 < damped_rate(A, 1.1 * rep.alpha_max)
    assert abs(damped_rate(A, rep.alpha_max) - 1) < 1e-9
    # plain iteration diverges here (rho > 1), with a flip
    assert rep.rho > 1 and rep.max_re < 1


def test_picard_ratio_tracks_real_dominant_eigenvalue():
    F, A, x_star = affine_map([0.95, 0.5, -0.4, complex(0.3, 0.2)], seed=4)
    rep = analyze_map(F, x_star, n_samples=0, adversarial=False)
    assert abs(rep.picard_ratio - 0.95) < 1e-3
    assert rep.period2 is False and rep.period2_amplitude == 0.0


def test_period2_detected_for_negative_dominant_eigenvalue():
    F, A, x_star = affine_map([-0.9, 0.5, 0.2], seed=5)
    rep = analyze_map(F, x_star, n_samples=0, adversarial=False)
    assert rep.period2 is True
    assert abs(rep.picard_ratio - 0.9) < 1e-3
    F2, _, x2 = affine_map([0.9, 0.5, 0.2], seed=5)
    assert analyze_map(F2, x2, n_samples=0, adversarial=False).period2 is False


def test_period2_orbit_of_the_logistic_map():
    r = 3.2  # fixed point 1 - 1/r has slope 2 - r = -1.2; a stable 2-cycle exists for 3 < r < 1 + sqrt(6)
    F = lambda x: r * x * (1 - x)  # noqa: E731
    rep = analyze_map(F, np.array([1 - 1 / r]), n_samples=0, adversarial=False, picard_steps=400)
    assert abs(rep.dominant_eigenvalue - (-1.2)) < 1e-7 and abs(rep.alpha_max - 2 * 2.2 / 2.2 ** 2) < 1e-7
    assert rep.period2 and rep.period2_orbit
    assert abs(rep.picard_ratio - 1.2) < 0.02
    disc = math.sqrt((r + 1) * (r - 3))
    cycle = ((r + 1 + disc) / (2 * r), (r + 1 - disc) / (2 * r))
    assert abs(rep.period2_amplitude - abs(cycle[0] - cycle[1]) / 2) < 1e-9


# --------------------------------------------------------------------------------------------
# convergence-region prediction


def test_predict_convergence_region_matches_brute_force():
    rng = np.random.default_rng(6)
    n = 7
    J = rng.standard_normal((n, n)) * 0.6
    fast = np.array([True, True, False, True, False, False, True])
    a_values, kappa_values = np.array([0.05, 0.3, 1.0]), np.array([0.01, 0.1, 1.0, 10.0])
    pred = predict_convergence_region(J, fast, a_values, kappa_values)
    assert pred.shape == (3, 4)
    for i, a in enumerate(a_values):
        for j, kappa in enumerate(kappa_values):
            d = np.where(fast, a, kappa * a)
            brute = np.max(np.abs(np.linalg.eigvals(np.eye(n) + np.diag(d) @ (J - np.eye(n)))))
            assert abs(pred[i, j] - brute) < 1e-10
    # with every coordinate fast the prediction is the damped rate
    all_fast = predict_convergence_region(J, np.ones(n, bool), a_values, [1.0])[:, 0]
    np.testing.assert_allclose(all_fast, damped_rate(J, a_values), atol=1e-12)
    brute = [np.max(np.abs(np.linalg.eigvals((1 - a) * np.eye(n) + a * J))) for a in a_values]
    np.testing.assert_allclose(damped_rate(J, a_values), brute, atol=1e-12)
    # the sparse/ARPACK path agrees
    big = predict_convergence_region(sp.csr_matrix(J), fast, a_values[:1], kappa_values[:2], dense_max=3)
    np.testing.assert_allclose(big, pred[:1, :2], atol=1e-8)


# --------------------------------------------------------------------------------------------
# matrix-free and given Jacobians


def test_matrix_free_agrees_with_dense():
    spectrum = [0.97, -0.9, complex(0.5, 0.7), 0.6, 0.3, -0.2] + [0.1 * k / 30 for k in range(30)]
    F, A, x_star = affine_map(spectrum, seed=7)
    dense = analyze_map(F, x_star, n_samples=0, adversarial=False, picard_steps=0)
    free = analyze_map(F, x_star, n_samples=0, adversarial=False, picard_steps=0, dense_max=10)
    assert free.jacobian_method == "matrix_free" and not free.spectrum_complete
    assert rel(free.rho, dense.rho) < 1e-7 and rel(free.rho, 0.97) < 1e-7
    assert rel(free.max_re, dense.max_re) < 1e-7
    assert abs(free.dominant_eigenvalue - dense.dominant_eigenvalue) < 1e-7
    v = free.dominant_eigenvector
    assert np.linalg.norm(A @ v - free.dominant_eigenvalue * v) < 1e-6
    assert math.isnan(free.sup_norm) and math.isnan(free.rho_abs) and free.perron_weights is None
    assert rel(free.alpha_max, dense.alpha_max) < 1e-6
    given_sparse = analyze_map(F, x_star, jacobian=sp.csr_matrix(A), n_samples=0, adversarial=False,
                               picard_steps=0, dense_max=10)
    assert given_sparse.jacobian_method == "given"
    assert rel(given_sparse.sup_norm, np.abs(A).sum(1).max()) < 1e-12
    assert rel(given_sparse.rho_abs, dense.rho_abs) < 1e-7 and rel(given_sparse.rho, dense.rho) < 1e-9


def test_given_jacobian_callable_is_used():
    F, A, x_star = affine_map([0.5, 0.2], seed=8)
    B = 2 * A  # deliberately not F's Jacobian: the report must follow the given one
    rep = analyze_map(F, x_star, jacobian=lambda x: B, n_samples=0, adversarial=False, picard_steps=0)
    assert rep.jacobian_method == "given" and rel(rep.rho, 1.0) < 1e-12


def test_log_coordinates_report_x_coordinate_jacobian():
    rng = np.random.default_rng(9)
    n = 4
    P = rng.uniform(0, 1, (n, n))
    P /= P.sum(1, keepdims=True)

    def F(x):  # weighted geometric means on the negative orthant (log-linear: y -> P y with y = log(-x))
        return -np.exp(P @ np.log(-x))

    x_star = np.array([-3.0, -0.5, -20.0, -1e-8])
    J_exact = F(x_star)[:, None] * P / x_star[None, :]
    J_log = fd_jacobian(F, x_star, log_coords=np.ones(n, bool))
    np.testing.assert_allclose(J_log, J_exact, rtol=1e-7, atol=0)
    with np.errstate(invalid="ignore"):  # a plain step of 1e-6 crosses zero at x = -1e-8
        assert not np.all(np.isfinite(fd_jacobian(F, x_star)))
    rep = analyze_map(F, x_star, log_coords=np.ones(n, bool), n_samples=20, picard_steps=0)
    D = np.abs(x_star)
    assert rel(rep.log_norm, np.max((np.abs(J_exact) * D[None, :] / D[:, None]).sum(1))) < 1e-7
    assert np.all(rep.box_upper < 0)  # the multiplicative box stays negative
    # at a fixed point (any constant vector) D^-1 J D = P, whose rows sum to 1
    fixed = analyze_map(F, np.full(n, -1e-8), log_coords=np.ones(n, bool), n_samples=20, picard_steps=0)
    assert fixed.residual < 1e-20 and rel(fixed.log_norm, 1.0) < 1e-7 and rel(fixed.rho, 1.0) < 1e-7
    with pytest.raises(ValueError, match="log_coords"):
        analyze_map(F, -x_star, log_coords=np.ones(n, bool))


def test_report_to_dict_is_json_and_round_trips():
    F, A, x_star = affine_map([0.8, complex(0.3, 0.6)], seed=10)
    rep = analyze_map(F, x_star, n_samples=10)
    d = rep.to_dict()
    back = MapReport.from_dict(json.loads(json.dumps(d)))
    assert back.dominant_eigenvalue == rep.dominant_eigenvalue and back.rho == rep.rho
    np.testing.assert_array_equal(back.eigenvalues, rep.eigenvalues)
    assert d["dominant_eigenvalue"] == [rep.dominant_eigenvalue.real, rep.dominant_eigenvalue.imag]
    short = rep.to_dict(include_arrays=False)
    assert "eigenvalues" not in short and "perron_weights" not in short and "jacobian" not in short
    json.dumps(short)


# --------------------------------------------------------------------------------------------
# fixed points: the Asadi-Littman fold (P10)

R_AL, P_AL, GAMMA_AL = np.array([0.122, 0.033]), np.array([0.66, 0.99]), 0.98


def boltzmann_gvi(beta):
    """Generalized value iteration Q(a) = r_a + gamma p_a boltz_beta(Q) (second state terminal, value 0)."""

    def F(Q):
        w = np.exp(beta * (Q - Q.max()))
        return R_AL + GAMMA_AL * P_AL * (w @ Q) / w.sum()

    return F


def al_fixed_points_1d(beta):
    """Independent answer: fixed points of the scalar v = boltz(r + gamma p v) by bracketing."""
    F = boltzmann_gvi(beta)

    def h(v):
        Q = R_AL + GAMMA_AL * P_AL * v
        w = np.exp(beta * (Q - Q.max()))
        return (w @ Q) / w.sum() - v

    grid = np.linspace(0, 2, 4001)
    vals = np.array([h(v) for v in grid])
    roots = [brentq(h, grid[i], grid[i + 1], xtol=1e-15) for i in np.flatnonzero(np.sign(vals[:-1]) != np.sign(vals[1:]))]
    return np.array([R_AL + GAMMA_AL * P_AL * v for v in roots]), F


@pytest.mark.parametrize("beta, count", [(16.5, 1), (16.95, 3), (17.5, 1)])
def test_asadi_littman_fixed_point_count(beta, count):
    expected, F = al_fixed_points_1d(beta)
    assert len(expected) == count
    lower, upper = np.zeros(2), np.full(2, 12.0)
    assert np.all(expected > lower) and np.all(expected < upper)
    fps = find_fixed_points(F, lower, upper, 20, seed=0)
    assert isinstance(fps, FixedPointSet) and fps.shape == (count, 2) and len(fps) == count
    np.testing.assert_allclose(fps.points, expected, atol=1e-9)
    assert np.all(fps.residual < 1e-12)
    if count == 3:
        assert list(fps.stable) == [True, False, True]
        assert fps.rho[1] > 1 and fps.rho[0] < 1 and fps.rho[2] < 1
        mid = fps.dominant_eigenvalue[1]
        assert mid.imag == 0 and mid.real > 1  # a fold: real eigenvalue through +1
        # the analyzer agrees: no damping can stabilise the middle point
        rep = analyze_map(F, fps[1], n_samples=0, adversarial=False, picard_steps=0)
        assert rep.alpha_max == 0 and rep.alpha_best == 0 and rep.max_re > 1
        assert abs(rep.rho - fps.rho[1]) < 1e-7
    else:
        assert fps.stable.all()


def test_fixed_point_set_behaves_like_an_array():
    _, F = al_fixed_points_1d(16.95)
    fps = find_fixed_points(F, [0, 0], [2, 2], 10, seed=1)
    assert fps.n_starts == 10 and fps.n_converged >= 3
    assert np.all(np.diff(fps[:, 0]) > 0)  # sorted lexicographically
    tail = fps[1:]
    assert isinstance(tail, FixedPointSet) and tail.shape == (2, 2)
    np.testing.assert_array_equal(tail.rho, fps.rho[1:])
    stable = fps[fps.stable]
    assert len(stable) == 2 and stable.stable.all()
    picked = fps[[2, 0]]
    np.testing.assert_array_equal(picked.residual, fps.residual[[2, 0]])
    row = fps[0]
    assert type(row) is np.ndarray and row.shape == (2,)
    assert type(fps.sum(axis=0)) is np.ndarray
    copy = pickle.loads(pickle.dumps(fps))
    np.testing.assert_array_equal(copy.rho, fps.rho)
    json.dumps(fps.to_dict())


def test_find_fixed_points_on_affine_and_fixed_point_free_maps():
    F, A, x_star = affine_map([0.9, -1.3, complex(0.4, 0.8)], seed=11)  # unstable (flip) but unique
    fps = find_fixed_points(F, x_star - 5, x_star + 5, 5, seed=0)
    assert fps.shape == (1, 4)
    np.testing.assert_allclose(fps[0], x_star, atol=1e-10)
    assert not fps.stable[0] and abs(fps.rho[0] - 1.3) < 1e-7
    shifted = find_fixed_points(lambda x: x + 1.0, [-1.0], [1.0], 3, seed=0)
    assert shifted.shape == (0, 1) and len(shifted.rho) == 0
    neg = find_fixed_points(lambda x: 0.5 * x - 1.0, [-10.0], [-1e-3], 4, seed=0, log_uniform=True)
    np.testing.assert_allclose(neg.points, [[-2.0]], atol=1e-12)


# --------------------------------------------------------------------------------------------
# input errors


def _lin(x):
    return 0.5 * x


def test_error_non_square_jacobian():
    with pytest.raises(ValueError, match=r"jacobian.*shape \(3, 3\).*\(3, 2\)|jacobian must be a square.*\(3, 2\)"):
        analyze_map(_lin, np.ones(3), jacobian=np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"J must be a square.*\(2, 3\)"):
        predict_convergence_region(np.ones((2, 3)), [True, False], [0.1], [1.0])
    with pytest.raises(ValueError, match=r"J must be a square"):
        damped_rate(np.ones(3), 0.5)


def test_error_x_star_not_1d():
    with pytest.raises(ValueError, match=r"x_star must be a 1-D array, got shape \(2, 2\)"):
        analyze_map(_lin, np.ones((2, 2)))


def test_error_F_returns_wrong_shape():
    with pytest.raises(ValueError, match=r"F must return a 1-D array of shape \(3,\), got shape \(2,\)"):
        analyze_map(lambda x: x[:2], np.ones(3))
    with pytest.raises(ValueError, match=r"shape \(2,\), got shape \(1, 2\)"):
        find_fixed_points(lambda x: x[None, :], [0, 0], [1, 1], 2)
    with pytest.raises(TypeError, match="F must be callable"):
        analyze_map(np.eye(2), np.ones(2))


def test_error_n_starts():
    with pytest.raises(ValueError, match="n_starts must be >= 1, got 0"):
        find_fixed_points(_lin, [0.0], [1.0], 0)
    with pytest.raises(TypeError, match="n_starts must be an integer"):
        find_fixed_points(_lin, [0.0], [1.0], 2.5)


def test_error_box():
    with pytest.raises(ValueError, match=r"lower must be < upper.*entry \[1\]"):
        find_fixed_points(_lin, [0.0, 1.0], [1.0, 1.0], 3)
    with pytest.raises(ValueError, match="pass dim=n"):
        find_fixed_points(_lin, 0.0, 1.0, 3)
    with pytest.raises(ValueError, match="log_uniform=True needs a box that excludes 0"):
        find_fixed_points(_lin, [-1.0], [1.0], 3, log_uniform=True)
    with pytest.raises(ValueError, match="box .* must be finite and > 0"):
        analyze_map(_lin, np.ones(2), box=-0.1)
    with pytest.raises(ValueError, match=r"box\[0\] \(lower\) must be < box\[1\] \(upper\).*entry \[0\]"):
        analyze_map(_lin, np.ones(2), box=(np.ones(2), np.zeros(2)))


def test_error_other_arguments():
    with pytest.raises(ValueError, match=r"fast_mask must have shape \(2,\)"):
        predict_convergence_region(np.eye(2), [True], [0.1], [1.0])
    with pytest.raises(ValueError, match="kappa_values .* must be > 0"):
        predict_convergence_region(np.eye(2), [True, False], [0.1], [0.0])
    with pytest.raises(ValueError, match="n_steps must be >= 0"):
        iterate_damped(_lin, np.ones(2), 0.5, -1)
    with pytest.raises(ValueError, match="h_rel must be finite and > 0"):
        analyze_map(_lin, np.ones(2), h_rel=0.0)
    with pytest.raises(ValueError, match=r"x_star must have the shape of x0"):
        iterate_damped(_lin, np.ones(2), 0.5, 3, x_star=np.ones(3))
