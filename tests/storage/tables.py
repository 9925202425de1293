"""Tables the storage tests write to (made by the tests, not by migrations)."""
from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table

METADATA = MetaData()
NOTES = Table("note", METADATA, Column("id", Integer, primary_key=True),
              Column("text", String(40), unique=True, nullable=False))
PARENTS = Table("parent", METADATA, Column("id", Integer, primary_key=True))
CHILDREN = Table("child", METADATA, Column("id", Integer, primary_key=True),
                 Column("parent_id", Integer, ForeignKey("parent.id", deferrable=True, initially="DEFERRED"),
                        nullable=False))
"""A child's parent is checked at commit (a deferred constraint): a way to make a commit fail."""
