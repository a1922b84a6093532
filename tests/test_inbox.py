"""The missed-questions inbox, ratings and the dashboard, through the real app: citizens ask over the chat
API, the web page and WeChat; staff read and act over /api/admin/."""
from __future__ import annotations

import asyncio
import csv
import io
import time
from dataclasses import replace
from datetime import datetime

from bot import keys
from bot.app import create_app
from bot.channels.web import page as say_web
from bot.channels.wechat import text as say
from bot.state.inbox import KEEP, Inbox, Missed
from bot.state.questions import ZONE, QuestionLog, day_of, last_days

from .admin_helpers import *  # noqa: F403
from .admin_helpers import audit_of
from .wechat_fixtures import APPID, TOKEN, fake_api, wechat, wechat_settings  # noqa: F401
from .wechat_sim import WeChatSim

MISSED_BUS = "平泉搭巴士车钱咋收"         # a fallback today; the matcher's best guess is bus-fare
BUS = "平泉坐公交车要多少钱"


async def chat(client, user: str, text: str) -> dict:
    resp = await client.post("/api/chat", json={"user_id": user, "text": text})
    assert resp.status == 200
    return await resp.json()


def same_site(client) -> dict:
    return {"Origin": f"http://{client.host}:{client.port}"}


async def groups(c, **query) -> list[dict]:
    q = "&".join(f"{k}={v}" for k, v in query.items())
    return (await c.json("GET", "inbox" + (f"?{q}" if q else "")))["groups"]


# -- what lands, grouping -------------------------------------------------------------------------

async def test_similar_misses_are_one_group_with_counts_channels_cities_biggest_first(admin_client, signed_in):
    for user, text in [("u1", "平泉护照怎么办理"), ("u2", "定州护照怎么办理？"), ("u3", "护照怎么办理呀"),
                       ("u1", "火星移民签证怎么办理"), ("u4", BUS)]:
        await chat(admin_client, user, text)
    found = await groups(await signed_in("viewer"))
    assert [g["count"] for g in found] == [3, 1]                      # the answered question is not there
    passport = found[0]
    assert passport["focus"] == "护照怎么办理"
    assert passport["cities"] == {"平泉": 1, "定州": 1, "未说明": 1} and passport["channels"] == {"web": 3}
    assert {q["text"] for q in passport["questions"]} == {"平泉护照怎么办理", "定州护照怎么办理？", "护照怎么办理呀"}
    assert passport["kinds"] == {"fallback": 3} and passport["status"] == "new"
    assert passport["first_seen"] <= passport["last_seen"] <= time.time()
    assert passport["now"] == {"answered": 0, "of": 3, "replies": passport["now"]["replies"]}


async def test_refusals_excerpts_and_low_confidence_answers_land_too(admin_client, signed_in):
    assert (await chat(admin_client, "u1", "北京地铁几点停运"))["kind"] == "refuse"     # not a briefing's city
    excerpt = await chat(admin_client, "u2", "宁德参加发布会的有中央、省直驻宁新闻单位记者")
    assert excerpt["kind"] == "excerpt"
    low = await chat(admin_client, "u3", "平泉乘车掏几个钢镚")
    assert low["kind"] == "answer" and low["confidence"] < 0.45
    assert (await chat(admin_client, "u4", BUS))["confidence"] > 0.45       # a sure answer stays out
    kinds = sorted(k for g in await groups(await signed_in("viewer")) for k in g["kinds"])
    assert kinds == ["excerpt", "low", "refuse"]


async def test_every_staff_role_may_read_the_inbox(admin_client, signed_in):
    await chat(admin_client, "u1", "平泉护照怎么办理")
    for role in ("viewer", "editor", "publisher", "admin", "auditor"):
        assert len(await groups(await signed_in(role))) == 1


# -- actions --------------------------------------------------------------------------------------

