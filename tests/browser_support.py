"""Shared by the browser tests: Debian's Chromium driven by Playwright, the real app on a loopback port.

In CI (CI set) a browser test must run: a missing Chromium or Playwright fails it instead of skipping it.
"""
from __future__ import annotations

import os
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 30_000          # generous: CI shares 2 cores with the whole suite


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def require_browser() -> None:
    """Skip on a developer machine without a browser; in CI, fail loudly instead."""
    try:
        import playwright.async_api  # noqa: F401
        missing = None if Path(CHROMIUM).exists() else f"Chromium not found at {CHROMIUM}"
    except ImportError:
        missing = "Playwright for Python is not installed (pip install -e '.[test]')"
    if missing and in_ci():
        pytest.fail(f"{missing}: CI must run the browser test (apt-get install chromium)", pytrace=False)
    if missing:
        pytest.skip(missing)


@asynccontextmanager
async def serving(app: web.Application):
    """The app on a free loopback port; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def chromium():
    """Debian's Chromium, headless; each person in a test gets a context of their own (`new_context`)."""
    require_browser()
    from playwright.async_api import async_playwright, expect
    expect.set_options(timeout=TIMEOUT_MS)          # assertions wait as long as actions do
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def new_context(browser, **options):
    context = await browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


LAPTOP = {"viewport": {"width": 1280, "height": 860}, "locale": "zh-CN"}


@asynccontextmanager
async def laptops():
    """`laptop()` -> a new person at a laptop: a browser context with its own cookies, in one Chromium."""
    async with chromium() as browser:
        yield lambda: new_context(browser, **LAPTOP)


@asynccontextmanager
async def browser_context(**options):
    """A fresh Chromium with one context; each page it opens collects script errors in `page.errors`."""
    async with chromium() as browser:
        yield await new_context(browser, **options)


async def new_page(context, api_refusals: bool = False):
    """`api_refusals`: the page talks to an API that answers 401/422 as part of its work (the staff
    console), so Chromium's "Failed to load resource" lines for them are not errors of the page."""
    page = await context.new_page()
    page.errors = []

    def console(msg) -> None:
        if msg.type == "error" and not (api_refusals and msg.text.startswith("Failed to load resource")):
            page.errors.append(msg.text)
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("console", console)
    return page
