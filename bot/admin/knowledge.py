"""The knowledge pages of the API: browse and edit the draft, hit test, briefings, publish and rollback,
versions and diffs, golden questions, overdue answers, releases.

The work is done by the knowledge versions (bot/knowledge/versions.py) and the live Brain's holder
(bot/understanding/holder.py) that create_app puts on the app; this module translates and audits.
Every save is audited, a rejected one too (with its field errors), and changes nothing when rejected.
"""
from __future__ import annotations

import re

from aiohttp import web

from bot import keys
from bot.admin.context import actor, body, reply, staff
from bot.admin.hits import hit
from bot.admin.problems import Invalid, Problem
from bot.knowledge.check import gap_holes
from bot.knowledge.dump import yaml_part
from bot.knowledge.schema import in_order
from bot.knowledge.versions import Conflict, PublishRejected, Versions
from bot.understanding.holder import BrainHolder

_SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]?")


def _versions(request: web.Request) -> Versions:
    return request.app[keys.VERSIONS]


def _holder(request: web.Request) -> BrainHolder:
    return request.app[keys.BRAIN]


def _yaml(raw: dict | None) -> dict | None:
    """A draft topic with exactly the fields of its YAML (not the file it is kept in)."""
    return None if raw is None else yaml_part(raw)


# ---------------------------------------------------------------------------------------- topics

async def list_topics(request: web.Request) -> web.Response:
    q = request.query.get("q", "").strip()
    topics = [t for t in await _versions(request).draft_topics() if _found(t, q)]
    return reply({"topics": [{"id": t["id"], "title": t["title"], "category": t.get("category", ""),
                              "cities": list(in_order(t.get("answers", {}))),
                              "examples": len(t.get("examples", []))} for t in topics]})


def _found(topic: dict, q: str) -> bool:
    """Search by id, title, example, answer text, or city."""
    if not q:
        return True
    answers = topic.get("answers", {})
    texts = [topic["id"], topic["title"], *topic.get("examples", []), *answers,
             *(a.get("text", "") for a in answers.values())]
    return any(q.lower() in str(t).lower() for t in texts)


async def get_topic(request: web.Request) -> web.Response:
    topic = await _versions(request).draft_topic(request.match_info["id"])
    if topic is None:
        raise Invalid(f"草稿里没有编号为“{request.match_info['id']}”的话题", status=404)
    return reply(_yaml(topic))


async def put_topic(request: web.Request) -> web.Response:
    payload = await body(request)
    topic_id = request.match_info["id"]
    if payload.get("id", topic_id) != topic_id:
        raise Invalid.on("id", "话题编号不能修改；要换编号，请新建话题并停用旧的")
    return await _save(request, {**payload, "id": topic_id}, create=False)


