"""pytest fixtures for the fake ELB, registered through the ``pytest11`` entry point.

- ``fake_elb``: an in-process fake (``MockElb``) at :data:`~fake_elb.DEFAULT_ENDPOINT`, empty.
- ``fake_elb_server``: a ``fake-elb serve`` process shared by the session, reset before each
  test; a :class:`~fake_elb.ServerControl` with ``.url`` and the same helpers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .control import ServerControl, serve_in_subprocess
from .inprocess import MockElb, mock_elb


@pytest.fixture
def fake_elb() -> Iterator[MockElb]:
    with mock_elb() as elb:
        yield elb


@pytest.fixture(scope="session")
def _fake_elb_server_process() -> Iterator[ServerControl]:
    with serve_in_subprocess() as control:
        yield control


@pytest.fixture
def fake_elb_server(_fake_elb_server_process: ServerControl) -> ServerControl:
    _fake_elb_server_process.reset()
    return _fake_elb_server_process
