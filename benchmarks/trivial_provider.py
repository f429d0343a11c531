"""The start-up peer: the smallest useful dynamic provider, in one file."""

from __future__ import annotations

from typing import Any

import pulumi.dynamic as dyn


class TrivialProvider(dyn.ResourceProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        return dyn.CheckResult(news, [])

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        return dyn.CreateResult("trivial", props)
