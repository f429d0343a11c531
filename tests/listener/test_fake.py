"""The fake ELB listener API, written from the spec pages; every case runs in both transports.

Each rejected case also asserts that nothing changed (the listener, and the listener count).
"""

from __future__ import annotations

from typing import Any

import pytest

from otc_elb_listener.rules import listener as listener_rules
from otc_elb_listener.rules.machinery import ID_RE
from tests.support import Fake

CJK = "负载均衡"


def base_body(fake: Fake, kind: str, **extra: Any) -> dict[str, Any]:
    """A valid create body for a ``kind`` listener on the public load balancer."""
    protocol = kind
    body: dict[str, Any] = {
        "name": f"lis-{protocol.lower()}", "loadbalancer_id": fake.lb, "protocol": protocol,
        "port": 443 if protocol in ("HTTPS", "SSL") else 80,
        "backend_protocol": listener_rules.BACKEND_PROTOCOL_FOR[protocol], "backend_port": 8080,
        "lb_algorithm": "roundrobin",
    }
    if protocol in ("HTTPS", "SSL"):
        body["certificate_id"] = fake.cert
    body.update(extra)
    return {k: v for k, v in body.items() if v is not _DROP}


_DROP = object()
#: Expected status of a request whose field does not apply: the service (and the default fake)
#: accepts it and shows the field as null; strict mode refuses it with ELB.1001.
IGNORED = 0

