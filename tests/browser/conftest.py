"""What every dashboard browser test shares: Debian's Chromium driven by Playwright (never a downloaded browser),
one browser per test, and a desktop-sized context in a fixed locale and time zone."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, ViewportSize, async_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 860}

_MISSING = not Path(CHROMIUM).exists() and not shutil.which("chromium")
if _MISSING and os.environ.get("CI"):
    raise RuntimeError(f"{CHROMIUM} is missing under CI: run `make setup` (it installs Debian's chromium)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Outside CI, without Chromium, the browser tests are skipped with the reason."""
    if _MISSING:
        skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (run `make setup`); browser tests need it")
        for item in items:
            if Path(str(item.fspath)).parent == Path(__file__).parent:
                item.add_marker(skip)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="Europe/Paris")
    context.set_default_timeout(10_000)
    yield context
    await context.close()
