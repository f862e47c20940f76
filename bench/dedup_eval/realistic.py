"""The realistic evaluation corpus: real article bodies and hand-written copies of them.

Originals are real pages, read at run time: the bodies of the extraction dev set
(``pages.json``: one paragraph a line; never copied into the repository) and the offline
snapshot's pages in ``seeds/snapshot`` (extracted by newsdesk's own extractor). The repository
holds only what was written for this corpus, one file per story in ``stories/``:

* rewrites as news sites publish them — ``condensed`` (a third to a half of the story),
  ``expanded`` (background paragraphs added), ``reordered`` (facts regrouped) — with a new
  headline, the quotes, numbers and names kept;
* ``chain``: a rewrite of a copy (``based_on`` another item: a trimmed copy, or a rewrite);
* ``spun``: machine-style rewording of the whole story (about 40 % of the words changed);
* ``independent``: another outlet's own report of the same event (hard negative; own structure
  and wording, a quote or two and the key numbers shared);

and, by reference only (paragraph indices of the original, plus the republisher's own lines):

* ``copy``: paragraphs reproduced verbatim under another template;
* ``excerpt``: the first paragraphs only, with a "read more at ..." line;
* ``undated``: a verbatim copy on a page without date metadata — its date guessed from a
  year in the text (``date: {guessed: YYYY-MM-DD}``, ``date_source`` 'text') or missing
  (``date: none``: placed by its fetch time).

Any item may carry ``date``; ``uses`` lists the original's paragraphs a written text reports.
``assemble()`` returns article dicts like ``generate.build``: ``story`` (copies share their
original's), ``event`` (an independent report shares its story's event, not its story),
``kind``, ``url``, ``title``, ``text``, ``published_at``, ``date_source``, ``fetched_at``.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
STORIES = HERE / "stories"
OUTLETS = HERE / "outlets.yaml"
SNAPSHOT = REPO / "seeds" / "snapshot"

REWRITE_KINDS = ("condensed", "expanded", "reordered")
WRITTEN_KINDS = REWRITE_KINDS + ("chain", "spun", "independent")
REFERENCE_KINDS = ("copy", "excerpt", "undated")
COPY_KINDS = REWRITE_KINDS + ("chain", "spun", "copy", "excerpt", "undated")
KINDS = ("original",) + COPY_KINDS + ("independent",)
FETCH_DELAY = timedelta(minutes=40)  # a live crawl fetches a page this long after it appears


class CorpusError(ValueError):
    """A story file that does not describe a valid item (the message names the file and item)."""


def dev_set_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Where the extraction dev set is: ``explicit``, ``$NEWSDESK_DEV_SET``, or ``shared/data/
    extraction-dev`` beside the checkout (a main checkout or a worktree under ``wt/``)."""
    candidates = [explicit, os.environ.get("NEWSDESK_DEV_SET")]
    candidates += [base / "shared" / "data" / "extraction-dev" for base in (REPO.parent, REPO.parent.parent)]
    for c in candidates:
        if c and (Path(c) / "pages.json").is_file():
            return Path(c)
    raise FileNotFoundError("extraction dev set not found (pages.json): pass --dev-set or set NEWSDESK_DEV_SET")


@lru_cache(maxsize=4)
def _dev_pages(path: str) -> dict:
    return json.loads((Path(path) / "pages.json").read_text(encoding="utf-8"))


def _snapshot_page(url: str) -> dict:
    """Title, paragraphs and date of a snapshot page, as newsdesk's extractor reads them."""
    from newsdesk.extract import extract_article

    manifest = yaml.safe_load((SNAPSHOT / "manifest.yaml").read_text(encoding="utf-8"))
    entry = next((u for u in manifest["urls"] if u["url"] == url), None)
    if entry is None:
        raise CorpusError(f"snapshot URL not in manifest.yaml: {url}")
    extracted = extract_article((SNAPSHOT / entry["file"]).read_bytes(), url, entry.get("content_type"))
    return dict(url=url, title=extracted.title, paragraphs=extracted.text.split("\n\n"),
                published=extracted.published_at, canonical_url=extracted.canonical_url)


def _dev_page(key: str, dev_dir: Path) -> dict:
    page = _dev_pages(str(dev_dir)).get(key)
    if page is None:
        raise CorpusError(f"no page {key!r} in the dev set")
    published = datetime.fromisoformat(page["publishing_date"])
    if published.tzinfo is None:
        published = published.replace(tzinfo=timezone.utc)
    return dict(url=page["url"], title=page["title"].strip(), paragraphs=page["body"].splitlines(),
                published=published, canonical_url=None)


def _slug(text: str, fallback: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_)[:8]
    return "-".join(words) if len(words) >= 3 else fallback


def _domain(url: str) -> str:
    host = re.sub(r"^https?://", "", url).split("/")[0].lower()
    return host[4:] if host.startswith("www.") else host


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]


def _indices(spec, n: int, where: str) -> list[int]:
    if spec == "all":
        return list(range(n))
    if not isinstance(spec, list) or not all(isinstance(i, int) for i in spec):
        raise CorpusError(f"{where}: paragraph indices must be a list of integers or 'all'")
    bad = [i for i in spec if not 0 <= i < n]
    if bad:
        raise CorpusError(f"{where}: paragraph indices {bad} outside the original's {n} paragraphs")
    return spec


