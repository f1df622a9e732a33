"""The stationary default (Anderson-accelerated Gauss-Seidel continuation) against Newton continuation,
and its branch contract on a world with several fixed points."""
import numpy as np
import pytest

import empo_tabular as et
from empo_tabular.exact.anderson import anderson
from empo_tabular.exact.sweeps import SweepMap, marginal_table
from empo_tabular.exact.system import NewtonSystem, newton_at_beta
from empo_tabular.worlds.scenarios import get_scenario, list_scenarios


def assert_same_phase2(a, b, tol=1e-10):
    live = ~a.terminal
    for name in ("V_r", "Q_r"):
        x, y = getattr(a, name)[live], getattr(b, name)[live]
        rel = np.max(np.abs(x - y) / np.abs(y))
        assert rel <= tol, f"{name}: relative difference {rel:.3g}"
    assert np.max(np.abs(a.V_h_e - b.V_h_e)) <= tol, "V_h_e"


def check_default_against_newton(w, p):
    """Consistency check: the new default against the previous one (Newton continuation), both phases."""
    prior_new = et.solve_phase1(w, p)
    prior_old = et.solve_phase1(w, p, method="newton")
    assert prior_new.method == "anderson_continuation" and prior_old.method == "newton_continuation"
    assert np.max(np.abs(prior_new.V_h_m - prior_old.V_h_m)) <= 1e-10
    new = et.solve_phase2(w, prior_old, p)
    old = et.solve_phase2(w, prior_old, p, method="newton")
    assert new.method == "anderson_continuation" and old.method == "newton_continuation"
    assert new.residual <= 1e-10 and new.betas[0] == 0.0 and new.betas[-1] == p.beta_r
    assert_same_phase2(new, old)


@pytest.mark.parametrize("name", list_scenarios())
def test_default_agrees_with_newton_on_stationary_scenarios(name):
    gw, p = get_scenario(name)
    assert not gw.world.is_acyclic
    check_default_against_newton(gw.world, p)


@pytest.mark.parametrize("spec", [
    dict(n_states=20, n_humans=1, n_actions=3, n_goals=4, seed=4),
    dict(n_states=24, n_humans=2, n_actions=2, n_goals=2, seed=5, terminal_prob=0.15),
    dict(n_states=15, n_humans=3, n_actions=2, n_goals=2, seed=6, concentration=0.2),
    dict(n_states=300, n_humans=1, n_actions=2, n_goals=2, branching=2, seed=7),
], ids=lambda d: f"S{d['n_states']}-s{d['seed']}")
@pytest.mark.parametrize("beta_r", [3.0, 40.0])
def test_default_agrees_with_newton_on_random_stationary_worlds(spec, beta_r):
    w = et.random_world(**spec)
    check_default_against_newton(w, et.EmpoParams(beta_h=4.0, gamma_h=0.85, beta_r=beta_r, gamma_r=0.9))


# A 4-state stationary world (found by searching seeds of this family) with at least two Phase 2 fixed points
# at beta_r = 50: Anderson sweeps started at the solvers' usual start converge to one that is NOT on the branch
# continued from beta_r = 0.
SEVERAL = dict(n_states=4, n_actions=2, n_goals=2, concentration=0.1, branching=1, goal_density=0.3, seed=36)
SEVERAL_PARAMS = et.EmpoParams(beta_r=50.0, gamma_r=0.5, gamma_h=0.9)


def fine_branch(w, prior, p, step=0.25):
    """Independent branch: Newton at beta = 0, step, 2 step, ... each started at the previous solution."""
    system = NewtonSystem(w, prior, p)
    solve_at = newton_at_beta(system, 1e-12)
    z = solve_at(0.0, system.beta0_start()).z
    for beta in np.arange(step, p.beta_r + step / 2, step):
        out = solve_at(float(beta), z)
        assert out.converged, beta
        z = out.z
    return system.split(z)