# (case id, protocol, changes to the valid body, expected status, expected code or None)
CREATE_CASES: list[tuple[str, str, dict[str, Any], int, str | None]] = [
    *[(f"valid-{p}", p, {}, 200, None) for p in listener_rules.PROTOCOLS],
    ("port-min", "HTTP", {"port": 1}, 200, None),
    ("port-max", "HTTP", {"port": 65535}, 200, None),
    ("port-below", "HTTP", {"port": 0}, 400, "ELB.6041"),
    ("port-above", "HTTP", {"port": 65536}, 400, "ELB.6041"),
    ("backend-port-min", "HTTP", {"backend_port": 1}, 200, None),
    ("backend-port-max", "HTTP", {"backend_port": 65535}, 200, None),
    ("backend-port-below", "HTTP", {"backend_port": 0}, 400, "ELB.6041"),
    ("backend-port-above", "HTTP", {"backend_port": 65536}, 400, "ELB.6041"),
    ("port-string", "HTTP", {"port": "80"}, 400, "ELB.1001"),
    ("port-whole-float", "HTTP", {"port": 80.0}, 400, "ELB.1001"),
    ("port-fraction", "HTTP", {"port": 80.5}, 400, "ELB.1001"),
    ("port-bool", "HTTP", {"port": True}, 400, "ELB.1001"),
    *[(f"algorithm-{a}", "HTTP", {"lb_algorithm": a}, 200, None)
      for a in listener_rules.LB_ALGORITHMS],
    ("algorithm-bad", "HTTP", {"lb_algorithm": "random"}, 400, "ELB.6051"),
    ("algorithm-case", "HTTP", {"lb_algorithm": "RoundRobin"}, 400, "ELB.6051"),
    ("protocol-bad", "HTTP", {"protocol": "FTP"}, 400, "ELB.6061"),
    ("backend-protocol-bad", "HTTP", {"backend_protocol": "SSL"}, 400, "ELB.6071"),
    ("backend-protocol-http-tcp", "HTTP", {"backend_protocol": "TCP"}, 400, "ELB.6071"),
    ("backend-protocol-https-tcp", "HTTPS", {"backend_protocol": "TCP"}, 400, "ELB.6071"),
    ("backend-protocol-ssl-http", "SSL", {"backend_protocol": "HTTP"}, 400, "ELB.6071"),
    ("backend-protocol-udp-tcp", "UDP", {"backend_protocol": "TCP"}, 400, "ELB.6071"),
    ("backend-protocol-tcp-udp", "TCP", {"backend_protocol": "UDP"}, 400, "ELB.6071"),
    ("name-64", "HTTP", {"name": "n" * 64}, 200, None),
    ("name-65", "HTTP", {"name": "n" * 65}, 400, "ELB.6011"),
    ("name-empty", "HTTP", {"name": ""}, 400, "ELB.6021"),
    ("name-space", "HTTP", {"name": "my lis"}, 400, "ELB.6021"),
    ("name-dot", "HTTP", {"name": "lis.1"}, 400, "ELB.6021"),
    ("name-accent", "HTTP", {"name": "café"}, 400, "ELB.6021"),
    ("name-cjk", "HTTP", {"name": CJK + "_a-1"}, 200, None),
    ("name-64-cjk-counts-characters", "HTTP", {"name": "负" * 64}, 200, None),
    ("name-65-cjk", "HTTP", {"name": "负" * 65}, 400, "ELB.6011"),
    ("name-int", "HTTP", {"name": 5}, 400, "ELB.1001"),
    ("description-empty", "HTTP", {"description": ""}, 200, None),
    ("description-128", "HTTP", {"description": "d" * 128}, 200, None),
    ("description-129", "HTTP", {"description": "d" * 129}, 400, "ELB.6031"),
    ("description-angle", "HTTP", {"description": "a <b>"}, 400, "ELB.1001"),
    ("description-gt", "HTTP", {"description": "a > b"}, 400, "ELB.1001"),
    ("description-brackets", "HTTP", {"description": "[{" * 60}, 200, None),
    ("description-unicode", "HTTP", {"description": "Prüfung " + CJK}, 200, None),
    *[(f"missing-{f}", "HTTP", {f: _DROP}, 400, "ELB.6001")
      for f in listener_rules.REQUIRED_FIELDS],
    # docs/api-rules.md Decision 3: accepted on create and ignored (the production Kubernetes
    # client sends admin_state_up true on every create)
    ("admin-state-up", "HTTP", {"admin_state_up": True}, 200, None),
    ("admin-state-up-false", "HTTP", {"admin_state_up": False}, 200, None),
    ("admin-state-up-string", "HTTP", {"admin_state_up": "true"}, 400, "ELB.1001"),
    ("admin-state-up-null", "HTTP", {"admin_state_up": None}, 400, "ELB.6001"),
    ("unknown-field", "HTTP", {"colour": "blue"}, 400, "ELB.1001"),
    ("read-only-field", "HTTP", {"status": "ACTIVE"}, 400, "ELB.1001"),
    ("null-description", "HTTP", {"description": None}, 400, "ELB.6001"),
    ("null-port", "HTTP", {"port": None}, 400, "ELB.6001"),
    ("lb-unknown", "HTTP", {"loadbalancer_id": "f" * 32}, 400, "ELB.6040"),
    ("lb-short", "HTTP", {"loadbalancer_id": "abc"}, 400, "ELB.1020"),
    ("lb-long", "HTTP", {"loadbalancer_id": "a" * 33}, 400, "ELB.1020"),
    ("lb-not-hex", "HTTP", {"loadbalancer_id": "g" * 32}, 400, "ELB.1020"),
    ("lb-uppercase", "HTTP", {"loadbalancer_id": "A" * 32}, 400, "ELB.1020"),
    # sticky sessions (docs/api-rules.md Decision 2): HTTP, HTTPS and TCP; true only with
    # roundrobin; type and cookie only for HTTP with session_sticky true
    ("sticky-http", "HTTP", {"session_sticky": True}, 200, None),
    ("sticky-false-leastconn", "HTTP", {"session_sticky": False, "lb_algorithm": "leastconn"},
     200, None),
    ("sticky-leastconn", "HTTP", {"session_sticky": True, "lb_algorithm": "leastconn"},
     400, "ELB.1001"),
    ("sticky-source", "HTTP", {"session_sticky": True, "lb_algorithm": "source"},
     400, "ELB.1001"),
    # The create page's example responses: TCP listeners with session_sticky true; the
    # production Kubernetes client turns on source-IP affinity this way.
    ("sticky-tcp", "TCP", {"session_sticky": True}, 200, None),
    ("sticky-tcp-leastconn", "TCP", {"session_sticky": True, "lb_algorithm": "leastconn"},
     400, "ELB.1001"),
    ("sticky-https", "HTTPS", {"session_sticky": True}, 200, None),
    ("sticky-ssl", "SSL", {"session_sticky": False}, IGNORED, None),
    ("sticky-ssl-leastconn-ignored", "SSL", {"session_sticky": True, "lb_algorithm": "leastconn"},
     IGNORED, None),
    ("sticky-udp", "UDP", {"session_sticky": True}, IGNORED, None),
    ("sticky-type-on-tcp", "TCP", {"session_sticky": True, "sticky_session_type": "insert"},
     IGNORED, None),
    ("sticky-string", "HTTP", {"session_sticky": "true"}, 400, "ELB.1001"),
    ("sticky-int", "HTTP", {"session_sticky": 1}, 400, "ELB.1001"),
    ("sticky-type", "HTTP", {"session_sticky": True, "sticky_session_type": "insert"},
     200, None),
    ("sticky-type-bad", "HTTP", {"session_sticky": True, "sticky_session_type": "server"},
     400, "ELB.6081"),
    ("sticky-type-without-sticky", "HTTP", {"sticky_session_type": "insert"}, IGNORED, None),
    ("cookie-min", "HTTP", {"session_sticky": True, "cookie_timeout": 1}, 200, None),
    ("cookie-max", "HTTP", {"session_sticky": True, "cookie_timeout": 1440}, 200, None),
    ("cookie-below", "HTTP", {"session_sticky": True, "cookie_timeout": 0}, 400, "ELB.1001"),
    ("cookie-above", "HTTP", {"session_sticky": True, "cookie_timeout": 1441}, 400, "ELB.1001"),
    ("cookie-without-sticky", "HTTP", {"cookie_timeout": 10}, IGNORED, None),
    # TCP
    ("tcp-timeout-min", "TCP", {"tcp_timeout": 1}, 200, None),
    ("tcp-timeout-max", "TCP", {"tcp_timeout": 1440}, 200, None),
    ("tcp-timeout-below", "TCP", {"tcp_timeout": 0}, 400, "ELB.1001"),
    ("tcp-timeout-above", "TCP", {"tcp_timeout": 1441}, 400, "ELB.1001"),
    ("tcp-timeout-on-http", "HTTP", {"tcp_timeout": 5}, IGNORED, None),
    ("tcp-timeout-on-udp", "UDP", {"tcp_timeout": 5}, IGNORED, None),
    ("tcp-draining", "TCP", {"tcp_draining": True}, 200, None),
    ("tcp-draining-on-ssl", "SSL", {"tcp_draining": True}, IGNORED, None),
    ("draining-timeout-min", "TCP", {"tcp_draining": True, "tcp_draining_timeout": 0},
     200, None),
    ("draining-timeout-max", "TCP", {"tcp_draining": True, "tcp_draining_timeout": 60},
     200, None),
    ("draining-timeout-above", "TCP", {"tcp_draining": True, "tcp_draining_timeout": 61},
     400, "ELB.1001"),
    ("draining-timeout-below", "TCP", {"tcp_draining": True, "tcp_draining_timeout": -1},
     400, "ELB.1001"),
    ("draining-timeout-without-draining", "TCP", {"tcp_draining_timeout": 5},
     IGNORED, None),
    ("draining-timeout-draining-false", "TCP",
     {"tcp_draining": False, "tcp_draining_timeout": 5}, IGNORED, None),
    # UDP
    ("udp-timeout-min", "UDP", {"udp_timeout": 1}, 200, None),
    ("udp-timeout-max", "UDP", {"udp_timeout": 1440}, 200, None),
    ("udp-timeout-below", "UDP", {"udp_timeout": 0}, 400, "ELB.1001"),
    ("udp-timeout-above", "UDP", {"udp_timeout": 1441}, 400, "ELB.1001"),
    ("udp-timeout-on-tcp", "TCP", {"udp_timeout": 5}, IGNORED, None),
    ("udp-internal-lb", "UDP", {"loadbalancer_id": "INTERNAL"}, 400, "ELB.1001"),
    ("tcp-internal-lb", "TCP", {"loadbalancer_id": "INTERNAL"}, 200, None),
    # TLS
    *[(f"ssl-protocols-{i}", "HTTPS", {"ssl_protocols": p}, 200, None)
      for i, p in enumerate(listener_rules.SSL_PROTOCOLS)],
    ("ssl-protocols-bad", "HTTPS", {"ssl_protocols": "TLSv1.3"}, 400, "ELB.1001"),
    *[(f"ssl-ciphers-{c}", "SSL", {"ssl_ciphers": c,
                                 "ssl_protocols": listener_rules.EXTENDED_CIPHERS_NEED},
       200, None) for c in listener_rules.SSL_CIPHERS],
    ("ssl-ciphers-bad", "HTTPS", {"ssl_ciphers": "Weak"}, 400, "ELB.1001"),
    ("extended-needs-all-tls", "HTTPS", {"ssl_ciphers": "Extended"}, 400, "ELB.1001"),
    ("extended-with-tls12", "HTTPS", {"ssl_ciphers": "Extended", "ssl_protocols": "TLSv1.2"},
     400, "ELB.1001"),
    ("strict-with-tls12", "HTTPS", {"ssl_ciphers": "Strict", "ssl_protocols": "TLSv1.2"},
     200, None),
    ("ssl-ciphers-on-tcp", "TCP", {"ssl_ciphers": "Default"}, IGNORED, None),
    # The Huawei Terraform provider sends ssl_protocols "TLSv1.2" on every create (its TCP
    # acceptance test passed on the real cloud); the create page's example sends
    # tcp_draining and tcp_draining_timeout on an HTTP listener.
    ("ssl-protocols-on-http", "HTTP", {"ssl_protocols": "TLSv1.2"}, IGNORED, None),
    ("ssl-protocols-on-tcp", "TCP", {"ssl_protocols": "TLSv1.2"}, IGNORED, None),
    ("draining-on-http", "HTTP", {"tcp_draining": True, "tcp_draining_timeout": 10},
     IGNORED, None),
    ("ignored-value-out-of-range", "HTTP", {"tcp_timeout": 99999}, IGNORED, None),
    ("ignored-value-wrong-type", "HTTP", {"tcp_timeout": "5"}, 400, "ELB.1001"),
    ("https-without-certificate", "HTTPS", {"certificate_id": _DROP}, 400, "ELB.6001"),
    ("ssl-without-certificate", "SSL", {"certificate_id": _DROP}, 400, "ELB.6001"),
    ("certificate-unknown", "HTTPS", {"certificate_id": "e" * 32}, 400, "ELB.5040"),
    ("certificate-malformed", "HTTPS", {"certificate_id": "cert-1"}, 400, "ELB.5020"),
    ("certificate-not-hex", "HTTPS", {"certificate_id": "E" * 32}, 400, "ELB.5040"),
    ("certificate-on-tcp", "TCP", {"certificate_id": "CERT"}, IGNORED, None),
    ("sni-certificates", "HTTPS", {"certificates": ["CERT", "CERT2"]}, 200, None),
    ("sni-empty-list", "HTTPS", {"certificates": []}, 200, None),
    ("sni-on-ssl", "SSL", {"certificates": ["CERT"]}, IGNORED, None),
    ("sni-on-http", "HTTP", {"certificates": ["CERT"]}, IGNORED, None),
    ("sni-internal-lb", "HTTPS", {"certificates": ["CERT"], "loadbalancer_id": "INTERNAL"},
     400, "ELB.1001"),
    ("sni-internal-lb-empty", "HTTPS", {"certificates": [], "loadbalancer_id": "INTERNAL"},
     400, "ELB.1001"),
    ("sni-duplicate", "HTTPS", {"certificates": ["CERT", "CERT"]}, 400, "ELB.1001"),
    ("sni-unknown", "HTTPS", {"certificates": ["d" * 32]}, 400, "ELB.5040"),
    ("sni-malformed", "HTTPS", {"certificates": ["nope"]}, 400, "ELB.5020"),
    ("sni-not-a-list", "HTTPS", {"certificates": "CERT"}, 400, "ELB.1001"),
    ("sni-item-not-string", "HTTPS", {"certificates": [1]}, 400, "ELB.1001"),
    ("sni-item-null", "HTTPS", {"certificates": [None]}, 400, "ELB.1001"),
]


