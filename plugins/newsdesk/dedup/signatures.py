"""MinHash signatures and LSH bands (numpy, deterministic across processes).

Two routes to candidates, both stored as bands in ``lsh_buckets``:

* ``shingle``: word 3-gram shingles, 40 bands x 3 rows (P(candidate) = 0.9 at Jaccard 0.38,
  0.996 at 0.5). Finds verbatim, truncated, re-templated and edited copies.
* ``lexical``: the set of content words (stopwords dropped, light stemming, numbers
  kept), 40 bands x 3 rows. Rewording a fraction p of words keeps ~(1-p) of single
  words, so a spun copy still shares most of them while its 3-grams are gone.

The LSH thresholds are far below the decision thresholds: every candidate is
verified on the texts (``verify.py``).

Both routes band a Jaccard estimate, and a rewrite's Jaccard falls with its length ratio: a
condensed third, an excerpt of two paragraphs or an expanded rewrite shares most of its own
features with the original but few of the union (content-word Jaccard 0.1-0.25), so most such
pairs share no band. A third, containment-friendly route is indexed beside them:

* ``anchor``: the names and numbers a rewrite keeps (``verify.Doc.names`` / ``numbers``, as the
  CRC-32s ``dedup_signatures`` stores, so the bands can be rebuilt from a stored row), MinHash in
  ANCHOR_BANDS one-row bands: a pair sharing a fraction J of their anchors shares a band with
  probability 1 - (1 - J)^ANCHOR_BANDS. Schemes 200..211 of ``lsh_buckets`` (no new column).

``loose_lexical_buckets`` (the stored content-word MinHash banded in pairs of rows, no new
hashing) is defined for the benchmarks' route comparison but not indexed.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..cjk import has_cjk
from .text import content_words, h32, shingles, words

SHINGLE_N = 3
SHINGLE_BANDS, SHINGLE_ROWS = 40, 3
LEXICAL_BANDS, LEXICAL_ROWS = 40, 3
# Scheme numbers in lsh_buckets: shingle bands 0..39, lexical bands 100..139.
SHINGLE_SCHEME0 = 0
LEXICAL_SCHEME0 = 100
# Documents with fewer features than this are not banded (short briefs match everything).
MIN_SHINGLES = 12
MIN_LEXICAL = 10
# 12 one-row bands: a pair sharing 30 % of its anchors shares one with probability 0.986. On the
# realistic corpus 84 of 85 copy pairs share a band at 12 (85 at 24) with the same clusters, and
# at 10k indexed the dedup process's CPU per article grows 6 % instead of 11 %.
ANCHOR_BANDS, ANCHOR_ROWS = 12, 1
ANCHOR_SCHEME0 = 200
MIN_ANCHORS = 4
LOOSE_BANDS, LOOSE_ROWS = 60, 2  # LEXICAL_BANDS * LEXICAL_ROWS values, regrouped
LOOSE_SCHEME0 = 300


def _params(seed: str, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Multiply-shift hash parameters derived from blake2b: stable across processes and numpy versions."""
    raw = hashlib.blake2b(seed.encode(), digest_size=64).digest()
    out = []
    i = 0
    while len(out) < 2 * count:
        raw = hashlib.blake2b(raw + i.to_bytes(4, "big"), digest_size=64).digest()
        out.extend(int.from_bytes(raw[j:j + 8], "big") for j in range(0, 64, 8))
        i += 1
    a = np.array(out[:count], dtype=np.uint64) | np.uint64(1)  # odd multipliers
    b = np.array(out[count:2 * count], dtype=np.uint64)
    return a, b


_SHINGLE_PARAMS = _params("newsdesk-dedup-shingle-v1", SHINGLE_BANDS * SHINGLE_ROWS)
_LEXICAL_PARAMS = _params("newsdesk-dedup-lexical-v1", LEXICAL_BANDS * LEXICAL_ROWS)
_ANCHOR_PARAMS = _params("newsdesk-dedup-anchor-v1", ANCHOR_BANDS * ANCHOR_ROWS)
_EMPTY = np.uint32(0xFFFFFFFF)


