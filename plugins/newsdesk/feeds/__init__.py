"""Feeds: the registry of outlets, parsing every feed format, polling on a schedule.

``registry`` (YAML -> sources/feeds), ``parse`` (bytes -> entries), ``poll``
(fetch, parse, enqueue pages, record), ``schedule`` (next poll, backoff),
``discover`` (feed links in a homepage).
"""

from .discover import discover_feeds
from .parse import FeedEntry, FeedParseError, ParsedFeed, parse_feed
from .poll import PollResult, due_feed_ids, enable_feed, feed_status, poll_feed, poll_feeds
from .registry import FeedSpec, RegistryError, SourceSpec, load_registry, registry_changes, sync_registry
from .schedule import feed_disable_after

__all__ = [
    "FeedEntry", "FeedParseError", "FeedSpec", "ParsedFeed", "PollResult", "RegistryError", "SourceSpec",
    "discover_feeds", "due_feed_ids", "enable_feed", "feed_disable_after", "feed_status", "load_registry",
    "parse_feed", "poll_feed", "poll_feeds", "registry_changes", "sync_registry",
]
