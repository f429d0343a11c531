"""pytest fixtures for the fake ELB, registered through the ``pytest11`` entry point.

This module is loaded in every pytest run of a virtualenv that has the project installed, so
it imports nothing of ours (and nothing heavy) until a fixture is used: a user's own
``provider/`` folder, or a missing ``[fake]`` extra, never disturbs unrelated tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .control import ServerControl
    from .inprocess import MockElb


def _fake_module(name: str) -> Any:
    """Import ``fake_elb.<name>``, or fail the test with the extra to install."""
    from importlib import import_module

    try:
        return import_module(f"fake_elb.{name}")
    except ModuleNotFoundError as error:
        if error.name in ("responses", "pydantic", "orjson"):
            pytest.fail("the fake ELB fixtures need the [fake] extra: "
                        f"pip install 'otc-elb-listener[fake]' (missing: {error.name})",
                        pytrace=False)
        raise


@pytest.fixture
def fake_elb() -> Iterator[MockElb]:
    """An empty in-process fake ELB (``MockElb``) that answers ``requests`` calls to
    ``fake_elb.endpoint`` (``https://elb.fake-elb.invalid``); other hosts are refused.
    Seed it with ``add_loadbalancer(project_id)`` / ``add_certificate(project_id)``; assert on
    ``fake_elb.requests`` (the API calls it saw). Nothing runs in another process."""
    with _fake_module("inprocess").mock_elb() as elb:
        yield elb


@pytest.fixture(scope="session")
def _fake_elb_server_process() -> Iterator[ServerControl]:
    with _fake_module("control").serve_in_subprocess() as control:
        yield control


@pytest.fixture
def fake_elb_server(_fake_elb_server_process: ServerControl) -> ServerControl:
    """A real ``fake-elb serve`` process on 127.0.0.1 (shared by the session, emptied before
    each test), for code that runs in another process, such as the Pulumi provider host.
    ``.url`` is its endpoint; it has the same helpers as ``fake_elb`` (``add_loadbalancer``,
    ``requests``, ``faults``, ``reset``)."""
    _fake_elb_server_process.reset()
    return _fake_elb_server_process
