"""Plan fidelity: for every resource, the operation ``pulumi preview`` announces is the one
the ``pulumi up`` that follows performs, and that ``up`` makes the fewest calls (one PUT for an
in-place change). A program folder with all four resources (``plan_matrix/``) goes through a
matrix of changes with the real CLI, whose plans are read from its JSON engine events (the
stream ``--json`` prints), and the same changes through the in-process engine, which must
plan alike. Before identity outputs, a listener's port change previewed its health check and
every member as replaced, and ``up`` then touched one listener."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fake_elb import ServerControl
from fake_elb.engine import CliStack, OfflineStack
from fake_elb.service.certificates import self_signed
from tests.support import PROJECT, Elb

FOLDER = Path(__file__).parent / "plan_matrix"
SERVERS = [{"name": f"{i}", "id": f"{i}" * 8 + "-0000-4000-8000-" + f"{i}" * 12,
            "address": f"192.168.3.{10 + i}"} for i in range(1, 5)]
CERT, KEY = self_signed("www.example.com")
NEW_CERT, NEW_KEY = self_signed("www.example.com")
MEMBERS = ["web-1", "web-2", "web-3"]
ALL = ["web-cert", "web", "web-check", *MEMBERS]

#: (case, config change, the operations of up and preview, up's calls but job polls).
MATRIX: list[tuple[str, dict[str, Any], dict[str, str], list[str]]] = [
    ("no change", {}, {}, []),
    ("listener port", {"port": 8443}, {"web": "update"}, ["PUT listeners"]),
    ("listener name", {"name": "web2"}, {"web": "update"}, ["PUT listeners"]),
    ("description", {"description": "managed"}, {"web": "update"}, ["PUT listeners"]),
    ("health-check interval", {"interval": 20}, {"web-check": "update"}, ["PUT healthcheck"]),
    ("one more member", {"servers": SERVERS}, {"web-4": "create"},
     ["POST members", "GET members"]),
    ("one member less", {"servers": SERVERS[:3]}, {"web-4": "delete"}, ["POST action"]),
    ("certificate rotation", {"certificate": NEW_CERT, "privateKey": NEW_KEY},
     {"web-cert": "replace", "web": "update"},
     ["POST certificate", "PUT listeners", "DELETE certificate"]),
    ("protocol (a replacement)", {"protocol": "HTTP"},
     {"web": "replace", "web-check": "replace", **{m: "replace" for m in MEMBERS}},
     sorted(["DELETE healthcheck", "POST action", "POST action", "POST action",
             "DELETE listeners", "POST listeners", "POST healthcheck", "POST members",
             "POST members", "POST members", "GET members", "GET members", "GET members"])),
]


def _calls(elb: Elb, since: int) -> list[str]:
    found = []
    for entry in elb.control.requests[since:]:
        path = entry["path"]
        if "/jobs/" in path:
            continue
        tail = path.split("/elbaas/")[1].split("/")
        part = tail[-1] if tail[-1] in ("members", "action") else tail[0]
        found.append(f"{entry['method']} {part}")
    return found


def _changes(ops: dict[str, str]) -> dict[str, str]:
    return {name: op for name, op in ops.items() if op != "same"}


def _matrix(run: Callable[[dict[str, Any], bool], dict[str, str]], elb: Elb
            ) -> list[tuple[str, dict[str, str], dict[str, str], list[str], list[str]]]:
    """Each case: (case, preview's changes, up's changes, preview's calls, up's calls)."""
    config: dict[str, Any] = {"loadbalancerId": elb.lb, "certificate": CERT,
                              "privateKey": KEY, "servers": SERVERS[:3]}
    first = run(config, False)
    assert set(first.values()) == {"create"} and sorted(first) == sorted(ALL)
    seen = []
    for case, change, _, _ in MATRIX:
        config.update(change)
        since = elb.mark()
        preview = run(config, True)
        at_preview = _calls(elb, since)
        since = elb.mark()
        up = run(config, False)
        seen.append((case, _changes(preview), _changes(up), at_preview,
                     sorted(_calls(elb, since))))
    return seen


def _check(seen: list[tuple[str, dict[str, str], dict[str, str], list[str], list[str]]]
           ) -> None:
    for (case, preview, up, at_preview, calls), (_, _, wanted, wanted_calls) in zip(
            seen, MATRIX, strict=True):
        assert preview == up == wanted, case
        assert at_preview == [], case
        assert calls == sorted(wanted_calls), case


def _servers(elb: Elb) -> None:
    for server in SERVERS:
        elb.control.add_server(PROJECT, server["id"], server["address"], server["name"])


def _cli_run(stack: CliStack) -> Callable[[dict[str, Any], bool], dict[str, str]]:
    def run(config: dict[str, Any], preview: bool) -> dict[str, str]:
        stack.set_config(config={k: json.dumps(v) if k == "servers" else v
                                 for k, v in config.items() if k != "privateKey"},
                         secrets={"privateKey": config["privateKey"]})
        return stack.run_program(FOLDER, preview=preview).ops()
    return run


def test_preview_says_what_up_does_through_the_cli(pulumi_cli: Path, elb: Elb) -> None:
    _servers(elb)
    with CliStack(config=elb.config, secrets=elb.secrets, cli=pulumi_cli,
                  program_dir=FOLDER) as stack:
        _check(_matrix(_cli_run(stack), elb))


def test_the_in_process_engine_plans_alike(fake_elb_server: ServerControl) -> None:
    elb = Elb(fake_elb_server)
    _servers(elb)
    with OfflineStack(config=elb.config, secrets=elb.secrets, project="elb-plan-matrix",
                      cwd=FOLDER) as stack:
        def run(config: dict[str, Any], preview: bool) -> dict[str, str]:
            program_config = {k: json.dumps(v) if k == "servers" else v
                              for k, v in config.items()}
            return stack.run_program(FOLDER / "__main__.py", config=program_config,
                                     preview=preview).ops()
        _check(_matrix(run, elb))
