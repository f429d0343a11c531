"""The stack config an offline engine hands the provider, and the rule that keeps it offline."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .model import HarnessError


def stack_file_config(path: Path, project: str) -> dict[str, Any]:
    """The ``config:`` of ``Pulumi.<stack>.yaml``, as plain values (secure values cannot be
    decrypted offline and are refused with a clear error)."""
    if not path.exists():
        return {}
    import yaml

    loaded = yaml.safe_load(path.read_text()) or {}
    config = loaded.get("config") or {}
    result: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict) and "secure" in value:
            raise HarnessError(f"{path.name}: {key} is encrypted; pass it in secrets= instead")
        result[key if ":" in key else f"{project}:{key}"] = value
    return result


def refuse_remote(config: Mapping[str, Any], project: str, allow_remote: bool) -> None:
    """Offline tooling never talks to a real cloud unless told to."""
    if allow_remote:
        return
    from urllib.parse import urlsplit

    endpoint = config.get("elb:endpoint")
    if endpoint is None:
        if config.get("elb:region") is not None:
            raise HarnessError("elb:region without elb:endpoint would reach the real cloud; "
                               "set elb:endpoint to the fake's URL (or allow_remote=True)")
        return
    host = urlsplit(str(endpoint)).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1") and not host.endswith(".invalid"):
        raise HarnessError(f"elb:endpoint {endpoint!r} is not loopback: offline tests do not "
                           "talk to a real cloud (pass allow_remote=True to mean it)")