def _resolve(fake: Fake, changes: dict[str, Any]) -> dict[str, Any]:
    """Placeholders in the table stand for the fixture's IDs."""
    names = {"CERT": fake.cert, "CERT2": fake.cert2, "INTERNAL": fake.internal_lb}

    def one(value: Any) -> Any:
        if isinstance(value, list):
            return [one(item) for item in value]
        return names.get(value, value) if isinstance(value, str) else value

    return {key: one(value) for key, value in changes.items()}


def _strict_refuses(fake: Fake, send: Any, *args: Any) -> None:
    """In strict mode the request is refused with ELB.1001, naming a field that does not
    apply and saying the service would ignore it; nothing changes."""
    *request, changes = args
    fake.control.set_strict(True)
    try:
        error = assert_error(send(*request), 400, "ELB.1001")
    finally:
        fake.control.set_strict(False)
    assert any(name in error["message"] for name in changes), error
    assert "would ignore" in error["message"]


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    return dict(error)


@pytest.mark.parametrize(("protocol", "changes", "status", "code"),
                         [c[1:] for c in CREATE_CASES], ids=[c[0] for c in CREATE_CASES])
def test_create_rules(fake: Fake, protocol: str, changes: dict[str, Any], status: int,
                      code: str | None) -> None:
    body = base_body(fake, protocol, **_resolve(fake, changes))
    if status == IGNORED:
        _strict_refuses(fake, fake.api.create, body, changes)
        assert fake.api.list().json() == []
    response = fake.api.create(body)
    if code is None:
        assert response.status_code == 200, response.text
        listener = response.json()
        assert set(listener) == set(listener_rules.RESPONSE_FIELDS)
        ignored = {k for k in body
                   if k in listener_rules.FIELDS and not listener_rules.applies(k, listener)}
        assert bool(ignored) == (status == IGNORED)
        for key, value in body.items():  # what does not apply is not stored: null
            if key not in listener_rules.CREATE_IGNORED:
                assert listener[key] == (None if key in ignored else value)
        assert listener["admin_state_up"] is True  # sent or not, a new listener is up
        assert fake.api.get(listener["id"]).json() == listener
    else:
        error = assert_error(response, status, code)
        offending = [k for k in changes if k in error["message"]]
        if changes and code not in ("ELB.6040", "ELB.6001"):
            assert offending, f"the message should name the field: {error}"
        assert fake.api.list().json() == []


