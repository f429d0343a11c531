"""Shared helpers: interleaved rounds, medians, result rows, subprocess servers."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Row:
    """One figure: ours, the peer's, their ratio, and the goal it is judged against."""

    benchmark: str
    figure: str
    value: float
    unit: str
    peer: str = ""
    peer_value: float | None = None
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def interleaved(sides: Mapping[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """Run each side once per round, in turn, ``rounds`` times; median of each side's figure.

    Interleaving spreads the machine's noise (other tenants, CPU boost) over every side.
    """
    samples: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, run in sides.items():
            samples[name].append(run())
    return {name: statistics.median(values) for name, values in samples.items()}


def rate(calls: int, action: Callable[[int], None]) -> float:
    """Calls per second of ``action(i)`` over ``calls`` calls."""
    start = time.perf_counter()
    for i in range(calls):
        action(i)
    return calls / (time.perf_counter() - start)


@contextmanager
def server_process(*command: str, timeout: float = 60.0) -> Iterator[str]:
    """Start a server that prints its base URL on a line of its own; stop it afterwards."""
    process = subprocess.Popen([sys.executable, *command], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        line = ""
        for _ in range(20):  # moto prints a banner first
            line = process.stdout.readline().decode().strip()
            if line.startswith("http") or not line:
                break
        if not line.startswith("http"):
            raise RuntimeError(f"{command} did not start: {line!r}")
        yield line
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
