"""X-Forwarded-For as cti/web/forwarded.py reads it (specs/web.md, "Client addresses behind a
reverse proxy"): entries with ports, and a bounded walk over a huge header."""

from __future__ import annotations

import ipaddress
import tracemalloc
from ipaddress import ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.web.forwarded import MAX_ENTRIES, entry_address, forwarded_client, last_entries

PROXY = "10.0.0.5"
POOL = (ip_network("10.0.0.0/29"),)  # the trusted proxies: 10.0.0.0 to 10.0.0.7
PORTS = st.integers(min_value=0, max_value=65535)
# Clients outside the pool (an IPv4 one seen as IPv6 is IPv4: kept out of the pool too).
IPV4 = st.ip_addresses(v=4).filter(lambda ip: ip not in POOL[0])
IPV6 = st.ip_addresses(v=6).filter(lambda ip: ip.ipv4_mapped is None)


def client(*entries: str) -> str:
    return forwarded_client(PROXY, [", ".join(entries)], POOL)


@given(ip=IPV4, port=PORTS)
def test_an_ipv4_client_with_a_port_is_its_address(ip: ipaddress.IPv4Address, port: int) -> None:
    """A proxy that appends the client's port (`203.0.113.7:4711`) names the client; the port
    is dropped. It used to end the walk at the proxy's own address."""
    assert entry_address(f"{ip}:{port}") == ip
    assert client(f"{ip}:{port}") == str(ip)
    assert client("198.51.100.1", f"{ip}:{port}", "10.0.0.6:443") == str(ip)  # a chain


@given(ip=IPV6, port=PORTS)
def test_an_ipv6_client_in_brackets_is_its_address(ip: ipaddress.IPv6Address, port: int) -> None:
    """`[2001:db8::1]` and `[2001:db8::1]:443`: the address, with or without the port."""
    for entry in (f"[{ip}]", f"[{ip}]:{port}", str(ip)):
        assert entry_address(entry) == ip
        assert client(entry) == str(ip)
        assert client("198.51.100.1", entry, "[::ffff:10.0.0.6]:80") == str(ip)


@pytest.mark.parametrize(
    "entry",
    [
        "evil",
        "",
        "host.example:80",
        "[192.0.2.1]",  # IPv4 in brackets is no form of either
        "[192.0.2.1]:80",
        "192.0.2.1:",  # an empty port
        "192.0.2.1:65536",  # beyond the last port
        "192.0.2.1:123456",
        "192.0.2.1:+80",
        "192.0.2.1: 80",
        "192.0.2.1:8o",
        "192.0.2.1:\u0664\u0664\u0663",  # Arabic-Indic digits: digits, not ASCII ones
        "192.0.2.1:80:90",
        "[2001:db8::1]:",
        "[2001:db8::1]:x",
        "[2001:db8::1]80",
        "[2001:db8::1",
        "2001:db8::1]:80",
        "[[2001:db8::1]]",
        "[ 2001:db8::1 ]",
    ],
)
def test_anything_else_ends_the_walk_at_the_last_address_read(entry: str) -> None:
    with pytest.raises(ValueError):
        entry_address(entry)
    assert client("198.51.100.1", entry) == PROXY  # nothing read before it: the peer
    assert client("198.51.100.1", entry, "10.0.0.6") == "10.0.0.6"


def test_an_ipv6_address_with_a_port_needs_its_brackets() -> None:
    """Without them the port reads as the address's last group (2001:db8::1:443 is an address
    of its own), as any reader of the header must take it."""
    assert client("2001:db8::1:443") == "2001:db8::1:443"


# -- a huge header -------------------------------------------------------------------------
def tail(header: str) -> str:
    return ",".join(header.split(",")[-MAX_ENTRIES:])


@pytest.mark.parametrize(
    ("header", "client"),
    [
        # A client left of a longer run of trusted proxies than the walk reads: read whole, the
        # walk came to 203.0.113.9; read by its tail, it ends at the last proxy read.
        ("203.0.113.9, " + "10.0.0.6, " * 100_000 + "10.0.0.7", "10.0.0.6"),
        # A million commas the client wrote, then its address as the proxy appended it.
        ("," * 1_000_000 + "203.0.113.7", "203.0.113.7"),
        ("203.0.113.9, " + "10.0.0.6:8080, " * 70_000 + "[::ffff:10.0.0.7]:443", "10.0.0.6"),
    ],
    ids=["long-chain", "commas", "ports"],
)
def test_a_huge_header_is_read_by_its_tail(header: str, client: str) -> None:
    """A trusted proxy passes on whatever the client wrote: only the last MAX_ENTRIES entries
    are read, and the header is not split whole (that makes one string per entry, hundreds of
    thousands of them: far more memory than the header itself; reading its tail at most
    copies it once)."""
    assert len(header) >= 1_000_000
    expected = forwarded_client(PROXY, [tail(header)], POOL)
    assert expected == client
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        found = forwarded_client(PROXY, [header], POOL)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if started:
            tracemalloc.stop()
    assert found == expected
    assert peak < 2 * len(header), f"{peak} bytes allocated for a header of {len(header)}"


def test_a_run_of_trusted_proxies_longer_than_the_bound_ends_at_the_last_one_read() -> None:
    """At most MAX_ENTRIES entries are read: a chain of one less trusted proxies still
    reaches its client; one of as many ends at the last proxy read."""
    chain = [f"10.0.0.{1 + n % 7}" for n in range(MAX_ENTRIES)]
    assert client("203.0.113.9", *chain[1:]) == "203.0.113.9"
    assert client("203.0.113.9", *chain) == chain[0]


def test_the_bound_counts_entries_over_all_headers_from_the_last() -> None:
    """Several X-Forwarded-For headers are one list in order: the tail spans them."""
    headers = ["203.0.113.9", "10.0.0.6, " * (MAX_ENTRIES - 3) + "10.0.0.6", "10.0.0.7"]
    assert forwarded_client(PROXY, headers, POOL) == "203.0.113.9"  # MAX_ENTRIES in all
    assert forwarded_client(PROXY, ["203.0.113.9", "10.0.0.1", *headers[1:]], POOL) == "10.0.0.1"
    many = ["10.0.0.6"] * 200 + ["203.0.113.7, 10.0.0.6"]  # many header lines
    assert forwarded_client(PROXY, many, POOL) == "203.0.113.7"


@given(
    values=st.lists(
        st.lists(st.sampled_from(["10.0.0.6", " 203.0.113.7 ", "", "x", "[::1]:80"]), max_size=6),
        max_size=5,
    ).map(lambda vs: [",".join(v) for v in vs]),
    limit=st.integers(min_value=1, max_value=8),
)
def test_the_tail_is_the_last_entries_of_the_split_headers(values: list[str], limit: int) -> None:
    """``last_entries`` finds what splitting every header whole and taking the end would."""
    whole = [entry.strip() for value in values for entry in value.split(",")]
    assert last_entries(values, limit) == whole[::-1][:limit]
