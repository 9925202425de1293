"""Polls and quick quizzes over REST: a prepared quiz opened, answered (and changed) by students,
closed, exported per student and published; scoring of every kind (Vietnamese short answers keep
their accents); who may do what; hostile bodies; the database as the truth about a poll's time."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from classroom.polls import Poll
from web.keys import DATABASE

QUIZ = {"question": "Thủ đô của Việt Nam?", "kind": "single", "options": ["Huế", "Hà Nội", "Đà Nẵng"],
        "correct": [1], "points": 2}


async def make_poll(client, headers, lesson_id, body=None, status=201) -> dict[str, Any]:
    response = await client.post(f"/api/lessons/{lesson_id}/polls", headers=headers, json=body or QUIZ)
    assert response.status == status, await response.text()
    return await response.json()


async def answer(client, headers, poll_id, body, status=201) -> dict[str, Any]:
    response = await client.post(f"/api/polls/{poll_id}/answers", headers=headers, json=body)
    assert response.status == status, await response.text()
    return await response.json()


async def step(client, headers, poll_id, what, status=200) -> dict[str, Any]:
    response = await client.post(f"/api/polls/{poll_id}/{what}", headers=headers)
    assert response.status == status, await response.text()
    return await response.json()


async def test_a_prepared_quiz_is_opened_answered_closed_exported_and_published(client, login, demo):
    teacher = await login(demo.teacher)
    an, binh, chi, dung = [await login(s) for s in demo.students]
    poll = await make_poll(client, teacher, demo.lesson_id)
    assert poll["status"] == "draft"  # nobody is in the lesson's room: prepared, not opened
    assert poll["correct"] == [1] and poll["answered"] == 0 and poll["quiz"] is True
    listed = await (await client.get(f"/api/lessons/{demo.lesson_id}/polls", headers=an)).json()
    assert listed["items"] == []  # a draft is the teacher's alone
    await answer(client, an, poll["id"], {"choices": [1]}, status=409)

    opened = await step(client, teacher, poll["id"], "open")
    assert opened["status"] == "open" and opened["closes_at"] is None
    await step(client, teacher, poll["id"], "open", status=409)
    first = await answer(client, an, poll["id"], {"choices": [0]})
    assert first["answer"] == [0] and first["correct"] is None and first["score"] is None  # not published yet
    changed = await answer(client, an, poll["id"], {"choices": [1]})  # changed before the close: this one counts
    assert changed["answered_at"] == first["answered_at"] and changed["updated_at"] >= first["updated_at"]
    await answer(client, binh, poll["id"], {"choices": [2]})
    await answer(client, chi, poll["id"], {"choices": [1]})
    seen = (await (await client.get(f"/api/lessons/{demo.lesson_id}/polls", headers=an)).json())["items"][0]
    assert seen["mine"]["answer"] == [1] and seen["correct"] is None and seen["counts"] is None
    assert seen["answered"] is None
    assert (await client.get(f"/api/polls/{poll['id']}/results", headers=an)).status == 403

    closed = await step(client, teacher, poll["id"], "close")
    assert closed["status"] == "closed" and closed["answered"] == 3 and closed["counts"] == [0, 2, 1]
    await answer(client, dung, poll["id"], {"choices": [1]}, status=409)
    await answer(client, an, poll["id"], {"choices": [0]}, status=409)
    assert (await step(client, teacher, poll["id"], "close"))["status"] == "closed"  # again: nothing changes

    results = await (await client.get(f"/api/polls/{poll['id']}/results", headers=teacher)).json()
    rows = {r["full_name"]: r for r in results["rows"]}
    assert len(rows) == 4
    assert rows["Lê Văn An"] | {"user_id": 0} == {"user_id": 0, "full_name": "Lê Văn An", "answered": True,
                                                   "answer": "Hà Nội", "correct": True, "score": 2.0}
    assert (rows["Phạm Thị Bình"]["answer"], rows["Phạm Thị Bình"]["correct"], rows["Phạm Thị Bình"]["score"]) == (
        "Đà Nẵng", False, 0.0)
    assert rows["Vũ Tiến Dũng"]["answered"] is False and rows["Vũ Tiến Dũng"]["answer"] == ""
    assert (rows["Vũ Tiến Dũng"]["correct"], rows["Vũ Tiến Dũng"]["score"]) == (False, 0.0)
    download = await client.get(f"/api/polls/{poll['id']}/results?format=csv", headers=teacher)
    assert download.status == 200 and download.content_type == "text/csv"
    table = list(csv.reader(io.StringIO((await download.read()).decode("utf-8-sig"))))
    assert table[0] == ["Mã học sinh", "Họ và tên", "Câu trả lời", "Đúng/Sai", "Điểm"]
    assert ["Hoàng Minh Chi", "Hà Nội", "Đúng", "2.0"] in [r[1:] for r in table[1:]]
    assert ["Vũ Tiến Dũng", "", "Sai", "0.0"] in [r[1:] for r in table[1:]]

    mine = await (await client.get("/api/users/me/quiz-results", headers=an)).json()
    assert [(i["question"], i["answer"], i["published"], i["score"]) for i in mine["items"]] == [
        ("Thủ đô của Việt Nam?", "Hà Nội", False, None)]
    published = await step(client, teacher, poll["id"], "publish")
    assert published["published"] is True
    seen = (await (await client.get(f"/api/lessons/{demo.lesson_id}/polls", headers=binh)).json())["items"][0]
    assert seen["correct"] == [1] and seen["counts"] == [0, 2, 1]
    assert (seen["mine"]["answer"], seen["mine"]["correct"], seen["mine"]["score"]) == ([2], False, 0.0)
    mine = await (await client.get("/api/users/me/quiz-results", headers=an)).json()
    assert [(i["lesson_id"], i["points"], i["correct"], i["score"]) for i in mine["items"]] == [
        (demo.lesson_id, 2.0, True, 2.0)]
    assert (await client.get("/api/users/me/quiz-results", headers=teacher)).status == 403


async def test_every_kind_is_scored_and_vietnamese_accents_count(client, login, demo):
    teacher = await login(demo.teacher)
    an, binh = await login(demo.students[0]), await login(demo.students[1])
    polls = {
        "multiple": {"question": "Số nguyên tố?", "kind": "multiple", "options": ["2", "4", "5", "9"],
                     "correct": [2, 0]},
        "true_false": {"question": "Nước sôi ở 100°C?", "kind": "true_false", "correct": [0], "points": 0.5},
        "short": {"question": "Thủ đô?", "kind": "short", "correct": "Hà  Nội"},
        "number": {"question": "0,1 + 0,2 = ?", "kind": "number", "correct": 0.3},
        "opinion": {"question": "Bạn thích môn nào?", "kind": "single", "options": ["Toán", "Văn"]},
    }
    made = {}
    for name, body in polls.items():
        made[name] = await make_poll(client, teacher, demo.lesson_id, body)
        await step(client, teacher, made[name]["id"], "open")
    assert made["true_false"]["options"] == ["Đúng", "Sai"]
    given = {  # (An's answer: right), (Bình's answer: wrong)
        "multiple": ({"choices": [0, 2]}, {"choices": [0]}),
        "true_false": ({"choices": [0]}, {"choices": [1]}),
        "short": ({"text": "  hà   NỘI "}, {"text": "Ha Noi"}),
        "number": ({"number": 0.1 + 0.2}, {"number": 0.31}),
        "opinion": ({"choices": [0]}, {"choices": [1]}),
    }
    for name, (right, wrong) in given.items():
        await answer(client, an, made[name]["id"], right)
        await answer(client, binh, made[name]["id"], wrong)
    for name in polls:
        await step(client, teacher, made[name]["id"], "publish")
        rows = {r["full_name"]: r for r in (await (await client.get(
            f"/api/polls/{made[name]['id']}/results", headers=teacher)).json())["rows"]}
        an_row, binh_row = rows["Lê Văn An"], rows["Phạm Thị Bình"]
        if name == "opinion":  # no correct answer: a poll, not scored
            assert (an_row["correct"], an_row["score"], binh_row["score"]) == (None, None, None)
            assert rows["Vũ Tiến Dũng"]["score"] is None and an_row["answer"] == "Toán"
        else:
            points = polls[name].get("points", 1)
            assert (an_row["correct"], an_row["score"]) == (True, points), name
            assert (binh_row["correct"], binh_row["score"]) == (False, 0.0), name
    rows = {r["full_name"]: r for r in (await (await client.get(
        f"/api/polls/{made['multiple']['id']}/results", headers=teacher)).json())["rows"]}
    assert rows["Lê Văn An"]["answer"] == "2; 5"
    quizzes = (await (await client.get("/api/users/me/quiz-results", headers=an)).json())["items"]
    assert sorted(i["score"] for i in quizzes) == [0.5, 1.0, 1.0, 1.0]  # the opinion poll is not a quiz


async def test_hostile_bodies_are_refused_and_nothing_is_half_written(client, login, demo):
    teacher = await login(demo.teacher)
    an = await login(demo.students[0])
    bad = [
        {**QUIZ, "kind": "essay"},
        {**QUIZ, "correct": [3]},
        {**QUIZ, "correct": [-1]},
        {**QUIZ, "correct": [0, 1]},
        {**QUIZ, "correct": "Hà Nội"},
        {**QUIZ, "options": ["một"]},
        {**QUIZ, "options": [str(i) for i in range(11)]},
        {**QUIZ, "options": ["a" * 201, "b"]},
        {**QUIZ, "options": ["", "b"]},
        {**QUIZ, "question": "x" * 501},
        {**QUIZ, "question": "   "},
        {**QUIZ, "points": 101},
        {**QUIZ, "points": True},
        {**QUIZ, "duration_s": 5},
        {**QUIZ, "duration_s": 4000},
        {**QUIZ, "extra": 1},
        {"question": "?", "kind": "multiple", "options": ["a", "b"], "correct": []},
        {"question": "?", "kind": "true_false", "options": ["Có", "Không"]},
        {"question": "?", "kind": "short", "options": ["a", "b"]},
        {"question": "?", "kind": "short", "correct": 3},
        {"question": "?", "kind": "number", "correct": [1]},
        {"question": "?", "kind": "short", "correct": "<b>" * 300},
    ]
    for body in bad:
        response = await client.post(f"/api/lessons/{demo.lesson_id}/polls", headers=teacher, json=body)
        assert response.status == 422, (body, await response.text())
        assert (await response.json())["error"]["code"] == "validation_error"
    not_json = await client.post(f"/api/lessons/{demo.lesson_id}/polls",
                                 headers={**teacher, "Content-Type": "application/json"}, data=b"{")
    assert not_json.status == 400
    polls = await (await client.get(f"/api/lessons/{demo.lesson_id}/polls", headers=teacher)).json()
    assert polls["items"] == []

    text = await make_poll(client, teacher, demo.lesson_id, {"question": "<script>alert(1)</script>",
                                                           "kind": "short", "correct": "=1+1"})
    assert text["question"] == "<script>alert(1)</script>"  # plain text, kept as typed
    single = await make_poll(client, teacher, demo.lesson_id)
    for poll in (text, single):
        await step(client, teacher, poll["id"], "open")
    for body in ({"choices": [3]}, {"choices": [0, 1]}, {"choices": []}, {"text": "Hà Nội"}, {"number": 1},
                 {"choices": [1], "text": "x"}, {}, {"choices": ["1"]}, {"choices": [1], "extra": 1}):
        response = await client.post(f"/api/polls/{single['id']}/answers", headers=an, json=body)
        assert response.status == 422, (body, await response.text())
    for body in ({"text": "x" * 201}, {"text": "   "}, {"choices": [0]}, {"text": "x" * 100_000}):
        response = await client.post(f"/api/polls/{text['id']}/answers", headers=an, json=body)
        assert response.status in (413, 422), (body, response.status)
    assert (await client.post(f"/api/polls/{single['id']}/answers", headers={**an, "Content-Type": "application/json"},
                              data=b'{"number": NaN}')).status in (400, 422)
    results = await (await client.get(f"/api/polls/{single['id']}/results", headers=teacher)).json()
    assert all(not r["answered"] for r in results["rows"])  # nothing half-written
    await answer(client, an, text["id"], {"text": "=1+1"})
    await step(client, teacher, text["id"], "close")
    download = await client.get(f"/api/polls/{text['id']}/results?format=csv", headers=teacher)
    cells = [r for r in csv.reader(io.StringIO((await download.read()).decode("utf-8-sig")))]
    assert ["Lê Văn An", "'=1+1", "Đúng", "1.0"] in [r[1:] for r in cells]  # never run as a formula
    assert (await client.get(f"/api/polls/{text['id']}/results?format=pdf", headers=teacher)).status == 422
    assert (await client.post("/api/polls/99999/open", headers=teacher)).status == 404
    assert (await client.post("/api/polls/99999999999/answers", headers=an, json={"choices": [0]})).status == 404


async def test_students_and_other_classes_are_refused(client, admin, login, demo):
    teacher = await login(demo.teacher)
    an = await login(demo.students[0])
    poll = await make_poll(client, teacher, demo.lesson_id)
    # A student may not run polls.
    await make_poll(client, an, demo.lesson_id, status=403)
    for what in ("open", "close", "publish"):
        await step(client, an, poll["id"], what, status=403)
    await step(client, teacher, poll["id"], "open")
    assert (await client.get(f"/api/polls/{poll['id']}/results?format=xlsx", headers=an)).status == 403
    # Nor may the teacher or an administrator answer.
    await answer(client, teacher, poll["id"], {"choices": [1]}, status=403)
    await answer(client, admin, poll["id"], {"choices": [1]}, status=403)
    # A student of another class, and another teacher, are refused everywhere.
    cls = await (await client.post("/api/classes", headers=admin, json={"name": "11B2", "grade": 11})).json()
    other = await (await client.post("/api/users", headers=admin, json={
        "username": "hs.khac", "password": "mat-khau-123", "full_name": "Học Sinh Lớp Khác", "role": "student"})).json()
    enrolled = await client.post(f"/api/classes/{cls['id']}/students", headers=admin, json={"user_ids": [other["id"]]})
    assert enrolled.status == 200
    await (await client.post("/api/users", headers=admin, json={
        "username": "gv.khac", "password": "mat-khau-123", "full_name": "Giáo Viên Khác", "role": "teacher"})).json()
    for outsider in (await login(("hs.khac", "mat-khau-123")), await login(("gv.khac", "mat-khau-123"))):
        assert (await client.get(f"/api/lessons/{demo.lesson_id}/polls", headers=outsider)).status == 403
        await make_poll(client, outsider, demo.lesson_id, status=403)
        await answer(client, outsider, poll["id"], {"choices": [1]}, status=403)
        for what in ("open", "close", "publish"):
            await step(client, outsider, poll["id"], what, status=403)
        for fmt in ("json", "csv", "xlsx"):
            assert (await client.get(f"/api/polls/{poll['id']}/results?format={fmt}", headers=outsider)).status == 403
    outsider = await login(("hs.khac", "mat-khau-123"))
    assert (await (await client.get("/api/users/me/quiz-results", headers=outsider)).json())["items"] == []
    polls = await (await client.get(f"/api/lessons/{demo.lesson_id}/polls", headers=teacher)).json()
    assert polls["items"][0]["answered"] == 0 and polls["items"][0]["status"] == "open"  # nothing changed


async def test_a_poll_past_its_time_reads_as_closed_wherever_it_is_read(client, app, login, demo):
    """No room runs the poll's timer (nobody is in the lesson's room): the database still holds
    its closing time, and every read and every answer keeps to it."""
    teacher = await login(demo.teacher)
    an = await login(demo.students[0])
    poll = await make_poll(client, teacher, demo.lesson_id, {**QUIZ, "duration_s": 60})
    opened = await step(client, teacher, poll["id"], "open")
    closes_at = datetime.fromisoformat(opened["closes_at"])
    assert closes_at - datetime.fromisoformat(opened["opened_at"]) == timedelta(seconds=60)
    await answer(client, an, poll["id"], {"choices": [1]})
    past = datetime.now(UTC) - timedelta(seconds=1)

    async def time_passes(session):
        await session.execute(update(Poll).where(Poll.id == poll["id"]).values(closes_at=past))

    await app[DATABASE].writer.write(time_passes)
    seen = (await (await client.get(f"/api/lessons/{demo.lesson_id}/polls", headers=an)).json())["items"][0]
    assert seen["status"] == "closed" and datetime.fromisoformat(seen["closed_at"]) == past
    await answer(client, an, poll["id"], {"choices": [0]}, status=409)
    results = await (await client.get(f"/api/polls/{poll['id']}/results", headers=teacher)).json()
    rows = {r["full_name"]: r["answer"] for r in results["rows"]}
    assert results["poll"]["status"] == "closed" and rows["Lê Văn An"] == "Hà Nội"
