"""Syndicated copies clustered to their originals.

``dedup_pending(engine)`` processes articles in ``dedup_state='pending'`` (the algorithm,
step by step, is in ``run``); ``reset_dedup`` puts articles back; ``reclean_learned`` repairs
clean texts that kept a line their site has learned as boilerplate since; ``reset_cjk``
re-queues Chinese and Japanese articles signed before their characters became tokens.

Pure layers: ``text`` (tokens), ``clean`` (what republishers add), ``signatures`` (MinHash,
LSH bands), ``verify`` (exact / near / paraphrase on the texts), ``original`` (which member
is the original). The engine, one module per step of a batch: ``claim`` (claim, epochs,
decision lock), ``boilerplate`` (per-site furniture learned from repetition),
``candidates`` (the search, every dialect's SQL for it), ``verification`` (prefilters and
verdicts of a batch), ``overlay`` (the warehouse as the batch sees it and its decisions),
``assignment`` (one article joins or founds a cluster), ``writes`` (bulk writes and index
rows), ``batch`` (the steps in order), ``run`` (``dedup_pending``), ``repair`` (resets and
repairs); ``sql`` holds the helpers they share.
"""

from .repair import reclean_learned, reset_cjk, reset_dedup
from .run import dedup_pending

__all__ = ["dedup_pending", "reclean_learned", "reset_cjk", "reset_dedup"]
