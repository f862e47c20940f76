"""Archived HTTP responses: streaming WARC reading with offsets, bad-record classification and damage recovery.

``scan_archive`` yields one ``Item`` per record: an HTML page to extract (``page``
set) or a skip reason (``skip`` set), always with the record's start offset, so
callers can save a resume point at any record boundary. Bodies are read one
record at a time (capped at ``max_body_bytes`` + 1), never the whole archive.

A damaged record (a truncated or corrupt gzip member, unparsable headers) is
counted as ``damaged`` and reading goes on at the next gzip member (or, for an
uncompressed WARC, the next ``WARC/1.x`` header) after it; damage at the end of
the file (a cut download) ends the file.

ARC files (the format before WARC) are read too: warcio gives their records WARC headers.
So are ``.warc.zst`` files (zstd, with or without a dictionary), like a single gzip stream
below: front to back, and damage ends the file.

A whole WARC gzipped as one stream (``gzip file.warc``, instead of one member per
record) is read too, front to back: its records have no offset to seek to, so their
pages carry ``offset = -1`` (the importer keeps a copy of each), items carry the
compressed position reached (for progress), and a resume starts again at the top.
"""

from __future__ import annotations

import functools
import logging
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import fsspec
import zstandard
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader, DecompressingBufferedReader

from ..mime import html_content_type, is_html_type, may_be_html
from ..urls import url_problem

log = logging.getLogger(__name__)

_SCAN_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_MAGIC = b"WARC/1."


@dataclass(slots=True)
class Page:
    url: str
    body: bytes
    content_type: str
    warc_date: str | None
    canonical: str = ""  # filled in by the importer
    offset: int = -1  # start of its record in the archive (see Item.offset)


class SetAside(Exception):
    """A record that is read but cannot be a page: skipped for ``skip``, its reason kept."""

    def __init__(self, skip: str, reason: str):
        super().__init__(reason)
        self.skip = skip


@dataclass(slots=True)
class Item:
    offset: int  # start of the record in the file (gzip member start for .warc.gz)
    page: Page | None = None
    skip: str | None = None
    error: str | None = None


def is_remote(path: str) -> bool:
    return "://" in str(path) and not str(path).startswith("file://")


def open_archive(path: str) -> BinaryIO:
    """A seekable binary stream for a local path or any fsspec URL (s3://, gs://, https://, memory://)."""
    path = str(path)
    if "://" not in path:
        return open(path, "rb", buffering=1 << 20)
    return fsspec.open(path, "rb").open()


def archive_size(path: str) -> int | None:
    path = str(path)
    try:
        if "://" not in path:
            return os.path.getsize(path)
        fs, fs_path = fsspec.core.url_to_fs(path)
        return fs.size(fs_path)
    except (OSError, ValueError, NotImplementedError):
        return None
    except Exception:
        return None


def archive_exists(path: str) -> bool:
    path = str(path)
    if "://" not in path:
        return os.path.isfile(path)
    try:
        fs, fs_path = fsspec.core.url_to_fs(path)
        # info, not exists(): over HTTP that is a HEAD, where exists() GETs the whole body
        return fs.info(fs_path).get("type") != "directory"
    except Exception:
        return False


def _gunzip_left(body: bytes, limit: int) -> bytes:
    """A body still gzipped after warcio's decoding (``x-gzip``, gzip applied twice, a missing
    Content-Encoding), inflated up to ``limit`` + 1 bytes; unchanged when it is not gzip."""
    for _ in range(3):
        if not body.startswith(_GZIP_MAGIC):
            return body
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, limit + 1)
        except zlib.error:
            return body  # not gzip after all: the extractor reports what it is
    return body


