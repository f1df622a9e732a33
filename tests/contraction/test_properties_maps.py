"""Property suite, part 2: P7-P12 of CONTRACTION_THEORY.md §6 (part 1: tests/exact/test_properties.py).

P7 acyclic exactness, P8 metamorphic invariances, P9 linear-map calibration of the analyzer,
P10 Asadi-Littman known answer, P11 exact SA rate at beta = 0, P12 indicator ordering.
Example counts come from the loaded hypothesis profile (conftest.py).
"""
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.optimize import brentq

import empo_tabular as et
from empo_tabular import HumanPrior, TabularWorld
from empo_tabular._kernels import phase2 as k2
from empo_tabular.contraction import analyze_map, damped_rate, fd_jacobian, find_fixed_points, iterate_damped
from empo_tabular.exact.system import param_args, world_args
from empo_tabular.sa.engine import run_sa
from empo_tabular.sa.config import SAConfig
from empo_tabular.testing import betas, params, worlds
from oracle.property_tools import ReducedMap, descendants, heights, joint_jacobian, schur_reduced_jacobian, solve

FIELDS = et.Phase2Solution.FIELDS


# ============================================================================================ P7
def random_tables(world, rng):
    S, n_ar, H, G = world.n_states, world.n_ar, world.n_humans, world.n_goals
    return (-10.0 ** rng.uniform(-2, 2, (S, n_ar)), np.zeros((S, n_ar)), rng.uniform(0.05, 1, (S, H, G)),
            rng.uniform(0.05, 1, (S, H)), -rng.uniform(1, 3, S), -10.0 ** rng.uniform(-2, 2, S))


def assert_matches(tables, sol, rtol):
    Q, PI, VE, X, U, V = tables
    live = ~sol.terminal
    for name, a, b in (("Q_r", Q[live], sol.Q_r[live]), ("V_h_e", VE, sol.V_h_e), ("X_h", X[live], sol.X_h[live]),
                       ("U_r", U[live], sol.U_r[live]), ("V_r", V, sol.V_r)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-14, err_msg=name)


@given(worlds(acyclic=True), params(beta_r=betas(1e3)), st.integers(0, 2**31 - 1))
def test_p7_acyclic_iterations_are_exact_after_depth_many_sweeps(world, p, seed):
    prior, sol = solve(world, p)
    D = int(heights(world).max())  # number of non-terminal layers
    rng = np.random.default_rng(seed)
    # reduced map R from any negative start: exact after D applications
    R = ReducedMap(world, prior, p)
    x = -10.0 ** rng.uniform(-3, 3, R.x_of(sol.Q_r).size)
    for _ in range(D):
        x = R(x)
    np.testing.assert_allclose(x, R.x_of(sol.Q_r), rtol=1e-10)
    # Gauss-Seidel sweeps in the worst (forward topological) order: exact after D + 1 sweeps
    args = (*world_args(world, prior), *param_args(p), p.terminal_v_r)
    err = np.zeros(2, dtype=np.int64)
    t = random_tables(world, rng)
    for _ in range(D + 1):
        k2.gauss_seidel_sweep(world.topological_order.copy(), *args, False, 1.0, *t, err)
    assert_matches(t, sol, 1e-12)
    # Jacobi sweeps (every array from the old ones): exact after 5 D + 1 sweeps (Q, pi+V_h^e, X, U, V per layer)
    Q, _, VE, X, U, V = random_tables(world, rng)
    for _ in range(5 * D + 1):
        out = (np.empty_like(Q), np.empty_like(Q), np.empty_like(VE), np.empty_like(X), np.empty_like(U),
               np.empty_like(V))
        k2.jacobi_map(*args, Q, VE, np.where(world.terminal[:, None], 1.0, X),
                      np.where(world.terminal, -1.0, U), V, *out, err)
        Q, _, VE, X, U, V = out
        Q, X, U = (np.where(world.terminal[:, None], -1.0, Q), np.where(world.terminal[:, None], 1.0, X),
                   np.where(world.terminal, -1.0, U))
    assert_matches((Q, None, VE, X, U, V), sol, 1e-12)


