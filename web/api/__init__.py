"""The REST API under /api: one module per resource, all declared on one `Api`."""
from __future__ import annotations

from web.api import (attendance, auth, board, board_export, board_slides, breakouts, catalogue, chat, lessons, live,
                     live_patch,
                     moderation, my_results, participation, polls, questions, recordings, structure, supervision,
                     users)
from web.api import assignments as coursework_assignments
from web.api import audit as audit_log
from web.api import materials as materials_api
from web.api import notices as notices_api
from web.api import online_tests
from web.api import parents as parents_api
from web.api import gradebook as gradebook_api
from web.api import record_bundle, teaching_stats
from web.api import rolls as rolls_api
from web.api import settings as school_settings
from web.api import timetable as timetable_api
from web.routing import Api


def build_api() -> Api:
    api = Api()
    for module in (auth, users, structure, lessons, live, live_patch, breakouts, attendance, recordings, chat, questions,
                   polls, moderation, participation, my_results, board_slides, board, board_export,
                   supervision, catalogue):
        module.register(api)
    school_settings.register(api)
    audit_log.register(api)
    materials_api.register(api)
    parents_api.register(api)
    notices_api.register(api)
    gradebook_api.register(api)
    teaching_stats.register(api)
    record_bundle.register(api)
    rolls_api.register(api)
    timetable_api.register(api)
    online_tests.register(api)
    coursework_assignments.register(api)
    return api
