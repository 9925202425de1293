"""Storage: one database (SQLite by default, PostgreSQL in production) and its migrations."""
from storage.database import Base, Database

__all__ = ["Base", "Database"]
