"""Verdicts on the learning-rate design note's claims, derived by written rules from measured runs.

Nothing here chooses a verdict by hand: every verdict is computed from *run records* (one per SA run or
per seed-aggregated SA scheme, see :func:`run_record`) and from the contraction analyzer's table, by the
rules below, and the rule is printed next to it.

Words
-----
A run *converges* when its measured label (:mod:`empo_tabular.sa.labels`) is ``converged`` or
``converging``; a seed-aggregated scheme converges when more than half of its seeds do.  Run ``x`` is
*better* than run ``y`` when ``x`` converges and ``y`` does not, or both are in the same class and ``x``
is ahead: both labelled converged and ``x`` reached 1e-3 at least 10% sooner, otherwise ``x``'s final
Q_r error is below half of ``y``'s.  Between two seed aggregates (the sampled regime, where no run gets near
the tolerance and a label says whether the error still falls measurably, not how low it is) ``x`` is better
when its median final Q_r error is below half of ``y``'s.  Two runs have the *same effect* when both converge or both do not,
and (unless both are labelled converged) their final errors are within a factor of 10.

Verdict from cases
------------------
Each claim is split into cases (one per beta_r, rate level, cell, ...), each True (the claim holds in
that case), False, or None (not measurable: a partner run is missing).  All True: ``holds``; all False:
``fails``; mixed: ``holds only when <the True cases>``; no measurable case: ``not tested (...)``.
"""
from __future__ import annotations

import math

__all__ = ["CONVERGING_LABELS", "CLAIMS", "better", "converges", "same_effect", "verdict_from_cases",
           "run_record", "evaluate_claims", "monitoring_verdicts", "beta_table_verdicts", "format_table"]

CONVERGING_LABELS = ("converged", "converging")
EVALUATOR = ("v_h_e", "x_h", "u_r")
OPTIMIZER = ("q_r", "v_r")
SMALL_BETA = 1.0      # the note: "Small beta_r (<= 1): equal learning rates likely fine"
LARGE_BETA = 5.0      # the note: "Large beta_r (>= 5): consider U_r-fast, Q_r-slow"
RAMP_BETA = 10.0      # the note's example: "beta_r ramp-up (essential for large beta_r)", beta_r = 10

CLAIMS = (
    ("equal_small", "Equal learning rates are fine for small β_r (≤ 1)"),
    ("ur_fast_large", "U_r pathway fast, Q_r slow for large β_r (≥ 5)"),
    ("qr_fast", "Q_r fast is \"not recommended\""),
    ("frequency", "k evaluator updates per Q_r update \"achieve the same effect as\" a k:1 rate ratio"),
    ("warmup", "Staged warm-up is \"essential\""),
    ("ramp", "The β_r ramp is \"essential for large β_r\""),
    ("targets", "Target networks help (\"frozen targets provide stability\")"),
)
RULES = {
    "equal_small": "per (equal rate, β_r ≤ 1): the equal-rate run converges",
    "ur_fast_large": "per β_r ≥ 5: the U_r-pathway-fast run converges and is better than equal rates at its Q_r rate",
    "qr_fast": "per β_r: the Q_r-fast run does not converge, or the U_r-pathway-fast run is better",
    "frequency": "per β_r: the k-update run and the k:1 rate-ratio run have the same effect",
    "warmup": "per (β_r, rate): warm-up stages (no ramp) converge where no warm-up does not",
    "ramp": "per (β_r ≥ 10, rate): a β_r ramp (no stages) converges where starting at β_r does not",
    "targets": "per (β_r, rate): Q_r/V_r target tables make the run better than without",
}


# ----------------------------------------------------------------------------------------- basic words

def converges(run) -> bool:
    """Measured label converged or converging (a seed aggregate: more than half of its seeds)."""
    if run.get("n_seeds"):
        return 2 * int(run.get("n_converging", 0)) > int(run["n_seeds"])
    return run.get("label") in CONVERGING_LABELS


