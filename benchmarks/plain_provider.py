"""The pickled provider stored plain against stored encrypted (issue: "no encryption where
nothing is secret"), in one run: ``up`` of N listeners through the real CLI with our
provider and with :class:`~benchmarks.floors.EncryptedListenerProvider`, interleaved, and the
checkpoint's bytes per listener. ``python -m benchmarks.plain_provider [N] [rounds]``."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

from fake_elb import serve_in_subprocess
from fake_elb.engine import find_cli
from otc_elb_listener import Listener, ListenerArgs, ListenerProvider

from .common import CLI_PROJECT as PROJECT
from .common import cli_stack, timed_run
from .floors import EncryptedListenerProvider


def one_up(cli: Path, fake: Any, count: int, encrypted: bool) -> tuple[float, float]:
    """(seconds of the up, checkpoint bytes per listener)."""
    fake.reset()
    # a load balancer holds 5 listeners at most (its quota)
    lbs = [fake.add_loadbalancer(PROJECT)["id"] for _ in range((count + 4) // 5)]
    provider = EncryptedListenerProvider() if encrypted else ListenerProvider()

    def program() -> None:
        for index in range(count):
            Listener(f"web-{index}", ListenerArgs(
                loadbalancer_id=lbs[index // 5], protocol="TCP", backend_protocol="TCP",
                port=1000 + index,
                backend_port=8080, lb_algorithm="roundrobin", name=f"web-{index}"),
                provider=provider)

    with cli_stack(cli, fake) as stack:
        seconds = timed_run(stack, program)
        assert stack._tmp is not None
        [checkpoint] = [p for p in (Path(stack._tmp.name) / "state").rglob(
            f"{stack.stack_name}.json") if "history" not in p.parts and
            "backups" not in p.parts]
        return seconds, checkpoint.stat().st_size / count


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else 200
    rounds = int(argv[1]) if len(argv) > 1 else 2
    cli = find_cli()
    assert cli is not None, "needs the pulumi CLI (python3 dev.py setup)"
    samples: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    with serve_in_subprocess() as fake:
        for turn in range(rounds):
            for encrypted in ((False, True) if turn % 2 == 0 else (True, False)):
                samples[encrypted].append(one_up(cli, fake, count, encrypted))
    for encrypted, label in ((False, "plain (now)"), (True, "encrypted (before)")):
        seconds = statistics.median(s for s, _ in samples[encrypted])
        size = statistics.median(b for _, b in samples[encrypted])
        print(f"{label}: up of {count} listeners {seconds:.2f} s, {size:,.0f} B per listener "
              "in the checkpoint")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
