"""The server's limits shown before they bite, in Chromium: a form that names its body schema
learns each field's limit from /api/openapi.json, counts as one types, says in the UI's language
(from the server's catalogue) when a text is too long, keeps the whole text (no silent cut of a
paste), and refuses to send it."""
from __future__ import annotations

from playwright.async_api import expect

from school.demo import DemoSchool
from school.schemas import Name
from tests.browser import BrowserPage, browser_page  # noqa: F401  (the fixture)
from tests.conftest import LiveServer
from tests.web.test_pages_browser import sign_in

NAME_MAX = Name.__metadata__[0].max_length  # the rule the server checks

FORM = """() => {
  const form = document.createElement('form');
  form.id = 'probe-form';
  form.dataset.schema = 'UserCreate';
  form.innerHTML = '<div class="field"><input name="full_name" maxlength="32" required></div>'
                 + '<div class="field"><input name="username"></div>';
  document.querySelector('main').append(form);
}"""


async def test_a_form_learns_its_limits_and_keeps_a_long_paste_whole(
    live_server: LiveServer, demo: DemoSchool, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    await sign_in(page, live_server, demo.teacher)
    await page.goto(f"{live_server.url}/account")
    await expect(page.locator("h1")).to_have_text("Tài khoản của tôi")
    await page.evaluate(FORM)
    form = page.locator("#probe-form")
    await expect(form).to_have_attribute("data-limits-applied", "yes")
    name = form.locator("input[name=full_name]")
    await expect(name).to_have_attribute("data-maxlength", str(NAME_MAX))
    assert await name.get_attribute("maxlength") is None, "the native limit would cut a paste silently"

    long_name = "Nguyễn Thị Minh Khai " * 10 + "x"  # 211 characters
    await name.fill(long_name)
    assert len(await name.input_value()) == len(long_name) > NAME_MAX
    counter = page.locator("#probe-form-full_name-count")
    await expect(counter).to_have_text(f"{len(long_name)}/{NAME_MAX} · Tối đa {NAME_MAX} ký tự.")
    await expect(name).to_have_attribute("aria-invalid", "true")
    blocked = await page.evaluate("""async () => {
      const { checkRequired } = await import('/static/js/forms.js');
      return checkRequired(document.querySelector('#probe-form'));
    }""")
    assert blocked is False, "a text over the limit is not sent"
    assert await page.evaluate("document.activeElement.name") == "full_name"

    # The UI in English: the same limit, the catalogue's English sentence.
    await page.get_by_role("button", name="EN").click()
    await expect(counter).to_have_text(f"{len(long_name)}/{NAME_MAX} · At most {NAME_MAX} characters.")

    await name.fill("Nguyễn Thị Minh Khai")
    await expect(counter).to_be_hidden()
    assert await name.get_attribute("aria-invalid") is None
    near = "a" * (NAME_MAX - 5)
    await name.fill(near)
    await expect(counter).to_have_text(f"{NAME_MAX - 5}/{NAME_MAX}")
    assert await page.evaluate("""async () => {
      const { checkRequired } = await import('/static/js/forms.js');
      return checkRequired(document.querySelector('#probe-form'));
    }""") is True
