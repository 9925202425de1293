"""The rolls: students, teachers, classes and teaching assignments uploaded as a spreadsheet
(checked row by row in a preview, then imported all or nothing), exported in the same shapes, and
the new accounts' initial passwords as a workbook to print or hand out."""
from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from aiohttp import BodyPartReader, web
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from school import catalogue, rolls
from school.models import Role
from school.rolls_sheets import KINDS, MAX_BYTES, MAX_ROWS, Kind, Sheet, read_sheet
from school.schemas import Id, Input, Name, _no_controls
from storage.guard import ensure_free
from web.errors import ApiError
from web.routing import Api, Call, Endpoint
from web.tables import export

ADMIN = (Role.admin,)
KIND_PATTERN = "|".join(KINDS)
CHUNK = 64 * 1024
MULTIPART_OVERHEAD = 64 * 1024
FILE_NAMES = {"students": "hoc-sinh", "teachers": "giao-vien", "classes": "lop", "assignments": "phan-cong"}
TITLES = {"students": "Học sinh", "teachers": "Giáo viên", "classes": "Lớp", "assignments": "Phân công"}
CREDENTIAL_HEADERS = ["Lớp", "Họ và tên", "Tên đăng nhập", "Mật khẩu"]


class RollsQuery(BaseModel):
    school_year_id: Id | None = Field(default=None, description="The school year (default: the current one).")


class CredentialIn(Input):
    class_name: Annotated[str, StringConstraints(max_length=32), AfterValidator(_no_controls)] | None = None
    full_name: Name
    username: Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_no_controls)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_no_controls)]


class CredentialsIn(Input):
    credentials: list[CredentialIn] = Field(min_length=1, max_length=MAX_ROWS)


def _too_large() -> ApiError:
    params = {"max_mb": MAX_BYTES // (1024 * 1024)}
    return ApiError(413, "payload_too_large", "the file is too large",
                    fields=[{"field": "file", "code": "rolls_file_too_large", "params": params,
                             "message": "the file is too large"}])


async def _upload(request: web.Request) -> tuple[bytes, str]:
    """The multipart field `file`: its bytes (at most MAX_BYTES) and its name."""
    if request.content_type != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "send the file as multipart/form-data, field `file`")
    if (request.content_length or 0) > MAX_BYTES + MULTIPART_OVERHEAD:
        raise _too_large()
    ensure_free("reading an uploaded file")
    data: bytes | None = None
    filename = ""
    try:
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name != "file" or data is not None:
                continue
            filename = "".join(ch for ch in (part.filename or "") if ch.isprintable())[-200:]
            chunks, size = [], 0
            while chunk := await part.read_chunk(CHUNK):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise _too_large()
                chunks.append(chunk)
            data = b"".join(chunks)
    except ApiError:
        raise
    except (ValueError, AssertionError, KeyError, UnicodeError) as exc:
        raise ApiError(400, "bad_request", "the body is not valid multipart/form-data") from exc
    if data is None:
        raise ApiError(422, "validation_error", "choose a file",
                       fields=[{"field": "file", "code": "required", "message": "choose a file"}])
    return data, filename


async def _sheet(call: Call) -> tuple[Kind, Sheet, str]:
    kind: Kind = call.request.match_info["kind"]  # type: ignore[assignment]  (the route admits KINDS only)
    data, filename = await _upload(call.request)
    sheet = await asyncio.to_thread(read_sheet, kind, data, filename)
    return kind, sheet, filename


def _lang(call: Call) -> str:
    return catalogue.negotiate(call.request.headers.get("Accept-Language"))


def _rejected(plan: rolls.Plan, lang: str) -> web.Response:
    preview = plan.preview(lang)
    n = preview.counts["problems"]
    body: dict[str, Any] = {
        "error": {"code": "validation_error", "reason": "rolls_has_problems",
                  "message": catalogue.text("rolls_has_problems", lang, {"n": n}) or "the file has problems"},
        **preview.model_dump(mode="json")}
    return web.json_response(body, status=422, dumps=lambda v: json.dumps(v, ensure_ascii=False))


