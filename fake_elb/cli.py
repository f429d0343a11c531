"""``fake-elb serve``: run the fake ELB as a local server until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .server import FakeElbServer
from .store import DEFAULT_TOKEN


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fake-elb", description="In-memory fake of the "
                                     "classic ELB (v1.0) listener API.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the API over HTTP on loopback; the first "
                                "line of output is the base URL")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default "
                       "127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    serve.add_argument("--token", action="append", help="accepted X-Auth-Token (repeatable; "
                       f"default {DEFAULT_TOKEN!r})")
    serve.add_argument("--strict", action="store_true", help="refuse fields that do not apply "
                       "to a listener (the real service ignores them)")
    args = parser.parse_args(argv)

    server = FakeElbServer(args.host, args.port, tokens=args.token or (DEFAULT_TOKEN,),
                           strict=args.strict)
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.start()
    sys.stdout.write(server.url + "\n")
    sys.stdout.flush()
    stopping.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
