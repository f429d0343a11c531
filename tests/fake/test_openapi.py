"""The fake's OpenAPI document, and schemathesis against ``fake-elb serve`` with it.

Checks: no server error except the documented 503 ``ELB.6002`` (DELETE of a missing
listener), every status code documented, every response conforming to its schema, and every
body that breaks the schema refused with a 4xx.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from fake_elb import DEFAULT_TOKEN, ServerControl
from fake_elb.service.routes import ROUTES
from otc_elb_listener.rules import certificate, healthcheck
from otc_elb_listener.rules import listener as listener_rules
from tests.support import PROJECT

#: Bounded: examples per API operation (17 operations: listeners 5, health checks 4,
#: certificates 4, members 3, jobs 1).
EXAMPLES = 12


def only_documented_server_errors(ctx: Any, response: Any, case: Any) -> bool | None:
    """5xx only as the documented 503 ELB.6002 on DELETE of a listener that does not exist."""
    if response.status_code < 500:
        return None
    documented = (case.method.upper() == "DELETE" and response.status_code == 503
                  and response.json()["error"]["code"] == "ELB.6002"
                  and case.operation.path.endswith("{listener_id}"))
    assert documented, f"undocumented server error {response.status_code}: {response.text}"
    return None


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_fake_conforms_to_its_openapi_document(fake_elb_server: ServerControl,
                                               mode: str) -> None:
    """Every operation, with bodies, paths and queries generated from the document (valid
    ones, then ones that break it), against the running server."""
    from hypothesis import given
    from schemathesis.generation.modes import GenerationMode

    fake_elb_server.add_loadbalancer(PROJECT)
    schema = schemathesis.openapi.from_url(f"{fake_elb_server.url}/openapi.json")
    checks = [only_documented_server_errors, status_code_conformance,
              content_type_conformance, response_schema_conformance, negative_data_rejection]
    operations = [result.ok() for result in schema.get_all_operations()]
    # Every route of the fake is documented, one operation per method (17 today).
    assert len(operations) == sum(len(route.handlers) for route in ROUTES) >= 17
    calls = 0
    for operation in operations:
        strategy = operation.as_strategy(GenerationMode(mode))

        @given(case=strategy)
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            nonlocal calls
            response = case.call(headers={"X-Auth-Token": DEFAULT_TOKEN}, timeout=10)
            calls += 1
            case.validate_response(response, checks=checks)

        run()
    assert calls >= 17 * 6


def test_the_document_is_derived_from_the_rule_table(fake_elb_server: ServerControl) -> None:
    document = requests.get(f"{fake_elb_server.url}/openapi.json", timeout=10).json()
    create = document["components"]["schemas"]["ListenerCreate"]
    assert set(create["properties"]) == \
        set(listener_rules.FIELDS) | set(listener_rules.CREATE_IGNORED)
    assert set(create["required"]) == set(listener_rules.REQUIRED_FIELDS)
    assert create["additionalProperties"] is False
    update = document["components"]["schemas"]["ListenerUpdate"]
    assert set(update["properties"]) == set(listener_rules.UPDATABLE_FIELDS)
    assert (create["properties"]["tcp_timeout"]["minimum"],
            create["properties"]["tcp_timeout"]["maximum"]) == (1, 1440)
    assert create["properties"]["lb_algorithm"]["enum"] == list(listener_rules.LB_ALGORITHMS)
    delete = document["paths"]["/v1.0/{project_id}/elbaas/listeners/{listener_id}"]["delete"]
    assert "503" in delete["responses"]
    schemas = document["components"]["schemas"]
    for name, table in (("HealthCheck", healthcheck.TABLE), ("Certificate", certificate.TABLE)):
        assert set(schemas[f"{name}Create"]["properties"]) == set(table.fields)
        assert set(schemas[f"{name}Create"].get("required", [])) == set(table.required)
        assert set(table.updatable) <= set(schemas[f"{name}Update"]["properties"])
    interval = schemas["HealthCheckCreate"]["properties"]["healthcheck_interval"]
    assert (interval["minimum"], interval["maximum"]) == (1, 50)


def test_the_document_is_valid_openapi(fake_elb_server: ServerControl) -> None:
    from openapi_spec_validator import validate

    validate(requests.get(f"{fake_elb_server.url}/openapi.json", timeout=10).json())