def load_stories(path: Path = STORIES) -> list[dict]:
    """The story files, validated (every item's kind, outlet and references)."""
    outlets = yaml.safe_load(OUTLETS.read_text(encoding="utf-8"))
    stories = []
    for file in sorted(path.glob("*.yaml")):
        story = yaml.safe_load(file.read_text(encoding="utf-8"))
        story["file"] = file.name
        ids = set()
        for item in story.get("items", []):
            where = f"{file.name}:{item.get('id')}"
            if not item.get("id") or item["id"] in ids:
                raise CorpusError(f"{where}: every item needs a unique id")
            ids.add(item["id"])
            if item.get("kind") not in KINDS[1:]:
                raise CorpusError(f"{where}: unknown kind {item.get('kind')!r}")
            if "snapshot" not in item:
                if item.get("outlet") not in outlets:
                    raise CorpusError(f"{where}: unknown outlet {item.get('outlet')!r}")
                if item["kind"] in WRITTEN_KINDS and not _paragraphs(item.get("text", "")):
                    raise CorpusError(f"{where}: a {item['kind']} item needs its text")
                if item["kind"] in REFERENCE_KINDS and "copy" not in item:
                    raise CorpusError(f"{where}: a {item['kind']} item needs 'copy' (paragraph indices)")
                if not item.get("title"):
                    raise CorpusError(f"{where}: a title is needed")
            if item["kind"] == "chain" and not item.get("based_on"):
                raise CorpusError(f"{where}: a chain item names the item it rewrites (based_on)")
        for item in story.get("items", []):
            if item.get("based_on") and item["based_on"] not in ids:
                raise CorpusError(f"{file.name}:{item['id']}: based_on names no item of the story")
        stories.append(story)
    return stories


def assemble(dev_dir: str | os.PathLike | None = None, path: Path = STORIES) -> list[dict]:
    """Every article of the corpus with its ground truth, originals first, stories in file order."""
    outlets = yaml.safe_load(OUTLETS.read_text(encoding="utf-8"))
    stories = load_stories(path)
    need_dev = any(not s["source"].startswith("snapshot:") for s in stories)
    dev = dev_set_dir(dev_dir) if need_dev else None
    arts: list[dict] = []
    for story in stories:
        source = story["source"]
        key = story.get("key") or source.split(":", 1)[1]
        if source.startswith("dev:"):
            orig = _dev_page(source[4:], dev)
        elif source.startswith("snapshot:"):
            orig = _snapshot_page(source[len("snapshot:"):])
        else:
            raise CorpusError(f"{story['file']}: source must be dev:KEY or snapshot:URL")
        paras = orig["paragraphs"]
        t0 = orig["published"]
        language = story["language"]
        arts.append(dict(story=key, event=key, kind="original", item=f"{key}/original", url=orig["url"],
                         canonical_url=orig["canonical_url"], domain=_domain(orig["url"]),
                         source_name=_domain(orig["url"]), title=orig["title"], text="\n\n".join(paras),
                         published_at=t0, date_source="page", fetched_at=t0 + FETCH_DELAY, language=language,
                         uses=list(range(len(paras))), based_on=None))
        made: dict[str, dict] = {}
        for n, item in enumerate(story.get("items", []), 1):
            where = f"{story['file']}:{item['id']}"
            kind = item["kind"]
            when = t0 + timedelta(hours=float(item.get("hours", 0)))
            if "snapshot" in item:
                page = _snapshot_page(item["snapshot"])
                body, title, url = page["paragraphs"], page["title"], page["url"]
                when = page["published"] or when
                canonical, domain = page["canonical_url"], _domain(url)
                name = domain
            else:
                outlet = outlets[item["outlet"]]
                title = item["title"]
                if kind in REFERENCE_KINDS:
                    body = ([item["lead"]] if item.get("lead") else []) + \
                        [paras[i] for i in _indices(item["copy"], len(paras), where)] + list(item.get("tail", []))
                else:
                    body = _paragraphs(item["text"])
                body = list(outlet.get("head", [])) + body + list(outlet.get("foot", []))
                domain, name, canonical = outlet["domain"], outlet["name"], None
                url = f"https://www.{domain}/{key.lower()}/{n}-{_slug(title, item['id'])}"
            date, date_source, published, fetched = item.get("date"), "page", when, when + FETCH_DELAY
            if date == "none":
                published, date_source = None, None
            elif isinstance(date, dict) and "guessed" in date:
                published = datetime.fromisoformat(str(date["guessed"])).replace(tzinfo=timezone.utc)
                date_source = "text"
            elif date is not None:
                raise CorpusError(f"{where}: date is 'none' or {{guessed: YYYY-MM-DD}}")
            story_of = f"{key}/{item['id']}" if kind == "independent" else key
            uses = item.get("uses")
            if uses is None and kind in REFERENCE_KINDS and "copy" in item:
                uses = _indices(item["copy"], len(paras), where)
            art = dict(story=story_of, event=key, kind=kind, item=f"{key}/{item['id']}", url=url,
                       canonical_url=canonical, domain=domain, source_name=name, title=title,
                       text="\n\n".join(body), published_at=published, date_source=date_source,
                       fetched_at=fetched, language=language, uses=uses,
                       based_on=f"{key}/{item['based_on']}" if item.get("based_on") else f"{key}/original")
            made[item["id"]] = art
            arts.append(art)
    return arts


def counts(arts: list[dict]) -> dict[tuple[str, str], int]:
    """(kind, language) -> number of articles."""
    out: dict[tuple[str, str], int] = {}
    for a in arts:
        out[(a["kind"], a["language"])] = out.get((a["kind"], a["language"]), 0) + 1
    return out
