"""The dashboard's figures from the question log (bot/state/questions.py) and the inbox, and the CSV
export of the question log (user ids are keyed hashes already; cells are safe from formula injection)."""
from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime

from aiohttp import web

from bot import keys
from bot.admin.context import actor, reply, staff
from bot.admin.problems import Invalid
from bot.knowledge.sheets import formula_safe
from bot.state.questions import ZONE, last_days

MAX_DAYS = 90
OUTCOMES = {"answer": "answered", "clarify": "clarified", "refuse": "refused", "excerpt": "excerpt",
            "fallback": "fallback"}
TOP = 10
CSV_COLUMNS = ("时间", "渠道", "结果", "话题", "城市", "用户（哈希）", "问题", "置信度", "知识版本")


def _days(request: web.Request) -> int:
    try:
        days = int(request.query.get("days") or 14)
    except ValueError:
        raise Invalid.on("days", "days 必须是整数") from None
    if not 1 <= days <= MAX_DAYS:
        raise Invalid.on("days", f"days 必须在1到{MAX_DAYS}之间")
    return days


async def figures(app: web.Application, days: int) -> dict:
    log, recorder = app[keys.RECORDER].log, app[keys.RECORDER]
    per_day, topics, ratings = [], Counter(), {}
    for day in last_days(days):
        stats = await log.stats(day)
        per_day.append(_day(day, stats))
        for name, n in stats.items():
            if name.startswith("topic:"):
                topics[name[6:]] += n
            elif name.startswith("rate:"):
                _add_rating(ratings, name[5:], n)
    kn = app[keys.BRAIN].brain.knowledge
    return {
        "days": per_day,
        "totals": {"questions": sum(d["total"] for d in per_day),
                   **{o: sum(d["outcomes"][o] for d in per_day) for o in OUTCOMES.values()}},
        "top_topics": [{"id": t, "title": _title(kn, t), "count": n} for t, n in topics.most_common(TOP)],
        "top_missed": [{"id": g["id"], "focus": g["focus"], "question": g["questions"][0]["text"] if g["questions"]
                        else g["focus"], "count": g["count"], "status": g["status"]}
                       for g in await recorder.inbox.groups(limit=TOP)],
        "ratings": sorted(({"topic": t, "title": _title(kn, t), **r} for t, r in ratings.items()),
                          key=lambda r: (-(r["up"] + r["down"]), r["topic"])),
        "overdue": await app[keys.VERSIONS].overdue(),
    }


def _day(day: str, stats: dict[str, int]) -> dict:
    channels = {k[8:]: n for k, n in stats.items() if k.startswith("channel:")}
    outcomes = {o: stats.get(f"kind:{k}", 0) for k, o in OUTCOMES.items()}
    return {"day": day, "total": sum(channels.values()), "channels": channels, "outcomes": outcomes}


def _add_rating(ratings: dict, name: str, n: int) -> None:
    """`{topic}|{city}|{version}:up` -> per topic, with the split by city and version kept."""
    key, _, way = name.rpartition(":")
    topic, city, version = (key.split("|") + ["", "", ""])[:3]
    r = ratings.setdefault(topic, {"up": 0, "down": 0, "by": []})
    r[way] = r.get(way, 0) + n
    r["by"].append({"city": city, "version": int(version or 0), way: n})


def _title(kn, topic_id: str) -> str:
    topic = kn.topic(topic_id)
    return topic.title if topic else topic_id


async def dashboard(request: web.Request) -> web.Response:
    return reply({"range": _days(request), **await figures(request.app, _days(request))})


async def questions_csv(request: web.Request) -> web.Response:
    days = _days(request)
    log = request.app[keys.RECORDER].log
    rows = [e for day in last_days(days) for e in await log.entries(day)]
    await staff(request).audit.record(actor(request).who, "questions.export", "questions.csv",
                                      after={"days": days, "rows": len(rows)})
    return web.Response(text=to_csv(rows), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": 'attachment; filename="questions.csv"'})


def to_csv(entries: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        at = datetime.fromtimestamp(e["at"], ZONE).isoformat(timespec="seconds")
        row = [at, e["channel"], e["kind"], e.get("topic") or "", e.get("city") or "", e["user"], e["text"],
               e.get("confidence", ""), e.get("version", "")]
        writer.writerow([formula_safe(str(v)) for v in row])
    return "\ufeff" + out.getvalue()


def routes(r: web.UrlDispatcher, a: str) -> None:
    r.add_get(f"{a}/dashboard", dashboard)
    r.add_get(f"{a}/questions.csv", questions_csv)
