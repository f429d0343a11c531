"""Benchmark 7: scale, the way users run programs. A program folder of N ``Listener``s (N/5
load balancers on ``fake-elb serve``) through the real CLI and its Python language host,
beside the same folder whose resources use a floor provider that does no I/O (two floors:
listener-sized values, and the inputs only; :mod:`benchmarks.floors`), in one run: preview,
up, no-change preview, no-change up, refresh and destroy; API calls per listener per
operation; state bytes per listener; peak memory of the provider host and of the program's
Python process; wall time (the goals) and the CPU time of the CLI and every process it
starts. Each command runs as a user types it in the folder (``pulumi up --yes
--skip-preview``, no Automation API event log), and each operation runs for the three sides
back to back before the next (the disk flushed before each), so that the machine's drift
hits them alike. Medians of three rounds at N = 100 and 500, one round at 1,000; ``--sizes``
picks the sizes (the quick mode), ``--rounds`` the rounds below 1,000."""

from __future__ import annotations

import json
import os
import resource
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from fake_elb import DEFAULT_TOKEN, ServerControl, serve_in_subprocess
from fake_elb.engine import CliStack, find_cli
from otc_elb_listener.rules import listener as listener_rules

from .common import Row

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "0123456789abcdef0123456789abcdef"
SIZES = (100, 500, 1000)
SIDES = ("ours", "sized", "inputs")
OPS = ("preview", "up", "no-change preview", "no-change up", "refresh", "destroy")
#: Goals at the largest size against the listener-sized floor (ratio of wall times).
SIZED_GOALS = {"preview": 1.05, "up": 1.10, "no-change preview": 1.10, "no-change up": 1.10,
               "refresh": 1.10}
#: ... and against the inputs-only floor.
INPUTS_GOALS = {"up": 1.20}
MEMORY_GOAL = 1.2
#: Our per-listener cost may grow from the smallest to the largest size at most this much
#: faster than the floor's (the machine's noise).
GROWTH_SLACK = 1.10

PROGRAM = '''"""Benchmark 7's program: N listeners, ours or a floor's (config: count, side)."""
import pulumi

from benchmarks.floors import FloorListener, InputsFloorProvider, SizedFloorProvider
from otc_elb_listener import Listener, ListenerArgs

config = pulumi.Config()
count, side = config.require_int("count"), config.require("side")
balancers = config.require_object("loadbalancers")
floor = {"sized": SizedFloorProvider(), "inputs": InputsFloorProvider()}.get(side)
for i in range(count):
    args = ListenerArgs(loadbalancer_id=balancers[i // QUOTA], protocol="HTTP",
                        backend_protocol="HTTP", port=8000 + i, backend_port=8080,
                        lb_algorithm="roundrobin", name=f"l{i}")
    if floor is None:
        Listener(f"l{i}", args)
    else:
        FloorListener(f"l{i}", args, floor)
'''


def program_folder(root: Path) -> Path:
    """The benchmark's program folder (written once per run)."""
    folder = root / "scale-program"
    folder.mkdir(exist_ok=True)
    (folder / "Pulumi.yaml").write_text("name: bench-scale\nruntime: python\n")
    (folder / "__main__.py").write_text(PROGRAM.replace(
        "QUOTA", str(listener_rules.LISTENER_QUOTA)))
    return folder


# -- peak memory: the processes the CLI starts ---------------------------------------------
_ROLES = {"host": "pulumi.dynamic", "program": "pulumi-language-python-exec"}


class PeakMemory:
    """Samples the peak RSS (``VmHWM``) of the provider host and of the program's Python
    process while a command runs (Linux ``/proc``; elsewhere nothing is reported)."""

    def __init__(self) -> None:
        self.peak: dict[str, int] = {}

    def _sample(self) -> None:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for role, marker in _ROLES.items():
                if marker.encode() in cmdline and b"python" in cmdline:
                    kb = next((int(line.split()[1]) for line in status.splitlines()
                               if line.startswith("VmHWM:")), 0)
                    self.peak[role] = max(self.peak.get(role, 0), kb * 1024)

    @contextmanager
    def watching(self) -> Iterator[PeakMemory]:
        if not Path("/proc/self/status").exists():
            yield self
            return
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(0.1):
                self._sample()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()


# -- one round -------------------------------------------------------------------------------
def _calls_since(fake: ServerControl, marker: str) -> int:
    """API calls after the marker call (the journal keeps the last 10,000)."""
    journal = fake.requests
    index = max(i for i, e in enumerate(journal) if marker in (e.get("query") or ""))
    return len(journal) - index - 1


def _mark(fake: ServerControl, label: str) -> str:
    import requests

    marker = f"name=bench-{label}-{time.monotonic_ns()}"
    requests.get(f"{fake.url}/v1.0/{PROJECT}/elbaas/listeners?{marker}", timeout=10,
                 headers={"X-Auth-Token": DEFAULT_TOKEN})
    return marker


