"""Drive a running ``fake-elb serve`` from tests: start it as a process, reset it, seed it.

:class:`ServerControl` is the :class:`~fake_elb.FakeControl` of a server, as
:class:`~fake_elb.MockElb` is of the in-process fake, so one test can run against either.
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
from .control import ControlError, FakeControl


class ServerControl(FakeControl):
    """The control plane of a fake ELB server, over HTTP (``url`` is also its endpoint)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url.rstrip("/")
        self.endpoint = self.url
        self._session = requests.Session()

    def _send(self, method: str, action: str, payload: Any = None) -> Any:
        response = self._session.request(method, f"{self.url}/_fake/{action}", json=payload,
                                         timeout=10)
        if response.status_code >= 400:
            raise ControlError(action, response.status_code, response.text)
        return response.json() if response.content else None

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
