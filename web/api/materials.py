"""Học liệu over REST: teachers upload files (multipart) or add links, share drafts with their
subject team (tổ chuyên môn), submit them for review; administrators approve (duyệt) or return
them with a comment; teachers publish (phát hành) approved materials to a class and attach them to
lessons; the class's students read them. Files are streamed with byte ranges, every download logged."""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlsplit

from aiohttp import BodyPartReader, web
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coursework import materials as rules
from coursework.materials_files import INLINE, BadRange, byte_range, clean_name, sniff
from coursework.materials_models import (
    MAX_COMMENT,
    MAX_DESCRIPTION,
    MAX_TITLE,
    MAX_URL,
    LessonMaterial,
    Material,
    MaterialComment,
    MaterialDownload,
)
from coursework.storage import MaterialStore, store_for
from school import access, audit
from school.errors import Conflict, Forbidden, InvalidField, NotFound
from school.models import Role, SchoolClass, Subject, SubjectTeam, User
from school.schemas import Id, _no_controls
from storage.types import utcnow
from web.config import Config
from web.errors import ApiError, validation_fields
from web.keys import CONFIG
from web.routing import Api, Call, Endpoint

STAFF = (Role.admin, Role.teacher)
READERS = (Role.admin, Role.teacher, Role.student)
CHUNK = 256 * 1024
MAX_FIELD = 16 * 1024
FORM_FIELDS = ("title", "description", "subject_id", "team_id", "url")
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE),
                  AfterValidator(_no_controls)]
Text = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_COMMENT)]


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ValueError("must be an http:// or https:// link")
    return value


Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL),
                AfterValidator(_http_url)]


class MaterialForm(BaseModel):
    """The fields of the upload form (multipart/form-data, besides the `file` part)."""
    model_config = ConfigDict(extra="forbid")
    title: Title
    description: Text = ""
    subject_id: Id
    team_id: Id | None = None
    url: Url | None = None


class MaterialUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Title | None = None
    description: Text | None = None
    team_id: Id | None = None
    share_with_team: bool | None = None
    """False takes the draft out of the team space."""


class ReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "return"]
    comment: Comment = ""


class PublishBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    class_id: Id


class CommentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_COMMENT)]


class AttachBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    material_id: Id


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["draft", "submitted", "returned", "approved", "published", "archived"] | None = None
    subject_id: Id | None = None
    class_id: Id | None = None
    mine: bool = False


class FileQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    download: bool = False


class MaterialOut(BaseModel):
    id: int
    title: str
    description: str
    kind: Literal["file", "link"]
    url: str | None
    file_name: str
    mime: str
    size_bytes: int
    file_url: str | None
    status: str
    subject_id: int
    subject_name: str
    class_id: int | None
    class_name: str | None
    team_id: int | None
    team_name: str | None
    owner_id: int
    owner_name: str
    review_comment: str
    reviewed_at: Any
    published_at: Any
    created_at: Any
    downloads: int | None
    """How many times it was opened (staff only)."""


class MaterialsOut(BaseModel):
    items: list[MaterialOut]


class CommentOut(BaseModel):
    id: int
    author_id: int | None
    author_name: str
    body: str
    at: Any


class CommentsOut(BaseModel):
    items: list[CommentOut]


class DownloadOut(BaseModel):
    user_id: int | None
    user_name: str
    role: str
    at: Any


class DownloadsOut(BaseModel):
    total: int
    items: list[DownloadOut]


def store_of(config: Config) -> MaterialStore:
    return store_for(config.data_dir, s3_endpoint=config.s3_endpoint, s3_bucket=config.s3_bucket,
                     s3_access_key=config.s3_access_key, s3_secret_key=config.s3_secret_key)


