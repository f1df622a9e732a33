"""Tests of :mod:`empo_tabular.contraction.ordering` (nested dissection, LU in a given order).

Oracles: ``numpy.linalg.solve`` on the dense matrix; fill counted from SuperLU's factors in the natural order of
a hand-built grid Laplacian (a banded matrix of bandwidth k fills its whole band: ~2 n k entries).
"""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from empo_tabular.contraction.ordering import PermutedLU, nested_dissection


def grid_matrix(k, extra=0.1):
    """``(4 + extra) I - adjacency`` of the k x k grid (strictly diagonally dominant), row-major numbering."""
    one = sp.diags([np.ones(k - 1), np.ones(k - 1)], [-1, 1])
    adj = sp.kron(sp.identity(k), one) + sp.kron(one, sp.identity(k))
    return ((4.0 + extra) * sp.identity(k * k) - adj).tocsc()


def lu_fill(M):
    lu = spla.splu(M.tocsc(), permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
    return lu.L.nnz + lu.U.nnz


@pytest.mark.parametrize("M", [grid_matrix(9), sp.block_diag([grid_matrix(5), sp.identity(7), grid_matrix(6)]),
                               sp.random(80, 80, density=0.05, random_state=3) + sp.identity(80), sp.identity(1)],
                         ids=["grid", "components", "random", "one"])
def test_is_a_permutation(M):
    for leaf in (1, 4, 64):
        perm = nested_dissection(M, leaf=leaf)
        assert perm.dtype == np.int64 and np.array_equal(np.sort(perm), np.arange(M.shape[0]))


def test_cuts_fill_on_a_grid():
    k = 40
    M = grid_matrix(k)
    natural = lu_fill(M)
    assert natural >= 2 * k * k * (k - 1) * 0.95  # the band fills
    perm = nested_dissection(M, leaf=16)
    nd = lu_fill(M[perm][:, perm])
    assert nd < 0.4 * natural
    # the last vertices ordered form a separator: removing the last k of them disconnects the grid
    from scipy.sparse.csgraph import connected_components

    keep = np.setdiff1d(np.arange(k * k), perm[-k:])
    n_parts, _ = connected_components(M[keep][:, keep], directed=False)
    assert n_parts >= 2


def test_permuted_lu_solves():
    rng = np.random.default_rng(1)
    M = (grid_matrix(12) + 0.3 * sp.random(144, 144, density=0.02, random_state=2)).tocsc()
    D = M.toarray()
    lu = PermutedLU(M, nested_dissection(M, leaf=8))
    b, B = rng.standard_normal(144), rng.standard_normal((144, 3))
    np.testing.assert_allclose(lu.solve(b), np.linalg.solve(D, b), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(lu.solve(B), np.linalg.solve(D, B), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(lu.solve(b, trans="T"), np.linalg.solve(D.T, b), rtol=1e-12, atol=1e-13)


def test_rejects_a_non_square_pattern():
    with pytest.raises(ValueError, match="pattern must be square"):
        nested_dissection(sp.random(3, 4, density=0.5))
