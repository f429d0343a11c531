"""The SDK's provider serialization, made safe to run many times in one process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def pickler_left_intact() -> Iterator[None]:
    """Undo what the SDK's ``serialize_provider`` leaves behind.

    It wraps ``pickle._Pickler._batch_setitems`` in a sorting wrapper on every call and never
    unwraps it, so each dynamic resource a program makes adds one level; a few hundred
    resources in one process (or many runs in one test process) end in ``RecursionError``.
    Restoring the pickler after each serialization keeps the depth at one.
    """
    import pickle

    batch_setitems = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]
    save_dict = pickle._Pickler.save_dict  # type: ignore[attr-defined]
    try:
        yield
    finally:
        pickle._Pickler._batch_setitems = batch_setitems  # type: ignore[attr-defined]
        pickle._Pickler.save_dict = save_dict  # type: ignore[attr-defined]
