"""The school's settings page's API: read them (staff), change them (administrators, audited)."""
from __future__ import annotations

from school.access import require_admin
from school.models import Role
from school.settings import SchoolSettingsOut, SchoolSettingsPatch, get_school, settings_out, update
from web.routing import Api, Call


def register(api: Api) -> None:
    @api.route("GET", "/api/school/settings", summary="The school's settings", tag="settings",
               response=SchoolSettingsOut, roles=(Role.admin, Role.teacher),
               description="Name, time zone (IANA), the attendance rules (late_after_minutes, left_early_minutes, "
               "min_presence_percent: the share of a lesson's scheduled length a student must be present to count "
               "as present), lesson_grace_minutes (how long a room stays open after the end), the recording "
               "defaults of new lessons (recording_mode, record_students) and recording_retention_days (null: "
               "kept). Administrators and teachers read them; only administrators change them.")
    async def get_settings(call: Call) -> SchoolSettingsOut:
        return settings_out(await get_school(call.session, call.user.school_id))

    @api.route("PATCH", "/api/school/settings", summary="Change the school's settings", tag="settings",
               body=SchoolSettingsPatch, response=SchoolSettingsOut, roles=(Role.admin,), errors=(422,),
               description="Only the fields sent change (`recording_retention_days: null` keeps recordings; "
               "other nulls are refused). Recorded in the change log as `settings` with the values before and "
               "after. Refusals name the field, in the asker's language.")
    async def patch_settings(call: Call) -> SchoolSettingsOut:
        require_admin(call.user)
        return settings_out(await update(call.session, call.user, call.body))
