"""``python -m benchmarks [--rounds N] [--calls N] [--only 1,2,...] [--json PATH]``

Runs the benchmark suite and prints one table: each figure, the peer measured in the same
run, the ratio, the goal and whether it is met. Run it through ``python3 dev.py bench``,
which installs the ``bench`` extra (moto, boto3) first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from .common import Row


def _machine() -> str:
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}")


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def table(rows: list[Row]) -> str:
    header = ("| benchmark | figure | ours | peer | ratio | goal | met |\n"
              "|---|---|---|---|---|---|---|")
    lines = [header]
    for row in rows:
        peer = f"{_fmt(row.peer_value)} ({row.peer})" if row.peer else ""
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else ""
        met = {True: "yes", False: "**no**", None: ""}[row.met]
        lines.append(f"| {row.benchmark} | {row.figure} | {_fmt(row.value)} {row.unit} | "
                     f"{peer} | {ratio} | {row.goal} | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds (median)")
    parser.add_argument("--calls", type=int, default=1000, help="calls per timed batch")
    parser.add_argument("--only", default="1,2,3,4,5,6,7,8", help="which benchmarks, e.g. 1,3")
    parser.add_argument("--sizes", default="100,500,1000",
                        help="benchmark 7's sizes (N listeners), e.g. 100 for a quick run")
    parser.add_argument("--chart", type=Path,
                        help="benchmark 7: write the chart of time per resource here (SVG)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    chosen = {int(x) for x in args.only.split(",")}

    from . import cli_costs, fake_speed, member_costs, provider_costs

    steps = {
        1: lambda: fake_speed.inprocess(args.rounds, args.calls),
        2: lambda: fake_speed.server(args.rounds, args.calls),
        3: provider_costs.request_economy,
        4: lambda: provider_costs.startup(args.rounds),
        5: lambda: provider_costs.check_diff(args.rounds),
        6: provider_costs.suite,
        7: lambda: cli_costs.cli_costs(min(args.rounds, 3), tuple(
            int(n) for n in args.sizes.split(",")), args.chart),
        8: lambda: member_costs.member_costs(args.rounds),
    }
    rows: list[Row] = []
    started = time.time()
    for number in sorted(chosen):
        print(f"running benchmark {number} ...", file=sys.stderr, flush=True)
        rows += steps[number]()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
    print(f"\nMachine: {_machine()}; {when}; rounds={args.rounds}, calls={args.calls}\n")
    print(table(rows))
    missed = [r for r in rows if r.met is False]
    print(f"\n{len([r for r in rows if r.met])} goals met, {len(missed)} missed")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": _machine(), "when": when,
                                         "rounds": args.rounds, "calls": args.calls,
                                         "rows": [r.as_dict() for r in rows]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
