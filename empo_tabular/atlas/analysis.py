"""What the atlas shows: agreement of prediction and outcome, and verdicts on the design note's claims.

Everything here is computed from the :func:`~empo_tabular.atlas.load_atlas` DataFrame; nothing is
re-run.  Agreement compares ``predicted_converges`` with ``observed_converges`` (label converged or
converging: a measured falling trend; the linear prediction is about the asymptotic fate, not about
reaching tol within the budget).  A claim is judged per world; "not tested" means the atlas has no
cell that could decide it.
"""
from __future__ import annotations

import math

import numpy as np

SMALL_BETA = 1.0
LARGE_BETA = 5.0
VERY_LARGE_BETA = 100.0
ERR_FACTOR = 2.0
"""A scheme 'helps' when its median final Q_r error is below the baseline's by this factor, or it
converges (observed) in more cells; it 'hurts' in the mirror case."""


def confusion(df) -> dict:
    """Counts ``{(predicted, observed): n}`` over the rows of ``df`` (booleans)."""
    out = {(p, o): 0 for p in (True, False) for o in (True, False)}
    for (p, o), n in df.groupby(["predicted_converges", "observed_converges"]).size().items():
        out[(bool(p), bool(o))] = int(n)
    return out


def agreement(df) -> float:
    c = confusion(df)
    n = sum(c.values())
    return (c[(True, True)] + c[(False, False)]) / n if n else math.nan


def disagreements(df):
    """Rows where prediction and observation differ, worst-margin first (|predicted_rate - 1| large)."""
    d = df[df["predicted_converges"] != df["observed_converges"]].copy()
    d["margin"] = (d["predicted_rate"] - 1.0).abs()
    return d.sort_values(["mode", "margin"], ascending=[True, False])


def phase_table(df, world: str, mode: str, a: float):
    """Grid cells of one world, mode and evaluator step: rows beta_r, columns kappa.

    Returns ``(betas, kappas, frac, predicted, rho)``: the fraction of seeds observed to converge
    (label converged or converging), the predicted convergence and the predicted rate (NaN where the
    grid has no cell).
    """
    g = df[(df["world"] == world) & (df["mode"] == mode) & df["scheme"].str.startswith("grid_")
           & np.isclose(df["a"], a)]
    betas = np.array(sorted(g["beta_r"].unique()))
    kappas = np.array(sorted(g["kappa"].unique()))
    frac = np.full((betas.size, kappas.size), np.nan)
    pred = np.full((betas.size, kappas.size), np.nan)
    rho = np.full((betas.size, kappas.size), np.nan)
    for (b, k), sub in g.groupby(["beta_r", "kappa"]):
        i, j = int(np.searchsorted(betas, b)), int(np.searchsorted(kappas, k))
        frac[i, j] = float(sub["observed_converges"].mean())
        pred[i, j] = float(sub["predicted_converges"].iloc[0])
        rho[i, j] = float(sub["predicted_rate"].iloc[0])
    return betas, kappas, frac, pred, rho


def _median_err(g) -> float:
    """Median final Q_r error with errors below tol counted as tol (round-off differences are no evidence)."""
    e = g["err_Q_r"].astype(float).fillna(np.inf).to_numpy()
    return float(np.median(np.maximum(e, g["tol"].to_numpy(dtype=float))))


def _median_steps(g) -> float:
    s = g["steps_to_1e-3"].astype("float").fillna(np.inf).to_numpy()
    return float(np.median(s))


def _compare(df, world, scheme, baseline, beta_sel):
    """Per (beta_r, mode) comparison of ``scheme`` against ``baseline`` in one world.

    Better: more cells observed to converge; or the same and a median final Q_r error (clipped at tol)
    ERR_FACTOR smaller; or the same error and a median number of steps to 1e-3 1.5x smaller.
    """
    sub = df[(df["world"] == world) & beta_sel(df["beta_r"])]
    rows = []
    for (b, m), g in sub.groupby(["beta_r", "mode"]):
        s, base = g[g["scheme"] == scheme], g[g["scheme"] == baseline]
        if s.empty or base.empty:
            continue
        es, eb = _median_err(s), _median_err(base)
        ts, tb = _median_steps(s), _median_steps(base)
        cs, cb = float(s["observed_converges"].mean()), float(base["observed_converges"].mean())
        same_err = not (es * ERR_FACTOR < eb or eb * ERR_FACTOR < es)
        better = cs > cb or (cs == cb and (es * ERR_FACTOR < eb or (same_err and ts * 1.5 < tb)))
        worse = cs < cb or (cs == cb and (eb * ERR_FACTOR < es or (same_err and tb * 1.5 < ts)))
        rows.append({"beta_r": float(b), "mode": m, "err": es, "err_base": eb, "conv": cs, "conv_base": cb,
                     "predicted": bool(s["predicted_converges"].all()),
                     "steps": ts, "steps_base": tb, "better": better, "worse": worse})
    return rows


def _fmt_rows(rows, limit=3) -> str:
    parts = [f"beta_r={r['beta_r']:g}: err {r['err']:.1e} vs {r['err_base']:.1e}, steps to 1e-3 "
             f"{r['steps']:g} vs {r['steps_base']:g}" for r in rows[:limit]]
    return "; ".join(parts) + (" ..." if len(rows) > limit else "")


