"""The staff console in a real headless Chromium on a laptop screen, against the real app and Redis.

An editor rewords the 平泉 bus-fare answer (figures unchanged) and is refused a changed figure next to the
field; a publisher publishes and the citizens' web chat shows the new wording; the auditor sees the
change; a rollback brings the old wording back. SAVE_SCREENSHOT=1 also writes the README's screenshots of
the topic editor and the hit test.
"""
from __future__ import annotations

import asyncio
import os
import re
import time

from dataclasses import replace

import aiohttp
import pytest

from bot.app import create_app
from bot.settings import ROOT
from bot.state.limits import Limit

from .admin_helpers import *  # noqa: F403 (fixtures)
from .admin_helpers import PASSWORD
from .browser_support import laptops, new_page, serving

pytestmark = pytest.mark.browser

OLD = "平泉城乡公交采用阶梯票价"
NEW_TEXT = ("平泉城乡公交实行阶梯票价、分段计费：基础票价2元，最高票价8元，出行费用同比降低了50%。"
            "以最远的桲椤树镇为例，到市区60公里，单次乘车费用由原来的16元/人降至8元/人。")
QUESTION = "平泉坐公交车要多少钱"
SHOTS = {"editor": ROOT / "docs" / "screenshot-admin-editor.png",
         "hit": ROOT / "docs" / "screenshot-admin-hittest.png"}


@pytest.fixture
async def site(admin_settings, redis, brains):
    # wait_for_chat asks every 0.1 s until a publish shows: far past a citizen's rate limit
    polling = {"chat-user": Limit(100_000, 60), "chat-address": Limit(100_000, 60)}
    settings = replace(admin_settings, rate_limits={**admin_settings.rate_limits, **polling})
    async with serving(create_app(settings, redis=redis, brains=brains)) as url:
        yield url


@pytest.fixture
async def laptop(site):
    """laptop() -> a new person at a laptop: a browser context with its own cookies."""
    async with laptops() as laptop:
        yield laptop


async def screenshot(page, name: str) -> None:
    if os.environ.get("SAVE_SCREENSHOT") == "1":
        await page.screenshot(path=str(SHOTS[name]), full_page=False)


async def sign_in(laptop, site: str, username: str):
    from playwright.async_api import expect
    page = await new_page(await laptop(), api_refusals=True)
    await page.goto(site + "/admin/")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.locator("#who-name")).to_contain_text(username)
    return page


async def sign_out(page) -> None:
    from playwright.async_api import expect
    await page.get_by_role("button", name="退出登录").click()
    await expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()
    await page.close()


async def chat_reply(site: str, text: str) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.post(site + "/api/chat", json={"user_id": "t-" + str(time.monotonic_ns()),
                                                        "text": text}) as resp:
            return (await resp.json())["reply"]


async def wait_for_chat(site: str, wanted: str, seconds: float = 30.0) -> float:
    """Seconds until the chat API's reply contains `wanted` (every process swaps to a new version)."""
    start = time.monotonic()
    while wanted not in await chat_reply(site, QUESTION):
        assert time.monotonic() - start < seconds, f"the chat never said {wanted!r}"
        await asyncio.sleep(0.1)
    return time.monotonic() - start


async def ask_web_chat(citizen, site: str, text: str) -> str:
    from playwright.async_api import expect
    page = await new_page(citizen)
    await page.goto(site + "/")
    replies = page.locator("#log .msg--bot .bubble")
    await expect(replies.first).to_be_visible()              # the welcome, or the conversation so far
    before = await replies.count()
    await page.get_by_label("输入您的问题").fill(text)
    await page.get_by_label("输入您的问题").press("Enter")
    await expect(replies).to_have_count(before + 1)
    said = await replies.last.inner_text()
    assert page.errors == []
    await page.close()
    return said


