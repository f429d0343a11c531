"""A certificate through the real CLI: one a listener still uses is not deleted. Its secret
key, its rotation and the dependency order of destroy are in ``test_program_folder.py``."""

from __future__ import annotations

from typing import Any

from fake_elb.engine import CliStack
from fake_elb.service.certificates import self_signed
from otc_elb_listener import Certificate, CertificateArgs, Listener, ListenerArgs
from tests.support import Elb


def _program(elb: Elb, cert: str, key: str) -> Any:
    def program() -> None:
        tls = Certificate("tls-cert", CertificateArgs(certificate=cert, private_key=key,
                                                      name="web"))
        Listener("tls", ListenerArgs(**elb.inputs(protocol="HTTPS", port=443, name="tls"),
                                     certificate_id=tls.certificate_id))
    return program


def _calls(elb: Elb, since: int) -> list[tuple[str, str]]:
    return [(e["method"], e["path"].rsplit("/elbaas/", 1)[1].split("/")[0])
            for e in elb.control.requests[since:]]


def _secret(value: Any) -> bool:
    return isinstance(value, dict) and \
        value.get("4dabf18193072939515e22adb298388d") == "1b47061264138c4ac30d75fd1eb44270"


def test_a_certificate_a_listener_uses_is_not_deleted(cli_stack: CliStack, elb: Elb) -> None:
    """api-rules.md Decision 22: deleting a certificate a listener still uses (here one made out of
    band) fails naming the listener, and nothing is deleted."""
    from fake_elb.engine import CliFailed
    from tests.support import PROJECT

    cert, key = self_signed()

    def only_the_certificate() -> None:
        Certificate("tls-cert", CertificateArgs(certificate=cert, private_key=key))

    up = cli_stack.run_program(only_the_certificate)
    assert up.ops() == {"tls-cert": "create"}
    cert_id = cli_stack.export()["resources"][-1]["id"]
    user = elb.control.add_listener(PROJECT, **elb.inputs(protocol="HTTPS", port=443),
                                    certificate_id=cert_id)
    since = elb.mark()
    try:
        cli_stack.destroy()
    except CliFailed as failed:
        assert f"is used by listener {user['id']}" in str(failed)
    else:
        raise AssertionError("deleting a certificate a listener uses must fail")
    assert elb.control.requests[since:][-1]["status"] == 400


def _scalar_runs(key: str) -> list[str]:
    """16-character runs of a P-256 PKCS#8 key's private scalar (base64 characters 48-91;
    the rest is a prefix every such key shares, and the public key the certificate holds)."""
    body = "".join(line for line in key.splitlines() if not line.startswith("-----"))
    return [body[i:i + 16] for i in range(48, 76, 4)]


def test_a_takeover_preview_prints_no_private_key(cli_stack: CliStack, elb: Elb) -> None:
    """``pulumi preview`` of a Certificate importing a live one whose key differs printed
    both PEM keys in its warning."""
    import pulumi

    from tests.support import PROJECT

    live = elb.control.add_certificate(PROJECT)
    live_key = _live_key(elb, live["id"])
    cert, key = self_signed()

    def program() -> None:
        Certificate("tls-cert", CertificateArgs(certificate=cert, private_key=key),
                    opts=pulumi.ResourceOptions(import_=live["id"]))

    cli_stack.run_program(program, preview=True)
    shown = cli_stack.output
    assert "importing certificate" in shown and "private_key is '***'" in shown
    assert not any(run in shown for secret in (key, live_key) for run in _scalar_runs(secret))


def _live_key(elb: Elb, cert_id: str) -> str:
    import requests

    from fake_elb import DEFAULT_TOKEN
    from tests.support import PROJECT

    answer = requests.get(f"{elb.control.url}/v1.0/{PROJECT}/elbaas/certificate",
                          headers={"X-Auth-Token": DEFAULT_TOKEN}, timeout=10).json()
    return str(next(c for c in answer["certificates"] if c["id"] == cert_id)["private_key"])
