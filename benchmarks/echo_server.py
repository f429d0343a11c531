"""The server-mode floor: the fake server's own stack (asyncio + httptools, TCP_NODELAY, one
write per answer) with nothing behind it but a JSON echo.

``python -m benchmarks.echo_server`` serves that; ``--stdlib`` serves the same echo from the
standard library's ``ThreadingHTTPServer`` (the stack the fake used before). Each prints its
base URL first and serves until killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import httptools


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.parser = httptools.HttpRequestParser(self)
        self.body: list[bytes] = []

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, chunk: bytes) -> None:
        self.body.append(chunk)

    def on_message_complete(self) -> None:
        payload = json.dumps(json.loads(b"".join(self.body))).encode()
        self.body = []
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload))


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        payload = json.dumps(json.loads(body)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


async def _serve_asyncio() -> None:
    server = await asyncio.get_running_loop().create_server(EchoProtocol, "127.0.0.1", 0)
    print(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


def main() -> None:
    with contextlib.suppress(KeyboardInterrupt):
        if "--stdlib" in sys.argv[1:]:
            server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
            server.daemon_threads = True
            print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
            server.serve_forever()
        else:
            asyncio.run(_serve_asyncio())
    sys.exit(0)


if __name__ == "__main__":
    main()
