"""Fixtures for the WeChat tests: the real app configured for WeChat, a simulator, the fake API.

Test modules import them by name (`from .wechat_fixtures import fake_api, wechat`).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import pytest
from aiohttp import web

from bot import keys
from bot.app import create_app
from bot.settings import WeChatSettings

from .wechat_sim import FakeWeChatAPI, WeChatSim

TOKEN = "citizenbot2024"
APPID = "wx0f1e2d3c4b5a6978"
APPSECRET = "0123456789abcdef0123456789abcdef"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aQ"


def wechat_settings(mode: str, api_base: str, deadline: float = 4.0, appsecret: str = APPSECRET) -> WeChatSettings:
    return WeChatSettings(token=TOKEN, appid=APPID, aes_key=None if mode == "plain" else AES_KEY,
                          appsecret=appsecret, api_base=api_base, reply_deadline=deadline)


@dataclass
class Harness:
    sim: WeChatSim
    app: web.Application

    def count_dialogue(self, monkeypatch, delay: float = 0.0) -> list:
        """A spy on the dialogue (optionally slow): the Inbounds it was asked, in order."""
        dialogue, calls = self.app[keys.DIALOGUE], []
        original = dialogue.handle

        async def handle(inbound):
            calls.append(inbound)
            await asyncio.sleep(delay)
            return await original(inbound)

        monkeypatch.setattr(dialogue, "handle", handle)
        return calls


@pytest.fixture
async def fake_api():
    api = await FakeWeChatAPI(APPID, APPSECRET).start()
    yield api
    await api.stop()


@pytest.fixture
async def wechat(aiohttp_client, settings, redis, fake_api):
    """wechat(mode="plain"|"compatible"|"safe", deadline=4.0, timeout=5.0) -> Harness over the real app."""
    sims: list[WeChatSim] = []

    async def make(mode: str = "plain", deadline: float = 4.0, timeout: float = 5.0, **kw) -> Harness:
        ws = wechat_settings(mode, fake_api.url, deadline, **kw)
        client = await aiohttp_client(create_app(replace(settings, wechat=ws), redis=redis))
        sim = WeChatSim(str(client.make_url("/wechat")), TOKEN, appid=APPID,
                        aes_key=None if mode == "plain" else AES_KEY, mode=mode, timeout=timeout)
        sims.append(sim)
        return Harness(sim, client.app)

    yield make
    for sim in sims:
        await sim.close()
