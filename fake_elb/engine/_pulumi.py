"""The one place the offline engines use pulumi's private names.

Each use says why it is needed and which public API is missing; a pulumi upgrade that moves
one of them breaks here, in one file, and nowhere else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pulumi.runtime import rpc

_T = TypeVar("_T")


def sync_await(awaitable: Awaitable[_T]) -> _T:
    """Run ``awaitable`` on the SDK's own event loop. Missing public API: the SDK runs a
    program only through ``pulumi.runtime.stack.run_pulumi_func``, which must be awaited on
    the loop its futures were made on; ``_sync_await`` is how the SDK itself does it."""
    from pulumi.runtime.sync_await import _sync_await

    return _sync_await(awaitable)


def sdk_event_loop() -> asyncio.AbstractEventLoop:
    """The event loop the SDK makes its futures on. Missing public API: the SDK picks or
    makes this loop itself (``_ensure_event_loop``) and offers no accessor."""
    from pulumi.runtime.sync_await import _ensure_event_loop

    return _ensure_event_loop()  # type: ignore[no-untyped-call,no-any-return]


def forget_previous_run(retrieve: Callable[[Any], None]) -> None:
    """Drop what a failed program run leaves process-wide: its RPC error and its unfinished
    output tasks (left to finish with ``retrieve`` as their done callback). Missing public
    API: the SDK resets this state only when its process ends (``_get_rpc_manager``,
    ``SETTINGS.outputs``); an engine that runs several programs in one process needs it."""
    from pulumi.runtime import settings

    settings._get_rpc_manager().clear()
    sdk = settings.SETTINGS
    with sdk.lock:
        leftovers = list(sdk.outputs)
        sdk.outputs.clear()
    for task in leftovers:
        task.add_done_callback(retrieve)


def secret_wire_value(value: Any) -> dict[str, Any]:
    """``value`` as a secret on the gRPC wire. Missing public API: the signature keys of a
    secret (``_special_sig_key``, ``_special_secret_sig``) are the wire format itself, but
    the SDK exports them only under private names."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def serialized_provider(provider: Any) -> str:
    """``__provider`` as ``pulumi.dynamic.Resource.__init__`` makes it. Missing public API:
    the SDK serializes a dynamic provider only inside the resource constructor; an engine
    that sends providers to the host itself must call the same ``_serialize`` wrapper."""
    from pulumi.dynamic.dynamic import serialize_provider as dill_provider
    from pulumi.runtime._serialization import _serialize

    serialized, _ = _serialize(True, dill_provider, provider)
    return str(serialized)