async def test_add_as_example_goes_into_the_draft_and_after_publishing_the_question_is_answered(
        admin_client, signed_in, staff):
    await chat(admin_client, "u1", MISSED_BUS)
    editor = await signed_in("editor")
    [group] = await groups(editor)
    assert group["suggested"]["id"] == "bus-fare"
    viewer = await signed_in("viewer")
    await viewer.json("POST", f"inbox/{group['id']}/example", {"topic": "bus-fare"}, status=403)
    done = await editor.json("POST", f"inbox/{group['id']}/example", {"topic": group["suggested"]["id"]})
    assert done["group"]["status"] == "in_progress" and done["group"]["topic"] == "bus-fare"
    topic = await editor.json("GET", "topics/bus-fare")
    assert topic["examples"][-1] == "搭巴士车钱咋收"                    # the city name is taken out
    [entry] = await audit_of(staff, "inbox.example")
    assert entry["actor"] == "editor1" and entry["object"] == group["id"]
    await (await signed_in("publisher")).json("POST", "publish", {"note": "收件箱：公交票价问法", "confirm": True})
    [group] = await groups(editor)
    assert group["now"]["answered"] == 1 and group["now"]["replies"][0]["topic"] == "bus-fare"
    assert (await chat(admin_client, "u9", MISSED_BUS))["topic"] == "bus-fare"


async def test_an_example_that_fails_the_checks_is_refused_and_audited(admin_client, signed_in, staff):
    await chat(admin_client, "u1", MISSED_BUS)
    editor = await signed_in("editor")
    [group] = await groups(editor)
    bus = await editor.json("GET", "topics/bus-fare")
    taken = (await editor.json("GET", "topics/bus-savings"))["examples"][0]
    resp = await editor.json("POST", f"inbox/{group['id']}/example", {"topic": "bus-fare", "example": taken},
                             status=422)
    assert "已用于话题" in resp["errors"][0]["message"]
    assert (await editor.json("GET", "topics/bus-fare")) == bus
    assert [e["result"] for e in await audit_of(staff, "inbox.example")] == ["rejected"]


async def test_start_a_new_topic_from_a_group(admin_client, signed_in, staff):
    await chat(admin_client, "u1", "平泉护照怎么办理")
    editor = await signed_in("editor")
    [group] = await groups(editor)
    skeleton = (await editor.json("POST", f"inbox/{group['id']}/new-topic", {}))["skeleton"]
    assert skeleton["title"] == "护照怎么办理" and skeleton["examples"] == ["护照怎么办理"]
    assert (await groups(editor))[0]["status"] == "new"                 # a skeleton changes nothing
    bus = await editor.json("GET", "topics/bus-fare")
    topic = {"id": "bus-fare-faq", "title": "公交车费问答", "category": bus["category"],
             "examples": ["车费怎么收", "车费贵吗", "车费标准", "车费最低几块", "车费最高几块"],
             "answers": {"平泉": bus["answers"]["平泉"]}}
    done = await editor.json("POST", f"inbox/{group['id']}/new-topic", {"topic": topic})
    assert done["group"]["status"] == "in_progress" and done["group"]["topic"] == "bus-fare-faq"
    assert (await editor.json("GET", "topics/bus-fare-faq"))["title"] == "公交车费问答"
    assert [e["result"] for e in await audit_of(staff, "inbox.new_topic")] == ["ok"]