@given(worlds(acyclic=True), params(beta_r=betas(500.0)))
def test_p7_reduced_jacobian_is_nilpotent(world, p):
    prior, sol = solve(world, p)
    R = ReducedMap(world, prior, p)
    x = R.x_of(sol.Q_r)
    J = fd_jacobian(R, x, log_coords=np.ones(x.size, bool))
    live = np.flatnonzero(~world.terminal)
    state = np.repeat(live, world.n_ar)
    desc = descendants(world)
    # d Q'(s) / d Q(s') vanishes unless s' is a strict descendant of s (FD noise ~ 1e-10 |x_i| / |x_j|)
    allowed = desc[np.ix_(state, state)]
    noise = 1e-8 * np.abs(x)[:, None] / np.abs(x)[None, :]
    assert np.all(np.abs(J[~allowed]) <= noise[~allowed])
    D = int(heights(world).max())
    norm = max(1.0, np.abs(J).sum(axis=1).max())
    assert np.abs(np.linalg.matrix_power(J, D)).sum(axis=1).max() <= 1e-6 * norm ** D


# ============================================================================================ P8
def rebuild(world, *, T=None, achieved=None, goal_weight=None, terminal=None, human_profiles=None, initial=None):
    return TabularWorld.from_dense(world.dense_transitions() if T is None else T,
                                   world.terminal if terminal is None else terminal,
                                   world.human_profiles if human_profiles is None else human_profiles,
                                   world.achieved if achieved is None else achieved,
                                   world.goal_weight if goal_weight is None else goal_weight,
                                   initial_state=world.initial_state if initial is None else initial)


def assert_same(a, b, keys, rtol=1e-8, factor=1.0):
    for k in keys:
        np.testing.assert_allclose(getattr(a, k), factor * getattr(b, k), rtol=rtol, atol=1e-11, equal_nan=True,
                                   err_msg=k)


@given(worlds(max_states=6), params(beta_r=betas(50.0)), st.floats(-2, 2))
def test_p8a_scaling_goal_weights(world, p, log_c):
    c = 10.0 ** log_c
    k = c ** (-p.xi * p.eta)
    prior, sol = solve(world, p)
    p2 = p.replace(terminal_v_r=p.terminal_v_r * k)  # the terminal constant scales with U_r
    prior2, sol2 = solve(rebuild(world, goal_weight=c * world.goal_weight), p2)
    np.testing.assert_allclose(prior2.profile, prior.profile, atol=1e-13)
    assert_same(sol2, sol, ("pi_r", "V_h_e"))
    assert_same(sol2, sol, ("U_r", "V_r", "Q_r"), factor=k)
    assert_same(sol2, sol, ("X_h",), factor=c)


@given(worlds(max_states=5, actions=(1, 2)), params(beta_r=betas(50.0)))
def test_p8b_duplicating_every_human(world, p):
    prior, sol = solve(world, p)
    S, n_ar, n_ah, H = world.n_states, world.n_ar, world.n_ah, world.n_humans
    hp = world.human_profiles
    prof2 = np.concatenate([np.repeat(hp, n_ah, axis=0), np.tile(hp, (n_ah, 1))], axis=1)  # row k * n_ah + k'
    T2 = np.repeat(world.dense_transitions(), n_ah, axis=2)  # the copies' actions change nothing
    dup = rebuild(world, T=T2, human_profiles=prof2, achieved=np.concatenate([world.achieved] * 2),
                  goal_weight=np.concatenate([world.goal_weight] * 2))
    profile = np.repeat(prior.profile, n_ah, axis=1) / n_ah
    pfg = np.repeat(prior.profile_fixed_goal, n_ah, axis=3) / n_ah
    dprior = HumanPrior.from_profiles(dup, profile, np.concatenate([pfg, pfg], axis=1))
    dsol = et.solve_phase2(dup, dprior, p)
    assert_same(dsol, sol, ("U_r", "Q_r", "pi_r", "V_r"))
    np.testing.assert_allclose(dsol.V_h_e, np.concatenate([sol.V_h_e] * 2, axis=1), rtol=1e-8, atol=1e-11)
    assert S == dup.n_states and dup.n_humans == 2 * H and dup.n_ar == n_ar


