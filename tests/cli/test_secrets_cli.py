"""No secret anywhere a real run leaves text: a stack signed in with an IAM password and
holding a certificate's private key goes through preview, up, a refused import, refresh and
destroy with the real CLI; its output, its state files, its export and the fake's journal
are walked for every secret it used, whole and as any run of 8 of its characters."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi

from fake_elb.engine import CliFailed, CliStack
from fake_elb.service.certificates import self_signed
from otc_elb_listener import Certificate, CertificateArgs
from tests.support import PROJECT, REPO, Elb

PASSWORD = 'Pw"q\\Z-sign-in-secret-4711'
DOMAIN = "OTC00000000001000000xyz"


def _runs(secret: str, size: int = 8) -> set[str]:
    return {secret[i:i + size] for i in range(len(secret) - size + 1)}


def _key_runs(key: str) -> set[str]:
    """8-character runs of a P-256 PKCS#8 key's private scalar (base64 characters 48-91)."""
    body = "".join(line for line in key.splitlines() if not line.startswith("-----"))
    return _runs(body[48:91])


def test_no_secret_in_any_output_of_a_whole_lifecycle(pulumi_cli: Path, elb: Elb) -> None:
    elb.control.add_user(DOMAIN, "deployer", PASSWORD, PROJECT, "eu-de_p")
    live = elb.control.add_certificate(PROJECT)
    cert, key = self_signed()
    config = {"elb:endpoint": elb.control.url, "elb:projectId": PROJECT,
              "elb:authUrl": f"{elb.control.url}/v3", "elb:userName": "deployer",
              "elb:domainName": DOMAIN}
    texts: list[str] = []
    with CliStack(config=config, secrets={"elb:password": PASSWORD}, cli=pulumi_cli,
                  pythonpath=[REPO]) as stack:
        def program(imported: bool) -> None:
            Certificate("tls-cert", CertificateArgs(certificate=cert, private_key=key,
                                                    name="web"))
            if imported:  # a different key: the import is refused, naming the field
                Certificate("taken", CertificateArgs(certificate=cert, private_key=key),
                            opts=pulumi.ResourceOptions(import_=live["id"]))

        texts.append(str(stack.run_program(lambda: program(False), preview=True)))
        texts.append(str(stack.run_program(lambda: program(False))))
        try:
            stack.run_program(lambda: program(True))
        except CliFailed as failed:
            texts.append(str(failed))
        else:
            raise AssertionError("the import of a certificate with another key must fail")
        texts.append(str(stack.refresh()))
        texts.append(json.dumps(stack.export()))
        texts.append(stack.state_text())
        texts.append(str(stack.destroy()))
        texts.append(stack.output)
    texts.append(json.dumps(elb.control.requests))
    everything = "\n".join(texts)
    assert "importing certificate" in everything and "private_key" in everything
    assert elb.control.requests, "the run reached the fake"
    forms = [PASSWORD, json.dumps(PASSWORD)[1:-1], repr(PASSWORD)[1:-1]]
    leaked = sorted(run for form in forms for run in _runs(form) if run in everything)
    leaked += sorted(run for run in _key_runs(key) if run in everything)
    assert leaked == []
