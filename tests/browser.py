"""Headless Chromium for tests: Debian's package driven by Playwright's async API.

The recipe is shared/BROWSER-TESTS.md: pytest-playwright (sync) cannot run inside pytest-aiohttp's
loop, and `playwright install` cannot download browsers here, so this module launches the system
Chromium with a fresh profile per test and collects what the page reports (console errors,
uncaught exceptions) for the test to assert on.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, ConsoleMessage, Page, async_playwright

# The real binary first: /usr/bin/chromium is a shell wrapper that prints a harmless warning.
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]

# A browser clock far from the school's (Asia/Ho_Chi_Minh), so a page that formats times in the
# browser's zone instead of the school's shows wrong times and fails the tests.
BROWSER_TIMEZONE = "America/New_York"
DEFAULT_TIMEOUT_MS = 10_000

# What CHROMIUM_ARGS turns off of a browser's out-of-the-box privacy: local addresses shown in ICE
# candidates instead of mDNS names (`<uuid>.local`), and camera and microphone granted unasked.
PRIVACY_OVERRIDES = ("--disable-features=WebRtcHideLocalIpsWithMdns", "--use-fake-ui-for-media-stream")


def chromium_executable() -> str:
    """The system Chromium; a missing browser fails the test (never a silent skip)."""
    found = shutil.which("chromium")
    for candidate in (*CHROMIUM_CANDIDATES, found):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "Chromium is not installed (looked for /usr/lib/chromium/chromium and /usr/bin/chromium): "
        "run `make install-test`, which installs Debian's chromium package",
        pytrace=False,
    )


@dataclass
class BrowserPage:
    """One Chromium page and what it reported while the test drove it."""

    page: Page
    context: BrowserContext
    console_errors: list[str] = field(default_factory=list)
    """console.error() calls and failed resource loads, as 'text (url:line)'."""
    page_errors: list[str] = field(default_factory=list)
    """Uncaught exceptions and unhandled promise rejections."""

    @property
    def errors(self) -> list[str]:
        return [*self.console_errors, *self.page_errors]

    def assert_no_errors(self, *expected: str) -> None:
        """No errors but those containing one of `expected` (a refusal the test provoked on purpose)."""
        unexpected = [e for e in self.errors if not any(part in e for part in expected)]
        assert not unexpected, "the page reported errors:\n" + "\n".join(unexpected)

    def _watch(self, page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            # Missing translations are warnings in the page, but bugs for the tests.
            if message.type == "error" or (message.type == "warning" and message.text.startswith("i18n:")):
                where = message.location
                self.console_errors.append(f"{message.text} ({where.get('url')}:{where.get('lineNumber')})")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.page_errors.append(f"{exc.name}: {exc.message}\n{exc.stack}"))


@asynccontextmanager
async def open_browser_page(
    *, timezone_id: str = BROWSER_TIMEZONE, extra_args: Sequence[str] = (), default_privacy: bool = False
) -> AsyncIterator[BrowserPage]:
    """Launch Chromium with a fresh profile in a tmp dir; close it and remove the profile after.

    `extra_args` are added to CHROMIUM_ARGS, e.g. `--use-file-for-fake-video-capture=clip.y4m`.
    `default_privacy` keeps what a student's browser does unless told otherwise (PRIVACY_OVERRIDES
    left out): host candidates named by mDNS, and camera and microphone requests refused.
    """
    executable = chromium_executable()
    base_args = [a for a in CHROMIUM_ARGS if not (default_privacy and a in PRIVACY_OVERRIDES)]
    profile = Path(tempfile.mkdtemp(prefix="lophoc-chromium-"))
    try:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                str(profile),
                executable_path=executable,
                headless=True,
                args=[*base_args, *extra_args],
                timezone_id=timezone_id,
                viewport={"width": 1280, "height": 900},
            )
            try:
                context.set_default_timeout(DEFAULT_TIMEOUT_MS)
                page = context.pages[0] if context.pages else await context.new_page()
                browser_page = BrowserPage(page=page, context=context)
                browser_page._watch(page)
                context.on("page", browser_page._watch)
                yield browser_page
            finally:
                await context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
async def browser_page() -> AsyncIterator[BrowserPage]:
    async with open_browser_page() as browser:
        yield browser
