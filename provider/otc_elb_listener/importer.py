"""``otc-elb import``: write the Pulumi program that takes a live estate over as it is.

    otc-elb import --loadbalancer ID [--loadbalancer ID ...] --out DIR
    python -m otc_elb_listener import ...

It signs in as the provider does, from the environment (``OS_*``, ``ELB_ENDPOINT``,
``OS_CLOUD`` and ``clouds.yaml``: stack config is not there yet), reads every listener of
those load balancers with its health check, its members and the certificates it uses, and
writes ``Pulumi.yaml`` and ``__main__.py``: each object declared with ``import_`` and inputs
equal to the live object, so the first ``pulumi up`` imports everything and writes nothing,
and ``pulumi preview --expect-no-changes`` passes after it. The same estate always gives the
same file. A certificate's private key, which the program must hold but nothing may print,
becomes ``config.require_secret(...)``; the command prints the ``pulumi config set
--secret`` lines to run (docs/import.md).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import ConfigError, ElbApiError

#: Listener inputs a program sets, in the order they are written.
_LISTENER_ORDER = ("loadbalancer_id", "protocol", "port", "backend_protocol", "backend_port",
                   "lb_algorithm", "name", "description", "session_sticky",
                   "sticky_session_type", "cookie_timeout", "tcp_timeout", "tcp_draining",
                   "tcp_draining_timeout", "udp_timeout", "ssl_protocols", "ssl_ciphers")
_CHECK_ORDER = ("healthcheck_protocol", "healthcheck_uri", "healthcheck_connect_port",
                "healthy_threshold", "unhealthy_threshold", "healthcheck_timeout",
                "healthcheck_interval")


class Names:
    """Readable resource names from live names, unique in the program."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def make(self, wanted: str, fallback: str) -> str:
        base = re.sub(r"[^a-z0-9]+", "-", (wanted or "").lower()).strip("-") or fallback
        name, count = base, 2
        while name in self.taken:
            name, count = f"{base}-{count}", count + 1
        self.taken.add(name)
        return name


def _identifier(name: str) -> str:
    word = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return word if word and not word[0].isdigit() else f"r_{word}"


def _camel(name: str) -> str:
    parts = re.split(r"[^a-zA-Z0-9]+", name)
    return parts[0].lower() + "".join(p[:1].upper() + p[1:] for p in parts[1:] if p)


def _value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return repr(value)


def _call(kind: str, name: str, variable: str, args: list[str], import_id: str) -> list[str]:
    lines = [f"{variable} = elb.{kind}(", f"    {name!r},", f"    elb.{kind}Args("]
    lines += [f"        {arg}," for arg in args]
    lines += ["    ),", f"    opts=pulumi.ResourceOptions(import_={import_id!r}),", ")"]
    return lines


def read_estate(client: Any, loadbalancers: Sequence[str],
                progress: Any = print) -> dict[str, Any]:
    """Every listener of ``loadbalancers``, each with its health check, members and
    certificates: the live objects, sorted so the same estate gives the same program."""
    from .member import MemberProvider

    reader = MemberProvider()
    reader._client = client  # the importer's client: the provider's paging, reused
    certificates = {c["id"]: c for c in (client.collection("certificate").read_collection()
                                         or {}).get("certificates") or []}
    checks = client.collection("healthcheck")
    estate: dict[str, Any] = {"loadbalancers": {}, "certificates": {}}
    for lb in loadbalancers:
        listeners = sorted(client.list(loadbalancer_id=lb),
                           key=lambda item: (int(item.get("port") or 0), str(item["id"])))
        if not listeners:
            raise ElbApiError("import", lb, None, None, "no listener of this load balancer in "
                              "the project: an unknown load balancer, or one with nothing to "
                              "take over (check --loadbalancer and the project you sign in "
                              "to)", kind="load balancer")
        found = []
        for listener in listeners:
            check = checks.get(listener["healthcheck_id"]) if listener.get(
                "healthcheck_id") else None
            members = sorted(reader._find(str(listener["id"])),
                             key=lambda m: str(m.get("server_id")))
            for cert_id in [listener.get("certificate_id"), *(listener.get("certificates")
                                                               or [])]:
                if cert_id and cert_id in certificates:
                    estate["certificates"][cert_id] = certificates[cert_id]
            found.append({"listener": listener, "healthcheck": check, "members": members})
        estate["loadbalancers"][lb] = found
        count = sum(len(item["members"]) for item in found)
        progress(f"load balancer {lb}: {len(found)} listeners, "
                 f"{sum(1 for item in found if item['healthcheck'])} health checks, "
                 f"{count} members")
    return estate


