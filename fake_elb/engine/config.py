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
    """Offline tooling never talks to a real cloud unless told to: the ELB endpoint and the
    IAM endpoint must be loopback, a region needs a loopback endpoint beside it, and a
    ``clouds.yaml`` cloud is not followed (its entry would name a real IAM and region). The
    provider host checks every address again (:mod:`otc_elb_listener.offline`)."""
    if allow_remote:
        return
    from otc_elb_listener.offline import is_loopback

    for key in ("elb:endpoint", "elb:authUrl"):
        value = config.get(key)
        if value is not None and not is_loopback(str(value)):
            raise HarnessError(f"{key} {value!r} is not loopback: offline tests do not talk "
                               "to a real cloud (pass allow_remote=True to mean it)")
    if config.get("elb:endpoint") is None and config.get("elb:region") is not None:
        raise HarnessError("elb:region without elb:endpoint would reach the real cloud; "
                           "set elb:endpoint to the fake's URL (or allow_remote=True)")
    if config.get("elb:cloud") is not None:
        raise HarnessError(f"elb:cloud {config['elb:cloud']!r} would sign in where that "
                           "clouds.yaml entry says, a real cloud's IAM: offline tests set "
                           "elb:endpoint and elb:token (or a user with a loopback "
                           "elb:authUrl) instead (or pass allow_remote=True to mean it)")