async def describe(session: AsyncSession, actor: User, rows: list[Material]) -> list[MaterialOut]:
    """Rows with the names of their subject, class, team and teacher."""
    if not rows:
        return []

    async def names(model: Any, column: Any, ids: set[int | None]) -> dict[int, str]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        return dict((await session.execute(select(model.id, column).where(model.id.in_(wanted)))).all())

    subjects = await names(Subject, Subject.name, {r.subject_id for r in rows})
    classes = await names(SchoolClass, SchoolClass.name, {r.class_id for r in rows})
    teams = await names(SubjectTeam, SubjectTeam.name, {r.team_id for r in rows})
    owners = await names(User, User.full_name, {r.owner_id for r in rows})
    counts: dict[int, int] = {}
    if actor.role is not Role.student:
        counts = dict((await session.execute(
            select(MaterialDownload.material_id, func.count()).where(
                MaterialDownload.material_id.in_([r.id for r in rows])).group_by(MaterialDownload.material_id))).all())
    return [MaterialOut(
        id=r.id, title=r.title, description=r.description, kind=r.kind, url=r.url,  # type: ignore[arg-type]
        file_name=r.file_name, mime=r.mime, size_bytes=r.size_bytes,
        file_url=f"/api/materials/{r.id}/file" if r.kind == "file" else None, status=r.status,
        subject_id=r.subject_id, subject_name=subjects.get(r.subject_id, ""), class_id=r.class_id,
        class_name=classes.get(r.class_id) if r.class_id else None, team_id=r.team_id,
        team_name=teams.get(r.team_id) if r.team_id else None, owner_id=r.owner_id,
        owner_name=owners.get(r.owner_id, ""), review_comment=r.review_comment, reviewed_at=r.reviewed_at,
        published_at=r.published_at, created_at=r.created_at,
        downloads=None if actor.role is Role.student else counts.get(r.id, 0)) for r in rows]


# --- upload ------------------------------------------------------------------------------------------------
async def _read_field(part: BodyPartReader) -> str:
    data = b""
    while chunk := await part.read_chunk(4096):
        data += chunk
        if len(data) > MAX_FIELD:
            raise ApiError(422, "validation_error", "invalid form",
                           fields=[{"field": part.name, "code": "too_long", "message": "too long"}])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "bad_request", f"the field {part.name} is not UTF-8 text") from exc
    if "\x00" in text:
        raise ApiError(422, "validation_error", "invalid form",
                       fields=[{"field": part.name, "message": "must not contain the NUL character"}])
    return text