def _classify(record, max_body_bytes: int) -> tuple[Page | None, str | None]:
    rec_type = record.rec_type or "unknown"
    if rec_type != "response":
        return None, rec_type  # request, revisit, metadata, warcinfo, resource, ...
    url = (record.rec_headers.get_header("WARC-Target-URI") or "").strip().strip("<>")  # WARC/1.0 allowed <uri>
    if not url.lower().startswith(("http://", "https://")):
        return None, "not_http"
    problem = url_problem(url)
    if problem is not None:  # a port out of range, a broken IPv6 literal: this record only
        raise SetAside("bad_url", f"{url[:300]!r}: {problem}")
    http = record.http_headers
    if http is None:
        return None, "no_http_headers"
    status = http.get_statuscode()
    if status != "200":
        return None, f"http_{status}"
    ctype = http.get_header("Content-Type")
    # Common Crawl's own identification of the payload, which overrides a wrong label
    identified = record.rec_headers.get_header("WARC-Identified-Payload-Type")
    if not (may_be_html(ctype) or is_html_type(identified)):
        return None, "not_html"
    body = record.content_stream().read(max_body_bytes + 1)
    body = _gunzip_left(body, max_body_bytes)
    if len(body) > max_body_bytes:
        return None, "too_large"
    ctype = html_content_type(ctype, body, identified)
    if ctype is None:
        return None, "not_html"
    return Page(url, body, ctype, record.rec_headers.get_header("WARC-Date")), None


def _next_member(stream: BinaryIO, start: int, gz: bool) -> int | None:
    """Offset of the next intact record start at or after ``start`` (None at end of file)."""
    pos = start
    magic = _GZIP_MAGIC if gz else _WARC_MAGIC
    carry = b""
    while True:
        stream.seek(pos)
        chunk = stream.read(_SCAN_CHUNK)
        if not chunk:
            return None
        data = carry + chunk
        base = pos - len(carry)
        i = data.find(magic)
        while i != -1:
            cand = base + i
            if cand >= start and _looks_like_record(stream, cand, gz):
                return cand
            i = data.find(magic, i + 1)
        carry = data[-(len(magic) - 1):]
        pos += len(chunk)


def _looks_like_record(stream: BinaryIO, offset: int, gz: bool) -> bool:
    stream.seek(offset)
    head = stream.read(4096)
    if not gz:
        return head.startswith(_WARC_MAGIC)
    try:
        out = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 16)
    except zlib.error:
        return False
    return out.startswith(_WARC_MAGIC)


def _is_gzip(stream: BinaryIO, offset: int) -> bool:
    stream.seek(offset)
    return stream.read(2) == b"\x1f\x8b"


@functools.lru_cache(maxsize=1)
def _isal_reader():
    """warcio's buffered reader inflating gzip members with ISA-L (``isal``), or None when it
    is not installed: the same bytes and the same errors on damaged members, in about half
    the CPU time of zlib, which is most of what the importing process spends per record."""
    try:
        from isal import isal_zlib
    except ImportError:
        return None

    class IsalReader(DecompressingBufferedReader):
        DECOMPRESSORS = {**DecompressingBufferedReader.DECOMPRESSORS,
                         "gzip": lambda: isal_zlib.decompressobj(16 + isal_zlib.MAX_WBITS)}

    return IsalReader


@functools.lru_cache(maxsize=1)
def _iterator_class():
    class RecordIterator(ArchiveIterator):
        """warcio's iterator, going on through a gzip member that holds several records (one
        stream for the whole file), which warcio refuses because such records cannot be seeked
        to; ``single_stream`` says it happened."""

        single_stream = False

        def _raise_invalid_gzip_err(self):
            self.single_stream = True

    return RecordIterator


# Brotli output allowed per block of input: brotli turns 1 GiB of zeros into 1.7 kB, and warcio
# inflates a whole block at once; no real page comes near this from one 16 kB block.
BROTLI_MAX_OUTPUT_PER_BLOCK = 32 * 1024 * 1024


class _BoundedBrotli:
    """``Content-Encoding: br`` for warcio's readers (browser-based crawlers record it), bounded:
    past ``BROTLI_MAX_OUTPUT_PER_BLOCK`` from one block, the body ends there (and is then too
    large). warcio's own brotli hook calls a ``decompress`` that brotli 1.2 does not have."""

    unused_data = None  # warcio looks for a next member; brotli content has none

    def __init__(self):
        import brotli

        self._decompressor = brotli.Decompressor()
        self._stopped = False

    def decompress(self, data: bytes) -> bytes:
        if self._stopped:
            return b""
        out = self._decompressor.process(data, output_buffer_limit=BROTLI_MAX_OUTPUT_PER_BLOCK)
        if not self._decompressor.can_accept_more_data():  # more output than the limit is pending
            self._stopped = True
        return out


