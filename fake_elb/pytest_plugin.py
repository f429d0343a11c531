"""pytest fixtures for the fake ELB, registered through the ``pytest11`` entry point.

This module is loaded in every pytest run of a virtualenv that has the project installed, so
it imports nothing of ours (and nothing heavy) until a fixture is used: a user's own
``provider/`` folder, or a missing ``[fake]`` extra, never disturbs unrelated tests.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .transport.client import ServerControl
    from .transport.inprocess import MockElb

#: The project the ``offline_stack`` fixture signs in to.
OFFLINE_PROJECT_ID = "0123456789abcdef0123456789abcdef"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fake_elb(strict=True, token_ttl=SECONDS, engine='inprocess'): the fake_elb "
        "/ fake_elb_server / offline_stack fixtures of this test refuse fields that do not "
        "apply to a listener (the real service ignores them); token_ttl (fake_elb) sets the "
        "IAM token lifetime; engine='inprocess' runs offline_stack with the fast in-process "
        "engine instead of the real CLI")


def _strict(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("fake_elb")
    return bool(marker.kwargs.get("strict", False)) if marker is not None else False


def _token_ttl(request: pytest.FixtureRequest) -> float:
    marker = request.node.get_closest_marker("fake_elb")
    return float(marker.kwargs.get("token_ttl", 24 * 3600.0)) if marker else 24 * 3600.0


def _fake_module(name: str) -> Any:
    """Import ``fake_elb.<name>``, or fail the test with the extra to install."""
    from importlib import import_module

    try:
        return import_module(f"fake_elb.{name}")
    except ModuleNotFoundError as error:
        from fake_elb import EXTRA_HINT, EXTRA_MODULES

        if error.name in EXTRA_MODULES:
            pytest.fail(f"{EXTRA_HINT} (missing: {error.name})", pytrace=False)
        raise


@pytest.fixture
def fake_elb(request: pytest.FixtureRequest) -> Iterator[MockElb]:
    """An empty in-process fake ELB (``MockElb``) that answers ``requests`` calls to
    ``fake_elb.endpoint`` (``https://elb.fake-elb.invalid``); other hosts are refused.
    Seed it with ``add_loadbalancer(project_id)`` / ``add_certificate(project_id)``; assert on
    ``fake_elb.requests`` (the API calls it saw). Nothing runs in another process.
    ``@pytest.mark.fake_elb(strict=True)`` makes it refuse fields that do not apply;
    ``token_ttl=SECONDS`` sets the lifetime of the IAM tokens it issues (``add_user``)."""
    with _fake_module("transport.inprocess").mock_elb(strict=_strict(request),
                                            token_ttl=_token_ttl(request)) as elb:
        yield elb


@pytest.fixture(scope="session")
def _fake_elb_server_process() -> Iterator[ServerControl]:
    with _fake_module("transport.client").serve_in_subprocess() as control:
        yield control


@pytest.fixture
def fake_elb_server(_fake_elb_server_process: ServerControl,
                    request: pytest.FixtureRequest) -> ServerControl:
    """A real ``fake-elb serve`` process on 127.0.0.1 (shared by the session, emptied before
    each test), for code that runs in another process, such as the Pulumi provider host.
    ``.url`` is its endpoint; it has the same helpers as ``fake_elb`` (``add_loadbalancer``,
    ``requests``, ``faults``, ``reset``). ``@pytest.mark.fake_elb(strict=True)`` makes it
    refuse fields that do not apply."""
    _fake_elb_server_process.reset()
    if _strict(request):
        _fake_elb_server_process.set_strict(True)
    return _fake_elb_server_process


@pytest.fixture
def offline_stack(fake_elb_server: ServerControl,
                  request: pytest.FixtureRequest) -> Iterator[Any]:
    """Your Pulumi program folder (the nearest ``Pulumi.yaml`` from the test's folder upwards,
    as the CLI finds a project) against a fresh ``fake_elb_server``, run by the real
    ``pulumi`` CLI where there is one (the official CLI on PATH first): a temporary copy of
    the folder, an isolated stack and backend, only the config the test passes, the provider
    host on the Python that runs the tests. A function passed to ``run_program`` runs as the
    folder's program on the same stack. Without a CLI (or with
    ``@pytest.mark.fake_elb(engine="inprocess")``, the fast mode) the in-process engine runs
    it over the real provider host, and the reason is said in one line. The fake has one
    External load balancer, ``.loadbalancer_id``; the provider is configured with the
    fake's endpoint, ``.project_id`` and its token::

        def test_my_program(offline_stack):
            plan = offline_stack.run_program("__main__.py", config={
                "loadbalancerId": offline_stack.loadbalancer_id})
            assert plan.ops() == {"web": "create"}

    ``.fake`` is the server (``.fake.requests``: the API calls). ``.engine`` says which
    engine runs: ``"cli"`` or ``"inprocess"``."""
    root = program_folder(Path(str(request.node.fspath)).parent)
    config = {"elb:endpoint": fake_elb_server.url, "elb:projectId": OFFLINE_PROJECT_ID}
    secrets = {"elb:token": _fake_module("service.store").DEFAULT_TOKEN}
    stack = _cli_stack(request, root, config, secrets)
    if stack is not None:
        stack.engine = "cli"
    else:
        stack = _fake_module("engine.inprocess").OfflineStack(
            config=config, secrets=secrets, project=_project_name(root),
            cwd=root or Path.cwd(), use_stack_file=False)
        stack.engine = "inprocess"
    stack.fake = fake_elb_server
    stack.project_id = OFFLINE_PROJECT_ID
    stack.loadbalancer_id = fake_elb_server.add_loadbalancer(OFFLINE_PROJECT_ID)["id"]
    with stack:
        yield stack


def program_folder(start: Path) -> Path | None:
    """The program folder a test belongs to, found as the CLI finds a project: the nearest
    ``Pulumi.yaml`` from the test's own folder upwards (whatever pytest was given and
    wherever its root directory is), or ``None``."""
    for folder in (start, *start.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    return None


def _say(request: pytest.FixtureRequest, line: str) -> None:
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)


def _cli_stack(request: pytest.FixtureRequest, root: Path | None, config: dict[str, Any],
               secrets: dict[str, Any]) -> Any:
    """The CLI engine for ``offline_stack`` (on the program folder, or inline programs where
    there is none), or ``None``, said in one line: the test asked for the in-process engine,
    or there is no CLI."""
    marker = request.node.get_closest_marker("fake_elb")
    if marker is not None and marker.kwargs.get("engine") == "inprocess":
        _say(request, "offline_stack: the in-process engine, as "
                      "@pytest.mark.fake_elb(engine=\"inprocess\") asks")
        return None
    cli = _fake_module("engine.cli")
    locate = _fake_module("engine.locate")
    found = locate.find_cli()
    if found is None or locate.find_language_host(found) is None:
        missing = "no pulumi CLI" if found is None else \
            f"no Python language host beside {found}"
        _say(request, f"offline_stack: {missing}: running the program with the in-process "
                      f"engine ({locate.CLI_HINT})")
        return None
    if root is None:  # no program folder: functions and files run inline, by the CLI
        return cli.CliStack(config=config, secrets=secrets, cli=found, stack="offline")
    return cli.CliStack(config=config, secrets=secrets, cli=found, program_dir=root,
                        stack="offline")


def _project_name(root: Path | None) -> str:
    """The ``name:`` of ``Pulumi.yaml`` in ``root`` (config keys without a namespace use it)."""
    if root is not None and (root / "Pulumi.yaml").is_file():
        return str(_fake_module("engine.folder").project_name(root))
    return "project"


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Under Pulumi's mocks a failed registration leaves the SDK's futures holding an
    exception nobody retrieved; when the garbage collector finalizes them in the middle of a
    ``compile`` (pytest rewriting the next test module, a plugin importing one at session
    end), CPython 3.11 stops with ``SystemError: AST constructor recursion depth mismatch``.
    It happens with a plain ``pulumi.CustomResource`` too; once ``ElbMocks`` is in use, the
    garbage is collected here, between tests, where nothing is being compiled."""
    mocks = sys.modules.get("fake_elb.mocks")
    if mocks is not None and getattr(mocks, "in_use", False):
        import gc

        gc.collect()
