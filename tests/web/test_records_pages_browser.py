"""Attendance, statistics and the lesson archive in a real browser: headless Chromium against a live
lophoc server, with attendance and recordings produced by real WebRTC peers (the Python protocol
client) joining and publishing into the demo lesson."""
from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from playwright.async_api import Page, expect

from school.demo import Credentials, DemoSchool
from signaling.client import LessonClient
from tests.browser import BrowserPage, browser_page, open_browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer, Login
from tests.media import ColourTrack, ToneTrack
from tests.web.test_pages_browser import SCHOOL_ZONE, SHOTS, api_get, sign_in

PRESENT_WORDS = {"Có mặt", "Đi muộn", "Về sớm"}
STATUS_VI = {"present": "Có mặt", "late": "Đi muộn", "absent": "Vắng", "left_early": "Về sớm",
             "late_left_early": "Đi muộn, về sớm", "not_yet": "Chưa diễn ra"}
WAIT_MS = 15_000
VIDEO_WAIT_MS = 90_000


async def token_of(login: Login, who: Credentials) -> str:
    return (await login(who))["Authorization"].removeprefix("Bearer ")


IN_ROOM: list[LessonClient] = []
"""Who `attend` left in the lesson's room: they leave when the test ends."""


@pytest.fixture(autouse=True)
async def leave_the_room(live_server: LiveServer) -> AsyncIterator[None]:
    yield
    while IN_ROOM:
        await IN_ROOM.pop().close()


async def attend(live_server: LiveServer, demo: DemoSchool, login: Login, who: Credentials,
                 seconds: float = 1.0) -> None:
    """Really take part in the live demo lesson: its teacher opens the room (the lesson is held) and
    `who` joins and stays until the test ends (a moment's visit would not count as attending)."""
    teacher = LessonClient(live_server.url, demo.lesson_id, await token_of(login, demo.teacher))
    await teacher.connect()
    IN_ROOM.append(teacher)
    client = LessonClient(live_server.url, demo.lesson_id, await token_of(login, who))
    await client.connect()
    IN_ROOM.append(client)
    await asyncio.sleep(seconds)


async def record_lesson(live_server: LiveServer, demo: DemoSchool, login: Login, seconds: float = 4.0) -> None:
    """The teacher publishes a camera and a microphone; the server records the lesson by itself and
    renders the lesson video in the background once the room empties."""
    teacher = LessonClient(live_server.url, demo.lesson_id, await token_of(login, demo.teacher))
    await teacher.connect()
    await teacher.publish({"camera": ColourTrack((255, 0, 0)), "mic": ToneTrack()})
    await asyncio.sleep(seconds)
    await teacher.close()


