"""Run Pulumi programs offline: the real CLI (:class:`CliStack`) and the in-process engine
over the real provider host (:class:`OfflineStack`), one :class:`Plan` model for both.

Never imports the fake (``service``/``transport``): an engine only needs an endpoint. Names
are imported on first use, so ``import fake_elb.engine`` costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cli import CliFailed, CliStack, declare
    from .host import ProviderHost
    from .inprocess import OfflineStack
    from .locate import find_cli, require_cli
    from .model import (
        UNKNOWN_OUTPUT,
        CheckFailed,
        DynamicResource,
        HarnessError,
        Plan,
        ResourceState,
        Step,
    )
    from .wire import decoded_provider, serialize_provider, to_struct

__all__ = ["UNKNOWN_OUTPUT", "CheckFailed", "CliFailed", "CliStack", "DynamicResource",
           "HarnessError", "OfflineStack", "Plan", "ProviderHost", "ResourceState", "Step",
           "declare", "decoded_provider", "find_cli", "require_cli", "serialize_provider",
           "to_struct"]
_HOME = {"CliFailed": "cli", "CliStack": "cli", "declare": "cli", "find_cli": "locate",
         "require_cli": "locate", "ProviderHost": "host", "OfflineStack": "inprocess",
         "UNKNOWN_OUTPUT": "model", "CheckFailed": "model", "DynamicResource": "model",
         "HarnessError": "model", "Plan": "model", "ResourceState": "model", "Step": "model",
         "decoded_provider": "wire", "serialize_provider": "wire", "to_struct": "wire"}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_HOME[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
