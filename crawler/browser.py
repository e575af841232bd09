"""Reading a site through Chromium (scrapy-playwright) for `--browser` crawls: the page's own
scripts make and sign their API calls, and the spider reads the answers the page receives,
scrolling for more. Nothing here knows a site: spiders name the API paths they read."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from smcat.errors import SmcatError

if TYPE_CHECKING:  # Playwright is imported only once a browser crawl runs: smcat starts faster
    from playwright.async_api import Page
    from playwright.async_api import Response as PlaywrightResponse

_HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
SCROLL_EVERY = 1.0
"""Seconds between scrolls while the page has not yet fetched what the spider wants."""


def find_chromium(setting: str) -> str | None:
    """The Chromium to drive: the configured path, else the chromium on PATH, else None (then
    Playwright's own browser, if `playwright install chromium` put one there)."""
    if setting:
        if not os.path.isfile(setting):
            raise SmcatError(f"browser = {setting!r} is not a file: give the path of Chromium")
        return setting
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_settings(chromium: str | None) -> dict[str, Any]:
    """The Scrapy settings that send requests marked `playwright` through headless Chromium;
    other requests keep Scrapy's own downloader. The reactor is asyncio's already (settings)."""
    launch: dict[str, Any] = {"headless": True}
    if chromium:
        launch["executable_path"] = chromium
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        launch["args"] = ["--no-sandbox"]  # Chromium's sandbox will not start as root (CI)
    return {
        "DOWNLOAD_HANDLERS": {"http": _HANDLER, "https": _HANDLER},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": launch,
        # the browser's own headers, not Scrapy's: the site's scripts sign for this browser
        "PLAYWRIGHT_PROCESS_REQUEST_HEADERS": None,
    }


def browser_cookies(header: str, urls: Collection[str]) -> list[dict[str, str]]:
    """A Cookie header as Playwright's cookies, for each site address given."""
    pairs = [part.strip().partition("=") for part in header.split(";") if "=" in part]
    return [
        {"name": name.strip(), "value": value.strip(), "url": url}
        for url in urls
        for name, _, value in pairs
    ]


@dataclass(frozen=True)
class Answer:
    """An answer the page received from one of the API paths read."""

    url: str
    status: int
    content_type: str
    body: bytes
    fetched_at: datetime


class Answers:
    """The answers a page receives from the API paths named, in the order they arrive. Attach
    `receive` to the page's "response" event before it navigates, so none is missed."""

    def __init__(self, paths: Collection[str]) -> None:
        self.paths = frozenset(paths)
        self._queue: asyncio.Queue[Answer] = asyncio.Queue()

    async def receive(self, response: PlaywrightResponse) -> None:
        """Keep an answer from a path read (a Playwright "response" event handler)."""
        from playwright.async_api import Error as PlaywrightError

        if urlsplit(response.url).path not in self.paths:
            return
        try:
            body = await response.body()
        except PlaywrightError:
            return  # the page went away before the body came: nothing was read
        content_type = await response.header_value("content-type") or ""
        answer = Answer(response.url, response.status, content_type, body, datetime.now(UTC))
        self._queue.put_nowait(answer)

    async def read(
        self, page: Page, done: Callable[[], bool], wait: float
    ) -> AsyncIterator[Answer]:
        """The answers as they come until `done()`, scrolling the page every second that none
        comes, and ending once none has come for `wait` seconds."""
        quiet = 0.0
        while not done():
            try:
                answer = await asyncio.wait_for(self._queue.get(), SCROLL_EVERY)
            except TimeoutError:
                quiet += SCROLL_EVERY
                if quiet >= wait:
                    return
                await scroll(page)
                continue
            quiet = 0.0
            yield answer


async def scroll(page: Page) -> None:
    """Scroll down a few screens with the mouse wheel, as a reader does: sites load more on
    the wheel's scroll events over their list, which a jump by script may not raise."""
    size = page.viewport_size or {"width": 1280, "height": 720}
    await page.mouse.move(size["width"] / 2, size["height"] / 2)
    await page.mouse.wheel(0, size["height"] * 3)