@given(worlds(max_states=6), params(beta_r=betas(50.0)), st.floats(-3, 3))
def test_p8c_scaling_u_r(world, p, log_c):
    c = 10.0 ** log_c
    prior, sol = solve(world, p)
    sol2 = et.solve_phase2(world, prior, p.replace(c_r=c * p.c_r, terminal_v_r=c * p.terminal_v_r))
    assert_same(sol2, sol, ("pi_r", "V_h_e", "X_h", "U_r"))
    assert_same(sol2, sol, ("Q_r", "V_r"), factor=c)


@given(worlds(max_states=6), params(beta_r=betas(50.0)), st.data())
def test_p8d_relabelling_states_actions_goals(world, p, data):
    S, n_ar, H, G = world.n_states, world.n_ar, world.n_humans, world.n_goals
    sig = np.array(data.draw(st.permutations(range(S))))  # new index of old state s
    tau = np.array(data.draw(st.permutations(range(n_ar))))
    psi = np.array([data.draw(st.permutations(range(G))) for _ in range(H)])
    T = world.dense_transitions()
    T2 = np.zeros_like(T)
    T2[np.ix_(sig, tau, np.arange(world.n_ah), sig)] = T
    ach2, w2 = np.zeros_like(world.achieved), np.zeros_like(world.goal_weight)
    for h in range(H):
        ach2[h][np.ix_(psi[h], sig)] = world.achieved[h]
        w2[h, psi[h]] = world.goal_weight[h]
    term2 = np.zeros(S, bool)
    term2[sig] = world.terminal
    w = rebuild(world, T=T2, achieved=ach2, goal_weight=w2, terminal=term2, initial=sig[world.initial_state])
    prior, sol = solve(world, p)
    prior2, sol2 = solve(w, p)
    for h in range(H):
        np.testing.assert_allclose(prior2.pi_h[sig][:, h][:, psi[h]], prior.pi_h[:, h], atol=1e-12)
        np.testing.assert_allclose(sol2.V_h_e[sig][:, h][:, psi[h]], sol.V_h_e[:, h], rtol=1e-8, atol=1e-11)
    for k in ("Q_r", "pi_r"):
        np.testing.assert_allclose(getattr(sol2, k)[sig][:, tau], getattr(sol, k), rtol=1e-8, atol=1e-11,
                                   equal_nan=True, err_msg=k)
    for k in ("U_r", "V_r", "X_h"):
        np.testing.assert_allclose(getattr(sol2, k)[sig], getattr(sol, k), rtol=1e-8, equal_nan=True, err_msg=k)


# ============================================================================================ P9
@st.composite
def linear_maps(draw):
    """A = V B V^-1 with B block-diagonal of a drawn spectrum (real values and conjugate pairs)."""
    reals = draw(st.lists(st.floats(-1.6, 1.6), min_size=1, max_size=4))
    pairs = draw(st.lists(st.tuples(st.floats(-1.2, 1.2), st.floats(0.05, 1.0)), max_size=2))
    n = len(reals) + 2 * len(pairs)
    B = np.zeros((n, n))
    B[range(len(reals)), range(len(reals))] = reals
    for i, (re, im) in enumerate(pairs):
        j = len(reals) + 2 * i
        B[j:j + 2, j:j + 2] = [[re, im], [-im, re]]
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    V = np.eye(n) + 0.5 * rng.standard_normal((n, n)) / math.sqrt(n)
    assume(np.linalg.cond(V) < 1e3)
    A = V @ B @ np.linalg.inv(V)
    b = rng.standard_normal(n)
    lam = np.concatenate([np.array(reals, complex)] + [[complex(r, i), complex(r, -i)] for r, i in pairs])
    return A, b, lam


