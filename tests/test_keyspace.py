"""Anonymous traffic cannot grow Redis without bound, and nothing it writes could ever be kept instead of
staff data: Redis evicts only keys with a TTL (volatile-lru), and every key a citizen-facing route
writes has one; nor can it flush the missed-questions inbox staff work from."""
from __future__ import annotations

import random
from dataclasses import replace

from bot import keys
from bot.app import create_app
from bot.channels.web import page as webpage
from bot.state import inbox, questions
from bot.state.embedded import EmbeddedRedis
from bot.state.inbox import OPENS_PER_DAY
from bot.state.limits import Limit

from . import wechat_fixtures
from .admin_helpers import *  # noqa: F403
from .redis_server import citizen_keys

wechat, fake_api = wechat_fixtures.wechat, wechat_fixtures.fake_api     # fixtures
# Staff data (knowledge versions, drafts, accounts, audit) is written at start-up, not by citizens, and
# must never expire: volatile-lru can then never evict it.
STAFF = ("citizen-bot:kb:", "citizen-bot:admin:")


# Citizen-derived data staff read, kept as long as the retention (180 days) and no longer.
RETAINED = {"citizen-bot:inbox:": inbox.KEEP, "citizen-bot:qlog:": (questions.KEEP_DAYS + 2) * 24 * 3600}


async def assert_every_key_expires(redis):
    keys = [k.decode() for k in await redis.keys("*")]
    assert keys
    for key in keys:
        ttl = await redis.pttl(key)
        if key.startswith(STAFF):
            assert ttl == -1, f"staff key {key} has a TTL"
        else:
            assert ttl > 0, f"{key} never expires"
            kept = next((t for prefix, t in RETAINED.items() if key.startswith(prefix)), None)
            assert kept is None or ttl <= kept * 1000, f"{key} outlives the {kept // 86400}-day retention"
    return keys


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


async def test_anonymous_traffic_cannot_flush_the_inbox(aiohttp_client, settings, redis):
    """One sender's many different questions cannot push a citizen's missed question out, and many
    senders of one question in different dress are one group."""
    roomy = replace(settings, rate_limits={"chat-user": Limit(1000, 60), "chat-address": Limit(1000, 60)})
    client = await aiohttp_client(create_app(roomy, redis=redis))
    inbox = client.app[keys.RECORDER].inbox
    inbox.max_groups = OPENS_PER_DAY + 10           # room for what one sender may open, not for 60 groups
    await client.post("/api/chat", json={"user_id": "citizen", "text": "火星移民签证怎么办理"})
    rng = random.Random(8)
    garbage = ["".join(chr(0x4E00 + rng.randrange(3000)) for _ in range(6)) for _ in range(60)]
    for text in garbage:                               # one user, many different questions
        await client.post("/api/chat", json={"user_id": "flooder", "text": text})
    for i in range(30):                                # many users, one question in different dress
        await client.post("/api/chat", json={"user_id": f"bot-{i}", "text": ["月球 护照？", "月球护照", "月球　护照!"][i % 3]})
    groups = await inbox.groups(limit=1000)
    asked = [{q["text"] for q in g["questions"]} for g in groups]
    assert any("火星移民签证怎么办理" in texts for texts in asked)
    assert sum(bool(texts & set(garbage)) for texts in asked) <= OPENS_PER_DAY
    assert sum(any("月球" in t for t in texts) for texts in asked) == 1


def test_redis_may_evict_only_keys_with_a_ttl(tmp_path):
    from bot.settings import ROOT
    deploy = (ROOT / "deploy" / "redis.conf").read_text(encoding="utf-8")
    embedded = EmbeddedRedis(tmp_path)._write_config().read_text(encoding="utf-8")
    for conf in (deploy, embedded):
        assert "maxmemory-policy volatile-lru" in conf
        assert any(line.startswith("maxmemory ") for line in conf.splitlines())


async def test_staff_work_on_the_inbox_leaves_staff_keys_without_a_ttl_and_citizen_keys_with_one(
        admin_client, signed_in, redis):
    """Citizens fill the inbox and rate; staff log in, read it, act on its groups, save a draft and
    publish: the inbox stays derived data that expires, the knowledge, accounts and audit never do."""
    origin = {"Origin": f"http://{admin_client.host}:{admin_client.port}"}
    for user, text in (("k1", "平泉搭巴士车钱咋收"), ("k2", "火星移民签证怎么办理"), ("k3", "月球护照怎么办")):
        await admin_client.post("/api/chat", json={"user_id": user, "text": text})
    resp = await admin_client.post("/api/web/chat", json={"text": "平泉坐公交车要多少钱"}, headers=origin)
    rating = {"rating": (await resp.json())["rating"], "helpful": False}
    await admin_client.post("/api/web/feedback", json=rating, headers=origin)
    editor, publisher = await signed_in("editor"), await signed_in("publisher")
    groups = (await editor.json("GET", "inbox"))["groups"]
    assert len(groups) >= 3
    bus = next(g for g in groups if g["suggested"] and g["suggested"]["id"] == "bus-fare")
    others = [g for g in groups if g["id"] != bus["id"]]
    await editor.json("POST", f"inbox/{bus['id']}/example", {"topic": "bus-fare"})
    await editor.json("POST", f"inbox/{others[0]['id']}/dismiss", {"reason": "与本地政务无关"})
    await editor.json("POST", f"inbox/{others[1]['id']}/answered", {"topic": "bus-fare"})
    await publisher.json("POST", "publish", {"note": "收件箱", "confirm": True})
    keys = await assert_every_key_expires(redis)
    for needed in ("citizen-bot:inbox:index", "citizen-bot:inbox:counts", "citizen-bot:inbox:focus",
                   "citizen-bot:inbox:texts", "citizen-bot:admin:audit", "citizen-bot:kb:live"):
        assert needed in keys
    assert any(k.startswith("citizen-bot:inbox:u:") for k in keys)


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
