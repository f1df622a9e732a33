"""TabularWorld: construction, validation (one test per error), ordering and IO."""
import numpy as np
import pytest

from empo_tabular import TabularWorld, load_world, random_world


def arrays():
    """A valid 4-state world: 2 robot actions, 1 human with 2 actions, 2 goals.

    State 3 is terminal.  Rows (s, a_r, a_h) in CSR order.
    """
    S, n_ar, n_ah = 4, 2, 2
    rows = []
    for s in range(S):
        for a_r in range(n_ar):
            for a_h in range(n_ah):
                if s == 3:
                    rows.append([])
                elif s == 2:
                    rows.append([(3, 1.0)])
                else:
                    rows.append([(s + 1, 0.5), (2 if a_r else 3, 0.5)])
    ptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    succ = np.array([j for r in rows for j, _ in r])
    prob = np.array([p for r in rows for _, p in r])
    achieved = np.zeros((1, 2, S), dtype=bool)
    achieved[0, 0, 2] = True
    achieved[0, 1, 3] = True
    return dict(n_states=S, initial_state=0, terminal=np.array([False, False, False, True]), n_ar=n_ar,
                human_profiles=np.array([[0], [1]]), trans_ptr=ptr, trans_succ=succ, trans_prob=prob,
                achieved=achieved, goal_weight=np.array([[0.5, 0.5]]))


def build(**changes):
    kw = arrays()
    kw.update(changes)
    return TabularWorld(**kw)


def test_valid_world_attributes():
    w = build()
    assert (w.n_states, w.n_ar, w.n_ah, w.n_humans, w.n_goals) == (4, 2, 2, 1, 2)
    assert w.is_acyclic
    order = list(w.topological_order)
    for s in range(3):
        for a_r in range(2):
            for a_h in range(2):
                for j in w.row(s, a_r, a_h)[0]:
                    assert order.index(j) > order.index(s)
    assert not w.trans_prob.flags.writeable


def test_topological_order_is_computed_not_assumed():
    # renumber states so that successors have smaller indices
    kw = arrays()
    perm = np.array([3, 2, 1, 0])  # old -> new
    T = build().dense_transitions()
    Tn = np.zeros_like(T)
    Tn[np.ix_(perm, [0, 1], [0, 1], perm)] = T
    w = TabularWorld.from_dense(Tn, kw["terminal"][np.argsort(perm)], kw["human_profiles"],
                                kw["achieved"][:, :, np.argsort(perm)], kw["goal_weight"], initial_state=3)
    assert w.is_acyclic
    assert list(w.topological_order) == [3, 2, 1, 0]


def test_cycle_detected():
    T = build().dense_transitions()
    T[1, :, :, :] = 0.0
    T[1, :, :, 0] = 1.0  # 0 -> 1 -> 0
    kw = arrays()
    w = TabularWorld.from_dense(T, kw["terminal"], kw["human_profiles"], kw["achieved"], kw["goal_weight"])
    assert not w.is_acyclic and w.topological_order is None


def test_self_loop_is_a_cycle():
    T = build().dense_transitions()
    T[2, :, :, :] = 0.0
    T[2, :, :, 2] = 1.0
    kw = arrays()
    w = TabularWorld.from_dense(T, kw["terminal"], kw["human_profiles"], kw["achieved"], kw["goal_weight"])
    assert not w.is_acyclic


def test_duplicate_successors_are_summed_and_zeros_dropped():
    n_rows = 16
    ptr = np.arange(0, 3 * n_rows + 1, 3)
    succ = np.tile([3, 3, 0], n_rows)
    prob = np.tile([0.25, 0.75, 0.0], n_rows)
    ptr[-4:] = ptr[-5]  # terminal state 3 has empty rows
    succ, prob = succ[:ptr[-1]], prob[:ptr[-1]]
    w = build(trans_ptr=ptr, trans_succ=succ, trans_prob=prob)
    s, p = w.row(0, 1, 1)
    assert list(s) == [3] and list(p) == [1.0]
    assert w.nnz == 12


def test_consistency_save_load_exact_round_trip(tmp_path):
    w = random_world(40, n_humans=2, n_goals=3, seed=3, terminal_prob=0.1)
    w.info["note"] = "round trip"
    path = w.save(tmp_path / "w.npz")
    w2 = load_world(path)
    for name in w._arrays():
        a, b = getattr(w, name), getattr(w2, name)
        assert np.array_equal(a, b) and np.asarray(a).dtype == np.asarray(b).dtype, name
    assert w2.info == w.info and w2.checksum == w.checksum


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_world(tmp_path / "nope.npz")


