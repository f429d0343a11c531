"""Errors the provider raises, and the redaction of secrets from their text; importing this
module costs nothing (no HTTP stack)."""

from __future__ import annotations

from typing import Any

#: The longest service text (a message, a job's fail reason) an error carries, cut after
#: redaction: a service may answer a megabyte of message.
MESSAGE_LIMIT = 1000
#: A run of this many characters of a secret (in any of its forms) counts as the secret.
SECRET_RUN = 8
def printable(text: str) -> str:
    """Service text made safe for a terminal: every control character (escape sequences,
    newlines, bells) written as its escape (``\\x1b``), so that a job's ``fail_reason`` can
    neither move the cursor nor forge a line of the CLI's output."""
    return "".join(char if char.isprintable() or char == " " else
                   repr(char)[1:-1] if char in "\t\n\r" else f"\\x{ord(char):02x}"
                   if ord(char) < 0x100 else f"\\u{ord(char):04x}"
                   for char in text)


def cut(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was (after redaction only)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


class ElbApiError(Exception):
    """A failed API call: operation, object, HTTP status, ELB code and message.

    The message and the code are service text: they arrive redacted, and are made printable
    (:func:`printable`) and cut (:data:`MESSAGE_LIMIT`) here, so no service answer reaches
    a terminal raw or whole."""

    def __init__(self, operation: str, object_id: str | None, status: int | None,
                 code: str | None, message: str, hint: str | None = None, *,
                 unanswered: bool = False, retry_after: float | None = None,
                 kind: str) -> None:
        message = cut(printable(message))
        code = cut(printable(code), 64) if code is not None else None
        self.operation = operation
        #: What kind of ELB object the call was about (``listener``, ``health check``,
        #: ``member``, ``certificate``), and its ID when there is one.
        self.kind = kind
        self.object_id = object_id
        self.status = status
        self.code = code
        self.message = message
        self.hint = hint
        #: The request was sent and its answer never came: it may have been applied.
        self.unanswered = unanswered
        #: Seconds the service asked to wait (``Retry-After``), when it did.
        self.retry_after = retry_after
        where = f"{kind} {object_id}" if object_id else kind
        what = f"HTTP {status} {code or ''}".rstrip() if status is not None else code
        text = f"ELB {operation} of {where} failed: " + (f"{what}: " if what else "") + message
        super().__init__(f"{text}. {hint}" if hint else text)

    @property
    def listener(self) -> str | None:
        """The object's ID under its first name (the package managed listeners only)."""
        return self.object_id

    def fields(self) -> dict[str, Any]:
        """What an engine reports of the failure, without parsing its text."""
        return {"operation": self.operation, "kind": self.kind, "object": self.object_id,
                "status": self.status, "code": self.code}

    def with_hint(self, hint: str) -> ElbApiError:
        """The same error with advice on what to do appended."""
        return ElbApiError(self.operation, self.object_id, self.status, self.code, self.message,
                           hint, unanswered=self.unanswered, retry_after=self.retry_after,
                           kind=self.kind)

    def for_kind(self, kind: str, secrets: list[str] | None = None) -> ElbApiError:
        """The same error about another kind of object (a client shared by resources),
        without ``secrets`` (a private key the service may echo)."""
        return ElbApiError(self.operation, self.object_id, self.status, self.code,
                           redact(self.message, secrets or []), self.hint,
                           unanswered=self.unanswered, retry_after=self.retry_after, kind=kind)


class NotFound(ElbApiError):
    """The service's answer that the object is not there (decided in one place:
    :func:`~.transport.is_not_found`); collections read it as ``None`` or "already gone"."""


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
    JSON-escaped (an IAM that echoes the request body, as keystone does), and ``repr`` inside
    JSON and JSON inside ``repr`` (keystone's schema errors quote a value with ``repr`` in a
    JSON answer)."""
    import json
    from urllib.parse import quote, quote_plus

    def as_repr(text: str) -> str:
        return repr(text)[1:-1]

    def as_json(text: str, ascii_only: bool = True) -> str:
        return json.dumps(text, ensure_ascii=ascii_only)[1:-1]

    first = {secret, as_repr(secret), as_json(secret), as_json(secret, False)}
    forms = {*first, quote(secret, safe=""), quote_plus(secret),
             *(as_json(form) for form in first), *(as_repr(form) for form in first)}
    return sorted((form for form in forms if form), key=len, reverse=True)


def _pieces(form: str) -> list[str]:
    """A secret's form without its PEM armor lines (public text), in the pieces between."""
    import re

    return [piece for piece in re.split(r"-----(?:BEGIN|END)[A-Z0-9 %+]+-----", form) if piece]


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every secret replaced by ``***``: whole, in every form
    :func:`secret_forms` knows, and any run of :data:`SECRET_RUN` or more of its characters
    in any of those forms (a PEM line, a cut prefix, a password quoted in pieces)."""
    windows: set[str] = set()
    for secret in secrets:
        for form in secret_forms(secret) if secret else ():
            text = text.replace(form, "***")
            windows.update(piece[i:i + SECRET_RUN] for piece in _pieces(form)
                           for i in range(len(piece) - SECRET_RUN + 1))
    windows.discard("")
    if not windows:
        return text
    masked = [False] * len(text)
    for start in range(len(text) - SECRET_RUN + 1):
        if text[start:start + SECRET_RUN] in windows:
            masked[start:start + SECRET_RUN] = [True] * SECRET_RUN
    if not any(masked):
        return text
    out: list[str] = []
    for index, char in enumerate(text):
        if not masked[index]:
            out.append(char)
        elif index == 0 or not masked[index - 1]:
            out.append("***")
    return "".join(out)
