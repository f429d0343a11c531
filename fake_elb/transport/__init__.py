"""How requests reach the fake: in-process (``responses``), a loopback server, its client."""
