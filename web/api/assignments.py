"""Assignments over REST (bài tập, under /api/coursework: /api/assignments is the school's teaching
assignments). Teachers set work for their classes (instructions, attached files, opening and due
times, late policy) and grade what comes in; students of the class hand in text and files
(multipart) until the due time, late per the policy; a class's submissions download as XLSX/CSV."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from aiohttp import BodyPartReader, web
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coursework import assignments as work
from coursework import assignments_files as files
from coursework.assignments_models import Assignment, AssignmentFile, Submission, SubmissionFile
from school import access
from school.errors import Conflict, Forbidden, InvalidField, NotFound
from school.models import Role, SchoolClass, Subject, User
from school.schemas import Id
from school.timezones import school_zone
from storage.guard import ensure_free
from storage.types import utcnow
from web.errors import ApiError
from web.keys import CONFIG
from web.routing import Api, Call, Endpoint
from web.tables import export

BASE = "/api/coursework"
CHUNK = 256 * 1024
STAFF = (Role.admin, Role.teacher)


class FileOut(BaseModel):
    id: int
    name: str
    mime: str
    size_bytes: int
    url: str


class SubmissionOut(BaseModel):
    id: int
    assignment_id: int
    student_id: int
    student_name: str
    text: str
    submitted_at: datetime
    late: bool
    """Nộp muộn."""
    score10: float | None
    """After any late penalty; null until graded."""
    raw_score10: float | None
    comment: str
    graded_at: datetime | None
    files: list[FileOut]


class CourseworkAssignmentOut(BaseModel):
    id: int
    class_id: int
    class_name: str
    subject_id: int
    subject_name: str
    teacher_id: int | None
    teacher_name: str
    title: str
    instructions: str
    opens_at: datetime
    due_at: datetime
    late_policy: Literal["accept", "penalty", "refuse"]
    late_penalty_percent: int
    published: bool
    created_at: datetime
    files: list[FileOut]
    may_manage: bool
    my_submission: SubmissionOut | None = None
    """A student's own submission (students only)."""
    my_status: work.Status | None = None
    counts: dict[str, int] | None = None
    """Staff: students per state (graded, submitted, late, missing, not_submitted)."""


class CourseworkAssignmentsOut(BaseModel):
    items: list[CourseworkAssignmentOut]


class RosterRowOut(BaseModel):
    student_id: int
    student_name: str
    status: work.Status
    submission: SubmissionOut | None


class RosterOut(BaseModel):
    assignment_id: int
    items: list[RosterRowOut]


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    class_id: Id | None = None
    subject_id: Id | None = None


class RosterQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["graded", "submitted", "late", "missing", "not_submitted"] | None = None


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["xlsx", "csv"] = "xlsx"


class ClassExportQuery(ExportQuery):
    subject_id: Id | None = None


STATUS_LABELS = {"graded": "Đã chấm", "submitted": "Đã nộp", "late": "Nộp muộn", "missing": "Chưa nộp (quá hạn)",
                 "not_submitted": "Chưa nộp"}


def _afile(f: AssignmentFile) -> FileOut:
    return FileOut(id=f.id, name=f.file_name, mime=f.mime, size_bytes=f.size_bytes,
                   url=f"{BASE}/assignment-files/{f.id}")


def _sfile(f: SubmissionFile) -> FileOut:
    return FileOut(id=f.id, name=f.file_name, mime=f.mime, size_bytes=f.size_bytes,
                   url=f"{BASE}/submission-files/{f.id}")


def _sub_out(sub: Submission, name: str, sfiles: list[SubmissionFile]) -> SubmissionOut:
    return SubmissionOut(id=sub.id, assignment_id=sub.assignment_id, student_id=sub.student_id, student_name=name,
                         text=sub.text, submitted_at=sub.submitted_at, late=sub.late, score10=sub.score10,
                         raw_score10=sub.raw_score10, comment=sub.comment, graded_at=sub.graded_at,
                         files=[_sfile(f) for f in sfiles])


