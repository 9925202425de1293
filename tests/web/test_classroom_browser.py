"""The classroom panels of the live room in real browsers, on a 360 × 740 phone screen, in Vietnamese:
a student's Chromium and the teacher's Chromium in the same lesson. The student asks a question and
raises a hand, the teacher sees both (badges, the question, the queue) and answers; the teacher
prepares a quiz, launches it, the student answers, the teacher sees the live bar, closes and
publishes, and the student sees their score; they chat, and a message made of HTML is shown as
text (no element injected), its link made into a safe <a>; sending too fast says how long to wait."""
from __future__ import annotations

import asyncio
import re
from zoneinfo import ZoneInfo

from playwright.async_api import Page, expect
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from school.demo import DemoSchool
from school.models import School
from tests.browser import open_browser_page
from tests.conftest import LiveServer
from tests.web.test_live_lesson_browser import WAIT_MS, config, enter_room
from tests.web.test_pages_browser import sign_in
from web.keys import DATABASE, ROOMS

__all__ = ["config"]  # the loopback-only server config of the live lesson tests

PHONE = {"width": 360, "height": 740}
PAYLOAD = '<img src=x onerror="window.__pwned=1"><b>đậm</b> xem https://example.com/bai-tap?so=1.'


# The deepest elements of the open panel reaching past the screen's right edge.
WIDE = """(width) => {
    const right = (el) => el.getBoundingClientRect().right + window.scrollX;
    return [...document.querySelectorAll('#room-drawer *')]
        .filter((el) => right(el) > width + 0.5)
        .filter((el) => ![...el.children].some((c) => right(c) > width + 0.5))
        .slice(0, 5).map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className} ${Math.round(right(el))}`);
}"""


async def open_panel(page: Page, panel: str) -> None:
    button = page.locator(f"#drawer-btn-{panel}")
    if await button.get_attribute("aria-expanded") != "true":
        await button.click()
    await expect(page.locator(f"#drawer-{panel}")).to_be_visible()


async def fits_the_phone(page: Page) -> None:
    """Nothing in the open panel reaches past the screen's right edge (no sideways scrolling)."""
    wide = await page.evaluate(WIDE, PHONE["width"])
    assert not wide, f"the panel is wider than the phone: {wide}"