def _final(run) -> float:
    v = run.get("final")
    return math.inf if v is None or not math.isfinite(float(v)) else float(v)


def better(x, y) -> bool:
    """``x`` strictly better than ``y`` (module docstring)."""
    if x.get("n_seeds") and y.get("n_seeds"):  # seed aggregates: progress, measured by the median final error
        return _final(x) < 0.5 * _final(y)
    cx, cy = converges(x), converges(y)
    if cx != cy:
        return cx
    if x.get("label") == "converged" and y.get("label") == "converged":
        sx, sy = x.get("steps_to_1e-3"), y.get("steps_to_1e-3")
        if sx is not None and sy is not None:
            return sx < 0.9 * sy
        return False
    return _final(x) < 0.5 * _final(y)


def same_effect(x, y) -> bool:
    """Both converge or both do not, and final errors within 10x unless both are labelled converged."""
    if converges(x) != converges(y):
        return False
    if x.get("label") == "converged" and y.get("label") == "converged":
        return True
    fx, fy = _final(x), _final(y)
    if math.isinf(fx) or math.isinf(fy):
        return math.isinf(fx) and math.isinf(fy)
    lo, hi = sorted((max(fx, 1e-300), max(fy, 1e-300)))
    return hi <= 10.0 * lo


def verdict_from_cases(cases, empty: str = "no run of this kind") -> str:
    """``cases``: list of (condition text, True/False/None) -> holds / fails / holds only when ... ."""
    known = [(c, v) for c, v in cases if v is not None]
    if not known:
        return f"not tested ({empty})"
    true = [c for c, v in known if v]
    if len(true) == len(known):
        return "holds"
    if not true:
        return "fails"
    if all(c.startswith("β_r = ") and "," not in c for c in true):  # "β_r = 1, 10" rather than "β_r = 1; β_r = 10"
        return "holds only when β_r = " + ", ".join(c[len("β_r = "):] for c in true)
    return "holds only when " + "; ".join(true)


# ----------------------------------------------------------------------------------------- run records

def run_record(config, beta_r: float, *, label=None, final=None, steps_to=None, symptoms=(), regime="expected",
               family="experiment", variant="", n_seeds=0, n_converging=0, labels=None) -> dict:
    """One record for the rules: rates, schedule features and the measured outcome of a run (or of seeds)."""
    warm = sum(int(getattr(config, f"warmup_{q}_steps")) for q in EVALUATOR + OPTIMIZER)
    return {"regime": regime, "family": family, "variant": variant, "beta_r": float(beta_r),
            "lr": {q: float(getattr(config, f"lr_{q}")) for q in EVALUATOR + OPTIMIZER},
            "k": int(config.evaluator_updates_per_q_update), "stages": warm > 0,
            "ramp": int(config.beta_r_rampup_steps) > 0, "targets": int(config.q_r_target_update_interval),
            "label": label, "final": final, "steps_to_1e-3": steps_to, "symptoms": list(symptoms),
            "n_seeds": int(n_seeds), "n_converging": int(n_converging), "labels": dict(labels or {})}


def _ev(r):
    return r["lr"]["v_h_e"]


def _q(r):
    return r["lr"]["q_r"]


def _equal(r):
    return all(math.isclose(v, _ev(r)) for v in r["lr"].values())


def _plain(r):
    return r["k"] == 1 and not r["stages"] and not r["ramp"] and r["targets"] == 1


def _find(runs, beta, pred):
    out = [r for r in runs if math.isclose(r["beta_r"], beta) and pred(r)]
    return out[0] if out else None


def _outcome(r) -> str:
    if r is None:
        return "not run"
    if r.get("n_seeds"):
        return (f"{r['n_converging']}/{r['n_seeds']} seeds converged or converging (error falling), "
                f"median final {r['final']:.1e}")
    return f"{r['label']} ({r['final']:.1e})" if r.get("final") is not None else str(r["label"])


def _betas(runs):
    return sorted({r["beta_r"] for r in runs})