def test_every_documented_field_is_in_the_table() -> None:
    from_the_page = {
        "name", "description", "port", "backend_port", "lb_algorithm", "tcp_timeout",
        "tcp_draining", "tcp_draining_timeout", "udp_timeout", "ssl_protocols", "ssl_ciphers",
        "certificate_id", "certificates",
    }
    assert set(listener_rules.UPDATABLE_FIELDS) == from_the_page
    assert set(listener_rules.REPLACE_FIELDS) == {"loadbalancer_id", "protocol", "backend_protocol",
                                        "session_sticky", "sticky_session_type",
                                        "cookie_timeout"}


def test_create_fills_defaults_and_nulls_what_does_not_apply(fake: Fake) -> None:
    tcp = fake.api.create(base_body(fake, "TCP")).json()
    assert (tcp["tcp_timeout"], tcp["tcp_draining"], tcp["tcp_draining_timeout"]) == (5, False,
                                                                                      None)
    assert tcp["session_sticky"] is False and tcp["ssl_protocols"] is None
    assert tcp["status"] == "ACTIVE" and tcp["admin_state_up"] is True
    assert len(tcp["id"]) == 32 and ID_RE.fullmatch(tcp["id"])
    https = fake.api.create(base_body(fake, "HTTPS")).json()
    assert (https["ssl_protocols"], https["ssl_ciphers"]) == ("TLSv1.2", "Default")
    assert https["tcp_timeout"] is None and https["session_sticky"] is False
    ssl = fake.api.create(base_body(fake, "SSL", port=444)).json()
    assert ssl["session_sticky"] is None
    http = fake.api.create(base_body(fake, "HTTP", port=81, session_sticky=True)).json()
    assert (http["sticky_session_type"], http["cookie_timeout"]) == ("insert", 1440)
    assert http["description"] == ""
    import re
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", http["create_time"])


