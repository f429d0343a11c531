"""The real Pulumi provider host (``python -u -m pulumi.dynamic``) and a gRPC stub to it."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, provider_pb2, provider_pb2_grpc

from otc_elb_listener.offline import OFFLINE_VARIABLE

from .._process import stop_process
from .model import HarnessError
from .wire import config_text, secret, to_struct

# -- the host process ------------------------------------------------------------------------
#: The caller's variables that must not reach an offline provider host: credentials,
#: endpoints and proxies of a real cloud.
SCRUBBED_PREFIXES = ("OS_", "ELB_")
PROXY_VARIABLES = frozenset({"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy",
                              "https_proxy", "all_proxy"})
LOOPBACK_NO_PROXY = "127.0.0.1,localhost,::1"


def offline_host_environment() -> dict[str, str]:
    """``os.environ`` without cloud credentials, endpoints or proxies, loopback never
    proxied, and the provider told it runs offline (it refuses any address, IAM's too, that
    is not loopback)."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(SCRUBBED_PREFIXES) and name not in PROXY_VARIABLES}
    env["NO_PROXY"] = env["no_proxy"] = LOOPBACK_NO_PROXY
    env[OFFLINE_VARIABLE] = "1"  # the provider refuses any address that is not loopback
    return env


class _EngineLog(engine_pb2_grpc.EngineServicer):
    """The engine's ``Log`` service, as the CLI gives every provider plugin: what a provider
    reports on a resource (its URN) during a call."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, int, str]] = []

    def Log(self, request: Any, context: Any) -> empty_pb2.Empty:
        self.messages.append((request.urn, request.severity, request.message))
        return empty_pb2.Empty()


def _error_fields(error: grpc.RpcError) -> dict[str, Any]:
    """The fields the provider attached to its failure (``otc-elb-error`` trailing
    metadata, see ``otc_elb_listener.report``), or none."""
    import json

    from otc_elb_listener.report import ERROR_METADATA

    trailing = getattr(error, "trailing_metadata", None)
    for key, value in (trailing() if callable(trailing) else None) or ():
        if key == ERROR_METADATA:
            try:
                found = json.loads(value)
            except ValueError:
                return {}
            return found if isinstance(found, dict) else {}
    return {}


def _partial_state(error: grpc.RpcError) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
    """The state a provider reported with its failure (``ErrorResourceInitFailed`` in the
    status details, as the CLI's engine reads it): (id, outputs, inputs), or ``None``."""
    from google.rpc import status_pb2  # type: ignore[import-untyped]

    from .wire import from_struct

    trailing = getattr(error, "trailing_metadata", None)
    for key, value in (trailing() if callable(trailing) else None) or ():
        if key != "grpc-status-details-bin":
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            found = provider_pb2.ErrorResourceInitFailed()
            if detail.Unpack(found):
                return found.id, from_struct(found.properties), from_struct(found.inputs)
    return None


class ProviderHost:
    """The real ``python -u -m pulumi.dynamic`` process and a gRPC stub to it, started as
    the CLI starts it: with the address of an engine that takes its ``Log`` messages."""

    def __init__(self, config: Mapping[str, Any] | None = None,
                 secrets: Mapping[str, Any] | None = None, *, project: str = "project",
                 cwd: str | Path | None = None, pythonpath: Iterable[str | Path] = (),
                 env: Mapping[str, str] | None = None, startup_timeout: float = 60.0) -> None:
        self.project = project
        self.config = {self._key(k): v for k, v in (config or {}).items()}
        self.secrets = {self._key(k): v for k, v in (secrets or {}).items()}
        self.cwd = Path(cwd or Path.cwd())
        self.pythonpath = [str(p) for p in pythonpath] or [str(self.cwd)]
        self.extra_env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.channel: grpc.Channel | None = None
        self.stub: provider_pb2_grpc.ResourceProviderStub | None = None
        self._stderr: Any = None
        self._log = _EngineLog()
        self._engine: grpc.Server | None = None

    def warnings(self, urn: str) -> list[str]:
        """The warnings the provider reported on ``urn`` so far, each once."""
        found = [message for at, severity, message in self._log.messages
                 if at == urn and severity == engine_pb2.WARNING]
        return list(dict.fromkeys(found))

    def _start_engine(self) -> str:
        from concurrent import futures

        self._engine = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        engine_pb2_grpc.add_EngineServicer_to_server(self._log, self._engine)
        port = self._engine.add_insecure_port("127.0.0.1:0")
        self._engine.start()
        return f"127.0.0.1:{port}"

    def _key(self, key: str) -> str:
        return key if ":" in key else f"{self.project}:{key}"

    def start(self) -> ProviderHost:
        all_config = {**self.config, **self.secrets}
        # As the CLI starts the plugin: PULUMI_CONFIG holds only the pulumi-python namespace
        # (normally empty); the stack config arrives through Configure.
        env = {**offline_host_environment(), **self.extra_env, "PULUMI_PROJECT": self.project,
               "PULUMI_CONFIG": "{}",
               "PYTHONPATH": os.pathsep.join([*self.pythonpath,
                                              os.environ.get("PYTHONPATH", "")]).rstrip(
                                                  os.pathsep)}
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the host)
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic", self._start_engine()], cwd=self.cwd,
            env=env, stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL)
        try:
            port = self._read_port()
            self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            grpc.channel_ready_future(self.channel).result(timeout=self.startup_timeout)
            self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
            self._engine_startup(all_config)
        except BaseException:
            self.close()
            raise
        return self

    def _read_port(self) -> int:
        assert self.process is not None and self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            ready = selector.select(self.startup_timeout)
        line = self.process.stdout.readline().decode(errors="replace").strip() if ready else ""
        if not line.isdigit():
            raise HarnessError(f"the provider host did not start (first line {line!r}): "
                               f"{self.stderr_tail()}")
        return int(line)

    def stderr_tail(self, limit: int = 3000) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return str(self._stderr.read().decode(errors="replace")[-limit:])

    def _engine_startup(self, all_config: Mapping[str, Any]) -> None:
        """GetPluginInfo, CheckConfig (unimplemented by dynamic hosts), Configure."""
        self.call("GetPluginInfo", empty_pb2.Empty(), "start-up")
        try:
            self.call("CheckConfig", provider_pb2.CheckRequest(), "start-up")
        except HarnessError as error:
            if "not implemented" not in str(error).lower():
                raise
        # Config values reach providers as strings, as the engine sends them.
        args = {**{k: config_text(v) for k, v in self.config.items()},
                **{k: secret(config_text(v)) for k, v in self.secrets.items()}}
        self.call("Configure", provider_pb2.ConfigureRequest(
            variables={k: config_text(v) for k, v in all_config.items()},
            args=to_struct(args), acceptSecrets=True, acceptResources=True), "start-up")

    def call(self, method: str, request: Any, what: str) -> Any:
        """One gRPC call; failures become :class:`HarnessError` naming ``what``."""
        if self.stub is None:
            raise HarnessError("the provider host is not running")
        try:
            return getattr(self.stub, method)(request, timeout=300)
        except grpc.RpcError as error:
            details = error.details() if hasattr(error, "details") else str(error)
            hint = ""
            if any(s in (details or "") for s in ("dill", "Can't get attribute",
                                                  "ModuleNotFoundError", "No module named",
                                                  "unpickl")):
                hint = (" (the host could not load the provider: is its module importable "
                        "from the project directory / PYTHONPATH?)")
            failed = HarnessError(f"{what}: {method} failed{hint}: {details}",
                                  _error_fields(error))
            failed.partial = _partial_state(error)
            raise failed from None

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.process is not None:
            stop_process(self.process)
            self.process = None
        if self._engine is not None:
            self._engine.stop(None)
            self._engine = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> ProviderHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
