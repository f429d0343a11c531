"""Differential fuzzing: the provider's check, the fake's HTTP answer (both transports, in its
default mode and in strict mode) and the rule table must agree on every generated body, valid
or not, and a rejected request must leave the fake unchanged.

The default fake must follow the table's service verdict (fields that do not apply are
ignored); the strict fake the table's strict verdict (they are refused); the provider's
``check`` refuses them too, so it follows the strict verdict.

How each side sees a body:
- the fake and the table get the JSON body as sent;
- the provider gets what the Pulumi engine would send for the same *intent*: numbers as
  floats, no ``null`` (an input set to ``None`` is unset) and no keys outside its inputs
  (``ListenerArgs`` has no others). For bodies without nulls, stray keys or whole floats the
  intent is the body itself, and all three must give the same verdict on the same fields.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_elb import DEFAULT_TOKEN, FakeControl
from otc_elb_listener.listener import ListenerProvider
from otc_elb_listener.rules import listener as listener_rules
from otc_elb_listener.rules.machinery import ID_RE, Field, Violation
from tests.support import BATCH, Api

LB = "ab" * 16
CERTS = ("c0" * 16, "c1" * 16)
ENDPOINT = "https://elb.eu-de.otc.t-systems.com"
PROVIDER = ListenerProvider()
STATS: dict[str, int] = {"create": 0, "update": 0, "rejected": 0, "accepted": 0,
                         "three_way": 0, "ignored": 0}
#: Every disagreement found (a test fails at its end if there is any, showing the first few).
DISAGREEMENTS: list[str] = []
#: FUZZ_SCALE=5 (or more) for a deeper run than CI's.
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))


# -- generation ------------------------------------------------------------------------------

# -- the fakes -----------------------------------------------------------------------------
class Target:
    """One transport, re-seeded per example under a fresh project (no reset needed)."""

    _projects = itertools.count()

    def __init__(self, control: FakeControl, endpoint: str) -> None:
        self.control, self.endpoint = control, endpoint
        self.strict = False

    def set_strict(self, strict: bool) -> None:
        self.control.set_strict(strict)
        self.strict = strict

    def fresh(self) -> Api:
        project = f"fuzz{next(self._projects)}"
        self.control.add_loadbalancer(project, id=LB)
        for cert in CERTS:
            self.control.add_certificate(project, id=cert)
        api = Api(self.endpoint, project=project)
        api.session.headers["X-Auth-Token"] = DEFAULT_TOKEN
        return api


@pytest.fixture
def target(any_transport: tuple[FakeControl, str]) -> Target:
    return Target(*any_transport)


def _ints(field: Field) -> st.SearchStrategy[Any]:
    low, high = field.minimum or 0, field.maximum or 0
    return st.one_of(
        st.integers(low, high), st.sampled_from([low - 1, low, high, high + 1]),
        st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
        st.integers(low, high).map(float), st.text("0123456789", min_size=1, max_size=4),
        st.booleans(), st.none())


_NAME_CHARS = st.sampled_from([*"abcXYZ019_-", "负", "载", " ", ".", "é", "<", "/", "ß"])


def _strings(field: Field) -> st.SearchStrategy[Any]:
    if field.choices is not None:
        return st.one_of(st.sampled_from(field.choices),
                         st.sampled_from(field.choices).map(str.upper),
                         st.text(max_size=12), st.integers(0, 3), st.none())
    if field.pattern is ID_RE:
        return st.one_of(st.just(LB if field.name == "loadbalancer_id" else CERTS[0]),
                         st.text("0123456789abcdefG", min_size=30, max_size=34),
                         st.integers(), st.none())
    alphabet = _NAME_CHARS if field.name == "name" else st.characters(codec="utf-8")
    maximum = field.maximum or 0
    return st.one_of(st.text(alphabet, min_size=0, max_size=maximum + 2),
                     st.sampled_from([maximum, maximum + 1]).map(lambda n: "n" * n),
                     st.sampled_from([maximum, maximum + 1]).map(lambda n: "负" * n),
                     st.integers(), st.none())


def _valid(field: Field) -> st.SearchStrategy[Any]:
    """Values the field's own rule accepts (cross-field rules may still refuse them)."""
    if field.kind is int:
        return st.integers(field.minimum or 0, field.maximum or 0)
    if field.kind is bool:
        return st.booleans()
    if field.kind is list:
        return st.lists(st.sampled_from(CERTS), max_size=2, unique=True)
    if field.choices is not None:
        return st.sampled_from(field.choices)
    if field.pattern is ID_RE:
        return st.just(LB if field.name == "loadbalancer_id" else CERTS[0])
    if field.name == "name":
        return st.text(st.sampled_from(list("abcXYZ019_-负载")), min_size=1, max_size=64)
    return st.text(st.characters(codec="utf-8", exclude_characters="<>"), max_size=128)


