"""A student's own results ("Kết quả của tôi"): their learning results (grades by subject on the
10-point scale, attendance, what is due: also served to their parents and teachers), and every lesson
they took part in, newest first, with their time present (the attendance log), the quizzes' score
out of the points published so far, questions asked, chat messages and hands raised (the classroom
records), and their quiz answers.
Students follow their own results only: nobody else's rows are ever read."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attendance.models import AttendanceEvent
from attendance.report import lesson_attendance
from classroom import polls as poll_records
from classroom.activity import LessonActivity
from classroom.chat import ChatMessage
from classroom.polls import Poll, PollAnswer
from classroom.questions import LessonQuestion
from coursework.grades import DueItem, GradeItem, due_of, grades_of
from school.models import ClassStudent, Lesson, Role, School, SchoolClass, Subject, User
from web.routing import Api, Call


class MyQuizOut(BaseModel):
    poll_id: int
    lesson_id: int
    question: str
    answer: str
    """As a person reads it: the chosen options' texts joined with "; ", the text, or the number."""
    points: float
    published: bool
    correct: bool | None
    """Once the teacher has published the results; null before."""
    score: float | None


class MyLessonOut(BaseModel):
    lesson_id: int
    title: str
    subject: str
    class_name: str
    teacher_name: str
    starts_at: datetime
    ends_at: datetime
    present_s: int
    """Seconds present in the lesson's room (two devices at once count once)."""
    attendance: Literal["present", "late", "left_early", "late_left_early", "absent", "not_yet"]
    """My attendance status by the school's rules (as on the lesson's attendance page)."""
    late: bool
    left_early: bool
    share: float
    """My time present within the lesson's scheduled times, as a share (0..1) of its length."""
    quiz_score: float
    quiz_max: float
    """Points of the lesson's quizzes whose results were published (0: none yet)."""
    quiz_pending: int
    """My answered quizzes whose results are not published yet."""
    questions: int
    messages: int
    hands: int
    quizzes: list[MyQuizOut]


class AttendanceSummaryOut(BaseModel):
    lessons: int
    """Lessons of the student's classes that have ended or are under way (not_yet ones left out)."""
    present: int
    late: int
    left_early: int
    absent: int
    present_s: int
    rate: float | None
    """Lessons attended (any status but absent) as a share of the lessons counted; null when none."""


class GradeOut(BaseModel):
    kind: Literal["quiz", "assignment", "test"]
    id: int
    title: str
    subject_id: int
    subject_name: str
    class_id: int
    score10: float | None
    status: str
    at: datetime


class DueOut(BaseModel):
    kind: Literal["quiz", "assignment", "test"]
    id: int
    title: str
    subject_name: str
    due_at: datetime
    done: bool


class SubjectAverageOut(BaseModel):
    subject_id: int
    subject_name: str
    average10: float | None
    graded: int


class StudentResultsOut(BaseModel):
    student_id: int
    full_name: str
    generated_at: datetime
    grades: list[GradeOut]
    """Oldest first."""
    subjects: list[SubjectAverageOut]
    """Điểm trung bình per subject: the mean of the graded items' score10."""
    attendance: AttendanceSummaryOut
    due: list[DueOut]
    """Cần làm: not done first, soonest first."""


class MyResultsOut(BaseModel):
    generated_at: datetime
    lessons: list[MyLessonOut]
    """Newest first."""
    grades: list[GradeOut] = []
    """Kết quả học tập: quizzes, assignments and tests on the 10-point scale, oldest first."""
    subjects: list[SubjectAverageOut] = []
    attendance: AttendanceSummaryOut | None = None
    due: list[DueOut] = []
    """Cần làm: not done first, soonest first."""


async def _lesson_ids(session: AsyncSession, user_id: int) -> set[int]:
    """The lessons this user took part in: joined the room, answered a poll, wrote, asked or raised a hand."""
    ids: set[int] = set()
    for query in (
        select(AttendanceEvent.lesson_id).where(AttendanceEvent.user_id == user_id),
        select(Poll.lesson_id).join(PollAnswer, PollAnswer.poll_id == Poll.id).where(PollAnswer.user_id == user_id),
        select(ChatMessage.lesson_id).where(ChatMessage.sender_id == user_id),
        select(LessonQuestion.lesson_id).where(LessonQuestion.author_id == user_id),
        select(LessonActivity.lesson_id).where(LessonActivity.user_id == user_id),
    ):
        ids.update(await session.scalars(query.distinct()))
    return ids


