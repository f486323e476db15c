"""The endpoint listens on loopback unless told otherwise, by name.

It runs any code a client uploads (that is its job: processing and training scripts) and
checks no credentials, so reachable from the network it is a remote shell. A host that is not
a loopback address (127.0.0.0/8, ::1, or a name resolving only to those) is refused unless
`--allow-remote` is given, e.g. inside a container whose port is published to the host only.
"""

from __future__ import annotations

import ipaddress
import socket

ALLOW_FLAG = "--allow-remote"


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(address.split("%")[0]).is_loopback for address in addresses)


def check_bind_address(host: str, allow_remote: bool) -> None:
    """ValueError naming the flag when `host` is not loopback and remote listening was not asked for."""
    if allow_remote or is_loopback(host):
        return
    raise ValueError(
        f"--host {host} is not a loopback address: the endpoint runs any code a client uploads and asks no "
        f"credentials, so it listens on 127.0.0.1 unless you pass {ALLOW_FLAG} (allow_remote=True) as well"
    )