async def test_a_student_and_the_teacher_use_questions_hands_a_quiz_and_the_chat_on_phones(
    live_server: LiveServer, demo: DemoSchool
) -> None:
    an = demo.students[0]
    async with open_browser_page() as teacher_browser, open_browser_page() as student_browser:
        teacher, student = teacher_browser.page, student_browser.page
        for page in (teacher, student):
            await page.set_viewport_size(PHONE)
        await sign_in(teacher, live_server, demo.teacher)
        await sign_in(student, live_server, an)
        await asyncio.gather(enter_room(teacher, live_server, demo), enter_room(student, live_server, demo))

        # The student asks a question and raises a hand.
        await open_panel(student, "questions")
        await student.get_by_role("textbox", name="Câu hỏi của bạn").fill("Thưa cô, bài 3 làm thế nào ạ?")
        await student.get_by_role("button", name="Gửi câu hỏi").click()
        await expect(student.locator("#qa-list .qa-item")).to_have_count(1, timeout=WAIT_MS)
        await expect(student.locator("#qa-list .qa-vote")).to_be_disabled()  # not one's own question
        await open_panel(student, "hands")
        await student.locator("#btn-hand").click()
        await expect(student.locator("#btn-hand")).to_have_attribute("aria-pressed", "true", timeout=WAIT_MS)
        await expect(student.locator("#hand-note")).to_have_text("Bạn đang giơ tay (thứ 1).")
        await fits_the_phone(student)

        # The teacher sees both: badges, then the question and the queue.
        await expect(teacher.locator("#drawer-btn-questions .drawer-badge")).to_have_text("1", timeout=WAIT_MS)
        await expect(teacher.locator("#drawer-btn-hands .drawer-badge")).to_have_text("1", timeout=WAIT_MS)
        await open_panel(teacher, "questions")
        question = teacher.locator("#qa-list .qa-item")
        await expect(question.locator(".qa-text")).to_have_text("Thưa cô, bài 3 làm thế nào ạ?")
        await expect(question.locator(".qa-author")).to_have_text(an.full_name)
        await question.get_by_role("button", name="Đã trả lời trực tiếp").click()
        await expect(student.locator("#qa-list .qa-answer")).to_have_text("Đã trả lời trực tiếp", timeout=WAIT_MS)
        await expect(teacher.locator("#drawer-btn-questions .drawer-badge")).to_be_hidden()
        await open_panel(teacher, "hands")
        queue = teacher.locator("#hands-queue .hand-item")
        await expect(queue).to_have_count(1)
        await expect(queue.locator(".hand-name")).to_contain_text(an.full_name)
        await teacher.get_by_role("button", name=f"Mời {an.full_name} phát biểu").click()
        await expect(queue).to_have_count(0, timeout=WAIT_MS)
        await expect(student.locator("#btn-hand")).to_have_attribute("aria-pressed", "false", timeout=WAIT_MS)
        await expect(student.locator("#room-message")).to_contain_text("Giáo viên mời bạn phát biểu", timeout=WAIT_MS)
        lesson = live_server.app[ROOMS].rooms[demo.lesson_id]
        assert [p.permissions.get("mic") for p in lesson.participants.values() if p.role == "student"] == [True]

        # The teacher prepares a quiz, then launches it with one click; the student answers it.
        await open_panel(teacher, "polls")
        await teacher.locator("#poll-new > summary").click()
        await teacher.get_by_role("textbox", name="Câu hỏi", exact=True).fill("2 + 2 = ?")
        options = teacher.locator("#poll-form .poll-option-input")
        await options.nth(0).fill("3")
        await options.nth(1).fill("4")
        await teacher.get_by_role("button", name="Thêm phương án").click()
        await options.nth(2).fill("5")
        await teacher.get_by_role("radio", name="Phương án 2 là đáp án đúng").check()
        await teacher.get_by_role("spinbutton", name="Điểm", exact=True).fill("2")
        await teacher.get_by_role("button", name="Lưu để dùng sau").click()
        card = teacher.locator("#polls-list .poll-card")
        await expect(card).to_have_count(1, timeout=WAIT_MS)
        await expect(card).to_have_attribute("data-status", "draft")
        await open_panel(student, "polls")
        await expect(student.locator("#polls-list .poll-card")).to_have_count(0)  # a draft is the teacher's
        await teacher.get_by_role("button", name="Bắt đầu câu hỏi: 2 + 2 = ?").click()
        await expect(card).to_have_attribute("data-status", "open", timeout=WAIT_MS)

        student_card = student.locator("#polls-list .poll-card")
        await expect(student_card).to_have_attribute("data-status", "open", timeout=WAIT_MS)
        await student_card.get_by_role("radio", name="3").check()
        await student_card.get_by_role("button", name="Gửi câu trả lời").click()
        await expect(student_card.locator(".poll-sent")).to_contain_text("Đã gửi", timeout=WAIT_MS)
        await expect(card.locator(".poll-bar[data-option='0']")).to_have_attribute("data-count", "1", timeout=WAIT_MS)
        # Changed before it closes: the count follows.
        await student_card.get_by_role("radio", name="4").check()
        await student_card.get_by_role("button", name="Đổi câu trả lời").click()
        await expect(card.locator(".poll-bar[data-option='1']")).to_have_attribute("data-count", "1", timeout=WAIT_MS)
        await expect(card.locator(".poll-bar[data-option='0']")).to_have_attribute("data-count", "0")
        await expect(card.locator(".poll-answered")).to_have_text(f"1/{len(demo.students)} bạn đã trả lời")

        await card.get_by_role("button", name="Kết thúc", exact=True).click()
        await expect(student_card.locator(".poll-wait")).to_be_visible(timeout=WAIT_MS)
        await expect(student_card.locator(".poll-score")).to_have_count(0)  # not before the results
        await card.get_by_role("button", name="Công bố kết quả").click()
        await expect(student_card.locator(".poll-verdict")).to_have_text("Bạn trả lời đúng.", timeout=WAIT_MS)
        await expect(student_card.locator(".poll-score")).to_have_text("Điểm của bạn: 2/2")
        await expect(student_card.locator(".poll-bar.is-correct .poll-bar-label")).to_have_text("✓ 4")
        await fits_the_phone(student)

        # Chat: an HTML payload is shown as text; its link becomes a safe <a>.
        await expect(teacher.locator("#drawer-btn-chat .drawer-badge")).to_be_hidden()
        await open_panel(student, "chat")
        box = student.get_by_role("textbox", name="Nội dung tin nhắn")
        await box.fill(PAYLOAD)
        await expect(student.locator("#chat-counter")).to_have_text(f"{len(PAYLOAD)}/1000")
        await student.get_by_role("button", name="Gửi", exact=True).click()
        await expect(box).to_have_value("", timeout=WAIT_MS)
        await expect(teacher.locator("#drawer-btn-chat .drawer-badge")).to_have_text("1", timeout=WAIT_MS)
        await open_panel(teacher, "chat")
        message = teacher.locator("#chat-list .chat-msg").last
        await expect(message.locator(".chat-text")).to_have_text(PAYLOAD)
        await expect(message.locator(".chat-from")).to_have_text(an.full_name)
        assert await teacher.locator("#chat-list img, #chat-list b").count() == 0
        link = message.locator(".chat-text a")
        await expect(link).to_have_attribute("href", "https://example.com/bai-tap?so=1")
        await expect(link).to_have_attribute("rel", "noopener noreferrer")
        await expect(link).to_have_attribute("target", "_blank")
        assert await teacher.evaluate("() => window.__pwned") is None
        assert await student.evaluate("() => window.__pwned") is None

        # The teacher answers privately; the student sees it marked private.
        await teacher.get_by_role("combobox", name="Gửi đến").select_option(label=f"Riêng {an.full_name}")
        await teacher.get_by_role("textbox", name="Nội dung tin nhắn").fill("Em xem lại bước 2 nhé.")
        await teacher.get_by_role("button", name="Gửi", exact=True).click()
        reply = student.locator("#chat-list .chat-msg.is-private")
        await expect(reply.locator(".chat-text")).to_have_text("Em xem lại bước 2 nhé.", timeout=WAIT_MS)
        await expect(reply.locator(".chat-private")).to_have_text("Nhắn riêng")

        # Sending too fast: the refusal says how long to wait.
        refusal = None
        for i in range(12):  # 5 messages in 10 s are allowed; the 6th in a row is refused
            await box.fill(f"tin {i}")
            await student.get_by_role("button", name="Gửi", exact=True).click()
            await expect(student.get_by_role("button", name="Gửi", exact=True)).to_be_enabled(timeout=WAIT_MS)
            if await box.input_value():  # not sent: the text stays for later
                refusal = await student.locator("#chat-error").text_content()
                break
        assert refusal is not None and re.fullmatch(r"Bạn gửi quá nhanh\. Vui lòng thử lại sau \d+ giây\.", refusal), refusal
        await fits_the_phone(student)
        await fits_the_phone(teacher)

        teacher_browser.assert_no_errors()
        student_browser.assert_no_errors()