async def my_results(session: AsyncSession, me: User) -> list[MyLessonOut]:
    lessons = list(await session.scalars(select(Lesson).where(
        Lesson.id.in_(await _lesson_ids(session, me.id)), Lesson.school_id == me.school_id)))
    if not lessons:
        return []
    ids = [lesson.id for lesson in lessons]
    subjects = {s.id: s.name for s in await session.scalars(
        select(Subject).where(Subject.id.in_({lesson.subject_id for lesson in lessons})))}
    classes = {c.id: c.name for c in await session.scalars(
        select(SchoolClass).where(SchoolClass.id.in_({lesson.class_id for lesson in lessons})))}
    teachers = {u.id: u.full_name for u in await session.scalars(
        select(User).where(User.id.in_({lesson.teacher_id for lesson in lessons})))}

    events: dict[int, list[AttendanceEvent]] = defaultdict(list)
    for event in await session.scalars(select(AttendanceEvent).where(
            AttendanceEvent.user_id == me.id, AttendanceEvent.lesson_id.in_(ids))
            .order_by(AttendanceEvent.at, AttendanceEvent.id)):
        events[event.lesson_id].append(event)

    messages = Counter(await session.scalars(select(ChatMessage.lesson_id).where(
        ChatMessage.sender_id == me.id, ChatMessage.lesson_id.in_(ids), ChatMessage.deleted_at.is_(None))))
    questions = Counter(await session.scalars(select(LessonQuestion.lesson_id).where(
        LessonQuestion.author_id == me.id, LessonQuestion.lesson_id.in_(ids), LessonQuestion.status != "hidden")))
    hands = Counter(await session.scalars(select(LessonActivity.lesson_id).where(
        LessonActivity.user_id == me.id, LessonActivity.lesson_id.in_(ids), LessonActivity.kind == "hand_raised")))

    school = await session.get(School, me.school_id)
    assert school is not None
    opened = set(await session.scalars(select(AttendanceEvent.lesson_id).where(
        AttendanceEvent.lesson_id.in_(ids), AttendanceEvent.role == "teacher", AttendanceEvent.kind == "join")
        .distinct()))
    now = datetime.now(UTC)
    polls = [poll_records.record(p, now) for p in await session.scalars(
        select(Poll).where(Poll.lesson_id.in_(ids)).order_by(Poll.id))]
    answers = {a.poll_id: a for a in await session.scalars(select(PollAnswer).where(
        PollAnswer.user_id == me.id, PollAnswer.poll_id.in_([p.id for p in polls])))} if polls else {}

    out = []
    for lesson in lessons:
        attendance = lesson_attendance([me.id], events.get(lesson.id, []), starts_at=lesson.starts_at,
                                       ends_at=lesson.ends_at, now=now,
                                       late_after=timedelta(minutes=school.late_after_minutes),
                                       left_early=timedelta(minutes=school.left_early_minutes),
                                       min_share=school.min_presence_percent / 100,
                                       opened=lesson.id in opened)[0]
        score = maximum = 0.0
        pending = 0
        quizzes = []
        for poll in polls:
            if poll.lesson_id != lesson.id or not poll.quiz or poll.status == "draft":
                continue
            answer = answers.get(poll.id)
            if poll.published:
                maximum += poll.points
                score += float(answer.score or 0.0) if answer is not None else 0.0
            elif answer is not None:
                pending += 1
            if answer is not None:
                quizzes.append(MyQuizOut(
                    poll_id=poll.id, lesson_id=lesson.id, question=poll.question,
                    answer=poll_records.answer_text(poll.options, poll.kind, answer.answer), points=poll.points,
                    published=poll.published, correct=answer.correct if poll.published else None,
                    score=answer.score if poll.published else None))
        out.append(MyLessonOut(
            lesson_id=lesson.id, title=lesson.title, subject=subjects.get(lesson.subject_id, ""),
            class_name=classes.get(lesson.class_id, ""), teacher_name=teachers.get(lesson.teacher_id, ""),
            starts_at=lesson.starts_at, ends_at=lesson.ends_at, present_s=attendance.seconds_present,
            attendance=attendance.status, late=attendance.late,  # type: ignore[arg-type]
            left_early=attendance.left_early, share=attendance.share,
            quiz_score=round(score, 2), quiz_max=round(maximum, 2), quiz_pending=pending,
            questions=questions[lesson.id], messages=messages[lesson.id], hands=hands[lesson.id], quizzes=quizzes))
    out.sort(key=lambda row: (row.starts_at, row.lesson_id), reverse=True)
    return out