def test_default_returns_the_branch_from_beta_zero_where_there_are_several_fixed_points():
    w, p = et.random_world(**SEVERAL), SEVERAL_PARAMS
    prior = et.solve_phase1(w, p)
    sol = et.solve_phase2(w, prior, p)
    assert sol.method == "anderson_continuation" and sol.converged
    Q, VE, V = fine_branch(w, prior, p)
    np.testing.assert_allclose(sol.V_r, V, rtol=1e-10)
    np.testing.assert_allclose(sol.Q_r, Q, rtol=1e-10)
    np.testing.assert_allclose(sol.V_h_e, VE, atol=1e-10)
    # the other fixed point: Anderson from the usual start, directly at beta_r = 50
    sm = SweepMap(w, prior, p)
    out = anderson(sm.at(p.beta_r), sm.start(), tol=1e-13, weights=sm.weights, max_iter=3000, project=sm.project)
    assert out.converged
    res = et.phase2_residuals(w, prior, p, sm.Q, sm.VE, sm.X, sm.U, sm.V)["max"]
    assert res <= 1e-10  # a genuine fixed point ...
    assert np.max(np.abs(sm.V - V) / np.abs(V)) > 0.1  # ... far from the branch's


@pytest.mark.parametrize("bad", ["nan_value", "inf_value", "zero_v_r", "positive_v_r"])
def test_sweep_map_rejects_inadmissible_points(bad):
    w, p = et.random_world(**SEVERAL), SEVERAL_PARAMS
    sm = SweepMap(w, et.solve_phase1(w, p), p)
    x = sm.start()
    assert sm.project(x) is not None
    i = sm.nE + int(np.flatnonzero(sm.live)[0])  # a live state's V_r
    # (an infinite V_h^e is clipped to 1 by the projection; an infinite V_r is not)
    x[0 if bad == "nan_value" else i] = {"nan_value": np.nan, "inf_value": -np.inf, "zero_v_r": 0.0,
                                          "positive_v_r": 0.5}[bad]
    assert sm.project(x) is None


