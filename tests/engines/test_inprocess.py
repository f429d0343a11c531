"""Engine-faithful tests: the real provider host (``python -m pulumi.dynamic``) over gRPC,
against ``fake-elb serve``. These catch what unit tests cannot: unpickling in the host,
config reaching ``configure()``, floats on the wire, secrets in state."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_elb import DEFAULT_TOKEN, ServerControl
from fake_elb.engine import (
    CheckFailed,
    DynamicResource,
    HarnessError,
    OfflineStack,
    decoded_provider,
)
from otc_elb_listener.listener import TYPE_TOKEN, ListenerProvider
from tests.support import PROJECT, Api

ROOT = Path(__file__).resolve().parents[2]
PROVIDER = ListenerProvider()
#: The provider is proven never to send a field the service would ignore.
pytestmark = pytest.mark.fake_elb(strict=True)


@pytest.fixture
def fake(fake_elb_server: ServerControl) -> ServerControl:
    return fake_elb_server


@pytest.fixture
def lb(fake: ServerControl) -> str:
    return str(fake.add_loadbalancer(PROJECT)["id"])


@pytest.fixture
def stack(fake: ServerControl) -> Iterator[OfflineStack]:
    with OfflineStack(config={"elb:endpoint": fake.url, "elb:projectId": PROJECT},
                      secrets={"elb:token": DEFAULT_TOKEN}, project="elb-listener-example",
                      cwd=ROOT) as offline:
        yield offline


def web(lb: str, resource: str = "web", **changes: Any) -> DynamicResource:
    inputs: dict[str, Any] = {"name": "web", "loadbalancer_id": lb, "protocol": "HTTP",
                              "backend_protocol": "HTTP", "port": 80, "backend_port": 8080,
                              "lb_algorithm": "roundrobin"}
    inputs.update(changes)
    return DynamicResource(resource, PROVIDER, inputs, TYPE_TOKEN)


def calls_since(fake: ServerControl, mark: int) -> list[tuple[str, Any]]:
    return [(e["method"], e["body"]) for e in fake.requests[mark:]]


def test_create_is_one_post(stack: OfflineStack, fake: ServerControl, lb: str) -> None:
    plan = stack.up([web(lb)])
    assert plan.ops() == {"web": "create"}
    journal = fake.requests
    assert [e["method"] for e in journal] == ["POST"]
    assert type(journal[0]["body"]["port"]) is int  # floats from the engine became integers
    outputs = stack.state["web"].outputs
    assert outputs["status"] == "ACTIVE" and stack.state["web"].id == outputs["listener_id"]


def test_no_change_preview_and_up_make_no_call(stack: OfflineStack, fake: ServerControl,
                                               lb: str) -> None:
    stack.up([web(lb)])
    mark = len(fake.requests)
    assert stack.preview([web(lb)]).ops() == {"web": "same"}
    assert stack.up([web(lb)]).ops() == {"web": "same"}
    assert calls_since(fake, mark) == []


def test_preview_never_creates_or_updates(stack: OfflineStack, fake: ServerControl,
                                          lb: str) -> None:
    assert stack.preview([web(lb)]).ops() == {"web": "create"}
    assert fake.requests == [] and stack.state == {}
    stack.up([web(lb)])
    mark = len(fake.requests)
    from pulumi.output import Unknown
    plan = stack.preview([web(lb, port=81), web(lb, "other", port=Unknown())])
    assert plan.ops() == {"web": "update", "other": "create"}
    assert calls_since(fake, mark) == []


def test_port_change_is_one_put_of_the_port(stack: OfflineStack, fake: ServerControl,
                                            lb: str) -> None:
    stack.up([web(lb)])
    mark = len(fake.requests)
    plan = stack.up([web(lb, port=8081)])
    assert plan.ops() == {"web": "update"} and plan.steps[0].changed == ["port"]
    assert calls_since(fake, mark) == [("PUT", {"port": 8081})]
    assert type(fake.requests[-1]["body"]["port"]) is int
    assert stack.state["web"].outputs["port"] == 8081


def test_explicit_empty_and_false_are_sent(stack: OfflineStack, fake: ServerControl,
                                           lb: str) -> None:
    tcp = {"protocol": "TCP", "backend_protocol": "TCP"}
    stack.up([web(lb, description="old", tcp_draining=True, **tcp)])
    mark = len(fake.requests)
    stack.up([web(lb, description="", tcp_draining=False, **tcp)])
    assert calls_since(fake, mark) == [("PUT", {"description": "", "tcp_draining": False})]


def test_check_failures_name_the_property(stack: OfflineStack, fake: ServerControl,
                                          lb: str) -> None:
    with pytest.raises(CheckFailed) as caught:
        stack.up([web(lb, port=70000, tcp_timeout=5)])
    assert [p for p, _ in caught.value.failures] == ["port", "tcp_timeout"]
    assert "from 1 to 65535" in str(caught.value)
    assert fake.requests == []


def test_refresh_finds_drift_and_one_put_repairs_it(stack: OfflineStack, fake: ServerControl,
                                                    lb: str) -> None:
    stack.up([web(lb)])
    listener_id = stack.state["web"].id
    Api(fake.url).put(listener_id, {"port": 9999})
    mark = len(fake.requests)
    refreshed = stack.refresh()
    assert [(s.op, s.changed) for s in refreshed.steps] == [("update", ["port"])]
    assert stack.preview([web(lb)]).steps[0].changed == ["port"]
    stack.up([web(lb)])
    assert calls_since(fake, mark) == [("GET", None), ("PUT", {"port": 80})]
    assert Api(fake.url).get(listener_id).json()["port"] == 80


def test_protocol_change_replaces_create_first(stack: OfflineStack, fake: ServerControl,
                                               lb: str) -> None:
    stack.up([web(lb)])
    old_id = stack.state["web"].id
    mark = len(fake.requests)
    plan = stack.up([web(lb, protocol="TCP", backend_protocol="TCP", port=81)])
    assert plan.ops() == {"web": "replace"}
    assert sorted(plan.steps[0].replaces) == ["backend_protocol", "protocol"]
    assert [(e["method"], e["status"]) for e in fake.requests[mark:]] == [("POST", 200),
                                                                          ("DELETE", 204)]
    assert fake.requests[-1]["path"].endswith(old_id)
    assert stack.state["web"].id != old_id


def test_replace_on_the_same_port_deletes_first(stack: OfflineStack, fake: ServerControl,
                                                lb: str) -> None:
    stack.up([web(lb)])
    mark = len(fake.requests)
    plan = stack.up([web(lb, protocol="TCP", backend_protocol="TCP")])
    assert plan.steps[0].delete_before_replace is True
    assert [(e["method"], e["status"]) for e in fake.requests[mark:]] == [("DELETE", 204),
                                                                          ("POST", 200)]


def test_out_of_band_delete_is_dropped_by_refresh(stack: OfflineStack, fake: ServerControl,
                                                  lb: str) -> None:
    stack.up([web(lb)])
    Api(fake.url).delete(stack.state["web"].id)
    assert stack.refresh().ops() == {"web": "delete"}
    assert stack.state == {}
    assert stack.up([web(lb)]).ops() == {"web": "create"}


def test_destroy_is_one_delete_and_retain_keeps_the_listener(
        stack: OfflineStack, fake: ServerControl, lb: str) -> None:
    kept = web(lb, "kept", port=81, name="kept")
    kept.retain_on_delete = True
    stack.up([web(lb), kept])
    mark = len(fake.requests)
    assert stack.destroy().ops() == {"kept": "retain", "web": "delete"}
    assert [e["method"] for e in fake.requests[mark:]] == ["DELETE"]
    assert [x["name"] for x in Api(fake.url).list().json()] == ["kept"]


def test_the_token_is_neither_in_the_provider_nor_in_outputs(stack: OfflineStack,
                                                              lb: str) -> None:
    stack.up([web(lb)])
    state = stack.state["web"]
    assert DEFAULT_TOKEN.encode() not in decoded_provider(state.inputs["__provider"])
    assert DEFAULT_TOKEN not in json.dumps({k: v for k, v in state.outputs.items()
                                            if k != "__provider"})
    assert DEFAULT_TOKEN not in json.dumps(state.inputs)


def test_the_example_program_creates_then_updates(stack: OfflineStack, fake: ServerControl,
                                                  lb: str) -> None:
    first = stack.run_program(ROOT / "__main__.py", config={"loadbalancerId": lb})
    assert first.ops() == {"web": "create"}
    assert first.outputs["status"] == "ACTIVE" and first.outputs["port"] == 80
    mark = len(fake.requests)
    second = stack.run_program(ROOT / "__main__.py", config={"loadbalancerId": lb,
                                                             "port": 8081})
    assert second.ops() == {"web": "update"} and second.steps[0].changed == ["port"]
    assert calls_since(fake, mark) == [("PUT", {"port": 8081})]
    assert second.outputs["port"] == 8081
    assert second.outputs["listener_id"] == first.outputs["listener_id"]


def test_a_program_runs_after_asyncio_run_in_the_same_thread(stack: OfflineStack,
                                                              lb: str) -> None:
    """A user's async test (or pytest-asyncio) leaves the thread with no event loop, or a
    closed one: the program failed with "There is no current event loop"."""
    async def nothing() -> None:
        return None

    asyncio.run(nothing())
    first = stack.run_program(ROOT / "__main__.py", config={"loadbalancerId": lb})
    assert first.ops() == {"web": "create"}
    closed = asyncio.new_event_loop()
    closed.close()
    asyncio.set_event_loop(closed)
    second = stack.run_program(ROOT / "__main__.py", config={"loadbalancerId": lb,
                                                             "port": 8081})
    assert second.ops() == {"web": "update"}


def test_missing_config_is_reported_by_the_host(fake: ServerControl, lb: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OS_AUTH_TOKEN", raising=False)
    with OfflineStack(config={"elb:endpoint": fake.url, "elb:projectId": PROJECT},
                      cwd=ROOT) as offline:
        assert offline.preview([web(lb)]).ops() == {"web": "create"}  # no credentials needed
        with pytest.raises(HarnessError, match="elb:token"):
            offline.up([web(lb)])


def test_a_provider_the_host_cannot_import_fails_clearly(tmp_path: Path, lb: str) -> None:
    module = tmp_path / "elsewhere_provider.py"
    module.write_text("import pulumi.dynamic as d\n"
                      "class Elsewhere(d.ResourceProvider):\n"
                      "    def create(self, props):\n"
                      "        return d.CreateResult('x', props)\n")
    sys.path.insert(0, str(tmp_path))
    try:
        from elsewhere_provider import Elsewhere  # type: ignore[import-not-found]

        with OfflineStack(cwd=ROOT) as offline, pytest.raises(HarnessError,
                                                              match="could not load"):
            offline.up([DynamicResource("x", Elsewhere(), {"a": 1})])
    finally:
        sys.path.remove(str(tmp_path))


def test_a_host_that_cannot_start_fails_clearly(lb: str) -> None:
    with pytest.raises(HarnessError, match="did not start"), OfflineStack(
            env={"PYTHONPATH": "/nonexistent", "PYTHONHOME": "/nonexistent"},
            startup_timeout=20) as offline:
        offline.preview([web(lb)])


def test_a_function_program_and_a_resource_dropped_from_it(
        stack: OfflineStack, fake: ServerControl, lb: str) -> None:
    import pulumi

    from otc_elb_listener import Listener, ListenerArgs

    def program(names: list[str]) -> Any:
        def body() -> None:
            for i, name in enumerate(names):
                listener = Listener(name, ListenerArgs(
                    loadbalancer_id=lb, protocol="TCP", backend_protocol="TCP", port=100 + i,
                    backend_port=80, lb_algorithm="roundrobin", name=name))
                pulumi.export(f"{name}_port", listener.port)
        return body

    first = stack.run_program(program(["a", "b"]))
    assert first.ops() == {"a": "create", "b": "create"}
    assert first.outputs == {"a_port": 100, "b_port": 101}
    mark = len(fake.requests)
    second = stack.run_program(program(["a"]))
    assert second.ops() == {"a": "same", "b": "delete"}
    assert [e["method"] for e in fake.requests[mark:]] == ["DELETE"]
    assert [x["name"] for x in Api(fake.url).list().json()] == ["a"]


# -- the in-process engine as a user's test tool ------------------------------------------------
def test_a_failed_run_does_not_leak_into_the_next(stack: OfflineStack, fake: ServerControl,
                                                  lb: str,
                                                  capfd: pytest.CaptureFixture[str]) -> None:
    from otc_elb_listener import Listener, ListenerArgs

    def program(port: int) -> Any:
        def body() -> None:
            Listener("web", ListenerArgs(loadbalancer_id=lb, protocol="HTTP",
                                         backend_protocol="HTTP", port=port, backend_port=80,
                                         lb_algorithm="roundrobin", name="web"))
        return body

    with pytest.raises(CheckFailed, match="port"):
        stack.run_program(program(70000), preview=True)
    assert stack.run_program(program(80)).ops() == {"web": "create"}
    import gc

    gc.collect()  # the failed run's futures are collected: no warning about them
    assert "never retrieved" not in capfd.readouterr().err


def test_the_host_gets_no_cloud_credentials_or_proxies(
        fake: ServerControl, lb: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A token in the shell must not make an offline test pass (or reach a real cloud)."""
    monkeypatch.setenv("OS_AUTH_TOKEN", DEFAULT_TOKEN)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    with OfflineStack(config={"elb:endpoint": fake.url, "elb:projectId": PROJECT},
                      cwd=ROOT) as offline, pytest.raises(HarnessError, match="elb:token"):
        offline.up([web(lb)])
    with OfflineStack(config={"elb:endpoint": fake.url, "elb:projectId": PROJECT},
                      secrets={"elb:token": DEFAULT_TOKEN}, cwd=ROOT) as offline:
        assert offline.up([web(lb)]).ops() == {"web": "create"}  # loopback, never proxied