async def create_topic(request: web.Request) -> web.Response:
    payload = await body(request)
    if not isinstance(payload.get("id"), str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", payload["id"]):
        raise Invalid.on("id", "话题编号用小写字母、数字和连字符，例如 bus-fare")
    return await _save(request, payload, create=True)


async def _save(request: web.Request, raw: dict, *, create: bool) -> web.Response:
    versions, found = _versions(request), actor(request)
    raw = _yaml(raw)
    before = _yaml(await versions.draft_topic(raw["id"]))
    errors = await versions.save_topic(raw, found.user.username, create=create)
    action = "topic.create" if create else "topic.save"
    if errors:
        problems = [Problem(e.field, e.message) for e in errors]
        await staff(request).audit.record(found.who, action, raw["id"], result="rejected", before=before,
                                          after={"topic": raw, "errors": [p.to_json() for p in problems]})
        raise Invalid("保存被拒绝：" + "；".join(p.message for p in problems[:3]), problems)
    saved = _yaml(await versions.draft_topic(raw["id"]))
    await staff(request).audit.record(found.who, action, raw["id"], before=before, after=saved)
    return reply({"topic": saved}, 201 if create else 200)


async def retire_topic(request: web.Request) -> web.Response:
    versions, found = _versions(request), actor(request)
    topic_id = request.match_info["id"]
    before = _yaml(await versions.draft_topic(topic_id))
    if before is None or not await versions.retire_topic(topic_id, found.user.username):
        raise Invalid(f"草稿里没有编号为“{topic_id}”的话题", status=404)
    await staff(request).audit.record(found.who, "topic.retire", topic_id, before=before)
    return reply({"retired": topic_id})


# -------------------------------------------------------------------------------- hit test, seeds

async def hit_test(request: web.Request) -> web.Response:
    """The question through the real turn logic on the draft's or the live Brain, with a fresh session."""
    payload = await body(request)
    text, city, version = payload.get("text"), payload.get("city") or None, payload.get("version", "draft")
    if not isinstance(text, str) or not text.strip():
        raise Invalid.on("text", "请输入要测试的问题")
    if version not in ("draft", "live"):
        raise Invalid.on("version", "version 必须是 draft 或 live")
    holder = _holder(request)
    brain = await holder.draft_brain() if version == "draft" else holder.brain
    cities = brain.knowledge.cities
    if city is not None and city not in cities:
        raise Invalid.on("city", "城市必须是" + "、".join(cities) + "之一")
    return reply({"version": version, **hit(brain, text[:500], city)})


async def cities(request: web.Request) -> web.Response:
    """The cities the console offers: those the live version and the draft answer for (the hit test's
    list), and those with a briefing (an answer can be added for them). Staff add a city by uploading
    its briefing, so no list here is fixed."""
    versions = _versions(request)
    draft = await versions.draft_knowledge()
    return reply({"live": list(_holder(request).brain.knowledge.answered_cities),
                  "draft": list(draft.answered_cities), "briefings": list(draft.cities)})


async def list_seeds(request: web.Request) -> web.Response:
    seeds = _versions(request).seeds
    return reply({"seeds": [{"file": s.file, "city": s.city, "title": s.title, "date": s.date}
                            for s in seeds.values()]})


async def get_seed(request: web.Request) -> web.Response:
    """The briefing for the quote picker, sentence by sentence; a sentence with a lost figure is marked
    (`gap`), and `holes` gives where in it the figure is missing."""
    seed = _versions(request).seeds.get(request.match_info["file"])
    if seed is None:
        raise Invalid("没有这份简报", status=404)
    holes = gap_holes(seed)
    sentences = []
    for m in _SENTENCE.finditer(seed.text):
        inside = [h - m.start() for h in holes if m.start() < h < m.end()]
        if m.group().strip():
            sentences.append({"text": m.group(), "gap": bool(inside), "holes": inside})
    return reply({"file": seed.file, "city": seed.city, "title": seed.title, "date": seed.date,
                  "text": seed.text, "gaps": list(seed.gaps), "sentences": sentences})


# ------------------------------------------------------------------------ publish, rollback, versions

async def publish(request: web.Request) -> web.Response:
    """Golden questions first: when any would change or fail, answer 409 with the report until the
    request says `confirm: true`. Then the whole draft is checked, as `citizen-bot check` does."""
    versions, holder, found, audit = _versions(request), _holder(request), actor(request), staff(request).audit
    payload = await body(request)
    note = payload.get("note")
    if not isinstance(note, str) or not note.strip():
        raise Invalid.on("note", "请写一句发布说明，例如“平泉公交票价答案措辞调整”")
    report = await versions.golden_report(holder.brain, await holder.draft_brain())
    flagged = [g for g in report if g["changes"] or g["fails"]]
    if flagged and payload.get("confirm") is not True:
        return reply({"error": f"有{len(flagged)}个黄金问题的回答会变化或失败，请核对后确认发布", "errors": [],
                      "golden": report, "confirm_required": True}, 409)
    try:
        number = await versions.publish(note.strip(), found.user.username)
    except PublishRejected as exc:
        await audit.record(found.who, "publish", "draft", result="rejected", after={"note": note,
                           "problems": exc.problems[:50]})
        raise Invalid("草稿没有通过检查，未发布", [Problem(e.field, e.message) for e in exc.errors]) from None
    except Conflict:
        raise Invalid("有人同时在发布或修改草稿，请稍后重试", status=409) from None
    await holder.refresh()                 # this process at once; the others within about a second
    await audit.record(found.who, "publish", f"version {number}", after={
        "version": number, "note": note.strip(), "golden_flagged": [g["question"] for g in flagged]})
    return reply({"version": number, "golden": report})


async def rollback(request: web.Request) -> web.Response:
    versions, holder, found = _versions(request), _holder(request), actor(request)
    target = (await body(request)).get("version")
    if not isinstance(target, int) or isinstance(target, bool) or target < 1:
        raise Invalid.on("version", "version 必须是版本号（正整数）")
    live = await versions.live_number()
    try:
        number = await versions.rollback(target, found.user.username)
    except KeyError:
        raise Invalid.on("version", f"没有第{target}版", status=404) from None
    except Conflict:
        raise Invalid("有人同时在发布，请稍后重试", status=409) from None
    await holder.refresh()
    await staff(request).audit.record(found.who, "rollback", f"version {target}",
                                      before={"live": live}, after={"version": number, "restores": target})
    return reply({"version": number, "restores": target})


async def list_versions(request: web.Request) -> web.Response:
    versions = _versions(request)
    return reply({"versions": [v.to_json() for v in await versions.versions()],
                  "live": await versions.live_number()})


async def diff(request: web.Request) -> web.Response:
    a, b = (_version_name(request.match_info[k]) for k in ("a", "b"))
    try:
        changes = await _versions(request).diff(a, b)
    except KeyError:
        raise Invalid("没有这个版本", status=404) from None
    return reply({"from": a, "to": b, "changes": [d.to_json() for d in changes]})


def _version_name(raw: str):
    if raw in ("live", "draft"):
        return raw
    if not raw.isdigit():
        raise Invalid("版本应是数字、live 或 draft", status=404)
    return int(raw)


async def draft_changes(request: web.Request) -> web.Response:
    return reply({"changes": [d.to_json() for d in await _versions(request).draft_changes()]})


# -------------------------------------------------------------------- golden, overdue, release

async def list_golden(request: web.Request) -> web.Response:
    return reply({"golden": await _versions(request).golden()})


async def add_golden(request: web.Request) -> web.Response:
    versions, found = _versions(request), actor(request)
    payload = await body(request)
    question, topic, city = payload.get("question"), payload.get("topic"), payload.get("city") or None
    problems = []
    if not isinstance(question, str) or not question.strip():
        problems.append(Problem("question", "请输入问题"))
    if not isinstance(topic, str) or await versions.draft_topic(topic) is None:
        problems.append(Problem("topic", f"没有编号为“{topic}”的话题"))
    await versions.refresh_seeds()                      # a city staff just added by its briefing counts
    known = in_order(s.city for s in versions.seeds.values())
    if city is not None and city not in known:
        problems.append(Problem("city", "城市必须是" + "、".join(known) + "之一"))
    if problems:
        raise Invalid("黄金问题没有添加", problems)
    pin = await versions.pin(question.strip(), topic, city, found.user.username)
    await staff(request).audit.record(found.who, "golden.add", question.strip(), after=pin)
    return reply({"golden": pin}, 201)


async def remove_golden(request: web.Request) -> web.Response:
    versions, found = _versions(request), actor(request)
    question = request.query.get("question") or (await body(request)).get("question")
    if not isinstance(question, str) or not await versions.unpin(question, found.user.username):
        raise Invalid.on("question", "没有这个黄金问题", status=404)
    await staff(request).audit.record(found.who, "golden.remove", question)
    return reply({"removed": question})


async def overdue(request: web.Request) -> web.Response:
    return reply({"overdue": await _versions(request).overdue()})


async def release(request: web.Request) -> web.Response:
    """The repository's intents/, when they differ from what was taken in, as a proposed change."""
    return reply({"release": await _versions(request).release_proposal()})


async def adopt_release(request: web.Request) -> web.Response:
    """Take the release into the draft; topics staff changed keep their edits and are listed."""
    versions, found = _versions(request), actor(request)
    if await versions.release_proposal() is None:
        raise Invalid("没有待采纳的新版本", status=409)
    conflicts = await versions.adopt_release(found.user.username)
    await staff(request).audit.record(found.who, "release.adopt", "intents/", after={"kept_staff_edits": conflicts})
    return reply({"kept_staff_edits": conflicts})
