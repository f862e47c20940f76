"""HTTP with limits and politeness: the only way newsdesk talks to the network; and archived
HTTP responses (``fetch.archived``: WARC/ARC records, read from files or fsspec URLs).

``Fetcher`` (thread-safe, share one per pool) does single GETs with address
(``AddressPolicy``: one policy for every request), size and time limits;
``map_concurrent`` runs work concurrently with per-host limits, which a ``HostGate``
over the shared store (``open_store``: Redis or the warehouse) extends to every worker;
``decode_html`` turns bodies into text; ``RobotsCache`` answers robots.txt (RFC 9309),
cached in the same store.
"""

from ..charset import charset_from_content_type, decode_html, sniff_charset
from .address import AddressError, AddressPolicy, AddressRefused, UnresolvableHost
from .hosts import HostGate
from .http import (
    Fetcher,
    FetchError,
    FetchResult,
    classify_status,
    is_blocked_ip,
    is_private_url,
    parse_retry_after,
)
from .pool import host_of, map_concurrent
from .robots import RobotsCache, origin_of
from .stores import MemoryStore, RedisStore, WarehouseStore, open_store

__all__ = [
    "AddressError", "AddressPolicy", "AddressRefused", "FetchError", "FetchResult", "Fetcher", "HostGate",
    "MemoryStore", "RedisStore", "RobotsCache", "UnresolvableHost", "WarehouseStore", "charset_from_content_type",
    "classify_status", "decode_html", "host_of", "is_blocked_ip", "is_private_url", "map_concurrent", "open_store",
    "origin_of", "parse_retry_after", "sniff_charset",
]
