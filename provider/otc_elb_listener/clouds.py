"""``clouds.yaml`` as OpenStack tools read it, for ``elb:cloud`` / ``OS_CLOUD``.

Files are searched in OpenStack's order: ``OS_CLIENT_CONFIG_FILE``, then ``clouds.yaml`` in
the current directory, ``~/.config/openstack/`` and ``/etc/openstack/``; a ``secure.yaml``
beside the file found may hold the secrets of the same cloud. An entry gives the provider the
settings it would otherwise take from ``elb:*`` config: the IAM user (``auth_url``,
``username``, ``password``, ``user_domain_name``), the project (``project_name`` or
``project_id``), access keys (OTC's ``ak``/``sk`` extension), ``region_name``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigError

#: ``clouds.yaml`` names -> the provider's config keys.
_AUTH_KEYS = {"auth_url": "authUrl", "username": "userName", "password": "password",
              "user_domain_name": "domainName", "domain_name": "domainName",
              "project_name": "projectName", "project_id": "projectId", "ak": "accessKey",
              "access_key": "accessKey", "sk": "secretKey", "secret_key": "secretKey",
              "security_token": "securityToken", "token": "token"}


def search_path(environ: Mapping[str, str]) -> list[Path]:
    explicit = environ.get("OS_CLIENT_CONFIG_FILE")
    if explicit:
        return [Path(explicit)]
    return [Path.cwd() / "clouds.yaml", Path.home() / ".config" / "openstack" / "clouds.yaml",
            Path("/etc/openstack/clouds.yaml")]


def _read(path: Path) -> dict[str, Any]:
    """The ``clouds`` mapping of one file. Every problem is a ConfigError naming the file and
    never quoting it (a YAML error's own text shows the line, which may be a password); the
    error is raised outside the handler, so no exception chain keeps the text either."""
    import yaml

    problem = None
    try:
        loaded = yaml.safe_load(path.read_bytes().decode("utf-8")) or {}
    except OSError as error:
        problem = f"cannot be read ({type(error).__name__}: {error.strerror or 'unreadable'})"
    except UnicodeDecodeError as error:
        problem = f"is not UTF-8 text (a byte that is not UTF-8 at offset {error.start})"
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = (f"is not valid YAML{where} ({type(error).__name__}; the text is not shown, "
                   "as it may hold a secret)")
    if problem is not None:
        raise ConfigError(f"{path} {problem}")
    clouds = loaded.get("clouds") if isinstance(loaded, dict) else None
    return clouds if isinstance(clouds, dict) else {}


def _entry(path: Path, name: str, value: Any, what: str) -> dict[str, Any]:
    """A mapping the file must hold (a cloud entry, its ``auth``), or a ConfigError."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {what} of cloud {name!r} must be a mapping of settings, "
                          f"got a {type(value).__name__}")
    return value


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = _merge(merged.get(key) or {}, value) if isinstance(value, Mapping) \
            else value
    return merged


def load_cloud(name: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The provider settings of cloud ``name``; a ConfigError naming the files searched and
    the clouds found when there is no such entry."""
    searched = search_path(environ)
    for path in searched:
        if not path.is_file():
            continue
        clouds = _read(path)
        if name not in clouds:
            raise ConfigError(f"cloud {name!r} (elb:cloud or OS_CLOUD) is not in {path}; it "
                              f"has: {', '.join(sorted(clouds)) or 'no clouds'}")
        entry = dict(_entry(path, name, clouds[name], "the entry"))
        secure = path.with_name("secure.yaml")
        if secure.is_file():
            entry = _merge(entry, _entry(secure, name, _read(secure).get(name), "the entry"))
        auth = _entry(path, name, entry.get("auth"), "auth")
        settings = {_AUTH_KEYS[key]: str(value) for key, value in auth.items()
                    if key in _AUTH_KEYS and value not in (None, "")}
        if entry.get("region_name"):
            settings["region"] = str(entry["region_name"])
        if entry.get("verify") is False:
            settings["insecure"] = "true"
        if entry.get("cacert"):
            settings["cacert"] = str(entry["cacert"])
        return settings
    raise ConfigError(f"cloud {name!r} (elb:cloud or OS_CLOUD): no clouds.yaml found (looked "
                      f"in {', '.join(str(p) for p in searched)}; OS_CLIENT_CONFIG_FILE names "
                      "another)")