async def attendance_summary(session: AsyncSession, student: User) -> AttendanceSummaryOut:
    """The student's attendance over the lessons of their classes that have started, by the school's rules."""
    now = datetime.now(UTC)
    class_ids = set(await session.scalars(select(ClassStudent.class_id).where(ClassStudent.student_id == student.id)))
    lessons = list(await session.scalars(select(Lesson).where(
        Lesson.class_id.in_(class_ids), Lesson.school_id == student.school_id, Lesson.starts_at <= now))) \
        if class_ids else []
    counts = Counter[str]()
    seconds = 0
    if lessons:
        school = await session.get(School, student.school_id)
        assert school is not None
        ids = [lesson.id for lesson in lessons]
        events: dict[int, list[AttendanceEvent]] = defaultdict(list)
        for event in await session.scalars(select(AttendanceEvent).where(
                AttendanceEvent.user_id == student.id, AttendanceEvent.lesson_id.in_(ids))
                .order_by(AttendanceEvent.at, AttendanceEvent.id)):
            events[event.lesson_id].append(event)
        opened = set(await session.scalars(select(AttendanceEvent.lesson_id).where(
            AttendanceEvent.lesson_id.in_(ids), AttendanceEvent.role == "teacher", AttendanceEvent.kind == "join")
            .distinct()))
        for lesson in lessons:
            row = lesson_attendance([student.id], events.get(lesson.id, []), starts_at=lesson.starts_at,
                                    ends_at=lesson.ends_at, now=now,
                                    late_after=timedelta(minutes=school.late_after_minutes),
                                    left_early=timedelta(minutes=school.left_early_minutes),
                                    min_share=school.min_presence_percent / 100, opened=lesson.id in opened)[0]
            counts[row.status] += 1
            seconds += row.seconds_present
    counted = sum(n for status, n in counts.items() if status != "not_yet")
    attended = counted - counts["absent"]
    return AttendanceSummaryOut(
        lessons=counted, present=counts["present"], late=counts["late"] + counts["late_left_early"],
        left_early=counts["left_early"] + counts["late_left_early"], absent=counts["absent"], present_s=seconds,
        rate=round(attended / counted, 4) if counted else None)


def average(values: list[float | None]) -> float | None:
    scored = [v for v in values if v is not None]
    return round(sum(scored) / len(scored), 2) if scored else None


def grade_out(item: GradeItem) -> GradeOut:
    return GradeOut(kind=item.kind, id=item.id, title=item.title, subject_id=item.subject_id,
                    subject_name=item.subject_name, class_id=item.class_id, score10=item.score10,
                    status=item.status, at=item.at)


def due_out(item: DueItem) -> DueOut:
    return DueOut(kind=item.kind, id=item.id, title=item.title, subject_name=item.subject_name,
                  due_at=item.due_at, done=item.done)


def subject_averages(grades: list[GradeItem]) -> list[SubjectAverageOut]:
    by_subject: dict[int, list[GradeItem]] = {}
    for item in grades:
        by_subject.setdefault(item.subject_id, []).append(item)
    out = [SubjectAverageOut(subject_id=sid, subject_name=items[0].subject_name,
                             average10=average([i.score10 for i in items]),
                             graded=sum(1 for i in items if i.score10 is not None))
           for sid, items in by_subject.items()]
    out.sort(key=lambda s: s.subject_name)
    return out


async def student_results(session: AsyncSession, student: User) -> StudentResultsOut:
    """Grades, the average per subject, attendance and what is due, of one student."""
    grades = await grades_of(session, [student.id])
    return StudentResultsOut(
        student_id=student.id, full_name=student.full_name, generated_at=datetime.now(UTC),
        grades=[grade_out(g) for g in grades], subjects=subject_averages(grades),
        attendance=await attendance_summary(session, student), due=[due_out(d) for d in await due_of(session, student.id)])


def register(api: Api) -> None:
    @api.route("GET", "/api/users/me/results", summary="My results", tag="polls", response=MyResultsOut,
               roles=(Role.student,),
               description="The signed-in student's own results, one entry per lesson they took part in (joined its "
               "room, answered a poll, wrote in its chat, asked a question or raised a hand), newest first: the "
               "lesson's date, subject, class, teacher and title; seconds present and my attendance by the school's "
               "rules (`attendance`: present, late, left_early, late_left_early, absent or not_yet; the late and "
               "left_early flags; `share` of the lesson present); the quiz score out of the points "
               "of the quizzes whose results the teacher published (`quiz_pending`: answered quizzes not published "
               "yet); questions asked (not hidden), chat messages (not deleted), hands raised; and each quiz "
               "answered (correct and score once published). Also the student's learning results as in "
               "`GET /api/students/{id}/results`: `grades` (quizzes per lesson, assignments, online tests on the "
               "10-point scale), `subjects` (average per subject), `attendance` (summary over the lessons held) "
               "and `due` (what is to do). Students only: teachers and administrators get 403 "
               "(they read a lesson's participation instead).")
    async def my_lesson_results(call: Call) -> MyResultsOut:
        session, me = call.session, call.user
        results = await student_results(session, me)
        return MyResultsOut(generated_at=results.generated_at, lessons=await my_results(session, me),
                            grades=results.grades, subjects=results.subjects, attendance=results.attendance,
                            due=results.due)
