"""newsdesk: news feeds to a SQL warehouse, with syndicated copies clustered to their originals."""

__version__ = "0.1.0"
