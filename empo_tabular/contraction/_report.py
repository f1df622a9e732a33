"""The result object of :func:`empo_tabular.contraction.analyze_map`."""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from ..core.storage import jsonable

__all__ = ["INDICATORS", "Indicator", "MapReport"]

#: Which iteration an indicator below 1 certifies (CONTRACTION_THEORY §0 item 3).
SYNC = "synchronous undamped"
ODE = "small damped steps (ODE limit)"
ASYNC = "asynchronous"
SUP = "any order (sup-norm contraction)"
REL = "any order (relative/Thompson-metric contraction)"
OBSERVED = "synchronous undamped (observed)"


def _ind(label: str, iteration: str, description: str, *, beta_star: bool = True, chain=None, beta_star_name=""):
    """Field metadata that makes a :class:`MapReport` field a contraction indicator."""
    return field(metadata={"indicator": dict(label=label, iteration=iteration, description=description,
                                             beta_star=beta_star, chain=chain, beta_star_name=beta_star_name)})


@dataclass(frozen=True)
class Indicator:
    """One contraction indicator, derived from the metadata of a :class:`MapReport` field.

    ``name`` is the field (and table column) name; ``label`` a short plot label; ``iteration`` the
    iteration whose local convergence ``value < 1`` certifies; ``description`` a one-sentence definition
    (for captions); ``beta_star`` whether its level-1 crossing is in the beta* table; ``chain`` its
    position in ``||J|| >= rho(|J|) >= rho(J) >= max Re`` (None when not in the chain);
    ``beta_star_name`` the theory's name of its crossing (``beta*_sync``, ...).
    """

    name: str
    label: str
    iteration: str
    description: str
    beta_star: bool
    chain: int | None
    beta_star_name: str


# --------------------------------------------------------------------------------------------
# the report