def _values(field: Field) -> st.SearchStrategy[Any]:
    if field.kind is int:
        return _ints(field)
    if field.kind is bool:
        return st.one_of(st.booleans(), st.sampled_from([0, 1, "true"]), st.none())
    if field.kind is list:
        return st.one_of(st.lists(st.sampled_from(CERTS), max_size=2, unique=True),
                         st.lists(st.text(max_size=33), max_size=2), st.just(CERTS[0]),
                         st.lists(st.integers(), max_size=1), st.none())
    return _strings(field)


def base_body(protocol: str) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "fuzz", "loadbalancer_id": LB, "protocol": protocol,
                            "port": 80, "backend_protocol":
                            listener_rules.BACKEND_PROTOCOL_FOR[protocol],
                            "backend_port": 8080, "lb_algorithm": "roundrobin"}
    if protocol in ("HTTPS", "SSL"):
        body["certificate_id"] = CERTS[0]
    return body


@st.composite
def mutated(draw: st.DrawFn, body: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """``body`` with some fields dropped, set to generated values, or stray keys added."""
    result = dict(body)
    valid_leaning = draw(st.booleans())
    for name in draw(st.lists(st.sampled_from(fields), max_size=4, unique=True)):
        if name in result and draw(st.integers(0, 3)) == 0:
            del result[name]
        elif valid_leaning:
            result[name] = draw(_valid(listener_rules.FIELDS[name]))
        else:
            result[name] = draw(_values(listener_rules.FIELDS[name]))
    if not valid_leaning and draw(st.integers(0, 4)) == 0:
        result[draw(st.sampled_from(["colour", "id", "status", "Port", "listener"]))] = 1
    return result


def _applicable(protocol: str) -> list[str]:
    return [n for n, f in listener_rules.FIELDS.items()
            if f.applies.protocols is None or protocol in f.applies.protocols]


def create_bodies() -> st.SearchStrategy[dict[str, Any]]:
    """Mostly fields that apply to the protocol, sometimes any field."""
    return st.sampled_from(listener_rules.PROTOCOLS).flatmap(
        lambda protocol: mutated(base_body(protocol),
                                 _applicable(protocol) * 3 + list(listener_rules.FIELDS)))


def update_cases() -> st.SearchStrategy[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(protocol, extra create fields, PUT body)."""
    def for_protocol(protocol: str) -> st.SearchStrategy[Any]:
        extra = st.sampled_from([{}, {"tcp_draining": True}, {"session_sticky": True},
                                 {"ssl_protocols": listener_rules.EXTENDED_CIPHERS_NEED,
                                  "ssl_ciphers": "Extended"}])
        updatable = [n for n in _applicable(protocol) if listener_rules.FIELDS[n].updatable]
        return st.tuples(st.just(protocol), extra,
                         mutated({}, updatable * 4 + list(listener_rules.FIELDS)))
    return st.sampled_from(listener_rules.PROTOCOLS).flatmap(for_protocol)


# -- the three judges ----------------------------------------------------------------------
def context() -> listener_rules.LoadBalancerContext:
    return listener_rules.LoadBalancerContext("External", frozenset(CERTS))


def table_create(body: Any, strict: bool = False) -> list[Violation]:
    return listener_rules.validate_create(body, context(), strict=strict)


def intent(body: dict[str, Any]) -> dict[str, Any]:
    """What a Pulumi program meant: its inputs, nulls as unset, whole floats as integers."""
    return {k: listener_rules.coerce_number(k, v) for k, v in body.items()
            if k in listener_rules.FIELDS and v is not None}


def engine_sends(inputs: dict[str, Any]) -> dict[str, Any]:
    return {**{k: float(v) if type(v) is int else v for k, v in inputs.items()},
            "__provider": "x"}


def provider_fields(body: dict[str, Any]) -> set[str]:
    return {f.property for f in PROVIDER.check({}, engine_sends(intent(body))).failures}


def pristine(body: dict[str, Any]) -> bool:
    return intent(body) == body and not any(type(v) is float for v in body.values())


def _examples(transport: str) -> int:
    return max(1, int((120 if transport == "inprocess" else 30) * SCALE))


def _first_field(message: str) -> str:
    return message.split(": ", 1)[0]


def _disagree(what: str, case: Any, detail: Any) -> None:
    DISAGREEMENTS.append(f"{what}: {case!r} -> {detail!r}")


def check_create(target: Target, body: dict[str, Any]) -> None:
    api = target.fresh()
    expected = table_create(body, strict=target.strict)
    response = api.create(body)
    STATS["create"] += 1
    if expected:
        STATS["rejected"] += 1
        error = response.json().get("error", {}) if response.status_code >= 400 else {}
        if (response.status_code, error.get("code"), _first_field(error.get("message", ""))) \
                != (expected[0].status, expected[0].code, expected[0].field):
            _disagree(f"create ({'strict' if target.strict else 'default'})", body,
                      (response.status_code, response.text[:200], expected[0]))
        assert api.list().json() == [], "a rejected create must leave nothing behind"
    else:
        STATS["accepted"] += 1
        if response.status_code != 200:
            _disagree("create accepted by the table", body, response.text[:200])
        elif not target.strict:
            listener = response.json()
            ignored = [k for k in body
                       if k in listener_rules.FIELDS and not listener_rules.applies(k, listener)]
            STATS["ignored"] += bool(ignored)
            if any(listener[k] is not None for k in ignored):
                _disagree("an ignored field was stored", body, listener)
    strict_intent = {v.field for v in table_create(intent(body), strict=True)} - {""}
    if provider_fields(body) != strict_intent:
        _disagree("provider check vs strict table", body, (provider_fields(body),
                                                            strict_intent))
    if pristine(body) and target.strict:
        STATS["three_way"] += 1
        if provider_fields(body) != {v.field for v in expected}:
            _disagree("provider vs strict fake", body, expected)


def check_update(target: Target, case: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    protocol, extra, body = case
    api = target.fresh()
    create = {**base_body(protocol), **(extra if _fits(protocol, extra) else {})}
    before = api.create(create).json()
    expected = listener_rules.validate_update(body, before, context(), strict=target.strict)
    response = api.put(before["id"], body)
    STATS["update"] += 1
    after = api.get(before["id"]).json()
    if expected:
        STATS["rejected"] += 1
        error = response.json().get("error", {}) if response.status_code >= 400 else {}
        if (response.status_code, error.get("code"), _first_field(error.get("message", ""))) \
                != (expected[0].status, expected[0].code, expected[0].field):
            _disagree(f"update ({'strict' if target.strict else 'default'})", case,
                      (response.status_code, response.text[:200], expected[0]))
        assert after == before, "a rejected PUT must change nothing"
    else:
        STATS["accepted"] += 1
        if response.status_code != 200:
            _disagree("update accepted by the table", case, response.text[:200])
        elif after != response.json():
            _disagree("update answer differs from the stored listener", case, after)
    # the provider judges the program's whole desired state, the same way the table does
    program = {**{k: v for k, v in before.items() if k in listener_rules.FIELDS and v is not None},
               **body}
    strict_intent = {v.field for v in listener_rules.validate_create(intent(program), strict=True)}
    if provider_fields(program) != strict_intent - {""}:
        _disagree("provider check vs strict table (update)", case,
                  (provider_fields(program), strict_intent))


def _fits(protocol: str, extra: dict[str, Any]) -> bool:
    return not listener_rules.validate_create({**base_body(protocol), **extra}, strict=True)


# -- the tests -----------------------------------------------------------------------------
def _run_both_modes(target: Target, judge: Any, items: list[Any]) -> None:
    """Each batch in the default mode, then again in strict mode (fresh projects)."""
    for strict in (False, True):
        target.set_strict(strict)
        try:
            for item in items:
                judge(target, item)
        finally:
            target.set_strict(False)


def test_differential_create(target: Target, request: pytest.FixtureRequest) -> None:
    transport = request.node.callspec.params["any_transport"]

    @settings(max_examples=_examples(transport), deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(create_bodies(), min_size=BATCH, max_size=BATCH))
    def run(bodies: list[dict[str, Any]]) -> None:
        _run_both_modes(target, check_create, bodies)

    before, found = dict(STATS), len(DISAGREEMENTS)
    run()
    _assert_volume(before, "create", 2 * _examples(transport) * BATCH, found, request)


def test_differential_update(target: Target, request: pytest.FixtureRequest) -> None:
    transport = request.node.callspec.params["any_transport"]

    @settings(max_examples=_examples(transport), deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(update_cases(), min_size=BATCH, max_size=BATCH))
    def run(cases: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> None:
        _run_both_modes(target, check_update, cases)

    before, found = dict(STATS), len(DISAGREEMENTS)
    run()
    _assert_volume(before, "update", 2 * _examples(transport) * BATCH, found, request)


def _assert_volume(before: dict[str, int], kind: str, planned: int, found: int,
                   request: pytest.FixtureRequest) -> None:
    """The run judged what it planned, with both verdicts well represented, and found no
    disagreement; the figures go to the terminal summary (tests/conftest.py)."""
    done = {k: STATS[k] - before[k] for k in STATS}
    new = DISAGREEMENTS[found:]
    request.node.user_properties.append(("fuzz", {"kind": kind, "judged": done[kind],
                                                  "disagreements": len(new)}))
    assert not new, f"{len(new)} disagreements, the first: " + "\n".join(new[:5])
    assert done[kind] >= planned, done
    assert done["accepted"] >= planned // 10 and done["rejected"] >= planned // 10, done


def test_whole_floats_are_the_one_intended_difference() -> None:
    """The fake refuses ``80.0`` like a strict backend; the provider, which only ever gets
    floats from the engine, makes it ``80`` before sending."""
    body = {**base_body("HTTP"), "port": 80.0}
    assert [v.code for v in table_create(body)] == ["ELB.1001"]
    assert provider_fields(body) == set()