@pytest.mark.parametrize("config", [
    {"elb:endpoint": "https://elb.eu-de.otc.t-systems.com"},
    {"elb:region": "eu-de"},
])
def test_a_real_cloud_endpoint_is_refused_unless_allowed(config: dict[str, str]) -> None:
    with pytest.raises(HarnessError, match="real cloud"):
        OfflineStack(config=config)
    OfflineStack(config=config, allow_remote=True)  # told to: no refusal


def test_other_providers_resources_are_answered_by_the_hook(
        fake: ServerControl, lb: str) -> None:
    """A program that makes its load balancer with another provider: the test supplies it."""
    import pulumi

    from otc_elb_listener import Listener, ListenerArgs

    seen: list[tuple[str, str]] = []

    def answer(type_: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        seen.append((type_, name))
        return lb, {**inputs, "vip_address": "192.0.2.10"}

    def program() -> None:
        balancer = pulumi.CustomResource("opentelekomcloud:Elb/loadbalancer:Loadbalancer",
                                         "lb", {"name": "lb"})
        Listener("web", ListenerArgs(loadbalancer_id=balancer.id, protocol="HTTP",
                                     backend_protocol="HTTP", port=80, backend_port=80,
                                     lb_algorithm="roundrobin", name="web"))

    with OfflineStack(config={"elb:endpoint": fake.url, "elb:projectId": PROJECT},
                      secrets={"elb:token": DEFAULT_TOKEN}, cwd=ROOT,
                      other_resources=answer) as offline:
        assert offline.run_program(program).ops() == {"web": "create"}
    assert ("opentelekomcloud:Elb/loadbalancer:Loadbalancer", "lb") in seen
    assert fake.requests[-1]["body"]["loadbalancer_id"] == lb


def test_the_stack_file_gives_the_program_config(tmp_path: Path, fake: ServerControl,
                                                 lb: str) -> None:
    (tmp_path / "Pulumi.staging.yaml").write_text(
        f"config:\n  elb:endpoint: {fake.url}\n  elb:projectId: {PROJECT}\n"
        f"  project:port: 8443\n")

    def program() -> None:
        import pulumi

        pulumi.export("port", pulumi.Config().require_int("port"))

    with OfflineStack(stack="staging", cwd=tmp_path, pythonpath=[ROOT]) as offline:
        assert offline.config["elb:endpoint"] == fake.url
        assert offline.run_program(program, preview=True).outputs == {"port": 8443}


def test_a_failed_create_first_delete_stays_pending_and_is_retried(
        stack: OfflineStack, fake: ServerControl, lb: str) -> None:
    stack.up([web(lb)])
    old_id = stack.state["web"].id
    fake.faults.add(method="DELETE", action="status", status=400, times=1)
    with pytest.raises(HarnessError, match="delete web"):
        stack.up([web(lb, protocol="TCP", backend_protocol="TCP", port=81)])
    assert [name for name, _ in stack.pending_deletes] == ["web"]
    assert stack.state["web"].id != old_id  # the replacement is the stack's now
    mark = len(fake.requests)
    assert stack.up([web(lb, protocol="TCP", backend_protocol="TCP", port=81)]).ops() == {
        "web": "same"}
    assert [(e["method"], e["path"].rsplit("/", 1)[1]) for e in fake.requests[mark:]] == [
        ("DELETE", old_id)]
    assert stack.pending_deletes == []