def _too_large(limit: int) -> InvalidField:
    return InvalidField("file", f"a material file is limited to {limit // (1024 * 1024)} MB",
                        reason="material_too_large", params={"max_mb": limit // (1024 * 1024)})


async def _receive_file(part: BodyPartReader, target: Path, limit: int) -> tuple[bytes, int]:
    head, size = b"", 0
    with open(target, "wb") as handle:
        while chunk := await part.read_chunk(CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            if len(head) < 8192:
                head += chunk[:8192 - len(head)]
            handle.write(chunk)
    return head, size


def _form(values: dict[str, str]) -> MaterialForm:
    data: dict[str, Any] = {k: v for k, v in values.items() if not (k in ("team_id", "url") and v.strip() == "")}
    try:
        return MaterialForm.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "validation_error", "invalid form", fields=validation_fields(exc)) from exc


async def upload(call: Call) -> MaterialOut:
    request, actor = call.request, call.user
    config: Config = request.app[CONFIG]
    limit = config.max_material_mb * 1024 * 1024
    if request.content_type != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "send the material as multipart/form-data")
    if (request.content_length or 0) > limit + 64 * 1024:
        raise _too_large(limit)
    incoming = config.data_dir / "materials-incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    partial = incoming / f"{secrets.token_hex(8)}.part"
    store = store_of(config)
    stored_key: str | None = None
    try:
        values: dict[str, str] = {}
        head, size, file_name = b"", 0, ""
        has_file = False
        try:
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    raise ApiError(400, "bad_request", "nested multipart bodies are not accepted")
                if part.name == "file" and part.filename is not None:
                    if has_file:
                        raise ApiError(400, "bad_request", "send one file per material")
                    has_file = True
                    file_name = clean_name(part.filename)
                    head, size = await _receive_file(part, partial, limit)
                elif part.name in FORM_FIELDS and part.name not in values:
                    values[part.name] = await _read_field(part)
                else:
                    raise ApiError(422, "validation_error", "invalid form",
                                   fields=[{"field": part.name or "", "code": "unknown_field",
                                            "message": "unknown or repeated form field"}])
        except (ValueError, AssertionError, EOFError) as exc:  # a broken multipart body
            raise ApiError(400, "bad_request", "the body is not valid multipart/form-data") from exc
        form = _form(values)
        if has_file and size == 0:
            raise InvalidField("file", "the file is empty", reason="material_empty")
        if has_file == (form.url is not None):
            raise InvalidField("file", "send either a file or a link", reason="material_no_file")
        mime = ""
        if has_file:
            found = sniff(head, file_name)
            if found is None:
                raise InvalidField("file", "this kind of file is not accepted", reason="material_type_refused")
            mime = found
        async with call.db.session() as session:
            await rules.check_subject(session, actor, form.subject_id)
            await rules.check_team(session, actor, form.team_id)
        if has_file:
            stored_key = f"{actor.school_id}/{secrets.token_hex(16)}"
            await store.put(stored_key, partial)

        async def create(session: AsyncSession) -> MaterialOut:
            row = Material(school_id=actor.school_id, subject_id=form.subject_id, team_id=form.team_id,
                           owner_id=actor.id, title=form.title, description=form.description,
                           kind="file" if has_file else "link", url=form.url, file_key=stored_key,
                           file_name=file_name, mime=mime, size_bytes=size, status="draft", review_comment="")
            session.add(row)
            await session.flush()
            audit.record(session, actor, "create", "material", row.id, summary=row.title,
                         after=audit.snapshot(row, ("title", "kind", "file_name", "mime", "size_bytes", "url",
                                                    "subject_id", "team_id", "status")))
            return (await describe(session, actor, [row]))[0]

        out = await call.db.writer.write(create)
        stored_key = None  # kept: it belongs to the material now
        return out
    finally:
        partial.unlink(missing_ok=True)
        if stored_key is not None:
            await store.delete(stored_key)


# --- the file ------------------------------------------------------------------------------------------------
async def read_file(call: Call) -> web.StreamResponse:
    request, actor = call.request, call.user
    material_id = call.path_id("id")
    async with call.db.session() as session:
        row = await rules.get_material(session, actor, material_id)
        if row.kind != "file" or row.file_key is None:
            raise NotFound(f"material {material_id} is a link, not a file")
        key, mime, name = row.file_key, row.mime, row.file_name
    store = store_of(request.app[CONFIG])
    size = await store.size(key)
    if size is None:
        raise NotFound("the material's file is missing")
    try:
        wanted = byte_range(request.headers.get("Range"), size)
    except BadRange as exc:
        raise ApiError(416, "range_not_satisfiable", "the requested range lies outside the file",
                       headers={"Content-Range": f"bytes */{size}"}) from exc
    start, end = wanted if wanted is not None else (0, size - 1)
    if start == 0:
        # One entry per opening, not per range a video player asks for while seeking.
        async def log(session: AsyncSession) -> None:
            session.add(MaterialDownload(material_id=material_id, user_id=actor.id))

        await call.db.writer.write(log)
    query: FileQuery = call.query
    inline = not query.download and mime.startswith(INLINE)
    ascii_name = "".join(ch if ch.isascii() and ch.isalnum() or ch in "._-" else "_" for ch in name) or "material"
    response = web.StreamResponse(status=206 if wanted is not None else 200, headers={
        "Content-Type": mime or "application/octet-stream",
        "Content-Length": str(end - start + 1 if size else 0),
        "Accept-Ranges": "bytes",
        "Content-Disposition": f"{'inline' if inline else 'attachment'}; filename=\"{ascii_name}\"; "
                               f"filename*=UTF-8''{quote(name, safe='')}",
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; "
                                   "style-src 'unsafe-inline'; object-src 'self'",
    })
    if wanted is not None:
        response.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    await response.prepare(request)
    if request.method != "HEAD" and size:
        async for chunk in store.read(key, start, end):
            await response.write(chunk)
    await response.write_eof()
    return response


def register(api: Api) -> None:
    upload.__name__ = "upload_material"
    api.endpoints.append(Endpoint(
        method="POST", path="/api/materials", handler=upload, tag="materials",
        summary="Upload a material (học liệu): a file or a link", response=MaterialOut, status=201,
        roles=STAFF, errors=(403, 413, 415, 422), unit_of_work=False, streamed=True,
        description="multipart/form-data with the fields title, description, subject_id, team_id (optional: "
        "share the draft with that subject team) and either a `file` part or a `url` (http/https). The file's "
        "type is checked by its content: PDF, images, audio, video, office documents, plain text; at most "
        "`--max-material-mb` MB (default 100). The material starts as a draft."))
    read_file.__name__ = "material_file"
    api.endpoints.append(Endpoint(
        method="GET", path=r"/api/materials/{id:\d+}/file", handler=read_file, tag="materials",
        summary="A material's file (byte ranges served)", query=FileQuery, roles=READERS, errors=(403, 404),
        unit_of_work=False,
        description="Streamed; a `Range: bytes=a-b` request gets 206 with Content-Range. Each opening (a request "
        "from the first byte) is logged. `download=1` asks for an attachment instead of opening it inline."))

    @api.route("GET", "/api/materials", summary="The materials one may see", tag="materials", query=ListQuery,
               response=MaterialsOut, roles=READERS,
               description="Admins: every material. Teachers: their own, their subject team's drafts, and the "
               "school's approved library. Students: what is published to their classes or attached to their "
               "lessons.")
    async def list_materials(call: Call) -> MaterialsOut:
        q: ListQuery = call.query
        query = await rules.visible_query(call.session, call.user)
        if q.status:
            query = query.where(Material.status == q.status)
        if q.subject_id:
            query = query.where(Material.subject_id == q.subject_id)
        if q.class_id:
            query = query.where(Material.class_id == q.class_id)
        if q.mine:
            query = query.where(Material.owner_id == call.user.id)
        rows = list(await call.session.scalars(query.order_by(Material.created_at.desc(), Material.id.desc())
                                               .limit(1000)))
        return MaterialsOut(items=await describe(call.session, call.user, rows))

    @api.route("GET", r"/api/materials/{id:\d+}", summary="A material", tag="materials", response=MaterialOut,
               roles=READERS, errors=(404,))
    async def get_material(call: Call) -> MaterialOut:
        row = await rules.get_material(call.session, call.user, call.path_id("id"))
        return (await describe(call.session, call.user, [row]))[0]

    @api.route("PATCH", r"/api/materials/{id:\d+}", summary="Edit a draft or returned material", tag="materials",
               body=MaterialUpdate, response=MaterialOut, roles=STAFF, errors=(403, 404, 409, 422))
    async def edit_material(call: Call) -> MaterialOut:
        body: MaterialUpdate = call.body
        row = await rules.get_material(call.session, call.user, call.path_id("id"))
        rules.require_owner(call.user, row)
        rules.require_status(row, ("draft", "returned"), "edited")
        before = audit.snapshot(row, ("title", "description", "team_id"))
        if body.title is not None:
            row.title = body.title
        if body.description is not None:
            row.description = body.description
        if body.team_id is not None:
            await rules.check_team(call.session, call.user, body.team_id)
            row.team_id = body.team_id
        if body.share_with_team is False:
            row.team_id = None
        old, new = audit.changed(before, audit.snapshot(row, ("title", "description", "team_id")))
        if new:
            audit.record(call.session, call.user, "update", "material", row.id, summary=row.title,
                         before=old, after=new)
        return (await describe(call.session, call.user, [row]))[0]

    async def transition(call: Call, row: Material, status: str, action: str, **changes: Any) -> MaterialOut:
        before = audit.snapshot(row, ("status", "class_id"))
        row.status = status
        for name, value in changes.items():
            setattr(row, name, value)
        audit.record(call.session, call.user, action, "material", row.id, summary=row.title, before=before,
                     after=audit.snapshot(row, ("status", "class_id")))
        await call.session.flush()
        return (await describe(call.session, call.user, [row]))[0]

    @api.route("POST", r"/api/materials/{id:\d+}/submit", summary="Submit a material for review (gửi duyệt)",
               tag="materials", response=MaterialOut, roles=STAFF, errors=(403, 404, 409))
    async def submit_material(call: Call) -> MaterialOut:
        row = await rules.get_material(call.session, call.user, call.path_id("id"))
        rules.require_owner(call.user, row)
        rules.require_status(row, ("draft", "returned"), "submitted")
        return await transition(call, row, "submitted", "submit")

    @api.route("POST", r"/api/materials/{id:\d+}/review", summary="Approve (duyệt) or return a material",
               tag="materials", body=ReviewBody, response=MaterialOut, roles=(Role.admin,), errors=(403, 404, 409, 422),
               description="Administrators. `return` needs a comment saying what to change.")
    async def review_material(call: Call) -> MaterialOut:
        body: ReviewBody = call.body
        row = await rules.get_material(call.session, call.user, call.path_id("id"))
        rules.require_status(row, ("submitted",), "reviewed")
        if body.decision == "return" and not body.comment:
            raise InvalidField("comment", "say what should change", reason="blank")
        if body.comment:
            call.session.add(MaterialComment(material_id=row.id, author_id=call.user.id,
                                             author_name=call.user.full_name, body=body.comment))
        return await transition(call, row, "approved" if body.decision == "approve" else "returned",
                                "approve" if body.decision == "approve" else "return",
                                review_comment=body.comment, reviewed_by=call.user.id, reviewed_at=utcnow())

    @api.route("POST", r"/api/materials/{id:\d+}/publish", summary="Publish (phát hành) a material to a class",
               tag="materials", body=PublishBody, response=MaterialOut, roles=STAFF, errors=(403, 404, 409, 422),
               description="An approved material, by its teacher (or an administrator), to a class they teach; "
               "the class's students see it from then on.")
    async def publish_material(call: Call) -> MaterialOut:
        body: PublishBody = call.body
        row = await rules.get_material(call.session, call.user, call.path_id("id"))
        if call.user.role is not Role.admin:
            rules.require_owner(call.user, row)
        if row.status not in rules.DELIVERABLE:
            raise Conflict("the material is not approved", reason="material_not_approved")
        await access.get_class(call.session, call.user, body.class_id)
        return await transition(call, row, "published", "publish", class_id=body.class_id, published_at=utcnow())

    @api.route("POST", r"/api/materials/{id:\d+}/archive", summary="Archive a material (students no longer see it)",
               tag="materials", response=MaterialOut, roles=STAFF, errors=(403, 404, 409))
    async def archive_material(call: Call) -> MaterialOut:
        row = await rules.get_material(call.session, call.user, call.path_id("id"))
        if call.user.role is not Role.admin:
            rules.require_owner(call.user, row)
        rules.require_status(row, ("draft", "returned", "approved", "published"), "archived")
        return await transition(call, row, "archived", "archive")

    @api.route("GET", r"/api/materials/{id:\d+}/comments", summary="Comments of the subject team and reviewers",
               tag="materials", response=CommentsOut, roles=STAFF, errors=(403, 404))
    async def material_comments(call: Call) -> CommentsOut:
        row = await rules.get_material(call.session, call.user, call.path_id("id"))
        await rules.may_comment(call.session, call.user, row)
        rows = await call.session.scalars(select(MaterialComment).where(MaterialComment.material_id == row.id)
                                          .order_by(MaterialComment.id))
        return CommentsOut(items=[CommentOut(id=c.id, author_id=c.author_id, author_name=c.author_name, body=c.body,
                                             at=c.at) for c in rows])

    @api.route("POST", r"/api/materials/{id:\d+}/comments", summary="Comment on a material (góp ý)",
               tag="materials", body=CommentBody, response=CommentOut, status=201, roles=STAFF,
               errors=(403, 404, 422),
               description="Its teacher, the teachers of the subject team it is shared with, administrators.")
    async def add_material_comment(call: Call) -> CommentOut:
        body: CommentBody = call.body
        row = await rules.get_material(call.session, call.user, call.path_id("id"))
        await rules.may_comment(call.session, call.user, row)
        comment = MaterialComment(material_id=row.id, author_id=call.user.id, author_name=call.user.full_name,
                                  body=body.body, at=utcnow())
        call.session.add(comment)
        await call.session.flush()
        return CommentOut(id=comment.id, author_id=comment.author_id, author_name=comment.author_name,
                          body=comment.body, at=comment.at)

    @api.route("GET", r"/api/materials/{id:\d+}/downloads", summary="Who opened a material", tag="materials",
               response=DownloadsOut, roles=STAFF, errors=(403, 404))
    async def material_downloads(call: Call) -> DownloadsOut:
        row = await rules.get_material(call.session, call.user, call.path_id("id"))
        if call.user.role is not Role.admin:
            rules.require_owner(call.user, row)
        rows = (await call.session.execute(
            select(MaterialDownload.user_id, User.full_name, User.role, MaterialDownload.at)
            .outerjoin(User, User.id == MaterialDownload.user_id)
            .where(MaterialDownload.material_id == row.id).order_by(MaterialDownload.id.desc()).limit(500))).all()
        total = await call.session.scalar(select(func.count()).select_from(MaterialDownload)
                                          .where(MaterialDownload.material_id == row.id))
        return DownloadsOut(total=total or 0, items=[
            DownloadOut(user_id=u, user_name=n or "", role=r.value if r else "", at=a) for u, n, r, a in rows])

    # --- lessons -------------------------------------------------------------------------------------------
    @api.route("GET", r"/api/lessons/{id:\d+}/materials", summary="A lesson's materials", tag="materials",
               response=MaterialsOut, roles=READERS, errors=(403, 404),
               description="The lesson's staff see every attached material; its class's students the published ones.")
    async def lesson_materials(call: Call) -> MaterialsOut:
        lesson = await access.get_lesson(call.session, call.user, call.path_id("id"))
        query = (await rules.visible_query(call.session, call.user)).join(
            LessonMaterial, LessonMaterial.material_id == Material.id).where(LessonMaterial.lesson_id == lesson.id)
        rows = list(await call.session.scalars(query.order_by(Material.title, Material.id)))
        return MaterialsOut(items=await describe(call.session, call.user, rows))

    @api.route("POST", r"/api/lessons/{id:\d+}/materials", summary="Attach a material to a lesson", tag="materials",
               body=AttachBody, response=MaterialOut, status=201, roles=STAFF, errors=(403, 404, 409, 422),
               description="The lesson's teacher or an administrator; the material must be approved. An approved "
               "material not yet published is published to the lesson's class.")
    async def attach_lesson_material(call: Call) -> MaterialOut:
        body: AttachBody = call.body
        lesson = await access.get_lesson(call.session, call.user, call.path_id("id"))
        if call.user.role is not Role.admin and lesson.teacher_id != call.user.id:
            raise Forbidden("only the lesson's teacher or an administrator may attach materials")
        row = await rules.get_material(call.session, call.user, body.material_id)
        if row.status not in rules.DELIVERABLE:
            raise Conflict("the material is not approved", reason="material_not_approved")
        known = await call.session.get(LessonMaterial, (lesson.id, row.id))
        if known is None:
            call.session.add(LessonMaterial(lesson_id=lesson.id, material_id=row.id))
            audit.record(call.session, call.user, "attach", "material", row.id, summary=row.title,
                         after={"lesson_id": lesson.id})
        if row.status == "approved":
            row.status, row.class_id, row.published_at = "published", lesson.class_id, utcnow()
        await call.session.flush()
        return (await describe(call.session, call.user, [row]))[0]

    @api.route("DELETE", r"/api/lessons/{id:\d+}/materials/{mid:\d+}", summary="Detach a material from a lesson",
               tag="materials", status=204, roles=STAFF, errors=(403, 404))
    async def detach_lesson_material(call: Call) -> None:
        lesson = await access.get_lesson(call.session, call.user, call.path_id("id"))
        if call.user.role is not Role.admin and lesson.teacher_id != call.user.id:
            raise Forbidden("only the lesson's teacher or an administrator may detach materials")
        material_id = call.path_id("mid")
        gone = await call.session.execute(delete(LessonMaterial).where(
            LessonMaterial.lesson_id == lesson.id, LessonMaterial.material_id == material_id))
        if not gone.rowcount:  # type: ignore[attr-defined]
            raise NotFound(f"material {material_id} is not attached to lesson {lesson.id}")
        audit.record(call.session, call.user, "detach", "material", material_id, after={"lesson_id": lesson.id})