def test_stationary_solvers_run_blas_on_one_thread(monkeypatch):
    # OpenBLAS's worker threads compete with the Numba sweeps on small machines (core.numerics.one_blas_thread)
    from threadpoolctl import threadpool_info, threadpool_limits
    import empo_tabular.exact.anderson as anderson_module
    import empo_tabular.exact.phase1 as phase1_module
    import empo_tabular.exact.sweeps as sweeps_module
    seen = []

    def spy(*args, **kwargs):
        seen.append(max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"))
        return anderson_module.anderson(*args, **kwargs)

    monkeypatch.setattr(sweeps_module, "anderson", spy)
    monkeypatch.setattr(phase1_module, "anderson", spy)
    w, p = et.random_world(**SEVERAL), SEVERAL_PARAMS
    with threadpool_limits(limits=2, user_api="blas"):
        et.solve_phase2(w, et.solve_phase1(w, p), p)
        assert max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas") == 2  # restored
    assert seen and set(seen) == {1}


@pytest.mark.parametrize("name", ["door", "shared_switch"])
def test_block_parallel_sweeps_agree_with_newton(name, monkeypatch):
    # large worlds sweep in parallel blocks (exact.parallel.sweep_blocks); force them on small ones
    import empo_tabular.exact.parallel as parallel_module
    monkeypatch.setattr(parallel_module, "BLOCK_MIN_STATES", 0)
    gw, p = get_scenario(name)
    check_default_against_newton(gw.world, p)


def test_block_sweep_kernels_are_gauss_seidel_within_and_jacobi_between_blocks():
    # consistency check against the serial kernels (themselves checked against the oracle): each block is a
    # serial sweep over its states from the same start, and the blocks' rows are combined
    from empo_tabular._kernels import phase1 as k1, phase2_marginal as km
    from empo_tabular.exact.system import param_args
    w = et.random_world(40, n_actions=2, n_goals=2, seed=5)
    p = et.EmpoParams(beta_r=3.0, gamma_r=0.9, gamma_h=0.9)
    prior = et.solve_phase1(w, p)
    S, rng = w.n_states, np.random.default_rng(0)
    order = rng.permutation(S).astype(np.int64)
    blocks = np.array([0, 17, 40], dtype=np.int64)
    # Phase 2
    sm = SweepMap(w, prior, p)
    g = sm.at(p.beta_r)
    x = g(g(sm.start()))
    wargs, pargs = sm.wargs, param_args(p, p.beta_r)

    def tables():
        sm.buf[:] = x
        return sm.Q.copy(), sm.PI.copy(), sm.VE.copy(), sm.X.copy(), sm.U.copy(), sm.V.copy()

    got = tables()
    km.block_marginal_gauss_seidel_sweep(order, blocks, *wargs, *pargs, p.terminal_v_r, *got, np.zeros(2, np.int64))
    expected = [np.empty_like(a) for a in got]
    for lo, hi in zip(blocks[:-1], blocks[1:]):
        t = tables()
        km.marginal_gauss_seidel_sweep(order[lo:hi].copy(), *wargs, *pargs, p.terminal_v_r, *t,
                                       np.zeros(2, np.int64))
        for e, a in zip(expected, t):
            e[order[lo:hi]] = a[order[lo:hi]]
    for e, a in zip(expected, got):
        np.testing.assert_array_equal(a[order], e[order])
    # Phase 1
    args = (w.terminal, w.trans_ptr, w.trans_succ, w.trans_prob, *w.robot_rows, w.n_ah, w.human_profiles,
            w.human_action_counts, w.achieved_by_state, w.goal_count, p.gamma_h)
    b = np.zeros((S, w.n_humans, w.n_own_actions))
    VM0 = rng.random((S, w.n_humans, w.n_goals))
    VM, PI = VM0.copy(), np.zeros((S, w.n_humans, w.n_goals, w.n_own_actions))
    k1.block_phase1_sweep(order, blocks, *args, p.beta_h, b, False, False, VM, PI)
    VMe, PIe = np.empty_like(VM), np.empty_like(PI)
    for lo, hi in zip(blocks[:-1], blocks[1:]):
        V1, P1 = VM0.copy(), np.zeros_like(PI)
        k1.phase1_sweep(order[lo:hi].copy(), *args, p.beta_h, b, False, False, False, V1, V1, P1)
        VMe[order[lo:hi]], PIe[order[lo:hi]] = V1[order[lo:hi]], P1[order[lo:hi]]
    np.testing.assert_array_equal(VM, VMe)
    np.testing.assert_array_equal(PI, PIe)


@pytest.mark.parametrize("name", ["shared_switch", "random"])
def test_marginal_sweep_is_one_gauss_seidel_sweep_of_the_oracle(name):
    # the human-marginal successor table (kernels phase2_marginal) against the oracle's sweep over rows (s, a, k)
    from oracle.naive import naive_gauss_seidel_sweep
    if name == "random":
        w = et.random_world(60, n_humans=2, n_actions=2, n_goals=2, acyclic=False, branching=3, seed=3)
        p = et.EmpoParams(beta_r=4.0, gamma_r=0.9, gamma_h=0.9)
    else:
        gw, p = get_scenario(name)
        w = gw.world
    prior = et.solve_phase1(w, p)
    sm = SweepMap(w, prior, p)
    rng = np.random.default_rng(1)
    x = sm.start()
    x[:sm.nE] *= rng.uniform(0.2, 1.8, sm.nE)
    x[sm.nE:] *= rng.uniform(0.5, 2.0, sm.S)
    order = rng.permutation(w.n_states).astype(np.int64)
    sm.order = order
    got = sm.at(p.beta_r)(x)
    want = naive_gauss_seidel_sweep(w, prior.profile, prior.profile_fixed_goal, p, x[:sm.nE].reshape(sm.VE.shape),
                                    x[sm.nE:], order)
    np.testing.assert_allclose(got[:sm.nE], want["V_h_e"].ravel(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(got[sm.nE:], want["V_r"], rtol=1e-13)
    live = ~w.terminal
    np.testing.assert_allclose(sm.Q[live], want["Q_r"][live], rtol=1e-13)
    np.testing.assert_allclose(sm.PI[live], want["pi_r"][live], rtol=1e-12, atol=1e-15)
    # one entry per distinct successor of each live (s, a): the table is no longer than that
    mptr, msucc, _ = marginal_table(w, prior)
    for s in np.flatnonzero(live)[:40]:
        for a in range(w.n_ar):
            distinct = set()
            for k in range(w.n_ah):
                distinct.update(w.row(s, a, k)[0].tolist())
            e = slice(mptr[s * w.n_ar + a], mptr[s * w.n_ar + a + 1])
            assert sorted(msucc[e].tolist()) == sorted(distinct)


def robot_rows_by_hand(w):
    """Per (s, k): the robot actions' rows, keeping the first of every group of equal rows (successors and
    probabilities as multisets, which is how the world stores a row: sorted, duplicates merged)."""
    out = []
    for s in range(w.n_states):
        for k in range(w.n_ah):
            seen, keep = set(), []
            for a in range(w.n_ar):
                succ, prob = w.row(s, a, k)
                key = tuple(sorted(zip(succ.tolist(), prob.tolist())))
                if key not in seen:
                    seen.add(key)
                    keep.append((s * w.n_ar + a) * w.n_ah + k)
            out.append(keep)
    return out


def test_robot_rows_drop_exactly_the_repeated_rows():
    # two robot actions, one human action: a = 0 and a = 1 lead to the same successors with different
    # probabilities (both kept); a world whose two robot actions are the same row keeps one
    T = np.zeros((3, 2, 1, 3))
    T[0, 0, 0] = [0.0, 0.5, 0.5]
    T[0, 1, 0] = [0.0, 0.25, 0.75]
    T[1, :, 0, 2] = 1.0           # both robot actions: 1 -> 2
    T[2, :, 0, 0] = 1.0
    w = et.TabularWorld.from_dense(T, np.zeros(3, bool), np.array([[0]]), np.array([[[0, 0, 1]]], bool),
                                   np.ones((1, 1)))
    ptr, rows = w.robot_rows
    got = [rows[ptr[i]:ptr[i + 1]].tolist() for i in range(w.n_states * w.n_ah)]
    assert got == [[0, 1], [2], [4]] == robot_rows_by_hand(w)


@pytest.mark.parametrize("name", ["shared_switch", "random"])
def test_robot_rows_agree_with_a_dedupe_by_hand(name):
    if name == "random":
        w = et.random_world(50, n_humans=2, n_actions=2, n_goals=2, acyclic=False, branching=2, seed=4)
    else:
        w = get_scenario(name)[0].world
    ptr, rows = w.robot_rows
    got = [rows[ptr[i]:ptr[i + 1]].tolist() for i in range(w.n_states * w.n_ah)]
    assert got == robot_rows_by_hand(w)


def test_each_solution_says_what_ties_it_to_the_branch(monkeypatch):
    import empo_tabular.exact.phase2 as phase2_module
    gw, p = get_scenario("door")
    w = gw.world
    prior = et.solve_phase1(w, p)
    auto = et.solve_phase2(w, prior, p)
    assert "rightmost eigenvalue of the sweep map's Jacobian is 0.8" in auto.branch_check
    newton = et.solve_phase2(w, prior, p, method="newton")  # 2,400 unknowns: Krylov first, the sign screened
    assert "kept det(I - J) > 0 (ARPACK's rightmost eigenvalue" in newton.branch_check
    cgw, cp = get_scenario("corridor")  # 220 unknowns: LU solves and LU signs
    small = et.solve_phase2(cgw.world, et.solve_phase1(cgw.world, cp), cp, method="newton")
    assert "kept det(I - J) > 0 (sparse LU)" in small.branch_check
    monkeypatch.setattr(phase2_module, "SIGN_MAX_UNKNOWNS", 10)  # the door's Newton system has 2,400 unknowns
    unsigned = et.solve_phase2(w, prior, p, method="newton")  # no sign per step; ARPACK at the returned point
    assert "no sign per step" in unsigned.branch_check and "at the returned point ARPACK" in unsigned.branch_check
    assert "tests no step" in et.solve_phase2(w, prior, p, method="picard").branch_check
    acyclic_gw, q = get_scenario("door", horizon=3)
    assert et.solve_phase2(acyclic_gw.world, et.solve_phase1(acyclic_gw.world, q), q).branch_check == \
        "acyclic world: the solution is unique"
