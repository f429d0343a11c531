"""A listener's ``certificates`` field in the fake, on every protocol."""

from __future__ import annotations

import pytest

from fake_elb import MockElb, ServerControl
from tests.support import PROJECT, Api, url_of


@pytest.fixture
def fake(bare_fake: MockElb | ServerControl) -> MockElb | ServerControl:
    """The fake itself in each transport (not the suite's ``Fake`` wrapper)."""
    return bare_fake


@pytest.mark.parametrize("protocol", ["HTTP", "TCP"])
def test_certificates_items_must_be_strings_on_any_listener(
        fake: MockElb | ServerControl, protocol: str) -> None:
    lb = fake.add_loadbalancer(PROJECT)["id"]
    api = Api(url_of(fake))
    body = {"loadbalancer_id": lb, "protocol": protocol, "backend_protocol": protocol,
            "port": 80, "backend_port": 8080, "lb_algorithm": "roundrobin", "name": "web"}
    refused = api.create({**body, "certificates": [5]})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "ELB.1001"
    assert "certificates" in refused.text and api.list().json() == []
    created = api.create(body).json()
    refused = api.put(created["id"], {"certificates": [5]})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "ELB.1001"
    assert api.get(created["id"]).json()["update_time"] == created["update_time"]


# -- 17-19. the server: slow heads, 100 Continue, 414 -------------------------------------------
