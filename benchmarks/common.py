"""Shared helpers: interleaved rounds, medians, result rows, subprocess servers, a real-CLI
stack against a fake server."""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fake_elb.transport.client import stop_process


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


def versus(benchmark: str, figure: str, ours: float, unit: str, peer: str, peer_value: float,
           at_least: float) -> Row:
    """A throughput row judged by its ratio to a peer: met when ``ours / peer >= at_least``."""
    ratio = ours / peer_value
    return Row(benchmark, figure, ours, unit, peer, peer_value, ratio, f">= {at_least:g}x",
               ratio >= at_least)


def interleaved(sides: Mapping[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """Run each side once per round, in turn, ``rounds`` times; median of each side's figure.

    Interleaving spreads the machine's noise (other tenants, CPU boost) over every side, and
    the order turns each round, so that no side always runs first (cold caches) or right
    after the same neighbour.
    """
    samples: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for turn in range(rounds):
        shift = turn % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(sides[name]())
    return {name: statistics.median(values) for name, values in samples.items()}


def rate(calls: int, action: Callable[[int], None],
         clock: Callable[[], float] = time.perf_counter) -> float:
    """Calls per second of ``action(i)`` over ``calls`` calls.

    In-process benchmarks pass ``time.thread_time``: all their work is this thread's CPU, and
    CPU time does not count what other tenants of a shared machine take from us. Servers and
    start-up are timed on the wall clock, as users feel them.
    """
    gc.collect()
    gc.freeze()  # what earlier set-up left on the heap (moto, boto3, ...) is not ours to scan
    try:
        start = clock()
        for i in range(calls):
            action(i)
        return calls / (clock() - start)
    finally:
        gc.unfreeze()


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
        stop_process(process)


#: The project the CLI benchmarks' stacks use, and the repository (their programs import it).
CLI_PROJECT = "0123456789abcdef0123456789abcdef"
ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def cli_stack(cli: Path, fake: Any) -> Iterator[Any]:
    """A real-CLI stack signed in to ``fake`` (a ``fake-elb serve``), its config already sent:
    what a timed ``run_program`` then measures is the run alone."""
    from fake_elb import DEFAULT_TOKEN
    from fake_elb.engine import CliStack

    config = {"elb:endpoint": fake.url, "elb:projectId": CLI_PROJECT}
    with CliStack(config=config, secrets={"elb:token": DEFAULT_TOKEN}, cli=cli,
                  pythonpath=[ROOT]) as stack:
        stack.send_config()
        yield stack


def timed_run(stack: Any, program: Callable[[], Any]) -> float:
    """Seconds of one ``up`` of ``program`` on ``stack``."""
    start = time.perf_counter()
    stack.run_program(program)
    return time.perf_counter() - start
