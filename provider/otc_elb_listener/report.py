"""Messages on a resource in the CLI's output, from inside the dynamic provider host.

A dynamic provider has no way to warn: its methods get neither the engine nor the resource's
URN. Both are there all the same. The CLI starts every provider plugin with the engine's
address as its first argument (the Python host ignores it), and the engine's ``Log`` call
puts a message under the resource whose URN it names. The URN is in the gRPC request the
host's servicer is answering, one or two frames up from the provider's method. Outside a
host (a unit test calling ``check`` directly) the message goes to the ``otc_elb_listener``
logger instead, and a failure to reach the engine never fails the operation.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any

_LOG = logging.getLogger("otc_elb_listener")
_HOST_MODULE = "pulumi.dynamic.__main__"
#: Seconds one message may take to reach the engine: it answers on this machine at once.
DEADLINE = 2.0
#: Set after the first failure to reach the engine: the rest of the process logs instead
#: (a member reports on every poll; each would wait out the deadline).
_unreachable = False


def _engine_address() -> str | None:
    """The engine's address when this process is Pulumi's dynamic provider host."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if getattr(spec, "name", None) != _HOST_MODULE or len(sys.argv) < 2:
        return None
    address = sys.argv[1]
    host, _, port = address.rpartition(":")
    return address if host and port.isdigit() and port != "0" else None


def calling_urn(depth: int = 16) -> str:
    """The URN of the resource whose gRPC request is being answered, or ``""``."""
    frame = sys._getframe(1)
    for _ in range(depth):
        request = frame.f_locals.get("request")
        urn = getattr(request, "urn", None)
        if isinstance(urn, str) and urn.startswith("urn:pulumi:"):
            return urn
        if frame.f_back is None:
            break
        frame = frame.f_back
    return ""


def report(message: str, *, warning: bool = True, urn: str | None = None) -> None:
    """Show ``message`` on the resource being answered (a warning, or an info line)."""
    global _unreachable
    from .errors import printable

    message = printable(message)  # service text inside can never drive the terminal
    urn = calling_urn() if urn is None else urn
    address = None if _unreachable else _engine_address()
    if address is not None:
        try:
            import grpc
            from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

            with grpc.insecure_channel(address) as channel:
                engine_pb2_grpc.EngineStub(channel).Log(engine_pb2.LogRequest(
                    severity=engine_pb2.WARNING if warning else engine_pb2.INFO,
                    message=message, urn=urn), timeout=DEADLINE)
            return
        except Exception as error:  # a message is never worth a failed step
            _unreachable = True
            _LOG.debug("could not reach the engine to report a message: %s", type(error))
    _LOG.log(logging.WARNING if warning else logging.INFO, "%s%s", f"{urn}: " if urn else "",
             message)


#: Set (to ``1``) in the environment of ``pulumi``: a failure shows its Python traceback
#: again, for debugging (docs/engines.md, "Errors").
TRACEBACK_VARIABLE = "OTC_ELB_TRACEBACK"
#: The gRPC trailing metadata key that carries a failure's fields to an engine of ours.
ERROR_METADATA = "otc-elb-error"


def _servicer_context(depth: int = 12) -> Any:
    """The gRPC context of the call being answered (the host's servicer method's local
    ``context``), or ``None`` outside a provider host."""
    frame = sys._getframe(1)
    for _ in range(depth):
        context = frame.f_locals.get("context")
        if context is not None and callable(getattr(context, "abort", None)) and \
                callable(getattr(context, "set_trailing_metadata", None)):
            return context
        if frame.f_back is None:
            break
        frame = frame.f_back
    return None


class PartialState(Exception):
    """A failure after which the object is not what it was: the engine records ``outputs``
    and ``inputs`` as the resource's state (Pulumi's partial failure, as a provider reports
    it with ``ErrorResourceInitFailed``), so the state says what the service holds."""

    def __init__(self, error: Exception, object_id: str, outputs: dict[str, Any],
                 inputs: dict[str, Any]) -> None:
        super().__init__(str(error))
        self.error = error
        self.object_id = object_id
        self.outputs = outputs
        self.inputs = inputs


def _status_details(line: str, partial: PartialState) -> bytes:
    """``grpc-status-details-bin``: a ``google.rpc.Status`` carrying the partial state."""
    import asyncio

    from google.protobuf import any_pb2
    from google.rpc import status_pb2  # type: ignore[import-untyped]
    from pulumi.runtime import rpc
    from pulumi.runtime.proto import provider_pb2

    loop = asyncio.new_event_loop()
    try:
        outputs = loop.run_until_complete(rpc.serialize_properties(partial.outputs, {}))
        inputs = loop.run_until_complete(rpc.serialize_properties(partial.inputs, {}))
    finally:
        loop.close()
    detail = any_pb2.Any()
    detail.Pack(provider_pb2.ErrorResourceInitFailed(
        id=partial.object_id, properties=outputs, inputs=inputs, reasons=[line]))
    return bytes(status_pb2.Status(code=2, message=line, details=[detail])
                 .SerializeToString())


def fail_in_one_line(line: str, fields: Mapping[str, Any],
                     partial: PartialState | None = None) -> None:
    """Make the failure being raised reach the CLI as ``line`` alone, and its ``fields``
    (code, status, operation, kind, object) reach an engine of ours as trailing metadata.

    The dynamic provider host answers any exception with ``traceback.format_exc()`` through
    the call's ``context.abort``: the one abort of this call is made to carry ``line``
    instead, unless :data:`TRACEBACK_VARIABLE` asks for the traceback."""
    import json
    import os

    context = _servicer_context()
    if context is None or (os.environ.get(TRACEBACK_VARIABLE) == "1" and partial is None):
        return
    metadata: list[tuple[str, str | bytes]] = [(ERROR_METADATA, json.dumps(dict(fields)))]
    if partial is not None:  # the code the host aborts with is UNKNOWN (2), as here
        metadata.append(("grpc-status-details-bin", _status_details(line, partial)))
    try:
        context.set_trailing_metadata(tuple(metadata))
    except Exception as error:  # metadata is a help, never worth a failed report
        _LOG.debug("could not attach the error's fields: %s", type(error))
    original = context.abort

    def abort(code: Any, _details: str) -> None:
        original(code, line)

    context.abort = abort
