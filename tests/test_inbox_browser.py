"""The inbox loop in a real headless Chromium, against the real app and Redis: a citizen asks something the
bot misses in the web chat; an editor finds it in the inbox and adds it as an example to the suggested
topic; a publisher publishes; the same question is now answered in the web chat (and rated 👍 by
keyboard); the dashboard shows the day's counts. SAVE_SCREENSHOT=1 also writes docs/screenshot-inbox.png
and docs/screenshot-dashboard.png."""
from __future__ import annotations

import os
import re

import pytest

from bot.app import create_app
from bot.settings import ROOT

from .admin_helpers import *  # noqa: F403 (fixtures)
from .browser_support import laptops, new_page, serving
from .test_admin_browser import sign_in, sign_out

pytestmark = pytest.mark.browser

MISSED = "平泉搭巴士车钱咋收"
SHOTS = {"inbox": ROOT / "docs" / "screenshot-inbox.png", "dashboard": ROOT / "docs" / "screenshot-dashboard.png"}


@pytest.fixture
async def site(admin_settings, redis, brains):
    async with serving(create_app(admin_settings, redis=redis, brains=brains)) as url:
        yield url


@pytest.fixture
async def laptop(site):
    async with laptops() as laptop:
        yield laptop


async def screenshot(page, name: str) -> None:
    if os.environ.get("SAVE_SCREENSHOT") == "1":
        await page.screenshot(path=str(SHOTS[name]), full_page=True)


async def ask(page, text: str):
    from playwright.async_api import expect
    replies = page.locator("#log .msg--bot")
    before = await replies.count()
    await page.get_by_label("输入您的问题").fill(text)
    await page.get_by_label("输入您的问题").press("Enter")
    await expect(replies).to_have_count(before + 1)
    return replies.last


async def test_missed_question_to_inbox_to_example_to_published_answer(laptop, site, add_user):
    from playwright.async_api import expect
    for name, role in (("editor1", "editor"), ("publisher1", "publisher")):
        await add_user(name, role)

    citizen = await new_page(await laptop())
    await citizen.goto(site + "/")
    await expect(citizen.locator("#log .msg--bot").first).to_be_visible()
    missed = await ask(citizen, MISSED)
    assert "msg--fallback" in (await missed.get_attribute("class"))
    await ask(citizen, "平泉坐公交车要多少钱")                               # answered, to be counted

    editor = await sign_in(laptop, site, "editor1")
    await editor.get_by_role("link", name="未解决问题").click()
    group = editor.locator("section.group").filter(has_text=MISSED)
    await expect(group).to_have_count(1)
    await expect(group).to_contain_text("城乡公交票价（bus-fare）")           # the suggested topic
    await expect(group.get_by_label("话题编号")).to_have_value("bus-fare")
    await screenshot(editor, "inbox")
    await group.get_by_role("button", name="加为相似问题").click()
    await expect(editor.locator("#toast")).to_contain_text("已加入草稿")
    await expect(editor.locator("section.group").filter(has_text=MISSED).locator(".status")).to_contain_text("处理中")
    assert editor.errors == []
    await sign_out(editor)

    publisher = await sign_in(laptop, site, "publisher1")
    await publisher.get_by_role("link", name="草稿与发布").click()
    await expect(publisher.locator(".diff")).to_contain_text("搭巴士车钱咋收")
    await publisher.get_by_label("发布说明").fill("收件箱：公交票价的新问法")
    await publisher.get_by_role("button", name="发布", exact=True).click()
    await expect(publisher.locator("#toast")).to_contain_text("已发布为第 2 版")

    answered = await ask(citizen, MISSED)
    assert "msg--answer" in (await answered.get_attribute("class"))
    await expect(answered).to_contain_text("2元")
    helpful = answered.get_by_role("button", name="👍 有帮助")
    await helpful.focus()
    await citizen.keyboard.press("Enter")                                      # keyboard, no mouse
    await expect(answered.locator(".rating")).to_contain_text("谢谢")
    assert citizen.errors == []

    await publisher.get_by_role("link", name="未解决问题").click()
    await expect(publisher.locator("section.group").filter(has_text=MISSED).locator(".now")).to_contain_text("1/1")
    await publisher.get_by_role("link", name="数据看板").click()
    await expect(publisher.locator(".totals")).to_contain_text("共 3 个问题：已回答 2")
    table = publisher.locator("figure").filter(has_text="每天的回答结果").locator("table tbody tr").last
    await expect(table).to_contain_text("2")
    await expect(publisher.locator("figure svg[role=img]")).to_have_count(4)
    await expect(publisher.locator("#toast")).not_to_have_class(re.compile("show"))      # a clean screenshot
    await screenshot(publisher, "dashboard")
    assert publisher.errors == []
