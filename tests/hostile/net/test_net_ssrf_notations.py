"""SSRF: every notation of a private address is refused, directly, on a redirect hop from an
allowed host and through a proxy, with the reason recorded; the internal server hears nothing."""

from __future__ import annotations

import pytest
from netcases import NOTATION_IDS, NOTATIONS, notation_url

from newsdesk.fetch import Fetcher, FetchError, is_private_url


@pytest.mark.parametrize(("quirk", "host", "reason"), NOTATIONS, ids=NOTATION_IDS)
def test_direct_request_refused(quirk, host, reason, guarded, internal_server):
    with Fetcher(guarded) as fetcher, pytest.raises(FetchError) as refused:
        fetcher.get(notation_url(host, internal_server.port))
    assert refused.value.kind == "hard" and reason in str(refused.value), str(refused.value)
    assert internal_server.requests == []


@pytest.mark.parametrize(("quirk", "host", "reason"), NOTATIONS, ids=NOTATION_IDS)
def test_redirect_hop_from_allowed_host_refused(quirk, host, reason, guarded, public_server, internal_server):
    public_server.add("/story", status=302, headers={"Location": notation_url(host, internal_server.port)})
    with Fetcher(guarded) as fetcher, pytest.raises(FetchError) as refused:
        fetcher.get(public_server.url("/story"))
    # httpx itself refuses some notations in a Location (octal parts): refused before any check
    assert refused.value.kind == "hard", str(refused.value)
    assert reason in str(refused.value) or "redirect to an invalid URL" in str(refused.value), str(refused.value)
    assert public_server.hits("/story") == 1 and internal_server.requests == []


@pytest.mark.parametrize(("quirk", "host", "reason"), NOTATIONS, ids=NOTATION_IDS)
def test_through_proxy_refused(quirk, host, reason, guarded, public_server, internal_server):
    """A proxy resolves names itself, so only literals can be checked here: every notation of one."""
    public_server.add("/secret", body=b"what the proxy would fetch")
    with Fetcher(guarded.with_(http_proxy=public_server.base)) as fetcher, pytest.raises(FetchError) as refused:
        fetcher.get(notation_url(host, internal_server.port))
    assert reason in str(refused.value), str(refused.value)
    assert public_server.requests == [] and internal_server.requests == []


@pytest.mark.parametrize(("quirk", "host", "reason"), NOTATIONS, ids=NOTATION_IDS)
def test_feed_entry_link_recognised_as_private(quirk, host, reason, internal_server):
    """Feed entries pointing into the bot's network are dropped without a DNS lookup."""
    assert is_private_url(notation_url(host, internal_server.port))


@pytest.mark.parametrize("host", ["news.example", "93.184.216.34", "[2606:2800:220:1:248:1893:25c8:1946]",
                                  "0x5db8d822", "1572395042"],
                         ids=["name", "public_dotted", "public_ipv6", "public_hex", "public_decimal"])
def test_public_addresses_are_not_taken_for_private(host):
    assert not is_private_url(f"http://{host}/story")