@dataclass
class MapReport:
    """Contraction indicators of a map F at a point ``x_star``.

    Attributes
    ----------
    n : int
        Dimension.
    jacobian_method : str
        ``"given"``, ``"dense_fd"`` or ``"matrix_free"``.
    residual : float
        :math:`\\|F(x^*) - x^*\\|_\\infty`.
    sup_norm : float
        :math:`\\|J\\|_\\infty = \\max_i \\sum_j |J_{ij}|`; nan in matrix-free mode (rows of J are
        not available from Jacobian-vector products).
    log_norm : float
        :math:`\\|D^{-1} J D\\|_\\infty` with :math:`D = \\mathrm{diag}(|x^*|)`: the local constant in
        the relative/Thompson metric; nan if some :math:`x^*_i = 0` or in matrix-free mode.
    rho_abs : float
        :math:`\\rho(|J|)`, the best weighted max-norm constant; nan in matrix-free mode.
    perron_weights : numpy.ndarray or None
        Perron vector ``w`` of :math:`|J|` (max entry 1): the weights of the optimal norm
        :math:`\\|x\\|_w = \\max_i |x_i|/w_i`.
    rho : float
        :math:`\\rho(J)`.
    dominant_eigenvalue : complex
        An eigenvalue of largest modulus (complex pairs reported with ``Im >= 0``).
    dominant_eigenvector : numpy.ndarray or None
        Its eigenvector (complex, unit 2-norm, largest entry real positive).
    max_re : float
        :math:`\\max_i \\mathrm{Re}\\,\\lambda_i`.
    alpha_max : float
        Damping limit :math:`\\min_i 2(1-\\mathrm{Re}\\,\\lambda_i)/|1-\\lambda_i|^2` (0 if some
        :math:`\\mathrm{Re}\\,\\lambda_i \\ge 1`).
    alpha_best, alpha_best_rate : float
        :math:`\\arg\\min_\\alpha \\max_i |1-\\alpha(1-\\lambda_i)|` and the rate it achieves.
    norm_2 : float
        :math:`\\|J\\|_2` (nan when not computed, see ``svd``).
    fold_distance : float
        :math:`\\sigma_{min}(I - J)`, the distance to a fold (nan when not computed).
    picard_ratio : float
        Observed geometric-mean step ratio of plain iteration started near ``x_star``.
    period2 : bool
        Period-2 signature of plain iteration (consecutive steps anti-aligned).
    period2_orbit : bool
        A sustained period-2 orbit was observed (:math:`x_{k+2} \\approx x_k \\ne x_{k+1}`).
    period2_amplitude : float
        Half the last step length when ``period2`` or ``period2_orbit``, else 0.
    picard_status : str
        ``"converged"``, ``"diverged"``, ``"nonfinite"``, ``"max_steps"`` or ``"skipped"``.
    picard_steps : int
        Steps of plain iteration taken.
    lower_bound_sampled : float
        LOWER BOUND on the sup-norm Lipschitz constant of F on the box, from random pairs.
    lower_bound_adversarial : float
        LOWER BOUND on the same constant from sign-vector secants and local optimisation
        (never below ``lower_bound_sampled``).
    box_lower, box_upper : numpy.ndarray
        The box used for the lower bounds.
    eigenvalues : numpy.ndarray
        The whole spectrum (dense / given-and-small), or only the Ritz values found by ARPACK;
        sorted by decreasing modulus, then real part.
    spectrum_complete : bool
        Whether ``eigenvalues`` is the whole spectrum (else ``alpha_max``/``alpha_best`` are
        computed from Ritz values only: ``alpha_max`` is then an upper estimate).
    n_evals : int
        Evaluations of F spent.
    rho_abs_kind : str
        ``"exact"`` (``rho_abs`` is the Perron root of ``|J|``) or ``"upper_bound"`` (large reduced
        maps: the Perron root of a nonnegative majorant of ``|J|``, see
        :mod:`~empo_tabular.contraction.matrix_free`).
    norms_kind : str
        The same for ``sup_norm`` and ``log_norm``.
    notes : list of str
        Caveats (matrix-free limitations, ARPACK failures, ...).
    jacobian : numpy.ndarray, scipy.sparse matrix or None
        The Jacobian, only with ``keep_jacobian=True`` (never written by :meth:`to_dict`).
    """

    n: int
    jacobian_method: str
    residual: float
    sup_norm: float = _ind("||J||_inf", SUP, "sup_norm = ||J||_inf = max_i sum_j |J_ij|: below 1 the map is a local "
                           "contraction in the sup norm.", chain=0, beta_star_name="beta*_sup")
    log_norm: float = _ind("||D^-1 J D||_inf", REL, "log_norm = ||D^-1 J D||_inf with D = diag(|x*|): the sup norm of J "
                           "in log coordinates (relative errors), the local constant in the relative/Thompson "
                           "metric natural for the power law.", beta_star_name="beta*_rel")
    rho_abs: float = _ind("rho(|J|)", ASYNC, "rho_abs = rho(|J|), the Perron root of |J|: the best weighted "
                          "max-norm constant; below 1 every asynchronous schedule converges locally (an upper "
                          "bound when rho_abs_kind = 'upper_bound').", chain=1, beta_star_name="beta*_async")
    perron_weights: np.ndarray | None
    rho: float = _ind("rho(J)", SYNC, "rho = rho(J), the spectral radius of the Jacobian: below 1 plain "
                      "synchronous undamped iteration converges locally (Ostrowski).", chain=2,
                      beta_star_name="beta*_sync")
    dominant_eigenvalue: complex
    dominant_eigenvector: np.ndarray | None
    max_re: float = _ind("max Re lambda", ODE, "max_re = max_i Re lambda_i(J): below 1 the ODE x' = F(x) - x is "
                         "stable, so damped iteration with a small enough step (and small SA steps) converges "
                         "locally.", chain=3, beta_star_name="beta*_ODE")
    alpha_max: float
    alpha_best: float
    alpha_best_rate: float
    norm_2: float
    fold_distance: float
    picard_ratio: float = _ind("Picard ratio", OBSERVED, "picard_ratio = the geometric-mean step ratio "
                               "||x_{k+1} - x_k|| / ||x_k - x_{k-1}|| observed over the last steps of plain iteration "
                               "started near x*: an estimate of the asymptotic rate |lambda_dom|, not a bound.",
                               beta_star_name="observed")
    period2: bool
    period2_orbit: bool
    period2_amplitude: float
    picard_status: str
    picard_steps: int
    lower_bound_sampled: float
    lower_bound_adversarial: float
    box_lower: np.ndarray | None
    box_upper: np.ndarray | None
    eigenvalues: np.ndarray
    spectrum_complete: bool
    n_evals: int
    rho_abs_kind: str = "exact"
    norms_kind: str = "exact"
    notes: list = field(default_factory=list)
    jacobian: object = field(default=None, repr=False, compare=False)

    _ARRAYS = ("perron_weights", "dominant_eigenvector", "box_lower", "box_upper", "eigenvalues")
    #: The scalar fields (every field except the arrays, ``notes`` and ``jacobian``), in declaration order.
    SCALARS = ()

    def to_dict(self, include_arrays: bool = True) -> dict:
        """JSON-serialisable dict: complex numbers as ``[re, im]``, arrays as (nested) lists.

        ``include_arrays=False`` drops the array fields (``perron_weights``,
        ``dominant_eigenvector``, ``box_lower``, ``box_upper``, ``eigenvalues``).  The Jacobian is
        never included.  NaN/inf stay floats (Python's ``json`` writes them as ``NaN``/``Infinity``).
        """
        out = {}
        for f in fields(self):
            if f.name == "jacobian":
                continue
            if f.name in self._ARRAYS and not include_arrays:
                continue
            out[f.name] = jsonable(getattr(self, f.name), keep_nonfinite=True)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "MapReport":
        """Inverse of :meth:`to_dict` (missing array fields become None)."""
        kwargs = {}
        for f in fields(cls):
            if f.name == "jacobian":
                continue
            value = data.get(f.name)
            if f.name == "dominant_eigenvalue" and value is not None:
                value = complex(value[0], value[1])
            elif f.name in ("dominant_eigenvector", "eigenvalues") and value is not None:
                arr = np.asarray(value, dtype=float).reshape(-1, 2)
                value = arr[:, 0] + 1j * arr[:, 1]
            elif f.name in ("perron_weights", "box_lower", "box_upper") and value is not None:
                value = np.asarray(value, dtype=float)
            elif f.name == "notes":
                value = list(value or [])
            kwargs[f.name] = value
        return cls(**kwargs)


MapReport.SCALARS = tuple(f.name for f in fields(MapReport)
                          if f.name not in MapReport._ARRAYS and f.name not in ("notes", "jacobian"))

#: The contraction indicators, one record per :class:`MapReport` field that carries indicator metadata.
INDICATORS = tuple(Indicator(name=f.name, **f.metadata["indicator"]) for f in fields(MapReport)
                   if "indicator" in f.metadata)
