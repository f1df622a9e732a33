"""Progress bars and console notes, one place: on stderr, throttled.

Every long loop of the package (SA, and the command line) shows progress
through :func:`progress_bar`, so that results on stdout stay clean to pipe
and bars redraw at most every :data:`MIN_INTERVAL` seconds.  A bar that is
interrupted (Ctrl-C) leaves the cursor mid-line; :func:`end_line` moves it
to a fresh line before a message is printed.
"""
from __future__ import annotations

import sys

MIN_INTERVAL = 0.5
"""Seconds between two redraws of a bar (tqdm ``mininterval``)."""

_open_bars: list = []


class _NoBar:
    """Stands in for a bar when progress is off: same methods, no output."""

    def update(self, n=1):
        pass

    def set_postfix(self, *args, **kwargs):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Bar:
    """A tqdm bar on stderr that remembers whether it is open (for :func:`end_line`)."""

    def __init__(self, total, desc, unit, initial):
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, file=sys.stderr,
                         mininterval=MIN_INTERVAL, dynamic_ncols=True)
        _open_bars.append(self)

    @property
    def mininterval(self) -> float:
        """Seconds between two redraws."""
        return self._bar.mininterval

    def update(self, n=1):
        self._bar.update(n)

    def set_postfix(self, *args, **kwargs):
        kwargs.setdefault("refresh", False)  # redraw on the next throttled update, not on every call
        self._bar.set_postfix(*args, **kwargs)

    def close(self):
        if self in _open_bars:
            _open_bars.remove(self)
            self._bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def progress_bar(total: int, desc: str, unit: str = "it", *, initial: int = 0, enabled: bool = True):
    """A progress bar on stderr redrawn at most every :data:`MIN_INTERVAL` s (a silent stand-in if not ``enabled``).

    Use as a context manager, or call ``close()``; ``update(n)`` and ``set_postfix(**values)`` as in tqdm.
    """
    if not enabled:
        return _NoBar()
    return _Bar(total, desc, unit, initial)


def end_line() -> None:
    """Close every open bar, so that the next stderr message starts on its own line."""
    for bar in list(_open_bars):
        bar.close()


def note(message: str) -> None:
    """Print one line on stderr, on a line of its own."""
    end_line()
    print(message, file=sys.stderr, flush=True)