# ----------------------------------------------------------------------------------------- the claims

def _claim_cases(key, runs):
    """(cases, measured text) of one claim on the records of one regime (family 'experiment')."""
    cases, seen = [], []
    if key == "equal_small":
        for r in sorted((r for r in runs if _plain(r) and _equal(r) and r["beta_r"] <= SMALL_BETA),
                        key=lambda r: (r["beta_r"], _ev(r))):
            cases.append((f"rate {_ev(r):g} at β_r = {r['beta_r']:.4g}", converges(r)))
            seen.append(f"equal {_ev(r):g} at β_r = {r['beta_r']:.4g}: {_outcome(r)}")
    elif key in ("ur_fast_large", "qr_fast"):
        for b in _betas(runs):
            if key == "ur_fast_large" and b < LARGE_BETA:
                continue
            fast = _find(runs, b, lambda r: _plain(r) and _ev(r) > _q(r) and r["lr"]["u_r"] == _ev(r)
                         and math.isclose(_ev(r) / _q(r), 10.0))
            qf = _find(runs, b, lambda r: _plain(r) and _q(r) > _ev(r) and math.isclose(_q(r) / _ev(r), 10.0))
            if key == "ur_fast_large":
                eq = fast and _find(runs, b, lambda r: _plain(r) and _equal(r) and math.isclose(_ev(r), _q(fast)))
                ok = None if (fast is None or eq is None) else (converges(fast) and better(fast, eq))
                cases.append((f"β_r = {b:.4g}", ok))
                seen.append(f"β_r = {b:.4g}: U_r x10 {_outcome(fast)}; equal {_q(fast) if fast else '?'} {_outcome(eq)}")
            else:
                ok = None if (qf is None or fast is None) else (not converges(qf) or better(fast, qf))
                cases.append((f"β_r = {b:.4g}", ok))
                seen.append(f"β_r = {b:.4g}: Q_r x10 {_outcome(qf)}; U_r x10 {_outcome(fast)}")
    elif key == "frequency":
        for b in _betas(runs):
            kr = _find(runs, b, lambda r: r["k"] > 1 and _equal(r) and not r["stages"] and not r["ramp"])
            rr = kr and _find(runs, b, lambda r: _plain(r) and math.isclose(_ev(r) / _q(r), float(kr["k"])))
            ok = None if (kr is None or rr is None) else same_effect(kr, rr)
            cases.append((f"β_r = {b:.4g}", ok))
            if kr is not None:
                seen.append(f"β_r = {b:.4g}: k = {kr['k']} {_outcome(kr)}; {kr['k']}:1 rates {_outcome(rr)}")
    elif key in ("warmup", "ramp", "targets"):
        for b in _betas(runs):
            if key == "ramp" and b < RAMP_BETA:
                continue
            for base in sorted((r for r in runs if math.isclose(r["beta_r"], b) and _plain(r) and _equal(r)),
                               key=_ev):
                if key == "warmup":
                    pred = (lambda r, base=base: r["stages"] and not r["ramp"] and r["targets"] == 1
                            and _equal(r) and math.isclose(_ev(r), _ev(base)))
                elif key == "ramp":
                    pred = (lambda r, base=base: r["ramp"] and not r["stages"] and r["targets"] == 1
                            and _equal(r) and math.isclose(_ev(r), _ev(base)))
                else:
                    pred = (lambda r, base=base: r["targets"] > 1 and r["k"] == 1 and not r["stages"]
                            and not r["ramp"] and _equal(r) and math.isclose(_ev(r), _ev(base)))
                alt = _find(runs, b, pred)
                if alt is None:
                    continue
                if key == "targets":
                    ok = better(alt, base)
                else:
                    ok = converges(alt) and not converges(base)
                cases.append((f"β_r = {b:.4g}, rate {_ev(base):g}", ok))
                seen.append(f"β_r = {b:.4g}, rate {_ev(base):g}: with {_outcome(alt)}; without {_outcome(base)}")
    else:
        raise KeyError(f"unknown claim {key!r}; known: {[k for k, _ in CLAIMS]}")
    return cases, seen


