"""Deploy the example program (``__main__.py``) against a freshly started fake ELB, twice.

Run with ``python3 dev.py demo``. It starts ``fake-elb serve``, registers a load balancer, and
then, with a local file backend in a temporary directory (no account needed):

- with a ``pulumi`` CLI and its Python language host (the official CLI, or the one
  ``dev.py`` builds with the host beside it): the commands a user types in this folder,
  ``pulumi stack init``, ``config set``, ``preview``, ``up``, ``up`` again with ``port``
  changed, ``refresh``, ``destroy``;
- with a CLI but no language host: the same program through that real CLI as an Automation
  API inline program, said in one line;
- with no CLI at all: the same program through the real provider host, offline
  (:class:`fake_elb.engine.OfflineStack`), printing each plan and the stack outputs.

Either way it prints the API calls the fake saw, and stops everything it started.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from fake_elb import DEFAULT_TOKEN, ServerControl, serve_in_subprocess
from fake_elb.engine import OfflineStack

ROOT = Path(__file__).resolve().parent.parent
PROJECT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def show_calls(fake: ServerControl, since: int) -> int:
    journal = fake.requests
    for entry in journal[since:]:
        body = f" {entry['body']}" if entry["body"] is not None else ""
        print(f"    fake ELB saw: {entry['method']} {entry['path']} -> {entry['status']}{body}")
    if len(journal) == since:
        print("    fake ELB saw: no API call")
    return len(journal)


def with_harness(fake: ServerControl, lb: dict[str, Any]) -> None:
    print("pulumi CLI not found: running the program through the real provider host, offline "
          "(fake_elb.engine.OfflineStack)\n")
    config = {"elb:endpoint": fake.url, "elb:projectId": PROJECT_ID}
    with OfflineStack(config=config, secrets={"elb:token": DEFAULT_TOKEN},
                      project="elb-listener-example", cwd=ROOT) as stack:
        seen = 0
        for title, program_config, preview in (
                ("1. preview", {"loadbalancerId": lb["id"]}, True),
                ("2. up", {"loadbalancerId": lb["id"]}, False),
                ("3. preview with port 8081", {"loadbalancerId": lb["id"], "port": 8081}, True),
                ("4. up with port 8081", {"loadbalancerId": lb["id"], "port": 8081}, False)):
            plan = stack.run_program(ROOT / "__main__.py", config=program_config,
                                     preview=preview)
            print(f"== {title}\n{plan}")
            seen = show_calls(fake, seen)
            print()
        print(f"== 5. destroy\n{stack.destroy()}")
        show_calls(fake, seen)


def with_cli(pulumi: str, fake: ServerControl, lb: dict[str, Any]) -> None:
    print(f"using the pulumi CLI ({pulumi}) with a local file backend in a temporary "
          "directory\n")
    with tempfile.TemporaryDirectory(prefix="elb-demo-") as state:
        env = {**os.environ, "PULUMI_BACKEND_URL": f"file://{state}",
               "PULUMI_CONFIG_PASSPHRASE": "", "PULUMI_SKIP_UPDATE_CHECK": "true",
               "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
               "PULUMI_HOME": str(Path(state) / "home")}
        config_file = str(Path(state) / "Pulumi.demo.yaml")

        def run(*args: str) -> None:
            print(f"$ pulumi {' '.join(args)}", flush=True)
            subprocess.run([pulumi, *args, "--non-interactive"], cwd=ROOT, env=env, check=True)

        run("stack", "init", "demo")
        for key, value in (("elb:endpoint", fake.url), ("elb:projectId", PROJECT_ID),
                           ("loadbalancerId", lb["id"])):
            run("config", "set", "--config-file", config_file, key, value)
        run("config", "set", "--config-file", config_file, "--secret", "elb:token",
            DEFAULT_TOKEN)
        seen = 0
        try:
            run("preview", "--config-file", config_file)
            run("up", "--yes", "--config-file", config_file)
            seen = show_calls(fake, seen)
            run("config", "set", "--config-file", config_file, "port", "8081")
            run("up", "--yes", "--diff", "--config-file", config_file)
            seen = show_calls(fake, seen)
            run("refresh", "--yes", "--config-file", config_file)
            seen = show_calls(fake, seen)
        finally:
            run("destroy", "--yes", "--config-file", config_file)
            show_calls(fake, seen)
            run("stack", "rm", "--yes", "demo")


def with_built_cli(pulumi: Path, fake: ServerControl, lb: dict[str, Any]) -> None:
    """The real CLI without a language host: the program runs inline, the CLI does the rest."""
    from fake_elb.engine import CliStack

    print(f"the pulumi CLI ({pulumi}) has no Python language host beside it: the program "
          "runs as an Automation API inline program\n")
    config = {"elb:endpoint": fake.url, "elb:projectId": PROJECT_ID, "loadbalancerId": lb["id"]}
    with CliStack(config=config, secrets={"elb:token": DEFAULT_TOKEN}, cli=pulumi,
                  project="elb-listener-example", stack="demo", echo=print) as stack:
        seen = 0
        for title, port, preview in (("pulumi preview", 80, True), ("pulumi up", 80, False),
                                     ("pulumi preview (port 8081)", 8081, True),
                                     ("pulumi up (port 8081)", 8081, False)):
            print(f"$ {title}", flush=True)
            stack.run_program(ROOT / "__main__.py", config={"port": port}, preview=preview)
            seen = show_calls(fake, seen)
            print()
        print("$ pulumi destroy", flush=True)
        stack.destroy()
        show_calls(fake, seen)


def language_host_beside(pulumi: str) -> bool:
    """Does this CLI find the Python language host (on PATH or next to itself)?"""
    return bool(shutil.which("pulumi-language-python")) or \
        (Path(pulumi).parent / "pulumi-language-python").exists()


def main() -> None:
    from fake_elb.engine import find_cli

    with serve_in_subprocess() as fake:
        print(f"fake ELB serving at {fake.url}")
        lb = fake.add_loadbalancer(PROJECT_ID, type="External")
        print(f"load balancer {lb['id']} (External) registered in project {PROJECT_ID}")
        pulumi = find_cli()
        if pulumi is not None and language_host_beside(str(pulumi)):
            with_cli(str(pulumi), fake, lb)
        elif pulumi is not None:
            with_built_cli(pulumi, fake, lb)
        else:
            with_harness(fake, lb)
    print("\nfake ELB and provider host stopped; nothing left running.")


if __name__ == "__main__":
    main()
