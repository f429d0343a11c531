"""Differential fuzzing of the health check's and the certificate's rule tables: for every
generated create and PUT body, the table's verdict, the fake's HTTP answer (both transports;
for a certificate's PUT in default and strict mode) and, for creates, the provider's
``check`` must agree on the first field, its code and its status, and a rejected request
must leave the fake unchanged. The listener's own fuzzing is ``test_differential.py``; these
tables are smaller, so fewer bodies cover them.

How each side sees a body: the fake and the table get the JSON body as sent; the provider
gets what the engine would send for the same intent (numbers as floats, no ``null``, only
its inputs), so it is compared where the intent is the body itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_elb import DEFAULT_TOKEN, FakeControl
from fake_elb.service.certificates import self_signed
from otc_elb_listener import CertificateProvider, HealthCheckProvider
from otc_elb_listener.rules import certificate as cert_rules
from otc_elb_listener.rules import healthcheck as check_rules
from otc_elb_listener.rules.machinery import Field, Violation
from tests.support import BATCH, Api

CERT, KEY = self_signed("www.example.com")
OTHER_CERT, OTHER_KEY = self_signed("other.example.com")
#: Bodies judged per test: in-process, over the server (a socket per call costs more).
EXAMPLES = {"inprocess": 25, "server": 8}
DISAGREEMENTS: list[str] = []


# -- generation ----------------------------------------------------------------------------
def _values(field: Field) -> st.SearchStrategy[Any]:
    """Values of every kind: in range and out, wrong types, nulls, PEM and not."""
    if field.kind is int:
        low, high = field.minimum or 0, field.maximum or 0
        return st.one_of(st.integers(low, high), st.sampled_from([low - 1, high + 1]),
                         st.integers(-10**6, 10**6), st.integers(low, high).map(float),
                         st.floats(allow_nan=False, allow_infinity=False),
                         st.text("0123456789", max_size=3),
                         st.booleans(), st.none())
    if field.name in ("certificate", "private_key"):
        return st.one_of(st.sampled_from([CERT, KEY, OTHER_CERT, OTHER_KEY]),
                         st.sampled_from([CERT, KEY]).map(lambda pem: pem.replace("A", "!", 1)),
                         st.text(max_size=20), st.integers(), st.none())
    choices = list(field.choices or ())
    maximum = field.maximum or 0
    return st.one_of(st.sampled_from(choices or ["x"]),
                     st.sampled_from(choices or ["x"]).map(str.lower),
                     st.text(st.sampled_from([*"aZ09_-./?#&=% <>é", "负"]), max_size=maximum + 2),
                     st.sampled_from([maximum, maximum + 1]).map(lambda n: "a" * n),
                     st.integers(0, 3), st.none())


@st.composite
def mutated(draw: st.DrawFn, body: dict[str, Any], fields: Mapping[str, Field]) -> dict[str, Any]:
    """``body`` with some fields dropped or set to generated values, or a stray key added."""
    result = dict(body)
    for name in draw(st.lists(st.sampled_from(sorted(fields)), max_size=3, unique=True)):
        if name in result and draw(st.integers(0, 3)) == 0:
            del result[name]
        else:
            result[name] = draw(_values(fields[name]))
    if draw(st.integers(0, 6)) == 0:
        result[draw(st.sampled_from(["id", "colour", "tenant_id"]))] = 1
    return result


# -- the fakes -----------------------------------------------------------------------------
class Target:
    """One transport; each body is judged in a fresh project with one HTTP listener."""

    _projects = itertools.count()

    def __init__(self, control: FakeControl, endpoint: str) -> None:
        self.control, self.endpoint = control, endpoint

    def fresh(self) -> tuple[Api, str]:
        project = f"subfuzz{next(self._projects)}"
        lb = self.control.add_loadbalancer(project)["id"]
        listener = self.control.add_listener(
            project, loadbalancer_id=lb, protocol="HTTP", backend_protocol="HTTP", port=80,
            backend_port=8080, lb_algorithm="roundrobin", name="web")["id"]
        api = Api(self.endpoint, project=project)
        api.session.headers["X-Auth-Token"] = DEFAULT_TOKEN
        return api, str(listener)


@pytest.fixture
def target(any_transport: tuple[FakeControl, str]) -> Target:
    """Both transports (in-process and the server), seeded our way."""
    return Target(*any_transport)


def _url(api: Api, collection: str) -> str:
    return f"{api.base.rsplit('/', 1)[0]}/{collection}"


def _verdict(response: Any) -> tuple[int, str | None, str]:
    if response.status_code < 300:
        return response.status_code, None, ""
    error = response.json().get("error", {})
    return response.status_code, error.get("code"), error.get("message", "").split(": ", 1)[0]


def _expected(violations: list[Violation]) -> tuple[int, str | None, str]:
    return (violations[0].status, violations[0].code, violations[0].field) if violations \
        else (200, None, "")


def _agree(what: str, body: Any, got: Any, wanted: Any) -> None:
    if got != wanted:
        DISAGREEMENTS.append(f"{what}: {body!r}: got {got!r}, the table says {wanted!r}")


def _provider_fields(provider: Any, body: Mapping[str, Any], fields: Mapping[str, Field]
                     ) -> set[str] | None:
    """The fields the provider's check refuses, when the engine would send this very body
    (no nulls, no stray keys, no whole floats); else ``None``."""
    if any(v is None or k not in fields or type(v) is float for k, v in body.items()):
        return None
    sent = {k: float(v) if type(v) is int else v for k, v in body.items()}
    return {f.property for f in provider.check({}, {**sent, "__provider": "x"}).failures}


# -- the judges ----------------------------------------------------------------------------
def judge_check_create(target: Target, body: dict[str, Any]) -> None:
    api, listener = target.fresh()
    body = {"listener_id": listener, **body} if "listener_id" not in body else body
    wanted = _expected(check_rules.validate_create(body))
    answer = api.session.post(_url(api, "healthcheck"),
                              json=body, timeout=10)
    if wanted[0] == 200 and body.get("listener_id") != listener:
        wanted = (400, "ELB.7010", "listener_id")  # valid form, but no such listener
    _agree("health check create", body, _verdict(answer), wanted)
    if answer.status_code >= 300:
        assert api.get(listener).json()["healthcheck_id"] is None, "a refused POST made one"
    fields = _provider_fields(HealthCheckProvider(), body, check_rules.FIELDS)
    if fields is not None:
        _agree("health check provider check", body, fields,
               {v.field for v in check_rules.validate_create(body)})


def judge_check_update(target: Target, body: dict[str, Any]) -> None:
    api, listener = target.fresh()
    base = _url(api, "healthcheck")
    made = api.session.post(base, json={"listener_id": listener}, timeout=10).json()
    answer = api.session.put(f"{base}/{made['id']}", json=body, timeout=10)
    _agree("health check PUT", body, _verdict(answer),
           _expected(check_rules.validate_update(body)))
    after = api.session.get(f"{base}/{made['id']}", timeout=10).json()
    if answer.status_code >= 300:
        assert after == made, "a refused PUT changed the health check"
    else:
        assert after == answer.json()


def judge_cert_create(target: Target, body: dict[str, Any]) -> None:
    api, _ = target.fresh()
    base = _url(api, "certificate")
    wanted = _expected(cert_rules.validate_create(body))
    if wanted[0] == 200 and (body["certificate"], body["private_key"]) not in (
            (CERT, KEY), (OTHER_CERT, OTHER_KEY)):
        wanted = (400, "ELB.1011", "certificate")  # a key of another certificate
    answer = api.session.post(base, json=body, timeout=10)
    _agree("certificate create", {k: v for k, v in body.items() if k != "private_key"},
           _verdict(answer), wanted)
    assert KEY not in answer.text or answer.status_code == 200, "an error quoted the key"
    listed = api.session.get(base, timeout=10).json()["certificates"]
    assert len(listed) == (answer.status_code == 200), "a refused POST made one"
    fields = _provider_fields(CertificateProvider(), body, cert_rules.FIELDS)
    if fields is not None:
        _agree("certificate provider check", {k: v for k, v in body.items()
                                             if k != "private_key"}, fields,
               {v.field for v in cert_rules.validate_create(body)})


def judge_cert_update(target: Target, body: dict[str, Any], strict: bool) -> None:
    api, _ = target.fresh()
    base = _url(api, "certificate")
    made = api.session.post(base, json={"certificate": CERT, "private_key": KEY,
                                        "name": "web"}, timeout=10).json()
    target.control.set_strict(strict)
    try:
        answer = api.session.put(f"{base}/{made['id']}", json=body, timeout=10)
    finally:
        target.control.set_strict(False)
    _agree(f"certificate PUT ({'strict' if strict else 'default'})", body, _verdict(answer),
           _expected(cert_rules.validate_update(body, strict=strict)))
    [after] = api.session.get(base, timeout=10).json()["certificates"]
    if answer.status_code >= 300:
        assert after == {k: v for k, v in made.items() if k != "tenant_id"}, \
            "a refused PUT changed the certificate"


# -- the tests -----------------------------------------------------------------------------
CASES: dict[str, tuple[st.SearchStrategy[Any], Callable[[Target, Any], None]]] = {
    "healthcheck create": (mutated({"healthcheck_interval": 5}, check_rules.FIELDS),
                           judge_check_create),
    "healthcheck update": (mutated({}, {n: f for n, f in check_rules.FIELDS.items()}),
                           judge_check_update),
    "certificate create": (mutated({"certificate": CERT, "private_key": KEY, "name": "web"},
                                   cert_rules.FIELDS), judge_cert_create),
    "certificate update": (
        st.tuples(mutated({"name": "renamed"}, cert_rules.FIELDS), st.booleans()),
        lambda target, case: judge_cert_update(target, *case)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_sub_resource_tables_the_fake_and_the_provider_agree(
        target: Target, case: str, request: pytest.FixtureRequest) -> None:
    strategy, judge = CASES[case]
    transport = request.node.callspec.params["any_transport"]
    judged = [0]

    @settings(max_examples=EXAMPLES[transport], deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(strategy, min_size=BATCH, max_size=BATCH))
    def run(bodies: list[Any]) -> None:
        for body in bodies:
            judge(target, body)
            judged[0] += 1

    found = len(DISAGREEMENTS)
    run()
    new = DISAGREEMENTS[found:]
    assert not new, f"{len(new)} disagreements, the first: " + "\n".join(new[:5])
    assert judged[0] >= EXAMPLES[transport] * BATCH
