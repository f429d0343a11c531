"""Properties, config and providers in the form the engine sends them to a provider host."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Mapping
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import rpc

from ._pulumi import secret_wire_value, serialized_provider


# -- (de)serialization, as the SDK does it ------------------------------------------------------
def _run(coro: Any) -> Any:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def _unknowns_to_wire(value: Any) -> Any:
    from pulumi.output import Unknown

    if isinstance(value, Unknown):
        return rpc.UNKNOWN
    if isinstance(value, dict):
        return {k: _unknowns_to_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknowns_to_wire(v) for v in value]
    return value


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """Properties as the engine sends them (``rpc.serialize_properties``; numbers as doubles)."""
    result: struct_pb2.Struct = _run(rpc.serialize_properties(_unknowns_to_wire(dict(props)),
                                                              {}))
    return result


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    result: dict[str, Any] = rpc.deserialize_properties(struct, keep_unknowns=True)
    return {k: unwrap_secrets(v) for k, v in result.items()}


def unwrap_secrets(value: Any) -> Any:
    """Secrets at any depth as plain values (the host does not accept secrets)."""
    value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, dict):
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def serialize_provider(provider: Any) -> str:
    """``__provider`` exactly as ``pulumi.dynamic.Resource.__init__`` makes it (dill, base64)."""
    if isinstance(provider, str):
        return provider
    from otc_elb_listener.pickling import pickler_left_intact

    with pickler_left_intact():
        return serialized_provider(provider)


def secret(value: Any) -> dict[str, Any]:
    return secret_wire_value(value)


def config_text(value: Any) -> str:
    """Config as the engine hands it over: always a string (``true``, not ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def decoded_provider(blob: str) -> bytes:
    """The raw pickle inside a ``__provider`` value (to check what it carries)."""
    return base64.b64decode(blob)