@given(linear_maps())
def test_p9_analyzer_is_exact_on_linear_maps(case):
    A, b, lam = case
    n = A.shape[0]
    assume(np.min(np.abs(1 - lam)) > 0.05)  # I - A well conditioned: a unique fixed point
    x_star = np.linalg.solve(np.eye(n) - A, b)
    F = lambda x: A @ x + b  # noqa: E731
    rep = analyze_map(F, x_star, n_samples=30, picard_steps=0, seed=2)
    norm = np.abs(A).sum(axis=1).max()
    tol = 1e-6 * max(1.0, norm)
    assert abs(rep.sup_norm - norm) <= tol
    assert abs(rep.rho - np.abs(lam).max()) <= tol
    assert abs(rep.rho_abs - np.abs(np.linalg.eigvals(np.abs(A))).max()) <= tol
    assert abs(rep.max_re - lam.real.max()) <= tol
    assert rep.lower_bound_sampled <= norm * (1 + 1e-9) + 1e-12  # a lower bound, always (up to round-off)
    assert abs(rep.lower_bound_adversarial - norm) <= 1e-6 * norm + 1e-12  # the sign-vector adversary reaches it
    # damping: converges at 0.9 alpha_max, not at 1.1 alpha_max
    if 0 < rep.alpha_max < math.inf:
        assert damped_rate(A, 0.9 * rep.alpha_max) < 1 < damped_rate(A, 1.1 * rep.alpha_max)
        r_ok = damped_rate(A, 0.9 * rep.alpha_max)
        if r_ok < 0.99:
            steps = int(math.log(1e-6) / math.log(r_ok)) + 50
            _, err = iterate_damped(F, x_star + 0.1, 0.9 * rep.alpha_max, steps, x_star=x_star)
            assert err[-1] < 1e-3 * err[0]


@given(st.floats(0.7, 0.97), st.floats(-0.6, 0.6), st.integers(2, 5), st.integers(0, 2**31 - 1),
       st.booleans())
def test_p9_picard_ratio_tracks_a_simple_real_dominant_eigenvalue(dom, ratio, n, seed, negative):
    # slow enough rates that the observation window (20 steps) lies after the transient; at fast rates
    # (|lambda| <~ 0.5) plain iteration reaches the round-off floor within the window and the ratio is biased
    lam = np.concatenate([[-dom if negative else dom], ratio * dom * np.linspace(1, -1, n - 1)])
    rng = np.random.default_rng(seed)
    V = np.eye(n) + 0.3 * rng.standard_normal((n, n)) / math.sqrt(n)
    A = V @ np.diag(lam) @ np.linalg.inv(V)
    b = rng.standard_normal(n)
    x_star = np.linalg.solve(np.eye(n) - A, b)
    rep = analyze_map(lambda x: A @ x + b, x_star, n_samples=0, adversarial=False, picard_steps=300)
    assert abs(rep.picard_ratio - dom) <= 1e-3
    assert rep.period2 == negative


@given(worlds(max_states=5), params(beta_r=betas(50.0)))
def test_p9_schur_complement_equals_fd_reduced_jacobian(world, p):
    prior, sol = solve(world, p)
    R = ReducedMap(world, prior, p)
    x = R.x_of(sol.Q_r)
    J_fd = fd_jacobian(R, x, log_coords=np.ones(x.size, bool))
    J_schur = schur_reduced_jacobian(world, prior, p, sol)
    # central differences in log(-Q): round-off error ~ eps |R_i| / (h_rel |x_j|), large when |x_j| << |x_i|
    tol = 1e-5 * np.abs(J_schur) + 1e-8 * np.abs(x)[:, None] / np.abs(x)[None, :] + 1e-9 * np.abs(J_schur).max()
    assert np.all(np.abs(J_fd - J_schur) <= tol), np.max(np.abs(J_fd - J_schur) / tol)


