"""The warehouse's migrations (Alembic, ``migrations/``) and analyst views (``views/``), shipped in
the package as ``newsdesk.sql`` (``plugins/newsdesk/sql`` links here) and read through
``importlib.resources``."""
