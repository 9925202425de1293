"""The lesson's chat over REST: its messages page by page (as the lesson page shows them to the
caller), the staff's download, and posting. A message posted while the lesson's room is live goes
through the room, so everyone there gets it at once (docs/protocol.md, "Chat")."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from classroom import chat as rules
from classroom.chat import MAIN, ChatRecord, InvalidText, Viewer
from school import access
from school.errors import Forbidden as SchoolForbidden
from school.models import Lesson, Role, SchoolClass
from school.timezones import school_zone
from signaling.admission import Admission, admit_user
from signaling.chat import LessonChat, Sender
from signaling.errors import BadMessage, Forbidden, LessonClosed, NotFound, RateLimited
from web.api.params import QueryId
from web.errors import ApiError
from web.keys import ROOMS
from web.routing import Api, Call
from web.tables import export


class ChatQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    before: QueryId | None = None
    """A message id: the page of messages older than it (none: the newest)."""
    limit: int = Field(default=50, ge=1, le=200)
    format: Literal["json", "csv", "xlsx"] = "json"


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    text: Annotated[str, Field(max_length=rules.MAX_RAW_TEXT)]
    to: QueryId | None = None
    """A user id: a private message; none: public, in the room the writer is in."""


class ChatMessageOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    id: int
    from_: int = Field(alias="from")
    from_name: str
    from_role: str
    to: int | None
    room: str
    text: str
    """Plain text; "" for a student when the message was deleted."""
    at: datetime
    deleted: bool
    deleted_by: int | None = None
    """Staff only (null for students)."""
    deleted_at: datetime | None = None


class ChatPageOut(BaseModel):
    messages: list[ChatMessageOut]
    next_before: int | None
    """Ask `before` this for the page before (null: no older messages)."""


def _out(record: ChatRecord, staff: bool) -> ChatMessageOut:
    return ChatMessageOut.model_validate(rules.view(record, staff))


@dataclass(frozen=True)
class Member:
    lesson: Lesson
    role: str
    """teacher, observer (an administrator) or student."""

    @property
    def staff(self) -> bool:
        return self.role != "student"


async def _member(call: Call) -> Member:
    """The caller as a reader of the lesson's chat: its teacher, an administrator, or a student of
    its class; 403 for anyone else, 404 for another school's lesson."""
    async with call.db.session() as session:
        lesson = await access.get_lesson(session, call.user, call.path_id("id"))
    if lesson.teacher_id == call.user.id:
        return Member(lesson, "teacher")
    if call.user.role is Role.admin:
        return Member(lesson, "observer")
    if call.user.role is Role.student:
        return Member(lesson, "student")
    raise SchoolForbidden("only the lesson's teacher, its class's students and administrators read its chat")


def _live_chat(call: Call, lesson_id: int) -> LessonChat | None:
    room = call.request.app[ROOMS].rooms.get(lesson_id)
    if room is None or room.closed:
        return None
    return room.features["chat"]  # type: ignore[return-value]


async def _group_of(call: Call, member: Member) -> str:
    """The breakout group a student is in now (main when none runs)."""
    room = call.request.app[ROOMS].rooms.get(member.lesson.id)
    if member.staff or room is None:
        return MAIN
    try:
        return await room.act(lambda: room.breakouts.assigned(call.user.id))
    except LessonClosed:
        return MAIN


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "validation_error", f"{field}: {message}", fields=[{"field": field, "message": message}])


def _rate_limited(seconds: float, message: str) -> ApiError:
    return ApiError(429, "rate_limited", message, headers={"Retry-After": str(max(1, math.ceil(seconds)))})