# ============================================================================================ P10
R_AL, P_AL, GAMMA_AL = np.array([0.122, 0.033]), np.array([0.66, 0.99]), 0.98  # Asadi & Littman (2017)


def al_map(beta):
    """Boltzmann GVI on the Asadi-Littman MDP: Q(a) = r_a + gamma p_a boltz_beta(Q)."""

    def F(Q):
        w = np.exp(beta * (Q - Q.max()))
        return R_AL + GAMMA_AL * P_AL * float(w @ Q / w.sum())

    return F


def al_scalar_roots(beta):
    """Independent answer: roots of phi(v) - v, phi(v) = boltz_beta(r + gamma p v), and the slopes phi'(v)."""

    def phi(v):
        Q = R_AL + GAMMA_AL * P_AL * v
        w = np.exp(beta * (Q - Q.max()))
        return float(w @ Q / w.sum())

    grid = np.linspace(0.0, 10.0, 20001)
    g = np.array([phi(v) - v for v in grid])
    roots = [brentq(lambda v: phi(v) - v, grid[i], grid[i + 1], xtol=1e-14)
             for i in np.flatnonzero(np.sign(g[:-1]) != np.sign(g[1:]))]
    slopes = [(phi(v + 1e-7) - phi(v - 1e-7)) / 2e-7 for v in roots]
    return np.array(roots), np.array(slopes)


def check_al(beta, expected):
    roots, slopes = al_scalar_roots(beta)
    assert len(roots) == expected
    fps = find_fixed_points(al_map(beta), np.zeros(2), np.full(2, 12.0), 20, seed=0)
    assert len(fps) == expected
    np.testing.assert_allclose(np.sort(fps.points[:, 0]), np.sort(R_AL[0] + GAMMA_AL * P_AL[0] * roots), atol=1e-8)
    if expected == 3:
        assert slopes[1] > 1 and slopes[0] < 1 and slopes[2] < 1  # middle unstable, outer two stable
        order = np.argsort(fps.points[:, 0])
        assert list(fps.stable[order]) == [True, False, True]
    return fps


@pytest.mark.parametrize("beta, expected", [(16.5, 1), (16.95, 3), (17.5, 1)])
def test_p10_asadi_littman_known_answer(beta, expected):
    check_al(beta, expected)


@given(st.one_of(st.floats(16.0, 16.86), st.floats(16.89, 17.03), st.floats(17.06, 18.0)))
def test_p10_asadi_littman_fold_window(beta):
    # three fixed points exactly inside the published window [16.875, 17.045] (+- 0.01 margins)
    check_al(beta, 3 if 16.875 < beta < 17.045 else 1)


# ============================================================================================ P11
@given(worlds(max_states=6, terminals=False, acyclic=False), params(beta_r=0.0),
       st.one_of(st.floats(-0.9, -0.01), st.floats(0.01, 5.0)), st.floats(0.05, 1.0),
       st.sampled_from(["constant", "constant_then_1_over_t"]))