async def test_mark_answered_dismiss_with_a_reason_and_reopen(admin_client, signed_in, staff):
    await chat(admin_client, "u1", "平泉护照怎么办理")
    await chat(admin_client, "u1", "火星移民签证怎么办理")
    editor = await signed_in("editor")
    passport, mars = sorted(await groups(editor), key=lambda g: g["focus"] != "护照怎么办理")
    await editor.json("POST", f"inbox/{passport['id']}/answered", {"topic": "no-such"}, status=422)
    done = await editor.json("POST", f"inbox/{passport['id']}/answered", {"topic": "bus-fare"})
    assert (done["group"]["status"], done["group"]["topic"]) == ("done", "bus-fare")
    refused = await editor.json("POST", f"inbox/{mars['id']}/dismiss", {"reason": " "}, status=422)
    assert refused["errors"][0]["field"] == "reason"
    gone = await editor.json("POST", f"inbox/{mars['id']}/dismiss", {"reason": "与本地政务无关"})
    assert (gone["group"]["status"], gone["group"]["reason"]) == ("dismissed", "与本地政务无关")
    assert [g["id"] for g in await groups(editor, status="dismissed")] == [mars["id"]]
    back = await editor.json("POST", f"inbox/{mars['id']}/status", {"status": "new"})
    assert back["group"]["status"] == "new"
    await editor.json("POST", f"inbox/{mars['id']}/status", {"status": "done"}, status=422)
    actions = [e["action"] for e in await staff.audit.entries(action="inbox")]
    assert sorted(actions) == ["inbox.answered", "inbox.dismiss", "inbox.status"]
    await editor.json("POST", "inbox/nothing/dismiss", {"reason": "x"}, status=404)


# -- bounds ---------------------------------------------------------------------------------------

async def test_one_user_cannot_inflate_a_group_and_repeats_are_one_wording(admin_client, signed_in):
    for _ in range(10):
        await chat(admin_client, "flooder", "护照怎么办理？")
        await chat(admin_client, "flooder", "护照怎么办理!!")
    [group] = await groups(await signed_in("viewer"))
    assert group["count"] == 3 and group["users"] == 1
    assert len(group["questions"]) == 2          # wordings as sent; one normalised text, one entry each


async def test_the_inbox_keeps_180_days_and_a_bounded_number_of_groups(redis, settings):
    inbox = Inbox(redis, "bounds", max_groups=3)
    now = time.time()

    def missed(text: str, at: float) -> Missed:
        return Missed(text, text, text, "fallback", "web", None, "h-" + text, at)
    await inbox.add(missed("很久以前的问题", now - KEEP - 60))
    for n, text in enumerate(["甲问题是什么", "乙事项如何", "丙东西在哪", "丁地方几点"]):
        await inbox.add(missed(text, now + n))
    assert [g["focus"] for g in await inbox.groups()] == ["丁地方几点", "丙东西在哪", "乙事项如何"]
    ttls = [await redis.ttl(k) for k in await redis.keys("bounds:inbox:g:*")]
    assert ttls and all(KEEP - 60 < t <= KEEP for t in ttls)
    assert await redis.hlen("bounds:inbox:texts") == 3


async def test_citizens_ids_are_stored_only_as_keyed_hashes(admin_client, redis):
    await chat(admin_client, "citizen-4711", "平泉护照怎么办理")
    await chat(admin_client, "citizen-4711", BUS)
    dump = b"".join([k + (await redis.dump(k) or b"") for k in await redis.keys("*")
                     if b":inbox:" in k or b":qlog:" in k or b":fb:" in k])
    assert dump and b"citizen-4711" not in dump


# -- ratings --------------------------------------------------------------------------------------

async def test_web_chat_rating_is_stored_once_per_answer_and_not_helpful_goes_to_the_inbox(admin_client, signed_in):
    resp = await admin_client.post("/api/web/chat", json={"text": BUS})
    answer = await resp.json()
    assert answer["kind"] == "answer" and answer["rating"]
    down = await admin_client.post("/api/web/feedback", headers=same_site(admin_client), json={"rating": answer["rating"], "helpful": False})
    assert down.status == 200 and (await down.json())["ok"]
    again = await admin_client.post("/api/web/feedback", headers=same_site(admin_client), json={"rating": answer["rating"], "helpful": True})
    assert again.status == 409
    bad = await admin_client.post("/api/web/feedback", headers=same_site(admin_client), json={"rating": answer["rating"], "helpful": "yes"})
    assert bad.status == 400
    viewer = await signed_in("viewer")
    [group] = await groups(viewer)
    assert group["kinds"] == {"not_helpful": 1} and group["questions"][0]["text"] == BUS
    figures = await viewer.json("GET", "dashboard?days=1")
    [rating] = figures["ratings"]
    assert (rating["topic"], rating["up"], rating["down"]) == ("bus-fare", 0, 1)
    assert rating["by"] == [{"city": "平泉", "version": 1, "down": 1}]


