"""The lesson's questions records (being built)."""
from __future__ import annotations
