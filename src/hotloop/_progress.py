"""Progress bars for long calls: the ``progress`` callables the C core reports to.

A core call reports ``(done, total)`` work units at most ten times a second (see the binding's
``hl_run_nogil``). :func:`progress_bar` returns such a callable that draws on stderr, with tqdm
when it is installed and a plain bar otherwise, or ``None`` when no bar is wanted.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TextIO

ProgressFn = Callable[[int, int], None]


def check_progress(progress: object) -> None:
    """Raises a TypeError naming ``progress`` unless it is None or callable (else the call would
    fail inside the core with "'int' object is not callable")."""
    if progress is not None and not callable(progress):
        raise TypeError("progress: expected a callable progress(done, total) or None, got "
                        f"{type(progress).__name__}")


class _PlainBar:
    """A one-line bar redrawn in place with carriage returns."""

    def __init__(self, desc: str, stream: TextIO) -> None:
        self._desc = desc
        self._stream = stream
        self._start = time.perf_counter()
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        frac = min(1.0, done / total) if total > 0 else 0.0
        width = 30
        filled = int(frac * width)
        elapsed = time.perf_counter() - self._start
        bar = "#" * filled + "." * (width - filled)
        line = f"\r{self._desc} [{bar}] {frac:6.1%} {elapsed:6.1f}s"
        self._stream.write(line)
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()


class _TqdmBar:
    def __init__(self, desc: str, stream: TextIO) -> None:
        from tqdm import tqdm

        self._bar: Any = tqdm(desc=desc, total=None, file=stream, leave=True)

    def __call__(self, done: int, total: int) -> None:
        if self._bar.total != total:
            self._bar.total = total
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        self._bar.close()


class ProgressBar:
    """A context manager whose value is a ``progress(done, total)`` callable or ``None``.

    ``enabled=None`` draws only when ``stream`` is a terminal; ``True`` always; ``False`` never.
    ``stream`` defaults to ``sys.stderr``; where that is None (pythonw, some GUI and service
    processes) there is nowhere to draw, and no bar is made.
    """

    def __init__(self, desc: str, enabled: bool | None = None, stream: TextIO | None = None):
        self._stream = stream if stream is not None else sys.stderr
        if self._stream is None:
            enabled = False
        elif enabled is None:
            enabled = bool(getattr(self._stream, "isatty", lambda: False)())
        self._bar: _PlainBar | _TqdmBar | None = None
        if enabled:
            if importlib.util.find_spec("tqdm") is not None:
                self._bar = _TqdmBar(desc, self._stream)
            else:
                self._bar = _PlainBar(desc, self._stream)

    def __enter__(self) -> ProgressFn | None:
        return self._bar

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.close()
