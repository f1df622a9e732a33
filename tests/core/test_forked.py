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


def test_streamed_chains_carry_state_along_each_chain():
    from empo_tabular.core.forked import StreamedChains

    def fn(k, item, state):  # running sum along the chain of k % 2
        state["sum"] = state.get("sum", 0) + item
        return (k, state["sum"])

    sc = StreamedChains(fn, 2)
    for k, item in enumerate([10, 1, 20, 2, 30]):
        sc.feed(k, item)
    # chain 0: items 10, 20, 30 (k = 0, 2, 4); chain 1: items 1, 2 (k = 1, 3); written out by hand
    assert sc.results() == {0: (0, 10), 2: (2, 30), 4: (4, 60), 1: (1, 1), 3: (3, 3)}


def test_streamed_chains_reraise_a_worker_error():
    from empo_tabular.core.forked import StreamedChains

    def fn(k, item, state):
        if item < 0:
            raise ValueError(f"negative item {item}")
        return item

    sc = StreamedChains(fn, 2)
    for k, item in enumerate([1, -2, 3]):
        sc.feed(k, item)
    with pytest.raises(ValueError, match="negative item -2"):
        sc.results()


def test_streamed_chains_report_a_worker_that_died_without_results():
    import os

    from empo_tabular.core.forked import StreamedChains

    def fn(k, item, state):
        if item < 0:
            os._exit(3)  # as a killed worker: no exception, no reply
        return item

    sc = StreamedChains(fn, 2)
    for k, item in enumerate([1, -2, 3]):
        sc.feed(k, item)
    with pytest.raises(RuntimeError, match="worker 1 exited with code 3 and sent no results"):
        sc.results()
