"""The server's listening socket and its connection cap, chosen from the machine's limits."""

from __future__ import annotations

import socket


def default_max_connections() -> int:
    """Well below the open-file limit, so the server never runs out of descriptors (at the
    limit, accept() fails at once, again and again)."""
    import resource

    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return max(16, min(512, (soft if soft > 0 else 1024) - 128))


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket, bound now so that a taken port fails the constructor (IPv4 first
    when a name resolves to both)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, _, _, address = next((info for info in infos if info[0] == socket.AF_INET),
                                    infos[0])
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock
