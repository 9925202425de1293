"""Parents: accounts made by the school or joined with an invitation code; a parent sees their own
children only, and every other endpoint of the API refuses a parent or answers nothing."""
from __future__ import annotations

import re
from typing import Any

import pytest
from aiortc import RTCPeerConnection
from aiohttp.test_utils import TestClient

from school.demo import DemoSchool
from signaling.client import LessonClient, ProtocolError
from tests.conftest import LiveServer, Login
from web.api import build_api

PARENT_PASSWORD = "phuhuynh-mat-khau-1"


async def student_ids(client: TestClient, admin: dict[str, str]) -> dict[str, int]:
    response = await client.get("/api/users", params={"role": "student"}, headers=admin)
    assert response.status == 200
    return {u["username"]: u["id"] for u in (await response.json())["items"]}


async def make_parent(client: TestClient, admin: dict[str, str], username: str, children: list[int],
                      email: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"username": username, "password": PARENT_PASSWORD, "full_name": "Lê Thị Hoa",
                            "student_ids": children}
    if email:
        body["email"] = email
    response = await client.post("/api/parents", json=body, headers=admin)
    assert response.status == 201, await response.text()
    return await response.json()


async def test_a_parent_sees_their_own_child_only(client: TestClient, demo: DemoSchool, login: Login) -> None:
    admin = await login(demo.admin)
    ids = await student_ids(client, admin)
    an, binh = ids["hs.an"], ids["hs.binh"]
    created = await make_parent(client, admin, "ph.an", [an])
    assert [c["id"] for c in created["children"]] == [an] and created["children"][0]["class_name"] == demo.class_name
    parent = await login(("ph.an", PARENT_PASSWORD))

    me = await (await client.get("/api/me", headers=parent)).json()
    assert me["user"]["role"] == "parent"
    children = await (await client.get("/api/parent/children", headers=parent)).json()
    assert [c["id"] for c in children["items"]] == [an]

    overview = await client.get(f"/api/parent/children/{an}", headers=parent)
    assert overview.status == 200
    data = await overview.json()
    assert data["child"]["full_name"] == "Lê Văn An"
    assert demo.lesson_id in [lesson["lesson_id"] for lesson in data["lessons"]]
    assert all(lesson["attendance"] == "not_yet" for lesson in data["lessons"]), "no room opened yet: nobody absent"

    refused = await client.get(f"/api/parent/children/{binh}", headers=parent)
    assert refused.status == 403
    assert (await client.get("/api/parent/children/999999", headers=parent)).status == 404
    # Others have no parent pages: a student is refused the list; an admin may look at any child.
    student = await login(demo.students[0])
    assert (await client.get("/api/parent/children", headers=student)).status == 403
    assert (await client.get(f"/api/parent/children/{binh}", headers=admin)).status == 200
    # A parent cannot make parents nor link themselves to another child.
    assert (await client.post(f"/api/parents/{created['id']}/children", json={"student_id": binh},
                              headers=parent)).status == 403
    assert (await client.post(f"/api/students/{binh}/parent-invites", headers=parent)).status == 403


