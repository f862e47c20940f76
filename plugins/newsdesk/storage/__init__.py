"""The warehouse: engine, schema, migrations and idempotent loads."""

from .db import get_engine, upgrade
from . import schema

__all__ = ["get_engine", "upgrade", "schema"]
