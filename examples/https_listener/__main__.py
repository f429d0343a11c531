"""An HTTPS listener with everything that hangs off it: its certificate, its health check and
its backend members. Stack config: ``loadbalancerId``, ``certificate`` (PEM), the secret
``privateKey`` (PEM), ``servers`` (a list of ``{"name", "id", "address"}``) and
``healthcheckInterval`` (default 10); the provider reads ``elb:*`` as for any listener.
"""

import pulumi

import otc_elb_listener as elb

config = pulumi.Config()

cert = elb.Certificate("web-cert", elb.CertificateArgs(
    certificate=config.require("certificate"),
    private_key=config.require_secret("privateKey"), name="web"))
web = elb.Listener("web", elb.ListenerArgs(
    loadbalancer_id=config.require("loadbalancerId"), protocol="HTTPS", port=443,
    backend_protocol="HTTP", backend_port=8080, lb_algorithm="roundrobin", name="web",
    certificate_id=cert.certificate_id))
elb.HealthCheck("web-check", elb.HealthCheckArgs(
    listener_id=web.listener_id, healthcheck_uri="/health",
    healthcheck_interval=config.get_int("healthcheckInterval") or 10))
for server in config.require_object("servers"):
    elb.Member(f"web-{server['name']}", elb.MemberArgs(
        listener_id=web.listener_id, server_id=server["id"], address=server["address"]))

pulumi.export("listener_id", web.listener_id)
