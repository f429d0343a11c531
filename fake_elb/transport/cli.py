"""``fake-elb serve``: run the fake ELB as a local server until SIGTERM/SIGINT.

The fake has no real security (a fixed token, a control plane without auth), so it binds
loopback unless told otherwise, and says so loudly when it is. Problems a user can fix (a port
in use or out of range, a host that does not resolve) are one line on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import json
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import FrameType

from ..service.errors import ApiError
from ..service.store import DEFAULT_TOKEN
from .server import FakeElbServer

LOOPBACK_NAMES = frozenset({"localhost"})


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is out of range: a port is 0 to 65535 "
                                         "(0: a free one)")
    return port


def _is_loopback(host: str) -> bool:
    """Does every address ``host`` resolves to stay on this machine? (``socket.gaierror``
    when it does not resolve.)"""
    if host in LOOPBACK_NAMES:
        return True
    addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    return all(ipaddress.ip_address(str(address).split("%")[0]).is_loopback
               for address in addresses)


def _version() -> str:
    try:
        return version("otc-elb-listener")
    except PackageNotFoundError:
        return "unknown (not installed)"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="fake-elb", description="In-memory fake of the "
                                  "classic ELB (v1.0) listener API.")
    top.add_argument("--version", action="version", version=f"fake-elb {_version()}")
    commands = top.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the API over HTTP on loopback; the first "
                                "line of output is the base URL")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default "
                       "127.0.0.1; anything but loopback needs --allow-remote)")
    serve.add_argument("--port", type=_port, default=0, help="port (default 0: a free one)")
    serve.add_argument("--token", action="append", help="accepted X-Auth-Token (repeatable; "
                       f"default {DEFAULT_TOKEN!r})")
    serve.add_argument("--strict", action="store_true", help="refuse fields that do not apply "
                       "to a listener (the real service ignores them)")
    serve.add_argument("--log", action="store_true", help="an access log on stderr: method, "
                       "path, status, time")
    serve.add_argument("--allow-remote", action="store_true", help="allow binding an address "
                       "other hosts can reach (the fake has no real security)")
    serve.add_argument("--token-ttl", type=float, default=24 * 3600.0, help="lifetime in "
                       "seconds of IAM tokens from POST /v3/auth/tokens (default 86400)")
    serve.add_argument("--idle-timeout", type=float, default=30.0, help="close a connection "
                       "that has not sent a whole request within this many seconds of falling "
                       "idle (default 30)")
    serve.add_argument("--header-timeout", type=float, default=10.0, help="answer 408 and "
                       "close a connection whose request line and headers take longer than "
                       "this many seconds from their first byte (default 10)")
    serve.add_argument("--state", type=Path, default=None, help="load the estate from this "
                       "JSON file at start (when it exists) and write it back at exit "
                       "(docs/fake.md, \"State\")")
    serve.add_argument("--max-connections", type=int, default=None, help="connections served "
                       "at once; at the limit the longest-idle (or slowest to send its head) "
                       "one makes room, and one more is "
                       "closed on accept only when all are busy (default: 512, or less under a "
                       "low open-file limit)")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        loopback = _is_loopback(args.host)
    except (socket.gaierror, UnicodeError) as error:
        print(f"fake-elb: cannot bind {args.host}: the host does not resolve ({error})",
              file=sys.stderr)
        return 2
    if not loopback and not args.allow_remote:
        print(f"fake-elb: refusing to bind {args.host}: the fake has no real security; pass "
              "--allow-remote to mean it", file=sys.stderr)
        return 2

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        server = FakeElbServer(args.host, args.port, tokens=args.token or (DEFAULT_TOKEN,),
                               strict=args.strict, access_log=log if args.log else None,
                               idle_timeout=args.idle_timeout,
                               header_timeout=args.header_timeout,
                               max_connections=args.max_connections,
                               token_ttl=args.token_ttl)
    except socket.gaierror as error:
        print(f"fake-elb: cannot bind {args.host}: the host does not resolve ({error.strerror})",
              file=sys.stderr)
        return 2
    except OSError as error:
        reason = "the port is in use" if error.errno == errno.EADDRINUSE else error.strerror
        print(f"fake-elb: cannot bind {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 2
    if not loopback:
        print(f"fake-elb: WARNING: serving on {args.host}, reachable from other hosts; the "
              "fake has no real security (a fixed token, an open control plane)",
              file=sys.stderr)
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if not _load_state(server, args.state):
        return 2
    server.start()
    sys.stdout.write(server.url + "\n")
    sys.stdout.flush()
    print(f"fake-elb: serving the classic ELB listener API at {server.url}"
          f"{' (strict mode)' if args.strict else ''}; stop it with Ctrl-C (or SIGTERM)",
          file=sys.stderr, flush=True)
    stopping.wait()
    server.stop()
    if args.state is not None:
        _save_state(server, args.state)
    return 0


def _load_state(server: FakeElbServer, path: Path | None) -> bool:
    """The estate of ``--state``, when the file exists; ``False`` (said) when it is bad."""
    if path is None or not path.exists():
        return True
    try:
        server.state.load(json.loads(path.read_text()))
    except (ValueError, ApiError) as error:
        print(f"fake-elb: cannot load the state {path}: {error}", file=sys.stderr)
        return False
    return True


def _save_state(server: FakeElbServer, path: Path) -> None:
    """The estate written whole, then moved into place: never half a file."""
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(server.state.dump(), indent=1, sort_keys=True))
    partial.replace(path)


if __name__ == "__main__":
    sys.exit(main())