@functools.lru_cache(maxsize=1)
def _install_brotli() -> None:
    try:
        import brotli  # noqa: F401
    except ImportError:
        return
    BufferedReader.DECOMPRESSORS["br"] = _BoundedBrotli


def _archive_iterator(stream: BinaryIO):
    """warcio's record iterator (see ``_iterator_class``), on the ISA-L reader when there is one."""
    _install_brotli()
    iterator = _iterator_class()(stream, arc2warc=True)  # ARC files (older crawls) read as WARC records
    reader = _isal_reader()
    if reader is not None:
        iterator.reader = reader(iterator.fh, block_size=iterator.reader.block_size)
    return iterator


_ZSTD_FRAME = b"\x28\xb5\x2f\xfd"
_ZSTD_DICTIONARY_FRAME = b"\x5d\x2a\x4d\x18"  # a skippable frame holding the records' dictionary
_ZSTD_MAX_DICTIONARY = 16 * 1024 * 1024


def _is_zstd(stream: BinaryIO) -> bool:
    stream.seek(0)
    return stream.read(4) in (_ZSTD_FRAME, _ZSTD_DICTIONARY_FRAME)


def _zstd_records(stream: BinaryIO) -> BinaryIO:
    """A ``.warc.zst`` file (a zstd frame per record, after an optional dictionary frame, as
    Wget-AT writes them) decompressed, front to back. Reads return at most what was asked for,
    so a bomb frame inflates no further than warcio's block."""
    stream.seek(0)
    head = stream.read(8)
    dictionary = None
    if head[:4] == _ZSTD_DICTIONARY_FRAME:
        size = int.from_bytes(head[4:8], "little")
        if size > _ZSTD_MAX_DICTIONARY:
            raise ValueError(f"zstd dictionary of {size} bytes")
        raw = stream.read(size)
        if raw[:4] == _ZSTD_FRAME:  # the dictionary may itself be compressed
            raw = zstandard.ZstdDecompressor().decompress(raw, max_output_size=_ZSTD_MAX_DICTIONARY)
        dictionary = zstandard.ZstdCompressionDict(raw)
    stream.seek(0)  # the decompressor skips the dictionary's skippable frame
    return zstandard.ZstdDecompressor(dict_data=dictionary).stream_reader(stream, read_across_frames=True,
                                                                           closefd=False)


def _zstd_cut_at(stream: BinaryIO) -> int | None:
    """Where a ``.warc.zst`` file ends inside a frame (a cut download), or None when its last
    frame is whole: the decompressor ends quietly at the last whole block, so the frames are
    walked (headers and block sizes only, RFC 8878)."""
    stream.seek(0, 2)
    end = stream.tell()
    pos = 0
    while pos < end:
        stream.seek(pos)
        head = stream.read(18)
        if len(head) < 8:
            return pos
        if head[:4] == _ZSTD_FRAME:
            descriptor = head[4]
            single_segment, checksum = descriptor >> 5 & 1, descriptor >> 2 & 1
            size_flag, dict_flag = descriptor >> 6, descriptor & 3
            header = 5 + (0 if single_segment else 1) + (0, 1, 2, 4)[dict_flag]
            header += (1 if single_segment else 0, 2, 4, 8)[size_flag]
            pos += header
            while True:
                stream.seek(pos)
                block = stream.read(3)
                if len(block) < 3:
                    return pos
                value = int.from_bytes(block, "little")
                block_type, block_size = value >> 1 & 3, value >> 3
                pos += 3 + (1 if block_type == 1 else block_size)  # an RLE block stores one byte
                if value & 1:  # the frame's last block
                    break
            pos += 4 * checksum
        elif head[:4] == _ZSTD_DICTIONARY_FRAME or (head[0] & 0xF0 == 0x50 and head[1:4] == b"\x2a\x4d\x18"):
            pos += 8 + int.from_bytes(head[4:8], "little")  # a skippable frame
        else:
            return pos
    return pos if pos > end else None


