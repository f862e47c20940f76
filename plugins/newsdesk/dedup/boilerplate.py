"""Site boilerplate learned from repetition across a domain's articles (warehouse tables).

Only the edge paragraphs of an article (first ``HEAD`` and last ``TAIL``) are observed:
templates put their furniture there, and it keeps ``site_paragraphs`` small. A
paragraph observed in >= ``MIN_ARTICLES`` distinct clusters of one domain is learned
into ``site_boilerplate`` and stripped from that domain's later articles. Counting
clusters, not rows, means an article's own text — or the same story posted twice by
the site — can never become boilerplate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from ..storage.schema import site_boilerplate, site_paragraphs
from .sql import chunks, is_postgres, pg_array

MIN_ARTICLES = 3
HEAD, TAIL = 2, 4
MIN_WORDS = 3  # one- and two-word lines are handled by the line rules, not learned

# (domain, paragraph hash) pairs as rows: the batch's few distinct domains sent once and
# numbered, so that no list of thousands of strings is adapted parameter by parameter.
_WANTED_PARAGRAPHS = ("(SELECT (CAST(:domains AS text[]))[u.n] AS domain, u.paragraph_hash "
                      "FROM unnest(CAST(:n AS integer[]), CAST(:h AS bigint[])) AS u(n, paragraph_hash)) w")


def _wanted_params(pairs) -> dict:
    """Parameters of ``_WANTED_PARAGRAPHS`` for (domain, paragraph hash) pairs."""
    pairs = sorted(pairs)
    domains = sorted({d for d, _ in pairs})
    number = {d: i for i, d in enumerate(domains, 1)}
    return {"domains": domains, "n": pg_array(number[d] for d, _ in pairs), "h": pg_array(h for _, h in pairs)}


def observable(paragraphs: list[str]) -> list[int]:
    """Indexes of the paragraphs boilerplate learning observes: the first HEAD and the last TAIL,
    of MIN_WORDS words or more."""
    n = len(paragraphs)
    return [i for i in list(range(min(HEAD, n))) + list(range(max(HEAD, n - TAIL), n))
            if len(paragraphs[i].split()) >= MIN_WORDS]


def learned_lines(conn: Connection, domains: Iterable[str | None]) -> dict[str, frozenset[int]]:
    """Every boilerplate paragraph hash learned for the given domains (a site has a few dozen at most)."""
    out: dict[str, set[int]] = defaultdict(set)
    for chunk in chunks(sorted(d for d in set(domains) if d)):
        for d, h in conn.execute(select(site_boilerplate.c.domain, site_boilerplate.c.paragraph_hash).where(
                site_boilerplate.c.domain.in_(chunk))):
            out[d].add(h)
    return {d: frozenset(hs) for d, hs in out.items()}


class SiteKnowledge:
    """What a batch knows of its domains' boilerplate: learned paragraphs and the clusters that
    observed each edge paragraph, as committed, plus what the batch observes and learns itself."""

    def __init__(self, now: datetime):
        self.now = now  # learned_at of what the batch learns
        self.wanted: set[tuple[str, int]] = set()  # (domain, hash) of every paragraph of the batch
        self.observable: set[tuple[str, int]] = set()  # (domain, hash) of the edge paragraphs only
        self.learned: dict[str, set[int]] = defaultdict(set)  # domain -> learned paragraph hashes
        self.observed: dict[tuple[str, int], set[int]] = defaultdict(set)  # (domain, hash) -> clusters
        self.new_boilerplate: list[dict] = []  # site_boilerplate rows learned in the batch
        self.new_observations: list[tuple[str, int, int]] = []  # (domain, hash, article id)

    def add_article(self, domain: str | None, paragraphs: list[str], hashes: list[int]) -> None:
        """A batch article's paragraphs: learned boilerplate is stripped wherever it stands (every
        paragraph is wanted), observations are counted for edge paragraphs only (half as many)."""
        if domain:
            self.wanted |= {(domain, h) for h in hashes}
            self.observable |= {(domain, hashes[i]) for i in observable(paragraphs)}

    def load(self, conn: Connection) -> None:
        """Learned boilerplate and paragraph observations of the batch's domains, as committed.

        Read before the candidate search (no lock held) and again once the decision lock is
        held: another worker may have committed what it learned in between, and a batch must
        decide with it exactly as if the batches had run one after the other."""
        self.learned = defaultdict(set)
        self.observed = defaultdict(set)
        if not self.wanted:
            return
        wanted = self.wanted
        if is_postgres(conn):
            # The wanted (domain, hash) pairs joined to each table's key: one index probe per pair.
            # (domain = ANY(...) AND hash = ANY(...) would probe every combination of the two.)
            for d, h in conn.execute(text(
                    "SELECT b.domain, b.paragraph_hash FROM " + _WANTED_PARAGRAPHS + " JOIN site_boilerplate b "
                    "ON b.domain = w.domain AND b.paragraph_hash = w.paragraph_hash"), _wanted_params(wanted)):
                self.learned[d].add(h)
            # Observations matter only for edge paragraphs not learned yet (a learned one is skipped
            # before they are consulted); a learned paragraph's can be many rows.
            pairs = [(d, h) for d, h in self.observable if h not in self.learned.get(d, ())]
            if pairs:
                for d, h, c in conn.execute(text(
                        "SELECT p.domain, p.paragraph_hash, p.cluster_id FROM " + _WANTED_PARAGRAPHS + " JOIN "
                        "site_paragraphs p ON p.domain = w.domain AND p.paragraph_hash = w.paragraph_hash"),
                        _wanted_params(pairs)):
                    self.observed[(d, h)].add(c)
            return
        domains = sorted({d for d, _ in wanted})
        for hashes in chunks(sorted({h for _, h in wanted})):
            for d, h in conn.execute(select(site_boilerplate.c.domain, site_boilerplate.c.paragraph_hash).where(
                    site_boilerplate.c.domain.in_(domains), site_boilerplate.c.paragraph_hash.in_(hashes))):
                if (d, h) in wanted:
                    self.learned[d].add(h)
            for d, h, c in conn.execute(select(site_paragraphs).where(
                    site_paragraphs.c.domain.in_(domains), site_paragraphs.c.paragraph_hash.in_(hashes))):
                if (d, h) in self.observable:
                    self.observed[(d, h)].add(c)

    def known(self, domain: str | None, hashes: list[int]) -> frozenset[int]:
        """The learned boilerplate among an article's paragraph hashes."""
        if not domain:
            return frozenset()
        learned = self.learned.get(domain, ())
        return frozenset(h for h in hashes if h in learned)

    def learned_since(self, domain: str | None, hashes: list[int], known: frozenset[int]) -> bool:
        """Some paragraph was learned as boilerplate after the article was cleaned with ``known``."""
        if not domain:
            return False
        learned = self.learned.get(domain, ())
        return any(h in learned and h not in known for h in hashes)

    def observe(self, domain: str | None, paragraphs: list[str], hashes: list[int], known: frozenset[int],
                article_id: int, cluster_id: int | None) -> None:
        """An article's edge paragraphs (those not stripped as ``known``) observed in its cluster;
        one seen in MIN_ARTICLES distinct clusters of the domain is learned."""
        if not domain:
            return
        seen = set()
        for i in observable(paragraphs):
            h = hashes[i]
            if h in known or h in seen:
                continue
            seen.add(h)
            key = (domain, h)
            self.new_observations.append((domain, h, article_id))
            self.observed[key].add(cluster_id)
            if len(self.observed[key]) >= MIN_ARTICLES and h not in self.learned[domain]:
                self.learned[domain].add(h)
                self.new_boilerplate.append(dict(domain=domain, paragraph_hash=h, count=len(self.observed[key]),
                                                 sample=paragraphs[i][:500], learned_at=self.now))

    def teachers(self, resolve: Callable[[int | None], int | None]) -> dict[str, set[int]]:
        """Domain -> the clusters (ids as written, through ``resolve``) whose articles taught it a
        paragraph the batch learned."""
        out: dict[str, set[int]] = defaultdict(set)
        for learned in self.new_boilerplate:
            domain = learned["domain"]
            out[domain] |= {resolve(c) for c in self.observed[(domain, learned["paragraph_hash"])]}
        return out
