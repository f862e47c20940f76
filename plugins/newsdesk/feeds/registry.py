"""The outlet registry: a YAML file of sources and their feeds, synced into the warehouse.

    sources:
      - name: Example Daily
        homepage: https://www.example.com/
        language: en
        feeds:
          - https://www.example.com/rss.xml
          - url: https://www.example.com/news-sitemap.xml
            kind: sitemap          # optional, default "feed"
            interval: 900          # optional fixed poll interval in seconds

``sync_registry`` is idempotent: sources are upserted by name, feeds by URL; a feed
no longer listed is deactivated (never deleted: its pages and poll history stay).
``registry_changes`` says what a sync would add, change and deactivate, writing nothing.

The file is untrusted input: it is read up to ``NEWSDESK_MAX_REGISTRY_BYTES``, must be UTF-8,
and is parsed by YAML's safe loader with aliases refused (a registry needs none, and a few
hundred bytes of nested aliases expand to gigabytes: "billion laughs"). Every problem is a
``RegistryError`` (a ``UserError``: one line, exit 2 at the CLI) whose message quotes values
clipped, never expanded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from sqlalchemy import inspect, select, update
from sqlalchemy.engine import Engine

from ..config import UserError, option_from_env
from ..storage.loads import upsert, utcnow, write_isolated
from ..storage.schema import feeds, sources
from ..storage.values import clean_text
from ..urls import domain_of

NAME_LIMIT = sources.c.name.type.length  # a longer name would be clipped into another source's


class RegistryError(UserError, ValueError):
    """The registry file is invalid; the message names the offending entry."""


# libyaml when PyYAML has it: a few MB parse in milliseconds, and it caps nesting depth itself
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _show(value, limit: int = 80) -> str:
    """``repr(value)`` clipped: an error message never carries a whole hostile value."""
    if isinstance(value, (dict, list, tuple, set)):
        return f"a {type(value).__name__} of {len(value)} items"
    text = repr(value) if not isinstance(value, str) or len(value) <= limit else repr(value[:limit]) + "…"
    return text if len(text) <= limit + 4 else text[:limit] + "…"


def _keys(keys) -> str:
    return ", ".join(_show(k) for k in sorted(map(str, keys))[:5])


def _one_line_yaml_error(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or exc.__class__.__name__
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return " ".join(str(problem).split())[:200] + where


def read_registry_text(path: Path, max_bytes: int | None = None) -> str:
    """The file's text: at most ``max_bytes`` (default ``NEWSDESK_MAX_REGISTRY_BYTES``), UTF-8."""
    cap = option_from_env("max_registry_bytes") if max_bytes is None else max_bytes
    try:
        with path.open("rb") as handle:
            raw = handle.read(cap + 1)
    except FileNotFoundError:
        raise RegistryError(f"registry {path}: no such file") from None
    except IsADirectoryError:
        raise RegistryError(f"registry {path}: is a directory, not a YAML file") from None
    except OSError as exc:
        raise RegistryError(f"registry {path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > cap:
        raise RegistryError(f"registry {path}: larger than {cap} bytes (NEWSDESK_MAX_REGISTRY_BYTES)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegistryError(f"registry {path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                            f"{exc.start})") from None


def parse_registry_yaml(text: str, path: Path):
    """The YAML document as plain data (safe loader: no ``!!python/...`` tags), aliases refused.
    Events are read first, flat, so an alias is refused before anything is composed."""
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                raise RegistryError(f"registry {path}: aliases (*name) are not allowed in a registry (line "
                                    f"{mark.line + 1}, column {mark.column + 1})")
        return yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise RegistryError(f"registry {path}: invalid YAML: {_one_line_yaml_error(exc)}") from None
    except RecursionError:
        raise RegistryError(f"registry {path}: invalid YAML: nested too deeply") from None


@dataclass(frozen=True)
class FeedSpec:
    url: str
    kind: str = "feed"
    interval_s: int | None = None


@dataclass(frozen=True)
class SourceSpec:
    name: str
    homepage: str
    language: str | None = None
    feeds: tuple[FeedSpec, ...] = field(default_factory=tuple)

    @property
    def domain(self) -> str:
        return domain_of(self.homepage)


def _is_http_url(value) -> bool:
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def split_registry_ref(ref: str | Path) -> tuple[Path, str]:
    """``seeds/feeds.yaml#snapshot`` names the ``snapshot`` list of that file; the default list is ``sources``."""
    text = str(ref)
    path, _, section = text.partition("#")
    return Path(path), section or "sources"


def load_registry(path: str | Path, max_bytes: int | None = None) -> list[SourceSpec]:
    path, section = split_registry_ref(path)
    data = parse_registry_yaml(read_registry_text(path, max_bytes), path)
    if not isinstance(data, dict) or not isinstance(data.get(section), list):
        raise RegistryError(f"registry {path}: expected a mapping with a {section!r} list at the top")
    specs: list[SourceSpec] = []
    names: dict[str, int] = {}
    feed_owner: dict[str, str] = {}
    for index, raw in enumerate(data[section]):
        where = f"registry {path}: {section}[{index}]"
        if not isinstance(raw, dict):
            raise RegistryError(f"{where}: expected a mapping, got {type(raw).__name__}")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise RegistryError(f"{where}: 'name' is required")
        name = clean_text(name.strip())  # compared with what the warehouse holds: as it will hold it
        where = f"{where} ({_show(name)})"
        unknown = set(raw) - {"name", "homepage", "language", "feeds"}
        if unknown:
            raise RegistryError(f"{where}: unknown keys {_keys(unknown)}")
        if name in names:
            raise RegistryError(f"{where}: duplicate name, already used by sources[{names[name]}]")
        names[name] = index
        homepage = raw.get("homepage")
        if not _is_http_url(homepage):
            raise RegistryError(f"{where}: 'homepage' must be an http(s) URL, got {_show(homepage)}")
        language = raw.get("language")
        if language is not None and (not isinstance(language, str) or not 2 <= len(language) <= 16):
            raise RegistryError(f"{where}: 'language' must be a language code like 'en', got {_show(language)}")
        raw_feeds = raw.get("feeds") or []
        if not isinstance(raw_feeds, list):
            raise RegistryError(f"{where}: 'feeds' must be a list of URLs")
        feed_specs = []
        for findex, item in enumerate(raw_feeds):
            fwhere = f"{where}: feeds[{findex}]"
            kind, interval = "feed", None
            if isinstance(item, dict):
                unknown = set(item) - {"url", "kind", "interval"}
                if unknown:
                    raise RegistryError(f"{fwhere}: unknown keys {_keys(unknown)}")
                url, kind, interval = item.get("url"), item.get("kind", "feed"), item.get("interval")
                if kind not in ("feed", "sitemap"):
                    raise RegistryError(f"{fwhere}: 'kind' must be 'feed' or 'sitemap', got {_show(kind)}")
                if interval is not None and (not isinstance(interval, int) or interval < 60):
                    raise RegistryError(f"{fwhere}: 'interval' must be whole seconds >= 60, got {_show(interval)}")
            else:
                url = item
            if not _is_http_url(url):
                raise RegistryError(f"{fwhere}: must be an http(s) URL, got {_show(url)}")
            url = clean_text(url.strip())
            if url in feed_owner:
                raise RegistryError(f"{fwhere}: feed {url[:200]} is already listed by source {_show(feed_owner[url])}")
            feed_owner[url] = name
            feed_specs.append(FeedSpec(url=url, kind=kind, interval_s=interval))
        specs.append(SourceSpec(name=name, homepage=clean_text(homepage.strip()), language=language,
                                feeds=tuple(feed_specs)))
    return specs


def sync_registry(engine: Engine, path: str | Path) -> dict:
    """Upsert the registry into ``sources``/``feeds``; returns counts of what changed."""
    specs = load_registry(path)
    now = utcnow()
    stats = dict(sources=len(specs), sources_added=0, sources_retired=0, feeds=0, feeds_added=0,
                 feeds_reactivated=0, feeds_deactivated=0, set_aside=[])
    # A source the warehouse cannot hold is set aside with its reason (its feeds stay as they
    # were); the others are synced.
    aside: dict[str, str] = {}
    for spec in specs:
        if len(spec.name) > NAME_LIMIT:
            aside[spec.name] = f"name longer than {NAME_LIMIT} characters"
    with engine.begin() as conn:
        known_sources = {r.name: r for r in conn.execute(select(sources.c.id, sources.c.name, sources.c.in_registry))}
        rows = [dict(name=s.name, homepage=s.homepage, domain=s.domain, language=s.language, in_registry=True,
                     created_at=now) for s in specs if s.name not in aside]
        for row, reason in write_isolated(conn, rows, lambda batch: upsert(
                conn, sources, batch, ["name"], ["homepage", "domain", "language", "in_registry"])):
            aside[row["name"]] = reason
        stats["set_aside"] = [{"source": name[:300], "reason": reason} for name, reason in aside.items()]
        kept_specs = [s for s in specs if s.name not in aside]
        stats["sources_added"] = sum(1 for s in kept_specs if s.name not in known_sources)
        listed_names = {s.name for s in specs}
        retired = [r.id for r in known_sources.values() if r.in_registry and r.name not in listed_names]
        if retired:
            conn.execute(update(sources).where(sources.c.id.in_(retired)).values(in_registry=False))
        stats["sources_retired"] = len(retired)
        source_ids = {r.name: r.id for r in conn.execute(select(sources.c.id, sources.c.name)
                                                          .where(sources.c.name.in_(listed_names or {""})))}

        known_feeds = {r.url: r for r in conn.execute(select(feeds.c.id, feeds.c.url, feeds.c.active))}
        rows = [dict(url=f.url, source_id=source_ids[s.name], kind=f.kind, active=True,
                     interval_override_s=f.interval_s, failure_score=0.0, consecutive_failures=0, created_at=now)
                for s in kept_specs for f in s.feeds]
        refused = write_isolated(conn, rows, lambda batch: upsert(
            conn, feeds, batch, ["url"], ["source_id", "kind", "active", "interval_override_s"]))
        for row, reason in refused:
            stats["set_aside"].append({"feed": row["url"][:300], "reason": reason})
        # the feeds of a source set aside are listed still: kept as they were, not deactivated
        listed = {r["url"] for r in rows} | {f.url for s in specs if s.name in aside for f in s.feeds}
        stats["feeds"] = len(rows)
        synced = {r["url"] for r in rows} - {row["url"] for row, _ in refused}
        stats["feeds_added"] = sum(1 for u in synced if u not in known_feeds)
        stats["feeds_reactivated"] = sum(1 for u in synced if u in known_feeds and not known_feeds[u].active)
        stale = [r.id for u, r in known_feeds.items() if u not in listed and r.active]
        if stale:
            conn.execute(update(feeds).where(feeds.c.id.in_(stale)).values(active=False))
        stats["feeds_deactivated"] = len(stale)
    return stats


def registry_changes(engine: Engine | None, path: str | Path) -> dict:
    """What ``sync_registry(engine, path)`` would do, read-only: names and URLs per kind of
    change (``engine`` None, or a warehouse without tables yet, counts as empty)."""
    specs = load_registry(path)
    known_sources: dict = {}
    known_feeds: dict = {}
    if engine is not None and inspect(engine).has_table(feeds.name):
        with engine.connect() as conn:
            known_sources = {r.name: r for r in conn.execute(select(
                sources.c.id, sources.c.name, sources.c.homepage, sources.c.language, sources.c.in_registry))}
            names = {r.id: r.name for r in known_sources.values()}
            known_feeds = {r.url: (r, names.get(r.source_id)) for r in conn.execute(select(
                feeds.c.url, feeds.c.source_id, feeds.c.kind, feeds.c.active, feeds.c.interval_override_s))}
    plan: dict = {"sources_added": [], "sources_changed": {}, "sources_retired": [], "feeds_added": [],
                  "feeds_changed": {}, "feeds_reactivated": [], "feeds_deactivated": []}
    for spec in specs:
        row = known_sources.get(spec.name)
        if row is None:
            plan["sources_added"].append(spec.name)
            continue
        changed = {column: [old, new] for column, old, new in (
            ("homepage", row.homepage, spec.homepage), ("language", row.language, spec.language),
            ("in_registry", row.in_registry, True)) if old != new}
        if changed:
            plan["sources_changed"][spec.name] = changed
    listed_names = {s.name for s in specs}
    plan["sources_retired"] = sorted(n for n, r in known_sources.items() if r.in_registry and n not in listed_names)
    listed: set[str] = set()
    for spec in specs:
        for feed in spec.feeds:
            listed.add(feed.url)
            known = known_feeds.get(feed.url)
            if known is None:
                plan["feeds_added"].append(feed.url)
                continue
            row, owner = known
            if not row.active:
                plan["feeds_reactivated"].append(feed.url)
            changed = {column: [old, new] for column, old, new in (
                ("source", owner, spec.name), ("kind", row.kind, feed.kind),
                ("interval", row.interval_override_s, feed.interval_s)) if old != new}
            if changed:
                plan["feeds_changed"][feed.url] = changed
    plan["feeds_deactivated"] = sorted(u for u, (r, _) in known_feeds.items() if u not in listed and r.active)
    return plan
