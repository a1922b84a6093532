"""One secret hashes citizens' ids everywhere (question log, inbox, logs), and the app starts and answers
with Redis unreachable, fetching (or making) that secret once Redis is back."""
from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from redis.asyncio import Redis

from bot.app import create_app
from bot.observability import logs
from bot.settings import Settings, SettingsError
from bot.state.identity import user_hash
from bot.state.questions import QuestionLog, day_of

from .redis_server import RedisServer

QUESTION = "平泉坐公交车要多少钱"
SECRET_KEY = "citizen-bot:admin:user-hash-secret"


@pytest.fixture(autouse=True)
def fresh_log_key(monkeypatch):
    """Logging's key is process-wide: each test starts from a process that knows no secret yet."""
    monkeypatch.setattr(logs, "_KEY", [(b"process-local", "p:")])


def test_one_setting_with_the_old_name_as_an_alias():
    assert Settings.from_env({"USER_HASH_SECRET": "a"}).user_hash_secret == "a"
    assert Settings.from_env({"LOG_HASH_SECRET": "b"}).user_hash_secret == "b"
    assert Settings.from_env({"USER_HASH_SECRET": "c", "LOG_HASH_SECRET": "c"}).user_hash_secret == "c"
    with pytest.raises(SettingsError, match="one secret"):
        Settings.from_env({"USER_HASH_SECRET": "c", "LOG_HASH_SECRET": "d"})
    assert not hasattr(Settings(), "log_hash_secret")


async def logged_users(redis) -> list[str]:
    import time
    return [e["user"] for e in await QuestionLog(redis, "citizen-bot").entries(day_of(time.time()))]


async def test_logs_and_the_question_log_hash_a_citizen_under_the_same_secret(aiohttp_client, settings, redis,
                                                                              brains):
    client = await aiohttp_client(create_app(replace(settings, user_hash_secret="s3cret"), redis=redis,
                                             brains=brains))
    assert (await client.post("/api/chat", json={"user_id": "u-1", "text": QUESTION})).status == 200
    [stored] = await logged_users(redis)
    assert stored == user_hash(b"s3cret", "u-1")
    assert logs.pseudonym("u-1") == "u:" + stored[:16]
    assert await redis.get(SECRET_KEY) is None              # a configured secret is not put in Redis


async def test_an_unset_secret_is_made_once_in_redis_and_logs_use_it(aiohttp_client, settings, redis, brains):
    for _ in range(2):                                       # two processes, one secret
        client = await aiohttp_client(create_app(settings, redis=redis, brains=brains))
        await client.post("/api/chat", json={"user_id": "u-2", "text": QUESTION})
    secret = await redis.get(SECRET_KEY)
    assert len(secret) == 64 and await redis.pttl(SECRET_KEY) == -1          # staff key space: never expires
    assert await logged_users(redis) == [user_hash(secret, "u-2")] * 2
    assert logs.pseudonym("u-2") == "u:" + user_hash(secret, "u-2")[:16]


async def test_the_app_starts_and_answers_with_redis_unreachable_and_gets_the_secret_when_it_is_back(
        aiohttp_client, settings, brains):
    server = RedisServer()
    server.kill()
    try:
        app = create_app(replace(settings, redis_url=server.url), brains=brains)
        client = await asyncio.wait_for(aiohttp_client(app), 20)          # no crash at start
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/readyz")).status == 503
        own = {"Origin": f"http://{client.host}:{client.port}"}
        for path, body, headers in (("/api/chat", {"user_id": "u-3", "text": QUESTION}, {}),
                                    ("/api/web/chat", {"text": QUESTION}, own)):
            resp = await client.post(path, json=body, headers=headers)
            assert resp.status == 200 and "2元" in (await resp.json())["reply"], path
        assert logs.pseudonym("u-3").startswith("p:")        # not the deployment's hash: it is not known yet

        await asyncio.to_thread(server.start)
        redis = Redis.from_url(server.url)
        try:
            for _ in range(40):                                # the breaker's cooldown, then a recorded turn
                await client.post("/api/chat", json={"user_id": "u-3", "text": QUESTION})
                if await logged_users(redis):
                    break
                await asyncio.sleep(0.25)
            secret = await redis.get(SECRET_KEY)
            assert secret and (await logged_users(redis))[0] == user_hash(secret, "u-3")
            assert logs.pseudonym("u-3") == "u:" + user_hash(secret, "u-3")[:16]
            assert await redis.get("citizen-bot:kb:live") == b"1"           # seeded once Redis was back
        finally:
            await redis.aclose()
    finally:
        server.stop()
