"""screened_det_sign: the sign of det(I - J) by ARPACK's rightmost eigenvalue, with the LU only where needed."""
import numpy as np
import pytest
import scipy.sparse as sp

import empo_tabular.exact.branch as branch
from empo_tabular.exact.branch import screened_det_sign


def newton_matrix_with_spectrum(eigs, seed=0):
    """``I - J`` with ``J = Q diag(eigs) Q^T`` sparse: ``Q`` a product of disjoint 2x2 rotations (so ``J`` is
    block diagonal with the given eigenvalues and ``det(I - J) = prod(1 - eigs)``)."""
    n = len(eigs)
    rng = np.random.default_rng(seed)
    J = sp.lil_matrix((n, n))
    for i in range(0, n - 1, 2):
        t = rng.uniform(0, np.pi)
        Q = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        J[i:i + 2, i:i + 2] = Q @ np.diag(eigs[i:i + 2]) @ Q.T
    if n % 2:
        J[n - 1, n - 1] = eigs[-1]
    return (sp.identity(n) - J.tocsr()).tocsr()


@pytest.fixture
def lu_calls(monkeypatch):
    calls = []
    real = branch.det_sign

    def counted(A):
        calls.append(A.shape[0])
        return real(A)

    monkeypatch.setattr(branch, "det_sign", counted)
    return calls


def test_every_eigenvalue_below_one_gives_plus_one_without_a_lu(lu_calls):
    eigs = np.linspace(-0.5, 0.9, 80)
    assert screened_det_sign(newton_matrix_with_spectrum(eigs)) == 1
    assert lu_calls == []


@pytest.mark.parametrize("n_above, sign", [(1, -1), (2, 1)])
def test_eigenvalues_beyond_one_are_signed_by_the_lu(lu_calls, n_above, sign):
    # prod(1 - lambda): one real eigenvalue above 1 makes the determinant negative, two make it positive
    eigs = np.concatenate([np.linspace(0.0, 0.8, 80 - n_above), 1.5 + 0.1 * np.arange(n_above)])
    A = newton_matrix_with_spectrum(eigs, seed=1)
    assert np.sign(np.prod(1.0 - eigs)) == sign
    assert screened_det_sign(A) == sign
    assert lu_calls == [80]


def test_above_lu_max_an_eigenvalue_beyond_one_is_not_signed(lu_calls):
    eigs = np.concatenate([np.linspace(0.0, 0.8, 79), [1.5]])
    assert screened_det_sign(newton_matrix_with_spectrum(eigs), lu_max=79) is None
    assert lu_calls == []


@pytest.mark.parametrize("eigs, known", [
    (np.linspace(-0.5, 0.8, 80), True),                                   # every eigenvalue of J below 1
    (np.concatenate([[1.3, 1.2], np.linspace(-0.5, 0.8, 78)]), False),  # det(I - J) > 0, but ARPACK cannot tell
])
def test_returned_point_check_says_whether_arpack_showed_the_sign(eigs, known, lu_calls):
    text = branch.returned_point_check(newton_matrix_with_spectrum(eigs))
    assert text.startswith(branch.DISTANCE_CHECK) and "no sign per step above 5,000 unknowns" in text
    assert ("so det(I - J) > 0" in text) is known and ("the sign is unknown" in text) is (not known)
    assert lu_calls == []  # no LU at the returned point, whatever the size