def test_p11_exact_sa_rate_at_beta_zero(world, p, shift, a, schedule):
    prior, sol = solve(world, p)
    c = shift * np.abs(sol.Q_r).min()
    start = {k: getattr(sol, k) for k in FIELDS}
    start["Q_r"] = sol.Q_r - c  # only Q_r is off (shift > -1 keeps it negative); every other table starts exact
    n = 12
    cfg = SAConfig(mode="expected", visit="synchronous", lr_q_r=a, lr_v_h_e=0.5, lr_x_h=0.5,
                   lr_schedule=schedule, lr_constant_fraction=0.4)
    res = run_sa(world, prior, p, cfg, n, exact=sol, initial=start, record_every=1)
    e, lr = res.trace["err_sup_Q_r"], res.trace["lr_q_r"]
    assert abs(e[0] - abs(c) / np.abs(sol.Q_r).min()) <= 1e-12 * e[0]
    if schedule == "constant":
        np.testing.assert_array_equal(lr[1:], a)
    for i in range(n):
        if e[i] < 1e-6:
            break
        factor = 1 - lr[i + 1] * (1 - p.gamma_r)
        assert abs(e[i + 1] / e[i] - factor) <= 1e-9, (i, e[i + 1] / e[i], factor)
    # the other quantities never move away from the exact solution
    assert res.trace["err_sup_V_h_e"].max() <= 1e-12


# ============================================================================================ P12
def assert_ordered(rep, tol=1e-9):
    s = max(1.0, rep.sup_norm)
    assert rep.sup_norm >= rep.rho_abs - tol * s
    assert rep.rho_abs >= rep.rho - tol * s
    assert rep.rho >= rep.max_re - tol * s


@given(worlds(max_states=6), params(beta_r=betas(200.0)))
def test_p12_indicator_ordering_on_empo_maps(world, p):
    prior, sol = solve(world, p)
    R = ReducedMap(world, prior, p)
    x = R.x_of(sol.Q_r)
    rep = analyze_map(R, x, log_coords=np.ones(x.size, bool), n_samples=0, adversarial=False, picard_steps=0)
    assert_ordered(rep)
    A, _ = joint_jacobian(world, prior, p, sol)
    assert_ordered(analyze_map(lambda z: z, np.ones(A.shape[0]), jacobian=A, n_samples=0, adversarial=False,
                               picard_steps=0))


def test_p12_two_fixed_points_have_secant_ratio_one():
    F = al_map(16.95)
    fps = check_al(16.95, 3)
    for i in range(3):
        for j in range(i + 1, 3):
            x, y = fps.points[i], fps.points[j]
            ratio = np.abs(F(x) - F(y)).max() / np.abs(x - y).max()
            assert abs(ratio - 1) <= 1e-7
    # an analyzer must not certify L < 1 there: the middle point is locally expanding
    rep = analyze_map(F, fps.points[np.argsort(fps.points[:, 0])[1]], n_samples=0, adversarial=False,
                      picard_steps=0)
    assert rep.rho > 1 and rep.sup_norm > 1


def test_p12_analyze_contraction_table_is_ordered():
    contraction = pytest.importorskip("empo_tabular.contraction")
    if not hasattr(contraction, "analyze_contraction"):
        pytest.skip("empo_tabular.contraction.analyze_contraction is not available yet")
    world = et.random_world(6, n_humans=1, n_actions=2, n_goals=2, acyclic=False, seed=4)
    assert not world.terminal.any()
    p = et.EmpoParams(gamma_r=0.9, gamma_h=0.9)
    prior = et.solve_phase1(world, p)
    report = contraction.analyze_contraction(world, prior, p, [0.0, 1.0, 10.0, 100.0])
    rows = list(report.table.itertuples()) if hasattr(report.table, "itertuples") else list(report.table)
    assert rows
    for row in rows:
        get = (lambda k: getattr(row, k)) if not isinstance(row, dict) else row.get
        vals = [get(k) for k in ("sup_norm", "rho_abs", "rho", "max_re")]
        if any(v is None or not np.isfinite(v) for v in vals):
            continue
        s = max(1.0, vals[0])
        assert vals[0] >= vals[1] - 1e-9 * s and vals[1] >= vals[2] - 1e-9 * s and vals[2] >= vals[3] - 1e-9 * s
        if get("map") == "reduced" and get("beta_r") == 0.0:  # P4 through the sweep: no terminal states here
            assert abs(get("rho") - p.gamma_r) <= 1e-6 and abs(get("sup_norm") - p.gamma_r) <= 1e-6