def test_port_unique_per_load_balancer(fake: Fake) -> None:
    first = fake.api.create(base_body(fake, "HTTP", port=8000))
    assert first.status_code == 200
    again = fake.api.create(base_body(fake, "TCP", port=8000, name="other"))
    assert_error(again, 400, "ELB.6101")
    other_lb = fake.api.create(base_body(fake, "TCP", port=8000, loadbalancer_id=fake.internal_lb))
    assert other_lb.status_code == 200
    assert len(fake.api.list().json()) == 2


def test_listener_quota_per_load_balancer(fake: Fake) -> None:
    for port in range(1, listener_rules.LISTENER_QUOTA + 1):
        assert fake.api.create(base_body(fake, "TCP", port=port)).status_code == 200
    assert_error(fake.api.create(base_body(fake, "TCP", port=99)), 403, "ELB.6091")
    assert len(fake.api.list(loadbalancer_id=fake.lb).json()) == listener_rules.LISTENER_QUOTA


# ---------------------------------------------------------------------------------------------
# PUT: (case id, protocol of the existing listener, extra create fields, PUT body, status, code)
UPDATE_CASES: list[tuple[str, str, dict[str, Any], Any, int, str | None]] = [
    ("seed-example", "HTTP", {}, {"name": "lis", "description": "", "port": 9090,
                                  "backend_port": 9090, "lb_algorithm": "roundrobin"}, 200, None),
    ("empty-body", "HTTP", {}, {}, 200, None),
    *[(f"not-updatable-{f}", "HTTP", {}, {f: v}, 400, "ELB.6015") for f, v in (
        ("protocol", "TCP"), ("backend_protocol", "TCP"), ("loadbalancer_id", "INTERNAL"),
        ("session_sticky", True), ("sticky_session_type", "insert"), ("cookie_timeout", 5))],
    ("unknown-field", "HTTP", {}, {"colour": "red"}, 400, "ELB.1001"),
    ("read-only-field", "HTTP", {}, {"update_time": "2020-01-01 00:00:00"}, 400, "ELB.1001"),
    ("null-description", "HTTP", {}, {"description": None}, 400, "ELB.6001"),
    ("port-string", "HTTP", {}, {"port": "9090"}, 400, "ELB.1001"),
    ("port-whole-float", "HTTP", {}, {"port": 9090.0}, 400, "ELB.1001"),
    ("port-bool", "HTTP", {}, {"port": True}, 400, "ELB.1001"),
    ("port-above", "HTTP", {}, {"port": 65536}, 400, "ELB.6041"),
    ("port-below", "HTTP", {}, {"port": 0}, 400, "ELB.6041"),
    ("backend-port-above", "HTTP", {}, {"backend_port": 65536}, 400, "ELB.6041"),
    ("name-65", "HTTP", {}, {"name": "n" * 65}, 400, "ELB.6025"),
    ("name-invalid", "HTTP", {}, {"name": "a/b"}, 400, "ELB.6035"),
    ("name-empty", "HTTP", {}, {"name": ""}, 400, "ELB.6035"),
    ("description-129", "HTTP", {}, {"description": "d" * 129}, 400, "ELB.6045"),
    ("description-angle", "HTTP", {}, {"description": "<"}, 400, "ELB.1001"),
    ("description-clear", "HTTP", {"description": "old"}, {"description": ""}, 200, None),
    ("algorithm-bad", "HTTP", {}, {"lb_algorithm": "fastest"}, 400, "ELB.6051"),
    ("tcp-timeout-on-http", "HTTP", {}, {"tcp_timeout": 5}, IGNORED, None),
    ("udp-timeout-on-http", "HTTP", {}, {"udp_timeout": 5}, IGNORED, None),
    ("ssl-on-http", "HTTP", {}, {"ssl_ciphers": "Strict"}, IGNORED, None),
    ("certificate-on-tcp", "TCP", {}, {"certificate_id": "CERT"}, IGNORED, None),
    ("tcp-timeout-max", "TCP", {}, {"tcp_timeout": 1440}, 200, None),
    ("tcp-timeout-above", "TCP", {}, {"tcp_timeout": 1441}, 400, "ELB.1001"),
    ("draining-timeout-without-draining", "TCP", {}, {"tcp_draining_timeout": 5},
     IGNORED, None),
    ("draining-and-timeout", "TCP", {}, {"tcp_draining": True, "tcp_draining_timeout": 5},
     200, None),
    ("draining-timeout-when-draining", "TCP", {"tcp_draining": True},
     {"tcp_draining_timeout": 60}, 200, None),
    ("draining-off-with-timeout", "TCP", {"tcp_draining": True},
     {"tcp_draining": False, "tcp_draining_timeout": 5}, IGNORED, None),
    ("udp-timeout-above", "UDP", {}, {"udp_timeout": 1441}, 400, "ELB.1001"),
    ("udp-timeout-min", "UDP", {}, {"udp_timeout": 1}, 200, None),
    ("extended-on-tls12-listener", "HTTPS", {}, {"ssl_ciphers": "Extended"}, 400, "ELB.1001"),
    ("extended-with-all-tls", "HTTPS", {},
     {"ssl_ciphers": "Extended", "ssl_protocols": listener_rules.EXTENDED_CIPHERS_NEED}, 200, None),
    ("tls12-on-extended-listener", "HTTPS",
     {"ssl_ciphers": "Extended", "ssl_protocols": listener_rules.EXTENDED_CIPHERS_NEED},
     {"ssl_protocols": "TLSv1.2"}, 400, "ELB.1001"),
    ("extended-on-all-tls-listener", "SSL", {"ssl_protocols": listener_rules.EXTENDED_CIPHERS_NEED},
     {"ssl_ciphers": "Extended"}, 200, None),
    ("certificate-change", "HTTPS", {}, {"certificate_id": "CERT2"}, 200, None),
    ("certificate-unknown", "HTTPS", {}, {"certificate_id": "e" * 32}, 400, "ELB.5040"),
    ("sni-set", "HTTPS", {}, {"certificates": ["CERT2"]}, 200, None),
    ("sni-on-internal", "HTTPS", {"loadbalancer_id": "INTERNAL"}, {"certificates": ["CERT"]},
     400, "ELB.1001"),
    ("sni-empty-on-internal", "HTTPS", {"loadbalancer_id": "INTERNAL"}, {"certificates": []},
     400, "ELB.1001"),
    ("sni-duplicate", "HTTPS", {}, {"certificates": ["CERT2", "CERT2"]}, 400, "ELB.1001"),
    ("sni-on-ssl", "SSL", {}, {"certificates": ["CERT"]}, IGNORED, None),
    ("algorithm-on-sticky", "HTTP", {"session_sticky": True}, {"lb_algorithm": "source"},
     400, "ELB.1001"),
    ("algorithm-on-non-sticky", "HTTP", {}, {"lb_algorithm": "source"}, 200, None),
    ("body-array", "HTTP", {}, [{"port": 1}], 400, "ELB.1001"),
    ("body-string", "HTTP", {}, "port", 400, "ELB.1001"),
    ("body-null", "HTTP", {}, None, 400, "ELB.0002"),
    ("admin-state-up", "HTTP", {}, {"admin_state_up": True}, 400, "ELB.6015"),
]