def school_hm(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(SCHOOL_ZONE).strftime("%H:%M")


async def test_the_new_pages_are_no_store_html_shells_without_inline_styles(client: TestClient) -> None:
    for path in ("/lessons/12/attendance", "/reports/attendance", "/recordings"):
        response = await client.get(path)
        assert response.status == 200, path
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.headers["Cache-Control"] == "no-store"
        html = await response.text()
        assert '<script type="module" src="/static/js/pages/' in html
        assert '<link rel="stylesheet" href="/static/css/records.css">' in html
        assert "style=" not in html and "onclick" not in html.lower()


async def test_the_teacher_sees_who_joined_on_a_timeline_with_vietnamese_statuses_and_downloads_the_csv(
    live_server: LiveServer, demo: DemoSchool, login: Login, browser_page: BrowserPage
) -> None:
    await attend(live_server, demo, login, demo.students[0])
    page = browser_page.page
    await sign_in(page, live_server, demo.teacher)
    await page.goto(f"{live_server.url}/lessons/{demo.lesson_id}/attendance")
    await expect(page.locator("h1")).to_have_text("Điểm danh tiết học")
    await expect(page.locator("#lesson-name")).to_have_text(demo.lesson_title)

    report = await api_get(page, live_server, f"/api/lessons/{demo.lesson_id}/attendance")
    by_name = {s["full_name"]: s for s in report["students"]}
    joined = by_name[demo.students[0].full_name]
    assert joined["intervals"] and joined["status"] != "absent"

    timeline = page.locator("svg#attendance-timeline")
    rows = timeline.locator(".timeline-row")
    await expect(rows).to_have_count(len(demo.students))  # one row per student of the class, absentees too
    row = timeline.locator(f".timeline-row[data-user-id='{joined['user_id']}']")
    await expect(row.locator(".timeline-name")).to_have_text(demo.students[0].full_name)
    await expect(row.locator(".timeline-bar")).to_have_count(len(joined["intervals"]))
    status = (await row.locator(".timeline-status").text_content() or "").strip()
    assert status == STATUS_VI[joined["status"]] and status in PRESENT_WORDS
    # The bar sits after the lesson's start line (the student joined minutes after the start) and
    # inside the plot.
    bar_x = float(await row.locator(".timeline-bar").first.get_attribute("x") or "nan")
    start_x = float(await timeline.locator(".timeline-lesson-edge").first.get_attribute("x1") or "nan")
    assert start_x < bar_x < 1000 - 110, (start_x, bar_x)
    for absentee in demo.students[1:]:
        absent_row = timeline.locator(f".timeline-row[data-user-id='{by_name[absentee.full_name]['user_id']}']")
        await expect(absent_row.locator(".timeline-status")).to_have_text("Vắng")
        await expect(absent_row.locator(".timeline-bar")).to_have_count(0)
    # Ticks on round 5-minute marks of the school's clock, although the browser runs on New York time.
    ticks = timeline.locator(".timeline-tick")
    assert await ticks.count() >= 6
    for i in range(await ticks.count()):
        label = (await ticks.nth(i).locator("text").text_content() or "").strip()
        assert re.fullmatch(r"\d\d:\d[05]", label), label
        assert label == school_hm(await ticks.nth(i).get_attribute("data-at") or ""), label
    await expect(page.locator(".legend")).to_contain_text("Vắng")

    # The summary and the table say the same.
    await expect(page.locator("#summary-list [data-key='students'] dd")).to_have_text(str(len(demo.students)))
    await expect(page.locator("#summary-list [data-key='absent'] dd")).to_have_text(str(len(demo.students) - 1))
    table_rows = page.locator("#attendance-table tbody tr")
    await expect(table_rows).to_have_count(len(demo.students))
    await expect(page.locator(f"#attendance-table tr[data-user-id='{joined['user_id']}'] .att-badge")).to_have_text(status)
    await expect(page.locator("#attendance-table tr[data-status='absent'] .att-badge")).to_have_text(["Vắng"] * 3)
    await expect(page.locator("#live-note")).to_be_visible()

    # The CSV download, with the Vietnamese headers and statuses.
    async with page.expect_download() as download_info:
        await page.click("#export-csv")
    download = await download_info.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(await download.path()).read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:4] == ["STT", "Họ và tên", "Tên đăng nhập", "Trạng thái"]
    assert {(r[1], r[3]) for r in table[1:]} == {(s["full_name"], STATUS_VI[s["status"]]) for s in report["students"]}
    assert await page.locator("#export-xlsx").get_attribute("href") == f"/api/lessons/{demo.lesson_id}/attendance?format=xlsx"

    # The lesson is live: a student who joins now appears within one 10-second refresh, in class.
    second = LessonClient(live_server.url, demo.lesson_id, await token_of(login, demo.students[1]))
    await second.connect()
    try:
        second_id = by_name[demo.students[1].full_name]["user_id"]
        second_row = timeline.locator(f".timeline-row[data-user-id='{second_id}']")
        await expect(second_row.locator(".timeline-bar.is-open")).to_have_count(1, timeout=WAIT_MS)
        await expect(second_row.locator(".timeline-status")).not_to_have_text("Vắng")
        await expect(page.locator(f"#attendance-table tr[data-user-id='{second_id}'] .in-class")).to_have_text("Đang trong lớp")
        await expect(timeline.locator(".timeline-now")).to_have_count(1)
    finally:
        await second.close()

    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "lesson-attendance.png"), full_page=True)

    # In English.
    await page.click(".lang-switch button[data-lang='en']")
    await expect(page.locator("h1")).to_have_text("Lesson attendance")
    await expect(timeline.locator(".timeline-row[data-status='absent'] .timeline-status")).to_have_text(["Absent"] * 2)
    await expect(page.locator("#export-csv")).to_have_text("Download CSV")
    await expect(page.locator(".main-nav a[href='/reports/attendance']")).to_have_text("Attendance & statistics")
    assert await page.title() == "Lesson attendance · lophoc"
    await page.screenshot(path=str(SHOTS / "lesson-attendance-en.png"), full_page=True)
    browser_page.assert_no_errors()


