"""Supervision for the school's administrators: the lessons happening now, each with who is
teaching, how many of the class's students are in its room, whether it records, and who waits to
be admitted. A lesson is happening from its start until its room closes (the scheduled end plus
the school's grace, or the teacher's extension), unless it was ended. What is live is read from
the rooms this process runs."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import func, or_, select

from classroom import moderation as records
from school.models import ClassStudent, Lesson, Role, SchoolClass, Subject, User
from signaling.lesson_room import LessonRoom
from web.keys import ROOMS
from web.routing import Api, Call


class LiveLessonOut(BaseModel):
    id: int
    title: str
    class_id: int
    class_name: str
    subject_name: str
    teacher_id: int
    teacher_name: str
    starts_at: datetime
    ends_at: datetime
    closes_at: datetime
    live: bool
    """A room of this lesson is open in this process."""
    teacher_present: bool
    students_present: int
    """Students of the lesson in its room (each once, however many ways they joined)."""
    students_total: int
    """Students in the class's roster."""
    observers: int
    """Administrators observing the lesson."""
    recording: bool
    waiting: int
    """Students waiting to be admitted (the room is locked, or they were removed)."""


class SupervisionOut(BaseModel):
    now: datetime
    items: list[LiveLessonOut]


def _room_facts(room: LessonRoom | None, teacher_id: int) -> dict[str, int | bool]:
    """What the room shows now (read in one step: no await between reads)."""
    if room is None or room.closed:
        return {"live": False, "teacher_present": False, "students_present": 0, "observers": 0,
                "recording": False, "waiting": 0}
    people = list(room.participants.values())
    waiting = {entry.participant.user_id for entry in list(room.moderation.waiting.values())}
    return {
        "live": True,
        "teacher_present": any(p.user_id == teacher_id and p.role == "teacher" for p in people),
        "students_present": len({p.user_id for p in people if p.role == "student"}),
        "observers": len({p.user_id for p in people if p.role == "observer"}),
        "recording": room.recording,
        "waiting": len(waiting),
    }


def register(api: Api) -> None:
    @api.route("GET", "/api/supervision/live", summary="Lessons happening now", tag="supervision",
               response=SupervisionOut, roles=(Role.admin,),
               description="The school's lessons from their start until their room closes (the end plus the "
               "school's grace, or the teacher's extension), not ended: teacher, students present of the "
               "class's roster, observers, recording and students waiting to be admitted. `live` and the "
               "counts are those of the rooms this server process runs.")
    async def live_lessons(call: Call) -> SupervisionOut:
        session, school_id = call.session, call.user.school_id
        now = datetime.now(UTC)
        grace = await records.grace_minutes(session, school_id)
        roster = (select(ClassStudent.class_id, func.count().label("n"))
                  .group_by(ClassStudent.class_id).subquery())
        rows = await session.execute(
            select(Lesson, SchoolClass.name, Subject.name, User.full_name, func.coalesce(roster.c.n, 0))
            .join(SchoolClass, SchoolClass.id == Lesson.class_id)
            .join(Subject, Subject.id == Lesson.subject_id)
            .join(User, User.id == Lesson.teacher_id)
            .outerjoin(roster, roster.c.class_id == Lesson.class_id)
            .where(Lesson.school_id == school_id, Lesson.ended_at.is_(None), Lesson.starts_at <= now,
                   or_(Lesson.closes_at >= now, Lesson.ends_at >= now - timedelta(minutes=grace)))
            .order_by(Lesson.starts_at, SchoolClass.name, Lesson.id))
        rooms = call.request.app[ROOMS].rooms
        items = []
        for lesson, class_name, subject_name, teacher_name, total in rows:
            closes_at = records.closes_at(lesson, grace)
            if closes_at < now:  # the query admits a few more (an extended lesson past its grace)
                continue
            items.append(LiveLessonOut(
                id=lesson.id, title=lesson.title, class_id=lesson.class_id, class_name=class_name,
                subject_name=subject_name, teacher_id=lesson.teacher_id, teacher_name=teacher_name,
                starts_at=lesson.starts_at, ends_at=lesson.ends_at, closes_at=closes_at, students_total=int(total),
                **_room_facts(rooms.get(lesson.id), lesson.teacher_id)))
        return SupervisionOut(now=now, items=items)
