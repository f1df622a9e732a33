"""The result of :func:`analyze_contraction`: :class:`ContractionReport`, critical betas, save/load.

Critical betas (CONTRACTION_THEORY §4.1 item 7)
-----------------------------------------------
For an indicator ``c(beta)`` sampled on a grid ``beta_0 < beta_1 < ...`` a crossing of the level 1
lies between neighbours with ``c_i < 1 <= c_{i+1}`` ("up") or ``c_i >= 1 > c_{i+1}`` ("down").
Its location is interpolated linearly in ``log beta``::

    log beta* = log beta_i + (1 - c_i) / (c_{i+1} - c_i) * (log beta_{i+1} - log beta_i)

(linearly in beta when ``beta_i = 0``).  An indicator that is already >= 1 at the first grid point
gets a crossing ``beta* = beta_0`` with direction ``"start"`` and ``status = "already_above_at_min_beta"``;
one that never reaches 1 has ``status = "not_crossed_up_to"`` (``first = inf`` in memory).  In JSON and
CSV ``first`` is null unless ``status = "crossed"``; the summary says it in words.  Names: ``sup_norm`` (beta*_sup), ``log_norm`` (beta*_rel), ``rho_abs``
(beta*_async), ``rho`` (beta*_sync), ``max_re`` (beta*_ODE), ``picard_ratio`` (observed), and
``multi`` (first beta with more than one fixed point of the reduced map).

Crossing types: for ``rho`` the dominant eigenvalue on the side where ``rho >= 1`` decides:
real negative -> ``"flip"`` (period doubling), complex -> ``"neimark_sacker"``, real positive ->
``"fold"``; for ``max_re`` a real eigenvalue at ``Re = 1`` is a ``"fold"`` and a complex one a
``"hopf"`` (of the ODE ``x' = F(x) - x``).  Norm indicators get ``"norm"``.
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from .._validation import check_betas
from ..core.results import SolverResult
from ..core.storage import atomic_write_text, jsonable, load_bundle, save_bundle
from ._report import INDICATORS

__all__ = ["BETA_STAR_INDICATORS", "CHAIN", "ContractionReport", "beta_crossings", "classify_eigenvalue",
           "load_contraction_report"]

#: Indicators with a beta* (level-1 crossing) entry, derived from :data:`~._report.INDICATORS`.
BETA_STAR_INDICATORS = tuple(i.name for i in INDICATORS if i.beta_star)
#: ``||J|| >= rho(|J|) >= rho(J) >= max Re``, derived from the ``chain`` positions in :data:`~._report.INDICATORS`.
CHAIN = tuple(i.name for i in sorted((i for i in INDICATORS if i.chain is not None), key=lambda i: i.chain))
#: ``status`` values of a crossing record (:func:`beta_crossings`).
CROSSED, ALREADY_ABOVE, NOT_CROSSED, NO_DATA = "crossed", "already_above_at_min_beta", "not_crossed_up_to", "no_data"
#: What a JSON ``null`` means in :meth:`ContractionReport.to_json` (strict JSON has no NaN/Infinity).
NULL_NOTE = ("null = not computed, undefined or not finite (NaN/inf are never written); beta* records say why "
             "in 'status' (crossed | already_above_at_min_beta | not_crossed_up_to | no_data); fixed-point counts "
             "are null when not searched ('fixed_points_searched': false)")
COMPLEX_KEYS = ("dominant_eigenvalue", "max_re_eigenvalue")
#: Table columns whose null means "not searched / undetermined" rather than NaN.
NULLABLE_COLUMNS = ("n_fixed_points", "stable_async")
IMAG_TOL = 1e-9


def classify_eigenvalue(lam, indicator: str = "rho") -> str:
    """Bifurcation type of a crossing eigenvalue ``lam`` (see the module docstring)."""
    if indicator not in ("rho", "max_re"):
        return "observed" if indicator == "picard_ratio" else "norm"
    if lam is None or not np.isfinite(complex(lam)):
        return "unknown"
    lam = complex(lam)
    is_complex = abs(lam.imag) > IMAG_TOL * max(1.0, abs(lam))
    if indicator == "rho":
        if is_complex:
            return "neimark_sacker"
        return "flip" if lam.real < 0 else "fold"
    return "hopf" if is_complex else "fold"


def _interp(b0, b1, c0, c1, level):
    if not (c1 != c0):
        return b1
    t = (level - c0) / (c1 - c0)
    if b0 > 0 and b1 > 0:
        return float(math.exp(math.log(b0) + t * (math.log(b1) - math.log(b0))))
    return float(b0 + t * (b1 - b0))


def beta_crossings(betas, values, level: float = 1.0, eigenvalues=None, indicator: str = "rho") -> dict:
    """Crossings of ``level`` by ``values(betas)``, interpolated in log beta.

    Parameters
    ----------
    betas : array_like of float
        Grid (any order; sorted here), each ``>= 0``.
    values : array_like of float
        Indicator at each beta (NaN entries are skipped).
    level : float
        The level (1 for every contraction indicator).
    eigenvalues : array_like of complex, optional
        The eigenvalue behind the indicator at each beta, for :func:`classify_eigenvalue`.
    indicator : str
        Indicator name (selects the classification).

    Returns
    -------
    dict
        ``first`` (float: the first crossing, ``beta_0`` if already ``>= level`` there, ``inf``
        if never reached; in JSON null unless ``status == "crossed"``), ``status`` (``"crossed"``,
        ``"already_above_at_min_beta"``, ``"not_crossed_up_to"`` or ``"no_data"``), ``min_beta`` and
        ``max_beta`` (the grid's range over finite values: "not crossed up to max_beta", ">= level
        already at min_beta"), ``all`` (list of dicts ``beta``, ``direction`` in
        ``{"start", "up", "down"}``, ``between``, ``type``).
    """
    b = np.asarray(betas, dtype=float)
    v = np.asarray(values, dtype=float)
    if b.shape != v.shape or b.ndim != 1:
        raise ValueError(f"betas and values must be 1-D of the same shape, got {b.shape} and {v.shape}")
    check_betas(b, sort=False)
    order = np.argsort(b, kind="stable")
    b, v = b[order], v[order]
    lam = None
    if eigenvalues is not None:
        lam = np.asarray(eigenvalues, dtype=complex)[order]
    keep = np.isfinite(v)
    idx = np.flatnonzero(keep)
    out = []

    def kind_at(i):
        return classify_eigenvalue(lam[i] if lam is not None else None, indicator)

    if idx.size:
        i0 = idx[0]
        if v[i0] >= level:
            out.append({"beta": float(b[i0]), "direction": "start", "between": [float(b[i0]), float(b[i0])],
                        "type": kind_at(i0)})
        for i, j in zip(idx[:-1], idx[1:]):
            up = v[i] < level <= v[j]
            down = v[i] >= level > v[j]
            if not (up or down):
                continue
            kind = kind_at(j if up else i)
            out.append({"beta": _interp(b[i], b[j], v[i], v[j], level), "direction": "up" if up else "down",
                        "between": [float(b[i]), float(b[j])], "type": kind})
    first = next((c for c in out if c["direction"] in ("start", "up")), None)
    if not idx.size:
        status = NO_DATA
    elif first is None:
        status = NOT_CROSSED
    else:
        status = ALREADY_ABOVE if first["direction"] == "start" else CROSSED
    return {"first": float(first["beta"]) if first is not None else math.inf, "status": status,
            "min_beta": float(b[idx[0]]) if idx.size else None, "max_beta": float(b[idx[-1]]) if idx.size else None,
            "all": out}


def crossing_text(c: dict) -> str:
    """A crossing record in words: ``"1.23"``, ``"≥ 1 already at the smallest beta_r (0)"``, ``"not crossed up to
    beta_r = 1000"``, ``"no data"``."""
    status = c.get("status")
    if status is None:  # records written before the status flag: infer it
        first = c.get("first")
        if first is None or not math.isfinite(first):
            status = NOT_CROSSED
        else:
            status = ALREADY_ABOVE if any(a.get("direction") == "start" for a in c.get("all", [])) else CROSSED
    if c.get("from_upper_bound"):
        if status == CROSSED:
            return f"{c['first']:.4g} (of an upper bound: the true beta* is >= this)"
        if status == ALREADY_ABOVE:
            return "upper bound ≥ 1 already at the smallest beta_r (the indicator itself may be < 1)"
    if status == CROSSED:
        return f"{c['first']:.4g}"
    if status == ALREADY_ABOVE:
        mb = c.get("min_beta")
        return "≥ 1 already at the smallest beta_r" + (f" ({mb:g})" if mb is not None else "")
    if status == NOT_CROSSED:
        mb = c.get("max_beta")
        return "not crossed up to beta_r = " + (f"{mb:g}" if mb is not None else "the largest beta_r")
    return "no data"


