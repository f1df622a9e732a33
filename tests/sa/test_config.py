"""SAConfig's names and the SA kernel's integer codes: one definition (the config's tuples), checked here."""
from empo_tabular._kernels import sa as ks
from empo_tabular.sa.config import MODES, QUANTITIES, VISITS, X_TARGETS


def test_kernel_mode_codes_follow_the_config_names():
    assert (ks.MODE_EXPECTED, ks.MODE_SAMPLED) == (MODES.index("expected"), MODES.index("sampled"))
    assert len(MODES) == 2


def test_kernel_visit_codes_follow_the_config_names():
    codes = (ks.VISIT_UNIFORM, ks.VISIT_SWEEP, ks.VISIT_SYNC, ks.VISIT_ONPOLICY)
    assert codes == tuple(VISITS.index(v) for v in ("uniform", "sweep", "synchronous", "on_policy"))
    assert len(VISITS) == len(codes)


def test_kernel_x_target_codes_follow_the_config_names():
    codes = (ks.XT_EXACT, ks.XT_SAMPLED, ks.XT_ASSIGNED)
    assert codes == tuple(X_TARGETS.index(v) for v in ("exact", "sampled_goal", "assigned_goal"))
    assert len(X_TARGETS) == len(codes)


def test_kernel_quantity_order_follows_the_config_names():
    codes = (ks.Q_VE, ks.Q_X, ks.Q_U, ks.Q_Q, ks.Q_V)
    assert codes == tuple(QUANTITIES.index(q) for q in ("v_h_e", "x_h", "u_r", "q_r", "v_r"))