def _state_bytes(stack: CliStack, count: int) -> float:
    """Bytes per resource of the stack's checkpoint file (the file the backend rewrites
    after every step; not its history or backups), over N."""
    assert stack._tmp is not None
    [checkpoint] = [path for path in (Path(stack._tmp.name) / "state").rglob(
        f"{stack.stack_name}.json") if "history" not in path.parts and
        "backups" not in path.parts]
    return checkpoint.stat().st_size / count


#: Each operation as a user types it in the program's folder (``pulumi up`` without
#: ``--skip-preview`` would run a preview first).
COMMANDS = {"preview": ("preview",), "up": ("up", "--yes", "--skip-preview"),
            "no-change preview": ("preview",),
            "no-change up": ("up", "--yes", "--skip-preview"),
            "refresh": ("refresh", "--yes", "--skip-preview"),
            "destroy": ("destroy", "--yes", "--skip-preview")}


def _children_cpu() -> float:
    """CPU seconds (user and system) of every process this one has waited for, and of
    theirs: the CLI, its language host, the program and the provider host."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def one_round(cli: Path, fake: ServerControl, folder: Path, count: int, turn: int
              ) -> dict[str, dict[str, float]]:
    """Every operation at one size, the three sides side by side: each operation runs for
    every side before the next (in an order that turns with ``turn`` and the operation),
    so that the machine's drift hits every side alike. Per side: wall and CPU seconds,
    calls per listener, state bytes per resource, peak memory of the host and program."""
    fake.reset()
    balancers = [fake.add_loadbalancer(PROJECT)["id"]
                 for _ in range(-(-count // listener_rules.LISTENER_QUOTA))]
    figures: dict[str, dict[str, float]] = {side: {} for side in SIDES}
    memory = {side: PeakMemory() for side in SIDES}
    with ExitStack() as stacks:
        opened = {side: stacks.enter_context(CliStack(
            config={"elb:endpoint": fake.url, "elb:projectId": PROJECT, "count": count,
                    "side": side, "loadbalancers": json.dumps(balancers)},
            secrets={"elb:token": DEFAULT_TOKEN}, cli=cli, program_dir=folder,
            pythonpath=[ROOT])) for side in SIDES}
        for stack in opened.values():
            stack.send_config()  # not in the first operation's time
        for index, (op, command) in enumerate(COMMANDS.items()):
            shift = (turn + index) % len(SIDES)
            for side in SIDES[shift:] + SIDES[:shift]:
                os.sync()  # what the side before wrote (1.5 GB of checkpoints in an up of
                #            1,000) is flushed before this side starts, not during it
                marker = _mark(fake, op.replace(" ", "-"))
                cpu, start = _children_cpu(), time.perf_counter()
                with memory[side].watching():
                    opened[side].command(*command)
                figures[side][op] = time.perf_counter() - start
                figures[side][f"cpu {op}"] = _children_cpu() - cpu
                figures[side][f"calls {op}"] = _calls_since(fake, marker) / count
                if op == "up":
                    figures[side]["state bytes"] = _state_bytes(opened[side], count)
            if op == "refresh":  # what refresh's goal allows: its GETs, timed beside it
                figures["ours"]["get"] = get_seconds(fake)
    for side in SIDES:
        figures[side].update({f"memory {role}": float(peak)
                              for role, peak in memory[side].peak.items()})
    return figures


def get_seconds(fake: ServerControl, calls: int = 200) -> float:
    """Seconds of one GET of a listener from a client of the fake server (keep-alive)."""
    import requests

    lb = fake.add_loadbalancer(PROJECT)["id"]
    made = fake.add_listener(PROJECT, loadbalancer_id=lb, protocol="HTTP",
                             backend_protocol="HTTP", port=80, backend_port=8080,
                             lb_algorithm="roundrobin", name="get")["id"]
    session = requests.Session()
    session.trust_env = False
    session.headers["X-Auth-Token"] = DEFAULT_TOKEN
    url = f"{fake.url}/v1.0/{PROJECT}/elbaas/listeners/{made}"
    start = time.perf_counter()
    for _ in range(calls):
        session.get(url, timeout=10)
    return (time.perf_counter() - start) / calls


def _median(samples: list[dict[str, float]], key: str) -> float:
    return statistics.median(s[key] for s in samples if key in s)


def cli_costs(rounds: int, sizes: tuple[int, ...] = SIZES, chart: Path | None = None
              ) -> list[Row]:
    """The rows; with ``chart``, also the SVG chart of time per resource against N."""
    cli = find_cli()
    if cli is None:
        return [Row("7. scale", "no pulumi CLI: run python3 dev.py test first", 0, "")]
    medians: dict[tuple[int, str], dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp, \
            serve_in_subprocess() as fake:
        folder = program_folder(Path(tmp))
        for count in sizes:
            samples: dict[str, list[dict[str, float]]] = {side: [] for side in SIDES}
            for turn in range(1 if count >= 1000 else max(1, rounds)):
                for side, figures in one_round(cli, fake, folder, count, turn).items():
                    samples[side].append(figures)
            for side in SIDES:
                keys = set().union(*samples[side])
                medians[(count, side)] = {k: _median(samples[side], k) for k in keys}
    if chart is not None and len(sizes) > 1:
        from .chart import svg

        chart.write_text(svg(medians, sizes, time.strftime("%Y-%m-%d", time.gmtime())))
    return _rows(medians, sizes)


def _allowed(figures: dict[str, float], op: str, count: int) -> float:
    """Seconds an operation's goal allows on top of the floor's time: refresh's GETs (the
    floors make none), one sequential GET's time each, timed beside the refresh."""
    return count * figures[f"calls {op}"] * figures["get"] if op == "refresh" else 0.0


