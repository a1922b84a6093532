"""Shared fixtures: one real redis-server per test session, flushed before each test; the real app."""
from __future__ import annotations

from dataclasses import replace

import pytest
from redis.asyncio import Redis

from bot.app import create_app, make_dialogue
from bot.knowledge.load import load
from bot.settings import ROOT, Settings
from bot.understanding.brain import build_brain
from bot.understanding.holder import BrainCache

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
    return build_brain(load(ROOT))


@pytest.fixture(scope="session")
def brains(brain):
    """Built Brains shared by every app of the session: the repository's knowledge is built once."""
    from bot.knowledge.dump import body_of, brain_key
    cache = BrainCache(size=4)
    cache._built[brain_key(body_of(brain.knowledge), brain.knowledge.seeds)] = brain
    return cache


@pytest.fixture
def settings(redis_server, tmp_path) -> Settings:
    return replace(Settings(), redis_url=redis_server.url, data_dir=tmp_path)


@pytest.fixture
def dialogue(settings, redis, brain):
    return make_dialogue(settings, redis, brain)[0]


@pytest.fixture
async def client(aiohttp_client, settings, redis, brains):
    """The real aiohttp app, called through aiohttp's in-process test client."""
    return await aiohttp_client(create_app(settings, redis=redis, brains=brains))


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
