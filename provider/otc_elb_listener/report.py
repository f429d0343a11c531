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


def calling_urn(depth: int = 8) -> str:
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
