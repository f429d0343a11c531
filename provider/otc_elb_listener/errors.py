"""Errors the provider raises, and the redaction of secrets from their text; importing this
module costs nothing (no HTTP stack)."""

from __future__ import annotations


class ElbApiError(Exception):
    """A failed listener API call: operation, listener, HTTP status, ELB code and message."""

    def __init__(self, operation: str, listener: str | None, status: int | None,
                 code: str | None, message: str, hint: str | None = None, *,
                 unanswered: bool = False, retry_after: float | None = None,
                 kind: str = "listener") -> None:
        self.operation = operation
        #: What the call was about: ``listener``, ``health check``.
        self.kind = kind
        self.listener = listener
        self.status = status
        self.code = code
        self.message = message
        self.hint = hint
        #: The request was sent and its answer never came: it may have been applied.
        self.unanswered = unanswered
        #: Seconds the service asked to wait (``Retry-After``), when it did.
        self.retry_after = retry_after
        where = f"{kind} {listener}" if listener else kind
        what = f"HTTP {status} {code or ''}".rstrip() if status is not None else code
        text = f"ELB {operation} of {where} failed: " + (f"{what}: " if what else "") + message
        super().__init__(f"{text}. {hint}" if hint else text)

    def with_hint(self, hint: str) -> ElbApiError:
        """The same error with advice on what to do appended."""
        return ElbApiError(self.operation, self.listener, self.status, self.code, self.message,
                           hint, unanswered=self.unanswered, retry_after=self.retry_after,
                           kind=self.kind)

    def for_kind(self, kind: str, secrets: list[str] | None = None) -> ElbApiError:
        """The same error about another kind of object (a client shared by resources),
        without ``secrets`` (a private key the service may echo)."""
        return ElbApiError(self.operation, self.listener, self.status, self.code,
                           redact(self.message, secrets or []), self.hint,
                           unanswered=self.unanswered, retry_after=self.retry_after, kind=kind)


class ElbListenerError(Exception):
    """One line, what went wrong: raised as the *cause* of a provider error, so that it is
    the first thing ``pulumi`` shows.

    The dynamic provider host answers a failed call with ``traceback.format_exc()``, which
    prints a chain cause first: this exception has no traceback of its own, so the CLI's first
    line becomes ``ElbListenerError: ELB create of listener failed: HTTP 400 ELB.6101: ...``
    instead of ``Traceback (most recent call last):``. It holds only the (redacted) message.
    """


ElbListenerError.__module__ = "builtins"  # printed as plain ``ElbListenerError: ...``


class ConfigError(ValueError):
    """A setting the provider needs is missing; the message names the config key and env var."""


def secret_forms(secret: str) -> list[str]:
    """The ways a secret can show up in error text: raw, as ``repr`` writes it, URL-encoded,
    JSON-escaped (an IAM that echoes the request body, as keystone does)."""
    import json
    from urllib.parse import quote, quote_plus

    forms = {secret, repr(secret)[1:-1], quote(secret, safe=""), quote_plus(secret),
             json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    return sorted((form for form in forms if form), key=len, reverse=True)


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every secret in every form :func:`secret_forms` knows replaced by ``***``."""
    for secret in secrets:
        for form in secret_forms(secret) if secret else ():
            text = text.replace(form, "***")
    return text
