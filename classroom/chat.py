"""The lesson's chat records (being built)."""
from __future__ import annotations