async def test_a_student_sees_only_their_own_attendance_row(
    live_server: LiveServer, demo: DemoSchool, login: Login, browser_page: BrowserPage
) -> None:
    await attend(live_server, demo, login, demo.students[0])
    page = browser_page.page
    await sign_in(page, live_server, demo.students[0])
    await page.goto(f"{live_server.url}/lessons/{demo.lesson_id}/attendance")
    rows = page.locator("svg#attendance-timeline .timeline-row")
    await expect(rows).to_have_count(1)
    await expect(rows.locator(".timeline-name")).to_have_text(demo.students[0].full_name)
    await expect(page.locator("#attendance-summary .att-badge")).to_have_text(re.compile("Có mặt|Đi muộn|Về sớm"))
    await expect(page.locator("#exports")).to_be_hidden()
    browser_page.assert_no_errors()

    await page.goto(f"{live_server.url}/lessons/999999/attendance")
    await expect(page.locator(".page-message h1")).to_have_text("Không tìm thấy tiết học này")
    browser_page.assert_no_errors("404 (Not Found)")


async def test_the_statistics_page_charts_attendance_by_day_and_lists_the_class(
    live_server: LiveServer, demo: DemoSchool, login: Login, browser_page: BrowserPage
) -> None:
    await attend(live_server, demo, login, demo.students[0])
    page = browser_page.page
    await sign_in(page, live_server, demo.admin)
    nav = page.locator(".main-nav")
    await expect(nav.locator("a[href='/reports/attendance']")).to_have_text("Điểm danh & thống kê")
    await expect(nav.locator("a[href='/recordings']")).to_have_text("Lưu trữ bài giảng")
    # The administration group still starts at the timetable.
    await expect(nav.locator("li.nav-admin-start a")).to_have_attribute("href", "/admin/timetable")
    await nav.locator("a[href='/reports/attendance']").click()
    await page.wait_for_url(re.compile(r"/reports/attendance"))
    await expect(page.locator("h1")).to_have_text("Điểm danh & thống kê")

    chart = page.locator("svg#attendance-chart")
    await expect(chart.locator(".chart-point")).to_have_count(1)  # one day with lessons: today
    today = datetime.now(SCHOOL_ZONE).date().isoformat()
    await expect(chart.locator(".chart-point")).to_have_attribute("data-date", today)
    await expect(chart.locator(".chart-point")).to_have_attribute("data-rate", "0.25")
    await expect(page.locator("#report-totals [data-key='report.lessons_held'] dd")).to_have_text("1")
    await expect(page.locator("#report-totals [data-key='report.rate'] dd")).to_have_text("25%")
    class_row = page.locator(f"#by-class tbody tr[data-id='{demo.class_id}']")
    await expect(class_row.locator("th")).to_have_text(demo.class_name)
    await expect(class_row.locator("td").nth(2)).to_have_text("25%")
    await expect(page.locator("#by-grade tbody tr th")).to_have_text("Khối 10")
    await expect(page.locator("#by-teacher tbody tr th")).to_have_text(demo.teacher.full_name)
    await expect(page.locator("#by-student tbody tr")).to_have_count(len(demo.students))

    # Filter by the class: the chart becomes the class's attendance over the chosen period.
    await page.select_option("#filter-class", label=demo.class_name)
    await page.fill("#filter-from", "2020-09-05")  # more than the year the API allows
    await page.click("#report-filters button[type=submit]")
    await expect(page.locator("#report-filters .field-error")).to_have_text("Khoảng thời gian dài nhất là một năm (366 ngày).")
    term_start = (datetime.now(SCHOOL_ZONE).date() - timedelta(days=100)).isoformat()
    await page.fill("#filter-from", term_start)
    await page.click("#report-filters button[type=submit]")
    await expect(page.locator("#chart-heading")).to_have_text(f"Chuyên cần của lớp {demo.class_name} theo ngày")
    await expect(page).to_have_url(re.compile(rf"class_id={demo.class_id}"))
    await expect(chart.locator(".chart-point")).to_have_count(1)
    csv_href = await page.locator("#report-export-csv").get_attribute("href")
    assert csv_href is not None and f"class_id={demo.class_id}" in csv_href and "format=csv" in csv_href
    assert f"from={term_start}" in csv_href
    response = await page.request.get(f"{live_server.url}{csv_href}")
    assert response.status == 200 and response.headers["content-type"].startswith("text/csv")
    assert demo.students[0].full_name in (await response.body()).decode("utf-8-sig")
    xlsx_href = await page.locator("#report-export-xlsx").get_attribute("href")
    assert xlsx_href == csv_href.replace("format=csv", "format=xlsx")

    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "reports-attendance.png"), full_page=True)

    # In English, then on to the lesson's own attendance page.
    await page.click(".lang-switch button[data-lang='en']")
    await expect(page.locator("h1")).to_have_text("Attendance & statistics")
    await expect(page.locator("#chart-heading")).to_have_text(f"Attendance of class {demo.class_name} by day")
    await expect(page.locator("#by-grade tbody tr th")).to_have_text("Grade 10")
    await page.locator(f"#report-lessons tr[data-lesson-id='{demo.lesson_id}'] a").click()
    await page.wait_for_url(f"{live_server.url}/lessons/{demo.lesson_id}/attendance")
    await expect(page.locator("svg#attendance-timeline .timeline-row")).to_have_count(len(demo.students))
    browser_page.assert_no_errors()


