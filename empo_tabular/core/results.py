"""The status contract every result of the package shares (in the manner of scipy's ``OptimizeResult``).

:class:`~empo_tabular.HumanPrior`, :class:`~empo_tabular.Phase2Solution`, :class:`~empo_tabular.SAResult`,
:class:`~empo_tabular.ContractionReport` and every later result type derive from :class:`SolverResult`, so a
caller reads ``result.converged``, ``result.status``, ``result.message``, ``result.iterations``,
``result.residual``, ``result.seconds``, ``result.params``, ``result.world_checksum`` and
``result.versions`` the same way everywhere, and never ``getattr`` for a message.

Status codes (``result.status``):

=====  =========================  =========================================================
code   name                       meaning
=====  =========================  =========================================================
0      ``STATUS_CONVERGED``       the result satisfies its stopping rule (``converged``)
1      ``STATUS_NOT_CONVERGED``   a budget ran out or a tolerance was missed; the last iterate
2      ``STATUS_NOT_MEASURED``    convergence was not measured (e.g. an SA run without an exact
                                  solution to compare with); ``converged`` is False
=====  =========================  =========================================================
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUS_CONVERGED = 0
STATUS_NOT_CONVERGED = 1
STATUS_NOT_MEASURED = 2
STATUS_NAMES = {STATUS_CONVERGED: "converged", STATUS_NOT_CONVERGED: "not converged",
                STATUS_NOT_MEASURED: "not measured"}

STATUS_FIELDS = ("converged", "status", "message", "iterations", "residual", "seconds", "params",
                 "world_checksum", "versions")


def _versions() -> dict:
    from .storage import versions

    return versions()


@dataclass(kw_only=True)
class SolverResult:
    """The status fields shared by every result (keyword-only, so subclasses keep positional arrays).

    Attributes
    ----------
    converged : bool
        Whether the stopping rule was met (see ``status``).
    status : int
        0 converged, 1 not converged, 2 not measured (see the module table).
    message : str
        One human-readable line on how the computation ended.
    iterations : int
        Sweeps, Newton iterations, SA steps or analysed grid points (each result type says which).
    residual : float
        The sup-norm residual the stopping rule was applied to (NaN when there is none).
    seconds : float
        Wall-clock time of the computation.
    params : EmpoParams or dict or None
        The parameters used (a contraction report stores their dict, with ``beta_r`` swept).
    world_checksum : str
        :attr:`TabularWorld.checksum` of the world the result belongs to.
    versions : dict
        Python, package and dependency versions that produced the result.
    """

    converged: bool = True
    status: int = STATUS_CONVERGED
    message: str = ""
    iterations: int = 0
    residual: float = 0.0
    seconds: float = 0.0
    params: Any = None
    world_checksum: str = ""
    versions: dict = field(default_factory=_versions, repr=False, compare=False)

    def set_outcome(self, converged: bool, message: str = "", *, measured: bool = True) -> None:
        """Set ``converged``, ``status`` and ``message`` consistently."""
        self.converged = bool(converged) and measured
        self.status = (STATUS_NOT_MEASURED if not measured
                       else STATUS_CONVERGED if converged else STATUS_NOT_CONVERGED)
        self.message = message or STATUS_NAMES[self.status]

    def status_dict(self) -> dict:
        """The status fields as a dict (``params`` as a dict)."""
        out = {}
        for name in STATUS_FIELDS:
            value = getattr(self, name)
            out[name] = value.to_dict() if hasattr(value, "to_dict") else value
        return out
