"""Choosing the original of a cluster (pure functions).

In order: a member that another member's rel=canonical / og:url points to; a member
that another member's attribution line names (source name or domain); the earliest
publication date; the longest text (copies truncate); then the smallest URL and id.
The URL before the id keeps the choice independent of ingestion order.

``original_reason`` names the rule that decided: the first of those on which the original
beats the member ranked next to it (``clusters.original_reason``, ``v_clusters``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

from ..urls import canonicalize_url
from .text import name_key

_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=timezone.utc)
_SECOND_LEVELS = {"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go"}  # bbc.co.uk is not "couk"


@dataclass
class Member:
    id: int
    url: str
    canonical_url: str | None
    domain: str | None
    source_name: str | None
    attribution: str | None
    published_at: datetime | None
    length: int  # words of clean text


@lru_cache(maxsize=65536)
def canonical_or_none(url: str | None) -> str | None:
    """The canonical form of a URL, None for a missing or unparsable one (cached: dedup asks often)."""
    if not url:
        return None
    try:
        return canonicalize_url(url)
    except ValueError:
        return None


def name_keys(m: Member) -> frozenset[str]:
    """Names an attribution line may use for this member: source name, domain, domain labels."""
    return _name_keys(m.source_name, m.domain)


# Choosing an original compares every member's attribution with every other member's names: at
# a few dozen members per cluster that was 45 % of dedup's CPU. The functions are pure: cached.
@lru_cache(maxsize=65536)
def _name_keys(source_name: str | None, domain: str | None) -> frozenset[str]:
    keys = set()
    if source_name:
        keys.add(name_key(source_name))
    if domain:
        labels = [label for label in domain.lower().split(".") if label]
        keys.add(name_key(domain))
        if len(labels) >= 2:
            keys.add(name_key(labels[-2]))  # aljazeera.com -> aljazeera
            keys.add(name_key("".join(labels[:-1])))  # bbc.co.uk -> bbcco
            if labels[-2] not in _SECOND_LEVELS:
                keys.add(name_key("".join(labels[-2:])))  # english.news.cn -> newscn
        if len(labels) >= 3:
            keys.add(name_key(labels[-3]))  # bbc.co.uk -> bbc
    return frozenset(k for k in keys if len(k) >= 3)


# News agencies are credited by initials or full name ("(AP)", "Agence France-Presse", "新华社")
# but publish under other domains (apnews.com, afp.com, news.cn): the names their sites answer to.
_AGENCY_SITES = {
    "ap": ("apnews",), "associatedpress": ("apnews",), "theassociatedpress": ("apnews",),
    "agencefrancepresse": ("afp",), "yonhap": ("yna",), "yonhapnewsagency": ("yna",),
    "新华社": ("xinhuanet", "newscn", "xinhua"), "xinhuanewsagency": ("xinhuanet", "newscn"),
    "共同通信": ("kyodonews",), "kyodo": ("kyodonews",), "pressassociation": ("pamediagroup",),
}


def attribution_resolves(attribution: str | None, target: Member) -> bool:
    if not attribution:
        return False
    return _resolves(attribution, target.source_name, target.domain)


@lru_cache(maxsize=65536)
def _resolves(attribution: str, source_name: str | None, domain: str | None) -> bool:
    keys = _name_keys(source_name, domain)
    for part in attribution.split(";"):
        k = name_key(part)
        agency_sites = _AGENCY_SITES.get(k, ())
        if any(site in keys for site in agency_sites):
            return True
        if len(k) < 3:
            continue
        if k in keys or any(len(t) >= 4 and (k.startswith(t) or t.startswith(k)) for t in keys):
            return True
    return False


def rank_keys(members: list[Member]) -> dict[int, tuple]:
    """Sort key per member id; the smallest is the original."""
    urls = {m.id: canonical_or_none(m.url) for m in members}
    canon = {m.id: canonical_or_none(m.canonical_url) for m in members}
    keys = {}
    for m in members:
        pointed = any(o.id != m.id and canon[o.id] and canon[o.id] == urls[m.id] and canon[o.id] != urls[o.id]
                      for o in members)
        points_away = bool(canon[m.id]) and canon[m.id] != urls[m.id] and any(
            o.id != m.id and urls[o.id] == canon[m.id] for o in members)
        attributed = any(o.id != m.id and attribution_resolves(o.attribution, m)
                         and not attribution_resolves(o.attribution, o) for o in members)
        attributes_away = any(o.id != m.id and attribution_resolves(m.attribution, o)
                              and not attribution_resolves(m.attribution, m) for o in members)
        published = m.published_at or _FAR_FUTURE
        if published.tzinfo is None:
            published = published.replace(tzinfo=timezone.utc)
        keys[m.id] = (
            0 if pointed and not points_away else (2 if points_away else 1),
            0 if attributed and not attributes_away else (2 if attributes_away else 1),
            published,
            -m.length,
            m.url,
            m.id,
        )
    return keys


# The rule at each position of a rank key; the URL and the id only break ties.
REASONS = ("canonical", "attribution", "earliest", "longest", "tiebreak", "tiebreak")
ONLY_MEMBER = "only_member"


def choose_original(members: list[Member], keys: dict[int, tuple] | None = None) -> Member:
    """``keys``: ``rank_keys(members)`` when the caller has them already."""
    keys = keys or rank_keys(members)
    return min(members, key=lambda m: keys[m.id])


def original_reason(members: list[Member], original_id: int, keys: dict[int, tuple] | None = None) -> str:
    """Why ``original_id`` (``choose_original``'s choice among ``members``, or among members that
    included them all) leads: the first rule on which its rank key differs from that of the
    member ranked next, ``only_member`` for a cluster of one. ``keys`` as for ``choose_original``."""
    keys = keys or rank_keys(members)
    mine = keys[original_id]
    others = [k for i, k in keys.items() if i != original_id]
    if not others:
        return ONLY_MEMBER
    runner_up = min(others)
    for position, (a, b) in enumerate(zip(mine, runner_up)):
        if a != b:
            return REASONS[position]
    return REASONS[-1]