async def test_a_teacher_sees_the_statistics_of_their_classes_and_filters_by_teacher(
    live_server: LiveServer, demo: DemoSchool, login: Login, browser_page: BrowserPage
) -> None:
    await attend(live_server, demo, login, demo.students[0])
    page = browser_page.page
    await sign_in(page, live_server, demo.teacher)
    await expect(page.locator(".main-nav .nav-group")).to_have_count(0)  # no administration group for teachers
    await page.goto(f"{live_server.url}/reports/attendance")
    await expect(page.locator(f"#by-class tbody tr[data-id='{demo.class_id}'] th")).to_have_text(demo.class_name)
    await expect(page.locator("#filter-teacher option", has_text=demo.teacher.full_name)).to_have_count(1)
    await page.select_option("#filter-teacher", label=demo.teacher.full_name)
    await page.select_option("#filter-grade", label="Khối 10")
    await page.click("#report-filters button[type=submit]")
    await expect(page).to_have_url(re.compile(r"[?&]grade=10(&|$)"))
    await expect(page).to_have_url(re.compile(r"[?&]teacher_id=\d+(&|$)"))
    await expect(page.locator("svg#attendance-chart .chart-point")).to_have_count(1)
    await expect(page.locator(f"#report-lessons tr[data-lesson-id='{demo.lesson_id}']")).to_have_count(1)
    # Reloading keeps the filters (they live in the address bar).
    await page.reload()
    await expect(page.locator("#filter-grade")).to_have_value("10")
    await expect(page.locator("svg#attendance-chart .chart-point")).to_have_count(1)
    browser_page.assert_no_errors()


async def test_a_student_sees_their_own_statistics_without_the_school_tables(
    live_server: LiveServer, demo: DemoSchool, login: Login, browser_page: BrowserPage
) -> None:
    await attend(live_server, demo, login, demo.students[0])
    page = browser_page.page
    await sign_in(page, live_server, demo.students[0])
    await page.goto(f"{live_server.url}/reports/attendance")
    await expect(page.locator("svg#attendance-chart .chart-point")).to_have_count(1)
    await expect(page.locator("#by-student tbody tr")).to_have_count(1)
    await expect(page.locator("#by-student tbody tr th")).to_have_text(demo.students[0].full_name)
    await expect(page.locator("#by-class-section")).to_be_hidden()
    await expect(page.locator("#filter-teacher-field")).to_be_hidden()
    await expect(page.locator("#report-totals [data-key='report.rate'] dd")).to_have_text("100%")
    browser_page.assert_no_errors()


