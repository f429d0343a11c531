"""A scripted walk through the listener API against a freshly started ``fake-elb serve``.

Run with ``python -m examples.api_tour``. It starts the fake server as a separate process, registers
a load balancer, then creates, modifies (the PUT page's own example), breaks a rule on
purpose, lists and deletes a listener, printing each call and what came back. The server is
stopped at the end, whatever happens.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from fake_elb import DEFAULT_TOKEN, serve_in_subprocess

PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def show(step: str, response: requests.Response) -> Any:
    body = response.json() if response.content else None
    print(f"\n== {step}: {response.request.method} {response.request.path_url} -> "
          f"{response.status_code}")
    if body is not None:
        print(json.dumps(body, indent=2, ensure_ascii=False))
    return body


def main() -> None:
    with serve_in_subprocess() as fake:
        print(f"fake ELB serving at {fake.url}")
        lb = fake.add_loadbalancer(PROJECT, type="External")
        print(f"registered load balancer {lb['id']} (External)")
        api = requests.Session()
        api.headers["X-Auth-Token"] = DEFAULT_TOKEN
        base = f"{fake.url}/v1.0/{PROJECT}/elbaas/listeners"

        created = show("create an HTTP listener", api.post(base, json={
            "name": "web", "loadbalancer_id": lb["id"], "protocol": "HTTP", "port": 80,
            "backend_protocol": "HTTP", "backend_port": 8080, "lb_algorithm": "roundrobin"}))
        url = f"{base}/{created['id']}"
        show("modify it (the API page's example request)", api.put(url, json={
            "name": "lis", "description": "", "port": 9090, "backend_port": 9090,
            "lb_algorithm": "roundrobin"}))
        show("a rule broken on purpose: tcp_timeout on an HTTP listener",
             api.put(url, json={"tcp_timeout": 5}))
        show("the classic float bug: port 9091.0", api.put(url, json={"port": 9091.0}))
        listed = show("list by load balancer", api.get(base, params={"loadbalancer_id": lb["id"]}))
        show("delete", api.delete(url))
        print(f"\n{len(fake.requests)} API calls journaled by the fake; listeners left: "
              f"{len(listed) - 1}. Server stopped.")


if __name__ == "__main__":
    main()
