"""Names: resolved once, every address checked, the connection made to the address checked."""

from __future__ import annotations

import socket
import threading

import pytest
from netcases import PUBLIC_HOST, Elapsed

from newsdesk.fetch import Fetcher, FetchError
from newsdesk.fetch.address import AddressPolicy, AddressRefused, UnresolvableHost


def answers(*addresses):
    """A resolver (getaddrinfo's signature) answering ``addresses``, counting its calls."""
    calls = []

    def resolve(host, port, *args, **kwargs):
        calls.append(host)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]

    resolve.calls = calls
    return resolve


def test_name_with_one_private_address_among_public_ones_refused(guarded, public_server, internal_server):
    resolver = answers(PUBLIC_HOST, "127.0.0.1")
    with Fetcher(guarded, resolver=resolver) as fetcher, pytest.raises(FetchError) as refused:
        fetcher.get(f"http://news.example:{internal_server.port}/secret")
    assert refused.value.kind == "hard" and "127.0.0.1 (loopback; host 'news.example')" in str(refused.value)
    assert internal_server.requests == [] and public_server.requests == []


def test_name_resolving_to_metadata_address_refused(guarded):
    with Fetcher(guarded, resolver=answers("169.254.169.254")) as fetcher, pytest.raises(FetchError) as refused:
        fetcher.get("http://metadata.example/latest/meta-data/")
    assert "169.254.169.254 (link-local" in str(refused.value)


def test_name_resolving_to_ipv4_mapped_loopback_refused(guarded, internal_server):
    with Fetcher(guarded, resolver=answers("::ffff:127.0.0.1")) as fetcher, pytest.raises(FetchError) as refused:
        fetcher.get(f"http://mapped.example:{internal_server.port}/secret")
    assert "embeds 127.0.0.1: loopback" in str(refused.value)
    assert internal_server.requests == []


def test_dns_rebinding_second_answer_never_used(guarded, public_server, internal_server):
    """The first answer is allowed, every later one private: the connection goes to the first,
    which is the only one asked for."""
    calls = []

    def rebinding(host, port, *args, **kwargs):
        calls.append(host)
        address = PUBLIC_HOST if len(calls) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    public_server.add("/story", body=b"public story")
    # the internal server listens on the same port number on 127.0.0.1 only by chance; use the public port
    with Fetcher(guarded, resolver=rebinding) as fetcher:
        assert fetcher.get(f"http://rebind.example:{public_server.port}/story").body == b"public story"
    assert calls == ["rebind.example"]
    assert internal_server.requests == []


def test_connection_goes_to_checked_address_with_host_header_kept(guarded, public_server):
    public_server.add("/story", body=b"ok")
    with Fetcher(guarded, resolver=answers(PUBLIC_HOST)) as fetcher:
        assert fetcher.get(f"http://news.example:{public_server.port}/story").body == b"ok"
    assert public_server.requests[0][1]["Host"] == f"news.example:{public_server.port}"


def test_every_hop_of_a_redirect_chain_resolved_and_checked(guarded, public_server, internal_server):
    resolver = answers(PUBLIC_HOST)
    public_server.add("/a", status=301, headers={"Location": f"http://hop.example:{public_server.port}/b"})
    public_server.add("/b", status=302, headers={"Location": f"http://0x7f000001:{internal_server.port}/secret"})
    with Fetcher(guarded, resolver=resolver) as fetcher, pytest.raises(FetchError, match="127.0.0.1 .loopback"):
        fetcher.get(f"http://start.example:{public_server.port}/a")
    assert resolver.calls == ["start.example", "hop.example"] and internal_server.requests == []


def test_unresolvable_name_is_temporary(guarded):
    def nothing(host, port, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with Fetcher(guarded, resolver=nothing) as fetcher, pytest.raises(FetchError) as failed:
        fetcher.get("http://gone.example/")
    assert failed.value.kind == "temporary" and "cannot resolve host 'gone.example'" in str(failed.value)


def test_hanging_resolver_bounded_by_the_deadline(guarded):
    release = threading.Event()

    def hangs(host, port, *args, **kwargs):
        release.wait(10)
        raise socket.gaierror("too late")

    try:
        with Fetcher(guarded.with_(total_timeout=1.0), resolver=hangs) as fetcher, Elapsed() as took:
            with pytest.raises(FetchError) as failed:
                fetcher.get("http://slow-dns.example/")
    finally:
        release.set()
    assert failed.value.kind == "temporary" and took.seconds < 2.0, (took.seconds, failed.value)


def test_allow_networks_lets_only_that_network_through(public_server, internal_server, guarded):
    public_server.add("/ok", body=b"allowed")
    with Fetcher(guarded) as fetcher:
        assert fetcher.get(public_server.url("/ok")).body == b"allowed"
        with pytest.raises(FetchError, match="loopback"):
            fetcher.get(internal_server.url("/secret"))
    assert internal_server.requests == []


def test_allow_networks_setting_is_validated():
    from newsdesk.config import Settings, SettingsError

    with pytest.raises(SettingsError, match="NEWSDESK_ALLOW_NETWORKS.*'10.0.0.0/33' is not a network"):
        Settings.from_env({"NEWSDESK_ALLOW_NETWORKS": "127.0.0.2/32, 10.0.0.0/33"})


def test_policy_raises_only_its_documented_errors():
    policy = AddressPolicy()
    with pytest.raises(AddressRefused):
        policy.check_url("http://[::1/")
    with pytest.raises(UnresolvableHost):
        AddressPolicy(resolver=answers()).resolve("empty.example", 80, 1.0)
    assert policy.check_host("news.example") is None


def test_connect_timeout_to_silent_address_bounded(guarded):
    """A blackholed address (no answer to SYN): cut at the deadline, not the OS's minutes."""
    with Fetcher(guarded.with_(allow_networks="192.0.2.0/24", total_timeout=1.0, connect_timeout=5.0)) as fetcher:
        with Elapsed() as took, pytest.raises(FetchError) as failed:
            fetcher.get("http://192.0.2.1/")  # TEST-NET-1: never routed
    assert failed.value.kind == "temporary" and took.seconds < 2.0, took.seconds
