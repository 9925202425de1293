"""The lesson's moderation records (being built)."""
from __future__ import annotations
