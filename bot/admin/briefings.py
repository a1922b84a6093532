"""A new briefing in the staff console: upload (pasted text, .txt or .docx) with city, title and date;
its candidate facts with the suggested topic, lost figures flagged; one click makes a candidate a draft
answer (the sentence verbatim as its quote) on an existing topic or on a new one. Storage:
bot/knowledge/briefings.py; candidates and gaps: bot/knowledge/ingest.py."""
from __future__ import annotations

import re

from aiohttp import web

from bot import keys
from bot.admin.context import actor, body, reply, staff
from bot.admin.problems import Invalid, Problem
from bot.admin.uploads import read_upload
from bot.knowledge.briefings import BriefingError, text_of_upload
from bot.knowledge.dump import yaml_part
from bot.knowledge.ingest import candidates
from bot.understanding.brain import Brain
from bot.understanding.understand import understand

MAX_UPLOAD = 5 * 1024 * 1024
SUGGEST_MIN = 0.2


async def upload(request: web.Request) -> web.Response:
    """JSON {city, title, date, text, places} (pasted), or a raw .txt/.docx body with those in the query."""
    if request.content_type == "application/json":
        fields = await body(request)
        text = fields.get("text")
    else:
        fields = dict(request.query)
        text = text_of_upload(await _read(request), fields.get("name", ""))
    versions = request.app[keys.VERSIONS]
    await versions.refresh_seeds()
    who = actor(request)
    places = fields.get("places") or []
    places = [p.strip() for p in (places.split("、") if isinstance(places, str) else places) if p.strip()]
    try:
        seed = await versions.staff_seeds.add(
            city=str(fields.get("city") or ""), title=str(fields.get("title") or ""),
            date=str(fields.get("date") or ""), text=str(text or ""), actor=who.user.username,
            taken=len(versions.seeds), places=places)
    except BriefingError as exc:
        raise Invalid(str(exc), [Problem("text", str(exc))]) from None
    await versions.refresh_seeds()
    await staff(request).audit.record(who.who, "briefing.upload", seed.file, after={
        "city": seed.city, "title": seed.title, "date": seed.date, "chars": len(seed.text), "gaps": list(seed.gaps)})
    return reply(_briefing(request, seed), 201)


async def _read(request: web.Request) -> bytes:
    return await read_upload(request, MAX_UPLOAD, "文件太大：最大5MB")


async def get_candidates(request: web.Request) -> web.Response:
    versions = request.app[keys.VERSIONS]
    await versions.refresh_seeds()
    seed = versions.seeds.get(request.match_info["file"])
    if seed is None:
        raise Invalid("没有这份简报", status=404)
    return reply(_briefing(request, seed))


def _briefing(request: web.Request, seed) -> dict:
    brain = request.app[keys.BRAIN].brain
    paragraphs: dict[int, list] = {}
    for c in candidates(seed.text):
        paragraphs.setdefault(c.paragraph, []).append({**c.to_json(), "suggested": _suggest(brain, c.sentence)})
    return {"file": seed.file, "city": seed.city, "title": seed.title, "date": seed.date, "staff": seed.staff,
            "gaps": list(seed.gaps), "places": list(seed.places),
            "paragraphs": [{"paragraph": n, "candidates": cs} for n, cs in paragraphs.items()]}


def _suggest(brain: Brain, sentence: str) -> dict | None:
    asked = understand(sentence[:500], brain.gazetteer, brain.spelling).text
    ranked = brain.matcher.rank(asked) if asked else []
    if not ranked or ranked[0].score < SUGGEST_MIN:
        return None
    topic = brain.knowledge.by_id[ranked[0].topic]
    return {"id": topic.id, "title": topic.title, "score": round(ranked[0].score, 3)}


async def make_answer(request: web.Request) -> web.Response:
    """{start, topic} -> the candidate as this city's answer on that topic; {start, new: {id, title,
    category, examples}} -> a new topic with it. The sentence is text and quote, verbatim."""
    payload, versions, who = await body(request), request.app[keys.VERSIONS], actor(request)
    await versions.refresh_seeds()
    seed = versions.seeds.get(request.match_info["file"])
    if seed is None:
        raise Invalid("没有这份简报", status=404)
    found = next((c for c in candidates(seed.text) if c.start == payload.get("start")), None)
    if found is None:
        raise Invalid.on("start", "没有这条候选句子")
    if found.lost_figure:
        raise Invalid.on("start", "这句话里有转写时丢失的数字，不能作为原文引用")
    answer = {"text": found.sentence, "quotes": [found.sentence], "seed": seed.file}
    raw, create = await _target(versions, payload, seed.city, answer)
    errors = await versions.save_topic(raw, who.user.username, create=create)
    target = {"topic": raw["id"], "city": seed.city, "sentence": found.sentence, "create": create}
    if errors:
        problems = [Problem(e.field, e.message) for e in errors]
        await staff(request).audit.record(who.who, "briefing.answer", seed.file, result="rejected",
                                          after={**target, "errors": [p.to_json() for p in problems]})
        raise Invalid("未保存：" + "；".join(p.message for p in problems[:3]), problems)
    await staff(request).audit.record(who.who, "briefing.answer", seed.file, after=target)
    return reply({"topic": yaml_part(await versions.draft_topic(raw["id"]))}, 201 if create else 200)


async def _target(versions, payload: dict, city: str, answer: dict) -> tuple[dict, bool]:
    new = payload.get("new")
    if isinstance(new, dict):
        if not isinstance(new.get("id"), str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", new["id"]):
            raise Invalid.on("id", "话题编号用小写字母、数字和连字符，例如 bus-fare")
        return {"id": new["id"], "title": str(new.get("title") or ""), "category": str(new.get("category") or ""),
                "examples": [str(e) for e in new.get("examples") or []], "answers": {city: answer}}, True
    topic = await versions.draft_topic(str(payload.get("topic") or ""))
    if topic is None:
        raise Invalid.on("topic", "请选择草稿里已有的话题，或新建话题")
    if city in topic.get("answers", {}) and payload.get("replace") is not True:
        raise Invalid.on("topic", f"话题“{topic['title']}”已有{city}的答案；确认替换请勾选“替换”", status=409)
    return {**yaml_part(topic), "answers": {**topic.get("answers", {}), city: answer}}, False


def routes(r: web.UrlDispatcher, a: str) -> None:
    r.add_post(f"{a}/briefings", upload)
    r.add_get(f"{a}/briefings/{{file}}/candidates", get_candidates)
    r.add_post(f"{a}/briefings/{{file}}/answer", make_answer)

