"""Parents (phụ huynh): the school creates parent accounts linked to students or gives an invitation
code (mã mời) per student; a parent joins with it; a parent sees, per child (con), the class's
timetable, the child's own attendance (vắng, muộn...), due work and results. Never another child:
every read goes through `may_see_student`."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy import select

from attendance.models import AttendanceEvent
from attendance.report import lesson_attendance, room_opened
from school import parent_accounts as pa
from school.errors import Forbidden, InvalidField
from school.models import Lesson, Role, School, Subject, User
from school.parents import children_of, may_see_student
from school.passwords import hash_password
from web.auth import LIMITS
from web.errors import ApiError
from web.ratelimit import retry_after
from web.routing import Api, Call

PARENT_ID = r"/api/parents/{id:\d+}"
PAST_DAYS = 30
NEXT_DAYS = 14


class ChildLessonOut(BaseModel):
    lesson_id: int
    title: str
    subject: str
    starts_at: datetime
    ends_at: datetime
    cancelled: bool
    attendance: Literal["present", "late", "left_early", "late_left_early", "absent", "not_yet"]


class ChildGradeOut(BaseModel):
    kind: str
    title: str
    subject_name: str
    score10: float | None
    status: str
    at: datetime | None


class ChildDueOut(BaseModel):
    kind: str
    title: str
    subject_name: str
    due_at: datetime | None
    done: bool


class ChildOverviewOut(BaseModel):
    child: pa.ChildOut
    lessons: list[ChildLessonOut]
    """The class's lessons from PAST_DAYS ago to NEXT_DAYS ahead, by start."""
    absences: int
    grades: list[ChildGradeOut] | None
    """None when the school's results are not available on this server."""
    due: list[ChildDueOut] | None


class ChildrenOut(BaseModel):
    items: list[pa.ChildOut]


class ParentsOut(BaseModel):
    items: list[pa.ParentOut]


class JoinOut(BaseModel):
    id: int
    username: str
    full_name: str


def require_parent(actor: User) -> None:
    if actor.role is not Role.parent:
        raise Forbidden("only parents have this page", reason="parent_only")


async def _lessons(call: Call, student: User, class_id: int | None, now: datetime) -> list[ChildLessonOut]:
    session = call.session
    if class_id is None:
        return []
    school = await session.get(School, student.school_id)
    assert school is not None
    lessons = list(await session.scalars(
        select(Lesson).where(Lesson.class_id == class_id, Lesson.starts_at >= now - timedelta(days=PAST_DAYS),
                             Lesson.starts_at <= now + timedelta(days=NEXT_DAYS)).order_by(Lesson.starts_at)))
    subjects = {s.id: s.name for s in await session.scalars(
        select(Subject).where(Subject.id.in_({lesson.subject_id for lesson in lessons})))}
    events: dict[int, list[AttendanceEvent]] = {lesson.id: [] for lesson in lessons}
    for event in await session.scalars(select(AttendanceEvent).where(
            AttendanceEvent.lesson_id.in_(list(events))).order_by(AttendanceEvent.at, AttendanceEvent.id)):
        events[event.lesson_id].append(event)
    out = []
    for lesson in lessons:
        evs = events[lesson.id]
        (row,) = lesson_attendance([student.id], [e for e in evs if e.user_id == student.id or e.role == "teacher"],
                                   starts_at=lesson.starts_at, ends_at=lesson.ends_at, now=now,
                                   late_after=timedelta(minutes=school.late_after_minutes),
                                   left_early=timedelta(minutes=school.left_early_minutes),
                                   min_share=school.min_presence_percent / 100,
                                   opened=room_opened(evs) and lesson.cancelled_at is None)
        out.append(ChildLessonOut(lesson_id=lesson.id, title=lesson.title, subject=subjects.get(lesson.subject_id, ""),
                                  starts_at=lesson.starts_at, ends_at=lesson.ends_at,
                                  cancelled=lesson.cancelled_at is not None, attendance=row.status))  # type: ignore[arg-type]
    return out


async def _results(call: Call, student_id: int) -> tuple[list[ChildGradeOut] | None, list[ChildDueOut] | None]:
    """The child's grades and due work from the school's results, when that part is installed."""
    try:
        from coursework import grades  # type: ignore[attr-defined]
    except ImportError:
        return None, None
    items: list[Any] = await grades.grades_of(call.session, [student_id])
    due: list[Any] = await grades.due_of(call.session, student_id)
    return ([ChildGradeOut(kind=g.kind, title=g.title, subject_name=g.subject_name, score10=g.score10,
                           status=g.status, at=g.at) for g in items],
            [ChildDueOut(kind=d.kind, title=d.title, subject_name=d.subject_name, due_at=d.due_at, done=d.done)
             for d in due])