async def test_a_locked_room_makes_a_student_wait_until_the_teacher_lets_them_in_and_the_teacher_may_remove_them(
    live_server: LiveServer, demo: DemoSchool
) -> None:
    binh = demo.students[1]
    async with open_browser_page() as teacher_browser, open_browser_page() as student_browser:
        teacher, student = teacher_browser.page, student_browser.page
        for page in (teacher, student):
            await page.set_viewport_size(PHONE)
        await sign_in(teacher, live_server, demo.teacher)
        await sign_in(student, live_server, binh)
        await enter_room(teacher, live_server, demo)

        # The teacher locks the room ("Khóa phòng").
        await open_panel(teacher, "moderation")
        await teacher.get_by_role("button", name="🔒 Khóa phòng").click()
        await expect(teacher.locator("#mod-lock")).to_have_attribute("aria-pressed", "true", timeout=WAIT_MS)
        await expect(teacher.locator("#mod-lock-note")).to_contain_text("Phòng đang khóa")

        # A student arriving now waits, told so, for as long as it takes.
        await student.goto(f"{live_server.url}/lessons/{demo.lesson_id}")
        await student.locator("#join").click()
        screen = student.get_by_role("alertdialog", name="Đang chờ giáo viên cho vào lớp")
        await expect(screen).to_be_visible(timeout=WAIT_MS)
        waiting = teacher.locator("#mod-waiting .mod-item")
        await expect(waiting).to_have_count(1, timeout=WAIT_MS)
        await expect(teacher.locator("#drawer-btn-moderation .drawer-badge")).to_have_text("1")
        await fits_the_phone(teacher)
        await asyncio.sleep(1)  # waiting outlasts no timer of the page: still waiting, still connected
        await expect(screen).to_be_visible()
        await teacher.get_by_role("button", name=f"Cho {binh.full_name} vào lớp", exact=True).click()
        await expect(screen).to_be_hidden(timeout=WAIT_MS)
        await expect(student.locator("#conn-state")).to_have_text("Đã kết nối", timeout=WAIT_MS)
        await expect(waiting).to_have_count(0)
        lesson = live_server.app[ROOMS].rooms[demo.lesson_id]
        assert [p.full_name for p in lesson.participants.values() if p.role == "student"] == [binh.full_name]

        # Sending a student out asks first; then they are told why they left.
        person = teacher.locator("#mod-people .mod-item")
        await expect(person).to_have_count(1, timeout=WAIT_MS)
        await teacher.get_by_role("button", name=f"Mời {binh.full_name} ra khỏi lớp").click()
        confirm = teacher.locator("#mod-confirm")
        await expect(confirm).to_contain_text(f"Mời {binh.full_name} ra khỏi lớp?")
        await confirm.get_by_role("button", name="Hủy").click()
        await expect(confirm).to_be_hidden()
        assert [p.full_name for p in lesson.participants.values() if p.role == "student"] == [binh.full_name]
        await teacher.get_by_role("button", name=f"Mời {binh.full_name} ra khỏi lớp").click()
        await confirm.get_by_role("button", name="Mời ra khỏi lớp", exact=True).click()
        await expect(student.get_by_role("alertdialog", name="Giáo viên đã mời bạn ra khỏi lớp.")).to_be_visible(timeout=WAIT_MS)
        await expect(person).to_have_count(0, timeout=WAIT_MS)

        # More time: the room's closing time moves.
        before = await teacher.locator("#mod-times").text_content()
        await teacher.get_by_role("button", name="Thêm 10 phút").click()
        await expect(teacher.locator("#mod-status")).to_contain_text("Đã kéo dài tiết học", timeout=WAIT_MS)
        await expect(teacher.locator("#mod-times")).not_to_have_text(before or "")

        teacher_browser.assert_no_errors()
        student_browser.assert_no_errors()


