"""Train a plain tabular Q_r learner through the Gymnasium interface, then score it against the exact solution.

Run: ``python examples/train_tabular_q_on_env.py [--scenario corridor] [--steps 150000] [--out DIR]``.

What it learns
--------------
EMPO's robot value with the intrinsic reward given: the environment pays ``c_r * U_r(s')`` on entering a
non-terminal ``s'`` (``reward="u_r"``, read from the exact solution), and the learner runs expected-SARSA
with its own power-law policy ``pi(a|s) ∝ (-Q(s, a))^(-beta_r)``::

    Q(s, a) <- Q(s, a) + alpha * (gamma_r * (r + (1 - terminated) * sum_b pi(b|s') Q(s', b)) - Q(s, a))

The exact ``Q_r`` is the fixed point of the expectation of this update when the humans act by
``prior.profile`` at every step, which is what ``goal_mode="step"`` simulates.  The learned ``Q``, its
power-law ``pi_r`` and ``V_r = c_r U_r + sum_a pi_r Q`` (``U_r`` read from ``info["u_r"]``) are scored with
:func:`empo_tabular.score` every ``--eval-every`` steps; the script prints the final score table and saves
``error_vs_steps.png`` and the error heat maps ``score_maps.png``.

Where a PyTorch trainer plugs in
--------------------------------
Replace :class:`TabularQ` by your network; the loop and the scoring stay the same::

    class TorchQ:
        def __init__(self, env):
            self.net = torch.nn.Sequential(torch.nn.Embedding(n_states, 64), torch.nn.ReLU(),
                                           torch.nn.Linear(64, n_ar))   # or a conv net on observation="grid"
            self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        def q_table(self, states):                      # the callable et.score accepts
            with torch.no_grad():
                return -torch.nn.functional.softplus(self.net(torch.as_tensor(states))).numpy()   # Q_r < 0
        def update(self, s, a, r, s2, terminated):      # one TD step on a (mini-)batch from a replay buffer
            ...

    res = et.score(exact, {"Q_r": learner.q_table}, world=gw, prior=prior)   # callables over state indices

``score`` calls ``q_table(np.arange(n_states))`` once, so any batched model works; for EMPO's full Phase 2
(``V_h^e``, ``X_h``, ``U_r`` learned too) pass those tables or callables as well, with ``reward="none"``
and the goals and achievement flags from ``info``.
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # BLAS threads thrash on shared machines
os.environ.setdefault("MPLBACKEND", "Agg")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "train_tabular_q_on_env"


class TabularQ:
    """Expected-SARSA on a (S, n_ar) table with the power-law policy of its own Q (no framework needed)."""

    def __init__(self, n_states, n_actions, params, *, q0=-1.0, lr_exponent=0.5):
        from empo_tabular import power_law_policy

        self.policy = lambda q: power_law_policy(q, params.beta_r)
        self.Q = np.full((n_states, n_actions), float(q0))
        self.U = np.full(n_states, np.nan)        # U_r(s) as reported by the environment's info
        self.visits = np.zeros((n_states, n_actions))
        self.gamma, self.c_r, self.lr_exponent = params.gamma_r, params.c_r, lr_exponent

    def act(self, s, rng, explore):
        """Sample from pi(Q(s, .)), mixed with uniform exploration."""
        if rng.random() < explore:
            return int(rng.integers(self.Q.shape[1]))
        p = self.policy(self.Q[s])
        return int(rng.choice(p.size, p=p))

    def update(self, s, a, r, s2, terminated):
        self.visits[s, a] += 1
        alpha = self.visits[s, a] ** -self.lr_exponent
        cont = 0.0 if terminated else float(self.policy(self.Q[s2]) @ self.Q[s2])
        self.Q[s, a] += alpha * (self.gamma * (r + cont) - self.Q[s, a])

    def tables(self, terminal):
        """The learned Q_r, pi_r and V_r (rows of terminal states are ignored by score)."""
        live = ~terminal
        pi = np.zeros_like(self.Q)
        pi[live] = self.policy(self.Q[live])
        U = np.where(np.isnan(self.U), -1.0, self.U)  # a state never seen keeps the guess -1
        V = self.c_r * U + (pi * self.Q).sum(axis=1)
        return {"Q_r": self.Q.copy(), "pi_r": pi, "V_r": V}


def train(scenario="corridor", steps=150_000, eval_every=10_000, seed=0, episode_len=30, explore=0.2,
          exploring_starts=0.5, horizon=None, out=OUT, plot=True, verbose=True):
    import empo_tabular as et
    from empo_tabular.envs import make_env
    from empo_tabular.worlds.scenarios import get_scenario

    gw, params = get_scenario(scenario, horizon=horizon)
    world = gw.world
    prior = et.solve_phase1(world, params)
    exact = et.solve_phase2(world, prior, params)
    env = make_env(gw, params, prior, reward="u_r", solution=exact, goal_mode="step", max_steps=episode_len,
                   seed=seed)
    rng = np.random.default_rng(seed + 1)  # the learner's own randomness
    learner = TabularQ(world.n_states, world.n_ar, params)
    live_states = np.flatnonzero(~world.terminal)

    def start():
        opts = {"state": int(rng.choice(live_states))} if rng.random() < exploring_starts else None
        obs, info = env.reset(options=opts)
        learner.U[int(obs)] = info["u_r"]
        return int(obs)

    history = {"steps": [], "Q_r sup": [], "Q_r weighted": [], "pi_r TV weighted": [], "V_r sup": []}
    s = start()
    res = None
    for t in range(1, steps + 1):
        a = learner.act(s, rng, explore)
        obs, r, terminated, truncated, info = env.step(a)
        s2 = int(obs)
        if not terminated:
            learner.U[s2] = info["u_r"]
        learner.update(s, a, r, s2, terminated)
        s = start() if (terminated or truncated) else s2
        if t % eval_every == 0 or t == steps:
            res = et.score(exact, learner.tables(world.terminal), world=gw, prior=prior)
            history["steps"].append(t)
            history["Q_r sup"].append(res.errors["Q_r"]["sup"])
            history["Q_r weighted"].append(res.errors["Q_r"]["weighted"])
            history["pi_r TV weighted"].append(res.errors["pi_r"]["tv_weighted"])
            history["V_r sup"].append(res.errors["V_r"]["sup"])
            if verbose:
                print(f"step {t:>8d}: Q_r sup {res.errors['Q_r']['sup']:.3e}  weighted "
                      f"{res.errors['Q_r']['weighted']:.3e}  pi_r TV (weighted) "
                      f"{res.errors['pi_r']['tv_weighted']:.3e}")
    if verbose:
        print(f"\n{scenario} ({world.n_states} states, beta_r={params.beta_r:g}, gamma_r={params.gamma_r:g}), "
              f"{steps} steps, seed {seed}: score against the exact solution")
        print(res.report)
    if plot:
        from empo_tabular.plotting import save_figure
        from empo_tabular.plotting.score import plot_error_curves, plot_score_maps

        out = Path(out)
        curves = {k: v for k, v in history.items() if k != "steps"}
        ax = plot_error_curves(history["steps"], curves, ylabel="error against the exact solution",
                               title=f"tabular expected-SARSA on {scenario} through Gymnasium (seed {seed})\n"
                                     "Q_r, V_r: relative error; pi_r: total variation; weighted: "
                                     "discounted visitation from s0")
        p1 = save_figure(ax, out / "error_vs_steps.png")
        p2 = save_figure(plot_score_maps(gw, res, ["Q_r", "pi_r", "V_r"]), out / "score_maps.png")
        if verbose:
            print(f"figures: {p1}, {p2}")
    return res, history


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="corridor")
    ap.add_argument("--steps", type=int, default=150_000)
    ap.add_argument("--eval-every", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    train(args.scenario, args.steps, args.eval_every, args.seed, out=args.out, plot=not args.no_plot)


if __name__ == "__main__":
    main()
