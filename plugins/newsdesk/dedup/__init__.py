"""Syndicated copies clustered to their originals.

``dedup_pending(engine)`` processes articles in ``dedup_state='pending'``; ``reset_dedup``
puts articles back; ``reclean_learned`` repairs clean texts that kept a line their site has
learned as boilerplate since; ``reset_cjk`` re-queues Chinese and Japanese articles signed
before their characters became tokens. Layers: ``text`` (tokens), ``clean`` (what republishers add),
``boilerplate`` (per-site furniture learned from repetition), ``signatures`` (MinHash,
LSH bands), ``verify`` (exact / near / paraphrase on the texts), ``original`` (which
member is the original), ``process`` (the warehouse index and cluster assignment).
"""

from .process import dedup_pending, reclean_learned, reset_cjk, reset_dedup

__all__ = ["dedup_pending", "reclean_learned", "reset_cjk", "reset_dedup"]
