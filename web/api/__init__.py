"""The REST API under /api: one module per resource, all declared on one `Api`."""
from __future__ import annotations

from web.api import (attendance, auth, breakouts, chat, lessons, live, moderation, my_results, participation, polls,
                     questions, recordings, structure, users)
from web.routing import Api


def build_api() -> Api:
    api = Api()
    for module in (auth, users, structure, lessons, live, breakouts, attendance, recordings, chat, questions, polls,
                   moderation, participation, my_results):
        module.register(api)
    return api
