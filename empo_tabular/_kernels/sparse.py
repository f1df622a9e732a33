"""Sparse (CSR) matrix kernels for the linear solves of ``exact.linear``: arrays in, preallocated arrays out."""
from . import kernel


@kernel
def csr_symmetric_gauss_seidel(indptr, indices, data, inv_diag, b, x, sweeps):
    """``sweeps`` symmetric Gauss-Seidel sweeps on ``A x = b`` (``A`` in CSR), in place on ``x``.

    One sweep is a forward pass over the rows followed by a backward pass; row ``i`` sets
    ``x_i = inv_diag_i (b_i - sum_{j != i} A_ij x_j)``.  From ``x = 0`` the result is a fixed linear
    function of ``b`` (a preconditioner).  Cost: ``2 * sweeps * nnz(A)`` multiply-adds.
    """
    n = b.shape[0]
    for _ in range(sweeps):
        for i in range(n):
            x[i] = gauss_seidel_row(i, indptr, indices, data, inv_diag, b, x)
        for i in range(n - 1, -1, -1):
            x[i] = gauss_seidel_row(i, indptr, indices, data, inv_diag, b, x)


@kernel(inline="always")
def gauss_seidel_row(i, indptr, indices, data, inv_diag, b, x):
    """``inv_diag_i (b_i - sum_{j != i} A_ij x_j)``: row ``i``'s Gauss-Seidel value."""
    acc = b[i]
    for k in range(indptr[i], indptr[i + 1]):
        j = indices[k]
        if j != i:
            acc -= data[k] * x[j]
    return acc * inv_diag[i]
