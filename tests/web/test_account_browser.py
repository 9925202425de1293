"""'Tài khoản của tôi' in Chromium: one's sign-ins listed and ended (one, or all the others), and
changing one's password, with the server's rule shown and its refusals in Vietnamese by the field."""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient
from playwright.async_api import Page, expect

from school.demo import Credentials, DemoSchool
from school.schemas import Password
from tests.browser import BrowserPage, browser_page, open_browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer
from tests.web.test_pages_browser import api_get, sign_in

SCHOOL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
SHOTS = Path("/tmp/shots")
PASSWORD_MIN = Password.__metadata__[0].min_length  # the rule the server checks


def school_stamp(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(SCHOOL_ZONE).strftime("%d/%m/%Y %H:%M")


async def lands_on_sign_in(page: Page, server: LiveServer) -> None:
    """The page's next API call is refused (401) and the browser goes to the sign-in page."""
    await page.reload()
    await page.wait_for_url(re.compile(re.escape(f"{server.url}/login?next=")))
    await expect(page.locator("#login-form")).to_be_visible()


async def test_account_page_is_served_like_the_others(client: TestClient) -> None:
    response = await client.get("/account")
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = await response.text()
    assert '<script type="module" src="/static/js/pages/account.js"></script>' in html
    assert "style=" not in html and "onclick" not in html.lower()


async def test_a_teacher_ends_other_sign_ins_and_changes_the_password_on_a_phone(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    teacher = demo.teacher
    await page.set_viewport_size({"width": 360, "height": 760})
    async with open_browser_page() as other:
        await sign_in(other.page, live_server, teacher)
        await sign_in(page, live_server, teacher)

        # The user's name in the header leads to the account page.
        await page.locator("#user-name").click()
        await page.wait_for_url(f"{live_server.url}/account")
        await expect(page.locator("h1")).to_have_text("Tài khoản của tôi")
        await expect(page.locator("#user-name")).to_have_attribute("aria-current", "page")

        items = page.locator("#sessions .session-item")
        await expect(items).to_have_count(2)
        current = page.locator("#sessions .session-item.is-current")
        await expect(current).to_have_count(1)
        await expect(current.locator(".session-current")).to_have_text("Phiên này")
        await expect(current.get_by_role("button")).to_have_count(0)
        listed = (await api_get(page, live_server, "/api/auth/sessions"))["items"]
        mine = next(s for s in listed if s["current"])
        theirs = next(s for s in listed if not s["current"])
        assert await current.get_attribute("data-session-id") == mine["id"]
        # In the school's time zone although the browser runs on New York time.
        await expect(current.locator(".fact-signed-in dd")).to_have_text(school_stamp(mine["created_at"]))
        await expect(current.locator(".fact-last-used dd")).to_have_text(school_stamp(mine["last_used_at"]))
        await expect(current.locator(".session-device")).to_have_text("Chrome trên Linux")

        # Usable at 360 px: nothing wider than the screen, the buttons on it.
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360
        end = page.locator(f"#sessions .session-item[data-session-id='{theirs['id']}']").get_by_role(
            "button", name=re.compile("^Đăng xuất phiên"))
        await expect(end).to_have_text("Đăng xuất phiên này")
        box = await end.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / "account-360.png"), full_page=True)

        await end.click()
        await expect(items).to_have_count(1)
        await expect(page.locator("#sessions-status")).to_have_text("Đã đăng xuất phiên Chrome trên Linux.")
        await expect(page.locator("#sessions-only-this")).to_be_visible()
        await expect(page.locator("#end-others")).to_be_hidden()
        await lands_on_sign_in(other.page, live_server)

        # "Đăng xuất khỏi các thiết bị khác": the browser again and an API client, ended together.
        await sign_in(other.page, live_server, teacher)
        api = await live_server.client.post("/api/auth/login", json={"username": teacher.username,
                                                                     "password": teacher.password})
        assert api.status == 200
        token = (await api.json())["token"]
        await page.reload()
        await expect(items).to_have_count(3)
        await page.locator("#end-others").click()
        await expect(page.locator("#sessions-status")).to_have_text("Đã đăng xuất 2 phiên trên các thiết bị khác.")
        await expect(items).to_have_count(1)
        await expect(page.locator("#sessions .session-item.is-current")).to_have_count(1)
        refused = await live_server.client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert refused.status == 401
        await lands_on_sign_in(other.page, live_server)

        # The password: the server's rule is shown before it bites, and checked before any request.
        await sign_in(other.page, live_server, teacher)
        await page.reload()
        await expect(items).to_have_count(2)
        posted: list[str] = []
        page.on("request", lambda r: posted.append(r.url) if r.url.endswith("/api/auth/password") else None)
        form = page.locator("#password-form")
        await expect(page.locator("#password-rules")).to_contain_text(f"ít nhất {PASSWORD_MIN} ký tự")
        await page.fill("#current-password", teacher.password)
        await page.fill("#new-password", "ngắn")
        await page.fill("#repeat-password", "ngắn")
        await form.get_by_role("button", name="Đổi mật khẩu").click()
        new_error = page.locator("#new-password").locator("xpath=..").locator(".field-error")
        await expect(new_error).to_have_text(f"Mật khẩu mới cần ít nhất {PASSWORD_MIN} ký tự (hiện có 4).")
        await expect(page.locator("#new-password")).to_have_attribute("aria-invalid", "true")
        assert posted == []

        new_password = "Lớp 10A1 học tốt 2026"
        await page.fill("#current-password", "not-the-password")
        await page.fill("#new-password", new_password)
        await page.fill("#repeat-password", new_password)
        await form.get_by_role("button", name="Đổi mật khẩu").click()
        current_error = page.locator("#current-password").locator("xpath=..").locator(".field-error")
        await expect(current_error).to_have_text("Mật khẩu hiện tại không đúng.")
        await expect(page.locator("#current-password")).to_be_focused()
        await expect(new_error).to_have_count(0)
        assert len(posted) == 1

        await page.fill("#current-password", teacher.password)
        await form.get_by_role("button", name="Đổi mật khẩu").click()
        await expect(page.locator("#password-status")).to_have_text(
            "Đã đổi mật khẩu. Mọi phiên đăng nhập khác của bạn đã kết thúc; "
            "các thiết bị đó cần đăng nhập lại bằng mật khẩu mới.")
        await expect(current_error).to_have_count(0)
        await expect(page.locator("#current-password")).to_have_value("")
        await expect(items).to_have_count(1)
        await lands_on_sign_in(other.page, live_server)

        # The new password signs in; the old one no longer does.
        await other.page.fill("#username", teacher.username)
        await other.page.fill("#password", teacher.password)
        await other.page.click("#login-form button[type=submit]")
        await expect(other.page.locator("#login-form .form-error")).to_have_text(
            "Tên đăng nhập hoặc mật khẩu không đúng.")
        await sign_in(other.page, live_server, Credentials(teacher.username, new_password, teacher.full_name))
        await expect(other.page.locator("#user-name")).to_have_text(teacher.full_name)

        # This sign-in went on; in English the same page reads in English.
        await page.reload()
        await expect(items).to_have_count(2)
        await page.locator(".lang-button[data-lang='en']").click()
        await expect(page.locator("#sessions-heading")).to_have_text("Sign-ins")
        await expect(page.locator("#sessions .session-current")).to_have_text("This sign-in")
        await expect(page.locator(".session-item:not(.is-current) .end-session")).to_have_text("Sign this one out")
        other.assert_no_errors("401")
    browser_page.assert_no_errors("422")
