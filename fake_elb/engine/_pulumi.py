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
#: How long a cancelled leftover task may take to end (it normally takes one loop turn).
_DRAIN_TIMEOUT = 5.0


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
    """Drop what an earlier program run left process-wide: its RPC error and its unfinished
    output tasks, which are ended (see :func:`_end`). Missing public API: the SDK resets this
    state only when its process ends (``_get_rpc_manager``, ``SETTINGS.outputs``); an engine
    that runs several programs in one process needs it."""
    from pulumi.runtime import settings

    rpcs = settings._get_rpc_manager()
    stranded = {task.get_loop() for task in list(rpcs.rpcs) if isinstance(task, asyncio.Task)}
    rpcs.clear()
    sdk = settings.SETTINGS
    with sdk.lock:
        leftovers = list(sdk.outputs)
        sdk.outputs.clear()
    for task in leftovers:
        _end(task, retrieve)
        stranded.add(task.get_loop())
    stranded.discard(sdk_event_loop())
    for loop in stranded:  # nothing will run these loops again: their tasks stay quiet
        for task in asyncio.all_tasks(loop):
            _quiet(task)


def _end(task: Any, retrieve: Callable[[Any], None]) -> None:
    """A leftover task left quiet: its error, if it ever ends, is dropped; if its loop is no
    longer the SDK's (closed, or replaced by an ``asyncio.run()`` in the same thread since),
    nothing will run it again, and asyncio is told not to report it as destroyed while
    pending (``_log_destroy_pending``: asyncio's own switch, with no public setter). It is
    not cancelled: the SDK may hold it (or what it awaits) in process-wide caches."""
    if task.done():
        retrieve(task)
        return
    task.add_done_callback(retrieve)


def _quiet(task: Any) -> None:
    """A task whose loop will never run again: not reported as destroyed while pending, and
    its coroutine, if it never started, closed (else reported as never awaited)."""
    import inspect

    task._log_destroy_pending = False
    coroutine = task.get_coro()
    if inspect.iscoroutine(coroutine) and \
            inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED:
        coroutine.close()


def drain_sdk_tasks() -> None:
    """Finish what a program run leaves on the SDK's event loop: its pending tasks (output
    values nobody will await, RPCs of a failed run) are cancelled and run to their end, so
    none is destroyed pending later ("Task was destroyed but it is pending!") and none keeps
    an exception nobody retrieves. Missing public API: the SDK only ever drains its loop when
    its process ends (``SETTINGS.outputs`` holds the tasks)."""
    from pulumi.runtime import settings

    loop = sdk_event_loop()
    if loop.is_closed() or loop.is_running():
        return
    with settings.SETTINGS.lock:
        settings.SETTINGS.outputs.clear()
    pending: list[asyncio.Task[Any]] = []
    for _ in range(10):  # a cancelled task may start others: until none is left
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        if not pending:
            return
        for task in pending:
            task.cancel()
        done, _ = loop.run_until_complete(asyncio.wait(pending, timeout=_DRAIN_TIMEOUT))
        for task in done:
            if not task.cancelled():
                task.exception()  # retrieved: never reported
    for task in pending:  # still waiting on something that never comes: never reported
        if not task.done():
            task._log_destroy_pending = False  # type: ignore[attr-defined]


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
