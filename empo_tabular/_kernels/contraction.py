"""Kernels of the contraction analyzer: float64-accumulated products of dense and sparse factors."""
import numpy as np

from . import kernel


@kernel(fastmath=True, nogil=True)
def matvec_f32(A, v, out):  # pragma: no cover - compiled
    """``out = A @ v`` for float32 ``A`` and float64 ``v``, accumulated in float64, four rows at a time."""
    n, m = A.shape
    i = 0
    while i + 4 <= n:
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        a3 = 0.0
        for j in range(m):
            vj = v[j]
            a0 += A[i, j] * vj
            a1 += A[i + 1, j] * vj
            a2 += A[i + 2, j] * vj
            a3 += A[i + 3, j] * vj
        out[i] = a0
        out[i + 1] = a1
        out[i + 2] = a2
        out[i + 3] = a3
        i += 4
    while i < n:
        acc = 0.0
        for j in range(m):
            acc += A[i, j] * v[j]
        out[i] = acc
        i += 1


@kernel(nogil=True)
def add_dense_times_csr(K, rows, Z, indptr, indices, data):  # pragma: no cover - compiled
    """``K[rows] += Z @ E`` for dense ``Z`` and CSR ``E`` (Numba)."""
    for i in range(Z.shape[0]):
        r = rows[i]
        for k in range(Z.shape[1]):
            z = Z[i, k]
            if z != 0.0:
                for p in range(indptr[k], indptr[k + 1]):
                    K[r, indices[p]] += z * data[p]


@kernel(nogil=True)
def abs_product_rows(indptr, indices, data, W, ax, A, rows, xrows):  # pragma: no cover - compiled
    """``A = |P W|`` (P CSR, W dense; A float32 or float64) with float64 row sums ``rows`` and
    ``xrows = |P W| ax``, one row at a time (Numba)."""
    m = W.shape[1]
    buf = np.empty(m)
    for i in range(indptr.size - 1):
        for j in range(m):
            buf[j] = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            k = indices[p]
            c = data[p]
            for j in range(m):
                buf[j] += c * W[k, j]
        s = 0.0
        t = 0.0
        for j in range(m):
            a = abs(buf[j])
            A[i, j] = a
            s += a
            t += a * ax[j]
        rows[i] = s
        xrows[i] = t
