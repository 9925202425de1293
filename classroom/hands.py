"""The lesson's hands records (being built)."""
from __future__ import annotations
