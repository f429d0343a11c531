"""``fake_elb.ElbMocks``: Pulumi's own unit-test style (``set_mocks``) with this package's
rules and the fake's state, run as a user's test file runs (a pytest process of its own:
``set_mocks`` is process-wide)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

USER_TEST = textwrap.dedent('''
    import pulumi
    import pytest

    from fake_elb import CheckFailed, ElbMocks
    from otc_elb_listener import HealthCheck, HealthCheckArgs, Listener, ListenerArgs, \\
        get_listener


    class Other(pulumi.runtime.Mocks):
        def new_resource(self, args):
            return "bucket-7", {**args.inputs, "arn": "arn:bucket"}

        def call(self, args):
            return {}, []


    mocks = ElbMocks(Other())
    pulumi.runtime.set_mocks(mocks, preview=False)
    LB = mocks.add_loadbalancer(mocks.project_id)["id"]


    def args(**changes):
        base = dict(loadbalancer_id=LB, protocol="HTTP", backend_protocol="HTTP", port=80,
                    backend_port=8080, lb_algorithm="roundrobin", name="web")
        return ListenerArgs(**{**base, **changes})


    @pulumi.runtime.test
    def test_a_rule_broken_fails_naming_the_property_and_the_rule():
        web = Listener("bad", args(port=70000, lb_algorithm="x"))

        def check(_):
            raise AssertionError("the registration must fail")

        return web.port.apply(check)


    @pulumi.runtime.test
    def test_a_valid_program_gets_the_fakes_ids_and_outputs():
        web = Listener("web", args(port=81))
        check = HealthCheck("web-check", HealthCheckArgs(listener_id=web.listener_id))
        bucket = pulumi.CustomResource("aws:s3/bucket:Bucket", "b", {"name": "x"})

        def verify(values):
            listener_id, status, check_listener, bucket_id = values
            assert len(listener_id) == 32 and status == "ACTIVE"
            assert check_listener == listener_id and bucket_id == "bucket-7"
            assert [e["method"] for e in mocks.requests].count("POST") == 2
            assert get_listener(listener_id).port == 81  # lookups answered by the fake
            assert get_listener(loadbalancer_id=LB, port=81).listener_id == listener_id

        return pulumi.Output.all(web.listener_id, web.status, check.listener_id,
                                 bucket.id).apply(verify)
''')


def test_elb_mocks_run_the_rules_and_the_fake(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TEST)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "-p", "no:xdist", "-p", "no:schemathesis", "test_user.py"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    out = result.stdout + result.stderr
    assert "1 failed, 1 passed" in out, out
    assert "port: must be an integer from 1 to 65535, got 70000 [ELB.6041]" in out
    assert "lb_algorithm: must be one of" in out
