"""A StatsD server for tests: a UDP socket on 127.0.0.1 that keeps every line it receives
(tests/test_metrics.py, tests/test_deploy_politeness.py)."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter


class StatsdListener:
    """UDP on 127.0.0.1: every StatsD line received, as (name, value, type)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.lines: list[tuple[str, float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                continue
            for line in data.decode().splitlines():
                name, _, rest = line.partition(":")
                value, _, kind = rest.partition("|")
                self.lines.append((name, float(value), kind.split("|")[0]))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sock.close()

    def counters(self, prefix: str) -> Counter:
        found: Counter = Counter()
        for name, value, kind in self.lines:
            if kind == "c" and name.startswith(prefix):
                found[name[len(prefix):]] += value
        return found

    def names(self, prefix: str, kind: str) -> set[str]:
        return {name[len(prefix):] for name, _, k in self.lines if k == kind and name.startswith(prefix)}

    def wait_for(self, name: str, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(n == name for n, _, _ in self.lines):
            assert time.monotonic() < deadline, f"{name} never arrived"
            time.sleep(0.05)
