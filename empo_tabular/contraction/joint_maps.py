"""The joint maps of Phase 2 (CONTRACTION_THEORY §0): Jacobi and block Gauss-Seidel on ``z = [q, e, x, u(, v)]``.

:class:`JointMaps` holds the maps and their analytic sparse Jacobians (blocks of ``_kernels/jacobian.py``); it is
a base class of :class:`~.empo_maps.EmpoMaps`, whose packing and kernel helpers (``_full``, ``_kernel_map``,
``_blocks``, ``_xu``, ``_qv``, ``_qv_all``, ``blocks``) it uses.  The equations and the block layout are in the
docstring of :mod:`.empo_maps`.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validation import check_beta

__all__ = ["JointMaps"]


class JointMaps:
    """Jacobi and Gauss-Seidel sweeps of equations (4')-(9') and their Jacobians (mixed into ``EmpoMaps``)."""

    def _split(self, z):
        z = self._vec(z, self.n_joint, "z")
        parts = {k: z[s] for k, s in self.blocks.items()}
        return parts

    def _soft_values(self, beta, Q, U):
        """``c_r U + <pi(Q), Q>`` at every non-terminal state, terminal_v_r elsewhere (full)."""
        S, H, G = self.S, self.H, self.G
        _, _, _, _, _, V2 = self._kernel_map(beta, Q, np.zeros((S, H, G)), np.ones((S, H)), U, self._v_terminal)
        V2 = np.where(self.live, V2, self.params.terminal_v_r)
        return V2

    def jacobi(self, z, beta) -> np.ndarray:
        """One Jacobi sweep of equations (4')-(9') on the joint vector (all blocks from the old z)."""
        beta = check_beta(beta)
        p = self._split(z)
        Q, VE, X, U, V = self._full(q=p["Q_r"], e=p["V_h_e"], x=p["X_h"], u=p["U_r"], v=p.get("V_r"))
        Q2, _, VE2, X2, U2, V2 = self._kernel_map(beta, Q, VE, X, U, V)
        out = [None, VE2.ravel()[self.e_index], X2.ravel()[self.x_index], U2[self.states]]
        if self.include_v_r:
            out[0] = Q2.ravel()[self.q_index]
            out.append(V2[self.states])
        else:
            out[0] = self._qv_all @ np.where(self.live, V2, self.params.terminal_v_r)
        return np.concatenate(out)

    def jacobi_jacobian(self, z, beta) -> sp.csr_matrix:
        """Sparse Jacobian of :meth:`jacobi` at ``z`` (blocks of ``_kernels/jacobian.py``)."""
        beta = check_beta(beta)
        p = self._split(z)
        Q, VE, X, _, _ = self._full(q=p["Q_r"], e=p["V_h_e"], x=p["X_h"], u=p["U_r"], v=p.get("V_r"))
        b = self._blocks(beta, Q, VE, X)
        P = self._qv
        if self.include_v_r:
            rows = [[None, None, None, None, P],
                    [b["EQ"], b["EE"], None, None, None],
                    [None, b["XE"], None, None, None],
                    [None, None, b["UX"], None, None],
                    [b["VQ"], None, None, b["VU"], None]]
        else:
            rows = [[P @ b["VQ"], None, None, P @ b["VU"]],
                    [b["EQ"], b["EE"], None, None],
                    [None, b["XE"], None, None],
                    [None, None, b["UX"], None]]
        return self._bmat(rows)

    def _bmat(self, rows):
        sizes = [self.n_q, self.n_e, self.n_x, self.n_u] + ([self.n_v] if self.include_v_r else [])
        full = []
        for i, row in enumerate(rows):
            out_row = []
            for j, blk in enumerate(row):
                out_row.append(sp.csr_matrix((sizes[i], sizes[j])) if blk is None else blk)
            full.append(out_row)
        return sp.bmat(full, format="csr")

    def _gs_steps(self, beta, p):
        """Intermediate points of one Gauss-Seidel sweep."""
        Q, VE, X, U, V = self._full(q=p["Q_r"], e=p["V_h_e"], x=p["X_h"], u=p["U_r"], v=p.get("V_r"))
        if self.include_v_r:
            q1 = self._qv_all @ V
        else:
            q1 = self._qv_all @ self._soft_values(beta, Q, U)
        Q1 = self._full(q=q1)[0]
        S, H = self.S, self.H
        zeroU = np.where(self.live, 0.0, -1.0)
        _, _, VE1, _, _, soft = self._kernel_map(beta, Q1, VE, np.ones((S, H)), zeroU, V)
        VE1 = np.where(self.live[:, None, None], VE1, 0.0)
        X1, U1 = self._xu(VE1)
        V1 = self.params.c_r * U1[self.states] + soft[self.states]
        return Q, VE, U, q1, Q1, VE1, X1, U1, V1

    def gauss_seidel(self, z, beta) -> np.ndarray:
        """One block Gauss-Seidel sweep in chain order Q -> pi -> V_h^e -> X -> U -> V_r."""
        beta = check_beta(beta)
        _, _, _, q1, _, VE1, X1, U1, V1 = self._gs_steps(beta, self._split(z))
        out = [q1, VE1.ravel()[self.e_index], X1.ravel()[self.x_index], U1[self.states]]
        if self.include_v_r:
            out.append(V1)
        return np.concatenate(out)

    def gauss_seidel_jacobian(self, z, beta) -> sp.csr_matrix:
        """Sparse Jacobian of :meth:`gauss_seidel` at ``z`` (chain rule through the sweep)."""
        beta = check_beta(beta)
        Q, VE, U, q1, Q1, VE1, X1, U1, V1 = self._gs_steps(beta, self._split(z))
        S, H = self.S, self.H
        b0 = self._blocks(beta, Q, VE, np.ones((S, H)))  # VQ at the old Q (no-V_r variant)
        b1 = self._blocks(beta, Q1, VE, np.ones((S, H)))  # EE, EQ at (Q', old V^e); VQ at Q'
        b2 = self._blocks(beta, Q1, VE1, np.where(self.live[:, None], X1, 1.0))  # XE at V^e', UX at X'
        n = self.n_joint
        P = self._qv

        def cols(block_name, M):  # place a block's columns into a full-width matrix
            sl = self.blocks[block_name]
            out = sp.lil_matrix((M.shape[0], n))
            out[:, sl] = M
            return out.tocsr()

        if self.include_v_r:
            dQ = cols("V_r", P)
        else:
            dQ = cols("Q_r", P @ b0["VQ"]) + cols("U_r", P @ b0["VU"])
        dE = (b1["EQ"] @ dQ + cols("V_h_e", b1["EE"])).tocsr()
        dX = (b2["XE"] @ dE).tocsr()
        dU = (b2["UX"] @ dX).tocsr()
        rows = [dQ, dE, dX, dU]
        if self.include_v_r:
            rows.append((b1["VQ"] @ dQ + b1["VU"] @ dU).tocsr())
        return sp.vstack(rows, format="csr")
