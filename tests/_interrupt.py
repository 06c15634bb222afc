"""A Ctrl-C for the tests: ``interrupt_after(delay)`` raises KeyboardInterrupt in the main
thread ``delay`` seconds from now, as a terminal's Ctrl-C would, and records when it fired so a
test can measure how long the call took to answer."""

from __future__ import annotations

import _thread
import contextlib
import threading
import time
from collections.abc import Iterator


@contextlib.contextmanager
def interrupt_after(delay: float) -> Iterator[list[float]]:
    """Yields a list that receives the perf_counter time at which the interrupt fired (empty
    while it has not). On leaving the block the timer is cancelled and joined, so an interrupt
    that has not fired never fires later; one that fired but was not yet seen is raised at the
    next bytecode after it."""
    fired: list[float] = []

    def fire() -> None:
        fired.append(time.perf_counter())
        _thread.interrupt_main()

    timer = threading.Timer(delay, fire)
    timer.start()
    try:
        yield fired
    finally:
        timer.cancel()
        timer.join()