async def test_a_students_quick_hand_button_raises_and_lowers_the_hand_and_times_are_the_schools(
    live_server: LiveServer, demo: DemoSchool
) -> None:
    """The "Giơ tay" button in a student's controls, one press up and one down; the teacher's queue
    tells the time in the school's time zone (here Tokyo's, not the default Ho Chi Minh City's)."""

    async def tokyo(session: AsyncSession) -> None:
        await session.execute(update(School).values(timezone="Asia/Tokyo"))

    await live_server.app[DATABASE].writer.write(tokyo)
    an = demo.students[0]
    async with open_browser_page() as teacher_browser, open_browser_page() as student_browser:
        teacher, student = teacher_browser.page, student_browser.page
        for page in (teacher, student):
            await page.set_viewport_size(PHONE)
        await sign_in(teacher, live_server, demo.teacher)
        await sign_in(student, live_server, an)
        await asyncio.gather(enter_room(teacher, live_server, demo), enter_room(student, live_server, demo))
        await expect(teacher.locator("#btn-hand-quick")).to_be_hidden()  # a student's button

        quick = student.locator("#btn-hand-quick")
        await expect(quick).to_have_text("✋Giơ tay")
        await quick.click()
        await expect(quick).to_have_attribute("aria-pressed", "true", timeout=WAIT_MS)
        await expect(quick).to_have_text("✋Hạ tay")
        badge = teacher.locator("#drawer-btn-hands .drawer-badge")
        await expect(badge).to_have_text("1", timeout=WAIT_MS)
        await open_panel(teacher, "hands")
        await expect(teacher.locator("#hands-queue .hand-name")).to_contain_text(an.full_name)
        hands = live_server.app[ROOMS].rooms[demo.lesson_id].features["hands"]
        raised_at = hands.queue[0].at.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M")
        await expect(teacher.locator("#hands-queue .hand-time")).to_have_text(raised_at)

        # The panel's button agrees; the quick button lowers the hand again.
        await open_panel(student, "hands")
        await expect(student.locator("#btn-hand")).to_have_attribute("aria-pressed", "true")
        await quick.click()
        await expect(quick).to_have_attribute("aria-pressed", "false", timeout=WAIT_MS)
        await expect(badge).to_be_hidden(timeout=WAIT_MS)
        await expect(teacher.locator("#hands-queue .hand-item")).to_have_count(0)
        await expect(student.locator("#btn-hand")).to_have_attribute("aria-pressed", "false")

        # In English the button speaks English.
        await student.click(".lang-switch button[data-lang='en']")
        await expect(quick).to_have_text("✋Raise hand")
        await fits_the_phone(student)

        teacher_browser.assert_no_errors()
        student_browser.assert_no_errors()
