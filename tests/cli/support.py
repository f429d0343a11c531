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


class SecretHoldingProvider:
    """Made in a program: a listener provider that carries a secret Output in its pickle (a
    user's subclass might), so Pulumi must store the pickled provider as a secret."""

    @staticmethod
    def make(secret: str) -> Any:
        from otc_elb_listener import ListenerProvider

        class Holding(ListenerProvider):
            def __init__(self) -> None:
                super().__init__()
                self.extra = pulumi.Output.secret(secret)

            def __getstate__(self) -> dict[str, Any]:
                return {**super().__getstate__(), "extra": self.extra}

            def __setstate__(self, state: dict[str, Any]) -> None:
                state = dict(state)
                self.extra = state.pop("extra", None)
                super().__setstate__(state)

        return Holding()
