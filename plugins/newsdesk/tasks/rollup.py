"""The ``news_rollup`` DAG's task body: refresh the aggregate tables after a load."""

from __future__ import annotations

from ..analytics.rollup import refresh_all
from .context import params, warehouse


def refresh() -> dict:
    """Recompute the days that changed (every day with the Param ``full``). No migration here:
    the loading DAGs upgrade the warehouse before any load."""
    _, engine = warehouse()
    return refresh_all(engine, full=bool(params().get("full", False)))
