"""The offline guard (``otc_elb_listener.offline``): every ELB and IAM address is judged with
the parser the transport connects with, look-alikes are refused, and only literal loopback
IPs and ``localhost`` count as this machine; the engines refuse the same addresses."""

from __future__ import annotations

from pathlib import Path

import pytest
import responses

from fake_elb.engine import HarnessError, OfflineStack
from otc_elb_listener import ElbClient, RetrySettings
from otc_elb_listener.auth import PasswordAuth, PasswordTokens
from otc_elb_listener.offline import OFFLINE_VARIABLE, guard, is_loopback
from otc_elb_listener.settings import ConfigError, checked_endpoint, resolve_settings
from tests.support import PROJECT

#: Look like this machine to one parser or another; reach another host (or may).
LOOK_ALIKES = [
    "http://evil.example\\@127.0.0.1",  # urllib3 connects to evil.example
    "http://evil.example\\@127.0.0.1:8080/",
    "http://127.0.0.1@evil.example",
    "http://127.0.0.1:80@evil.example",
    "http://user:pw@127.0.0.1:8080",
    "http://127.1", "http://2130706433", "http://0x7f000001", "http://0177.0.0.1",
    "http://017700000001", "http://[::ffff:127.0.0.1]", "http://127.0.0.1.nip.io",
    "http://localtest.me", "http://elb.localhost", "http://elb.fake-elb.invalid",
    "http://127.0.0.1 .evil.example", "http://127.0.0.1\t:8080", " http://127.0.0.1",
    "http://127.0.0.1\n@evil.example", "http://evil.example#@127.0.0.1",
]
LOOPBACK = ["http://127.0.0.1:8080", "http://127.0.0.2", "http://localhost:1",
            "http://LOCALHOST", "http://[::1]:8080", "https://127.0.0.1/v3"]


@pytest.mark.parametrize("url", LOOK_ALIKES)
def test_a_look_alike_is_not_loopback(url: str) -> None:
    assert not is_loopback(url)
    with pytest.raises(ConfigError):
        guard(url, "the ELB endpoint", {OFFLINE_VARIABLE: "1"})


@pytest.mark.parametrize("url", LOOPBACK)
def test_loopback_is_loopback(url: str) -> None:
    assert is_loopback(url)
    guard(url, "the ELB endpoint", {OFFLINE_VARIABLE: "1"})


@pytest.mark.parametrize("url", ["http://evil.example\\@127.0.0.1", "http://u:p@elb.example",
                                 "http://elb.exa mple", "http://elb.example\r\nX: y"])
def test_a_url_a_second_parser_could_read_otherwise_is_refused_online_too(url: str) -> None:
    with pytest.raises(ConfigError, match="not a URL the provider will send to"):
        guard(url, "the ELB endpoint", {})
    with pytest.raises(ConfigError, match="elb:endpoint"):
        checked_endpoint(url, "elb:endpoint")


def test_the_password_goes_nowhere_a_look_alike_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(OFFLINE_VARIABLE, "1")
    auth = PasswordAuth("http://evil.example\\@127.0.0.1/v3", "u", "pw-secret-1", "d",
                        PROJECT)
    with responses.RequestsMock() as mocked, pytest.raises(ConfigError) as refused:
        PasswordTokens(auth, timeout=1).current()
    assert len(mocked.calls) == 0 and "pw-secret" not in str(refused.value)


def test_the_elb_client_refuses_a_look_alike_from_a_token_catalog(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(OFFLINE_VARIABLE, "1")
    settings = resolve_settings({"endpoint": "http://127.0.0.1:9", "token": "t",
                                 "projectId": PROJECT}, {})
    ElbClient.from_settings(settings, timeout=1, retry=RetrySettings())
    with pytest.raises(ConfigError, match="the ELB endpoint is not a URL the provider"):
        ElbClient.from_settings(settings.__class__(
            endpoint="http://evil.example\\@127.0.0.1", project_id=PROJECT, token="t"),
            timeout=1, retry=RetrySettings())


@pytest.mark.parametrize("key", ["elb:endpoint", "elb:authUrl"])
@pytest.mark.parametrize("url", ["http://evil.example\\@127.0.0.1:9", "http://127.1:9",
                                 "http://elb.localhost:9"])
def test_the_engine_refuses_a_look_alike(key: str, url: str, tmp_path: Path) -> None:
    config = {"elb:endpoint": "http://127.0.0.1:9", "elb:token": "t", key: url}
    with pytest.raises(HarnessError, match="is not loopback"):
        OfflineStack(config=config, cwd=tmp_path)


@pytest.mark.parametrize("endpoint", ["https://elb.example/v1.0", "https://elb.example/x/",
                                      "https://elb.example?x=1", "https://elb.example#top"])
def test_an_endpoint_with_a_path_query_or_fragment_is_refused(endpoint: str) -> None:
    """It 404ed on every call: the provider adds ``/v1.0/<project>/elbaas`` itself."""
    with pytest.raises(ConfigError, match="path, query or fragment"):
        checked_endpoint(endpoint, "elb:endpoint")
    assert checked_endpoint("https://elb.example/", "elb:endpoint") == "https://elb.example"
