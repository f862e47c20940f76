"""The warehouse: engine, schema, migrations and idempotent loads."""

from . import schema
from .db import get_engine, upgrade

__all__ = ["get_engine", "upgrade", "schema"]
