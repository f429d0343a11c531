"""ListenerProvider lifecycle against the in-process fake, asserting on the fake's journal:
exactly which requests each step makes (count, method, body)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.dynamic.config import Config
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown

from fake_elb import DEFAULT_TOKEN, MockElb, mock_elb
from otc_elb_listener import ElbApiError, ListenerProvider, RetrySettings
from otc_elb_listener.listener import ConfigError, resolve_settings
from tests.support import ENDPOINT, PROJECT, Api, api_body, configured, program

FAST = RetrySettings(backoff_factor=0, backoff_jitter=0)


@pytest.fixture
def elb() -> Iterator[MockElb]:
    # strict: the provider is proven never to send a field the service would ignore
    with mock_elb(ENDPOINT, strict=True) as fake:
        yield fake


@pytest.fixture
def lb(elb: MockElb) -> str:
    return str(elb.add_loadbalancer(PROJECT)["id"])


@pytest.fixture
def provider() -> ListenerProvider:
    return configured(ListenerProvider(retry=FAST))


def calls(elb: MockElb) -> list[tuple[str, Any]]:
    return [(entry["method"], entry["body"]) for entry in elb.requests]


# -- check ---------------------------------------------------------------------------------
def test_check_accepts_valid_inputs_and_makes_numbers_integers(
        provider: ListenerProvider, elb: MockElb, lb: str) -> None:
    result = provider.check({}, program(lb))
    assert result.failures == []
    assert result.inputs["port"] == 80 and type(result.inputs["port"]) is int
    assert result.inputs["__provider"] == "serialized"
    assert elb.requests == []


@pytest.mark.parametrize(("extra", "prop", "words"), [
    ({"port": 80.5}, "port", "JSON integer"),
    ({"port": 70000.0}, "port", "from 1 to 65535"),
    ({"tcp_timeout": 5.0}, "tcp_timeout", "only with protocol TCP"),
    ({"protocol": "TCP"}, "backend_protocol", "must be 'TCP' when protocol is 'TCP'"),
    ({"name": "a b"}, "name", "letters, digits"),
    ({"lb_algorithm": "fast"}, "lb_algorithm", "'roundrobin', 'leastconn', 'source'"),
    ({"protocol": "HTTPS"}, "certificate_id", "mandatory"),
    ({"session_sticky": True, "lb_algorithm": "source"}, "session_sticky", "roundrobin"),
    ({"colour": "red"}, None, None),  # not an input at all: ignored, as Pulumi never sends it
    ({"listener_id": "nope"}, "listener_id", "32 lowercase hex"),
])
def test_check_failures_name_the_property_and_rule(provider: ListenerProvider, elb: MockElb,
                                                   lb: str, extra: dict[str, Any],
                                                   prop: str | None, words: str | None) -> None:
    failures = provider.check({}, program(lb, **extra)).failures
    if prop is None:
        assert failures == []
    else:
        assert [f.property for f in failures] == [prop], [f.reason for f in failures]
        assert words is not None and words in failures[0].reason
    assert elb.requests == []


def test_check_requires_create_fields_unless_adopting(provider: ListenerProvider,
                                                     elb: MockElb) -> None:
    failures = provider.check({}, {"name": "web", "__provider": "x"}).failures
    assert {f.property for f in failures} == {"loadbalancer_id", "protocol", "backend_protocol",
                                              "port", "backend_port", "lb_algorithm"}
    assert all("mandatory" in f.reason for f in failures)
    missing = provider.check({}, {"listener_id": "a" * 32, "port": 8080.0, "__provider": "x"})
    assert [(f.property, f.reason) for f in missing.failures] == [
        ("listener_id", f"no listener {'a' * 32} in this project (HTTP 404)")]


def test_check_of_a_takeover_is_one_get_that_create_reuses(
        provider: ListenerProvider, elb: MockElb, lb: str,
        caplog: pytest.LogCaptureFixture) -> None:
    existing = Api(ENDPOINT).create(api_body(lb)).json()
    before = len(elb.requests)
    news = {"listener_id": existing["id"], "name": "new", "__provider": "x"}
    checked = provider.check({}, news)
    assert checked.failures == []
    caplog.set_level("INFO", logger="otc_elb_listener")
    assert "up will PUT name ('web' -> 'new') to the live listener" in caplog.text
    assert "sent PUT" not in caplog.text  # the words of the moment: a preview sends nothing
    provider.create(checked.inputs)
    assert calls(elb)[before:] == [("GET", None), ("PUT", {"name": "new"})]
    assert f"adopted listener {existing['id']}: sent PUT name ('web' -> 'new')" in caplog.text
    # an update of a listener already in the state reads nothing
    provider.check({**news, "port": 80.0}, {**news, "name": "newer"})
    assert len(elb.requests) == before + 2


def test_import_takes_the_live_listener_as_it_is_or_fails_naming_each_field(
        provider: ListenerProvider, elb: MockElb, lb: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="otc_elb_listener")
    existing = Api(ENDPOINT).create(api_body(lb)).json()
    before = len(elb.requests)
    same = provider.check({}, program(lb, __import_id=existing["id"]))
    assert same.failures == [] and "it matches the program, up sends no PUT" in caplog.text
    result = provider.create(same.inputs)
    assert result.id == existing["id"] and calls(elb)[before:] == [("GET", None)]
    differing = provider.check({}, program(lb, port=81.0, name="x",
                                           __import_id=existing["id"]))
    for field in ("port is 80, the program says 81", "name is 'web', the program says 'x'"):
        assert field in caplog.text
    with pytest.raises(ElbApiError, match="port is 80, the program says 81") as refused:
        provider.create(differing.inputs)
    assert "name is 'web', the program says 'x'" in str(refused.value)
    assert [m for m, _ in calls(elb)[before:]] == ["GET", "GET"]  # nothing was changed
    both = provider.check({}, program(lb, listener_id=existing["id"],
                                      __import_id=existing["id"]))
    assert [f.property for f in both.failures] == ["listener_id"]
    assert "give one of import_" in both.failures[0].reason


def test_check_does_not_judge_unknowns(provider: ListenerProvider, lb: str) -> None:
    inputs = program(lb, port=Unknown(), protocol=Unknown(), tcp_timeout=5.0)
    result = provider.check({}, inputs)
    assert result.failures == []
    assert isinstance(result.inputs["port"], Unknown)


# -- create --------------------------------------------------------------------------------
def test_create_is_one_post_with_integers(provider: ListenerProvider, elb: MockElb,
                                          lb: str) -> None:
    result = provider.create(provider.check({}, program(lb, description="")).inputs)
    assert calls(elb) == [("POST", {"name": "web", "loadbalancer_id": lb, "protocol": "HTTP",
                                    "port": 80, "backend_protocol": "HTTP",
                                    "backend_port": 8080, "lb_algorithm": "roundrobin",
                                    "description": ""})]
    assert type(elb.requests[0]["body"]["port"]) is int
    outs = result.outs or {}
    assert len(result.id) == 32 and outs["listener_id"] == result.id
    for field in ("status", "create_time", "update_time", "admin_state_up", "session_sticky",
                  "member_number"):
        assert field in outs
    live = elb.state.get_listener(PROJECT, result.id)
    assert {k for k, v in live.items() if v is not None} - {"id"} <= set(outs)
    assert None not in outs.values()  # a null is not stored (it reads None all the same)
    assert live["tcp_timeout"] is None and "tcp_timeout" not in outs
    assert outs["status"] == "ACTIVE" and outs["port"] == 80
    assert outs["managed_fields"] == sorted(["name", "loadbalancer_id", "protocol", "port",
                                             "backend_protocol", "backend_port",
                                             "lb_algorithm", "description"])


def test_create_failure_names_operation_status_code_and_rule(
        provider: ListenerProvider, elb: MockElb, lb: str) -> None:
    provider.create(program(lb))
    with pytest.raises(ElbApiError) as caught:
        provider.create(program(lb, name="second"))  # same port on the same load balancer
    text = str(caught.value)
    assert "create" in text and "HTTP 400 ELB.6101" in text and "port 80" in text
    assert DEFAULT_TOKEN not in text
    assert len(elb.requests) == 2  # a 400 is not retried


# -- diff ----------------------------------------------------------------------------------
def outputs_after_create(provider: ListenerProvider, lb: str, **extra: Any) -> dict[str, Any]:
    outs = provider.create(provider.check({}, program(lb, **extra)).inputs).outs
    assert outs is not None
    # state round-trips numbers as floats, like the engine does
    return {k: float(v) if type(v) is int else v for k, v in outs.items()}


def test_diff_no_change_is_false_and_calls_nothing(provider: ListenerProvider, elb: MockElb,
                                                   lb: str) -> None:
    olds = outputs_after_create(provider, lb)
    before = len(elb.requests)
    result = provider.diff("x", olds, program(lb))
    assert result.changes is False and result.replaces == []
    assert len(elb.requests) == before


@pytest.mark.parametrize(("created_with", "program_says"), [
    ({}, {"description": ""}),  # server default "" vs explicit ""
    ({"description": "x"}, {"description": "x"}),
    ({"protocol": "HTTPS", "backend_protocol": "HTTP", "certificate_id": "CERT"},
     {"protocol": "HTTPS", "backend_protocol": "HTTP", "certificate_id": "CERT"}),  # TLS defaults
    ({"protocol": "TCP", "backend_protocol": "TCP", "tcp_draining": False},
     {"protocol": "TCP", "backend_protocol": "TCP", "tcp_draining": False}),
    ({"session_sticky": True}, {"session_sticky": True}),
])
def test_diff_normalises_like_the_api(provider: ListenerProvider, elb: MockElb, lb: str,
                                      created_with: dict[str, Any],
                                      program_says: dict[str, Any]) -> None:
    cert = elb.add_certificate(PROJECT)["id"]
    swap = {k: (cert if v == "CERT" else v) for k, v in created_with.items()}
    olds = outputs_after_create(provider, lb, **swap)
    says = {k: (cert if v == "CERT" else v) for k, v in program_says.items()}
    assert provider.diff("x", olds, program(lb, **says)).changes is False


def test_diff_null_description_equals_empty(provider: ListenerProvider, lb: str) -> None:
    olds = {**outputs_after_create(provider, lb), "description": None}
    assert provider.diff("x", olds, program(lb, description="")).changes is False


def test_diff_update_and_replace(provider: ListenerProvider, lb: str) -> None:
    olds = outputs_after_create(provider, lb)
    port = provider.diff("x", olds, program(lb, port=81.0))
    assert port.changes is True and port.replaces == []
    protocol = provider.diff("x", olds, program(lb, protocol="TCP", backend_protocol="TCP"))
    assert protocol.replaces == ["protocol", "backend_protocol"]
    assert protocol.delete_before_replace is True  # same port on the same load balancer
    moved = provider.diff("x", olds, program(lb, protocol="TCP", backend_protocol="TCP",
                                             port=81.0))
    assert moved.replaces == ["protocol", "backend_protocol"]
    assert moved.delete_before_replace is False  # create the new one first: no gap
    sticky = provider.diff("x", olds, program(lb, session_sticky=True))
    assert sticky.replaces == ["session_sticky"]
    adopt = provider.diff("x", olds, program(lb, listener_id="b" * 32))
    assert adopt.replaces == ["listener_id"]


def test_diff_unknown_input_is_a_change(provider: ListenerProvider, lb: str) -> None:
    olds = outputs_after_create(provider, lb)
    assert provider.diff("x", olds, program(lb, port=Unknown())).changes is True
    replace = provider.diff("x", olds, program(lb, loadbalancer_id=Unknown()))
    assert replace.replaces == ["loadbalancer_id"] and replace.delete_before_replace is True


def test_diff_ignores_provider_changes(provider: ListenerProvider, lb: str) -> None:
    olds = outputs_after_create(provider, lb)
    assert provider.diff("x", olds, program(lb, __provider="new code")).changes is False


# -- update --------------------------------------------------------------------------------
def test_update_is_one_put_with_only_the_changed_fields(provider: ListenerProvider,
                                                        elb: MockElb, lb: str) -> None:
    olds = outputs_after_create(provider, lb, description="old")
    before = len(elb.requests)
    news = provider.check(olds, program(lb, port=9090.0, description="")).inputs
    result = provider.update(olds["listener_id"], olds, news)
    assert calls(elb)[before:] == [("PUT", {"port": 9090, "description": ""})]
    assert type(elb.requests[-1]["body"]["port"]) is int
    outs = result.outs or {}
    assert outs["port"] == 9090 and outs["description"] == ""
    assert outs["update_time"] >= olds["update_time"]


def test_update_sends_explicit_false_and_zero(provider: ListenerProvider, elb: MockElb,
                                              lb: str) -> None:
    tcp = {"protocol": "TCP", "backend_protocol": "TCP", "tcp_draining": True,
           "tcp_draining_timeout": 5.0}
    olds = outputs_after_create(provider, lb, **tcp)
    before = len(elb.requests)
    provider.update(olds["listener_id"], olds,
                    program(lb, **{**tcp, "tcp_draining_timeout": 0.0}))
    assert calls(elb)[before:] == [("PUT", {"tcp_draining_timeout": 0})]
    olds = outputs_after_create(provider, lb, **{**tcp, "port": 81.0})
    before = len(elb.requests)
    result = provider.update(olds["listener_id"], olds, program(
        lb, protocol="TCP", backend_protocol="TCP", port=81.0, tcp_draining=False))
    assert calls(elb)[before:] == [("PUT", {"tcp_draining": False})]
    assert "tcp_draining_timeout" not in (result.outs or {})  # null: not stored, reads None


def test_update_error_is_clear_and_has_no_token(provider: ListenerProvider, elb: MockElb,
                                                lb: str) -> None:
    olds = outputs_after_create(provider, lb)
    other = outputs_after_create(provider, lb, port=81.0, name="other")
    with pytest.raises(ElbApiError) as caught:
        provider.update(other["listener_id"], other, program(lb, name="other", port=80.0))
    text = str(caught.value)
    assert f"update of listener {other['listener_id']}" in text
    assert "HTTP 400 ELB.6200" in text and "port" in text and DEFAULT_TOKEN not in text
    assert olds["port"] == 80.0


# -- read ----------------------------------------------------------------------------------
def test_refresh_finds_drift_and_one_put_repairs_it(provider: ListenerProvider, elb: MockElb,
                                                    lb: str) -> None:
    olds = outputs_after_create(provider, lb)
    lid = olds["listener_id"]
    Api(ENDPOINT).put(lid, {"port": 8081, "description": "changed by hand"})
    before = len(elb.requests)
    read = provider.read(lid, olds)
    assert calls(elb)[before:] == [("GET", None)]
    assert read.id == lid and read.outs is not None and read.inputs is not None
    assert read.inputs["port"] == 8081
    assert "description" not in read.inputs  # not managed by the program: not an input
    diff = provider.diff(lid, read.outs, program(lb))
    assert diff.changes is True and diff.replaces == []
    before = len(elb.requests)
    provider.update(lid, read.outs, program(lb))
    assert calls(elb)[before:] == [("PUT", {"port": 80})]


def test_read_of_a_deleted_listener_is_gone(provider: ListenerProvider, elb: MockElb,
                                            lb: str) -> None:
    olds = outputs_after_create(provider, lb)
    Api(ENDPOINT).delete(olds["listener_id"])
    read = provider.read(olds["listener_id"], olds)
    assert read.id == "" and read.outs == {}


# -- delete --------------------------------------------------------------------------------
def test_delete_is_one_call_and_gone_is_success(provider: ListenerProvider, elb: MockElb,
                                                lb: str) -> None:
    olds = outputs_after_create(provider, lb)
    before = len(elb.requests)
    provider.delete(olds["listener_id"], olds)
    provider.delete(olds["listener_id"], olds)  # already gone: 503 ELB.6002, not retried
    assert [(e["method"], e["status"]) for e in elb.requests[before:]] == [("DELETE", 204),
                                                                          ("DELETE", 503)]


# -- adoption ------------------------------------------------------------------------------
def test_adopt_without_differences_is_one_get(provider: ListenerProvider, elb: MockElb,
                                              lb: str) -> None:
    existing = Api(ENDPOINT).create(api_body(lb)).json()
    before = len(elb.requests)
    result = provider.create(program(lb, listener_id=existing["id"]))
    assert calls(elb)[before:] == [("GET", None)]
    assert result.id == existing["id"]
    assert "listener_id" in (result.outs or {})["managed_fields"]


def test_adopt_puts_only_what_differs(provider: ListenerProvider, elb: MockElb,
                                      lb: str) -> None:
    existing = Api(ENDPOINT).create(api_body(lb)).json()
    before = len(elb.requests)
    result = provider.create({"listener_id": existing["id"], "port": 8088.0,
                              "name": "web", "__provider": "x"})
    assert calls(elb)[before:] == [("GET", None), ("PUT", {"port": 8088})]
    assert (result.outs or {})["port"] == 8088
    # from then on it is managed like any other: refresh and delete work on it
    assert provider.read(result.id, result.outs or {}).inputs == {"listener_id": result.id,
                                                                  "port": 8088, "name": "web"}


def test_adopt_refuses_fields_put_cannot_change(provider: ListenerProvider, elb: MockElb,
                                                lb: str) -> None:
    existing = Api(ENDPOINT).create(api_body(lb)).json()
    with pytest.raises(ElbApiError, match="protocol is 'HTTP', the program says 'TCP'"):
        provider.create({"listener_id": existing["id"], "protocol": "TCP", "__provider": "x"})
    with pytest.raises(ElbApiError, match="HTTP 404"):
        provider.create({"listener_id": "c" * 32, "__provider": "x"})
    assert [e["method"] for e in elb.requests[-2:]] == ["GET", "GET"]


# -- configuration and secrets -------------------------------------------------------------
def test_pickled_provider_never_holds_the_token(provider: ListenerProvider, lb: str) -> None:
    provider.create(program(lb))  # configured and with a live session
    decoded = base64.b64decode(serialize_provider(provider))
    assert DEFAULT_TOKEN.encode() not in decoded
    assert b"elb.eu-de" not in decoded  # no config at all, only tuning knobs
    assert b"ListenerProvider" in decoded


def test_every_call_has_a_connect_and_a_read_timeout(provider: ListenerProvider,
                                                      elb: MockElb, lb: str) -> None:
    seen: list[Any] = []
    original = elb._answer

    def spy(request: Any) -> Any:
        seen.append(request.req_kwargs["timeout"])
        return original(request)

    elb._mock.registered()[0].callback = spy
    provider.create(program(lb))
    assert seen == [(10.0, 60.0)]


def test_settings_errors_name_config_key_and_env_var() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_settings({}, {})
    text = str(caught.value)
    for words in ("elb:endpoint", "ELB_ENDPOINT", "elb:projectId", "OS_PROJECT_ID", "elb:token",
                  "OS_AUTH_TOKEN"):
        assert words in text


def test_settings_from_region_and_environment() -> None:
    settings = resolve_settings({"region": "eu-nl"}, {"OS_PROJECT_ID": "p",
                                                      "OS_AUTH_TOKEN": "secret-token"})
    assert settings.endpoint == "https://elb.eu-nl.otc.t-systems.com"
    assert settings.project_id == "p" and settings.verify_tls is True
    assert "secret-token" not in repr(settings)
    assert resolve_settings({"endpoint": "https://x", "projectId": "p", "token": "t",
                             "insecure": "true"}, {}).verify_tls is False


def test_missing_config_fails_only_when_the_api_is_needed(lb: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("ELB_ENDPOINT", "OS_PROJECT_ID", "OS_AUTH_TOKEN", "OS_REGION_NAME"):
        monkeypatch.delenv(var, raising=False)
    bare = ListenerProvider()
    assert bare.check({}, program(lb)).failures == []  # preview works without credentials
    with pytest.raises(ConfigError, match="elb:token"):
        bare.create(program(lb))


def test_environment_fallback(elb: MockElb, lb: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELB_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("OS_PROJECT_ID", PROJECT)
    monkeypatch.setenv("OS_AUTH_TOKEN", DEFAULT_TOKEN)
    assert len(ListenerProvider(retry=FAST).create(program(lb)).id) == 32


def test_parallel_updates_of_different_listeners(provider: ListenerProvider, elb: MockElb,
                                                 lb: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    olds = [outputs_after_create(provider, lb, port=float(p), name=f"l{p}") for p in (1, 2, 3, 4)]

    def bump(old: dict[str, Any]) -> int:
        news = program(lb, port=old["port"] + 100, name=old["name"])
        return int((provider.update(old["listener_id"], old, news).outs or {})["port"])

    with ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(bump, olds)) == [101, 102, 103, 104]
    assert sorted(x["port"] for x in Api(ENDPOINT).list().json()) == [101, 102, 103, 104]


def test_the_provider_host_does_not_pay_for_the_http_stack_until_it_is_used() -> None:
    """The host imports the provider on every pulumi run; preview never calls the API."""
    import subprocess
    import sys

    code = ("import sys, otc_elb_listener.listener\n"
            "heavy = [m for m in ('requests', 'urllib3', 'fake_elb', 'responses') "
            "if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize("endpoint", ["http//127.0.0.1:8080", "127.0.0.1:8080",
                                      "ftp://elb.example", "https://", "https://h:port"])
def test_a_malformed_endpoint_fails_at_configure_naming_the_key(endpoint: str,
                                                                 elb: MockElb) -> None:
    """At the first moment (configure, also in preview), before any request or retry."""
    with pytest.raises(ConfigError, match="elb:endpoint must be a URL") as refused:
        configured(ListenerProvider(), endpoint=endpoint)
    assert endpoint in str(refused.value)
    with pytest.raises(ConfigError, match="provider's endpoint= must be a URL"):
        configured(ListenerProvider(endpoint=endpoint))
    assert elb.requests == []


def test_a_malformed_endpoint_from_the_environment_names_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"elb:endpoint \(or ELB_ENDPOINT\)"):
        resolve_settings({}, {"ELB_ENDPOINT": "http//x", "OS_AUTH_TOKEN": "t",
                              "OS_PROJECT_ID": "p"})


@pytest.mark.parametrize(("key", "advice"), [("elb:endpont", "did you mean elb:endpoint?"),
                                             ("elb:projectID", "did you mean elb:projectId?"),
                                             ("elb:zzzz", "the settings are elb:cloud")])
def test_an_unknown_elb_key_warns_naming_the_nearest_valid_one(
        key: str, advice: str, caplog: pytest.LogCaptureFixture) -> None:
    """``elb:endpont`` was ignored in silence until up failed for want of an endpoint."""
    import pulumi.dynamic as dyn

    caplog.set_level("WARNING", "otc_elb_listener")
    ListenerProvider().configure(dyn.ConfigureRequest(Config(
        {key: "x", "elb:token": "t", "project:other": "y"}, "project")))
    assert f"config {key} is not a setting of this provider" in caplog.text
    assert advice in caplog.text and "elb:token is not" not in caplog.text


@pytest.mark.parametrize("answer", ["200", "202", "202-empty"])
def test_a_listener_put_answered_202_updates_the_state(
        provider: ListenerProvider, elb: MockElb, lb: str, answer: str) -> None:
    created = provider.create(provider.check({}, program(lb)).inputs)
    elb.set_put_answer(answer)
    since = len(elb.requests)
    updated = provider.update(created.id, dict(created.outs or {}), program(lb, port=81.0))
    assert (updated.outs or {})["port"] == 81
    assert [e["method"] for e in elb.requests[since:]] == (
        ["PUT", "GET"] if answer == "202-empty" else ["PUT"])


def test_the_control_plane_names_the_put_answers_it_knows(elb: MockElb) -> None:
    from fake_elb import ControlError

    with pytest.raises(ControlError, match="202-empty"):
        elb.set_put_answer("204")


# -- listeners that take time: PENDING_CREATE / PENDING_UPDATE ------------------------------
def test_create_and_update_wait_until_the_listener_is_active(
        provider: ListenerProvider, elb: MockElb, lb: str,
        caplog: pytest.LogCaptureFixture) -> None:
    """Huawei's Terraform provider waits for a classic listener to leave PENDING_CREATE; ours
    reported success at once, and its health check was made on a listener still pending."""
    caplog.set_level("INFO", "otc_elb_listener")
    elb.set_listener_transition(create=1.0, update=0.6)
    created = provider.create(provider.check({}, program(lb)).inputs)
    assert (created.outs or {})["status"] == "ACTIVE"
    assert elb.requests[0]["method"] == "POST"
    assert {e["method"] for e in elb.requests[1:]} == {"GET"} and len(elb.requests) >= 2
    assert f"listener {created.id}: ACTIVE after" in caplog.text
    since = len(elb.requests)
    updated = provider.update(created.id, dict(created.outs or {}), program(lb, port=81.0))
    assert (updated.outs or {})["status"] == "ACTIVE"
    assert elb.requests[since]["method"] == "PUT"
    elb.set_listener_transition(create=0, update=0)
    since = len(elb.requests)
    provider.update(created.id, dict(updated.outs or {}), program(lb, port=82.0))
    assert [e["method"] for e in elb.requests[since:]] == ["PUT"]  # ACTIVE at once: no GET


def test_a_listener_that_ends_in_error_is_one_error_naming_it(
        provider: ListenerProvider, elb: MockElb, lb: str) -> None:
    elb.set_listener_transition(create=0.3, end="ERROR")
    with pytest.raises(ElbApiError) as caught:
        provider.create(provider.check({}, program(lb)).inputs)
    made = elb.state.list_listeners(PROJECT, {})[0]
    assert made["status"] == "ERROR"
    assert f"ELB create of listener {made['id']} failed" in str(caught.value)
    assert "status ERROR" in str(caught.value)


def test_a_listener_pending_past_elb_status_timeout_fails_naming_the_key(
        elb: MockElb, lb: str) -> None:
    slow = configured(ListenerProvider(retry=FAST), statusTimeout="0.7")
    elb.set_listener_transition(create=30)
    with pytest.raises(ElbApiError, match=r"still PENDING_CREATE after 0.7 s "
                                          r"\(elb:statusTimeout\)"):
        slow.create(slow.check({}, program(lb)).inputs)
