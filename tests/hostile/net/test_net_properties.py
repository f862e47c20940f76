"""Properties (hypothesis): URL canonicalisation and the address policy never raise anything but
their documented errors, every notation of an address is that address, and a refused address
is never connected to."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsdesk.fetch import Fetcher, FetchError
from newsdesk.fetch.address import AddressError, AddressPolicy, parse_ip
from newsdesk.urls import canonicalize_url, is_tracking_param

PRIVATE = [ipaddress.ip_network(n) for n in ("127.0.0.0/8", "10.0.0.0/8", "169.254.0.0/16", "192.168.0.0/16",
                                             "172.16.0.0/12", "0.0.0.0/8", "100.64.0.0/10", "224.0.0.0/4",
                                             "240.0.0.0/4")]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

private_ints = st.sampled_from(PRIVATE).flatmap(
    lambda net: st.integers(int(net.network_address), int(net.broadcast_address)))
public_ints = st.integers(0, 2**32 - 1).filter(
    lambda n: ipaddress.IPv4Address(n).is_global and not ipaddress.IPv4Address(n).is_multicast)


def _part(value: int, style: str) -> str:
    return {"dec": str(value), "hex": hex(value), "oct": "0" + oct(value)[2:] if value else "0"}[style]


@st.composite
def notations(draw, numbers) -> tuple[int, str]:
    """An address and one way of writing it (integer, 2/3/4 parts, each part in its own base)."""
    value = draw(numbers)
    b = value.to_bytes(4, "big")
    parts = draw(st.sampled_from([
        [value], [b[0], int.from_bytes(b[1:], "big")], [b[0], b[1], int.from_bytes(b[2:], "big")], list(b)]))
    written = ".".join(_part(p, draw(st.sampled_from(["dec", "hex", "oct"]))) for p in parts)
    form = draw(st.sampled_from(["plain", "trailing_dot", "upper", "mapped"]))
    if form == "trailing_dot":
        written += "."
    elif form == "upper":
        written = written.upper()
    elif form == "mapped":
        written = f"[::ffff:{ipaddress.IPv4Address(value)}]"
    return value, written


@given(notations(private_ints))
@SETTINGS
@pytest.mark.slow
def test_every_notation_of_a_private_address_is_refused(case):
    value, written = case
    ip = parse_ip(written)
    assert (ip.ipv4_mapped if ip.version == 6 else ip) == ipaddress.IPv4Address(value)
    with pytest.raises(AddressError):
        AddressPolicy().check_host(written)


@given(notations(public_ints))
@SETTINGS
@pytest.mark.slow
def test_every_notation_of_a_public_address_is_allowed(case):
    value, written = case
    assert AddressPolicy().check_host(written) is not None


@given(st.text(max_size=60))
@SETTINGS
def test_policy_raises_only_address_errors_on_any_host(host):
    try:
        AddressPolicy().check_host(host)
    except AddressError:
        pass


@given(st.text(max_size=80))
@SETTINGS
def test_policy_raises_only_address_errors_on_any_url(url):
    try:
        AddressPolicy().check_url(url)
    except AddressError:
        pass


hosts = st.one_of(
    st.sampled_from(["news.example", "NEWS.Example.", "xn--bcher-kva.example", "bücher.example", "127.0.0.1",
                     "[::1]", "[fe80::1%25eth0]", "2130706433", "0x7f.1", "a..b", "-x-.example", "[::1", "x:y"]),
    st.from_regex(r"[a-z0-9\-]{1,12}(\.[a-z0-9\-]{1,12}){0,3}\.?", fullmatch=True))
paths = st.lists(st.one_of(st.text(alphabet="abcXYZ09-._~!$&'()*+,;=:@ %/é", max_size=8),
                           st.sampled_from(["%2F", "%25", "%7e", "%e9", "%zz", "//", "..", "."])), max_size=5)
queries = st.lists(st.tuples(st.sampled_from(["id", "utm_source", "fbclid", "Page", "a b", "q", "x%26y"]),
                             st.text(alphabet="ab1 &=%+é", max_size=5)), max_size=4)


@st.composite
def urls(draw) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "hTtPs"]))
    port = draw(st.sampled_from(["", ":80", ":443", ":8080", ":0", ":99999", ":x"]))
    user = draw(st.sampled_from(["", "user@", "u:p@"]))
    path = "/" + "/".join(draw(paths))
    query = "&".join(f"{k}={v}" for k, v in draw(queries))
    fragment = draw(st.sampled_from(["", "#top", "#"]))
    return f"{scheme}://{user}{draw(hosts)}{port}{path}" + (f"?{query}" if query else "") + fragment


@given(urls())
@SETTINGS
@pytest.mark.slow
def test_canonical_url_is_stable_and_clean(url):
    try:
        once = canonicalize_url(url)
    except ValueError:
        return  # documented: a URL that cannot be split (bad port, broken IPv6 literal)
    assert canonicalize_url(once) == once
    assert "#" not in once
    query = once.partition("?")[2]
    assert not any(is_tracking_param(pair.split("=", 1)[0]) for pair in query.split("&") if pair)


@given(st.text(max_size=120))
@SETTINGS
def test_canonicalisation_raises_only_value_error_on_any_text(text):
    try:
        canonicalize_url(text)
    except ValueError:
        pass


@pytest.fixture(scope="module")
def trap():
    """The internal server every generated host resolves to: it must hear nothing."""
    from netcases import BoundServer

    server = BoundServer("127.0.0.1").start()
    yield server
    server.stop()


def to_internal(host, port, *args, **kwargs):
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]


@given(host=st.one_of(hosts, st.text(max_size=30)), notation=notations(private_ints))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@pytest.mark.slow
def test_refused_address_never_connected_to(trap, host, notation):
    from newsdesk.config import Settings

    guarded = Settings.from_env({}, allow_private_addresses=False, total_timeout=1.0, connect_timeout=0.5,
                                read_timeout=0.5)
    before = len(trap.requests)
    with Fetcher(guarded, resolver=to_internal) as fetcher:
        for target in (host, notation[1]):
            try:
                fetcher.get(f"http://{target}:{trap.port}/")
            except FetchError:
                pass
    assert len(trap.requests) == before