def register(api: Api) -> None:
    async def preview_rolls(call: Call) -> rolls.RollsPreview:
        kind, sheet, _ = await _sheet(call)
        async with call.db.session() as session:
            plan = await rolls.plan(session, call.user, kind, sheet, call.query.school_year_id)
        return plan.preview(_lang(call))

    async def import_rolls(call: Call) -> rolls.RollsImported | web.Response:
        kind, sheet, filename = await _sheet(call)
        try:
            return await rolls.run_import(call.db, call.user, kind, sheet, school_year_id=call.query.school_year_id,
                                          filename=filename)
        except rolls.RollsRejected as exc:
            return _rejected(exc.plan, _lang(call))

    upload_note = (" The file is the multipart/form-data field `file`: XLSX (first sheet) or CSV (UTF-8, with or "
                   f"without a byte-order mark; comma, semicolon or tab), at most {MAX_BYTES // (1024 * 1024)} MB "
                   f"and {MAX_ROWS} rows. The first row holds the headers (Vietnamese, or English aliases): "
                   "students `Họ và tên | Lớp | Tên đăng nhập (optional) | Ngày sinh (optional)`; teachers "
                   "`Họ và tên | Tên đăng nhập (optional) | Tổ chuyên môn (optional; several separated by ;)`; "
                   "classes `Tên lớp | Khối | GVCN (username, optional)`; assignments `Lớp | Môn | Giáo viên "
                   "(username)`. A file that cannot be read: 422 with the field `file` and its reason.")
    api.endpoints.append(Endpoint(
        method="POST", path=rf"/api/rolls/{{kind:{KIND_PATTERN}}}/preview", handler=preview_rolls, tag="rolls",
        summary="Check a rolls spreadsheet row by row (nothing written)", response=rolls.RollsPreview,
        query=RollsQuery, roles=ADMIN, errors=(413, 415, 422), media_type="multipart/form-data",
        unit_of_work=False, streamed=True,
        description="Each row with its values, its problems (in the asker's language) and what an import would "
        "do with it: create, or skip (the same person, class or assignment is already there)." + upload_note))
    api.endpoints.append(Endpoint(
        method="POST", path=rf"/api/rolls/{{kind:{KIND_PATTERN}}}/import", handler=import_rolls, tag="rolls",
        summary="Import a rolls spreadsheet, all or nothing", response=rolls.RollsImported, status=201,
        query=RollsQuery, roles=ADMIN, errors=(409, 413, 415, 422), unit_of_work=False, streamed=True,
        description="When any row has a problem: 422 with reason `rolls_has_problems` and the preview's `rows` "
        "and `counts` beside the error, and nothing written. Otherwise every row is written in one unit of work "
        "with one audit entry; new accounts get a generated username when none is given (ASCII from the name: "
        "'Nguyễn Văn An' -> 'an.nv', then 'an.nv2') and a random initial password, returned once in "
        "`credentials`, that must be changed at the first sign-in." + upload_note))

    @api.route("GET", rf"/api/rolls/{{kind:{KIND_PATTERN}}}.{{fmt:xlsx|csv}}", summary="Export the rolls",
               tag="rolls", query=RollsQuery, roles=ADMIN,
               description="The school year's students, the teachers, classes or teaching assignments, in the "
               "shape the import reads (an exported file previews as all 'skip').")
    async def export_rolls(call: Call) -> web.Response:
        kind: Kind = call.request.match_info["kind"]  # type: ignore[assignment]
        headers, rows, year = await rolls.export_rows(call.session, call.user, kind, call.query.school_year_id)
        name = FILE_NAMES[kind] + (f"-{year}" if year else "")
        return export(headers, rows, call.request.match_info["fmt"], name, TITLES[kind])

    @api.route("POST", "/api/rolls/credentials.xlsx", summary="The new accounts' passwords as a workbook",
               tag="rolls", body=CredentialsIn, roles=ADMIN,
               description="The credentials an import returned (class, name, username, initial password), "
               "sorted by class and name, as an XLSX to print or hand out. Nothing is stored; cells are "
               "formula-safe.")
    async def credentials_workbook(call: Call) -> web.Response:
        items = sorted(call.body.credentials, key=lambda c: (c.class_name or "", c.full_name, c.username))
        rows: list[list[object]] = [[c.class_name or "", c.full_name, c.username, c.password] for c in items]
        response = export(CREDENTIAL_HEADERS, rows, "xlsx", "tai-khoan-moi", "Tài khoản")
        response.headers["Cache-Control"] = "no-store"
        return response
