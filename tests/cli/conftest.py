"""The real-CLI tier: ``pulumi`` itself against ``fake-elb serve``, fully offline.

Marked ``cli``. Where there is no CLI, the tier skips with one line saying how to get one;
with ``CI=true`` a missing CLI fails instead (CI must never skip it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fake_elb import ServerControl
from fake_elb.engine import CliStack, require_cli
from tests.support import REPO, Elb


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.cli)


@pytest.fixture(scope="session")
def pulumi_cli() -> Path:
    return require_cli()


@pytest.fixture
def elb(fake_elb_server: ServerControl) -> Elb:
    return Elb(fake_elb_server)


@pytest.fixture
def cli_stack(pulumi_cli: Path, elb: Elb) -> Iterator[CliStack]:
    with CliStack(config=elb.config, secrets=elb.secrets, cli=pulumi_cli,
                  pythonpath=[REPO]) as stack:
        yield stack
