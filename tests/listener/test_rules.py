"""The rule table as pure functions: what the provider relies on beyond the HTTP cases."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otc_elb_listener.rules import listener as listener_rules
from otc_elb_listener.rules.machinery import UNKNOWN

LB = "a" * 32
CERT = "c" * 32


def http_body(**extra: Any) -> dict[str, Any]:
    return {"name": "web", "loadbalancer_id": LB, "protocol": "HTTP", "port": 80,
            "backend_protocol": "HTTP", "backend_port": 8080, "lb_algorithm": "roundrobin",
            **extra}


def test_a_valid_body_has_no_violations() -> None:
    assert listener_rules.validate_create(http_body()) == []


def test_every_violation_is_reported_with_field_rule_and_code() -> None:
    found = listener_rules.validate_create(http_body(port=0, name="bad name", colour=1))
    assert [(v.field, v.code) for v in found] == [("port", "ELB.6041"), ("name", "ELB.6021"),
                                                  ("colour", "ELB.1001")]
    assert "1 to 65535" in found[0].rule and found[0].message.startswith("port: ")


def test_unknown_values_are_not_judged() -> None:
    body = http_body(port=UNKNOWN, protocol=UNKNOWN, tcp_timeout=5)
    assert listener_rules.validate_create(body, unknown_ok=True) == []
    # ...but what is known is still judged
    assert listener_rules.validate_create(http_body(port=UNKNOWN, backend_port=0),
                                unknown_ok=True)[0].field == "backend_port"
    # and an unknown value does not satisfy a rule that needs a known one elsewhere
    tls = http_body(protocol="HTTPS", certificate_id=UNKNOWN)
    assert listener_rules.validate_create(tls, unknown_ok=True) == []
    assert [v.code for v in listener_rules.validate_create(
        http_body(protocol="HTTPS"), unknown_ok=True)] == ["ELB.6001"]


def test_unknown_is_a_picklable_singleton() -> None:
    assert pickle.loads(pickle.dumps(UNKNOWN)) is UNKNOWN


@pytest.mark.parametrize(("value", "expected"), [(80.0, 80), (80, 80), (80.5, 80.5),
                                                 ("80", "80"), (True, True)])
def test_coerce_number_only_makes_whole_floats_integers(value: Any, expected: Any) -> None:
    result = listener_rules.coerce_number("port", value)
    assert result == expected and type(result) is type(expected)


def test_coerce_number_leaves_non_integer_fields_alone() -> None:
    assert type(listener_rules.coerce_number("name", 1.0)) is float


def test_materialize_settles_conditions_before_dependants() -> None:
    listener = listener_rules.materialize({"protocol": "TCP", "tcp_draining": True})
    assert listener["tcp_draining_timeout"] == 0 and listener["tcp_timeout"] == 5
    off = listener_rules.apply_update({**listener, "tcp_draining_timeout": 9},
                                     {"tcp_draining": False})
    assert off["tcp_draining_timeout"] is None


def test_update_is_judged_on_the_merged_listener() -> None:
    current = listener_rules.materialize(http_body(protocol="HTTPS", certificate_id=CERT,
                                         ssl_protocols=listener_rules.EXTENDED_CIPHERS_NEED,
                                         ssl_ciphers="Extended"))
    found = listener_rules.validate_update({"ssl_protocols": "TLSv1.2"}, current)
    assert found[0].code == "ELB.1001"
    assert listener_rules.validate_update({"ssl_protocols": "TLSv1.2", "ssl_ciphers": "Strict"},
                                current) == []


def test_every_code_used_is_documented_in_the_table() -> None:
    codes = {c for f in listener_rules.FIELDS.values()
             for pair in (f.code, f.length_code, f.short_code)
             if pair for c in pair}
    assert codes <= set(listener_rules.ERROR_CODES)


def test_applies_describes_its_condition() -> None:
    assert listener_rules.FIELDS["tcp_draining_timeout"].applies.describe() == \
        "protocol TCP and tcp_draining true"


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2, 70000), st.floats(-2, 70000),
                    st.sampled_from([0.0, 1.0, 80.0, "", "HTTP", "http", "a" * 32]),
                    st.lists(st.sampled_from(["a" * 32, "b" * 32]), max_size=3),
                    st.tuples(st.sampled_from(["a" * 32, "b" * 32])))


def _twins(value: Any) -> st.SearchStrategy[Any]:
    """Values equal to ``value`` under ``==`` in another type (1, 1.0, True), or any value."""
    twins = [value]
    if isinstance(value, (bool, int, float)) and float(value).is_integer():
        twins += [int(value), float(value), *([bool(value)] if value in (0, 1) else [])]
    return st.one_of(st.sampled_from(twins), _VALUES)


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(sorted(listener_rules.FIELDS)),
       pair=_VALUES.flatmap(lambda old: st.tuples(st.just(old), _twins(old))))
def test_same_value_is_the_canonical_comparison_whatever_its_shortcut(
        name: str, pair: tuple[Any, Any]) -> None:
    """``same_value`` answers equal values at once: that holds only while ``canonical``
    keeps equal values equal (1 == 1.0 == True, for every field's kind)."""
    old, new = pair
    assert listener_rules.same_value(name, old, new) == (
        listener_rules.canonical(name, old) == listener_rules.canonical(name, new))
