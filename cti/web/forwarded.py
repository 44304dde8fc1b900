"""Which client a web client's WebSocket is counted against (specs/web.md, "Rules of the
proxy"): the peer's address, or, when the peer is a reverse proxy the operator trusts
(``--web-trusted-proxy``, loopback by default), the address that proxy appended to
``X-Forwarded-For``. From any other peer the header is ignored: a client can write anything
into it, and would get as many per-address slots as addresses it names.

Pure: addresses and header values in, the counted key out. Only the standard library, so the
command line parses the option without loading the web face.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: The default: a reverse proxy on the node's own machine (as specs/web.md recommends).
LOOPBACK: tuple[Network, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)


def trusted_proxies(text: str) -> tuple[Network, ...]:
    """``--web-trusted-proxy`` / ``CTI_WEB_TRUSTED_PROXY``: comma-separated addresses
    (``10.0.0.5``, ``::1``) or networks (``10.0.0.0/24``), ``loopback`` (127.0.0.0/8 and
    ::1), or ``none`` alone (the header is never read). ValueError names a bad item."""
    items = [item.strip() for item in text.split(",")]
    if items == ["none"]:
        return ()
    out: list[Network] = []
    for item in items:
        if item == "loopback":
            out.extend(LOOPBACK)
            continue
        if item == "none":
            raise ValueError("'none' stands alone: it trusts no proxy")
        if not item:
            raise ValueError("an empty item: give addresses or networks, comma-separated")
        try:
            network = ipaddress.ip_network(item)
        except ValueError as exc:
            if "has host bits set" in str(exc):  # 10.0.0.1/24: which network was meant?
                raise ValueError(f"{item!r}: {exc}") from None
            raise ValueError(
                f"{item!r} is not an IP address or network (host names are not resolved)"
            ) from None
        out.append(_unmapped_network(network))
    return tuple(dict.fromkeys(out))  # in order, each once


def _unmapped(ip: Address) -> Address:
    """An IPv4 address seen through an IPv6 socket (``::ffff:192.0.2.9``) as IPv4."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _unmapped_network(network: Network) -> Network:
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            return ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}")
    return network


def is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = _unmapped(ipaddress.ip_address(address))
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def forwarded_client(peer: str, forwarded: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client's address: ``peer`` unless it is a trusted proxy; then, reading the
    ``X-Forwarded-For`` entries (``forwarded``: the header's values in order) from the right,
    the first that is not itself a trusted proxy — each proxy of a chain appends the address
    it got the request from, so the entries right of the client's are the chain's own. A
    malformed entry ends the walk at the last address read (what was left of it is the
    client's word, not a proxy's)."""
    address = peer
    if not is_trusted(peer, trusted):
        return address
    entries = [entry.strip() for value in forwarded for entry in value.split(",")]
    for entry in reversed(entries):
        try:
            address = str(_unmapped(ipaddress.ip_address(entry)))
        except ValueError:
            break
        if not is_trusted(address, trusted):
            break
    return address


def counted(address: str) -> str:
    """The key one client's connections share: an IPv6 address by its /64 prefix (a host
    holds at least a /64 and may use any address in it, so per address it could take every
    slot), an IPv4 one seen through an IPv6 socket as IPv4, loopback as it is."""
    try:
        ip = _unmapped(ipaddress.ip_address(address))
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and not ip.is_loopback:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
