"""The customer-service API client against the fake WeChat API: one shared access token, no stampede."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp import ClientSession

from bot.channels.wechat.api import TOKEN_MARGIN, TOKEN_NAME, CustomerService, WeChatAPIError
from bot.state.store import Store

from . import wechat_fixtures
from .wechat_fixtures import wechat_settings

fake_api = wechat_fixtures.fake_api     # fixture


@pytest.fixture
async def worker(fake_api, redis):
    """worker() -> a CustomerService as one process would have it (own HTTP session, shared Redis)."""
    sessions = []

    def make() -> CustomerService:
        sessions.append(ClientSession())
        return CustomerService(sessions[-1], Store(redis), wechat_settings("plain", fake_api.url))

    yield make
    for s in sessions:
        await s.close()


async def test_token_is_cached_in_redis_and_reused(worker, fake_api, redis):
    api = worker()
    await api.send_text("oA", "第一条")
    await worker().send_text("oB", "第二条")          # another process reads the same token
    assert fake_api.token_fetches == 1
    assert [s["touser"] for s in fake_api.sends] == ["oA", "oB"]
    assert await Store(redis).get_secret(TOKEN_NAME) == fake_api.current
    ttl = await redis.ttl(f"citizen-bot:secret:{TOKEN_NAME}")
    assert 7200 - TOKEN_MARGIN - 5 <= ttl <= 7200 - TOKEN_MARGIN


async def test_concurrent_sends_fetch_the_token_once(worker, fake_api):
    fake_api.token_delay = 0.1
    workers = [worker() for _ in range(4)]
    await asyncio.gather(*(workers[i % 4].send_text(f"o{i}", "你好") for i in range(20)))
    assert fake_api.token_fetches == 1 and len(fake_api.sends) == 20


@pytest.mark.parametrize("errcode", [40001, 42001])
async def test_refused_token_is_refreshed_and_the_send_retried(worker, fake_api, errcode):
    api = worker()
    await api.send_text("oA", "一")
    fake_api.invalidate(errcode)
    await api.send_text("oA", "二")
    assert fake_api.token_fetches == 2
    assert [s["text"]["content"] for s in fake_api.sends] == ["一", "二"]


async def test_workers_that_saw_the_same_token_fail_refresh_it_once(worker, fake_api):
    a, b = worker(), worker()
    await a.send_text("oA", "一")
    fake_api.invalidate(40001)
    fake_api.token_delay = 0.1
    await asyncio.gather(a.send_text("oA", "二"), b.send_text("oB", "三"))
    assert fake_api.token_fetches == 2             # one refresh, and neither replaced the other's new token
    assert sorted(s["text"]["content"] for s in fake_api.sends) == ["一", "三", "二"]


async def test_stale_failure_report_does_not_replace_a_newer_token(worker, fake_api):
    api = worker()
    old = await api.token()
    fake_api.invalidate(40001)
    new = await api.token(failed=old)
    assert await worker().token(failed=old) == new      # a slow worker reporting the old token
    assert fake_api.token_fetches == 2


async def test_wrong_appsecret_is_a_clear_error(worker, fake_api):
    fake_api.appsecret = "ffffffffffffffffffffffffffffffff"
    with pytest.raises(WeChatAPIError, match="40125"):
        await worker().send_text("oA", "一")


async def test_send_refused_even_with_a_fresh_token_is_an_error(worker, fake_api):
    fake_api.refuse_all = 40001
    with pytest.raises(WeChatAPIError, match="40001"):
        await worker().send_text("oA", "一")
    assert fake_api.token_fetches == 2 and fake_api.sends == []      # refreshed once, then gave up