def strict(value):
    """``value`` with every non-finite float replaced by None (strict JSON), recursively.

    Crossing records (dicts with a ``status``) get ``first = None`` unless ``status == "crossed"``.
    """
    if isinstance(value, dict):
        out = {k: strict(v) for k, v in value.items()}
        if out.get("status") in (ALREADY_ABOVE, NOT_CROSSED, NO_DATA) and "first" in out:
            out["first"] = None
        return out
    if isinstance(value, list):
        return [strict(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _restore_first(value):
    """Inverse of :func:`strict` for crossing records: ``first`` back to a float (inf / min_beta)."""
    if isinstance(value, dict):
        out = {k: _restore_first(v) for k, v in value.items()}
        if out.get("first") is None and "status" in out:
            if out["status"] == ALREADY_ABOVE and out.get("min_beta") is not None:
                out["first"] = float(out["min_beta"])
            elif out["status"] in (NOT_CROSSED, NO_DATA, "none_found", "not_searched"):
                out["first"] = math.inf
        return out
    return value




@dataclass
class ContractionReport(SolverResult):
    """Contraction indicators of the Phase 2 maps along the branch ``Q*(beta_r)``.

    Status fields (:class:`~empo_tabular.core.results.SolverResult`): ``iterations`` is the number of
    (map, beta_r) rows analysed, ``residual`` the largest solver residual of the continued fixed points,
    ``converged`` whether every beta_r of the grid was reached on the branch, ``params`` the
    :meth:`EmpoParams.to_dict` (``beta_r`` swept).

    Attributes
    ----------
    maps : list of str
        The maps analysed (``"reduced"``, ``"jacobi"``, ``"gauss_seidel"``).
    betas : list of float
        The beta_r grid (sorted, >= 0).
    params : dict
        :meth:`EmpoParams.to_dict` (``beta_r`` is overridden by each grid point).
    world_checksum : str
    world : dict
        Summary: ``n_states``, ``n_ar``, ``n_humans``, ``n_goals``, ``acyclic``, ``initial_state``,
        ``name``, ``n_q``, ``n_joint``.
    table : list of dict
        One row per (map, beta_r): ``map``, ``beta_r``, every scalar field of
        :class:`~empo_tabular.contraction.MapReport` (``sup_norm, log_norm, rho_abs, rho,
        dominant_eigenvalue, max_re, alpha_max, alpha_best, picard_ratio, lower_bound_sampled,
        lower_bound_adversarial``, ...), ``max_re_eigenvalue``, ``residual`` (of the map at the
        fixed point), ``solver_residual``, ``dq_dbeta`` (:math:`\\|dQ^*/d\\beta\\|_\\infty`),
        ``n_fixed_points`` (None / null: not searched), ``fixed_points_searched``, ``stable_sync``
        (rho < 1), ``stable_ode`` (max_re < 1), ``stable_async`` (rho_abs < 1; None when undetermined),
        ``rho_abs_kind`` / ``norms_kind`` (``"exact"`` or ``"upper_bound"``), ``beta_eff`` and ``seconds``.
    beta_star : dict
        Indicator name -> ``{"first", "status", "min_beta", "max_beta", "all", "map"}`` for the
        primary map (``reduced`` when analysed, else the first map), plus ``"multi"``: ``searched``,
        ``status`` (``"found"``, ``"none_found"``, ``"not_searched"``), ``first`` (beta with more than
        one point; null in JSON unless found), ``n_starts``, ``n_searched_betas``, ``box``, ``reason``
        and ``estimated_seconds`` of the cost cap.  See :func:`beta_crossings`.
    beta_star_by_map : dict
        Map -> indicator -> crossings, for every map.
    ordering : dict
        The self-checks ``||J|| >= rho(|J|) >= rho(J) >= max Re`` per row (``rows_ok``,
        ``violations``) and ``beta*_sup <= beta*_async <= beta*_sync <= beta*_ODE`` per map
        (``beta_star_ok``, ``beta_star_first``).
    branch : list of dict
        Per beta: ``beta_r``, ``V_r_s0`` of the continued fixed point and its local stability per
        iteration: ``stable_sync`` (synchronous undamped, rho(J) < 1), ``stable_ode`` (small damped
        steps / the ODE limit, max Re lambda < 1), ``stable_async`` (asynchronous, rho(|J|) < 1; None
        when only an upper bound >= 1 is known), ``stability_map`` (the map they refer to: reduced when
        analysed) and ``stable`` (alias of ``stable_sync``, synchronous undamped); ``dq_dbeta``;
        ``fixed_points_searched``, ``n_fixed_points`` (None when not searched), ``search_seconds`` and
        ``fixed_points`` (list of ``{"V_r_s0", "stable", "stable_sync", "stable_ode", "stable_async",
        "rho", "max_re", "residual", "q_min", "q_max", "log_dist_to_branch", "on_branch"}``; empty when
        not searched; their full Q_r arrays are in ``fixed_point_arrays`` and, saved, in ``<prefix>.npz``).
    spectra : dict
        Map -> list (aligned with ``betas``) of eigenvalue lists (complete spectrum or Ritz
        values; at most ``max_saved_eigenvalues`` of largest modulus).
    region : dict or None
        Predicted convergence region of per-block damped Jacobi updates at ``beta``:
        ``a_values``, ``kappa_values``, ``rho_pred[i][j]`` (see
        :func:`~empo_tabular.contraction.predict_convergence_region`).
    sa_runs : list of dict
        Empirical SA runs overlaid on the region (``a``, ``kappa``, ``converged``, errors).
    versions, seconds, notes, options :
        Provenance.
    fixed_point_arrays : dict
        ``"Q_r__beta_<i>__point_<k>"`` -> the full Q_r array of point ``k`` at ``betas[i]`` (and ``"betas"``);
        not in the JSON (saved as an npz by :meth:`save`).
    """

    maps: list
    betas: list
    world: dict
    table: list
    beta_star: dict
    beta_star_by_map: dict
    ordering: dict
    branch: list
    spectra: dict
    region: dict | None = None
    sa_runs: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    options: dict = field(default_factory=dict)
    fixed_point_arrays: dict = field(default_factory=dict, repr=False, compare=False)

    _NOT_JSON = ("fixed_point_arrays",)

    # ------------------------------------------------------------------ access

    def rows(self, map_name: str) -> list:
        """The table rows of one map, in beta order."""
        if map_name not in self.maps:
            raise ValueError(f"map {map_name!r} was not analysed; maps: {self.maps}")
        return sorted((r for r in self.table if r["map"] == map_name), key=lambda r: r["beta_r"])

    def column(self, map_name: str, key: str) -> np.ndarray:
        """One column of the table for one map (complex columns stay complex)."""
        rows = self.rows(map_name)
        if rows and key not in rows[0]:
            raise KeyError(f"unknown column {key!r}; columns: {sorted(rows[0])}")
        vals = [r[key] for r in rows]
        if vals and isinstance(vals[0], complex):
            return np.asarray(vals, dtype=complex)
        return np.asarray(vals, dtype=float)

    # ------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict:
        """Strict-JSON-ready dict: complex numbers as ``[re, im]``, non-finite floats as None (see ``json_nulls``)."""
        out = {f.name: strict(jsonable(getattr(self, f.name), keep_nonfinite=True))
               for f in fields(self) if f.name not in self._NOT_JSON}
        out["json_nulls"] = NULL_NOTE
        return out

    def to_json(self) -> str:
        """Strict JSON (no NaN/Infinity tokens: ``allow_nan=False``)."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=1, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict) -> "ContractionReport":
        kwargs = {f.name: _restore_first(data.get(f.name)) for f in fields(cls) if f.name in data}
        table = []
        for row in kwargs.get("table", []):
            row = dict(row)
            for k in COMPLEX_KEYS:
                if isinstance(row.get(k), list):
                    row[k] = complex(row[k][0], row[k][1])
                elif k in row and row[k] is None:
                    row[k] = complex(math.nan, math.nan)
            for k, v in row.items():
                if v is None and k not in NULLABLE_COLUMNS:
                    row[k] = math.nan
            table.append(row)
        kwargs["table"] = table
        return cls(**kwargs)

    def table_csv(self) -> str:
        """The table as CSV text (complex columns split into ``_re`` and ``_im``)."""
        if not self.table:
            return ""
        cols = []
        for k in self.table[0]:
            if k in COMPLEX_KEYS:
                cols += [f"{k}_re", f"{k}_im"]
            else:
                cols.append(k)
        buf = io.StringIO()
        wr = csv.writer(buf)
        wr.writerow(cols)
        for r in self.table:
            line = []
            for k in self.table[0]:
                v = r.get(k)
                if k in COMPLEX_KEYS:
                    z = complex(v) if v is not None else complex(math.nan, math.nan)
                    line += [_csv_float(z.real), _csv_float(z.imag)]
                elif isinstance(v, float):
                    line.append(_csv_float(v))
                else:
                    line.append("" if v is None else v)
            wr.writerow(line)
        return buf.getvalue()

    def beta_star_csv(self) -> str:
        """The beta* table as CSV: one row per (map, indicator); ``first_beta`` empty unless ``status`` is
        ``crossed`` (see :func:`beta_crossings`); ``iteration`` says what the indicator certifies."""
        buf = io.StringIO()
        wr = csv.writer(buf)
        wr.writerow(["map", "indicator", "beta_star_name", "iteration", "first_beta", "status", "min_beta",
                     "max_beta", "in_words"])
        meta = {i.name: i for i in INDICATORS}
        for m, by in self.beta_star_by_map.items():
            for ind, c in by.items():
                rec = strict(c)
                i = meta.get(ind)
                wr.writerow([m, ind, i.beta_star_name if i else "", i.iteration if i else "",
                             "" if rec.get("first") is None else repr(rec["first"]), rec.get("status", ""),
                             "" if rec.get("min_beta") is None else repr(rec["min_beta"]),
                             "" if rec.get("max_beta") is None else repr(rec["max_beta"]), crossing_text(c)])
        return buf.getvalue()

    def save(self, path_prefix) -> tuple:
        """Write the report as a bundle (:func:`core.storage.save_bundle`): ``<prefix>.npz`` (the full Q_r
        arrays of the fixed points found, plus the report as strict JSON) and its ``<prefix>.json`` sidecar;
        and, as exports for other tools, ``<prefix>.csv`` (the table) and ``<prefix>_beta_star.csv``.
        Returns ``(csv_path, json_path)``."""
        prefix = Path(path_prefix)
        if prefix.suffix in (".json", ".csv", ".npz"):
            prefix = prefix.with_suffix("")
        npz = save_bundle(prefix.with_name(prefix.name + ".npz"), "contraction_report",
                          {f"fp__{k}": v for k, v in self.fixed_point_arrays.items()}, self.to_dict())
        csv_path = atomic_write_text(prefix.with_name(prefix.name + ".csv"), self.table_csv())
        if self.beta_star_by_map:
            atomic_write_text(prefix.with_name(prefix.name + "_beta_star.csv"), self.beta_star_csv())
        return csv_path, npz.with_suffix(".json")

    def __eq__(self, other):
        if not isinstance(other, ContractionReport):
            return NotImplemented
        return self.to_json() == other.to_json()

    def summary(self) -> str:
        """A few lines: the first critical beta of each indicator per map (in words when not crossed), which
        iteration each certifies, the multiplicity search and the self-checks."""
        lines = [f"contraction report: {self.world.get('name') or 'world'} ({self.world.get('n_states')} states), "
                 f"{len(self.betas)} betas in [{min(self.betas):g}, {max(self.betas):g}]"]
        for m in self.maps:
            parts = []
            for ind in BETA_STAR_INDICATORS:
                c = self.beta_star_by_map.get(m, {}).get(ind)
                if c is not None:
                    parts.append(f"{ind}={crossing_text(c)}")
            lines.append(f"  {m:13s} beta*: " + "; ".join(parts))
        lines.append("  (below 1: rho certifies synchronous undamped iteration, max_re small damped steps / the ODE "
                     "limit, rho_abs asynchronous iteration, sup_norm and log_norm a norm contraction)")
        kinds = {r.get("rho_abs_kind", "exact") for r in self.table}
        if "upper_bound" in kinds:
            lines.append("  rho_abs is an UPPER BOUND on rho(|J|) where rho_abs_kind = 'upper_bound' (large reduced maps)")
        lines.append("  " + multi_text(self.beta_star.get("multi", {})))
        lines.append(f"  ordering checks: rows {'ok' if self.ordering.get('rows_ok') else 'VIOLATED'}, "
                     f"beta* {'ok' if self.ordering.get('beta_star_ok') else 'VIOLATED'}")
        return "\n".join(lines)


def multi_text(multi: dict) -> str:
    """The multiplicity search in words: never "unique" from a search that may have missed points."""
    if not multi or not multi.get("searched"):
        return "multiple fixed points: not searched" + (f" ({multi['reason']})" if multi.get("reason") else "")
    how = (f"searched at {multi.get('n_searched_betas', '?')} beta_r with {multi.get('n_starts', '?')} starts "
           f"each, box {multi.get('box', '?')}")
    first = multi.get("first")
    if first is not None and math.isfinite(first):
        return f"more than one fixed point first found at beta_r = {first:g} ({how})"
    return f"multiple fixed points: none found ({how}; a search, not a proof of uniqueness)"


def _csv_float(v: float) -> str:
    """CSV cell of a float: ``repr`` when finite, empty (null) otherwise."""
    return repr(float(v)) if math.isfinite(v) else ""


def load_contraction_report(path) -> ContractionReport:
    """Load a report written by :meth:`ContractionReport.save` (its ``.npz``, ``.json``, ``.csv`` or the prefix).

    The ``.npz`` bundle is read when present (it carries the fixed points' arrays); a lone ``.json`` (as
    written by version 0.1.0) is read as strict JSON. Errors name the file in one line.
    """
    p = Path(path)
    prefix = p.with_suffix("") if p.suffix in (".json", ".csv", ".npz") else p
    npz, js = prefix.with_name(prefix.name + ".npz"), prefix.with_name(prefix.name + ".json")
    if npz.exists():
        arrays, data = load_bundle(npz, "contraction_report", what="contraction report")
    elif js.exists():  # a report of version 0.1.0: JSON alone, which may hold NaN/Infinity tokens
        try:
            arrays, data = {}, json.loads(js.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{js}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    else:
        raise FileNotFoundError(f"no contraction report at {npz} or {js}")
    if not isinstance(data, dict) or "table" not in data or "betas" not in data:
        raise ValueError(f"{js} is not a contraction report (no 'table'/'betas')")
    report = ContractionReport.from_dict(data)
    report.fixed_point_arrays = {k[len("fp__"):]: v for k, v in arrays.items() if k.startswith("fp__")}
    return report