async def _store_offline(call: Call, admission: Admission, text: str, to: int | None) -> ChatRecord:
    """A message while nobody is in the lesson's room: the same rules, read from the records (no
    room: the teacher's allowing students to write privately lasts while it is open)."""
    info, me = admission.lesson, admission
    recipient_role = None
    if to is not None:
        if to == me.user_id:
            raise _invalid("to", "write to someone else")
        recipient_role = "teacher" if to == info.teacher_id else "student" if to in info.student_ids else None
        if recipient_role is None:
            raise NotFound(f"user {to} is not in this lesson")
        refusal = rules.private_refusal(me.role, recipient_role, False)
        if refusal is not None:
            raise Forbidden(refusal)
    now = datetime.now(UTC)
    async with call.db.session() as session:
        blocked = me.role == "student" and me.user_id in await rules.blocked_users(session, info.id)
        sent = await rules.sent_since(session, info.id, me.user_id, now - timedelta(seconds=rules.RATE_PERIOD))
    if blocked:
        raise Forbidden("the teacher has stopped your chat")
    wait = rules.wait_after(sent, now)
    if wait is not None:
        raise _rate_limited(wait, f"at most {rules.RATE_LIMIT} messages in {rules.RATE_PERIOD:g} seconds")
    return await rules.store(call.db.writer, school_id=info.school_id, lesson_id=info.id, sender_id=me.user_id,
                             sender_name=me.full_name, sender_role=me.role, recipient_id=to,
                             room=MAIN, text=text, at=now)


def register(api: Api) -> None:
    @api.route("GET", r"/api/lessons/{id:\d+}/chat", summary="The lesson's chat", tag="chat", query=ChatQuery,
               response=ChatPageOut, errors=(403, 404), unit_of_work=False,
               description="Newest first by pages (each page oldest first): `before` a message id gives the page "
               "before it. Students get the main room's public messages, their group's, and their own private "
               "thread, deleted texts blanked; the teacher and administrators get every message, with who deleted "
               "it and when. `format=csv|xlsx` (staff only) downloads the whole chat, times in the school's time zone.")
    async def get_chat(call: Call) -> ChatPageOut | web.Response:
        member = await _member(call)
        q, lesson = call.query, member.lesson
        if q.format != "json":
            if not member.staff:
                raise SchoolForbidden("only the lesson's teacher and administrators download its chat")
            async with call.db.session() as session:
                records = await rules.everything(session, lesson.id, lesson.teacher_id)
                zone = await school_zone(session, lesson.school_id)
                header, rows = await rules.export_table(session, records, zone)
                class_name = await session.scalar(select(SchoolClass.name).where(SchoolClass.id == lesson.class_id))
            day = lesson.starts_at.astimezone(zone).strftime("%Y-%m-%d")
            return export(header, rows, q.format, f"tro-chuyen-{class_name}-{day}-tiet-{lesson.id}", "Trò chuyện")
        viewer = Viewer(call.user.id, member.staff, await _group_of(call, member))
        async with call.db.session() as session:
            records, next_before = await rules.page(session, lesson.id, lesson.teacher_id, viewer, q.before, q.limit)
        return ChatPageOut(messages=[_out(r, member.staff) for r in records], next_before=next_before)

    @api.route("POST", r"/api/lessons/{id:\d+}/chat", summary="Write in the lesson's chat", tag="chat",
               body=ChatIn, response=ChatMessageOut, status=201, errors=(403, 404, 422, 429), unit_of_work=False,
               description="A public message in the room the writer is in, or (`to`) a private one: a student writes "
               "to the teacher, to another student only while the teacher allows it. Students write while the lesson "
               "is open to them, unless the teacher stopped their chat (403). At most 5 messages in 10 seconds (429 "
               "with Retry-After). While the lesson is live, everyone in its room gets the message at once.")
    async def post_chat(call: Call) -> ChatMessageOut:
        async with call.db.session() as session:
            admission = await admit_user(session, call.user, call.path_id("id"))
        try:
            text = rules.clean_text(call.body.text)
        except InvalidText as exc:
            raise _invalid("text", str(exc).removeprefix("text: ")) from None
        staff = admission.role != "student"
        chat = _live_chat(call, admission.lesson.id)
        if chat is not None:
            sender = Sender(admission.user_id, admission.full_name, admission.role)
            try:
                return _out(await chat.post(sender, text, call.body.to), staff)
            except RateLimited as exc:
                raise _rate_limited(exc.retry_after, exc.message) from None
            except BadMessage as exc:
                field, _, message = exc.message.partition(": ")
                raise _invalid(field, message) from None
            except LessonClosed:
                pass  # the room closed meanwhile: stored like any message outside the lesson's room
        return _out(await _store_offline(call, admission, text, call.body.to), staff)
