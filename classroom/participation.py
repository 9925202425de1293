"""The lesson's participation records (being built)."""
from __future__ import annotations