async def test_invitation_codes_join_and_link(client: TestClient, demo: DemoSchool, login: Login) -> None:
    admin = await login(demo.admin)
    teacher = await login(demo.teacher)
    ids = await student_ids(client, admin)
    invite = await client.post(f"/api/students/{ids['hs.binh']}/parent-invites", headers=admin)
    assert invite.status == 201
    code = (await invite.json())["code"]
    assert re.fullmatch(r"[A-Z2-9]{10}", code)

    join = {"code": code.lower(), "username": "ph.binh", "password": PARENT_PASSWORD, "full_name": "Phạm Văn Hải"}
    joined = await client.post("/api/parent/join", json=join)
    assert joined.status == 201, await joined.text()
    again = await client.post("/api/parent/join", json={**join, "username": "ph.binh2"},
                              headers={"Accept-Language": "vi"})
    assert again.status == 422
    error = await again.json()
    assert "Mã mời không hợp lệ" in str(error), error
    bogus = await client.post("/api/parent/join", json={**join, "code": "ZZZZZZZZZZ", "username": "ph.x"})
    assert bogus.status == 422
    hostile = await client.post("/api/parent/join", json={**join, "code": "<script>", "username": "ph.y"})
    assert hostile.status == 422

    parent = await login(("ph.binh", PARENT_PASSWORD))
    kids = await (await client.get("/api/parent/children", headers=parent)).json()
    assert [c["id"] for c in kids["items"]] == [ids["hs.binh"]]

    # The class's teacher gives a code for another child; the signed-in parent links it.
    second = await client.post(f"/api/students/{ids['hs.chi']}/parent-invites", headers=teacher)
    assert second.status == 201
    linked = await client.post("/api/parent/link", json={"code": (await second.json())["code"]}, headers=parent)
    assert linked.status == 200, await linked.text()
    assert sorted(c["id"] for c in (await linked.json())["children"]) == sorted([ids["hs.binh"], ids["hs.chi"]])
    assert (await client.get(f"/api/parent/children/{ids['hs.an']}", headers=parent)).status == 403

    student = await login(demo.students[0])
    assert (await client.post(f"/api/students/{ids['hs.binh']}/parent-invites", headers=student)).status == 403
    listed = await (await client.get("/api/parents", headers=admin)).json()
    assert [p["username"] for p in listed["items"]] == ["ph.binh"]
    assert (await client.get("/api/parents", headers=parent)).status == 403


ALLOWED = {
    ("GET", "/api/me"), ("POST", "/api/auth/logout"), ("POST", "/api/auth/password"), ("GET", "/api/auth/sessions"),
    ("DELETE", "/api/auth/sessions/{id}"), ("POST", "/api/auth/login"), ("GET", "/api/catalogue"),
    ("GET", "/api/notices"), ("POST", "/api/notices/read"),
    ("GET", "/api/parent/children"), ("GET", "/api/parent/children/{id}"), ("POST", "/api/parent/link"),
    ("POST", "/api/parent/join"), ("GET", "/api/students/{id}/results"),
}
"""A parent's own endpoints (checked on their own in the tests above)."""
REFUSED = {400, 401, 403, 404, 405, 409, 415, 422}
SCHOOL_FACTS = {"/api/school-years", "/api/grades", "/api/subjects", "/api/school/periods"}
"""The school's calendar and subjects, the same for everyone (students read them too): no person in them."""


def _empty(value: Any) -> bool:
    """Nothing of anyone: empty lists (at any depth) and no names."""
    if isinstance(value, list):
        return not value
    if isinstance(value, dict):
        return all(_empty(v) or not isinstance(v, (list, dict)) for v in value.values()) and not any(
            isinstance(v, list) and v for v in value.values())
    return True


async def test_every_other_endpoint_refuses_a_parent(client: TestClient, demo: DemoSchool, login: Login) -> None:
    admin = await login(demo.admin)
    ids = await student_ids(client, admin)
    await make_parent(client, admin, "ph.an", [ids["hs.an"]])
    parent = await login(("ph.an", PARENT_PASSWORD))
    other = ids["hs.binh"]  # never the parent's child
    tried, answered = 0, []
    for endpoint in build_api().endpoints:
        if (endpoint.method, endpoint.openapi_path) in ALLOWED or endpoint.public:
            continue
        path = endpoint.path
        for name in endpoint.path_params:
            value = demo.lesson_id if path.startswith("/api/lessons") else (
                demo.class_id if path.startswith("/api/classes") else other)
            path = re.sub(r"\{" + name + r"(:[^}]+)?\}", str(value), path)
        response = await client.request(endpoint.method, path, headers=parent, json={})
        tried += 1
        if response.status in REFUSED:
            continue
        body = await response.read()
        content_type = response.headers.get("Content-Type", "")
        if response.status == 200 and content_type.startswith("application/json"):
            data = await response.json()
            if path in SCHOOL_FACTS and "full_name" not in body.decode() and "username" not in body.decode():
                continue
            if path == "/api/timetable/week" and data["blocks"] == []:
                continue
            if _empty(data):
                continue
        answered.append((endpoint.method, path, response.status, body[:200]))
    assert tried > 60, "the whole API was tried"
    assert answered == [], answered


