"""Rule tables: the machinery (:mod:`.machinery`, :mod:`.table`) and one module per resource
(:data:`RESOURCES`). Everything the provider and the fake know about a field is derived from
its table."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import Any

#: Every resource's rules module, by name: each has ``ERROR_CODES`` (every code the fake can
#: answer for it, with its origin); those with a rule table have ``markdown_table``, which
#: docs/api-rules.md shows between ``<!-- <name>-table:start -->`` and its end marker.
RESOURCES = ("listener", "healthcheck", "certificate", "member")


def modules() -> list[ModuleType]:
    """The rules modules of :data:`RESOURCES`, imported (on first use: the package itself
    stays free of them, as the fake's start-up wants)."""
    return [import_module(f"{__name__}.{name}") for name in RESOURCES]


def error_codes() -> dict[str, Any]:
    """Every code any resource's rules know, with its origin."""
    return {code: origin for module in modules() for code, origin in module.ERROR_CODES.items()}