def evaluate_claims(runs, regime: str) -> dict:
    """claim key -> {"verdict", "measured", "cases"} for the records of one regime (experiment family)."""
    rs = [r for r in runs if r["regime"] == regime and r["family"] == "experiment"]
    out = {}
    for key, _ in CLAIMS:
        cases, seen = _claim_cases(key, rs)
        out[key] = {"verdict": verdict_from_cases(cases, f"no {regime}-mode run of this kind"),
                    "measured": "; ".join(seen) if seen else "no run of this kind", "cases": cases}
    return out


# ----------------------------------------------------------------------------------------- monitoring table

MONITORING = (
    ("Q_r oscillating", "Q_r loss oscillates → Q_r changing too fast → reduce lr_q_r", "smaller_q"),
    ("U_r lagging Q_r", "U_r lags behind Q_r → U_r pathway too slow → increase the U_r pathway rates", "larger_ev"),
    ("V_h^e unstable", "V_h^e unstable → π_r changing rapidly → reduce lr_q_r", "smaller_q"),
    ("all plateau", "all losses plateau early → rates too small → increase all proportionally", "scale_up"),
)


def _partner(case, runs, how):
    same = [r for r in runs if r is not case and r["family"] == case["family"] and r["regime"] == case["regime"]
            and math.isclose(r["beta_r"], case["beta_r"]) and r["k"] == case["k"] and r["stages"] == case["stages"]
            and r["ramp"] == case["ramp"] and r["targets"] == case["targets"]]
    if how == "smaller_q":
        return [r for r in same if math.isclose(_ev(r), _ev(case)) and _q(r) < _q(case) * (1 - 1e-9)]
    if how == "larger_ev":
        return [r for r in same if math.isclose(_q(r), _q(case)) and _ev(r) > _ev(case) * (1 + 1e-9)]
    return [r for r in same if math.isclose(_q(r) / _ev(r), _q(case) / _ev(case)) and _ev(r) > _ev(case) * (1 + 1e-9)]


def _where(r) -> str:
    return f"{r['family']} {r['variant'] or ''} β_r = {r['beta_r']:.4g}".replace("  ", " ").strip()


def monitoring_verdicts(runs, regime: str) -> list:
    """One verdict per row of the note's monitoring table, on the runs of one regime (every family).

    Cases: runs whose :func:`~empo_tabular.sa.diagnose` symptoms include the row's symptom; a case holds
    when a run with the remedy applied (same beta_r, family and schedule; rates changed as the row says) is
    better; no such run: None.
    """
    rs = [r for r in runs if r["regime"] == regime]
    out = []
    for symptom, row, how in MONITORING:
        cases, seen = [], []
        for c in (r for r in rs if symptom in r["symptoms"]):
            partners = _partner(c, rs, how)
            ok = None if not partners else any(better(p, c) for p in partners)
            cases.append((_where(c), ok))
            seen.append(f"{_where(c)}: {'no run with the remedy' if ok is None else ('remedy better' if ok else 'remedy not better')}")
        n = len(seen)
        text = (f"symptom seen in {n} run(s): " + "; ".join(seen[:6]) + (" ..." if n > 6 else "")) if n else \
            "symptom not seen in any run"
        out.append({"row": row, "verdict": verdict_from_cases(cases, "symptom not seen" if not n else
                                                               "no run with the remedy applied"),
                    "measured": text, "cases": cases})
    return out


# ----------------------------------------------------------------------------------------- beta_r table

