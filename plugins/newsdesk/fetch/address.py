"""Which addresses newsdesk may connect to: one policy for every request.

    policy = AddressPolicy.from_settings(settings)
    policy.check_url("http://0x7f000001/")          # AddressRefused: 127.0.0.1 is loopback
    addresses = policy.resolve("news.example", 443)  # every address the name has, each checked

A host is read the way browsers and ``inet_aton`` read it (WHATWG URL host parsing), so
every notation of an IPv4 address is the address it names: ``2130706433``, ``0x7f000001``,
``127.1``, ``0177.0.0.1``, ``0x7f.1``, ``127.0.0.1.`` are all 127.0.0.1. IPv6 addresses that
carry an IPv4 address (``::ffff:127.0.0.1``, ``::127.0.0.1``, 6to4, NAT64, Teredo) are judged
by that address too. A host whose last label is a number but which is no IPv4 address
(``1.2.3.256``, ``foo.123``) is refused: resolvers disagree about such names.

Refused unless ``allow_private_addresses`` (or the address is in ``allow_networks``):
loopback, private, link-local, shared (100.64/10), unspecified, multicast, reserved,
documentation and every other range that is not globally routable, and ``localhost`` names.

A name is resolved once; the request is refused if *any* of its addresses is refused, and
the connection goes to the addresses checked (``fetch.transport``), never to a second
resolution's answer: a DNS-rebinding server gets no window between the check and the connect.

Errors: ``AddressRefused`` (the address is not allowed or the host is malformed: retrying will
not help) and ``UnresolvableHost`` (the name does not resolve now), both ``AddressError``;
nothing else leaves this module.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class AddressError(Exception):
    """An address newsdesk will not connect to now. ``kind`` as ``FetchError``'s: ``hard`` or ``temporary``."""

    kind = "hard"


class AddressRefused(AddressError):
    """Not an allowed address (private, loopback, ...), or not a well-formed host."""


class UnresolvableHost(AddressError):
    """The name has no address now (or the resolver took too long)."""

    kind = "temporary"


def _ipv4_number(part: str) -> int | None:
    """One dotted part as inet_aton reads it: 0x.. hexadecimal, 0.. octal, else decimal."""
    if part[:2] in ("0x", "0X"):
        digits, base = part[2:], 16
        if digits == "":
            return 0
    elif len(part) > 1 and part[0] == "0":
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    allowed = "0123456789abcdefABCDEF"[: base + (6 if base == 16 else 0)]
    if not digits or any(c not in allowed for c in digits):
        return None
    return int(digits, base)


def parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address ``host`` names in any notation inet_aton and browsers accept; None when
    ``host`` is a name. Raises ``AddressRefused`` for a host that ends in a number but is no address."""
    labels = host.rstrip(".").split(".")
    last = labels[-1]
    if not last or not (all(c in "0123456789" for c in last) or _ipv4_number(last) is not None):
        return None  # a name (WHATWG: the host does not end in a number)
    numbers = [_ipv4_number(label) for label in labels]
    if len(labels) > 4 or any(n is None for n in numbers):
        raise AddressRefused(f"host {_clip(host)!r} ends in a number but is not a valid IPv4 address")
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise AddressRefused(f"host {_clip(host)!r} is not a valid IPv4 address (a part is out of range)")
    value = last
    for index, n in enumerate(head):
        value += n << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def parse_ip(host: str | bytes) -> IPAddress | None:
    """The address an IP-literal host names (IPv4 in any notation, IPv6 with or without brackets
    and zone), None for a name. ``AddressRefused`` for a malformed literal."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = host.strip()
    if host.startswith("[") or ":" in host:
        inner = host.strip("[]").split("%", 1)[0]
        try:
            return ipaddress.IPv6Address(inner)
        except ValueError:
            raise AddressRefused(f"host {_clip(host)!r} is not a valid IPv6 address") from None
    return parse_ipv4(host)


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64, Teredo client)."""
    if ip.version == 4:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    packed = int(ip)
    if packed >> 32 == 0 and packed > 1:  # IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks)
        return ipaddress.IPv4Address(packed)
    return None


def refusal_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` is refused (``loopback``, ``private``, ...), None when it is a public address."""
    inner = embedded_ipv4(ip)
    if inner is not None:
        why = refusal_reason(inner)
        return f"embeds {inner}: {why}" if why else None
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.version == 4 and ip in _SHARED:
        return "shared address space"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "not globally routable"
    return None


