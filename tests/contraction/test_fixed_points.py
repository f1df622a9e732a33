"""The multiplicity search with an analytic Jacobian, user starts, log coordinates and worker processes.

Oracle: the cubic map ``F(x) = x + c (x+1)(x+2)(x+3)`` has the fixed points -1, -2, -3 with slopes
``1 + c F'`` computed by hand: ``1 + 2c``, ``1 - c``, ``1 + 2c``.
"""
import numpy as np
import pytest

from empo_tabular.contraction import find_fixed_points

C = 0.1


def cubic(x):
    return x + C * (x + 1.0) * (x + 2.0) * (x + 3.0)


def cubic_jacobian(x):
    d = 3.0 * x ** 2 + 12.0 * x + 11.0  # d/dx (x+1)(x+2)(x+3)
    return np.array([[1.0 + C * d[0]]])


def test_log_coordinates_with_analytic_jacobian_find_all_three():
    fps = find_fixed_points(cubic, [-4.0], [-0.5], 12, seed=0, log_coords=True, jacobian=cubic_jacobian)
    np.testing.assert_allclose(np.sort(fps.points.ravel()), [-3.0, -2.0, -1.0], atol=1e-10)
    order = np.argsort(fps.points.ravel())
    np.testing.assert_allclose(fps.rho[order], [1 + 2 * C, 1 - C, 1 + 2 * C], atol=1e-12)
    assert list(fps.stable[order]) == [False, True, False]
    assert fps.jacobian_kind == "analytic" and fps.log_coords and fps.n_starts == 12


def test_user_starts_alone_find_their_point():
    fps = find_fixed_points(cubic, [-4.0], [-0.5], 0, starts=[[-1.05]], jacobian=cubic_jacobian,
                            log_coords=True, bridge_rounds=0)
    np.testing.assert_allclose(fps.points.ravel(), [-1.0], atol=1e-10)
    assert fps.n_user_starts == 1 and fps.n_starts == 0


def test_processes_find_the_same_points():
    one = find_fixed_points(cubic, [-4.0], [-0.5], 8, seed=2, log_coords=True, jacobian=cubic_jacobian)
    two = find_fixed_points(cubic, [-4.0], [-0.5], 8, seed=2, log_coords=True, jacobian=cubic_jacobian, n_jobs=2)
    np.testing.assert_allclose(two.points, one.points, atol=1e-12)


def test_search_errors():
    with pytest.raises(ValueError, match="fd_max_dim"):
        find_fixed_points(lambda x: 0.5 * x, -np.ones(200), np.ones(200), 2)
    with pytest.raises(ValueError, match="starts must have shape"):
        find_fixed_points(cubic, [-4.0], [-0.5], 1, starts=np.ones((2, 3)))
    with pytest.raises(ValueError, match="sign of the box"):
        find_fixed_points(cubic, [-4.0], [-0.5], 1, starts=[[1.0]], log_coords=True)
    with pytest.raises(TypeError, match="jacobian must be callable"):
        find_fixed_points(cubic, [-4.0], [-0.5], 1, jacobian=np.eye(1))
    with pytest.raises(ValueError, match="n_jobs"):
        find_fixed_points(cubic, [-4.0], [-0.5], 1, n_jobs=0)


# A map whose Newton step from y = log|x| = 0 overflows: log|F(x)| = y^2 + (1 + EPS) y - 1 in y = log(-x), so
# G(y) = y^2 + EPS y - 1 (roots y = (-EPS +- sqrt(EPS^2 + 4)) / 2, by hand) and G'(0) = EPS: the full step is 1/EPS.
EPS = 1e-12


def overflowing(x):
    if not np.all(np.isfinite(x)):
        raise ValueError("F called at a non-finite point")
    y = np.log(-x)
    with np.errstate(over="ignore"):
        return -np.exp(y * y + (1.0 + EPS) * y - 1.0)


def overflowing_jacobian(x):
    y = np.log(-x[0])
    return np.array([[overflowing(x)[0] * (2.0 * y + 1.0 + EPS) / x[0]]])


def test_a_step_that_overflows_fails_quietly_and_never_reaches_f():
    """From x = -1 Newton steps to y = 1e12, where exp(y) = inf: that trial must fail like a point outside F's
    domain (F is never called at a non-finite x); the other starts still find both roots."""
    fps = find_fixed_points(overflowing, [-10.0], [-0.1], 6, seed=0, log_coords=True, jacobian=overflowing_jacobian,
                            starts=[[-1.0]])
    roots = [(-EPS - np.sqrt(EPS ** 2 + 4.0)) / 2.0, (-EPS + np.sqrt(EPS ** 2 + 4.0)) / 2.0]
    np.testing.assert_allclose(np.sort(fps.points.ravel()), np.sort(-np.exp(roots)), rtol=1e-12)


def test_the_newton_polish_stops_soon_at_rounding_level():
    """Once the full Newton step no longer lowers the residual (rounding level), the polish gives up after a few
    step lengths instead of the line search's 30 halvings (30 evaluations of F per start, a third of a start at
    n = 600).  A 40-dimensional contraction x = tanh(M x) / 2 + b, started at b: its point has ||F(x) - x|| at
    rounding level, and the whole search evaluates F 23 times (49 with 30 trial steps in the polish)."""
    n = 40
    rng = np.random.default_rng(3)
    M = rng.normal(size=(n, n)) / np.sqrt(n)
    b = -2.0 - rng.uniform(size=n)
    calls = []

    def F(x):
        calls.append(1)
        return 0.5 * np.tanh(M @ x) + b

    def jac(x):
        return 0.5 * (1.0 - np.tanh(M @ x) ** 2)[:, None] * M

    fps = find_fixed_points(F, np.full(n, -4.0), np.full(n, -0.5), 0, starts=[b], jacobian=jac, log_coords=True,
                            bridge_rounds=0)
    x = fps.points[0]
    assert fps.shape == (1, n) and np.max(np.abs(0.5 * np.tanh(M @ x) + b - x)) <= 4e-15
    assert len(calls) <= 30, len(calls)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_the_search_runs_blas_on_one_thread(n_jobs):
    """OpenBLAS threads made the 600-unknown benchmark 3-4x slower on a shared 2-core machine: F (and the
    Jacobian) run with BLAS pinned to one thread, in this process and in the forked workers, even when the
    caller allowed two."""
    import multiprocessing as mp

    from threadpoolctl import threadpool_info, threadpool_limits

    calls, top = mp.get_context("fork").Value("i", 0), mp.get_context("fork").Value("i", 0)  # shared with workers

    def F(x):
        threads = max([d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"], default=1)
        with calls.get_lock():
            calls.value += 1
            top.value = max(top.value, threads)
        return cubic(x)

    with threadpool_limits(limits=2, user_api="blas"):
        fps = find_fixed_points(F, [-4.0], [-0.5], 4, seed=0, log_coords=True, jacobian=cubic_jacobian,
                                n_jobs=n_jobs)
    assert fps.shape[0] >= 1 and calls.value > 4 and top.value == 1
