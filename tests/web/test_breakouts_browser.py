"""Group work ("Thảo luận nhóm") in real browsers: the teacher's Chromium makes two groups from the
class by hand, two students' Chromiums (each with a camera clip of its own colour) land in
different groups and see only their own group's tiles, a third student (the Python client, a
green camera) joins a group and one student page decodes its pixels; the teacher's grid shows
both groups with who is present, a call for help and a message; ending brings everyone back."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from playwright.async_api import Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from school.demo import DemoSchool
from signaling.client import LessonClient
from tests.browser import open_browser_page
from tests.conftest import LiveServer, Login
from tests.media import ColourTrack, ToneTrack
from tests.web.test_live_lesson_browser import BLUE_YUV, RED_YUV, WAIT_MS, config, enter_room, poll
from tests.web.test_pages_browser import sign_in
from web.keys import ROOMS

__all__ = ["config"]  # the loopback-only server config of the live lesson tests

GREEN_RGB = (0, 200, 0)


def write_colour_y4m(path: Path, yuv: tuple[int, int, int], size: tuple[int, int] = (320, 240), frames: int = 30) -> Path:
    """A YUV4MPEG2 clip (I420) of one colour, with a small white square moving in the top band
    (so the encoder sees motion), kept away from the sampled middle."""
    width, height = size
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for i in range(frames):
            y = np.full((height, width), yuv[0], np.uint8)
            u = np.full((height // 2, width // 2), yuv[1], np.uint8)
            v = np.full((height // 2, width // 2), yuv[2], np.uint8)
            x = (i * 8) % (width - 16)
            y[:16, x : x + 16] = 235
            u[:8, x // 2 : x // 2 + 8] = 128
            v[:8, x // 2 : x // 2 + 8] = 128
            out.write(b"FRAME\n" + y.tobytes() + u.tobytes() + v.tobytes())
    return path


# The average colour of the middle of the <video> in a participant's tile, or null.
SAMPLE_TILE = """(id) => {
    const video = document.querySelector(`#tiles .tile[data-participant-id="${id}"] video`);
    if (!video || !video.videoWidth || !video.videoHeight) return null;
    const w = video.videoWidth, h = video.videoHeight;
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(video, 0, 0, w, h);
    const data = ctx.getImageData(Math.round(0.2 * w), Math.round(0.3 * h), Math.round(0.6 * w), Math.round(0.5 * h)).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < data.length; i += 4) { sum[0] += data[i]; sum[1] += data[i + 1]; sum[2] += data[i + 2]; }
    const n = data.length / 4;
    return sum.map((s) => Math.round(s / n));
}"""

TILE_IDS = "() => [...document.querySelectorAll('#tiles .tile')].map((el) => el.dataset.participantId).sort()"
INBOUND_FROM = "() => [...new Set((window.lophocStats?.inbound ?? []).map((s) => s.participant_id))]"


def server_rooms(server: LiveServer, lesson_id: int) -> dict[int, str]:
    """user id -> room of every participant the server holds for the lesson."""
    lesson = server.app[ROOMS].rooms[lesson_id]
    return {p.user_id: p.room for p in lesson.participants.values()}


async def participant_id(page: Page) -> str:
    return await poll(page, "() => window.lophocStats?.participant_id")


async def wait_tile_colour(page: Page, pid: str, check: Any, what: str) -> list[int]:
    try:
        return await poll(page, f"(id) => {{ const s = ({SAMPLE_TILE})(id); return s && ({check})(s) ? s : null; }}", arg=pid)
    except PlaywrightTimeout:
        raise AssertionError(f"tile {pid} does not show {what}: {await page.evaluate(SAMPLE_TILE, pid)}; "
                             f"tiles {await page.evaluate(TILE_IDS)}; stats {await page.evaluate('() => window.lophocStats')}") from None


async def test_the_teacher_splits_the_class_into_groups_and_each_student_sees_only_their_group(
    live_server: LiveServer, demo: DemoSchool, login: Login, tmp_path: Path
) -> None:
    teacher_clip = write_colour_y4m(tmp_path / "teacher.y4m", (126, 128, 128))  # grey
    red_clip = write_colour_y4m(tmp_path / "red.y4m", RED_YUV)
    blue_clip = write_colour_y4m(tmp_path / "blue.y4m", BLUE_YUV)
    an, binh, chi = demo.students[0], demo.students[1], demo.students[2]
    async with (
        open_browser_page(extra_args=[f"--use-file-for-fake-video-capture={teacher_clip}"]) as teacher,
        open_browser_page(extra_args=[f"--use-file-for-fake-video-capture={red_clip}"]) as red,
        open_browser_page(extra_args=[f"--use-file-for-fake-video-capture={blue_clip}"]) as blue,
    ):
        await sign_in(teacher.page, live_server, demo.teacher)
        await enter_room(teacher.page, live_server, demo, stats=True)
        await sign_in(red.page, live_server, an)
        await enter_room(red.page, live_server, demo, stats=True)
        await sign_in(blue.page, live_server, binh)
        await enter_room(blue.page, live_server, demo, stats=True)
        red_id, blue_id = await participant_id(red.page), await participant_id(blue.page)

        # Random groups are even and use every student once (the planner's pure rule).
        dealt = await teacher.page.evaluate(
            """async () => {
                const { randomGroups } = await import('/static/js/breakout-plan.js');
                let seed = 1;
                const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
                return randomGroups([1, 2, 3, 4, 5], 2, random);
            }"""
        )
        assert sorted(len(g) for g in dealt) == [2, 3] and sorted(sum(dealt, [])) == [1, 2, 3, 4, 5], dealt

        # The teacher's panel lists the class; by hand: An and Chi in Nhóm 1, Bình and Dũng in Nhóm 2.
        await teacher.page.click("#drawer-btn-groups")  # group work is a side panel of the room
        panel = teacher.page.get_by_role("region", name="Thảo luận nhóm")
        await expect(panel).to_be_visible(timeout=WAIT_MS)
        await expect(panel.get_by_role("spinbutton", name="Số nhóm")).to_have_value("2")
        plan = {an: "Nhóm 1", chi: "Nhóm 1", binh: "Nhóm 2", demo.students[3]: "Nhóm 2"}
        for student, group in plan.items():
            await panel.get_by_role("combobox", name=f"Nhóm của {student.full_name}").select_option(label=group)
        await expect(panel.get_by_role("checkbox", name="Camera")).to_be_checked()
        await panel.get_by_role("spinbutton", name="Thời gian thảo luận (phút)").fill("10")
        await panel.get_by_role("button", name="Bắt đầu thảo luận nhóm").click()

        # The server put them where the teacher said.
        grid = teacher.page.locator("#breakout-groups")
        await expect(grid.locator(".bo-group")).to_have_count(2, timeout=WAIT_MS)
        rooms = server_rooms(live_server, demo.lesson_id)
        group_of = {g["name"]: g["id"] for g in live_server.app[ROOMS].rooms[demo.lesson_id].breakouts.state()["groups"]}
        users = {p.full_name: p.user_id for p in live_server.app[ROOMS].rooms[demo.lesson_id].participants.values()}
        assert rooms[users[an.full_name]] == group_of["Nhóm 1"], rooms
        assert rooms[users[binh.full_name]] == group_of["Nhóm 2"], rooms

        # Each student's page shows their group, with its countdown.
        await expect(red.page.locator("#group-heading")).to_have_text("Bạn đang ở Nhóm 1", timeout=WAIT_MS)
        await expect(blue.page.locator("#group-heading")).to_have_text("Bạn đang ở Nhóm 2", timeout=WAIT_MS)
        await expect(red.page.locator("#group-countdown")).to_contain_text("Còn lại 0")
        await expect(red.page.locator("#stage")).to_be_hidden()

        # The groups may use their cameras: both students turn them on.
        for page in (red.page, blue.page):
            camera = page.locator("#btn-camera")
            await expect(camera).to_be_enabled(timeout=WAIT_MS)
            await camera.click()
            await expect(camera).to_have_text("Tắt camera", timeout=WAIT_MS)

        # A third student (the Python client) comes late, lands in Nhóm 1 and shows a green camera.
        token = (await login(chi))["Authorization"].removeprefix("Bearer ")
        client = LessonClient(live_server.url, demo.lesson_id, token)
        try:
            joined = await client.connect()
            chi_id = joined["participant_id"]
            assert joined["room"] == group_of["Nhóm 1"], joined
            assert joined["permissions"]["camera"] is True, joined
            await client.publish({"mic": ToneTrack(), "camera": ColourTrack(GREEN_RGB)})

            # An sees Chi's green camera in a tile, and no tile of Bình; Bình sees neither.
            await wait_tile_colour(red.page, chi_id, "(s) => s[1] > 140 && s[0] < 90 && s[2] < 90", "green")
            await wait_tile_colour(red.page, red_id, "(s) => s[0] > 170 && s[1] < 80 && s[2] < 80", "An's own red camera")
            await wait_tile_colour(blue.page, blue_id, "(s) => s[2] > 170 && s[0] < 80 && s[1] < 90", "Bình's own blue camera")
            assert sorted(await red.page.evaluate(TILE_IDS)) == sorted([red_id, chi_id])
            assert await blue.page.evaluate(TILE_IDS) == [blue_id]
            received_by_blue = await blue.page.evaluate(INBOUND_FROM)
            assert chi_id not in received_by_blue and red_id not in received_by_blue, received_by_blue
            assert blue_id not in await red.page.evaluate(INBOUND_FROM)
            await expect(red.page.locator("#roster li[data-participant-id]")).to_have_count(2)
            await expect(blue.page.locator("#roster li[data-participant-id]")).to_have_count(1)

            # The teacher's grid: both groups with who is present.
            group1 = grid.locator(f".bo-group[data-group-id='{group_of['Nhóm 1']}']")
            group2 = grid.locator(f".bo-group[data-group-id='{group_of['Nhóm 2']}']")
            await expect(group1.locator(".bo-group-name")).to_have_text("Nhóm 1")
            await expect(group1.locator(".bo-group-count")).to_have_text("2/2 bạn có mặt", timeout=WAIT_MS)
            await expect(group2.locator(".bo-group-count")).to_have_text("1/2 bạn có mặt")
            await expect(group1.locator(".bo-member.is-present")).to_have_count(2)
            await expect(group2.locator(".bo-member.is-present")).to_have_text(f"{binh.full_name} · có mặt")
            await expect(teacher.page.locator("#bo-countdown")).to_contain_text("Còn lại")

            # The overview: a camera of each group on its card, not every camera of the class.
            await panel.get_by_role("button", name="Xem camera các nhóm").click()
            for card in (group1, group2):
                await expect(card.locator("video.bo-thumb")).to_be_visible(timeout=WAIT_MS)
            await poll(teacher.page, """() => [...document.querySelectorAll('video.bo-thumb')]
                .every((v) => !v.hidden && v.videoWidth > 0)""")
            await panel.get_by_role("button", name="Tắt camera các nhóm").click()
            await expect(group1.locator("video.bo-thumb")).to_be_hidden(timeout=WAIT_MS)

            # The teacher speaks into Nhóm 1 without joining it.
            await group1.get_by_role("button", name="Nói với Nhóm 1").click()
            await expect(group1.locator("button.bo-speak")).to_have_attribute("aria-pressed", "true", timeout=WAIT_MS)
            lesson_room = live_server.app[ROOMS].rooms[demo.lesson_id]
            assert [p.speaking_to for p in lesson_room.participants.values() if p.role == "teacher"] == [group_of["Nhóm 1"]]
            await group1.locator("button.bo-speak").click()
            await expect(group1.locator("button.bo-speak")).to_have_attribute("aria-pressed", "false", timeout=WAIT_MS)

            # Bình calls the teacher; the teacher sees it on Nhóm 2 and dismisses it.
            await blue.page.get_by_role("button", name="Gọi giáo viên").click()
            await expect(blue.page.get_by_role("button", name="Hủy gọi giáo viên")).to_have_attribute("aria-pressed", "true")
            await expect(group2.locator(".bo-help")).to_contain_text("Nhóm 2 cần giúp đỡ", timeout=WAIT_MS)
            await expect(group1.locator(".bo-help")).to_be_hidden()
            await group2.get_by_role("button", name="Đã xem lời gọi của Nhóm 2").click()
            await expect(group2.locator(".bo-help")).to_be_hidden(timeout=WAIT_MS)

            # A message to every group.
            await panel.get_by_role("textbox", name="Lời nhắn gửi tất cả các nhóm").fill("Còn 5 phút, các nhóm chuẩn bị trình bày.")
            await panel.get_by_role("button", name="Gửi lời nhắn").click()
            for page in (red.page, blue.page):
                await expect(page.locator("#group-notices")).to_contain_text("Giáo viên nhắn: Còn 5 phút", timeout=WAIT_MS)

            # The end: everyone back in the main room, the normal view returns.
            await panel.get_by_role("button", name="Kết thúc thảo luận nhóm").click()
            await expect(grid.locator(".bo-group")).to_have_count(0, timeout=WAIT_MS)
            await expect(panel.get_by_role("button", name="Bắt đầu thảo luận nhóm")).to_be_visible()
            for page in (red.page, blue.page):
                await expect(page.locator("#group-box")).to_be_hidden(timeout=WAIT_MS)
                await expect(page.locator("#stage")).to_be_visible()
                await expect(page.locator("#roster li[data-role='teacher']")).to_have_count(1, timeout=WAIT_MS)
            assert set(server_rooms(live_server, demo.lesson_id).values()) == {"main"}

            # Next time, the same groups with one click (kept for the class on this device).
            await panel.get_by_role("button", name="Chia nhóm ngẫu nhiên").click()
            await panel.get_by_role("button", name="Dùng lại các nhóm lần trước").click()
            for student, group in plan.items():
                picked = panel.get_by_role("combobox", name=f"Nhóm của {student.full_name}")
                assert await picked.evaluate("(s) => s.options[s.selectedIndex].text") == group
        finally:
            await client.close()

        teacher.assert_no_errors()
        red.assert_no_errors()
        blue.assert_no_errors()