async def edit_bus_fare(page) -> None:
    from playwright.async_api import expect
    await page.get_by_label("搜索主题").fill("公交票价")
    await page.get_by_role("button", name="搜索").click()
    await page.get_by_role("link", name="城乡公交票价").click()
    text = page.locator('textarea[name="answers.平泉.text"]')
    await expect(text).to_have_value(f"{OLD}、分段计费，基础票价2元，最高票价8元，出行费用同比降低了50%。"
                                     "以最远的桲椤树镇为例，到市区60公里，单次乘车费用由原来的16元/人降至8元/人。")

    await text.fill(NEW_TEXT)
    await page.get_by_role("button", name="保存到草稿").click()
    await expect(page.locator("#toast")).to_contain_text("已保存到草稿")

    # A changed figure is refused, next to the field it is in, and nothing is saved.
    await text.fill(NEW_TEXT.replace("基础票价2元", "基础票价3元"))
    await page.get_by_role("button", name="保存到草稿").click()
    error = page.locator('[data-field="answers.平泉.text"] .field-error')
    await expect(error).to_contain_text("3元")
    await expect(text).to_have_attribute("aria-invalid", "true")

    await page.get_by_role("button", name="从简报原文选引用").first.click()
    await expect(page.locator(".picker .sentences li").first).to_be_visible()
    await screenshot(page, "editor")
    await page.reload()                           # what the draft holds: the good wording, not the refused one
    await expect(text).to_have_value(NEW_TEXT)


async def hit_test(page) -> None:
    from playwright.async_api import expect
    await page.get_by_role("link", name="命中测试").click()
    await page.get_by_label("问题").fill(QUESTION)
    await page.get_by_role("button", name="测试").click()
    boxes = page.locator(".side-by-side section")
    await expect(boxes.nth(0)).to_contain_text("实行阶梯票价")          # the draft
    await expect(boxes.nth(1)).to_contain_text("采用阶梯票价")          # the live version
    await expect(boxes.nth(0)).to_contain_text("bus-fare")
    await screenshot(page, "hit")


async def test_staff_reword_publish_audit_and_roll_back(laptop, site, add_user):
    from playwright.async_api import expect
    for name, role in (("editor1", "editor"), ("publisher1", "publisher"), ("auditor1", "auditor")):
        await add_user(name, role)

    citizen = await laptop()
    editor = await sign_in(laptop, site, "editor1")
    await edit_bus_fare(editor)
    await hit_test(editor)
    assert editor.errors == []
    await sign_out(editor)
    assert OLD in await ask_web_chat(citizen, site, QUESTION)            # nothing changes before publishing

    publisher = await sign_in(laptop, site, "publisher1")
    await publisher.get_by_role("link", name="草稿与发布").click()
    await expect(publisher.locator(".diff")).to_contain_text("实行")
    await publisher.get_by_label("发布说明").fill("平泉公交票价答案措辞调整")
    await publisher.get_by_role("button", name="发布", exact=True).click()
    await expect(publisher.locator("#toast")).to_contain_text("已发布为第 2 版")
    await wait_for_chat(site, "实行阶梯票价")
    said = await ask_web_chat(citizen, site, QUESTION)
    assert "实行阶梯票价" in said and "2元" in said and "8元" in said

    auditor = await sign_in(laptop, site, "auditor1")
    await expect(auditor.locator("table.audit")).to_be_visible()
    rows = auditor.locator("table.audit tbody tr")
    action = auditor.locator("td:nth-child(5)")                         # the 操作 column
    published = rows.filter(has=action.filter(has_text=re.compile("^publish$")))
    await expect(published.filter(has_text="publisher1")).to_have_count(1)
    saves = rows.filter(has_text="bus-fare").filter(has_text="editor1")
    await expect(saves.filter(has_text="rejected")).to_have_count(1)
    await expect(saves.filter(has_text="实行阶梯票价")).not_to_have_count(0)
    assert auditor.errors == []

    publisher.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await publisher.get_by_role("link", name="版本记录").click()
    first = publisher.locator("tbody tr").filter(has_text="第 1 版")
    await first.get_by_role("button", name="回滚到此版").click()
    await expect(publisher.locator("#toast")).to_contain_text("第 1 版的内容现为第 3 版")
    await wait_for_chat(site, OLD)
    assert OLD in await ask_web_chat(citizen, site, QUESTION)
    assert publisher.errors == []