async def test_another_browser_cannot_rate_someone_elses_answer(admin_client):
    answer = await (await admin_client.post("/api/web/chat", json={"text": BUS})).json()
    admin_client.session.cookie_jar.clear()                             # another browser: no cookie
    resp = await admin_client.post("/api/web/feedback", headers=same_site(admin_client), json={"rating": answer["rating"], "helpful": True})
    assert resp.status == 409


async def test_wechat_1_after_an_answer_is_a_rating_not_a_question(wechat, redis):  # noqa: F811
    h = await wechat()
    answer = await h.sim.post(h.sim.text(BUS, user="oRater"))
    assert answer.text.endswith(say.RATE_HINT) and "2元" in answer.text
    rated = await h.sim.post(h.sim.text("2", user="oRater"))
    assert rated.text == say.THANKS
    log = h.app[keys.RECORDER].log
    entries = await log.entries(day_of(time.time()))
    assert [e["text"] for e in entries] == [BUS]                       # "2" was not asked as a question
    stats = await log.stats(day_of(time.time()))
    assert stats["rate:bus-fare|平泉|1:down"] == 1
    [group] = await h.app[keys.RECORDER].inbox.groups()
    assert group["kinds"] == {"not_helpful": 1} and group["channels"] == {"wechat": 1}
    again = await h.sim.post(h.sim.text("1", user="oRater"))          # nothing awaits a rating now
    assert again.text != say.THANKS
    assert [e["text"] for e in await log.entries(day_of(time.time()))] == [BUS, "1"]


async def test_wechat_rating_hint_can_be_turned_off(aiohttp_client, settings, redis, fake_api):  # noqa: F811
    ws = wechat_settings("plain", fake_api.url)
    client = await aiohttp_client(create_app(replace(settings, wechat=ws, feedback_hint=False), redis=redis))
    sim = WeChatSim(str(client.make_url("/wechat")), TOKEN, appid=APPID, mode="plain")
    try:
        answer = await sim.post(sim.text(BUS, user="oQuiet"))
        assert "2元" in answer.text and say.RATE_HINT not in answer.text
        one = await sim.post(sim.text("1", user="oQuiet"))
        assert one.text != say.THANKS
    finally:
        await sim.close()


# -- ratings while Redis is away ----------------------------------------------------------------------

async def _until(check, seconds: float = 15.0):
    """check() until it gives something truthy; a generous bound, not a timing."""
    deadline = time.monotonic() + seconds
    while not (result := await check()) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return result


async def test_a_web_rating_while_redis_is_away_is_answered_clearly_and_can_be_given_later(admin_client,
                                                                                            redis_server):
    answer = await (await admin_client.post("/api/web/chat", json={"text": BUS})).json()
    redis_server.pause()
    try:
        rated = await admin_client.post("/api/web/feedback", headers=same_site(admin_client),
                                        json={"rating": answer["rating"], "helpful": False})
        said = await rated.json()
        asked = await admin_client.post("/api/web/chat", json={"text": BUS})
        meanwhile = await asked.json()
    finally:
        redis_server.resume()
    assert rated.status == 503 and said == {"error": say_web.RATING_AWAY}
    assert asked.status == 200 and meanwhile["kind"] == "answer" and "2元" in meanwhile["reply"]
    assert "rating" not in meanwhile                     # no buttons for a rating that could not be kept

    async def rate_again():
        resp = await admin_client.post("/api/web/feedback", headers=same_site(admin_client),
                                       json={"rating": answer["rating"], "helpful": False})
        return resp.status == 200
    assert await _until(rate_again)                      # the offer was kept: the rating counts once back


