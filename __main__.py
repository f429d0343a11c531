"""Example Pulumi program: one HTTP listener on an existing classic load balancer.

Stack config: ``loadbalancerId`` (required), ``port`` (default 80), ``backendPort`` (default
8080); the provider reads ``elb:endpoint`` (or ``elb:region``), ``elb:projectId`` and the
secret ``elb:token``.
"""

import pulumi

from otc_elb_listener import Listener, ListenerArgs

config = pulumi.Config()

listener = Listener(
    "web",
    ListenerArgs(
        loadbalancer_id=config.require("loadbalancerId"),
        protocol="HTTP",
        backend_protocol="HTTP",
        port=config.get_int("port") or 80,
        backend_port=config.get_int("backendPort") or 8080,
        lb_algorithm="roundrobin",
        name="web",
        description="managed by Pulumi",
    ),
)

pulumi.export("listener_id", listener.listener_id)
pulumi.export("port", listener.port)
pulumi.export("status", listener.status)
pulumi.export("update_time", listener.update_time)