async def _guarded(call: Call, key: str, attempt: Any, *, per_account: bool = False) -> Any:
    """Wrong codes are slowed like failed sign-ins (the address's or the account's own count, a
    growing wait, 429 with Retry-After): guessing codes is as slow as guessing passwords."""
    limits = call.request.app[LIMITS]
    backoff = limits.account if per_account else limits.address
    wait = backoff.wait(await limits.limiter.failures(key))
    if wait > 0:
        raise ApiError(429, "rate_limited", "too many wrong invitation codes; try again later",
                       headers={"Retry-After": retry_after(wait)})
    try:
        return await attempt()
    except InvalidField as exc:
        if exc.reason == "parent_invite_invalid":
            await limits.limiter.fail(key)
        raise


def register(api: Api) -> None:
    @api.route("GET", "/api/parent/children", summary="My children", tag="parents", response=ChildrenOut,
               roles=(Role.parent,), description="The students this parent account is linked to.")
    async def my_children(call: Call) -> ChildrenOut:
        return ChildrenOut(items=await pa.children_out(call.session, await children_of(call.session, call.user.id)))

    @api.route("GET", r"/api/parent/children/{id:\d+}", summary="One child's overview", tag="parents",
               response=ChildOverviewOut, roles=(Role.parent, Role.admin), errors=(403, 404),
               description="The class's lessons (30 days back, 14 ahead) with the child's own attendance status, "
               "the number of absences, and the child's grades and due work. A parent sees only their own "
               "children (403 otherwise).")
    async def child_overview(call: Call) -> ChildOverviewOut:
        student = await may_see_student(call.session, call.user, call.path_id("id"))
        (child,) = await pa.children_out(call.session, [student.id])
        now = datetime.now(UTC)
        lessons = await _lessons(call, student, child.class_id, now)
        grades, due = await _results(call, student.id)
        return ChildOverviewOut(child=child, lessons=lessons, absences=sum(1 for x in lessons if x.attendance == "absent"),
                                grades=grades, due=due)

    @api.route("GET", "/api/parents", summary="Parent accounts", tag="parents", response=ParentsOut,
               roles=(Role.admin,))
    async def list_parents(call: Call) -> ParentsOut:
        return ParentsOut(items=await pa.list_parents(call.session, call.user))

    @api.route("POST", "/api/parents", summary="Create a parent account", tag="parents", body=pa.ParentCreate,
               response=pa.ParentOut, status=201, roles=(Role.admin,), errors=(409, 422), unit_of_work=False,
               description="Linked to the given students of the school (at least one).")
    async def create_parent(call: Call) -> pa.ParentOut:
        password_hash = await hash_password(call.body.password)  # no connection held while hashing
        async with call.db.session() as session:
            return await pa.create_parent(session, call.user, call.body, password_hash)

    @api.route("POST", f"{PARENT_ID}/children", summary="Link a parent to a student", tag="parents",
               body=pa.LinkIn, response=pa.ParentOut, roles=(Role.admin,), errors=(404, 409, 422))
    async def link_child(call: Call) -> pa.ParentOut:
        return await pa.link(call.session, call.user, call.path_id("id"), call.body.student_id)

    @api.route("DELETE", PARENT_ID + r"/children/{student_id:\d+}", summary="Unlink a parent from a student",
               tag="parents", status=204, roles=(Role.admin,), errors=(404,))
    async def unlink_child(call: Call) -> web.StreamResponse:
        await pa.unlink(call.session, call.user, call.path_id("id"), call.path_id("student_id"))
        return web.Response(status=204)

    @api.route("POST", r"/api/students/{id:\d+}/parent-invites", summary="An invitation code for a parent",
               tag="parents", response=pa.InviteOut, status=201, roles=(Role.admin, Role.teacher), errors=(403, 404),
               description="A one-time code (mã mời), valid 14 days, with which a parent of this student creates "
               "their account at /parent/join (or links it to the account they have).")
    async def invite(call: Call) -> pa.InviteOut:
        return await pa.issue_invite(call.session, call.user, call.path_id("id"), datetime.now(UTC))

    @api.route("POST", "/api/parent/join", summary="Create a parent account with an invitation code",
               tag="parents", body=pa.JoinIn, response=JoinOut, status=201, public=True, errors=(409, 422, 429),
               unit_of_work=False,
               description="An unknown, used or expired code: 422 `parent_invite_invalid` (one refusal for all three).")
    async def join(call: Call) -> JoinOut:
        async def attempt() -> JoinOut:
            password_hash = await hash_password(call.body.password)
            async with call.db.session() as session:
                parent = await pa.join(session, call.body, password_hash, datetime.now(UTC))
                return JoinOut(id=parent.id, username=parent.username, full_name=parent.full_name)

        return await _guarded(call, f"invite:{call.request.remote or '?'}", attempt)

    @api.route("POST", "/api/parent/link", summary="Link another child with an invitation code", tag="parents",
               body=pa.LinkCodeIn, response=pa.ParentOut, roles=(Role.parent,), errors=(422, 429))
    async def link_code(call: Call) -> pa.ParentOut:
        return await _guarded(call, f"invite-user:{call.user.id}",
                              lambda: pa.link_with_code(call.session, call.user, call.body.code, datetime.now(UTC)),
                              per_account=True)
