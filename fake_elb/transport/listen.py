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


def own_hosts(sock: socket.socket) -> frozenset[str] | None:
    """The ``Host`` values a server on ``sock`` answers (its address, ``localhost`` when
    that is loopback; each bare and with the port), or ``None`` when bound to every address
    (``--host 0.0.0.0``, chosen on purpose): then any name may reach it."""
    import ipaddress

    address, port = sock.getsockname()[:2]
    if ipaddress.ip_address(address).is_unspecified:
        return None
    bound = f"[{address}]" if ":" in address else address
    names = {bound}
    if ipaddress.ip_address(address).is_loopback:
        names.add("localhost")
    # The bare name too: a browser always sends a port other than 80, so no page can send it.
    return frozenset(name for bare in names for name in (bare, f"{bare}:{port}"))
