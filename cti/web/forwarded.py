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


#: X-Forwarded-For entries read at most, from the right. The walk only ever needs the
#: entries the chain of trusted proxies appended (a handful: one per proxy) and the one left
#: of them; whatever is further left is the client's own word. A trusted proxy passes on what
#: the client sent, so a header of a million commas (or 128 header lines of 8 KiB, what the
#: WebSocket library lets through) would otherwise be split and walked whole in the event
#: loop for every upgrade. 32 is far beyond any real chain; a walk that reads that many
#: trusted entries ends at the last one read, as at a malformed entry.
MAX_ENTRIES = 32


def forwarded_client(peer: str, forwarded: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client's address: ``peer`` unless it is a trusted proxy; then, reading the
    ``X-Forwarded-For`` entries (``forwarded``: the header's values in order) from the right,
    the first that is not itself a trusted proxy — each proxy of a chain appends the address
    it got the request from, so the entries right of the client's are the chain's own. An
    entry may carry a port (see :func:`entry_address`). A malformed entry ends the walk at
    the last address read (what was left of it is the client's word, not a proxy's), and so
    does the end of the last MAX_ENTRIES entries."""
    address = peer
    if not is_trusted(peer, trusted):
        return address
    for entry in last_entries(forwarded, MAX_ENTRIES):
        try:
            address = str(_unmapped(entry_address(entry)))
        except ValueError:
            break
        if not is_trusted(address, trusted):
            break
    return address


def last_entries(forwarded: Sequence[str], limit: int) -> list[str]:
    """The last ``limit`` comma-separated entries of the header values ``forwarded``, right
    to left and stripped. Each value is searched from its end for the commas needed: the
    rest of a huge value is neither split nor copied."""
    out: list[str] = []
    for value in reversed(forwarded):
        end = len(value)
        while len(out) < limit:
            comma = value.rfind(",", 0, end)
            out.append(value[comma + 1 : end].strip())
            if comma < 0:
                break
            end = comma
        if len(out) >= limit:
            break
    return out


def entry_address(entry: str) -> Address:
    """The address of one ``X-Forwarded-For`` entry, which is one of
    ``203.0.113.7``, ``203.0.113.7:4711``, ``2001:db8::1``, ``[2001:db8::1]`` or
    ``[2001:db8::1]:443`` (a port is dropped: 1 to 5 ASCII digits, at most 65535). An IPv6
    address with a port has brackets: ``2001:db8::1:443`` is the address it reads as.
    ValueError for anything else (a host name, ``[192.0.2.1]``, an empty or bad port)."""
    if entry.startswith("["):
        inside, bracket, after = entry[1:].partition("]")
        if not bracket or (after and not _port(after)):
            raise ValueError(f"{entry!r} is not an address")
        return ipaddress.IPv6Address(inside)
    host, colon, port = entry.partition(":")
    if colon and ":" not in port:  # one colon: IPv4 and a port (IPv6 has at least two)
        if not _port(colon + port):
            raise ValueError(f"{entry!r} is not an address")
        return ipaddress.IPv4Address(host)
    return ipaddress.ip_address(entry)


def _port(text: str) -> bool:
    """``:`` and a port number: 1 to 5 ASCII digits, at most 65535."""
    digits = text[1:]
    return (
        text[:1] == ":"
        and 0 < len(digits) <= 5
        and digits.isascii()
        and digits.isdigit()
        and int(digits) <= 65535
    )


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