def test_load_not_a_world(tmp_path):
    np.savez(tmp_path / "x.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match=r"x\.npz: not a world file"):
        load_world(tmp_path / "x.npz")


def test_world_file_carries_its_parameters(tmp_path):
    """A world saved with its parameters gives them back, so `solve WORLD.npz` reproduces its owner's numbers."""
    from empo_tabular import EmpoParams

    w = random_world(12, seed=4)
    p = EmpoParams(beta_r=7.5, gamma_r=0.5, beta_h=float("inf"))
    back, saved = load_world(w.save(tmp_path / "w", params=p), with_params=True)
    assert saved == p and back.checksum == w.checksum
    assert load_world(w.save(tmp_path / "bare"), with_params=True)[1] is None


def test_world_file_version_0_1_still_loads(tmp_path):
    """Files written by 0.1.0 (arrays plus an 'info_json' entry, no 'meta_json') load unchanged."""
    import json

    w = random_world(10, seed=5)
    arrays = dict(w._arrays(), world_format_version=np.int64(1), info_json=np.array(json.dumps({"a": 1})))
    np.savez_compressed(tmp_path / "old.npz", **arrays)
    old = load_world(tmp_path / "old.npz")
    assert old.checksum == w.checksum and old.info == {"a": 1}


def test_load_world_missing_array(tmp_path):
    w = random_world(10, seed=5)
    path = w.save(tmp_path / "w")
    with np.load(path) as d:
        arrays = {k: d[k] for k in d.files if k != "trans_prob"}
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=r"w\.npz: world file has no array 'trans_prob'"):
        load_world(path)


# ---------------------------------------------------------------- one test per error
def test_error_n_states():
    with pytest.raises(ValueError, match="n_states must be >= 1"):
        build(n_states=0)


def test_error_initial_state():
    with pytest.raises(ValueError, match=r"initial_state must be in \[0, 4\)"):
        build(initial_state=4)


def test_error_n_ar():
    with pytest.raises(ValueError, match="n_ar must be >= 1"):
        build(n_ar=0)


def test_error_terminal_shape():
    with pytest.raises(ValueError, match=r"terminal must have shape \(4,\), got \(3,\)"):
        build(terminal=np.zeros(3, dtype=bool))


def test_error_terminal_dtype():
    with pytest.raises(TypeError, match="terminal must be boolean"):
        build(terminal=np.array([0, 0, 2, 1]))


def test_error_human_profiles_incomplete():
    with pytest.raises(ValueError, match="human_profiles .* every combination"):
        build(human_profiles=np.array([[0], [2]]))


def test_error_human_profiles_duplicate():
    with pytest.raises(ValueError, match=r"human_profiles with shape \(4, 2\) lists the profile \[0, 1\] twice \(rows 1 and 2\)"):
        build(human_profiles=np.array([[0, 0], [0, 1], [0, 1], [1, 1]]))


def test_error_trans_ptr_shape():
    kw = arrays()
    with pytest.raises(ValueError, match=r"trans_ptr must have shape \(17,\), got \(16,\)"):
        build(trans_ptr=kw["trans_ptr"][:-1])


def test_error_trans_ptr_start():
    kw = arrays()
    ptr = kw["trans_ptr"].copy()
    ptr[0] = 1
    with pytest.raises(ValueError, match="must start at 0"):
        build(trans_ptr=ptr)


def test_error_trans_ptr_decreasing():
    kw = arrays()
    ptr = kw["trans_ptr"].copy()
    ptr[3] = ptr[2] - 1
    with pytest.raises(ValueError, match="non-decreasing; it drops at index 3"):
        build(trans_ptr=ptr)


def test_error_trans_ptr_end():
    kw = arrays()
    with pytest.raises(ValueError, match="must equal the number of entries"):
        build(trans_succ=kw["trans_succ"][:-1], trans_prob=kw["trans_prob"][:-1])


def test_error_successor_out_of_range():
    kw = arrays()
    succ = kw["trans_succ"].copy()
    succ[5] = 4
    with pytest.raises(ValueError, match=r"successor 4 out of range \[0, 4\) at entry \[5\] \(row 2 = state 0, a_r 1, a_h 0\)"):
        build(trans_succ=succ)