def minhash(features: set[str], params: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """MinHash of a feature set: per permutation, min over ((a*x + b) mod 2^64) >> 32."""
    a, b = params
    if not features:
        return np.full(len(a), _EMPTY, dtype=np.uint32)
    # h32 of every feature: builtins mapped over the set (no Python frame per feature), a third
    # faster than a generator; np.fromiter over the same map is slower than building the list.
    x = np.array(list(map(zlib.crc32, map(str.encode, features))), dtype=np.uint64)
    # In place, one (permutations x features) buffer instead of three: ~20 % of the function's
    # time. Unsigned array arithmetic wraps modulo 2^64 without a warning. The shift is monotone,
    # so it is applied to the minima, not to every value: the same result, one pass fewer.
    hv = np.multiply(a[:, None], x[None, :])
    hv += b[:, None]
    return (hv.min(axis=1) >> np.uint64(32)).astype(np.uint32)


_BAND_PREFIX = [i.to_bytes(2, "big") for i in range(256)]
_MASK63 = (1 << 63) - 1


def bands(sig: np.ndarray, n_bands: int, rows: int, scheme0: int) -> list[tuple[int, int]]:
    """(scheme, bucket) pairs: bucket is a 63-bit hash (``h63``) of the band's index and rows."""
    raw = sig.astype("<u4").tobytes()
    width = 4 * rows
    blake2b, from_bytes_ = hashlib.blake2b, int.from_bytes
    return [(scheme0 + i, from_bytes_(blake2b(_BAND_PREFIX[i] + raw[i * width:(i + 1) * width],
                                              digest_size=8).digest(), "big") & _MASK63)
            for i in range(n_bands)]


@dataclass
class Signature:
    tokens: list[str]
    shingles: set[str]
    lexical: set[str]
    minhash: np.ndarray
    lexhash: np.ndarray

    @cached_property
    def buckets(self) -> list[tuple[int, int]]:
        """80 blake2b band hashes: computed once (~0.25 ms), however often they are asked for."""
        return signature_buckets(self.minhash, self.lexhash, len(self.shingles), len(self.lexical))


def signature_buckets(mh: np.ndarray | None, lx: np.ndarray | None, n_shingles: int, n_lexical: int):
    out: list[tuple[int, int]] = []
    if mh is not None and n_shingles >= MIN_SHINGLES:
        out += bands(mh, SHINGLE_BANDS, SHINGLE_ROWS, SHINGLE_SCHEME0)
    if lx is not None and n_lexical >= MIN_LEXICAL:
        out += bands(lx, LEXICAL_BANDS, LEXICAL_ROWS, LEXICAL_SCHEME0)
    return out


def signature(clean_text: str) -> Signature:
    toks = words(clean_text)
    sh = shingles(toks, SHINGLE_N)
    lex = set(content_words(toks, has_cjk(clean_text)))
    return Signature(toks, sh, lex, minhash(sh, _SHINGLE_PARAMS), minhash(lex, _LEXICAL_PARAMS))


def to_bytes(sig: np.ndarray) -> bytes:
    return sig.astype("<u4").tobytes()


def from_bytes(data: bytes | None) -> np.ndarray | None:
    return None if data is None else np.frombuffer(data, dtype="<u4").astype(np.uint32)


def feature_bytes(values) -> bytes:
    """A set of strings (numbers, names) as sorted unique CRC-32s, the form ``dedup_signatures`` keeps."""
    hashes = np.fromiter((h32(v) for v in values), dtype=np.uint32)
    return np.unique(hashes).astype("<u4").tobytes()


def feature_set(data: bytes | None) -> frozenset[int] | None:
    return None if data is None else frozenset(np.frombuffer(data, dtype="<u4").tolist())


def estimate(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    """Jaccard estimate from two MinHash signatures."""
    if a is None or b is None or len(a) != len(b):
        return None
    return float(np.mean(a == b))


# Names are told from numbers by XOR with this before hashing (one name and one number of equal
# CRC-32 are different anchors).
_NAME_SALT = np.uint64(0x5BD1E995)


def anchor_buckets(numbers: bytes | None, names: bytes | None) -> list[tuple[int, int]]:
    """Bands of a text's anchors, its numbers and names as ``feature_bytes`` stores them (from
    ``Doc.feature_hashes`` or a ``dedup_signatures`` row); none for a text with fewer than
    MIN_ANCHORS (a brief's one name and one figure match every brief) or a row without them."""
    if numbers is None or names is None:
        return []
    x = np.concatenate([np.frombuffer(numbers, dtype="<u4").astype(np.uint64),
                        np.frombuffer(names, dtype="<u4").astype(np.uint64) ^ _NAME_SALT])
    if len(x) < MIN_ANCHORS:
        return []
    a, b = _ANCHOR_PARAMS
    hv = np.multiply(a[:, None], x[None, :])
    hv += b[:, None]
    return bands((hv.min(axis=1) >> np.uint64(32)).astype(np.uint32), ANCHOR_BANDS, ANCHOR_ROWS, ANCHOR_SCHEME0)


def index_buckets(sig: Signature, feature_hashes: tuple[bytes, bytes]) -> list[tuple[int, int]]:
    """Every band an original is indexed under: shingle and content-word bands, then anchors."""
    return sig.buckets + anchor_buckets(*feature_hashes)


def set_size(sig: np.ndarray | None) -> float | None:
    """The size of a MinHash's set, estimated from its minima ((k - 1) / sum of the minima as
    fractions of 2^32; ~9 % error at 120 permutations): no count needs storing."""
    if sig is None or not len(sig):
        return None
    total = float(sig.astype(np.float64).sum()) / 2.0**32
    return (len(sig) - 1) / total if total > 0 else None


def loose_lexical_buckets(lexhash: np.ndarray | None, n_lexical: int) -> list[tuple[int, int]]:
    """The content-word MinHash in LOOSE_BANDS bands of LOOSE_ROWS rows: a pair of content-word
    Jaccard 0.15 shares one with probability 0.75 (the lexical route's bands: 0.13)."""
    if lexhash is None or n_lexical < MIN_LEXICAL:
        return []
    return bands(lexhash, LOOSE_BANDS, LOOSE_ROWS, LOOSE_SCHEME0)