async def test_a_parent_cannot_enter_a_lesson_live(live_server: LiveServer, demo: DemoSchool, login: Login) -> None:
    client = live_server.client
    admin = await login(demo.admin)
    ids = await student_ids(client, admin)
    await make_parent(client, admin, "ph.an", [ids["hs.an"]])
    parent = await login(("ph.an", PARENT_PASSWORD))
    peer = LessonClient(live_server.url, demo.lesson_id, parent["Authorization"].removeprefix("Bearer "))
    try:
        with pytest.raises(ProtocolError) as refused:
            await peer.connect()
        assert refused.value.code in ("forbidden", "not_found")
    finally:
        await peer.close(leave=False)
    pc = RTCPeerConnection()
    pc.addTransceiver("audio", direction="sendrecv")
    pc.addTransceiver("video", direction="sendrecv")
    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription.sdp
    await pc.close()
    for media in ("whip", "whep"):
        response = await client.post(f"/api/lessons/{demo.lesson_id}/{media}", data=offer,
                                     headers={**parent, "Content-Type": "application/sdp"})
        assert response.status in (403, 404), (media, response.status)


async def test_guessing_codes_is_slowed_and_hostile_input_refused(client: TestClient, demo: DemoSchool,
                                                                 login: Login) -> None:
    admin = await login(demo.admin)
    ids = await student_ids(client, admin)
    await make_parent(client, admin, "ph.an", [ids["hs.an"]])
    parent = await login(("ph.an", PARENT_PASSWORD))
    statuses = [(await client.post("/api/parent/link", json={"code": f"WRONG{n:05d}"}, headers=parent)).status
                for n in range(12)]
    assert statuses[0] == 422 and statuses[-1] == 429, statuses
    # Hostile or wrong input: typed refusals, nothing half-written.
    for bad in ({"username": "ph.x", "password": "short", "full_name": "X", "student_ids": [ids["hs.an"]]},
                {"username": "ph.x", "password": PARENT_PASSWORD, "full_name": "X", "student_ids": []},
                {"username": "ph.x", "password": PARENT_PASSWORD, "full_name": "X", "student_ids": [999999]},
                {"username": "ph.x", "password": PARENT_PASSWORD, "full_name": "X", "student_ids": [ids["hs.an"]],
                 "email": "<script>@x"},
                {"username": "ph.x", "password": PARENT_PASSWORD, "full_name": "X", "student_ids": ["1"]},
                {"username": "ph.x", "password": PARENT_PASSWORD, "full_name": "X" * 5000,
                 "student_ids": [ids["hs.an"]]}):
        assert (await client.post("/api/parents", json=bad, headers=admin)).status == 422, bad
    assert (await client.post("/api/parents", headers=admin, json={
        "username": "ph.an", "password": PARENT_PASSWORD, "full_name": "X", "student_ids": [ids["hs.an"]]})).status == 409
    html = await client.post("/api/parents", headers=admin, json={
        "username": "ph.html", "password": PARENT_PASSWORD, "full_name": "<b>Bà</b> Hoa", "student_ids": [ids["hs.an"]]})
    assert (await html.json())["full_name"] == "<b>Bà</b> Hoa", "kept as plain text (pages show it as text)"
    listed = await (await client.get("/api/parents", headers=admin)).json()
    assert sorted(p["username"] for p in listed["items"]) == ["ph.an", "ph.html"]
