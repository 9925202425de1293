"""Every table of the classroom package, for Alembic (each feature declares its own in its module)."""
from __future__ import annotations

from classroom import activity, chat, hands, moderation, participation, polls, questions  # noqa: F401