async def wait_for_lesson_video(page: Page) -> str:
    """Wait, on the archive page, until the lesson video is rendered; returns its recording id."""
    video = page.locator(".recording-lesson .lesson-video")
    await expect(video).to_have_count(1, timeout=WAIT_MS)
    await expect(video).to_have_attribute("data-status", re.compile("queued|rendering|complete"))
    if await video.get_attribute("data-status") != "complete":
        # Rendering: a progress bar with the percentage, refreshed every 3 s until the video is done.
        await expect(video.locator("progress")).to_be_visible()
        await expect(page.locator("#refresh-note")).to_be_visible()
    await expect(video).to_have_attribute("data-status", "complete", timeout=VIDEO_WAIT_MS)
    await expect(video.locator("progress")).to_have_count(0)
    return await video.get_attribute("data-recording-id") or ""


@pytest.mark.timeout(240)
async def test_the_archive_shows_the_rendered_lesson_video_and_plays_it_with_seeking(
    live_server: LiveServer, demo: DemoSchool, login: Login, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    await sign_in(page, live_server, demo.teacher)
    teacher = LessonClient(live_server.url, demo.lesson_id, await token_of(login, demo.teacher))
    await teacher.connect()
    try:
        await teacher.publish({"camera": ColourTrack((255, 0, 0)), "mic": ToneTrack()})
        await asyncio.sleep(1)
        # While the lesson is being recorded the archive lists its files as "Đang ghi" and follows them.
        await page.locator(".main-nav a[href='/recordings']").click()
        await page.wait_for_url(f"{live_server.url}/recordings")
        await expect(page.locator("h1")).to_have_text("Lưu trữ bài giảng")
        lesson = page.locator(f".recording-lesson[data-lesson-id='{demo.lesson_id}']")
        await expect(lesson.locator(".lesson-title")).to_have_text(demo.lesson_title)
        await expect(lesson.locator(".fact-class dd")).to_have_text(demo.class_name)
        await expect(lesson.locator(".track[data-status='recording']")).to_have_count(2)
        await expect(lesson.locator(".track .rec-badge").first).to_have_text("Đang ghi")
        await expect(lesson.locator(".empty")).to_have_text("Chưa có video bài giảng của tiết này.")
        # Note every state the lesson video goes through on the page (it refreshes itself every 3 s).
        await page.evaluate(
            """() => {
                window.seenVideo = [];
                new MutationObserver(() => {
                    const v = document.querySelector('.lesson-video');
                    const bar = v && v.querySelector('progress');
                    if (v) window.seenVideo.push({ status: v.dataset.status, progress: bar ? bar.value : null,
                                                   text: bar ? v.querySelector('.progress-value').textContent : null });
                }).observe(document.getElementById('recordings-list'), { childList: true, subtree: true });
            }"""
        )
        await asyncio.sleep(3)
    finally:
        await teacher.close()  # the room empties: the recording ends and the lesson video is rendered
    video_id = await wait_for_lesson_video(page)
    seen = await page.evaluate("window.seenVideo")
    assert seen and seen[-1]["status"] == "complete", seen
    for state in seen:
        assert state["status"] in ("queued", "rendering", "complete"), seen
        if state["status"] != "complete":  # a progress bar with its percentage
            assert state["progress"] is not None and 0 <= state["progress"] <= 100, seen
            assert state["text"] == f"{round(state['progress'])}%", seen
    print("lesson video states seen on the page:", [(v["status"], v["progress"]) for v in seen])
    video = lesson.locator(".lesson-video")
    await expect(video.locator(".fact-status .badge")).to_have_text("Hoàn tất")
    await expect(video.locator(".fact-duration dd")).to_have_text(re.compile(r"^0:(0[2-9]|1[0-9])$"))
    await expect(video.locator(".fact-size dd")).to_have_text(re.compile(r"\d"))
    await expect(video.locator("a.download")).to_have_attribute("href", f"/api/recordings/{video_id}/media?download=true")
    await expect(video.locator(".publish-toggle")).not_to_be_checked()

    # The separately recorded files, under a collapsed list.
    tracks = lesson.locator("details.tracks")
    await expect(tracks.locator("summary")).to_have_text("Các tệp ghi riêng (2)")
    await expect(tracks.locator(".track")).to_have_count(2)
    await expect(tracks.locator(".track").first).to_be_hidden()
    await tracks.locator("summary").click()
    await expect(tracks.locator(".track .track-name")).to_have_text(["Camera", "Micro"])

    await video.locator("button.play").click()
    await expect(page.locator("#player-section")).to_be_visible()
    await expect(page.locator("#player")).to_have_attribute("src", f"/api/recordings/{video_id}/media")
    playback = await page.evaluate(
        """async () => {
            const v = document.getElementById('player');
            const until = async (ok, ms) => {
                const end = Date.now() + ms;
                while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
                return ok();
            };
            v.muted = true;
            await v.play();
            await until(() => v.readyState >= 2, 15000);
            const readyState = v.readyState, duration = v.duration, before = v.currentTime;
            await until(() => v.currentTime > before + 0.5, 5000);
            const after = v.currentTime;
            // Seeking asks the server for a byte range.
            const seeked = new Promise((r) => v.addEventListener('seeked', r, { once: true }));
            v.currentTime = Math.min(2.5, duration - 0.5);
            await Promise.race([seeked, new Promise((r) => setTimeout(r, 5000))]);
            return { readyState, duration, before, after, seekedTo: v.currentTime, error: v.error && v.error.code };
        }"""
    )
    assert playback["error"] is None, playback
    assert playback["readyState"] >= 2, playback
    assert playback["duration"] > 2, playback
    assert playback["after"] > playback["before"], playback
    assert abs(playback["seekedTo"] - min(2.5, playback["duration"] - 0.5)) < 0.6, playback
    await expect(page.locator("#player-error")).to_be_hidden()

    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "recordings.png"), full_page=True)
    browser_page.assert_no_errors()


