"""A stand-in for another provider's resource in CLI programs: its output is unknown during a
preview and known after ``up``, like a certificate made in the same program."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.dynamic as dyn


class EchoProvider(dyn.ResourceProvider):
    """Creates nothing anywhere: the computed output ``value`` is the input ``seed``."""

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        return dyn.CreateResult(f"echo-{props['seed']}", {"seed": props["seed"],
                                                          "value": props["seed"]})


class Echo(dyn.Resource, module="test", name="Echo"):
    value: pulumi.Output[str]

    def __init__(self, name: str, seed: str) -> None:
        super().__init__(EchoProvider(), name, {"seed": seed, "value": None})