def test_error_probability_nan():
    kw = arrays()
    prob = kw["trans_prob"].copy()
    prob[2] = np.nan
    with pytest.raises(ValueError, match=r"non-finite probability nan at entry \[2\]"):
        build(trans_prob=prob)


def test_error_probability_inf():
    kw = arrays()
    prob = kw["trans_prob"].copy()
    prob[2] = np.inf
    with pytest.raises(ValueError, match=r"non-finite probability inf at entry \[2\]"):
        build(trans_prob=prob)


def test_error_probability_negative():
    kw = arrays()
    prob = kw["trans_prob"].copy()
    prob[2], prob[3] = -0.5, 1.5
    with pytest.raises(ValueError, match=r"negative probability -0.5 at entry \[2\]"):
        build(trans_prob=prob)


def test_error_row_sum():
    kw = arrays()
    prob = kw["trans_prob"].copy()
    prob[0] = 0.5 + 2e-9
    with pytest.raises(ValueError, match=r"row 0 \(state 0, a_r 0, a_h 0\) sums to 1.000000002"):
        build(trans_prob=prob)


def test_row_sum_within_tolerance_accepted():
    kw = arrays()
    prob = kw["trans_prob"].copy()
    prob[0] = 0.5 + 5e-10
    build(trans_prob=prob)


def test_error_nonterminal_empty_row():
    with pytest.raises(ValueError, match="non-terminal state 3 has an empty"):
        build(terminal=np.zeros(4, dtype=bool))


def test_error_terminal_nonempty_row():
    with pytest.raises(ValueError, match="terminal state 2 has a non-empty row 8"):
        build(terminal=np.array([False, False, True, True]))


def test_error_achieved_shape():
    with pytest.raises(ValueError, match=r"achieved must have shape \(1, G, 4\)"):
        build(achieved=np.zeros((1, 2, 3), dtype=bool))


def test_error_goal_weight_negative():
    with pytest.raises(ValueError, match=r"goal_weight with shape \(1, 2\) must lie in \[0.0, inf\]; entry \[0, 1\] is -0.1"):
        build(goal_weight=np.array([[0.5, -0.1]]))


def test_error_goal_weight_nonfinite():
    with pytest.raises(ValueError, match=r"goal_weight with shape \(1, 2\) has a non-finite entry at \[0, 0\]"):
        build(goal_weight=np.array([[np.inf, 0.5]]))


def test_error_no_positive_weight():
    with pytest.raises(ValueError, match="no positive weight for human 0"):
        build(goal_weight=np.array([[0.0, 0.0]]))


def test_error_padding_weight():
    with pytest.raises(ValueError, match=r"weight 0.5 at \[0, 1\], beyond goal_count\[0\] = 1"):
        build(goal_count=np.array([1]))


def test_error_padding_achieved():
    kw = arrays()
    with pytest.raises(ValueError, match=r"marks padding goal \[0, 1, 3\]"):
        build(goal_count=np.array([1]), goal_weight=np.array([[1.0, 0.0]]), achieved=kw["achieved"])


def test_error_goal_count_range():
    with pytest.raises(ValueError, match=r"goal_count with shape \(1,\) must lie in \[1, 2\]"):
        build(goal_count=np.array([3]))


def test_error_goal_weight_shape():
    with pytest.raises(ValueError, match=r"goal_weight must have shape \(1, 2\), got \(2,\)"):
        build(goal_weight=np.array([0.5, 0.5]))


def test_error_non_numeric():
    with pytest.raises(TypeError, match="trans_prob must be a numeric array"):
        build(trans_prob=np.array(["a"] * 28))


def test_error_robot_profiles_rows():
    with pytest.raises(ValueError, match="robot_profiles must have n_ar = 2 rows"):
        build(robot_profiles=np.array([[0], [1], [2]]))


def test_consistency_random_world_is_reproducible():
    a = random_world(30, seed=5, n_humans=2)
    b = random_world(30, seed=5, n_humans=2)
    c = random_world(30, seed=6, n_humans=2)
    assert a.checksum == b.checksum != c.checksum


@pytest.mark.parametrize("acyclic", [True, False])
def test_random_world_shape(acyclic):
    w = random_world(60, n_humans=2, n_robots=2, n_actions=2, n_goals=4, acyclic=acyclic, horizon=5, seed=1)
    assert (w.n_ar, w.n_ah, w.n_humans, w.n_goals) == (4, 4, 2, 4)
    assert w.is_acyclic == acyclic
