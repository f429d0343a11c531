"""Drive a running ``fake-elb serve`` from tests: start it as a process, reset it, seed it.

:class:`ServerControl` offers the same helpers as the in-process :class:`~fake_elb.MockElb`
(``add_loadbalancer``, ``add_certificate``, ``reset``, ``requests``), so one test can run
against either transport.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import requests

from .._process import stop_process
from ..service.store import DEFAULT_TOKEN


class RemoteFaults:
    """``/_fake/faults`` of a server, with the same calls as :class:`fake_elb.faults.Faults`."""

    def __init__(self, control: ServerControl) -> None:
        self._control = control

    def add(self, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._control._post("faults", fields)
        return result

    def clear(self) -> None:
        response = self._control._session.delete(f"{self._control.url}/_fake/faults",
                                                 timeout=10)
        response.raise_for_status()

    @property
    def rules(self) -> list[dict[str, Any]]:
        response = self._control._session.get(f"{self._control.url}/_fake/faults", timeout=10)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result


class ServerControl:
    """Client of the control plane (``/_fake/*``) of a fake ELB server."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.endpoint = self.url
        self._session = requests.Session()
        self.faults = RemoteFaults(self)

    def _post(self, action: str, payload: dict[str, Any] | None = None) -> Any:
        response = self._session.post(f"{self.url}/_fake/{action}", json=payload, timeout=10)
        if response.status_code >= 400:
            raise RuntimeError(f"fake ELB control {action} failed: {response.status_code} "
                               f"{response.text}")
        return response.json() if response.content else None

    def add_loadbalancer(self, project_id: str, type: str = "External",
                         id: str | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"project_id": project_id, "type": type}
        if id is not None:
            payload["id"] = id
        result: dict[str, Any] = self._post("loadbalancers", payload)
        return result

    def add_certificate(self, project_id: str, id: str | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"project_id": project_id}
        if id is not None:
            payload["id"] = id
        result: dict[str, Any] = self._post("certificates", payload)
        return result

    def add_user(self, domain: str, name: str, password: str, project_id: str,
                 project_name: str) -> dict[str, Any]:
        """An IAM user who can get a token for one project (``POST /v3/auth/tokens``)."""
        result: dict[str, Any] = self._post("users", {
            "domain": domain, "name": name, "password": password, "project_id": project_id,
            "project_name": project_name})
        return result

    def add_credential(self, access: str, secret: str, project_id: str) -> dict[str, Any]:
        """An access key pair whose signed requests the fake accepts for one project."""
        result: dict[str, Any] = self._post("credentials", {
            "access": access, "secret": secret, "project_id": project_id})
        return result

    def set_strict(self, strict: bool) -> None:
        """Strict mode refuses fields that do not apply (the real service ignores them)."""
        self._post("strict", {"strict": strict})

    def set_tokens(self, tokens: Iterable[str]) -> None:
        """Accept exactly these tokens from now on (a revoked or rotated token gets 401)."""
        self._post("tokens", {"tokens": list(tokens)})

    def reset(self) -> None:
        self._post("reset")

    @property
    def requests(self) -> list[dict[str, Any]]:
        response = self._session.get(f"{self.url}/_fake/requests", timeout=10)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    def close(self) -> None:
        self._session.close()


@contextmanager
def serve_in_subprocess(tokens: Iterable[str] = (DEFAULT_TOKEN,),
                        startup_timeout: float = 30.0, *, strict: bool = False,
                        token_ttl: float | None = None) -> Iterator[ServerControl]:
    """A context manager: ``with serve_in_subprocess() as control:`` starts
    ``python -m fake_elb serve`` on a free loopback port and stops it on exit, always."""
    command = [sys.executable, "-m", "fake_elb", "serve", "--host", "127.0.0.1", "--port", "0"]
    if strict:
        command.append("--strict")
    if token_ttl is not None:
        command += ["--token-ttl", str(token_ttl)]
    for token in tokens:
        command += ["--token", token]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            ready = selector.select(startup_timeout)
        line = process.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("http://"):
            process.kill()
            _, err = process.communicate(timeout=5)
            raise RuntimeError(f"fake-elb serve did not start (first line {line!r}): "
                               f"{err.decode(errors='replace')[-2000:]}")
        control = ServerControl(line)
        try:
            yield control
        finally:
            control.close()
    finally:
        stop_process(process)
