"""core.progress: bars on stderr, throttled, closed before a message; one helper used by SA and the CLI."""
import inspect

from empo_tabular.core import progress
from empo_tabular.core.progress import MIN_INTERVAL, end_line, note, progress_bar


def test_bar_goes_to_stderr_and_is_throttled(capsys):
    assert MIN_INTERVAL >= 0.5
    with progress_bar(1000, "work", "step") as bar:
        assert bar.mininterval >= 0.5
        for _ in range(1000):
            bar.update(1)
    cap = capsys.readouterr()
    assert cap.out == ""
    # 1000 updates within well under 0.5 s: only the first and the final draw
    assert cap.err.count("work:") <= 3 and "1000/1000" in cap.err


def test_disabled_bar_prints_nothing(capsys):
    with progress_bar(10, "quiet", enabled=False) as bar:
        bar.update(10)
        bar.set_postfix(err="1e-3")
    assert capsys.readouterr() == ("", "")


def test_note_starts_on_its_own_line_after_an_open_bar(capsys):
    bar = progress_bar(10, "open")
    bar.update(3)
    note("interrupted")
    err = capsys.readouterr().err.replace("\r", "\n")
    assert "interrupted" in err.splitlines()
    end_line()  # nothing left open


def test_sa_engine_and_cli_use_the_one_helper():
    from empo_tabular import cli
    from empo_tabular.sa import engine

    assert "tqdm" not in inspect.getsource(engine) and "progress_bar" in inspect.getsource(engine)
    assert "tqdm" not in inspect.getsource(cli) and "progress" in inspect.getsource(cli)
    assert progress.progress_bar is engine.progress_bar
