"""Assignments (bài tập): a teacher sets work for a class and subject (instructions, attachments, when
it opens, hạn nộp, what happens to late work); each student of the class hands it in (nộp bài) as
text and files, again and again until the due time; the teacher grades it on the 10-point scale
(chấm điểm) with a comment (nhận xét). Students see only their class's published, opened
assignments and only their own submission; parents see nothing here (their pages read grades)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from coursework.assignments_files import StoredFile
from coursework.assignments_models import Assignment, AssignmentFile, Submission, SubmissionFile
from school import access, audit
from school.errors import Conflict, Forbidden, InvalidField, NotFound
from school.models import ClassStudent, Role, SchoolClass, Subject, User
from school.schemas import Id, Moment, Name
from school.timezones import as_utc
from storage.types import utcnow

MAX_TEXT = 20_000
MAX_COMMENT = 5_000
LatePolicy = Literal["accept", "penalty", "refuse"]
LongText = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
Comment = Annotated[str, StringConstraints(max_length=MAX_COMMENT)]
Status = Literal["graded", "submitted", "late", "missing", "not_submitted"]


class CourseworkAssignmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    class_id: Id
    subject_id: Id
    title: Name
    instructions: LongText = ""
    opens_at: Moment | None = Field(None, description="ISO 8601; without an offset, the school's time zone; "
                                    "absent: now")
    due_at: Moment = Field(description="Hạn nộp. ISO 8601; without an offset, the school's time zone")
    late_policy: LatePolicy = "accept"
    late_penalty_percent: int = Field(0, ge=0, le=100)
    published: bool = False


class CourseworkAssignmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Name | None = None
    instructions: LongText | None = None
    opens_at: Moment | None = None
    due_at: Moment | None = None
    late_policy: LatePolicy | None = None
    late_penalty_percent: int | None = Field(None, ge=0, le=100)
    published: bool | None = None


class SubmissionGrade(BaseModel):
    model_config = ConfigDict(extra="forbid")
    score10: float = Field(ge=0, le=10, description="The mark on the 10-point scale, before any late penalty")
    comment: Comment = ""


def score_after_penalty(assignment: Assignment, late: bool, raw: float) -> float:
    if late and assignment.late_policy == "penalty":
        return round(raw * (100 - assignment.late_penalty_percent) / 100, 2)
    return round(raw, 2)


def may_manage(actor: User, assignment: Assignment) -> None:
    if actor.role is Role.admin or (actor.role is Role.teacher and assignment.teacher_id == actor.id):
        return
    raise Forbidden("only the assignment's teacher or an administrator may do this", reason="not_your_assignment")


def visible_to_students(assignment: Assignment, now: datetime) -> bool:
    return assignment.published and assignment.opens_at <= now


async def get_assignment(session: AsyncSession, actor: User, assignment_id: int) -> Assignment:
    """The assignment, if the actor may see it: staff who see its class (or set it), admins, and the
    students of its class once it is published and open."""
    row = await session.get(Assignment, assignment_id)
    if row is None or row.school_id != actor.school_id or actor.role is Role.parent:
        raise NotFound(f"assignment {assignment_id} not found")
    if actor.role is Role.admin or row.teacher_id == actor.id:
        return row
    visible = await access.class_ids_of(session, actor) or set()
    if row.class_id not in visible:
        raise Forbidden("this assignment is not in your classes")
    if actor.role is Role.student and not visible_to_students(row, utcnow()):
        raise NotFound(f"assignment {assignment_id} not found")
    return row


async def create(session: AsyncSession, actor: User, body: CourseworkAssignmentCreate, zone: ZoneInfo) -> Assignment:
    access.require_staff(actor)
    cls = await session.get(SchoolClass, body.class_id)
    if cls is None or cls.school_id != actor.school_id:
        raise InvalidField("class_id", "no such class", reason="invalid")
    subject = await session.get(Subject, body.subject_id)
    if subject is None or subject.school_id != actor.school_id:
        raise InvalidField("subject_id", "no such subject", reason="invalid")
    if actor.role is Role.teacher:
        try:
            await access.may_manage_lessons_of(session, actor, body.class_id, body.subject_id, actor.id)
        except Forbidden as exc:
            raise Forbidden(exc.message, reason="not_teaching_class") from exc
    opens = as_utc(body.opens_at, zone) if body.opens_at else utcnow()
    due = as_utc(body.due_at, zone)
    if due <= opens:
        raise InvalidField("due_at", "the due time must be after the opening time", reason="due_before_open")
    row = Assignment(school_id=actor.school_id, class_id=body.class_id, subject_id=body.subject_id,
                     teacher_id=actor.id, title=body.title, instructions=body.instructions, opens_at=opens,
                     due_at=due, late_policy=body.late_policy, late_penalty_percent=body.late_penalty_percent,
                     published=body.published, created_at=utcnow())
    session.add(row)
    await session.flush()
    audit.record(session, actor, "create", "coursework_assignment", row.id, summary=row.title,
                 after=audit.snapshot(row, FIELDS))
    return row


FIELDS = ("class_id", "subject_id", "title", "opens_at", "due_at", "late_policy", "late_penalty_percent",
          "published")


async def update(session: AsyncSession, actor: User, row: Assignment, body: CourseworkAssignmentUpdate,
                 zone: ZoneInfo) -> Assignment:
    may_manage(actor, row)
    before = audit.snapshot(row, FIELDS)
    changes = body.model_dump(exclude_unset=True)
    for name in ("opens_at", "due_at"):
        if changes.get(name) is not None:
            changes[name] = as_utc(changes[name], zone)
    for name, value in changes.items():
        if value is None:
            raise InvalidField(name, "may not be empty", reason="blank")
        setattr(row, name, value)
    if row.due_at <= row.opens_at:
        raise InvalidField("due_at", "the due time must be after the opening time", reason="due_before_open")
    before, after = audit.changed(before, audit.snapshot(row, FIELDS))
    if after:
        audit.record(session, actor, "update", "coursework_assignment", row.id, summary=row.title,
                     before=before, after=after)
    if after.keys() & {"due_at", "late_policy", "late_penalty_percent"}:
        await _remark(session, row)
    await session.flush()
    return row


async def _remark(session: AsyncSession, row: Assignment) -> None:
    """After a new due time or late policy: each submission is late or on time by the due time now
    in force, and a graded one's mark follows the policy now in force (from the teacher's raw mark)."""
    for sub in await session.scalars(select(Submission).where(Submission.assignment_id == row.id)):
        sub.late = sub.submitted_at > row.due_at
        if sub.raw_score10 is not None:
            sub.score10 = score_after_penalty(row, sub.late, sub.raw_score10)


async def remove(session: AsyncSession, actor: User, row: Assignment) -> list[str]:
    """Delete the assignment with its submissions; returns the file keys to delete from disk."""
    may_manage(actor, row)
    keys = list(await session.scalars(select(AssignmentFile.file_key).where(AssignmentFile.assignment_id == row.id)))
    keys += list(await session.scalars(
        select(SubmissionFile.file_key).join(Submission, Submission.id == SubmissionFile.submission_id)
        .where(Submission.assignment_id == row.id)))
    audit.record(session, actor, "delete", "coursework_assignment", row.id, summary=row.title,
                 before=audit.snapshot(row, FIELDS))
    await session.execute(delete(Assignment).where(Assignment.id == row.id))
    return keys


async def list_for(session: AsyncSession, actor: User, class_id: int | None = None,
                   subject_id: int | None = None) -> list[Assignment]:
    if actor.role is Role.parent:
        return []
    query = select(Assignment).where(Assignment.school_id == actor.school_id)
    if actor.role is not Role.admin:
        visible = await access.class_ids_of(session, actor) or set()
        if actor.role is Role.student:
            query = query.where(Assignment.class_id.in_(visible), Assignment.published.is_(True),
                                Assignment.opens_at <= utcnow())
        else:
            query = query.where((Assignment.class_id.in_(visible)) | (Assignment.teacher_id == actor.id))
    if class_id is not None:
        query = query.where(Assignment.class_id == class_id)
    if subject_id is not None:
        query = query.where(Assignment.subject_id == subject_id)
    return list(await session.scalars(query.order_by(Assignment.due_at.desc(), Assignment.id.desc())))


async def add_files(session: AsyncSession, actor: User, row: Assignment, files: list[StoredFile],
                    max_files: int) -> list[AssignmentFile]:
    may_manage(actor, row)
    held = len(list(await session.scalars(select(AssignmentFile.id).where(AssignmentFile.assignment_id == row.id))))
    if held + len(files) > max_files:
        raise Conflict(f"at most {max_files} files", reason="too_many_files", params={"max": max_files})
    added = [AssignmentFile(assignment_id=row.id, file_key=f.key, file_name=f.name, mime=f.mime,
                            size_bytes=f.size, created_at=utcnow()) for f in files]
    session.add_all(added)
    await session.flush()
    return added


async def submit(session: AsyncSession, actor: User, row: Assignment, text: str, files: list[StoredFile],
                 keep_ids: set[int], max_files: int) -> tuple[Submission, list[str]]:
    """Hand in (or hand in again) the actor's work: the text replaces the earlier text, the earlier
    files not in `keep_ids` are dropped (their keys are returned for deletion from disk)."""
    if actor.role is not Role.student:
        raise Forbidden("only students hand in work")
    enrolled = await session.scalar(select(ClassStudent.student_id).where(
        ClassStudent.class_id == row.class_id, ClassStudent.student_id == actor.id))
    if enrolled is None:
        raise Forbidden("you are not a student of this class", reason="not_a_student_of_class")
    now = utcnow()
    if not visible_to_students(row, now):
        raise Conflict("the assignment is not open yet", reason="assignment_not_open")
    late = now > row.due_at
    sub = await session.scalar(select(Submission).where(Submission.assignment_id == row.id,
                                                        Submission.student_id == actor.id))
    if sub is not None and sub.graded_at is not None:
        raise Conflict("the work has been graded", reason="already_graded")
    if late and sub is not None:
        raise Conflict("the due time has passed: no resubmission", reason="resubmit_after_due")
    if late and row.late_policy == "refuse":
        raise Conflict("the due time has passed: no late work", reason="late_refused")
    earlier: list[SubmissionFile] = []
    if sub is not None:
        earlier = list(await session.scalars(select(SubmissionFile).where(SubmissionFile.submission_id == sub.id)))
    kept = [f for f in earlier if f.id in keep_ids]
    if len(kept) + len(files) > max_files:
        raise Conflict(f"at most {max_files} files", reason="too_many_files", params={"max": max_files})
    if not text.strip() and not kept and not files:
        raise InvalidField("text", "write the answer or attach a file", reason="empty_submission")
    if sub is None:
        sub = Submission(assignment_id=row.id, student_id=actor.id, text=text, submitted_at=now, late=late,
                         comment="")
        session.add(sub)
        await session.flush()
    else:
        sub.text, sub.submitted_at, sub.late = text, now, late
    dropped = [f for f in earlier if f.id not in keep_ids]
    for f in dropped:
        await session.delete(f)
    session.add_all([SubmissionFile(submission_id=sub.id, file_key=f.key, file_name=f.name, mime=f.mime,
                                    size_bytes=f.size, created_at=now) for f in files])
    await session.flush()
    return sub, [f.file_key for f in dropped]


async def get_submission(session: AsyncSession, actor: User, submission_id: int) -> tuple[Submission, Assignment]:
    """The submission, for its student and the staff who may see its assignment."""
    sub = await session.get(Submission, submission_id)
    if sub is None:
        raise NotFound(f"submission {submission_id} not found")
    if actor.role is Role.student and sub.student_id != actor.id:
        raise NotFound(f"submission {submission_id} not found")
    row = await get_assignment(session, actor, sub.assignment_id)
    return sub, row


async def grade(session: AsyncSession, actor: User, sub: Submission, row: Assignment, body: SubmissionGrade) -> Submission:
    may_manage(actor, row)
    before = audit.snapshot(sub, ("score10", "comment"))
    sub.raw_score10 = round(body.score10, 2)
    sub.score10 = score_after_penalty(row, sub.late, body.score10)
    sub.comment = body.comment
    sub.graded_at = utcnow()
    sub.graded_by = actor.id
    student = await session.get(User, sub.student_id)
    audit.record(session, actor, "grade", "coursework_submission", sub.id,
                 summary=f"{row.title}: {student.full_name if student else sub.student_id}",
                 before=before, after=audit.snapshot(sub, ("score10", "comment")))
    await session.flush()
    return sub


@dataclass
class RosterRow:
    student: User
    submission: Submission | None
    files: list[SubmissionFile]
    status: Status


def status_of(row: Assignment, sub: Submission | None, now: datetime) -> Status:
    if sub is None:
        return "missing" if now > row.due_at else "not_submitted"
    if sub.graded_at is not None:
        return "graded"
    return "late" if sub.late else "submitted"


async def roster(session: AsyncSession, row: Assignment) -> list[RosterRow]:
    """Every student of the class, by name, with their submission (or none) and its state."""
    students = list(await session.scalars(
        select(User).join(ClassStudent, ClassStudent.student_id == User.id)
        .where(ClassStudent.class_id == row.class_id).order_by(User.full_name, User.id)))
    subs = {s.student_id: s for s in await session.scalars(select(Submission).where(Submission.assignment_id == row.id))}
    files: dict[int, list[SubmissionFile]] = {}
    if subs:
        for f in await session.scalars(select(SubmissionFile).where(
                SubmissionFile.submission_id.in_([s.id for s in subs.values()])).order_by(SubmissionFile.id)):
            files.setdefault(f.submission_id, []).append(f)
    now = utcnow()
    # Students who handed in and then left the class still appear.
    gone = [sid for sid in subs if sid not in {s.id for s in students}]
    if gone:
        students += list(await session.scalars(select(User).where(User.id.in_(gone)).order_by(User.full_name)))
    return [RosterRow(s, subs.get(s.id), files.get(subs[s.id].id, []) if s.id in subs else [],
                      status_of(row, subs.get(s.id), now)) for s in students]