async def _out(session: AsyncSession, actor: User, row: Assignment, *, detail: bool = True) -> CourseworkAssignmentOut:
    cls = await session.get(SchoolClass, row.class_id)
    subject = await session.get(Subject, row.subject_id)
    teacher = await session.get(User, row.teacher_id) if row.teacher_id else None
    afiles = list(await session.scalars(select(AssignmentFile).where(AssignmentFile.assignment_id == row.id)
                                        .order_by(AssignmentFile.id))) if detail else []
    manage = actor.role is Role.admin or (actor.role is Role.teacher and row.teacher_id == actor.id)
    out = CourseworkAssignmentOut(id=row.id, class_id=row.class_id, class_name=cls.name if cls else "", subject_id=row.subject_id,
                        subject_name=subject.name if subject else "", teacher_id=row.teacher_id,
                        teacher_name=teacher.full_name if teacher else "", title=row.title,
                        instructions=row.instructions, opens_at=row.opens_at, due_at=row.due_at,
                        late_policy=row.late_policy, late_penalty_percent=row.late_penalty_percent,  # type: ignore[arg-type]
                        published=row.published, created_at=row.created_at, files=[_afile(f) for f in afiles],
                        may_manage=manage)
    if actor.role is Role.student:
        sub = await session.scalar(select(Submission).where(Submission.assignment_id == row.id,
                                                            Submission.student_id == actor.id))
        sfiles = list(await session.scalars(select(SubmissionFile).where(SubmissionFile.submission_id == sub.id)
                                            .order_by(SubmissionFile.id))) if sub else []
        out.my_submission = _sub_out(sub, actor.full_name, sfiles) if sub else None
        out.my_status = work.status_of(row, sub, utcnow())
    else:
        rows = await work.roster(session, row)
        counts: dict[str, int] = {k: 0 for k in ("graded", "submitted", "late", "missing", "not_submitted")}
        for r in rows:
            counts[r.status] += 1
        out.counts = counts
    return out


async def _receive(call: Call, data_dir: Path, *, text_field: bool) -> tuple[str, set[int], list[files.StoredFile]]:
    """Read a multipart/form-data body: `text` (a field), `keep` (ids of earlier files to keep, repeated
    or comma-separated) and `file` parts, each streamed to disk, size-capped and type-checked."""
    request = call.request
    if request.content_type != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "send multipart/form-data")
    limit_mb = files.MAX_FILE_BYTES // (1024 * 1024)
    cap = files.MAX_FILES * files.MAX_FILE_BYTES + 1024 * 1024
    if (request.content_length or 0) > cap:
        raise ApiError(413, "payload_too_large", f"at most {files.MAX_FILES} files of {limit_mb} MB")
    ensure_free("reading an upload")
    text, keep, stored, partials = "", set(), [], []
    try:
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                raise ApiError(400, "bad_request", "nested multipart is not accepted")
            if part.name == "file" and part.filename is not None:
                if len(stored) >= files.MAX_FILES:
                    raise Conflict(f"at most {files.MAX_FILES} files", reason="too_many_files",
                                   params={"max": files.MAX_FILES})
                partial = files.new_partial(data_dir)
                partials.append(partial)
                size, head = 0, b""
                with open(partial, "wb") as handle:
                    while chunk := await part.read_chunk(CHUNK):
                        size += len(chunk)
                        if size > files.MAX_FILE_BYTES:
                            raise InvalidField("file", f"at most {limit_mb} MB", reason="file_too_large",
                                               params={"max_mb": limit_mb})
                        if len(head) < 4096:
                            head += chunk[:4096 - len(head)]
                        handle.write(chunk)
                if size == 0:
                    continue  # an empty file input
                mime = files.sniff(head)
                if mime is None:
                    raise InvalidField("file", "this type of file is not accepted", reason="file_type_refused")
                stored.append(files.keep(data_dir, partial, files.clean_name(part.filename), mime, size))
            elif part.name == "text" and text_field:
                raw = await part.read(decode=False)
                if len(raw) > work.MAX_TEXT * 4:
                    raise InvalidField("text", f"at most {work.MAX_TEXT} characters", reason="too_long",
                                       params={"max_length": work.MAX_TEXT})
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise InvalidField("text", "not UTF-8 text", reason="invalid") from exc
                if "\x00" in text:
                    raise InvalidField("text", "must not contain the NUL character", reason="control_characters")
                if len(text) > work.MAX_TEXT:
                    raise InvalidField("text", f"at most {work.MAX_TEXT} characters", reason="too_long",
                                       params={"max_length": work.MAX_TEXT})
            elif part.name == "keep":
                raw = (await part.read(decode=False))[:10_000].decode("utf-8", "replace")
                for piece in raw.replace(",", " ").split():
                    if not piece.isdigit() or len(piece) > 10:
                        raise InvalidField("keep", "file ids, separated by commas", reason="invalid")
                    keep.add(int(piece))
            else:
                raise InvalidField(part.name or "body", "not accepted here", reason="unknown_field")
    except BaseException:
        files.remove(data_dir, [f.key for f in stored])
        raise
    finally:
        for partial in partials:
            partial.unlink(missing_ok=True)
    return text, keep, stored