@pytest.mark.parametrize(("protocol", "create_extra", "body", "status", "code"),
                         [c[1:] for c in UPDATE_CASES], ids=[c[0] for c in UPDATE_CASES])
def test_update_rules(fake: Fake, protocol: str, create_extra: dict[str, Any], body: Any,
                      status: int, code: str | None) -> None:
    created = fake.api.create(base_body(fake, protocol, **_resolve(fake, create_extra)))
    assert created.status_code == 200, created.text
    before = created.json()
    if isinstance(body, dict):
        body = _resolve(fake, body)
    if status == IGNORED:
        _strict_refuses(fake, fake.api.put, before["id"], body, body)
        assert fake.api.get(before["id"]).json() == before
    response = fake.api.put(before["id"], body)
    after = fake.api.get(before["id"]).json()
    if code is None:
        assert response.status_code == 200, response.text
        updated = response.json()
        assert set(updated) == set(listener_rules.RESPONSE_FIELDS)
        assert updated == after
        ignored = {k for k in body if not listener_rules.applies(k, updated)}
        assert bool(ignored) == (status == IGNORED)
        for key, value in body.items():
            assert updated[key] == (None if key in ignored else value)
        untouched = set(listener_rules.FIELDS) - set(body) - {"tcp_draining_timeout"}
        assert {k: updated[k] for k in untouched} == {k: before[k] for k in untouched}
        assert updated["update_time"] >= before["update_time"]
        assert updated["create_time"] == before["create_time"]
    else:
        assert_error(response, status, code)
        assert after == before, "a rejected PUT must change nothing"


