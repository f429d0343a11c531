"""The ``Listener`` resource as a Pulumi program sees it (under mocks: no provider code runs)."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from otc_elb_listener import Listener, ListenerArgs
from otc_elb_listener.listener import OUTPUT_ONLY


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        return {}, []


MOCKS = RecordingMocks()


@pytest.fixture(autouse=True)
def _mocks() -> None:
    """Our mocks for each test (other tests install their own), on an open event loop (an
    ``asyncio.run()`` in an earlier test leaves the thread without one)."""
    import asyncio

    from pulumi.runtime import settings

    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        asyncio.set_event_loop(asyncio.new_event_loop())

    settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi.runtime.set_mocks(MOCKS, preview=False)


@pulumi.runtime.test
def test_listener_registers_the_dynamic_type_with_its_inputs() -> Any:
    listener = Listener("web", ListenerArgs(loadbalancer_id="a" * 32, protocol="HTTP",
                                            backend_protocol="HTTP", port=80, backend_port=8080,
                                            lb_algorithm="roundrobin", name="web"))

    def check(values: list[Any]) -> None:
        port, name = values
        assert (port, name) == (80, "web")
        registered = next(r for r in MOCKS.resources if r.name == "web")
        assert registered.typ == "pulumi-python:dynamic/elb:Listener"
        assert "__provider" in registered.inputs

    return pulumi.Output.all(listener.port, listener.name).apply(check)


def _source_annotations(cls: type) -> dict[str, str]:
    """The output annotations a type checker reads in the sources of the class and the
    package's classes it is made from (at run time the class keeps only those the SDK acts
    on: :func:`otc_elb_listener.resource.lean_outputs`)."""
    import ast
    import inspect
    import textwrap

    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not klass.__module__.startswith("otc_elb_listener."):
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        found.update({node.target.id: ast.unparse(node.annotation) for node in ast.walk(tree)
                      if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                      and not node.target.id.startswith("_")})
    return found


def test_every_response_field_is_an_output_attribute() -> None:
    annotated = _source_annotations(Listener)
    for name in ("status", "create_time", "update_time", "admin_state_up", "healthcheck_id",
                 "listener_id", "member_number", "tcp_timeout", "certificates"):
        assert name in annotated
    assert set(OUTPUT_ONLY) <= set(annotated)


@pytest.mark.parametrize("kind", ["Listener", "HealthCheck", "Member", "Certificate"])
def test_every_integer_output_keeps_its_runtime_annotation(kind: str) -> None:
    """The run-time annotations are exactly the source's integer outputs: what turns the
    engine's floats back into ``int`` in a program."""
    import otc_elb_listener

    cls = getattr(otc_elb_listener, kind)
    integers = {name for name, hint in _source_annotations(cls).items()
                if "int" in hint.replace("[", " ").replace("]", " ").replace("|", " ").split()}
    assert set(cls.__annotations__) == integers


@pulumi.runtime.test
def test_integer_outputs_come_back_as_integers() -> Any:
    """The engine sends every number as a float; a program reads ``port`` as an ``int``."""

    class FloatMocks(RecordingMocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs
                         ) -> tuple[str, dict[str, Any]]:
            return f"{args.name}-id", {k: float(v) if type(v) is int else v
                                       for k, v in args.inputs.items()}

    pulumi.runtime.set_mocks(FloatMocks(), preview=False)
    listener = Listener("floats", ListenerArgs(loadbalancer_id="c" * 32, protocol="TCP",
                                               backend_protocol="TCP", port=81,
                                               backend_port=82, lb_algorithm="source",
                                               name="floats", tcp_timeout=5))

    def check(values: list[Any]) -> None:
        assert values == [81, 82, 5] and all(type(v) is int for v in values), values

    return pulumi.Output.all(listener.port, listener.backend_port,
                             listener.tcp_timeout).apply(check)


@pulumi.runtime.test
def test_keyword_arguments_work() -> Any:
    listener = Listener("kw", loadbalancer_id="a" * 32, protocol="TCP", backend_protocol="TCP",
                        port=81, backend_port=81, lb_algorithm="source", name="kw")
    return listener.protocol.apply(lambda protocol: _equal(protocol, "TCP"))


def _equal(got: Any, wanted: Any) -> None:
    assert got == wanted


def test_typos_are_refused() -> None:
    with pytest.raises(TypeError, match=r"unknown input.*prot\b"):
        Listener("typo", prot="TCP")


def test_many_listeners_in_one_process_do_not_exhaust_the_pickler() -> None:
    """The SDK's serialize_provider wraps pickle's _batch_setitems once more on every call and
    never unwraps it: a few hundred dynamic resources in one process ended in RecursionError
    (found by the real-CLI benchmark at 100 listeners). A Listener leaves the pickler as it
    found it."""
    import pickle

    import pulumi

    from otc_elb_listener import Listener, ListenerArgs

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:  # type: ignore[type-arg]
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list]:  # type: ignore[type-arg]
            return {}, []

    pulumi.runtime.set_mocks(Mocks(), preview=False)
    before = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]
    for i in range(1200):
        Listener(f"l{i}", ListenerArgs(port=80))
    assert pickle._Pickler._batch_setitems is before  # type: ignore[attr-defined]


@pulumi.runtime.test
def test_a_provider_through_opts_works_like_the_keyword() -> Any:
    """``opts=ResourceOptions(provider=ListenerProvider(...))``, Pulumi's usual way, is the
    keyword ``provider=``: the provider's target reaches the registered ``__provider``."""
    from otc_elb_listener import ListenerProvider

    nl = ListenerProvider(region="eu-nl")
    listener = Listener("nl", ListenerArgs(loadbalancer_id="b" * 32, protocol="HTTP",
                                           backend_protocol="HTTP", port=80,
                                           backend_port=8080, lb_algorithm="roundrobin",
                                           name="nl"),
                        opts=pulumi.ResourceOptions(provider=nl, protect=False))

    def check(_: Any) -> None:
        import base64

        import dill  # type: ignore[import-untyped]

        registered = next(r for r in MOCKS.resources if r.name == "nl")
        blob = registered.inputs["__provider"]
        blob = blob.get("value", blob) if isinstance(blob, dict) else blob  # a secret
        provider = dill.loads(base64.b64decode(blob))
        assert provider.target == {"region": "eu-nl"}

    return listener.port.apply(check)


def test_two_different_providers_are_refused() -> None:
    from otc_elb_listener import ListenerProvider

    with pytest.raises(TypeError, match="two providers"):
        Listener("x", provider=ListenerProvider(), opts=pulumi.ResourceOptions(
            provider=ListenerProvider()))
