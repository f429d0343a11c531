"""Engine-faithful tests: the real provider host (``python -m pulumi.dynamic``) over gRPC,
against ``fake-elb serve``. These catch what unit tests cannot: unpickling in the host,
config reaching ``configure()``, floats on the wire, secrets in state."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_elb import DEFAULT_TOKEN, ServerControl
from fake_elb.harness import (
    CheckFailed,
    DynamicResource,
    HarnessError,
    OfflineStack,
    decoded_provider,
)
from otc_elb_listener.listener import TYPE_TOKEN, ListenerProvider
from tests.conftest import PROJECT, Api

ROOT = Path(__file__).resolve().parent.parent
PROVIDER = ListenerProvider()


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
    assert refreshed.ops() == {"web": "refresh"} and "port" in refreshed.steps[0].changed
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
    assert stack.destroy().ops() == {"kept": "delete", "web": "delete"}
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


def test_a_host_that_cannot_start_fails_clearly() -> None:
    with pytest.raises(HarnessError, match="did not start"):
        OfflineStack(env={"PYTHONPATH": "/nonexistent", "PYTHONHOME": "/nonexistent"},
                     startup_timeout=20).__enter__()


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