def test_draining_off_nulls_its_timeout(fake: Fake) -> None:
    listener = fake.api.create(base_body(fake, "TCP", tcp_draining=True,
                                         tcp_draining_timeout=7)).json()
    updated = fake.api.put(listener["id"], {"tcp_draining": False}).json()
    assert updated["tcp_draining"] is False and updated["tcp_draining_timeout"] is None


def test_put_port_taken_by_a_sibling(fake: Fake) -> None:
    a = fake.api.create(base_body(fake, "HTTP", port=80)).json()
    b = fake.api.create(base_body(fake, "TCP", port=81)).json()
    assert_error(fake.api.put(b["id"], {"port": 80}), 400, "ELB.6200")
    assert fake.api.get(b["id"]).json()["port"] == 81
    assert fake.api.put(a["id"], {"port": 80}).status_code == 200  # its own port is fine


def test_update_time_never_runs_ahead_of_the_clock(fake: Fake) -> None:
    """api-rules.md Decision 13: two PUTs in one second may share a time; many PUTs must not push
    update_time into the future (it once gained a second per PUT)."""
    import time

    listener = fake.api.create(base_body(fake, "HTTP")).json()
    times = [listener["update_time"]]
    for _ in range(30):
        times.append(fake.api.put(listener["id"], {}).json()["update_time"])
    clock = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 1))
    assert times == sorted(times) and times[-1] <= clock


# ---------------------------------------------------------------------------------------------
def test_malformed_json_and_non_utf8_are_400(fake: Fake) -> None:
    listener = fake.api.create(base_body(fake, "HTTP")).json()
    url = f"{fake.api.base}/{listener['id']}"
    deep = b'{"certificates": ' + b"[" * 40 + b"]" * 40 + b"}"
    for raw in (b"{", b'{"port": 80,}', b"\xff\xfe", b'{"port": NaN}', b"[" * 5000, deep):
        response = fake.api.session.put(url, data=raw, timeout=10,
                                         headers={"Content-Type": "application/json"})
        assert_error(response, 400, "ELB.1001")
    for empty in (b"", b"  \n", b"null"):  # api-rules.md, fine points: the empty body is ELB.0002
        response = fake.api.session.put(url, data=empty, timeout=10,
                                         headers={"Content-Type": "application/json"})
        assert_error(response, 400, "ELB.0002")
        assert_error(fake.api.session.post(fake.api.base, data=empty, timeout=10),
                     400, "ELB.0002")
    assert fake.api.get(listener["id"]).json() == listener


def test_auth(fake: Fake) -> None:
    listener = fake.api.create(base_body(fake, "HTTP")).json()
    session = fake.api.session
    missing = session.get(fake.api.base, headers={"X-Auth-Token": None}, timeout=10)
    assert_error(missing, 403, "ELB.1102")
    wrong = session.put(f"{fake.api.base}/{listener['id']}", json={"port": 1},
                        headers={"X-Auth-Token": "stolen"}, timeout=10)
    assert_error(wrong, 401, "ELB.1103")
    assert fake.api.get(listener["id"]).json() == listener
    assert all("stolen" not in repr(entry) and "fake-elb-token" not in repr(entry)
               for entry in fake.requests)


def test_unknown_and_malformed_listener_ids(fake: Fake) -> None:
    missing = "0" * 32
    assert_error(fake.api.get(missing), 404, "ELB.8904")
    assert_error(fake.api.put(missing, {"port": 1}), 404, "ELB.8904")
    assert_error(fake.api.delete(missing), 503, "ELB.6002")
    assert_error(fake.api.get("abc"), 400, "ELB.6000")
    assert_error(fake.api.get("Z" * 32), 400, "ELB.6010")
    assert_error(fake.api.get("..%2F" + "a" * 27), 400, "ELB.6010")