def program(estate: Mapping[str, Any]) -> tuple[str, list[str]]:
    """``__main__.py`` for an estate, and the config keys of the secrets it requires."""
    names = Names()
    lines = ['"""Taken over from the live estate by `otc-elb import`: each object is imported',
             "as it is (the first `pulumi up` changes nothing); edit it as the truth from",
             'then on."""', "", "import pulumi", "", "import otc_elb_listener as elb", "",
             "config = pulumi.Config()", ""]
    secrets: list[str] = []
    cert_vars: dict[str, str] = {}
    for cert_id, cert in sorted(estate["certificates"].items(),
                                key=lambda item: (str(item[1].get("name")), item[0])):
        name = names.make(str(cert.get("name") or ""), "certificate")
        variable = _identifier(f"{name}_cert")
        key = _camel(f"{name} private key")
        secrets.append(key)
        args = [f"certificate={_value(cert.get('certificate'))}",
                f"private_key=config.require_secret({key!r})"]
        args += [f"{field}={_value(cert[field])}" for field in ("name", "description", "domain")
                 if cert.get(field) not in (None, "")]
        lines += [*_call("Certificate", name, variable, args, cert_id), ""]
        cert_vars[cert_id] = variable
    for listeners in estate["loadbalancers"].values():
        for item in listeners:
            lines += _listener_lines(item, names, cert_vars)
    return "\n".join(lines).rstrip() + "\n", secrets


def _listener_lines(item: Mapping[str, Any], names: Names,
                    cert_vars: Mapping[str, str]) -> list[str]:
    listener = item["listener"]
    name = names.make(str(listener.get("name") or ""), "listener")
    variable = _identifier(name)
    args = [f"{field}={_value(listener[field])}" for field in _LISTENER_ORDER
            if listener.get(field) is not None]
    if listener.get("certificate_id"):
        ref = cert_vars.get(listener["certificate_id"])
        args.append(f"certificate_id={ref}.certificate_id" if ref else
                    f"certificate_id={listener['certificate_id']!r}")
    if listener.get("certificates"):
        refs = [f"{cert_vars[c]}.certificate_id" if c in cert_vars else repr(c)
                for c in listener["certificates"]]
        args.append(f"certificates=[{', '.join(refs)}]")
    lines = [*_call("Listener", name, variable, args, str(listener["id"])), ""]
    check = item.get("healthcheck")
    if check:
        check_args = [f"listener_id={variable}.listener_id"] + [
            f"{field}={_value(check[field])}" for field in _CHECK_ORDER
            if check.get(field) is not None]
        lines += [*_call("HealthCheck", names.make(f"{name}-check", "check"),
                         f"{variable}_check", check_args, str(check["id"])), ""]
    if item.get("members"):
        members = ", ".join(f"{{'server_id': {m['server_id']!r}, 'address': "
                            f"{m['server_address']!r}}}" for m in item["members"])
        member_args = [f"listener_id={variable}.listener_id", f"members=[{members}]"]
        lines += [*_call("Members", names.make(f"{name}-members", "members"),
                         f"{variable}_members", member_args, str(listener["id"])), ""]
    return lines


PULUMI_YAML = """name: {project}
description: A classic ELB estate taken over by `otc-elb import`
runtime: python
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="otc-elb", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("import", help="write the program that takes load "
                                  "balancers' listeners over as they are")
    command.add_argument("--loadbalancer", action="append", required=True,
                         help="a classic load balancer's ID (repeatable)")
    command.add_argument("--out", type=Path, required=True, help="the program folder to "
                         "write (Pulumi.yaml, __main__.py)")
    command.add_argument("--project", default=None, help="the Pulumi project's name "
                         "(default: the folder's name)")
    args = parser.parse_args(argv)
    from .client import ElbClient
    from .settings import RetrySettings, resolve_settings

    try:
        settings = resolve_settings({}, os.environ)
        client = ElbClient.from_settings(settings, timeout=(10.0, 60.0),
                                         retry=RetrySettings())
        estate = read_estate(client, args.loadbalancer,
                             progress=lambda line: print(f"otc-elb import: {line}",
                                                         file=sys.stderr))
    except (ConfigError, ElbApiError) as error:
        print(f"otc-elb import: {error}", file=sys.stderr)
        return 2
    code, secrets = program(estate)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    project = args.project or re.sub(r"[^a-zA-Z0-9_.-]+", "-", out.resolve().name)
    (out / "Pulumi.yaml").write_text(PULUMI_YAML.format(project=project))
    (out / "__main__.py").write_text(code)
    print(f"otc-elb import: wrote {out / 'Pulumi.yaml'} and {out / '__main__.py'}",
          file=sys.stderr)
    for key in secrets:  # the lines to run: the key itself is never printed
        print(f"pulumi config set --secret {key} -- \"$(cat {key}.pem)\"")
    return 0
