"""The missed-questions inbox in the staff console: groups with their suggested topic and whether the live
knowledge answers them now, and the actions on a group. Storage and grouping: bot/state/inbox.py.

Actions (each audited as `inbox.<action>`, refusals too):
  example    add the group's wording as an example question of an existing topic (into the draft)
  new-topic  start a new topic from it: without a topic, a skeleton for the editor; with one, created
  answered   mark it answered by a topic (done)
  dismiss    with a reason (dismissed)
  status     set new / in_progress by hand (reopen)
"""
from __future__ import annotations

import asyncio
import re

from aiohttp import web

from bot import keys
from bot.admin.context import actor, body, reply, staff
from bot.admin.problems import Invalid, Problem
from bot.dialogue.turn import Dialogue
from bot.knowledge.dump import yaml_part
from bot.state.inbox import STATUSES, Inbox
from bot.state.store import Session
from bot.understanding.brain import Brain

SUGGEST_MIN = 0.12       # a topic scoring below this for the group's focus is no suggestion
CHECKED = 3              # wordings per group run against the live Brain
ANSWERED = ("answer", "clarify")


def _inbox(request: web.Request) -> Inbox:
    return request.app[keys.RECORDER].inbox


async def list_groups(request: web.Request) -> web.Response:
    status = request.query.get("status") or None
    if status and status not in STATUSES:
        raise Invalid.on("status", "状态必须是 " + "、".join(STATUSES) + " 之一")
    try:
        limit = max(1, min(500, int(request.query.get("limit") or 100)))
    except ValueError:
        raise Invalid.on("limit", "limit 必须是整数") from None
    groups = await _inbox(request).groups(status, limit)
    brain = request.app[keys.BRAIN].brain
    shown = await asyncio.get_running_loop().run_in_executor(None, lambda: [_view(brain, g) for g in groups])
    return reply({"groups": shown, "statuses": list(STATUSES), "total": await _inbox(request).size(),
                  "version": request.app[keys.BRAIN].number})


def _view(brain: Brain, group: dict) -> dict:
    return {**group, "suggested": suggest(brain, group), "now": answered_now(brain, group)}


def suggest(brain: Brain, group: dict) -> dict | None:
    """The topic the matcher finds for the group's focus (even below the answering threshold)."""
    city = _main_city(group)
    ranked = brain.matcher.rank(group["focus"], city) if group["focus"] else []
    if not ranked or ranked[0].score < SUGGEST_MIN:
        return None
    topic = brain.knowledge.by_id[ranked[0].topic]
    return {"id": topic.id, "title": topic.title, "score": round(ranked[0].score, 3)}


def answered_now(brain: Brain, group: dict) -> dict:
    """Each of the group's top wordings through the real turn logic of the live Brain, fresh session."""
    dialogue = Dialogue(brain, None)
    results = []
    for q in group["questions"][:CHECKED]:
        r, _ = dialogue.turn(q["text"], Session())
        results.append({"text": q["text"], "kind": r.kind, "topic": r.topic, "city": r.city,
                        "answered": r.kind in ANSWERED and (not group["topic"] or r.topic == group["topic"])})
    return {"answered": sum(r["answered"] for r in results), "of": len(results), "replies": results}


def _main_city(group: dict) -> str | None:
    cities = {c: n for c, n in group["cities"].items() if c != "未说明"}
    return max(cities, key=cities.get) if cities else None


def example_of(text: str, cities) -> str:
    """A wording as an example question: no city names (examples are city-independent), no end mark."""
    for city in sorted(cities, key=len, reverse=True):
        text = text.replace(city + "市", "").replace(city, "")
    return re.sub(r"^[，,。\s]+|[？?！!。\s]+$", "", text).strip()


async def _group(request: web.Request) -> dict:
    group = await _inbox(request).group(request.match_info["id"])
    if group is None:
        raise Invalid("收件箱里没有这一组问题（可能已超过180天被清理）", status=404)
    return group


async def _audit(request: web.Request, action: str, group: dict, *, result: str = "ok", after=None) -> None:
    await staff(request).audit.record(actor(request).who, f"inbox.{action}", group["id"], result=result,
                                      before={"status": group["status"], "topic": group["topic"],
                                              "focus": group["focus"]}, after=after)


async def _set(request: web.Request, group: dict, action: str, status: str, **kw) -> web.Response:
    fields = await _inbox(request).set_status(group["id"], status, actor(request).user.username, **kw)
    await _audit(request, action, group, after={k: v for k, v in fields.items() if k != "changed"})
    return reply({"group": await _inbox(request).group(group["id"])})


