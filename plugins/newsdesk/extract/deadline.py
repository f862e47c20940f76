"""A time limit for one page's extraction.

A hostile or freakish page can keep the parsers busy for minutes (100,000 attributes on one
element: libxml2 takes 20 s and htmldate 50 s more; the time grows with the square of the
count). ``time_limit`` interrupts Python code with SIGALRM, and works beside an outer
alarm (Airflow's ``execution_timeout``, pytest-timeout): it saves and re-arms it. It does
nothing off the main thread, where signals cannot be handled. A C call that never returns
cannot be interrupted this way; the extraction pool's workers have a watchdog for that
(``newsdesk.archive.parallel``).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator


class Overtime(BaseException):
    """Raised by the alarm. A BaseException, so that the ``except Exception`` blocks inside
    the extractors do not swallow it."""


def _raise_overtime(signum, frame):
    raise Overtime


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    usable = (seconds and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return
    outer_left, _ = signal.getitimer(signal.ITIMER_REAL)
    if outer_left and outer_left <= seconds:
        yield  # the outer alarm comes first anyway
        return
    previous = signal.signal(signal.SIGALRM, _raise_overtime)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left:
            signal.setitimer(signal.ITIMER_REAL, max(outer_left - (time.monotonic() - started), 1e-3))
