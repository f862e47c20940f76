"""Write WARC files from the offline snapshot in seeds/snapshot/.

    python seeds/make_snapshot_warc.py                      # tests/data/warc/syndication.warc.gz
    python seeds/make_snapshot_warc.py --out OTHER.warc.gz  # the same records elsewhere
    python seeds/make_snapshot_warc.py --all OUT.warc.gz    # every URL in the snapshot manifest

The syndication WARC is a small fixture for the archive (backfill) path. It holds, as
a crawler would have written them over https:

    warcinfo
    request   GET the Al Jazeera original
    response  the Al Jazeera original (text/html)
    response  its lead image (image/jpeg: not an article)
    response  the DailyWire Mirror copy with an attribution line (text/html)
    response  a 404 page (the 234Radio post that was deleted)
    revisit   the Al Jazeera original fetched again a day later, identical payload

Snapshot pages link to http:// URLs; in this WARC the hosts of the snapshot are
rewritten to https:// inside the bodies too, so that canonical links and og:url agree
with WARC-Target-URI as they would on a real crawl. `--all` keeps the URLs exactly as
the snapshot serves them (http://), so a backfill of that WARC and `make run` see the
same URLs.

Output is deterministic: fixed WARC-Date values, WARC-Record-IDs derived from
(record type, URI, date), fixed HTTP Date headers, and gzip members with mtime 0.
Re-running the script gives a byte-identical file.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

SEEDS = Path(__file__).resolve().parent
SNAPSHOT = SEEDS / "snapshot"
DEFAULT_OUT = SEEDS.parent / "tests" / "data" / "warc" / "syndication.warc.gz"

USER_AGENT = "newsdesk/0.1 (+https://github.com/newsdesk/newsdesk; news ingestion bot)"
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/newsdesk/newsdesk/seeds/snapshot")

AJ_ORIGINAL = "http://aljazeera.com/news/2025/7/24/russia-seeking-to-create-buffer-zones-in-ukraine-says-kremlin"
AJ_IMAGE = "http://aljazeera.com/wp-content/uploads/2025/07/ukraine-pows-1753350000.jpg"
DW_COPY = ("http://dailywire-mirror.example/world/2025/07/24/"
           "kremlin-says-russian-forces-pushing-for-buffer-zones-as-istanbul-talks-stall.html")
DELETED = "http://234radio.com/nollywood-box-office-julys-top-earners/"


# ----------------------------------------------------------------------------- snapshot
def load_manifest() -> list[dict]:
    data = yaml.safe_load((SNAPSHOT / "manifest.yaml").read_text(encoding="utf-8"))
    return data["urls"]


def snapshot_hosts(entries: list[dict]) -> list[str]:
    return sorted({urlsplit(e["url"]).hostname for e in entries}, key=len, reverse=True)


def to_https(data: bytes, hosts: list[str]) -> bytes:
    """Rewrite http://HOST to https://HOST for the snapshot's own hosts only."""
    for host in hosts:
        data = data.replace(f"http://{host}".encode(), f"https://{host}".encode())
    return data


# ----------------------------------------------------------------------------- records
def warc_date(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_id(kind: str, uri: str, moment: datetime) -> str:
    return f"<urn:uuid:{uuid.uuid5(ID_NAMESPACE, f'{kind} {uri} {warc_date(moment)}')}>"


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(timezone.utc), usegmt=True)


class Builder:
    """Wraps warcio's writer with fixed dates and ids."""

    def __init__(self, stream, warcinfo_text: str, started: datetime, filename: str):
        self.writer = WARCWriter(stream, gzip=True, warc_version="1.0")
        payload = warcinfo_text.encode("utf-8")
        self.warcinfo_id = record_id("warcinfo", filename, started)
        record = self.writer.create_warc_record(
            "", "warcinfo", payload=BytesIO(payload), length=len(payload),
            warc_content_type="application/warc-fields",
            warc_headers_dict={"WARC-Record-ID": self.warcinfo_id, "WARC-Date": warc_date(started),
                               "WARC-Filename": filename})
        self.writer.write_record(record)

    def _headers(self, kind: str, uri: str, moment: datetime, **extra) -> dict:
        headers = {"WARC-Record-ID": record_id(kind, uri, moment), "WARC-Date": warc_date(moment),
                   "WARC-Warcinfo-ID": self.warcinfo_id}
        headers.update(extra)
        return headers

    @staticmethod
    def response_http_headers(status: int, content_type: str, body: bytes, moment: datetime,
                              extra: dict | None = None) -> StatusAndHeaders:
        headers = [("Date", http_date(moment)), ("Server", "nginx"), ("Content-Type", content_type),
                   ("Content-Length", str(len(body)))]
        if status == 200:
            headers.append(("Cache-Control", "public, max-age=300"))
        headers.extend((extra or {}).items())
        return StatusAndHeaders(f"{status} {HTTPStatus(status).phrase}", headers, protocol="HTTP/1.1")

    def request(self, uri: str, moment: datetime, concurrent_to: str) -> str:
        parts = urlsplit(uri)
        http = StatusAndHeaders(f"GET {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1", [
            ("Host", parts.netloc), ("User-Agent", USER_AGENT),
            ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            ("Accept-Encoding", "identity"), ("Connection", "close")], is_http_request=True)
        headers = self._headers("request", uri, moment, **{"WARC-Concurrent-To": concurrent_to})
        record = self.writer.create_warc_record(uri, "request", http_headers=http, warc_headers_dict=headers)
        self.writer.write_record(record)
        return headers["WARC-Record-ID"]

    def response(self, uri: str, moment: datetime, status: int, content_type: str, body: bytes,
                 extra_http: dict | None = None):
        http = self.response_http_headers(status, content_type, body, moment, extra_http)
        headers = self._headers("response", uri, moment)
        record = self.writer.create_warc_record(uri, "response", payload=BytesIO(body), length=len(body),
                                                http_headers=http, warc_headers_dict=headers)
        self.writer.write_record(record)
        return record

    def revisit(self, uri: str, moment: datetime, original, content_type: str, body: bytes):
        """Identical-payload revisit of ``original`` (a response record written before)."""
        http = self.response_http_headers(200, content_type, body, moment)
        headers = self._headers("revisit", uri, moment,
                                **{"WARC-Refers-To": original.rec_headers.get_header("WARC-Record-ID")})
        record = self.writer.create_revisit_record(
            uri, digest=original.rec_headers.get_header("WARC-Payload-Digest"),
            refers_to_uri=original.rec_headers.get_header("WARC-Target-URI"),
            refers_to_date=original.rec_headers.get_header("WARC-Date"),
            http_headers=http, warc_headers_dict=headers)
        self.writer.write_record(record)
        return record