async def test_a_wechat_1_while_redis_is_away_is_a_rating_not_a_question(wechat, redis_server, monkeypatch):  # noqa: F811
    h = await wechat()
    answer = await h.sim.post(h.sim.text(BUS, user="oAway"))
    assert answer.text.endswith(say.RATE_HINT)
    asked = h.count_dialogue(monkeypatch)
    redis_server.pause()
    try:
        rated = await h.sim.post(h.sim.text("1", user="oAway"))
    finally:
        redis_server.resume()
    assert rated.status == 200 and rated.text == say.RATING_AWAY
    assert asked == []                                   # "1" never reached the dialogue
    log = h.app[keys.RECORDER].log
    assert await _until(lambda: log.entries(day_of(time.time())))
    assert [e["text"] for e in await log.entries(day_of(time.time()))] == [BUS]


# -- dashboard ------------------------------------------------------------------------------------

async def test_dashboard_figures_from_a_known_log(admin_client, signed_in):
    log: QuestionLog = admin_client.app[keys.RECORDER].log
    yesterday, today = last_days(2)
    noon = {d: datetime.fromisoformat(d + "T12:00").replace(tzinfo=ZONE).timestamp() for d in (yesterday, today)}
    known = [(yesterday, "web", "answer", "bus-fare"), (yesterday, "wechat", "answer", "bus-fare"),
             (yesterday, "web", "fallback", None), (today, "web", "clarify", "old-community"),
             (today, "wechat", "refuse", "bus-fare"), (today, "wechat", "excerpt", None),
             (today, "api", "answer", "social-card-time")]
    for day, channel, kind, topic in known:
        await log.record(channel=channel, kind=kind, topic=topic, city="平泉", user="h", text="问",
                         confidence=0.5, version=1, at=noon[day])
    figures = await (await signed_in("viewer")).json("GET", "dashboard?days=2")
    by_day = {d["day"]: d for d in figures["days"]}
    assert by_day[yesterday]["channels"] == {"web": 2, "wechat": 1}
    assert by_day[today]["channels"] == {"web": 1, "wechat": 2, "api": 1}
    assert by_day[yesterday]["outcomes"] == {"answered": 2, "clarified": 0, "refused": 0, "excerpt": 0,
                                             "fallback": 1}
    assert by_day[today]["outcomes"] == {"answered": 1, "clarified": 1, "refused": 1, "excerpt": 1,
                                         "fallback": 0}
    assert figures["totals"]["questions"] == 7
    assert [(t["id"], t["count"]) for t in figures["top_topics"]][0] == ("bus-fare", 3)
    assert isinstance(figures["overdue"], list) and figures["top_missed"] == []
    await (await signed_in("viewer", "viewer2")).json("GET", "dashboard?days=0", status=422)


async def test_question_log_csv_hashes_users_and_defuses_formulas(admin_client, signed_in, staff):
    await chat(admin_client, "citizen-0815", "=HYPERLINK(\"http://evil\")")
    await chat(admin_client, "citizen-0815", BUS)
    viewer = await signed_in("viewer")
    resp = await viewer.call("GET", "questions.csv?days=1")
    text = await resp.text()
    assert resp.status == 200 and text.startswith("\ufeff时间,渠道,结果")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r[6] for r in rows[1:]] == ["'=HYPERLINK(\"http://evil\")", BUS]
    assert "citizen-0815" not in text and len({r[5] for r in rows[1:]}) == 1
    assert [e["after"]["rows"] for e in await audit_of(staff, "questions.export")] == [2]


async def test_a_rating_from_another_site_is_refused(admin_client):
    answer = await (await admin_client.post("/api/web/chat", json={"text": BUS})).json()
    for headers in ({}, {"Origin": "https://evil.example"}):
        resp = await admin_client.post("/api/web/feedback", headers=headers,
                                       json={"rating": answer["rating"], "helpful": False})
        assert resp.status == 403