def _per_listener(medians: dict[tuple[int, str], dict[str, float]], op: str, count: int,
                  side: str) -> float:
    """Seconds per listener of an operation; ours without what its goal allows on top."""
    figures = medians[(count, side)]
    allowed = _allowed(figures, op, count) if side == "ours" else 0.0
    return (figures[op] - allowed) / count


def _rows(medians: dict[tuple[int, str], dict[str, float]], sizes: tuple[int, ...]
          ) -> list[Row]:
    """The table; refresh's goal and growth allow its GETs on top (:func:`_allowed`)."""
    rows: list[Row] = []
    largest, smallest = max(sizes), min(sizes)
    for count in sizes:
        ours, sized, inputs = (medians[(count, side)] for side in SIDES)
        for op in OPS:
            goal, met = "(reported)", None
            if count == largest and op in SIZED_GOALS:
                extra = _allowed(ours, op, count)
                goal = f"<= {SIZED_GOALS[op]:.2f}x" + (
                    f" + the GETs ({extra:.1f} s)" if extra else "")
                met = ours[op] <= SIZED_GOALS[op] * sized[op] + extra
            rows.append(Row("7. scale", f"{op}, N={count}", ours[op], "s",
                            "listener-sized floor", sized[op], ours[op] / sized[op], goal, met))
            cpu = f"cpu {op}"
            if cpu in ours and (op in SIZED_GOALS or op in INPUTS_GOALS):
                for name, peer in (("listener-sized floor", sized), ("inputs-only floor",
                                                                     inputs)):
                    if name.startswith("listener") or op in INPUTS_GOALS:
                        rows.append(Row("7. scale", f"{op}, CPU of the CLI's processes, "
                                        f"N={count}", ours[cpu], "s", name, peer[cpu],
                                        ours[cpu] / peer[cpu], "(reported)"))
            if op in INPUTS_GOALS or count == largest:
                goal, met = "(reported)", None
                if count == largest and op in INPUTS_GOALS:
                    goal = f"<= {INPUTS_GOALS[op]:.2f}x"
                    met = ours[op] / inputs[op] <= INPUTS_GOALS[op]
                rows.append(Row("7. scale", f"{op}, N={count}", ours[op], "s",
                                "inputs-only floor", inputs[op], ours[op] / inputs[op], goal,
                                met))
        calls = ", ".join(f"{op} {ours[f'calls {op}']:.0f}" for op in OPS)
        rows.append(Row("7. scale", f"API calls per listener (N={count}): {calls}",
                        ours["calls up"], "calls", goal="0 preview and no-change, 1 up, "
                        "1 refresh, 1 destroy", met=all(
                            round(ours[f"calls {op}"], 2) == want for op, want in (
                                ("preview", 0), ("up", 1), ("no-change preview", 0),
                                ("no-change up", 0), ("refresh", 1), ("destroy", 1)))))
        rows.append(Row("7. scale", f"state bytes per listener (N={count})",
                        ours["state bytes"], "B", "listener-sized floor", sized["state bytes"],
                        ours["state bytes"] / sized["state bytes"], "(reported)"))
        rows.append(Row("7. scale", f"state bytes per listener (N={count})",
                        ours["state bytes"], "B", "inputs-only floor", inputs["state bytes"],
                        ours["state bytes"] / inputs["state bytes"], "(reported)"))
        for role in ("host", "program"):
            key = f"memory {role}"
            if key in ours and key in sized:
                goal, met = "(reported)", None
                if count == largest:
                    goal, met = f"<= {MEMORY_GOAL}x", ours[key] <= MEMORY_GOAL * sized[key]
                rows.append(Row("7. scale", f"peak memory, {role} (N={count})",
                                ours[key] / 2**20, "MiB", "listener-sized floor",
                                sized[key] / 2**20, ours[key] / sized[key], goal, met))
    if largest > smallest:
        for op in ("up", "no-change preview", "refresh"):
            grow = {side: _per_listener(medians, op, largest, side)
                    / _per_listener(medians, op, smallest, side) for side in SIDES}
            met = grow["ours"] <= GROWTH_SLACK * grow["sized"]
            beyond = " beyond its GETs" if op == "refresh" else ""
            rows.append(Row("7. scale", f"{op}: time per listener{beyond}, N={largest} over "
                            f"N={smallest}", grow["ours"], "x", "listener-sized floor",
                            grow["sized"], grow["ours"] / grow["sized"],
                            f"<= {GROWTH_SLACK:.2f}x the floor's growth", met))
    return rows
