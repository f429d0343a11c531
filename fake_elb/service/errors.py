"""The fake's wire error: what every layer of the service raises and both transports answer."""

from __future__ import annotations

from otc_elb_listener.rules.machinery import Violation


class ApiError(Exception):
    """An ELB error answer: HTTP status plus the ``{"error": {"code", "message"}}`` body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    @classmethod
    def from_violations(cls, violations: list[Violation]) -> ApiError:
        first = violations[0]
        return cls(first.status, first.code, "; ".join(v.message for v in violations))
