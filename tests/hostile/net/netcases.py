"""Helpers of the hostile network tests: servers bound to a chosen loopback address, the
guarded settings as environment variables, the hosts every notation writes 127.0.0.1 as."""

from __future__ import annotations

import os
import threading
import time

from httpserver import LocalServer, _Handler, _Server

PUBLIC_HOST = "127.0.0.2"


class BoundServer(LocalServer):
    """``LocalServer`` listening on a chosen loopback address."""

    def __init__(self, host: str = "127.0.0.1"):
        super().__init__()
        self.host = host

    def start(self) -> BoundServer:
        self._server = _Server((self.host, 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"



def guarded_env(**extra) -> dict:
    """The guarded policy (loopback refused but 127.0.0.2) for a ``newsdesk`` subprocess."""
    env = dict(os.environ, NEWSDESK_ALLOW_PRIVATE_ADDRESSES="0", NEWSDESK_ALLOW_NETWORKS=f"{PUBLIC_HOST}/32",
               NEWSDESK_CONNECT_TIMEOUT="1", NEWSDESK_READ_TIMEOUT="1", NEWSDESK_TOTAL_TIMEOUT="2",
               NEWSDESK_RESPECT_ROBOTS="0")
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Elapsed:
    """``with Elapsed() as t: ...``; then ``t.seconds``."""

    def __enter__(self):
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.start


# (quirk, host as written in a URL, what the refusal must name). {port} URLs add the internal
# server's port, so a request that got through would reach it.
NOTATIONS = [
    ("decimal_integer", "2130706433", "127.0.0.1 (loopback"),
    ("decimal_integer_trailing_dot", "2130706433.", "127.0.0.1 (loopback"),
    ("hex_integer", "0x7f000001", "127.0.0.1 (loopback"),
    ("hex_integer_upper_case", "0X7F000001", "127.0.0.1 (loopback"),
    ("octal_integer", "017700000001", "127.0.0.1 (loopback"),
    ("short_two_parts", "127.1", "127.0.0.1 (loopback"),
    ("short_three_parts", "127.0.1", "127.0.0.1 (loopback"),
    ("octal_dotted", "0177.0.0.1", "127.0.0.1 (loopback"),
    ("octal_dotted_zero_padded", "0000177.0.0.01", "127.0.0.1 (loopback"),
    ("hex_dotted", "0x7f.0x0.0x0.0x1", "127.0.0.1 (loopback"),
    ("mixed_hex_octal_decimal", "0x7f.00.0.1", "127.0.0.1 (loopback"),
    ("mixed_short_hex_then_decimal", "0x7f.1", "127.0.0.1 (loopback"),
    ("trailing_dot", "127.0.0.1.", "127.0.0.1 (loopback"),
    ("other_loopback_address", "127.8.9.10", "127.8.9.10 (loopback"),
    ("ipv4_mapped_ipv6", "[::ffff:127.0.0.1]", "embeds 127.0.0.1: loopback"),
    ("ipv4_mapped_ipv6_hex", "[::ffff:7f00:1]", "embeds 127.0.0.1: loopback"),
    ("ipv4_compatible_ipv6", "[::127.0.0.1]", "embeds 127.0.0.1: loopback"),
    ("nat64_embedded_loopback", "[64:ff9b::7f00:1]", "embeds 127.0.0.1: loopback"),
    ("sixtofour_embedded_loopback", "[2002:7f00:1::]", "embeds 127.0.0.1: loopback"),
    ("ipv6_loopback", "[::1]", "::1 (loopback"),
    ("ipv6_loopback_long_form", "[0:0:0:0:0:0:0:1]", "::1 (loopback"),
    ("ipv6_link_local_with_zone", "[fe80::1%25eth0]", "fe80::1 (link-local"),
    ("ipv6_unique_local", "[fd00::1]", "fd00::1 (private"),
    ("ipv6_unspecified", "[::]", ":: (unspecified"),
    ("cloud_metadata_dotted", "169.254.169.254", "169.254.169.254 (link-local"),
    ("cloud_metadata_decimal", "2852039166", "169.254.169.254 (link-local"),
    ("cloud_metadata_hex", "0xa9fea9fe", "169.254.169.254 (link-local"),
    ("cloud_metadata_ipv4_mapped", "[::ffff:a9fe:a9fe]", "embeds 169.254.169.254: link-local"),
    ("unspecified_dotted", "0.0.0.0", "0.0.0.0 (unspecified"),
    ("unspecified_single_zero", "0", "0.0.0.0 (unspecified"),
    ("multicast", "224.0.0.1", "224.0.0.1 (multicast"),
    ("reserved_class_e", "240.0.0.1", "240.0.0.1 (reserved"),
    ("limited_broadcast", "255.255.255.255", "255.255.255.255 ("),
    ("shared_cgnat", "100.64.0.1", "100.64.0.1 (shared address space"),
    ("private_10", "10.0.0.1", "10.0.0.1 (private"),
    ("private_172_16", "172.16.0.1", "172.16.0.1 (private"),
    ("private_192_168", "192.168.0.1", "192.168.0.1 (private"),
    ("private_decimal_10", "167772161", "10.0.0.1 (private"),
    ("localhost_name", "localhost", "blocked host 'localhost'"),
    ("localhost_trailing_dot", "localhost.", "blocked host 'localhost.'"),
    ("localhost_subdomain", "evil.localhost", "blocked host 'evil.localhost'"),
    ("invalid_octal_digit", "08.0.0.1", "not a valid IPv4 address"),
    ("ipv4_part_out_of_range", "127.0.0.256", "not a valid IPv4 address"),
    ("ipv4_five_parts", "127.0.0.0.1", "not a valid IPv4 address"),
]
NOTATION_IDS = [quirk for quirk, _, _ in NOTATIONS]


def notation_url(host: str, port: int, path: str = "/secret") -> str:
    return f"http://{host}:{port}{path}"
