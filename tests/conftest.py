"""Shared fixtures: one real redis-server per test session, flushed before each test; the real app."""
from __future__ import annotations

from dataclasses import replace

import pytest
from redis.asyncio import Redis

from bot.app import create_app, make_dialogue
from bot.settings import ROOT, Settings
from bot.understanding.brain import build_brain

from .redis_server import RedisServer


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
async def redis(redis_server):
    client = Redis.from_url(redis_server.url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def brain():
    return build_brain(ROOT)


@pytest.fixture
def settings(redis_server, tmp_path) -> Settings:
    return replace(Settings(), redis_url=redis_server.url, data_dir=tmp_path)


@pytest.fixture
def dialogue(settings, redis):
    return make_dialogue(settings, redis)[0]


@pytest.fixture
async def client(aiohttp_client, settings, redis):
    """The real aiohttp app, called through aiohttp's in-process test client."""
    return await aiohttp_client(create_app(settings, redis=redis))


@pytest.fixture
def ask(dialogue):
    """ask(*turns) -> the Reply to the last turn, in one fresh session."""
    import uuid

    from bot.models import Inbound

    async def run(*turns, user=None):
        user = user or "t-" + uuid.uuid4().hex[:10]
        reply = None
        for text in turns:
            reply = await dialogue.handle(Inbound("test", user, text))
        return reply
    return run
