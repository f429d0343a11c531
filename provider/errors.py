"""Errors the provider raises; importing this module costs nothing (no HTTP stack)."""

from __future__ import annotations


class ElbApiError(Exception):
    """A failed listener API call: operation, listener, HTTP status, ELB code and message."""

    def __init__(self, operation: str, listener: str | None, status: int | None,
                 code: str | None, message: str) -> None:
        self.operation = operation
        self.listener = listener
        self.status = status
        self.code = code
        self.message = message
        where = f"listener {listener}" if listener else "listener"
        what = f"HTTP {status} {code or ''}".rstrip() if status is not None else "no answer"
        super().__init__(f"ELB {operation} of {where} failed: {what}: {message}")
