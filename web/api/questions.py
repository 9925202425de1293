"""The lesson's questions over REST (being built)."""
from __future__ import annotations

from web.routing import Api


def register(api: Api) -> None:
    pass