def warcinfo_text(description: str) -> str:
    return ("software: newsdesk seeds/make_snapshot_warc.py (warcio)\r\n"
            "format: WARC File Format 1.0\r\n"
            "conformsTo: http://bibnum.bnf.fr/WARC/WARC_ISO_28500_version1_latestdraft.pdf\r\n"
            f"description: {description}\r\n"
            "robots: obey\r\n"
            f"http-header-user-agent: {USER_AGENT}\r\n")


# ----------------------------------------------------------------------------- outputs
def write_syndication(out: Path) -> None:
    entries = {e["url"]: e for e in load_manifest()}
    hosts = snapshot_hosts(list(entries.values()))

    def page(url: str) -> tuple[str, dict, bytes]:
        entry = entries[url]
        body = (SNAPSHOT / entry["file"]).read_bytes()
        https_url = "https://" + url[len("http://"):]
        return https_url, entry, to_https(body, hosts)

    t0 = datetime(2025, 7, 24, 10, 5, 12, tzinfo=timezone.utc)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as stream:
        b = Builder(stream, warcinfo_text("newsdesk test fixture: an original article, a syndicated copy, "
                                          "an image, a 404 and a revisit"), t0 - timedelta(seconds=2), out.name)

        uri, entry, body = page(AJ_ORIGINAL)
        response_id = record_id("response", uri, t0)
        b.request(uri, t0, concurrent_to=response_id)
        original = b.response(uri, t0, 200, entry["content_type"], body,
                              {"Last-Modified": "Thu, 24 Jul 2025 10:00:00 GMT"})

        uri_img, entry, body_img = page(AJ_IMAGE)
        b.response(uri_img, t0 + timedelta(seconds=1), 200, entry["content_type"], body_img)

        uri_dw, entry, body_dw = page(DW_COPY)
        b.response(uri_dw, datetime(2025, 7, 24, 14, 41, 7, tzinfo=timezone.utc), 200, entry["content_type"], body_dw)

        uri_404, entry, body_404 = page(DELETED)
        b.response(uri_404, datetime(2025, 7, 24, 16, 50, 0, tzinfo=timezone.utc), entry["status"],
                   entry["content_type"], body_404)

        b.revisit(uri, t0 + timedelta(days=1), original, entries[AJ_ORIGINAL]["content_type"], body)


def write_all(out: Path) -> None:
    entries = load_manifest()
    t0 = datetime(2025, 7, 25, 12, 0, 0, tzinfo=timezone.utc)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as stream:
        b = Builder(stream, warcinfo_text("newsdesk offline snapshot: every URL of seeds/snapshot/manifest.yaml"),
                    t0 - timedelta(seconds=1), out.name)
        for i, entry in enumerate(entries):
            body = (SNAPSHOT / entry["file"]).read_bytes()
            b.response(entry["url"], t0 + timedelta(seconds=i), int(entry.get("status", 200)),
                       entry["content_type"], body, entry.get("headers"))


def summary(path: Path) -> list[str]:
    lines = []
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream):
            status = ""
            if record.http_headers:
                status = (record.http_headers.protocol if record.rec_type == "request"
                          else record.http_headers.get_statuscode())
            ctype = record.http_headers.get_header("Content-Type") if record.http_headers else record.content_type
            lines.append(f"{record.rec_type:9} {status or '-':>4} {ctype or '-':40} "
                         f"{record.rec_headers.get_header('WARC-Target-URI') or ''}")
            record.content_stream().read()
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the syndication WARC")
    parser.add_argument("--all", type=Path, metavar="OUT", help="write a WARC of the whole snapshot instead")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    out = args.all or args.out
    (write_all if args.all else write_syndication)(out)
    if not args.quiet:
        print(f"wrote {out}")
        print("\n".join(summary(out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