def test_delete_then_gone(fake: Fake) -> None:
    listener = fake.api.create(base_body(fake, "HTTP")).json()
    response = fake.api.delete(listener["id"])
    assert response.status_code == 204 and response.content == b""
    assert fake.api.get(listener["id"]).status_code == 404
    assert_error(fake.api.delete(listener["id"]), 503, "ELB.6002")


def test_list_filters(fake: Fake) -> None:
    http = fake.api.create(base_body(fake, "HTTP", port=80)).json()
    tcp = fake.api.create(base_body(fake, "TCP", port=81)).json()
    other = fake.api.create(base_body(fake, "TCP", port=81, loadbalancer_id=fake.internal_lb))
    listed = fake.api.list().json()
    assert isinstance(listed, list) and len(listed) == 3
    assert {x["id"] for x in fake.api.list(loadbalancer_id=fake.lb).json()} == {http["id"],
                                                                                 tcp["id"]}
    assert [x["id"] for x in fake.api.list(protocol="HTTP").json()] == [http["id"]]
    assert [x["id"] for x in fake.api.list(loadbalancer_id=fake.internal_lb, port=81).json()] \
        == [other.json()["id"]]
    assert fake.api.list(loadbalancer_id=fake.lb, protocol="TCP").json() == [tcp]
    assert fake.api.list(port=9999).json() == []
    assert_error(fake.api.list(colour="red"), 400, "ELB.6003")
    # The list page: any response field "except update_time, create_time, admin_state_up,
    # session_sticky, and member_number".
    for name, value in (("update_time", http["update_time"]), ("create_time", "x"),
                        ("admin_state_up", "true"), ("session_sticky", "false"),
                        ("member_number", "0")):
        error = assert_error(fake.api.list(**{name: value}), 400, "ELB.6003")
        assert name in error["message"]


def test_projects_are_isolated(fake: Fake) -> None:
    from tests.support import Api
    listener = fake.api.create(base_body(fake, "HTTP")).json()
    stranger = Api(fake.endpoint, project="someone-else")
    assert stranger.get(listener["id"]).status_code == 404
    assert stranger.list().json() == []
    assert stranger.put(listener["id"], {"port": 1}).status_code == 404


def test_journal_records_every_call_without_secrets(fake: Fake) -> None:
    listener = fake.api.create(base_body(fake, "HTTP")).json()
    fake.api.put(listener["id"], {"port": 70000})
    fake.api.list(loadbalancer_id=fake.lb)
    journal = fake.requests
    assert [(e["method"], e["status"]) for e in journal] == [("POST", 200), ("PUT", 400),
                                                             ("GET", 200)]
    assert journal[1]["body"] == {"port": 70000}
    assert journal[1]["path"] == f"/v1.0/{fake.api.base.split('/v1.0/')[1]}/{listener['id']}"
    assert journal[2]["query"] == f"loadbalancer_id={fake.lb}"
    assert set(journal[0]) == {"method", "path", "query", "status", "body"}


# -- listeners that take time (the control plane's transitions, as moto's set_transition) --
def listener_body(lb: str, **changes: Any) -> dict[str, Any]:
    return {"name": "web", "loadbalancer_id": lb, "protocol": "HTTP", "port": 80,
            "backend_protocol": "HTTP", "backend_port": 8080, "lb_algorithm": "roundrobin",
            **changes}


def test_a_listener_can_be_held_pending_then_active_or_error(fake: Fake) -> None:
    import time as clock

    from tests.support import PROJECT

    fake.control.set_listener_transition(create=0.4, update=0.4)
    created = fake.api.create(listener_body(fake.lb)).json()
    assert created["status"] == "PENDING_CREATE"
    assert fake.api.get(created["id"]).json()["status"] == "PENDING_CREATE"
    clock.sleep(0.5)
    assert fake.api.get(created["id"]).json()["status"] == "ACTIVE"
    changed = fake.api.put(created["id"], {"description": "x"}).json()
    assert changed["status"] == "PENDING_UPDATE"
    clock.sleep(0.5)
    assert [item["status"] for item in fake.api.list().json()] == ["ACTIVE"]
    fake.control.set_listener_transition(create=0, end="ERROR")
    failed = fake.api.create(listener_body(fake.lb, port=81)).json()
    assert failed["status"] == "ERROR"
    fake.control.reset()
    lb = fake.control.add_loadbalancer(PROJECT)["id"]
    assert fake.api.create(listener_body(lb)).json()["status"] == "ACTIVE"  # reset: instant again


@pytest.mark.parametrize("change", [{"create": -1}, {"update": "soon"}, {"end": "DONE"},
                                    {"create": True}])
def test_a_transition_the_fake_cannot_run_is_refused(fake: Fake, change: dict[str, Any]
                                                     ) -> None:
    from fake_elb import ControlError

    with pytest.raises(ControlError) as refused:
        fake.control._send("POST", "transitions", change)
    assert refused.value.status == 400
