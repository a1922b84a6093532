"""Anonymous traffic cannot grow Redis without bound, and nothing it writes could ever be kept instead of
staff data: Redis evicts only keys with a TTL (volatile-lru), and every key a citizen-facing route
writes has one (the one exception, the unanswered log, is capped in length and deduplicated)."""
from __future__ import annotations

from dataclasses import replace

from bot.app import create_app
from bot.channels.web import page as webpage
from bot.state.embedded import EmbeddedRedis
from bot.state.limits import Limit
from bot.state.store import UNANSWERED_MAX, Store

from . import wechat_fixtures
from .redis_server import citizen_keys

wechat, fake_api = wechat_fixtures.wechat, wechat_fixtures.fake_api     # fixtures
# Keys with no TTL that citizens' questions grow, each capped in size instead: (how to measure, the cap).
BOUNDED = {"citizen-bot:unanswered": ("llen", UNANSWERED_MAX)}
# Staff data (knowledge versions, drafts, accounts, audit) is written at start-up, not by citizens, and
# must never expire: volatile-lru can then never evict it.
STAFF = ("citizen-bot:kb:", "citizen-bot:admin:")


async def assert_every_key_expires(redis):
    keys = [k.decode() for k in await redis.keys("*")]
    assert keys
    for key in keys:
        if key.startswith(STAFF):
            assert await redis.pttl(key) == -1, f"staff key {key} has a TTL"
        elif key in BOUNDED:
            size, cap = BOUNDED[key]
            assert await getattr(redis, size)(key) <= cap
        else:
            assert await redis.pttl(key) > 0, f"{key} never expires"


async def test_every_key_the_citizen_routes_write_has_a_ttl(wechat, redis):
    h = await wechat("safe")
    http = h.sim.http
    base = h.sim.url.removesuffix("/wechat")
    origin = {"Origin": base}
    # the chat API: an answer, a clarification, a follow-up, an unanswerable question, a rate-limited user
    for text in ("平泉坐公交车要多少钱", "老旧小区改造进展怎么样", "定州", "火星移民签证怎么办理") + ("你好",) * 22:
        await http.post(base + "/api/chat", json={"user_id": "keys-1", "text": text})
    # the web chat: history without and with a cookie, questions, a reset
    await http.get(base + "/api/web/history")
    async with http.post(base + "/api/web/chat", json={"text": "宁德社保卡怎么办"}, headers=origin) as resp:
        browser = resp.cookies[webpage.COOKIE].value
    cookie = {"Cookie": f"{webpage.COOKIE}={browser}"}
    await http.post(base + "/api/web/chat", json={"text": "火星上有公交吗"}, headers={**cookie, **origin})
    await http.get(base + "/api/web/history", headers=cookie)
    await http.post(base + "/api/web/reset", headers={**cookie, **origin})
    await http.post(base + "/api/web/chat", json={"text": "寿光大病保险起付线多少"}, headers={**cookie, **origin})
    # WeChat: a question, a long answer's remainder, a location, a subscription, a replay
    for fields in (h.sim.text("平泉坐公交车要多少钱", user="oKeys"), h.sim.text("继续", user="oKeys"),
                   h.sim.location_event(41.0, 118.7, user="oKeys"), h.sim.event("subscribe", user="oKeys"),
                   h.sim.text("火星移民签证怎么办理", user="oKeys")):
        assert (await h.sim.post(fields)).status == 200
    await assert_every_key_expires(redis)


async def test_cookieless_history_gets_write_nothing(client, redis):
    for _ in range(50):
        resp = await client.get("/api/web/history")
        assert resp.status == 200
        resp = await client.get("/api/web/history", headers={"Cookie": f"{webpage.COOKIE}={'Z' * 32}"})
        assert resp.status == 200
    assert await citizen_keys(redis) == []


async def test_anonymous_traffic_cannot_flush_the_unanswered_log(aiohttp_client, settings, redis):
    roomy = replace(settings, rate_limits={"chat-user": Limit(1000, 60), "chat-address": Limit(1000, 60)})
    client = await aiohttp_client(create_app(roomy, redis=redis))
    await client.post("/api/chat", json={"user_id": "citizen", "text": "火星移民签证怎么办理"})
    for i in range(60):                                   # one user, many different questions
        await client.post("/api/chat", json={"user_id": "flooder", "text": f"乱码问题第{i}号 xyz{i}"})
    for i in range(30):                                   # many users, one question in different dress
        await client.post("/api/chat", json={"user_id": f"bot-{i}", "text": ["月球 护照？", "月球护照", "月球　护照!"][i % 3]})
    logged = [e["text"] for e in await Store(redis).unanswered(limit=1000)]
    assert "火星移民签证怎么办理" in logged
    assert sum(t.startswith("乱码问题") for t in logged) <= 20
    assert sum("月球" in t for t in logged) == 1


def test_redis_may_evict_only_keys_with_a_ttl(tmp_path):
    from bot.settings import ROOT
    deploy = (ROOT / "deploy" / "redis.conf").read_text(encoding="utf-8")
    embedded = EmbeddedRedis(tmp_path)._write_config().read_text(encoding="utf-8")
    for conf in (deploy, embedded):
        assert "maxmemory-policy volatile-lru" in conf
        assert any(line.startswith("maxmemory ") for line in conf.splitlines())


async def test_each_citizens_keys_share_one_cluster_slot(wechat, redis):
    """Redis Cluster runs a script or transaction only over keys of one slot: a turn's lock, session,
    remainder and history are tagged with the user's id, so each citizen's keys land together."""
    from bot.state import keyspace
    h = await wechat("safe")
    base = h.sim.url.removesuffix("/wechat")
    await h.sim.http.post(base + "/api/chat", json={"user_id": "slot-1", "text": "老旧小区改造进展怎么样"})
    async with h.sim.http.post(base + "/api/web/chat", json={"text": "老旧小区改造进展怎么样"},
                               headers={"Origin": base}) as resp:
        assert resp.status == 200
    for text in ("老旧小区改造进展怎么样", "平泉坐公交车要多少钱"):
        assert (await h.sim.post(h.sim.text(text, user="oSlots"))).status == 200
    slots: dict[str, set[int]] = {}
    for name in (k.decode() for k in await redis.keys("citizen-bot:*")):
        kind = name.split(":")[1]
        if kind in keyspace.PER_USER:
            tag = name[name.index("{") + 1:name.index("}")]
            slots.setdefault(tag, set()).add(keyspace.slot(name))
            assert keyspace.slot(name) == keyspace.slot("{" + tag + "}"), name
    assert len(slots) >= 3 and all(len(s) == 1 for s in slots.values()), slots
    lock, session = (keyspace.key("citizen-bot", kind, "wechat:oSlots") for kind in ("lock", "session"))
    assert keyspace.slot(lock) == keyspace.slot(session) != keyspace.slot(keyspace.key("citizen-bot", "session", "x"))