async def add_example(request: web.Request) -> web.Response:
    group, payload = await _group(request), await body(request)
    versions, who = request.app[keys.VERSIONS], actor(request)
    topic = await versions.draft_topic(str(payload.get("topic") or ""))
    if topic is None:
        raise Invalid.on("topic", "请选择草稿里已有的话题")
    example = str(payload.get("example") or example_of(group["questions"][0]["text"], _cities(request))).strip()
    if not example:
        raise Invalid.on("example", "请填写要加入的相似问题")
    if example in topic.get("examples", []):
        raise Invalid.on("example", f"话题“{topic['title']}”已经有这个相似问题")
    raw = {**yaml_part(topic), "examples": [*topic.get("examples", []), example]}
    errors = await versions.save_topic(raw, who.user.username)
    if errors:
        problems = [Problem(e.field, e.message) for e in errors]
        await _audit(request, "example", group, result="rejected",
                     after={"topic": topic["id"], "example": example, "errors": [p.to_json() for p in problems]})
        raise Invalid("未能加入：" + "；".join(p.message for p in problems[:3]), problems)
    return await _set(request, group, "example", "in_progress", topic=topic["id"], reason=f"已加入相似问题：{example}")


def _cities(request: web.Request) -> list[str]:
    return sorted({s.city for s in request.app[keys.VERSIONS].seeds.values()})


async def new_topic(request: web.Request) -> web.Response:
    """Without `topic`: a skeleton (title and examples from the group) for the topic editor, nothing
    saved. With `topic` (a whole topic): created in the draft, grounding-checked like any save."""
    group, payload = await _group(request), await body(request)
    cities = _cities(request)
    if not isinstance(payload.get("topic"), dict):
        examples = list(dict.fromkeys(example_of(q["text"], cities) for q in group["questions"]))
        return reply({"skeleton": {"id": "", "title": example_of(group["questions"][0]["text"], cities),
                                   "category": "", "examples": [e for e in examples if e][:10], "answers": {}}})
    raw = payload["topic"]
    if not isinstance(raw.get("id"), str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", raw["id"]):
        raise Invalid.on("id", "话题编号用小写字母、数字和连字符，例如 bus-fare")
    errors = await request.app[keys.VERSIONS].save_topic(raw, actor(request).user.username, create=True)
    if errors:
        problems = [Problem(e.field, e.message) for e in errors]
        await _audit(request, "new_topic", group, result="rejected",
                     after={"topic": raw.get("id"), "errors": [p.to_json() for p in problems]})
        raise Invalid("新话题未保存：" + "；".join(p.message for p in problems[:3]), problems)
    return await _set(request, group, "new_topic", "in_progress", topic=raw["id"], reason="新建话题")


async def mark_answered(request: web.Request) -> web.Response:
    group, payload = await _group(request), await body(request)
    topic_id = str(payload.get("topic") or "")
    if request.app[keys.BRAIN].brain.knowledge.topic(topic_id) is None \
            and await request.app[keys.VERSIONS].draft_topic(topic_id) is None:
        raise Invalid.on("topic", "请选择回答这组问题的话题")
    return await _set(request, group, "answered", "done", topic=topic_id)


async def dismiss(request: web.Request) -> web.Response:
    group, payload = await _group(request), await body(request)
    reason = payload.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid.on("reason", "请写明忽略的理由，例如“与本地政务无关”")
    return await _set(request, group, "dismiss", "dismissed", reason=reason.strip()[:200])


async def set_status(request: web.Request) -> web.Response:
    group, payload = await _group(request), await body(request)
    status = payload.get("status")
    if status not in ("new", "in_progress"):
        raise Invalid.on("status", "只能手动改回“new”（重新打开）或“in_progress”（处理中）")
    return await _set(request, group, "status", status, topic=group["topic"] or "")


def routes(r: web.UrlDispatcher, a: str) -> None:
    r.add_get(f"{a}/inbox", list_groups)
    r.add_post(f"{a}/inbox/{{id}}/example", add_example)
    r.add_post(f"{a}/inbox/{{id}}/new-topic", new_topic)
    r.add_post(f"{a}/inbox/{{id}}/answered", mark_answered)
    r.add_post(f"{a}/inbox/{{id}}/dismiss", dismiss)
    r.add_post(f"{a}/inbox/{{id}}/status", set_status)