def _download(data_dir: Path, key: str, name: str, mime: str) -> web.FileResponse:
    path = files.path_of(data_dir, key)
    if not path.is_file():
        raise NotFound("the file is missing")
    from urllib.parse import quote
    ascii_name = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in name) or "file"
    headers = {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}",
               "Content-Type": mime + ("; charset=utf-8" if mime == "text/plain" else ""),
               "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-cache"}
    return web.FileResponse(path, headers=headers)


def register(api: Api) -> None:
    @api.route("GET", f"{BASE}/assignments", summary="Assignments I may see", tag="assignments",
               query=ListQuery, response=CourseworkAssignmentsOut,
               description="Students: their classes' published assignments once open, with their own state. "
               "Teachers: those of the classes they teach. Administrators: all. Newest due first.")
    async def list_coursework_assignments(call: Call) -> CourseworkAssignmentsOut:
        q: ListQuery = call.query
        rows = await work.list_for(call.session, call.user, q.class_id, q.subject_id)
        return CourseworkAssignmentsOut(items=[await _out(call.session, call.user, r, detail=False) for r in rows])

    @api.route("POST", f"{BASE}/assignments", summary="Set an assignment for a class", tag="assignments",
               body=work.CourseworkAssignmentCreate, response=CourseworkAssignmentOut, status=201, roles=STAFF, errors=(403, 422))
    async def create_coursework_assignment(call: Call) -> CourseworkAssignmentOut:
        zone = await school_zone(call.session, call.user.school_id)
        row = await work.create(call.session, call.user, call.body, zone)
        return await _out(call.session, call.user, row)

    @api.route("GET", rf"{BASE}/assignments/{{id:\d+}}", summary="An assignment", tag="assignments",
               response=CourseworkAssignmentOut, errors=(403, 404))
    async def get_coursework_assignment(call: Call) -> CourseworkAssignmentOut:
        row = await work.get_assignment(call.session, call.user, call.path_id("id"))
        return await _out(call.session, call.user, row)

    @api.route("PATCH", rf"{BASE}/assignments/{{id:\d+}}", summary="Change an assignment", tag="assignments",
               body=work.CourseworkAssignmentUpdate, response=CourseworkAssignmentOut, roles=STAFF, errors=(403, 404, 422))
    async def update_coursework_assignment(call: Call) -> CourseworkAssignmentOut:
        row = await work.get_assignment(call.session, call.user, call.path_id("id"))
        zone = await school_zone(call.session, call.user.school_id)
        await work.update(call.session, call.user, row, call.body, zone)
        return await _out(call.session, call.user, row)

    @api.route("DELETE", rf"{BASE}/assignments/{{id:\d+}}", summary="Delete an assignment and its submissions",
               tag="assignments", roles=STAFF, status=204, errors=(403, 404))
    async def delete_coursework_assignment(call: Call) -> None:
        row = await work.get_assignment(call.session, call.user, call.path_id("id"))
        keys = await work.remove(call.session, call.user, row)
        await call.session.commit()
        files.remove(call.request.app[CONFIG].data_dir, keys)

    async def attach(call: Call) -> CourseworkAssignmentOut:
        data_dir = call.request.app[CONFIG].data_dir
        async with call.db.session() as session:
            row = await work.get_assignment(session, call.user, call.path_id("id"))
            work.may_manage(call.user, row)
        _, _, stored = await _receive(call, data_dir, text_field=False)
        if not stored:
            raise InvalidField("file", "attach at least one file", reason="required")

        async def add(session: AsyncSession) -> None:
            fresh = await work.get_assignment(session, call.user, row.id)
            await work.add_files(session, call.user, fresh, stored, files.MAX_FILES)

        try:
            await call.db.writer.write(add)
        except BaseException:
            files.remove(data_dir, [f.key for f in stored])
            raise
        async with call.db.session() as session:
            return await _out(session, call.user, await work.get_assignment(session, call.user, row.id))

    attach.__name__ = "attach_coursework_assignment_files"
    api.endpoints.append(Endpoint(
        method="POST", path=rf"{BASE}/assignments/{{id:\d+}}/files", handler=attach, tag="assignments",
        summary="Attach files to an assignment", response=CourseworkAssignmentOut, roles=STAFF, errors=(403, 404, 409, 413, 422),
        unit_of_work=False, streamed=True,
        description=f"multipart/form-data with `file` parts (each at most {files.MAX_FILE_BYTES // 2**20} MB; PDF, "
        f"images, audio, video, office documents, plain text: told by content; at most {files.MAX_FILES} in all)."))

    @api.route("DELETE", rf"{BASE}/assignment-files/{{fid:\d+}}", summary="Remove a file of an assignment",
               tag="assignments", roles=STAFF, status=204, errors=(403, 404))
    async def delete_coursework_assignment_file(call: Call) -> None:
        f = await call.session.get(AssignmentFile, call.path_id("fid"))
        if f is None:
            raise NotFound("file not found")
        row = await work.get_assignment(call.session, call.user, f.assignment_id)
        work.may_manage(call.user, row)
        key = f.file_key
        await call.session.delete(f)
        await call.session.commit()
        files.remove(call.request.app[CONFIG].data_dir, [key])

    @api.route("GET", rf"{BASE}/assignment-files/{{fid:\d+}}", summary="Download a file of an assignment",
               tag="assignments", errors=(403, 404))
    async def coursework_assignment_file(call: Call) -> web.StreamResponse:
        f = await call.session.get(AssignmentFile, call.path_id("fid"))
        if f is None:
            raise NotFound("file not found")
        await work.get_assignment(call.session, call.user, f.assignment_id)
        return _download(call.request.app[CONFIG].data_dir, f.file_key, f.file_name, f.mime)

    async def hand_in(call: Call) -> SubmissionOut:
        data_dir = call.request.app[CONFIG].data_dir
        if call.user.role is not Role.student:
            raise Forbidden("only students hand in work")
        async with call.db.session() as session:
            row = await work.get_assignment(session, call.user, call.path_id("id"))
            assignment_id = row.id
        text, keep, stored = await _receive(call, data_dir, text_field=True)

        async def save(session: AsyncSession) -> tuple[int, list[str]]:
            fresh = await work.get_assignment(session, call.user, assignment_id)
            sub, dropped = await work.submit(session, call.user, fresh, text, stored, keep, files.MAX_FILES)
            return sub.id, dropped

        try:
            sub_id, dropped = await call.db.writer.write(save)
        except BaseException:
            files.remove(data_dir, [f.key for f in stored])
            raise
        files.remove(data_dir, dropped)
        async with call.db.session() as session:
            sub, _ = await work.get_submission(session, call.user, sub_id)
            sfiles = list(await session.scalars(select(SubmissionFile).where(SubmissionFile.submission_id == sub.id)
                                                .order_by(SubmissionFile.id)))
            return _sub_out(sub, call.user.full_name, sfiles)

    hand_in.__name__ = "hand_in_coursework_submission"
    api.endpoints.append(Endpoint(
        method="POST", path=rf"{BASE}/assignments/{{id:\d+}}/submission", handler=hand_in, tag="assignments",
        summary="Hand in (or again) my work", response=SubmissionOut, roles=(Role.student,),
        errors=(403, 404, 409, 413, 422), unit_of_work=False, streamed=True,
        description="multipart/form-data: `text` (the answer, at most 20000 characters), `file` parts (as for the "
        "assignment's files) and `keep` (ids of files handed in before to keep; the others are dropped). Again "
        "until the due time; after it, once, marked late, unless the late policy refuses it; not after grading."))

    @api.route("GET", rf"{BASE}/assignments/{{id:\d+}}/submissions", summary="The class's submissions",
               tag="assignments", query=RosterQuery, response=RosterOut, roles=STAFF, errors=(403, 404),
               description="Every student of the class with their submission and state; `status=late` lists the "
               "late ones, `status=missing` those with nothing handed in by the due time.")
    async def list_coursework_submissions(call: Call) -> RosterOut:
        row = await work.get_assignment(call.session, call.user, call.path_id("id"))
        q: RosterQuery = call.query
        items = [RosterRowOut(student_id=r.student.id, student_name=r.student.full_name, status=r.status,
                              submission=_sub_out(r.submission, r.student.full_name, r.files) if r.submission else None)
                 for r in await work.roster(call.session, row) if q.status is None or r.status == q.status]
        return RosterOut(assignment_id=row.id, items=items)

    @api.route("GET", rf"{BASE}/assignments/{{id:\d+}}/submissions/export", summary="The class's submissions as a sheet",
               tag="assignments", query=ExportQuery, roles=STAFF, errors=(403, 404))
    async def export_coursework_submissions(call: Call) -> web.StreamResponse:
        row = await work.get_assignment(call.session, call.user, call.path_id("id"))
        zone = await school_zone(call.session, call.user.school_id)
        rows = await work.roster(call.session, row)
        labels = STATUS_LABELS
        header = ["Học sinh", "Tên đăng nhập", "Trạng thái", "Nộp lúc", "Nộp muộn", "Điểm (thang 10)",
                  "Nhận xét", "Số tệp"]
        body = [[r.student.full_name, r.student.username, labels[r.status],
                 r.submission.submitted_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if r.submission else "",
                 ("Có" if r.submission.late else "Không") if r.submission else "",
                 r.submission.score10 if r.submission and r.submission.score10 is not None else "",
                 r.submission.comment if r.submission else "", len(r.files)] for r in rows]
        q: ExportQuery = call.query
        return export(header, body, q.format, f"bai-tap-{row.id}-{row.title}", "Bài nộp")

    @api.route("GET", rf"{BASE}/classes/{{id:\d+}}/submissions/export", summary="A class's submissions as a sheet",
               tag="assignments", query=ClassExportQuery, roles=STAFF, errors=(403, 404),
               description="One row per assignment and student of the class (optionally of one subject): state, "
               "time handed in, late, grade on 10, comment. Teachers of the class and administrators.")
    async def export_class_submissions(call: Call) -> web.StreamResponse:
        cls = await access.get_class(call.session, call.user, call.path_id("id"))
        q: ClassExportQuery = call.query
        zone = await school_zone(call.session, call.user.school_id)
        subjects = {s.id: s.name for s in await call.session.scalars(
            select(Subject).where(Subject.school_id == call.user.school_id))}
        header = ["Bài tập", "Môn học", "Hạn nộp", "Học sinh", "Tên đăng nhập", "Trạng thái", "Nộp lúc", "Nộp muộn",
                  "Điểm (thang 10)", "Nhận xét"]
        body: list[list[object]] = []
        for row in reversed(await work.list_for(call.session, call.user, cls.id, q.subject_id)):
            for r in await work.roster(call.session, row):
                sub = r.submission
                body.append([row.title, subjects.get(row.subject_id, ""), row.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                             r.student.full_name, r.student.username, STATUS_LABELS[r.status],
                             sub.submitted_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if sub else "",
                             ("Có" if sub.late else "Không") if sub else "",
                             sub.score10 if sub and sub.score10 is not None else "", sub.comment if sub else ""])
        return export(header, body, q.format, f"bai-tap-lop-{cls.name}", "Bài nộp")

    @api.route("GET", rf"{BASE}/submissions/{{sid:\d+}}", summary="A submission", tag="assignments",
               response=SubmissionOut, errors=(403, 404),
               description="Its student, the assignment's teacher, the class's teachers, administrators.")
    async def get_coursework_submission(call: Call) -> SubmissionOut:
        sub, _ = await work.get_submission(call.session, call.user, call.path_id("sid"))
        student = await call.session.get(User, sub.student_id)
        sfiles = list(await call.session.scalars(select(SubmissionFile).where(SubmissionFile.submission_id == sub.id)
                                                 .order_by(SubmissionFile.id)))
        return _sub_out(sub, student.full_name if student else "", sfiles)

    @api.route("PUT", rf"{BASE}/submissions/{{sid:\d+}}/grade", summary="Grade a submission", tag="assignments",
               body=work.SubmissionGrade, response=SubmissionOut, roles=STAFF, errors=(403, 404, 422),
               description="Chấm điểm: the mark on the 10-point scale (a late penalty, if the policy has one, is "
               "taken off) and a comment (nhận xét). Again to change it.")
    async def grade_coursework_submission(call: Call) -> SubmissionOut:
        sub, row = await work.get_submission(call.session, call.user, call.path_id("sid"))
        await work.grade(call.session, call.user, sub, row, call.body)
        student = await call.session.get(User, sub.student_id)
        sfiles = list(await call.session.scalars(select(SubmissionFile).where(SubmissionFile.submission_id == sub.id)
                                                 .order_by(SubmissionFile.id)))
        return _sub_out(sub, student.full_name if student else "", sfiles)

    @api.route("GET", rf"{BASE}/submission-files/{{fid:\d+}}", summary="Download a file of a submission",
               tag="assignments", errors=(403, 404))
    async def coursework_submission_file(call: Call) -> web.StreamResponse:
        f = await call.session.get(SubmissionFile, call.path_id("fid"))
        if f is None:
            raise NotFound("file not found")
        await work.get_submission(call.session, call.user, f.submission_id)
        return _download(call.request.app[CONFIG].data_dir, f.file_key, f.file_name, f.mime)
