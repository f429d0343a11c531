"""A certificate, a listener, its health check and its members, every field the plan matrix
changes read from stack config: ``loadbalancerId``, ``certificate`` and secret ``privateKey``
(PEM), ``protocol`` (HTTPS or HTTP), ``port``, ``name``, ``description``, ``interval`` and
``servers`` (``[{"name", "id", "address"}]``)."""

import pulumi

import otc_elb_listener as elb

config = pulumi.Config()
protocol = config.get("protocol") or "HTTPS"
cert = elb.Certificate("web-cert", elb.CertificateArgs(
    certificate=config.require("certificate"),
    private_key=config.require_secret("privateKey"), name="web"))
web = elb.Listener("web", elb.ListenerArgs(
    loadbalancer_id=config.require("loadbalancerId"), protocol=protocol,
    port=config.get_int("port") or 443, backend_protocol="HTTP", backend_port=8080,
    lb_algorithm="roundrobin", name=config.get("name") or "web",
    description=config.get("description") or "",
    certificate_id=cert.certificate_id if protocol == "HTTPS" else None))
elb.HealthCheck("web-check", elb.HealthCheckArgs(
    listener_id=web.listener_id, healthcheck_uri="/health",
    healthcheck_interval=config.get_int("interval") or 10))
for server in config.require_object("servers"):
    elb.Member(f"web-{server['name']}", elb.MemberArgs(
        listener_id=web.listener_id, server_id=server["id"], address=server["address"]))

pulumi.export("listener_id", web.listener_id)
