"""map_forked: results in item order whatever the number of workers; closures work; bad n_jobs refused."""
import pytest

from empo_tabular.core.forked import map_forked


def test_results_in_item_order_with_a_closure():
    offset = 7
    items = list(range(11))
    expected = [i * i + offset for i in items]  # written out, not computed by map_forked
    assert map_forked(lambda i: i * i + offset, items, 1) == expected
    assert map_forked(lambda i: i * i + offset, items, 3) == expected
    assert map_forked(lambda i: i, [], 2) == []


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_n_jobs(bad):
    with pytest.raises(ValueError, match="n_jobs must be an integer >= 1"):
        map_forked(lambda i: i, [1], bad)
