"""Storage: one database (SQLite by default, PostgreSQL in production) and its migrations."""
from storage.database import Base, Database
from storage.guard import ConnectionHeld, ensure_free
from storage.writer import Writer, WriterClosed

__all__ = ["Base", "ConnectionHeld", "Database", "Writer", "WriterClosed", "ensure_free"]