def is_single_stream(stream: BinaryIO) -> bool:
    """A file whose records cannot be seeked to: a ``.warc.zst``, or a gzip file whose first
    member holds more than one record (one stream for the file)."""
    if _is_zstd(stream):
        return True
    if not _is_gzip(stream, 0):
        return False
    stream.seek(0)
    iterator = _archive_iterator(stream)
    try:
        for n, _record in enumerate(iterator):
            if iterator.single_stream or n >= 1:
                return iterator.single_stream
    except Exception:
        return False
    return False


def scan_archive(stream: BinaryIO, start_offset: int = 0, max_body_bytes: int = 15 * 1024 * 1024,
                 size: int | None = None) -> Iterator[Item]:
    """Yield every record from ``start_offset`` on (see module docstring)."""
    if start_offset > 0 and (size is None or start_offset < size) and is_single_stream(stream):
        start_offset = 0  # its records cannot be reached from the middle
    zstd = (size is None or start_offset < size) and _is_zstd(stream)
    gz = _is_gzip(stream, start_offset) if (size is None or start_offset < size) else False
    pos: int | None = start_offset
    while pos is not None:
        stream.seek(pos)
        iterator = _archive_iterator(_zstd_records(stream) if zstd else stream)
        iterator.single_stream = zstd  # set again by warcio for a gzip stream of several records
        current = pos
        failure: str | None = None
        try:
            for record in iterator:
                # start of this record (set before it is parsed); inside one gzip stream, only
                # how far the file has been read, never below what an earlier item reported
                current = max(current, stream.tell()) if iterator.single_stream else iterator.offset
                reason = None
                try:
                    try:
                        page, skip = _classify(record, max_body_bytes)
                    except SetAside as aside:
                        page, skip, reason = None, aside.skip, f"offset {current}: {aside}"
                    iterator.read_to_end()
                except Exception as exc:
                    failure = f"{exc.__class__.__name__}: {exc}"
                    break
                missing = getattr(record.raw_stream, "limit", 0)
                if missing:  # the file ended inside this record (a cut download): nothing after it
                    yield Item(
                        offset=current,
                        skip="damaged",
                        error=f"offset {current}: record truncated, {missing} bytes missing",
                    )
                    log.warning("archive truncated inside the record at offset %s", current)
                    continue
                if page is not None:
                    page.offset = -1 if iterator.single_stream else current
                yield Item(offset=current, page=page, skip=skip, error=reason)
            else:
                cut = _zstd_cut_at(stream) if zstd else None
                if cut is not None:
                    yield Item(offset=max(current, cut), skip="damaged",
                               error=f"offset {cut}: zstd frame truncated (a cut file)")
                    log.warning("archive truncated inside the zstd frame at offset %s", cut)
                return
        except Exception as exc:
            failure = f"{exc.__class__.__name__}: {exc}"
            current = max(current, stream.tell()) if iterator.single_stream else getattr(iterator, "offset", current)
        failure = failure.encode("ascii", "backslashreplace").decode("ascii")[:300]
        yield Item(offset=current, skip="damaged", error=f"offset {current}: {failure}")
        log.warning("damaged archive record at offset %s: %s", current, failure)
        pos = None if zstd else _next_member(stream, current + 1, gz)  # no resync inside zstd frames


def read_page(path: str, offset: int, max_body_bytes: int = 15 * 1024 * 1024) -> Page | None:
    """The HTML page of the record at ``offset`` (an ``Item.offset``), or None if it is not one
    (the file changed or is gone: callers treat that like a missing raw body)."""
    try:
        with open_archive(path) as stream:
            for item in scan_archive(stream, offset, max_body_bytes):
                return item.page if item.offset == offset else None
    except (OSError, ValueError) as exc:
        log.warning("cannot re-read %s at offset %s: %s", path, offset, exc)
    return None


def read_body(path: str, offset: int) -> bytes | None:
    """The HTML body of the record at ``offset``: what ``storage.loads.load_raw`` is given to
    read a page that the warehouse keeps as a pointer into its archive."""
    page = read_page(path, offset)
    return page.body if page is not None else None
