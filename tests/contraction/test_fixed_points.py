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