def _clip(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass(frozen=True)
class AddressPolicy:
    """Addresses allowed for outgoing requests (see the module docstring)."""

    allow_private: bool = False
    allow_networks: tuple = ()
    resolver: Callable = socket.getaddrinfo

    @classmethod
    def from_settings(cls, settings, resolver: Callable | None = None) -> AddressPolicy:
        networks = parse_networks(getattr(settings, "allow_networks", None))
        return cls(bool(settings.allow_private_addresses), networks, resolver or socket.getaddrinfo)

    def check_ip(self, ip: IPAddress, host: str | None = None) -> None:
        """``AddressRefused`` unless ``ip`` may be connected to."""
        if self.allow_private:
            return
        if any(ip.version == net.version and ip in net for net in self.allow_networks):
            return
        why = refusal_reason(ip)
        if why is not None:
            named = f"; host {_clip(host)!r}" if host and host.strip("[]").lower() != str(ip) else ""
            raise AddressRefused(f"blocked address {ip} ({why}{named})")

    def check_host(self, host: str | bytes) -> IPAddress | None:
        """Check what can be checked without the resolver: an IP literal (any notation) or a
        ``localhost`` name. Returns the literal's address, None for a name."""
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if not host or not host.strip("[]."):
            raise AddressRefused("URL has no host")
        ip = parse_ip(host)
        if ip is not None:
            self.check_ip(ip, host)
            return ip
        name = host.rstrip(".").lower()
        if not self.allow_private and (name in LOCAL_NAMES or name.endswith(".localhost")):
            raise AddressRefused(f"blocked host {_clip(host)!r} (loopback name)")
        return None

    def check_url(self, url: str, resolve: bool = False, timeout: float | None = None) -> None:
        """``AddressError`` unless ``url``'s host is allowed (its name resolved when ``resolve``)."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError as exc:
            raise AddressRefused(f"invalid URL: {exc}") from None
        if self.check_host(host or "") is None and resolve:
            self.resolve(host, port or (443 if parts.scheme.lower() == "https" else 80), timeout)

    def resolve(self, host: str | bytes, port: int, timeout: float | None = None) -> list[str]:
        """Every address of ``host``, each checked; the caller connects to these and no others."""
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        literal = self.check_host(host)
        if literal is not None:
            return [str(literal)]
        infos = self._getaddrinfo(host.rstrip("."), port, timeout)
        addresses: list[str] = []
        for info in infos:
            raw = str(info[4][0]).split("%", 1)[0]
            try:
                ip = ipaddress.ip_address(raw)
            except ValueError:
                raise AddressRefused(f"host {_clip(host)!r} resolved to a non-IP address {raw!r}") from None
            self.check_ip(ip, host)
            if str(info[4][0]) not in addresses:
                addresses.append(str(info[4][0]))
        if not addresses:
            raise UnresolvableHost(f"cannot resolve host {_clip(host)!r}: no address")
        return addresses

    def _getaddrinfo(self, host: str, port: int, timeout: float | None) -> list:
        """The resolver's answer, given up after ``timeout`` seconds (the system resolver has no timeout
        of its own worth the name)."""
        box: dict = {}

        def run() -> None:
            try:
                box["infos"] = self.resolver(host, port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError, ValueError) as exc:
                box["error"] = exc

        worker = threading.Thread(target=run, daemon=True, name=f"resolve {host[:40]}")
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            raise UnresolvableHost(f"cannot resolve host {_clip(host)!r}: no answer within {timeout:g}s")
        if "error" in box:
            raise UnresolvableHost(f"cannot resolve host {_clip(host)!r}: {box['error']}")
        return box.get("infos") or []


def parse_networks(value: str | Iterable | None) -> tuple:
    """``"10.0.0.0/8, 127.0.0.2"`` -> networks; ValueError naming a bad entry."""
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    networks = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"{text!r} is not a network (CIDR like 10.1.0.0/16 or an address)") from None
    return tuple(networks)
