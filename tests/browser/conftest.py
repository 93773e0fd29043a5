"""Headless Chromium (Debian's /usr/bin/chromium, never a downloaded browser) driven
through Playwright's sync API against pytest-django's live server.

Without /usr/bin/chromium (or Playwright) the browser tests are skipped, except under
CI=true, where they fail: CI must not pass by quietly skipping the browser."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an asyncio event loop in this thread, so Django's
# async-safety check would refuse the ORM calls that the fixtures make.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WIDTHS = [375, 1280]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[[int], Any]]:
    """A fresh browser context (no cookies) at the given width. The browser claims
    English (like many phones in the county) so that the tests show the site ignores it."""
    contexts = []

    def make(width: int) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": 800},
            locale="en-US",
            extra_http_headers={"Accept-Language": "en-US,en;q=0.9"},
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Any, str], None]:
    """Save a full-page screenshot to test-artifacts/<test name>/<step>.png."""
    folder = ARTIFACTS / request.node.name.replace("[", "-").replace("]", "")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    counter = iter(range(1, 100))

    def take(page: Any, step: str) -> None:
        page.wait_for_load_state()
        page.screenshot(path=str(folder / f"{next(counter):02d}-{step}.png"), full_page=True)

    return take
