"""The lesson's polls records (being built)."""
from __future__ import annotations
