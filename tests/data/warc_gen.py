"""Deterministic generator of test WARC archives (plain or gzip) with realistic news pages.

Used by the tests and by ``bench/archive.py``::

    from tests.data.warc_gen import RecordSpec, write_warc, news_records
    write_warc(path, news_records(1000, seed=1), gzip=True)

or from the command line::

    python tests/data/warc_gen.py out.warc.gz --records 20000 --seed 7

Pages vary by template (five site layouts with navigation, sidebars, related
links, comment sections and footers), language (mostly English, some French and
German), length (4 to 22 paragraphs) and domain. Every output depends only on
the seed, so the same call always writes the same bytes (WARC-Date and record
ids are derived from the seed too).

Besides HTML responses, ``RecordSpec.kind`` makes every bad record an importer
must skip: ``request``, ``revisit``, ``metadata``, ``non_html`` (a JPEG),
``oversized`` (a body above the limit given), ``bad_charset`` (UTF-16 bytes
declared as UTF-8), ``http_404``, and ``truncate_after`` on ``write_warc``
cuts the archive inside a record, as a killed download does.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

EN_WORDS = (
    "the government said on monday that it would review the new policy after weeks of protests in the capital "
    "officials from several ministries met with union leaders to discuss wages pensions and working hours "
    "analysts expect the central bank to raise interest rates again as inflation remains above its target "
    "the company reported higher quarterly profits driven by strong demand for its products in asia and europe "
    "residents of the coastal town were evacuated as the storm approached bringing heavy rain and strong winds "
    "scientists published a study showing that rising temperatures are changing migration patterns of birds "
    "the minister told reporters that negotiations with neighbouring countries had made significant progress "
    "hospital staff warned that emergency departments were under severe pressure during the winter months "
    "voters will head to the polls next month in an election that is expected to be closely contested "
    "the football club confirmed that its manager had signed a new contract until the end of next season "
    "police opened an investigation after thousands of documents were leaked to a local newspaper "
    "prices of food and energy have increased sharply putting pressure on household budgets across the region"
).split()
FR_WORDS = (
    "le gouvernement a annoncé lundi une réforme des retraites qui suscite une forte opposition des syndicats "
    "les habitants de la région ont été évacués en raison des inondations provoquées par des pluies torrentielles "
    "selon les analystes la banque centrale devrait relever ses taux pour lutter contre une inflation persistante "
    "le ministre a déclaré que les négociations avec les pays voisins avaient beaucoup progressé cette semaine"
).split()
DE_WORDS = (
    "die regierung hat am montag angekündigt dass sie die neue politik nach wochen der proteste überprüfen werde "
    "die bewohner der küstenstadt wurden evakuiert als der sturm mit starkem regen und heftigem wind näher kam "
    "analysten erwarten dass die zentralbank die zinsen erneut anheben wird da die inflation weiterhin hoch ist "
    "der minister sagte den journalisten dass die verhandlungen mit den nachbarländern große fortschritte machten"
).split()
WORDS = {"en": EN_WORDS, "fr": FR_WORDS, "de": DE_WORDS}

DOMAINS = ("dailyherald.example", "metrotimes.example", "coastalnews.example", "capitalpost.example",
           "worldwire.example", "eveningstar.example", "lemonde-test.example", "zeitung-test.example")
SECTIONS = ("politics", "business", "world", "sport", "science", "health", "culture", "local")


_SYLLABLES = ("ka", "ri", "mon", "tel", "sa", "vor", "lin", "de", "qua", "bro", "nes", "tar", "pel", "gu", "fen",
              "ost", "ira", "cle", "mar", "zo", "dun", "pha", "lem", "or", "vis", "tan", "hal", "bek", "sil", "ru")
# Content words shared by all pages (8,000 pseudo-words, drawn with a Zipf-like skew), so that
# unrelated pages share function words and common terms but not sentences.
_VOCAB_RNG = random.Random("newsdesk-vocab")
CONTENT_WORDS = list(dict.fromkeys(
    "".join(_VOCAB_RNG.choice(_SYLLABLES) for _ in range(_VOCAB_RNG.randint(2, 4))) for _ in range(9000)))[:8000]

def _content_word(rng: random.Random) -> str:
    return CONTENT_WORDS[rng.randrange(len(CONTENT_WORDS))]


def _sentence(rng: random.Random, words: list[str], topic: list[str] | None = None) -> str:
    n = rng.randint(8, 26)
    picked = []
    for _ in range(n):
        r = rng.random()
        picked.append(rng.choice(words) if r < 0.5 else rng.choice(topic) if topic and r < 0.7 else _content_word(rng))
    return " ".join(picked).capitalize() + rng.choice((".", ".", ".", "?", "!"))


def _paragraph(rng: random.Random, words: list[str], topic: list[str] | None = None) -> str:
    return " ".join(_sentence(rng, words, topic) for _ in range(rng.randint(2, 6)))


def _nav(rng: random.Random, domain: str) -> str:
    links = "".join(f'<li><a href="https://{domain}/{s}/">{s.title()}</a></li>' for s in SECTIONS)
    # a mega-menu, as most news sites have: sections, topics and services
    mega = "".join(
        f'<li class="menu-item"><a href="https://{domain}/topic/{w}">{w.title()}</a></li>'
        for w in (_content_word(rng) for _ in range(rng.randint(40, 140))))
    return f'<nav class="main-nav"><ul>{links}</ul><div class="mega-menu"><ul>{mega}</ul></div></nav>'


def _script_blob(rng: random.Random) -> str:
    """Inline configuration/tracking script of 4-40 KB, as real pages carry."""
    items = ",".join(f'"{_content_word(rng)}{i}":{{"id":{rng.randrange(10**9)},"v":"{_content_word(rng)}"}}'
                     for i in range(rng.randint(60, 600)))
    return f'<script type="application/json" id="__CONFIG__">{{{items}}}</script>'


def _related(rng: random.Random, domain: str, words: list[str]) -> str:
    items = "".join(
        f'<li><a href="https://{domain}/{rng.choice(SECTIONS)}/{rng.randrange(10**6)}">'
        f'{" ".join(rng.choice(words) for _ in range(rng.randint(5, 10))).capitalize()}</a></li>'
        for _ in range(rng.randint(4, 10))
    )
    return f'<aside class="related"><h3>Related stories</h3><ul>{items}</ul></aside>'


def _comments(rng: random.Random, words: list[str]) -> str:
    items = "".join(
        f'<div class="comment"><span class="user">reader{rng.randrange(9999)}</span>'
        f'<p>{_sentence(rng, words)}</p></div>' for _ in range(rng.randint(2, 12))
    )
    return f'<section id="comments" class="comments"><h3>Comments</h3>{items}</section>'


_SCRIPT = ("<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
           "gtag('js',new Date());gtag('config','G-XXXX');</script>")
_STYLE = "<style>body{font-family:Georgia,serif}.main-nav li{display:inline;margin:0 4px}.ad{min-height:250px}</style>"


def news_page(index: int, seed: int = 0, *, domain: str | None = None, language: str | None = None,
              paragraphs: list[str] | None = None, title: str | None = None,
              published: datetime | None = None, canonical: str | None = None) -> tuple[str, bytes]:
    """One article page: ``(url, html bytes)``; the same arguments give the same bytes."""
    rng = random.Random(f"{seed}:{index}")
    if domain is None:
        domain = DOMAINS[rng.randrange(len(DOMAINS))]
    if language is None:
        language = "fr" if "lemonde" in domain else "de" if "zeitung" in domain else "en"
    words = WORDS[language]
    section = rng.choice(SECTIONS)
    slug = "-".join(rng.choice(words) for _ in range(5))
    url = f"https://{domain}/{section}/{2026}/{index:06d}-{slug}"
    if title is None:
        title = " ".join(rng.choice(words) for _ in range(rng.randint(6, 12))).capitalize()
    if paragraphs is None:
        topic = [_content_word(rng) for _ in range(25)]  # the story's own vocabulary
        paragraphs = [_paragraph(rng, words, topic) for _ in range(rng.randint(4, 22))]
    if published is None:
        published = datetime(2026, 3, 1, tzinfo=timezone.utc) + timedelta(minutes=rng.randrange(60 * 24 * 30))
    iso = published.strftime("%Y-%m-%dT%H:%M:%SZ")
    first = rng.choice(("Anna", "Ben", "Carla", "David", "Eva", "Farid"))
    author = f"{first} {rng.choice(('Smith', 'Jones', 'Martin', 'Keller'))}"
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    head = (f'<head><meta charset="utf-8"><title>{title} | {domain}</title>'
            f'<meta property="og:title" content="{title}">'
            f'<meta property="article:published_time" content="{iso}">'
            f'<meta name="author" content="{author}">'
            + (f'<link rel="canonical" href="{canonical}">' if canonical else "")
            + _STYLE + _SCRIPT + _script_blob(rng) + "</head>")
    template = rng.randrange(5)
    nav = _nav(rng, domain)
    footer = (f'<footer><p>© 2026 {domain}. All rights reserved.</p><a href="https://{domain}/privacy">Privacy</a>'
              f'<a href="https://{domain}/terms">Terms</a></footer>')
    byline = f'<p class="byline">By {author} · <time datetime="{iso}">{published:%d %B %Y}</time></p>'
    if template == 0:
        main = f"<article><h1>{title}</h1>{byline}<div class='article-body'>{body}</div></article>"
        html = f"<body><header>{nav}</header><main>{main}{_related(rng, domain, words)}</main>{footer}</body>"
    elif template == 1:
        main = f"<div class='story'><h1 class='headline'>{title}</h1>{byline}<div class='story-text'>{body}</div></div>"
        html = (f"<body><div id='top'>{nav}</div><div class='container'><div class='col-8'>{main}"
                f"{_comments(rng, words)}</div><div class='col-4'>{_related(rng, domain, words)}"
                f"<div class='ad'>Advertisement</div></div></div>{footer}</body>")
    elif template == 2:
        main = (f"<div itemprop='articleBody' class='entry-content'><h1>{title}</h1>{byline}"
                + "".join(f"<div class='para'><p>{p}</p></div>" for p in paragraphs) + "</div>")
        html = f"<body>{nav}<div class='wrapper'>{main}</div>{_related(rng, domain, words)}{footer}</body>"
    elif template == 3:
        half = len(paragraphs) // 2
        first = "".join(f"<p>{p}</p>" for p in paragraphs[:half])
        rest = "".join(f"<p>{p}</p>" for p in paragraphs[half:])
        main = (f"<article class='post'><header><h1>{title}</h1>{byline}</header>{first}"
                f"<div class='ad inline-ad'>Advertisement</div><figure><img src='https://{domain}/img/{index}.jpg'>"
                f"<figcaption>{_sentence(rng, words)}</figcaption></figure>{rest}</article>")
        html = f"<body><header>{nav}</header>{main}{_comments(rng, words)}{footer}</body>"
    else:
        main = f"<section class='content'><h1>{title}</h1>{byline}<div id='article'>{body}</div></section>"
        html = (f"<body><table class='layout'><tr><td class='left'>{nav}{_related(rng, domain, words)}</td>"
                f"<td class='main'>{main}</td></tr></table>{footer}</body>")
    page = f'<!DOCTYPE html><html lang="{language}">{head}{html}</html>'
    return url, page.encode("utf-8")


@dataclass
class RecordSpec:
    """One record to write. ``kind``: response (default), request, revisit, metadata, non_html,
    oversized, bad_charset, http_404."""

    url: str
    body: bytes = b""
    kind: str = "response"
    content_type: str = "text/html; charset=utf-8"
    date: datetime | None = None
    extra: dict = field(default_factory=dict)


def news_records(count: int, seed: int = 0, start: int = 0, **page_kw) -> Iterator[RecordSpec]:
    for i in range(start, start + count):
        url, body = news_page(i, seed, **page_kw)
        yield RecordSpec(url=url, body=body)


def bad_records(seed: int = 0, oversized_bytes: int = 200_000) -> list[RecordSpec]:
    """One record of every kind an importer must skip (the truncated member is ``truncate_after``)."""
    url, page = news_page(10**6, seed)
    _, big = news_page(10**6 + 1, seed)
    filler = b"<p>" + b"filler text " * (oversized_bytes // 12 + 1) + b"</p>"
    return [
        RecordSpec(url=url, kind="request"),
        RecordSpec(url=url, kind="revisit"),
        RecordSpec(
            url="https://dailyherald.example/img/photo.jpg",
            body=b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8,
            kind="non_html",
            content_type="image/jpeg",
        ),
        RecordSpec(
            url="https://dailyherald.example/big/1", body=big.replace(b"</body>", filler + b"</body>"), kind="oversized"
        ),
        RecordSpec(
            url="https://dailyherald.example/charset/1",
            body=page.decode("utf-8").encode("utf-16-le"),
            kind="bad_charset",
            content_type="text/html; charset=utf-8",
        ),
        RecordSpec(
            url="https://dailyherald.example/missing", body=b"<html><body>Not found</body></html>", kind="http_404"
        ),
        RecordSpec(url="dns:dailyherald.example", body=b"127.0.0.1", kind="metadata", content_type="text/dns"),
    ]


def _record(writer, spec: RecordSpec, date: datetime, rid: str):
    from warcio.statusandheaders import StatusAndHeaders

    warc_headers = {"WARC-Date": date.strftime("%Y-%m-%dT%H:%M:%SZ"), "WARC-Record-ID": f"<urn:uuid:{rid}>"}
    if spec.kind == "request":
        http = StatusAndHeaders("GET / HTTP/1.1", [("Host", spec.url.split("/")[2]), ("User-Agent", "test")],
                                is_http_request=True)
        return writer.create_warc_record(spec.url, "request", payload=io.BytesIO(b""), http_headers=http,
                                         warc_headers_dict=warc_headers)
    if spec.kind == "revisit":
        http = StatusAndHeaders("200 OK", [("Content-Type", spec.content_type)], protocol="HTTP/1.1")
        warc_headers.update({"WARC-Profile": "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest",
                             "WARC-Refers-To-Target-URI": spec.url, "WARC-Refers-To-Date": warc_headers["WARC-Date"]})
        return writer.create_warc_record(spec.url, "revisit", payload=io.BytesIO(b""), http_headers=http,
                                         warc_headers_dict=warc_headers)
    if spec.kind == "metadata":
        return writer.create_warc_record(spec.url, "metadata", payload=io.BytesIO(spec.body),
                                         warc_content_type=spec.content_type, warc_headers_dict=warc_headers)
    status = "404 Not Found" if spec.kind == "http_404" else "200 OK"
    http = StatusAndHeaders(status, [("Content-Type", spec.content_type), ("Content-Length", str(len(spec.body)))],
                            protocol="HTTP/1.1")
    return writer.create_warc_record(spec.url, "response", payload=io.BytesIO(spec.body), http_headers=http,
                                     warc_headers_dict=warc_headers)


def write_warc(path: str | Path, records: Iterable[RecordSpec], *, gzip: bool = True, seed: int = 0,
               truncate_after: int | None = None, damage_member: int | None = None,
               start_date: datetime | None = None) -> dict:
    """Write ``records`` (streamed, one at a time) to ``path``; returns counts by kind.

    ``truncate_after=N`` writes N records, then half of record N+1 and stops (a cut
    download). ``damage_member=N`` (gzip only) cuts record N short *in the middle*
    of the file, followed by the intact rest: a damaged gzip member.
    """
    from warcio.warcwriter import WARCWriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    date = start_date or datetime(2026, 3, 2, tzinfo=timezone.utc)
    counts: dict[str, int] = {}
    rng = random.Random(f"warc:{seed}")
    with open(path, "wb") as out:
        info = WARCWriter(out, gzip=gzip).create_warcinfo_record(path.name, {"software": "newsdesk warc_gen"})
        info.rec_headers.replace_header("WARC-Date", date.strftime("%Y-%m-%dT%H:%M:%SZ"))
        info.rec_headers.replace_header("WARC-Record-ID", f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}>")
        WARCWriter(out, gzip=gzip).write_record(info)
        for n, spec in enumerate(records):
            buf = io.BytesIO()
            writer = WARCWriter(buf, gzip=gzip)
            rid = str(uuid.UUID(int=rng.getrandbits(128)))
            writer.write_record(_record(writer, spec, spec.date or date + timedelta(seconds=n), rid))
            data = buf.getvalue()
            if truncate_after is not None and n == truncate_after:
                out.write(data[: len(data) // 2])
                counts["truncated"] = counts.get("truncated", 0) + 1
                break
            if damage_member is not None and n == damage_member:
                data = data[: len(data) // 2]
                counts["damaged"] = counts.get("damaged", 0) + 1
            else:
                counts[spec.kind] = counts.get(spec.kind, 0) + 1
            out.write(data)
    return counts


def sha(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plain", action="store_true", help="uncompressed WARC")
    parser.add_argument("--bad", action="store_true", help="add one record of every bad kind")
    args = parser.parse_args(argv)

    def specs():
        yield from news_records(args.records, args.seed)
        if args.bad:
            yield from bad_records(args.seed)

    print(write_warc(args.path, specs(), gzip=not args.plain, seed=args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
