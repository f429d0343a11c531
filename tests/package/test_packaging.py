"""What a user's virtualenv sees of this project: the import name pickled into state, a pytest
plugin that disturbs nobody, and a provider that needs no test extras."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import dill  # type: ignore[import-untyped]
import pytest

from fake_elb import EXTRA_MODULES
from otc_elb_listener import ListenerProvider, RetrySettings
from tests.support import run_pytest

#: The modules the [fake] extra brings; the provider must work without any of them.
FAKE_EXTRA = EXTRA_MODULES


def _without_fake_extra(tmp_path: Path) -> dict[str, str]:
    """An environment in which the [fake] extra's packages cannot be imported, as after a
    plain ``pip install otc-elb-listener`` (a ``sitecustomize`` refuses them)."""
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(textwrap.dedent(f"""
        import sys
        class _Refuse:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {FAKE_EXTRA!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                return None
        sys.meta_path.insert(0, _Refuse())
    """))
    return {"PYTHONPATH": str(blocker), "PATH": str(Path(sys.executable).parent)}


def test_the_pickled_provider_names_the_public_import_path() -> None:
    """The provider is pickled into every user's state by module path: it can never change."""
    blob = dill.dumps(ListenerProvider(retry=RetrySettings(retries=2)), recurse=True)
    assert b"otc_elb_listener.listener" in blob
    assert b"otc_elb_listener.settings" in blob
    assert b"provider.listener" not in blob.replace(b"otc_elb_listener.listener", b"")
    assert type(dill.loads(blob)).__module__ == "otc_elb_listener.listener"


def test_the_provider_imports_and_checks_without_the_fake_extra(tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import sys
        from otc_elb_listener import ListenerProvider
        result = ListenerProvider().check({{}}, {{"port": 70000.0}})
        assert any(f.property == "port" for f in result.failures), result.failures
        import fake_elb.pytest_plugin  # the plugin loads in every pytest run
        assert not set({FAKE_EXTRA!r}) & set(sys.modules)
        try:
            import responses
        except ModuleNotFoundError:
            pass
        else:
            raise AssertionError("the blocker did not work")
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, cwd=tmp_path,
                   env=_without_fake_extra(tmp_path))


def test_a_fixture_without_the_fake_extra_names_the_extra_to_install(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text("def test_it(fake_elb):\n    pass\n")
    result = run_pytest(tmp_path, "test_user.py", env=_without_fake_extra(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "pip install 'otc-elb-listener[fake]'" in result.stdout


def test_a_user_project_with_its_own_provider_folder_runs_its_tests(tmp_path: Path) -> None:
    """Our plugin imports nothing of ours until a fixture is used, and nothing of ours is
    called ``provider``: a user's ``provider/`` package shadows nothing."""
    (tmp_path / "provider").mkdir()
    (tmp_path / "provider" / "__init__.py").write_text("MINE = True\n")
    (tmp_path / "test_mine.py").write_text(textwrap.dedent("""
        import provider

        def test_my_own_provider_package():
            assert provider.MINE

        def test_the_fake_works_beside_it(fake_elb):
            lb = fake_elb.add_loadbalancer("0a1b2c3d4e5f60718293a4b5c6d7e8f9")
            assert len(lb["id"]) == 32
    """))
    result = run_pytest(tmp_path, "test_mine.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_a_users_first_test_is_three_lines_with_offline_stack(tmp_path: Path) -> None:
    """A user's Pulumi project (its own Pulumi.yaml and program) tested with the installed
    fixture, nothing else; run by the real CLI here, on a copy of the folder."""
    root = Path(__file__).resolve().parents[2]
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((root / name).read_text())
    (tmp_path / "test_program.py").write_text(textwrap.dedent("""
        def test_my_program(offline_stack):
            plan = offline_stack.run_program("__main__.py", config={
                "loadbalancerId": offline_stack.loadbalancer_id})
            assert plan.ops() == {"web": "create"}
            assert [e["method"] for e in offline_stack.fake.requests] == ["POST"]
            print("ENGINE", offline_stack.engine)
    """))
    result = run_pytest(tmp_path, "test_program.py", "-s", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "ENGINE cli" in result.stdout  # the real CLI is the default engine


def test_offline_stack_never_reads_the_users_dev_stack(tmp_path: Path) -> None:
    """After the README's sign-in recipe (a secret elb:password in Pulumi.dev.yaml) and with
    plain values there (a port), an offline test still runs, with only its own config, and
    nothing is written into the user's folder."""
    root = Path(__file__).resolve().parents[2]
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((root / name).read_text())
    (tmp_path / "Pulumi.dev.yaml").write_text(textwrap.dedent("""
        encryptionsalt: v1:c2FsdA==:v1:aXY=:dGFn
        config:
          elb:password:
            secure: v1:AAAAAAAAAAAAAAAA:BBBBBBBBBBBBBBBBBBBBBBBB
          elb-listener-example:port: "9999"
          elb:endpoint: https://elb.eu-de.otc.t-systems.com
    """))
    (tmp_path / "test_program.py").write_text(textwrap.dedent("""
        import pytest

        @pytest.mark.parametrize("engine", [
            "cli", pytest.param("inprocess", marks=pytest.mark.fake_elb(engine="inprocess"))])
        def test_my_program(engine, offline_stack):
            assert offline_stack.engine == engine
            plan = offline_stack.run_program("__main__.py", config={
                "loadbalancerId": offline_stack.loadbalancer_id})
            assert plan.ops() == {"web": "create"}
            posted = [e for e in offline_stack.fake.requests if e["method"] == "POST"]
            assert posted[0]["body"]["port"] == 80  # not the dev stack's 9999
    """))
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_pytest(tmp_path, "test_program.py", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir() if p.name not in (
        ".pytest_cache", "__pycache__")) == before


def test_every_installed_fixture_has_a_docstring(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, "--fixtures")
    section = result.stdout.split("fake_elb.pytest_plugin")[1]
    for fixture in ("fake_elb", "fake_elb_server", "offline_stack"):
        block = section.split(f"\n{fixture} ")[1].split("\n\n")[0]
        assert "no docstring" not in block and len(block.splitlines()) >= 2, block


def test_a_failing_user_test_leaves_no_asyncio_noise(tmp_path: Path) -> None:
    """A user's failing program tests (a rule broken at preview, an API error at up), a unit
    test under Pulumi's own mocks, an async test, and passing ones, in one process, in both
    engines: pytest's report, and not one line of "Task was destroyed" or "Future exception
    was never retrieved"."""
    root = Path(__file__).resolve().parents[2]
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((root / name).read_text())
    (tmp_path / "test_program.py").write_text(textwrap.dedent("""
        import pytest

        ENGINES = ["cli", pytest.param("inprocess", marks=pytest.mark.fake_elb(
            engine="inprocess"))]

        import pulumi

        class Mocks(pulumi.runtime.Mocks):
            def new_resource(self, args):
                return f"{args.name}-id", dict(args.inputs)

            def call(self, args):
                return {}, []

        @pulumi.runtime.test
        def test_a_unit_test_under_pulumis_own_mocks():
            from otc_elb_listener import Listener

            pulumi.runtime.set_mocks(Mocks(), preview=False)
            listener = Listener("unit", loadbalancer_id="a" * 32, protocol="HTTP",
                                backend_protocol="HTTP", port=80, backend_port=8080,
                                lb_algorithm="roundrobin", name="unit")
            return listener.port.apply(lambda port: None)

        def test_an_async_test_in_between():
            import asyncio

            async def nothing():
                return 1

            assert asyncio.run(nothing()) == 1

        @pytest.mark.parametrize("engine", ENGINES)
        def test_passes(engine, offline_stack):
            offline_stack.run_program("__main__.py", config={
                "loadbalancerId": offline_stack.loadbalancer_id})

        @pytest.mark.parametrize("engine", ENGINES)
        def test_fails(engine, offline_stack):
            offline_stack.run_program("__main__.py", config={
                "loadbalancerId": offline_stack.loadbalancer_id, "port": 70000})

        @pytest.mark.parametrize("engine", ENGINES)
        def test_fails_at_up(engine, offline_stack):
            offline_stack.fake.faults.add(operation="create", status=409, code="ELB.1001")
            offline_stack.run_program("__main__.py", config={
                "loadbalancerId": offline_stack.loadbalancer_id})

        @pytest.mark.parametrize("engine", ENGINES)
        def test_passes_after(engine, offline_stack):
            offline_stack.run_program("__main__.py", config={
                "loadbalancerId": offline_stack.loadbalancer_id}, preview=True)
    """))
    result = run_pytest(tmp_path, "test_program.py", timeout=300)
    output = result.stdout + result.stderr
    assert "4 failed, 6 passed" in result.stdout, output
    assert "port" in result.stdout
    noise = [line for line in output.splitlines() if any(text in line for text in (
        "Task was destroyed", "Future exception was never retrieved", "was never awaited"))]
    assert noise == [], noise[:5]


def test_our_own_suite_mix_leaves_no_asyncio_noise() -> None:
    """The mix that printed tens of thousands of "Task was destroyed but it is pending!"
    lines in ``python3 dev.py test``: unit tests under Pulumi's mocks, then an
    ``asyncio.run()`` in the same thread, then a program through the in-process engine."""
    root = Path(__file__).resolve().parents[2]
    result = run_pytest(root, "tests/listener/test_resource.py", "-k", "not many_listeners and not "
                        "provider_through_opts",  # the slow ones add no new mix
                        "tests/fake/test_server_conformance.py::"
                        "test_the_server_starts_inside_a_running_event_loop",
                        "tests/engines/test_inprocess.py::test_the_example_program_creates_then_updates",
                        timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    noise = [line for line in output.splitlines() if any(text in line for text in (
        "Task was destroyed", "Future exception was never retrieved", "was never awaited"))]
    assert noise == [], f"{len(noise)} lines, first: {noise[:3]}"


@pytest.mark.parametrize(("package", "where", "target"), [
    (False, ".", "tests/test_program.py"),  # rootdir became tests/: no Pulumi.yaml there
    (True, ".", "tests/test_program.py"),
    (False, "tests", "test_program.py"),  # from a subfolder
])
def test_offline_stack_finds_the_program_folder_as_the_cli_does(
        tmp_path: Path, package: bool, where: str, target: str) -> None:
    """``pytest tests/test_x.py`` ran the in-process engine in silence (pytest's rootdir had
    no Pulumi.yaml), which then refused ``protect``; an inline function was refused by the
    CLI engine on a program folder; ``preview("__main__.py")`` looked like a program run."""
    root = Path(__file__).resolve().parents[2]
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((root / name).read_text())
    (tmp_path / "tests").mkdir()
    if package:
        (tmp_path / "tests" / "__init__.py").write_text("")
    (tmp_path / "tests" / "test_program.py").write_text(textwrap.dedent("""
        import pulumi
        import pytest

        from fake_elb import HarnessError
        from otc_elb_listener import Listener, ListenerArgs

        def test_my_program(offline_stack):
            assert offline_stack.engine == "cli"
            plan = offline_stack.run_program("__main__.py", config={
                "loadbalancerId": offline_stack.loadbalancer_id})
            assert plan.ops() == {"web": "create"}
            lb = offline_stack.loadbalancer_id

            def inline():
                Listener("web", ListenerArgs(
                    loadbalancer_id=lb, protocol="HTTP", backend_protocol="HTTP", port=80,
                    backend_port=8080, lb_algorithm="roundrobin", name="web",
                    description="managed by Pulumi"),
                    opts=pulumi.ResourceOptions(protect=True))

            assert offline_stack.run_program(inline, preview=True).ops() == {"web": "same"}
            with pytest.raises(HarnessError, match=r"run_program\\(program, preview=True\\)"):
                offline_stack.preview("__main__.py")
    """))
    result = run_pytest(tmp_path / where, target, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
