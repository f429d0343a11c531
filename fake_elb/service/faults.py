"""Fault injection: make chosen calls fail the way real networks and services fail.

A rule matches calls by method, path pattern or operation, and project; it fires on the n-th
matching call, for k calls, or with a seeded probability. Actions:

- ``status``: an HTTP status with an ELB error body (e.g. 503 ``serviceUnavailable``, 500);
- ``drop``: the connection drops without an answer (``requests.ConnectionError``);
- ``timeout``: no answer within the caller's timeout (``requests.ReadTimeout``);
- ``latency``: the answer comes ``latency`` seconds late.

``applied=False`` (default) fails *before* the request is applied: state is unchanged.
``applied=True`` applies the request, then fails: the change happened but its answer is lost.
In-process, time is virtual (``responses`` ignores timeouts): latency is compared with the
caller's read timeout. In server mode the delay is real, and never taken under the state lock.
"""

from __future__ import annotations

import itertools
import random
import re
import threading
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

Operation = Literal["create", "list", "get", "update", "delete"]


class FaultRule(BaseModel):
    """One rule; also the JSON body of ``POST /_fake/faults``."""

    model_config = ConfigDict(extra="forbid", frozen=False)

    id: int = 0
    method: Literal["GET", "POST", "PUT", "DELETE"] | None = None
    path: str | None = Field(None, description="regular expression the whole path must match")
    operation: Operation | None = None
    project: str | None = None
    nth: int | None = Field(None, ge=1, description="first matching call that fails (1-based)")
    times: int | None = Field(None, ge=1, description="how many calls fail (default: all)")
    probability: float | None = Field(None, ge=0.0, le=1.0)
    seed: int | None = None
    action: Literal["status", "drop", "timeout", "latency"] = "status"
    status: int = Field(503, ge=400, le=599)
    code: str = "ELB.5030"
    message: str = "serviceUnavailable (injected fault)"
    latency: float = Field(0.0, ge=0.0, le=300.0, description="seconds")
    applied: bool = False

    _seen: int = PrivateAttr(0)
    _fired: int = PrivateAttr(0)
    _random: random.Random | None = PrivateAttr(None)
    _pattern: re.Pattern[str] | None = PrivateAttr(None)

    @field_validator("path")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:  # not a ValueError: pydantic would let it escape
                raise ValueError(f"not a regular expression ({error})") from None
        return value

    def model_post_init(self, context: Any) -> None:
        self._pattern = re.compile(self.path) if self.path is not None else None
        self._random = random.Random(self.seed)

    def _matches(self, method: str, path: str, operation: str | None,
                 project: str | None) -> bool:
        return ((self.method is None or self.method == method)
                and (self._pattern is None or bool(self._pattern.fullmatch(path)))
                and (self.operation is None or self.operation == operation)
                and (self.project is None or self.project == project))

    def _fires(self) -> bool:
        """Count one matching call and say whether this rule fails it."""
        self._seen += 1
        if self.nth is not None and self._seen < self.nth:
            return False
        if self.times is not None and self._fired >= self.times:
            return False
        if self.probability is not None:
            assert self._random is not None
            if self._random.random() >= self.probability:
                return False
        self._fired += 1
        return True

    @property
    def fired(self) -> int:
        """How many calls this rule has failed so far."""
        return self._fired


class Faults:
    """The fault rules of one fake; thread-safe, with its own small lock."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def add(self, rule: FaultRule | None = None, **fields: Any) -> FaultRule:
        """Add a rule (a :class:`FaultRule` or its fields); the first matching rule wins."""
        rule = rule if rule is not None else FaultRule(**fields)
        with self._lock:
            rule.id = next(self._ids)
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def active(self) -> bool:
        """Whether any rule exists (checked without the lock: the common case is none)."""
        return bool(self._rules)

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def pick(self, method: str, path: str, operation: str | None,
             project: str | None) -> FaultRule | None:
        """The rule that fails this call, if any (counting the call for every matching rule
        up to the one that fires)."""
        if not self._rules:
            return None
        with self._lock:
            for rule in self._rules:
                if rule._matches(method, path, operation, project) and rule._fires():
                    return rule
        return None