BETA_ROWS = (
    ("small", "β_r ≈ 0: nearly contractive", lambda b: b <= 0.1,
     "per β_r ≤ 0.1 of the grid: sup_norm < 1 (a contraction in the sup norm)",
     lambda r: r["sup_norm"] < 1.0),
    ("moderate", "β_r 1-5: mildly non-contractive", lambda b: 1.0 <= b <= 5.0,
     "per β_r in [1, 5]: sup_norm ≥ 1 but rho < 1 (not a sup-norm contraction, still locally convergent)",
     lambda r: r["sup_norm"] >= 1.0 and r["rho"] < 1.0),
    ("large", "β_r ≥ 10: strongly non-contractive", lambda b: b >= 10.0,
     "per β_r ≥ 10: rho ≥ 1 (synchronous iteration unstable: no norm makes the map a contraction)",
     lambda r: r["rho"] >= 1.0),
)


def _f(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def beta_table_verdicts(table_rows, map_name: str = "reduced") -> list:
    """The note's beta_r behaviour table against the analyzer's indicators of ``map_name``."""
    rows = sorted((r for r in table_rows if r.get("map") == map_name), key=lambda r: r["beta_r"])
    out = []
    for key, claim, band, rule, test in BETA_ROWS:
        cases, seen = [], []
        for r in rows:
            if not band(r["beta_r"]):
                continue
            vals = {k: _f(r.get(k)) for k in ("sup_norm", "rho_abs", "rho", "max_re")}
            ok = None if any(math.isnan(vals[k]) for k in ("sup_norm", "rho")) else bool(test(vals))
            cases.append((f"β_r = {r['beta_r']:.4g}", ok))
            seen.append(f"β_r = {r['beta_r']:.4g}: " + ", ".join(f"{k} {v:.3g}" for k, v in vals.items()))
        out.append({"row": claim, "rule": f"{map_name} map, {rule}",
                    "verdict": verdict_from_cases(cases, "no β_r of the grid in this band"),
                    "measured": "; ".join(seen) if seen else "no β_r of the grid in this band", "cases": cases})
    return out


# ----------------------------------------------------------------------------------------- table

def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def format_table(claims_expected: dict, claims_sampled: dict | None, monitoring_expected, monitoring_sampled,
                 beta_rows, evidence: dict) -> str:
    """The Markdown verdict table: one row per claim, both regimes, and whether the verdict depends on it."""
    head = ["claim of the note", "rule (how the verdict is decided)", "measured: expected-mode, synchronous, "
            "constant rates", "verdict (expected)", "measured: sampled, asynchronous, decaying rates, seeds",
            "verdict (sampled)", "depends on the regime?", "evidence"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def dep(a, b):
        if b is None or a.startswith("not tested") or b.startswith("not tested"):
            return "not compared (one regime not tested)"
        return "yes" if a != b else "no"

    for key, claim in CLAIMS:
        e = claims_expected[key]
        s = (claims_sampled or {}).get(key)
        sv = s["verdict"] if s else "not tested (no sampled run of this kind)"
        lines.append("| " + " | ".join(_cell(x) for x in (
            claim, RULES[key], e["measured"], f"**{e['verdict']}**", s["measured"] if s else "not run", f"**{sv}**",
            dep(e["verdict"], sv if s else None), evidence.get(key, ""))) + " |")
    for k, e in enumerate(monitoring_expected):
        s = monitoring_sampled[k] if monitoring_sampled else None
        sv = s["verdict"] if s else "not tested (no sampled run)"
        lines.append("| " + " | ".join(_cell(x) for x in (
            f"monitoring table: {e['row']}", "per run showing the symptom (sa.diagnose): a run with the remedy "
            "applied, otherwise equal, is better", e["measured"], f"**{e['verdict']}**",
            s["measured"] if s else "not run", f"**{sv}**", dep(e["verdict"], sv if s else None),
            evidence.get("monitoring", ""))) + " |")
    for e in beta_rows:
        lines.append("| " + " | ".join(_cell(x) for x in (
            f"β_r behaviour table: {e['row']}", e["rule"], e["measured"], f"**{e['verdict']}**",
            "(a property of the map, the same in both regimes)", f"**{e['verdict']}**", "no (analyzer)",
            evidence.get("beta_table", ""))) + " |")
    return "\n".join(lines)
