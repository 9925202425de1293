"""The timetable: periods, a term of weekly lessons generated all or nothing, exceptions (move,
cancel, make-up, substitute) with their notices, the rules (school year, assignment, clashes named in
Vietnamese), the week view and teachers' change requests."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from school.audit import AuditEntry
from school.models import Lesson
from signaling.admission import admit
from signaling.errors import LessonEnded
from web.keys import DATABASE

VI = {"Accept-Language": "vi"}


@dataclass
class Term:
    year_id: int
    class_id: int
    other_class_id: int
    math: int
    literature: int
    teacher_id: int
    substitute_id: int
    student_id: int
    teacher: dict[str, str]
    substitute: dict[str, str]
    student: dict[str, str]


@pytest.fixture
async def term(client, admin, login, demo) -> Term:
    """A school year 2040-2041 with class 11B2 (one demo student) and 11B3, both taught Toán and
    Ngữ văn by the demo teacher; a second teacher assigned nothing."""
    subjects = {s["name"]: s["id"] for s in (await (await client.get("/api/subjects", headers=admin)).json())["items"]}
    teacher = await login(demo.teacher)
    teacher_id = (await (await client.get("/api/me", headers=teacher)).json())["user"]["id"]
    student = await login(demo.students[0])
    student_id = (await (await client.get("/api/me", headers=student)).json())["user"]["id"]
    year = await (await client.post("/api/school-years", headers=admin, json={
        "name": "2040-2041", "starts_on": "2040-09-01", "ends_on": "2041-05-31"})).json()
    classes = []
    for name in ("11B2", "11B3"):
        cls = await (await client.post("/api/classes", headers=admin, json={
            "name": name, "grade": 11, "school_year_id": year["id"]})).json()
        classes.append(cls["id"])
        for subject in (subjects["Toán"], subjects["Ngữ văn"]):
            response = await client.post("/api/assignments", headers=admin, json={
                "teacher_id": teacher_id, "class_id": cls["id"], "subject_id": subject})
            assert response.status == 201, await response.text()
    enrolled = await client.post(f"/api/classes/{classes[0]}/students", headers=admin, json={"user_ids": [student_id]})
    assert enrolled.status in (200, 201), await enrolled.text()
    other = await (await client.post("/api/users", headers=admin, json={
        "username": "gv.hoa", "password": "mat-khau-123", "full_name": "Đỗ Thị Hoa", "role": "teacher"})).json()
    return Term(year["id"], classes[0], classes[1], subjects["Toán"], subjects["Ngữ văn"], teacher_id, other["id"],
                student_id, teacher, await login(("gv.hoa", "mat-khau-123")), student)


def entry(term: Term, **extra):
    return {"class_id": term.class_id, "subject_id": term.math, "teacher_id": term.teacher_id, "weekday": 1,
            "period_from": 1, "period_to": 2, **extra}


async def generate(client, admin, term, entries, *, dry_run=False, start="2040-09-03", end="2040-12-28",
                   headers=None):
    return await client.post("/api/timetable/generate", headers={**admin, **(headers or {})}, json={
        "school_year_id": term.year_id, "from": start, "to": end, "entries": entries, "dry_run": dry_run})


async def lesson_count(app) -> int:
    async with app[DATABASE].session() as session:
        return await session.scalar(select(func.count()).select_from(Lesson))


async def audit_actions(app, entity: str) -> list[str]:
    async with app[DATABASE].session() as session:
        return list(await session.scalars(select(AuditEntry.action).where(AuditEntry.entity == entity)
                                          .order_by(AuditEntry.id)))


async def week(client, headers, date, **query):
    response = await client.get("/api/timetable/week", headers=headers, params={"date": date, **query})
    assert response.status == 200, await response.text()
    return await response.json()


# --- periods --------------------------------------------------------------------------------------
async def test_periods_default_then_set_without_overlaps(client, app, admin, term):
    got = await (await client.get("/api/school/periods", headers=term.teacher)).json()
    assert got["is_default"] is True
    numbers = {p["number"]: p for p in got["periods"]}
    assert sorted(numbers) == list(range(1, 11))
    assert (numbers[1]["session"], numbers[1]["starts"], numbers[1]["ends"]) == ("morning", "07:00", "07:45")
    assert (numbers[6]["session"], numbers[6]["starts"]) == ("afternoon", "13:30")
    for a, b in zip(got["periods"], got["periods"][1:]):
        assert a["ends"] <= b["starts"]

    overlap = await client.put("/api/school/periods", headers={**admin, **VI}, json={"periods": [
        {"number": 1, "session": "morning", "starts": "07:00", "ends": "07:45"},
        {"number": 2, "session": "morning", "starts": "07:40", "ends": "08:25"}]})
    assert overlap.status == 422
    field = (await overlap.json())["error"]["fields"][0]
    assert (field["field"], field["code"]) == ("periods[1].starts", "period_overlap")
    assert field["message"] == "Tiết 2 trùng giờ với tiết 1."
    bad_time = await client.put("/api/school/periods", headers=admin, json={"periods": [
        {"number": 1, "session": "morning", "starts": "25:00", "ends": "07:45"}]})
    assert bad_time.status == 422
    assert (await client.put("/api/school/periods", headers=term.teacher, json={"periods": [
        {"number": 1, "session": "morning", "starts": "07:00", "ends": "07:45"}]})).status == 403

    new = [{"number": 1, "session": "morning", "starts": "07:15", "ends": "08:00"},
           {"number": 2, "session": "morning", "starts": "08:05", "ends": "08:50"}]
    saved = await client.put("/api/school/periods", headers=admin, json={"periods": new})
    assert saved.status == 200, await saved.text()
    got = await (await client.get("/api/school/periods", headers=admin)).json()
    assert (got["is_default"], got["periods"]) == (False, new)
    assert await audit_actions(app, "period") == ["update"]


# --- a term of weekly lessons ---------------------------------------------------------------------
async def test_generate_a_term_dry_run_then_for_real(client, app, admin, term):
    entries = [entry(term), entry(term, subject_id=term.literature, weekday=3, period_from=3, period_to=3)]
    before = await lesson_count(app)
    preview = await generate(client, admin, term, entries, dry_run=True)
    assert preview.status == 200, await preview.text()
    body = await preview.json()
    # 2040-09-03 (Monday) to 2040-12-28 (Friday): 17 Mondays and 17 Wednesdays.
    assert (body["lessons"], body["series"], body["clashes"]) == (34, 2, [])
    assert await lesson_count(app) == before

    done = await generate(client, admin, term, entries)
    assert done.status == 200, await done.text()
    assert (await done.json())["lessons"] == 34
    assert await lesson_count(app) == before + 34
    assert await audit_actions(app, "lesson_series") == ["generate"]

    shown = await week(client, admin, "2040-09-05", class_id=term.class_id)
    assert shown["monday"] == "2040-09-03" and len(shown["days"]) == 7 and len(shown["periods"]) == 10
    blocks = {(b["starts_at"], b["subject_name"]): b for b in shown["blocks"]}
    # Tiết 1–2 on Monday: 07:00–08:35 in Hà Nội; tiết 3 on Wednesday 08:45–09:30.
    monday = blocks[("2040-09-03T00:00:00Z", "Toán")]
    assert (monday["ends_at"], monday["period_from"], monday["period_to"]) == ("2040-09-03T01:35:00Z", 1, 2)
    assert (monday["class_name"], monday["teacher_name"], monday["status"]) == (
        "11B2", "Nguyễn Thị Lan", "upcoming")
    assert monday["series_id"] is not None
    wednesday = blocks[("2040-09-05T01:45:00Z", "Ngữ văn")]
    assert wednesday["ends_at"] == "2040-09-05T02:30:00Z"
    by_teacher = await week(client, admin, "2040-09-05", teacher_id=term.teacher_id)
    assert {b["id"] for b in shown["blocks"]} <= {b["id"] for b in by_teacher["blocks"]}
    # The student of 11B2 and the teacher see the week too.
    assert len((await week(client, term.student, "2040-09-05"))["blocks"]) == 2


async def test_generating_a_clash_is_refused_whole_and_named(client, app, admin, term):
    assert (await generate(client, admin, term, [entry(term)])).status == 200
    before = await lesson_count(app)
    again = [entry(term, weekday=2), entry(term, subject_id=term.literature, period_from=2, period_to=2)]
    preview = await (await generate(client, admin, term, again, dry_run=True, headers=VI)).json()
    assert preview["lessons"] == 34 and len(preview["clashes"]) == 17
    first = preview["clashes"][0]
    assert (first["entry"], first["date"], first["reason"]) == (1, "2040-09-03", "class_busy")
    assert first["message"] == "Lớp 11B2 đã có tiết Toán (GV Nguyễn Thị Lan) lúc 07:00 thứ Hai 03/09."

    refused = await generate(client, admin, term, again, headers=VI)
    assert refused.status == 409
    error = (await refused.json())["error"]
    assert error["reason"] == "class_busy" and "Lớp 11B2 đã có tiết Toán" in error["message"]
    assert await lesson_count(app) == before  # not even the Tuesdays of the first entry

    # The same teacher in another class at the same time.
    busy = await generate(client, admin, term, [entry(term, class_id=term.other_class_id)])
    assert busy.status == 409
    error = (await busy.json())["error"]
    assert error["reason"] == "teacher_busy"
    assert "Nguyễn Thị Lan" in error["message"] and "11B2" in error["message"]


async def test_outside_the_year_and_not_assigned_are_refused(client, admin, term, demo):
    outside = await generate(client, admin, term, [entry(term)], end="2041-09-30", headers=VI)
    assert outside.status == 422
    field = (await outside.json())["error"]["fields"][0]
    assert (field["field"], field["code"]) == ("to", "range_outside_year")
    assert "2040-2041" in field["message"]

    lesson = {"class_id": term.class_id, "subject_id": term.math, "teacher_id": term.teacher_id, "title": "Toán",
              "starts_at": "2041-08-06T07:00:00", "ends_at": "2041-08-06T07:45:00"}
    response = await client.post("/api/lessons", headers={**admin, **VI}, json=lesson)
    assert response.status == 422
    field = (await response.json())["error"]["fields"][0]
    assert (field["field"], field["code"]) == ("starts_at", "lesson_outside_year")
    assert field["message"].startswith("Ngày 06/08/2041 nằm ngoài năm học 2040-2041 của lớp 11B2")

    unassigned = await client.post("/api/lessons", headers={**admin, **VI}, json={
        **lesson, "starts_at": "2040-10-01T07:00:00", "ends_at": "2040-10-01T07:45:00",
        "teacher_id": term.substitute_id})
    assert unassigned.status == 422
    field = (await unassigned.json())["error"]["fields"][0]
    assert (field["field"], field["code"]) == ("teacher_id", "teacher_not_assigned")
    assert field["message"] == "GV Đỗ Thị Hoa chưa được phân công dạy Toán lớp 11B2."
    in_generator = await generate(client, admin, term, [entry(term, teacher_id=term.substitute_id)])
    assert (await in_generator.json())["error"]["fields"][0]["field"] == "entries[0].teacher_id"
    other_year = await generate(client, admin, term, [entry(term, class_id=demo.class_id)])
    assert (await other_year.json())["error"]["fields"][0]["code"] == "class_not_in_year"
    bad_periods = await generate(client, admin, term, [entry(term, period_from=5, period_to=6)])
    assert (await bad_periods.json())["error"]["fields"][0]["code"] == "period_sessions"


# --- exceptions -----------------------------------------------------------------------------------
async def _first_lessons(client, admin, term) -> list[dict]:
    assert (await generate(client, admin, term, [entry(term), entry(term, weekday=2)],
                           end="2040-09-16")).status == 200
    return (await week(client, admin, "2040-09-03", class_id=term.class_id))["blocks"]


async def test_move_by_periods_is_noticed_by_class_and_teacher(client, app, admin, term, demo):
    monday, tuesday = await _first_lessons(client, admin, term)
    moved = await client.post(f"/api/lessons/{monday['id']}/move", headers=admin, json={
        "date": "2040-09-06", "period_from": 4, "period_to": 5, "note": "Hội thao"})
    assert moved.status == 200, await moved.text()
    body = await moved.json()
    assert (body["starts_at"], body["ends_at"], body["period_from"]) == ("2040-09-06T02:35:00Z",
                                                                         "2040-09-06T04:10:00Z", 4)
    (change,) = body["changes"]
    assert change["kind"] == "move" and change["note"] == "Hội thao"
    assert change["before"]["starts_at"] == "2040-09-03T00:00:00+00:00"
    assert change["after"]["starts_at"] == "2040-09-06T02:35:00+00:00"
    for who in (term.student, term.teacher):
        listed = await (await client.get("/api/me/lessons", headers=who, params={
            "from": "2040-09-03", "to": "2040-09-09"})).json()
        notice = next(item for item in listed["items"] if item["id"] == monday["id"])
        assert notice["changes"][0]["kind"] == "move"
    assert "move" in await audit_actions(app, "lesson")

    into_clash = await client.post(f"/api/lessons/{tuesday['id']}/move", headers={**admin, **VI}, json={
        "starts_at": "2040-09-06T10:00:00", "ends_at": "2040-09-06T10:30:00"})
    assert into_clash.status == 409
    error = (await into_clash.json())["error"]
    assert error["reason"] == "class_busy"
    assert error["message"] == "Lớp 11B2 đã có tiết Toán (GV Nguyễn Thị Lan) lúc 09:35 thứ Năm 06/09."
    # A lesson that has taken place stays where it was.
    now = datetime.now(UTC).replace(microsecond=0)
    past = await (await client.post("/api/lessons", headers=admin, json={
        "class_id": demo.class_id, "subject_id": term.math, "teacher_id": term.teacher_id, "title": "Toán",
        "starts_at": (now - timedelta(hours=3)).isoformat(), "ends_at": (now - timedelta(hours=2)).isoformat()})).json()
    held = await client.post(f"/api/lessons/{past['id']}/move", headers={**admin, **VI}, json={
        "starts_at": (now + timedelta(days=1)).isoformat(), "ends_at": (now + timedelta(days=1, hours=1)).isoformat()})
    assert held.status == 409
    assert (await held.json())["error"]["message"] == "Tiết học đã diễn ra, không thể thay đổi."
    neither = await client.post(f"/api/lessons/{tuesday['id']}/move", headers=admin, json={"note": "x"})
    assert neither.status == 422
    outside = await client.post(f"/api/lessons/{tuesday['id']}/move", headers=admin, json={
        "date": "2041-06-10", "period_from": 1})
    assert (await outside.json())["error"]["fields"][0]["field"] == "date"


async def test_cancel_then_make_up(client, app, admin, term):
    monday, tuesday = await _first_lessons(client, admin, term)
    early = await client.post(f"/api/lessons/{monday['id']}/makeup", headers=admin, json={
        "date": "2040-09-08", "period_from": 1})
    assert early.status == 409 and (await early.json())["error"]["reason"] == "lesson_not_cancelled"
    cancelled = await client.post(f"/api/lessons/{monday['id']}/cancel", headers=admin, json={"reason": "Bão"})
    assert cancelled.status == 200, await cancelled.text()
    body = await cancelled.json()
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "Bão")
    assert body["ended_at"] is not None and body["live_open"] is False
    assert body["changes"][0]["kind"] == "cancel"
    listed = await (await client.get("/api/me/lessons", headers=term.student, params={
        "from": "2040-09-03", "to": "2040-09-09"})).json()
    assert next(i for i in listed["items"] if i["id"] == monday["id"])["status"] == "cancelled"
    async with app[DATABASE].session() as session:
        with pytest.raises(LessonEnded):
            await admit(session, term.teacher_id, monday["id"], now=None)
    twice = await client.post(f"/api/lessons/{monday['id']}/cancel", headers=admin, json={"reason": "Bão"})
    assert twice.status == 409 and (await twice.json())["error"]["reason"] == "lesson_cancelled"
    blank = await client.post(f"/api/lessons/{tuesday['id']}/cancel", headers=admin, json={"reason": "  "})
    assert blank.status == 422

    # Its time is free again: the make-up may even take the same slot of another day.
    makeup = await client.post(f"/api/lessons/{monday['id']}/makeup", headers=admin, json={
        "date": "2040-09-08", "period_from": 1, "period_to": 2})
    assert makeup.status == 201, await makeup.text()
    new = await makeup.json()
    assert (new["makeup_of"], new["starts_at"], new["status"]) == (monday["id"], "2040-09-08T00:00:00Z", "upcoming")
    assert new["changes"][0]["kind"] == "makeup"
    assert new["changes"][0]["before"]["starts_at"] == "2040-09-03T00:00:00+00:00"
    assert {"cancel", "makeup"} <= set(await audit_actions(app, "lesson"))


async def test_substitute_teacher_sees_it_and_so_does_the_own_teacher(client, app, admin, term):
    monday, _ = await _first_lessons(client, admin, term)
    same = await client.post(f"/api/lessons/{monday['id']}/substitute", headers=admin,
                             json={"teacher_id": term.teacher_id})
    assert same.status == 422 and (await same.json())["error"]["fields"][0]["code"] == "same_teacher"
    swapped = await client.post(f"/api/lessons/{monday['id']}/substitute", headers=admin,
                                json={"teacher_id": term.substitute_id, "note": "Cô Lan đi tập huấn"})
    assert swapped.status == 200, await swapped.text()
    body = await swapped.json()
    assert (body["teacher_name"], body["substitute_for_name"]) == ("Đỗ Thị Hoa", "Nguyễn Thị Lan")
    change = body["changes"][0]
    assert (change["kind"], change["before"]["teacher_name"], change["after"]["teacher_name"]) == (
        "substitute", "Nguyễn Thị Lan", "Đỗ Thị Hoa")
    for who in (term.teacher, term.substitute):
        listed = await (await client.get("/api/me/lessons", headers=who, params={
            "from": "2040-09-03", "to": "2040-09-09"})).json()
        assert monday["id"] in [i["id"] for i in listed["items"]]
    # The substitute enters the room as its teacher... and is busy then.
    clash = await client.post("/api/lessons", headers=admin, json={
        "class_id": term.other_class_id, "subject_id": term.math, "teacher_id": term.teacher_id,
        "title": "Toán", "starts_at": "2040-09-03T07:00:00", "ends_at": "2040-09-03T07:45:00"})
    assert clash.status == 201, "the own teacher is free while a substitute teaches"
    assert "substitute" in await audit_actions(app, "lesson")


async def test_students_and_teachers_may_not_change_the_timetable(client, admin, term, login, demo):
    monday, _ = await _first_lessons(client, admin, term)
    for who in (term.teacher, term.student):
        for path, body in (("move", {"date": "2040-09-06", "period_from": 1}), ("cancel", {"reason": "x"}),
                           ("makeup", {"date": "2040-09-06", "period_from": 1}),
                           ("substitute", {"teacher_id": term.substitute_id})):
            response = await client.post(f"/api/lessons/{monday['id']}/{path}", headers=who, json=body)
            assert response.status == 403, (path, response.status)
        assert (await generate(client, who, term, [entry(term)])).status == 403
    assert (await client.get("/api/timetable/change-requests", headers=term.student)).status == 403
    # Another school's... another class's student does not see 11B2's week.
    other_student = await login(demo.students[1])
    assert (await week(client, other_student, "2040-09-03"))["blocks"] == []
    assert (await client.get("/api/timetable/week", headers=other_student,
                             params={"class_id": term.class_id})).status == 403


# --- teachers' change requests --------------------------------------------------------------------
async def test_teacher_requests_and_admin_decides(client, app, admin, term):
    monday, tuesday = await _first_lessons(client, admin, term)
    asked = await client.post(f"/api/lessons/{monday['id']}/change-requests", headers=term.teacher, json={
        "kind": "move", "note": "Họp tổ", "proposed": {"date": "2040-09-07", "period_from": 1, "period_to": 2}})
    assert asked.status == 201, await asked.text()
    request = await asked.json()
    assert (request["status"], request["kind"], request["lesson"]["id"]) == ("pending", "move", monday["id"])
    no_time = await client.post(f"/api/lessons/{monday['id']}/change-requests", headers=term.teacher,
                                json={"kind": "move"})
    assert no_time.status == 422
    not_mine = await client.post(f"/api/lessons/{monday['id']}/change-requests", headers=term.substitute,
                                 json={"kind": "cancel", "note": "?"})
    assert not_mine.status == 403

    pending = await (await client.get("/api/timetable/change-requests?status=pending", headers=admin)).json()
    assert [r["id"] for r in pending["items"]] == [request["id"]]
    assert (await client.post(f"/api/timetable/change-requests/{request['id']}/approve", headers=term.teacher,
                              json={})).status == 403
    approved = await client.post(f"/api/timetable/change-requests/{request['id']}/approve", headers=admin, json={})
    assert approved.status == 200, await approved.text()
    body = await approved.json()
    assert body["status"] == "approved" and body["lesson"]["starts_at"] == "2040-09-07T00:00:00Z"
    assert body["lesson"]["changes"][0]["kind"] == "move"
    again = await client.post(f"/api/timetable/change-requests/{request['id']}/refuse", headers=admin, json={})
    assert again.status == 409 and (await again.json())["error"]["reason"] == "request_decided"

    cancel = await (await client.post(f"/api/lessons/{tuesday['id']}/change-requests", headers=term.teacher, json={
        "kind": "cancel", "note": "Ốm"})).json()
    refused = await client.post(f"/api/timetable/change-requests/{cancel['id']}/refuse", headers=admin,
                                json={"note": "Đã có GV dạy thay"})
    body = await refused.json()
    assert (body["status"], body["decision_note"], body["lesson"]["status"]) == (
        "refused", "Đã có GV dạy thay", "upcoming")
    mine = await (await client.get("/api/timetable/change-requests", headers=term.teacher)).json()
    assert {r["status"] for r in mine["items"]} == {"approved", "refused"}
    async with app[DATABASE].session() as session:
        summaries = list(await session.scalars(select(AuditEntry.after).where(AuditEntry.entity == "lesson")))
    assert any(json.loads(s or "{}").get("status") == "refused" for s in summaries)


async def test_hostile_input_gets_typed_refusals_and_text_stays_text(client, app, admin, term):
    monday, _ = await _first_lessons(client, admin, term)
    huge = await client.post(f"/api/lessons/{monday['id']}/cancel", headers=admin, json={"reason": "x" * 501})
    assert huge.status == 422
    assert (await huge.json())["error"]["fields"][0]["code"] == "too_long"
    extra = await client.post(f"/api/lessons/{monday['id']}/move", headers=admin, json={
        "date": "2040-09-06", "period_from": 1, "evil": True})
    assert extra.status == 422
    control = await client.post(f"/api/lessons/{monday['id']}/cancel", headers=admin, json={"reason": "Bão\nlũ"})
    assert control.status == 422
    flood = await generate(client, admin, term, [entry(term)] * 301)
    assert flood.status == 422
    assert (await flood.json())["error"]["fields"][0]["field"] == "entries"
    period = await generate(client, admin, term, [entry(term, period_from=11, period_to=11)])
    assert period.status == 422
    weekday = await generate(client, admin, term, [entry(term, weekday=8)])
    assert (await weekday.json())["error"]["fields"][0]["field"] == "entries[0].weekday"
    before = await lesson_count(app)
    markup = "<img src=x onerror=alert(1)>"
    cancelled = await client.post(f"/api/lessons/{monday['id']}/cancel", headers=admin, json={"reason": markup})
    assert cancelled.status == 200
    assert (await cancelled.json())["cancel_reason"] == markup  # stored as typed; pages render it as text
    assert await lesson_count(app) == before
    periods = await client.put("/api/school/periods", headers=admin, json={"periods": [
        {"number": 1, "session": "morning", "starts": "07:00", "ends": "07:45"}] * 11})
    assert periods.status == 422
    twice = await client.put("/api/school/periods", headers=admin, json={"periods": [
        {"number": 1, "session": "morning", "starts": "07:00", "ends": "07:45"},
        {"number": 1, "session": "morning", "starts": "08:00", "ends": "08:45"}]})
    assert (await twice.json())["error"]["fields"][0]["code"] == "period_duplicate"