CLAIMS = (
    ("equal_small", "Equal rates are fine for small beta_r (<= 1)"),
    ("u_r_fast", "U_r fast / Q_r slow helps for beta_r >= 5 (vs equal slow rates)"),
    ("q_r_fast", "Q_r fast is 'not recommended' (worse than equal slow rates)"),
    ("freq_equiv", "k = 5 update-frequency separation 'achieves the same effect' as a 5:1 rate ratio"),
    ("warmup", "Staged warm-up is 'essential' (without it some run fails that converges with it)"),
    ("ramp", "The beta_r ramp is 'essential for large beta_r' (>= 100)"),
    ("targets", "Target networks help (Q_r target copied every 10 steps vs none)"),
)


def _judge(claim, df, world):
    """``(verdict, evidence)`` for one claim in one world: holds / fails / not tested / mixed."""
    if claim == "equal_small":
        sub = df[(df["world"] == world) & (df["beta_r"] <= SMALL_BETA) & df["scheme"].isin(["equal_slow", "equal_fast"])]
        if sub.empty:
            return "not tested", "no equal-rate cell at beta_r <= 1"
        ok = sub.groupby("mode")["observed_converges"].mean()
        bad = sub[~sub["observed_converges"]]
        ev = ", ".join(f"{m}: {v:.0%} converge" for m, v in ok.items())
        return ("holds" if bad.empty else "fails"), ev
    pairs = {"u_r_fast": ("u_r_fast", "equal_slow", lambda b: b >= LARGE_BETA),
             "q_r_fast": ("q_r_fast", "equal_slow", lambda b: b >= 0),
             "warmup": ("staged_warmup", "equal_fast", lambda b: b >= 0),
             "ramp": ("beta_ramp", "equal_fast", lambda b: b >= VERY_LARGE_BETA),
             "targets": ("target_interval_10", "equal_fast", lambda b: b >= 0)}
    if claim == "freq_equiv":
        rows = _compare(df, world, "update_freq_5to1", "rates_5to1", lambda b: b >= 0)
        if not rows:
            return "not tested", "k=5 or rates 5:1 missing"
        same = [r for r in rows if r["conv"] == r["conv_base"] and not r["better"] and not r["worse"]]
        verdict = "holds" if len(same) == len(rows) else ("fails" if not same else "holds only partly")
        diff = [r for r in rows if r not in same]
        return verdict, (f"same outcome (neither better nor worse, k=5 vs 5:1) at {len(same)}/{len(rows)} "
                         f"beta_r; differ: {_fmt_rows(diff)}" if diff else
                         f"same outcome at all {len(rows)} beta_r")
    scheme, base, sel = pairs[claim]
    rows = _compare(df, world, scheme, base, sel)
    if not rows:
        return "not tested", f"{scheme} or {base} missing"
    better = [r for r in rows if r["better"]]
    worse = [r for r in rows if r["worse"]]
    n = len(rows)
    if claim == "q_r_fast":
        verdict = "holds" if len(worse) == n else ("fails" if not worse else "holds only sometimes")
        return verdict, f"worse in {len(worse)}/{n}, better in {len(better)}/{n}: {_fmt_rows(worse or better)}"
    if claim in ("warmup", "ramp"):
        rescued = [r for r in rows if r["conv"] > r["conv_base"]]
        real = [r for r in rescued if r["predicted"]]
        transient = [r for r in rescued if not r["predicted"]]
        if real:
            verdict = "holds"
        elif transient:
            verdict = "fails (rescue only within the budget: rho_pred > 1 at the fixed point)"
        else:
            verdict = "fails (not needed here)"
        where = ", ".join(f"{r['beta_r']:g}" for r in transient)
        note = (f" (at beta_r = {where} the fixed point is linearly unstable for these rates, rho_pred > 1: "
                f"convergence within the budget, not in the limit)") if transient else ""
        return verdict, (f"rescues {len(rescued)}/{n} beta_r where the baseline does not converge{note}; "
                         f"smaller error in {len(better)}/{n}, larger in {len(worse)}/{n}: {_fmt_rows(worse or better)}")
    verdict = "holds" if len(better) == n else ("fails" if not better else "holds only sometimes")
    return verdict, f"better in {len(better)}/{n}, worse in {len(worse)}/{n}: {_fmt_rows(better or worse)}"


def verdicts(df) -> list:
    """One dict per claim: ``claim, text`` and per mode ``{mode: {"per_world": {world: (verdict, evidence)},
    "summary": str}}`` (verdicts are judged separately in each regime)."""
    out = []
    modes = [m for m in ("expected", "sampled") if (df["mode"] == m).any()]
    for key, text in CLAIMS:
        entry = {"claim": key, "text": text, "modes": {}}
        for mode in modes:
            sub = df[df["mode"] == mode]
            per = {w: _judge(key, sub, w) for w in sorted(sub["world"].unique())}
            tested = {w: v for w, v in per.items() if v[0] != "not tested"}
            holds = [w for w, v in tested.items() if v[0] == "holds"]
            fails = [w for w, v in tested.items() if v[0] != "holds"]
            if not tested:
                summary = "not tested"
            else:
                summary = f"holds in {len(holds)} of {len(tested)} worlds"
                if fails:
                    summary += "; not in " + ", ".join(f"{w} ({per[w][0]})" for w in fails)
            entry["modes"][mode] = {"per_world": per, "summary": summary}
        out.append(entry)
    return out
