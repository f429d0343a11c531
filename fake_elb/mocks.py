"""``ElbMocks``: Pulumi's unit-test style (``pulumi.runtime.set_mocks``) with this package's
rules and the fake's state (docs/fake.md, "Unit tests with mocks").

Under Pulumi's plain mocks no provider code runs: ``port=70000`` passes. ``ElbMocks`` runs
each resource of this package through its real provider against an in-process fake: ``check``
judges the inputs (a broken rule fails the registration, naming the property and the rule,
as the preview would), ``create`` makes the object in the fake, and the IDs and outputs are
the fake's, ``listener_id`` included. Its ``call`` answers the lookups (``get_listener``,
...) from the same fake. Any other resource type goes to ``other``, a mocks object of the
user's. It seeds and steers like the other fakes (``add_loadbalancer``, ``requests``, ...),
and answers for one project, its ``project_id``.
"""

from __future__ import annotations

from typing import Any

import pulumi

from .engine.model import CheckFailed
from .engine.wire import unwrap_secrets
from .service.store import DEFAULT_TOKEN
from .transport.inprocess import DEFAULT_ENDPOINT, MockElb

#: Set once an ElbMocks exists in this process: the pytest plugin then collects garbage after
#: each test (see ``fake_elb.pytest_plugin.pytest_runtest_teardown``).
in_use = False
#: The project ElbMocks answers for unless told another.
MOCKS_PROJECT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
_PROVIDERS = {"Listener": "listener.ListenerProvider",
              "HealthCheck": "healthcheck.HealthCheckProvider",
              "Certificate": "certificate.CertificateProvider",
              "Member": "member.MemberProvider", "Members": "members.MembersProvider"}


class ElbMocks(pulumi.runtime.Mocks):
    """``pulumi.runtime.set_mocks(ElbMocks(), preview=False)``; ``other`` answers every other
    resource type (default: its inputs echoed, ID ``<name>_id``)."""

    def __init__(self, other: pulumi.runtime.Mocks | None = None, *,
                 project_id: str = MOCKS_PROJECT_ID, endpoint: str = DEFAULT_ENDPOINT) -> None:
        self.other = other
        self.project_id = project_id
        self.fake = MockElb(endpoint)
        self.fake.start()  # answers requests to the fake's endpoint from now on
        self._providers: dict[str, Any] = {}
        global in_use
        in_use = True

    def __getattr__(self, name: str) -> Any:  # seeding and steering: the fake's own
        if name == "fake":
            raise AttributeError(name)
        return getattr(self.fake, name)

    def close(self) -> None:
        """Stop answering requests (the test's end)."""
        self.fake.stop()

    def _provider(self, kind: str) -> Any:
        found = self._providers.get(kind)
        if found is None:
            from importlib import import_module

            from pulumi.dynamic import ConfigureRequest
            from pulumi.dynamic.config import Config

            module, name = _PROVIDERS[kind].split(".")
            found = getattr(import_module(f"otc_elb_listener.{module}"), name)()
            found.configure(ConfigureRequest(Config({
                "elb:endpoint": self.fake.endpoint, "elb:projectId": self.project_id,
                "elb:token": DEFAULT_TOKEN, "elb:jobTimeout": "60"}, "mocks")))
            self._providers[kind] = found
        return found

    def new_resource(self, args: pulumi.runtime.MockResourceArgs
                     ) -> tuple[str | None, dict[str, Any]]:
        prefix = "pulumi-python:dynamic/elb:"
        kind = args.typ[len(prefix):] if args.typ.startswith(prefix) else None
        if kind not in _PROVIDERS:
            if self.other is not None:
                return self.other.new_resource(args)
            return f"{args.name}_id", dict(args.inputs)
        provider = self._provider(str(kind))
        news = {k: unwrap_secrets(v) for k, v in args.inputs.items()}
        checked = provider.check({}, news)
        if checked.failures:
            raise CheckFailed(args.name, [(f.property, f.reason) for f in checked.failures])
        created = provider.create(dict(checked.inputs or {}))
        return created.id, dict(created.outs or {})

    def call(self, args: pulumi.runtime.MockCallArgs
             ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        from otc_elb_listener.lookups import TOKENS, answer

        if args.token in TOKENS.values():
            client = self._provider("Listener")._api()
            return answer(args.token, dict(args.args), client), []
        if self.other is not None:
            return self.other.call(args)
        return {}, []