@pytest.mark.timeout(240)
async def test_a_student_sees_the_lesson_video_only_once_the_teacher_publishes_it(
    live_server: LiveServer, demo: DemoSchool, login: Login, browser_page: BrowserPage, app: web.Application
) -> None:
    await record_lesson(live_server, demo, login)
    teacher = browser_page.page
    await sign_in(teacher, live_server, demo.teacher)
    await teacher.goto(f"{live_server.url}/recordings")
    video_id = await wait_for_lesson_video(teacher)

    async with open_browser_page() as student_browser:
        student = student_browser.page
        await sign_in(student, live_server, demo.students[0])
        await student.goto(f"{live_server.url}/recordings")
        await expect(student.locator("#recordings-list .empty")).to_have_text(
            "Chưa có video bài giảng nào được công bố cho lớp của em trong khoảng thời gian này.")
        await expect(student.locator(".recording-lesson")).to_have_count(0)
        await expect(student.locator("#rec-filter-teacher-field")).to_be_hidden()

        toggle = teacher.locator(f"#publish-{video_id}")
        await toggle.check()
        await expect(teacher.locator("#rec-status")).to_have_text(
            f"Đã công bố video cho học sinh lớp {demo.class_name}.")
        await expect(teacher.locator(f"#publish-{video_id}")).to_be_checked()
        await expect(teacher.locator(f"#publish-{video_id}")).to_be_enabled()
        assert (await api_get(teacher, live_server, f"/api/recordings?kind=composite"))["items"][0]["published"] is True

        await student.reload()
        lesson = student.locator(f".recording-lesson[data-lesson-id='{demo.lesson_id}']")
        await expect(lesson.locator(".lesson-title")).to_have_text(demo.lesson_title)
        video = lesson.locator(".lesson-video")
        await expect(video).to_have_attribute("data-recording-id", video_id)
        # Students watch; they neither download nor publish.
        await expect(video.locator("a.download")).to_have_count(0)
        await expect(video.locator(".publish-toggle")).to_have_count(0)
        await expect(lesson.locator(".attendance-link")).to_have_count(0)
        await video.locator("button.play").click()
        ready = await student.evaluate(
            """async () => {
                const v = document.getElementById('player');
                v.muted = true;
                await v.play();
                const end = Date.now() + 15000;
                while (v.readyState < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
                v.pause();
                return v.readyState;
            }"""
        )
        assert ready >= 2

        # Withdrawn again: gone from the student's archive.
        await teacher.locator(f"#publish-{video_id}").uncheck()
        await expect(teacher.locator("#rec-status")).to_have_text(
            f"Đã thu hồi: học sinh lớp {demo.class_name} không còn xem được video này.")
        await student.goto(f"{live_server.url}/recordings")
        await expect(student.locator(".recording-lesson")).to_have_count(0)
        student_browser.assert_no_errors()
    browser_page.assert_no_errors()
