"""Pickles made by 0.1.0 (``tests/package/pickles/providers-0.1.0.json``: each provider as the
engine stored it, plain and with every tuning knob set) still load into the same classes
with the same settings: the module paths are forever (README, "Import names")."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import dill  # type: ignore[import-untyped]
import pytest

from otc_elb_listener.settings import RetrySettings

PICKLES = json.loads((Path(__file__).parent / "pickles" / "providers-0.1.0.json").read_text())


def deserialize_provider(blob: str) -> Any:
    """As the provider host reads it (``pulumi.dynamic.__main__.get_provider``)."""
    return dill.loads(base64.b64decode(blob))


@pytest.mark.parametrize("name", sorted(PICKLES))
def test_a_provider_pickled_by_0_1_0_loads_as_it_was(name: str) -> None:
    provider = deserialize_provider(PICKLES[name])
    path = name.split(" ")[0]
    assert f"{type(provider).__module__}.{type(provider).__name__}" == path
    if name.endswith(" tuned"):
        assert provider.timeout == (3.0, 7.0)
        assert provider.retry == RetrySettings(retries=2)
        assert provider.target == {"region": "eu-de", "projectId": "p" * 32}
    else:
        assert provider.timeout == (10.0, 60.0)
        assert provider.retry == RetrySettings()
        assert provider.target == {}
    assert provider._client is None  # nothing of a session or a token came with it
