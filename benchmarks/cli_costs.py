"""Benchmark 7: ``pulumi preview`` and ``pulumi up`` through the real CLI, 1, 10 and 100
listeners, beside the same program with a trivial dynamic provider that does no I/O (the
engine's own floor), in one run; plus the API calls each operation made."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fake_elb import DEFAULT_TOKEN, ServerControl, serve_in_subprocess
from fake_elb.engine import CliStack, DynamicResource, find_cli
from otc_elb_listener import spec
from otc_elb_listener.listener import TYPE_TOKEN, ListenerProvider

from .common import Row
from .trivial_provider import TrivialProvider

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "0123456789abcdef0123456789abcdef"
SIZES = (1, 10, 100)
#: Goal: a preview of 100 listeners costs at most this much more than the engine's floor.
PREVIEW_GOAL = 1.15


def _listeners(fake: ServerControl, count: int) -> list[DynamicResource]:
    provider = ListenerProvider()
    balancers = [fake.add_loadbalancer(PROJECT)["id"]
                 for _ in range(-(-count // spec.LISTENER_QUOTA))]
    return [DynamicResource(f"l{i}", provider, {
        "loadbalancer_id": balancers[i // spec.LISTENER_QUOTA], "protocol": "HTTP",
        "backend_protocol": "HTTP", "port": 8000 + i, "backend_port": 8080,
        "lb_algorithm": "roundrobin", "name": f"l{i}"}, TYPE_TOKEN) for i in range(count)]


def _trivial(resources: list[DynamicResource]) -> list[DynamicResource]:
    provider = TrivialProvider()
    return [DynamicResource(r.name, provider, r.inputs, TYPE_TOKEN) for r in resources]


def _timed(call: Callable[[list[DynamicResource]], Any],
           resources: list[DynamicResource]) -> float:
    start = time.perf_counter()
    call(resources)
    return time.perf_counter() - start


def _one_round(cli: Path, fake: ServerControl, count: int,
               calls: dict[str, list[float]]) -> dict[str, float]:
    """Preview and up of a new stack, then a no-change preview and up, for both sides."""
    fake.reset()
    ours = _listeners(fake, count)
    floor = _trivial(ours)
    times: dict[str, float] = {}
    config = {"elb:endpoint": fake.url, "elb:projectId": PROJECT}
    for side, resources in (("ours", ours), ("floor", floor)):
        with CliStack(config=config, secrets={"elb:token": DEFAULT_TOKEN}, cli=cli,
                      pythonpath=[ROOT]) as stack:
            for op, run in (("preview", stack.preview), ("up", stack.up),
                            ("no-op preview", stack.preview), ("no-op up", stack.up)):
                mark = len(fake.requests)
                times[f"{side} {op}"] = _timed(run, resources)
                if side == "ours":
                    calls.setdefault(op, []).append((len(fake.requests) - mark) / count)
            stack.destroy()
    return times


def cli_costs(rounds: int) -> list[Row]:
    cli = find_cli()
    if cli is None:
        return [Row("7. real CLI", "no pulumi CLI: run python3 dev.py test first", 0, "")]
    rows: list[Row] = []
    with serve_in_subprocess() as fake:
        for count in SIZES:
            samples: dict[str, list[float]] = {}
            calls: dict[str, list[float]] = {}
            for _ in range(max(1, rounds // 3)):
                for key, value in _one_round(cli, fake, count, calls).items():
                    samples.setdefault(key, []).append(value)
            median = {key: statistics.median(values) for key, values in samples.items()}
            for op in ("preview", "up", "no-op preview", "no-op up"):
                ratio = median[f"ours {op}"] / median[f"floor {op}"]
                goal, met = "", None
                if op == "preview" and count == 100:
                    goal, met = f"<= {PREVIEW_GOAL:g}x", ratio <= PREVIEW_GOAL
                rows.append(Row("7. real CLI", f"{op}, {count} listener(s)",
                                median[f"ours {op}"], "s", "trivial provider, no I/O",
                                median[f"floor {op}"], ratio, goal or "(reported)", met))
            per_op = ", ".join(f"{op} {statistics.median(v):.0f}" for op, v in calls.items())
            rows.append(Row("7. real CLI", f"API calls per listener ({count}): {per_op}",
                            statistics.median(calls["up"]), "calls", goal="0 preview and "
                            "no-op, 1 per create", met=all(
                                statistics.median(calls[op]) == want for op, want in (
                                    ("preview", 0), ("up", 1), ("no-op preview", 0),
                                    ("no-op up", 0)))))
    return rows
