"""The JSON API of the staff console under /api/admin/: routes, and the auditor's view of the log.

Errors leave as `{"error": "...", "errors": [{"field", "message"}]}`; who may call what is decided by
the guard (bot/admin/guard.py) from the table in bot/admin/roles.py, never here.
"""
from __future__ import annotations

from datetime import date

from aiohttp import web
from redis.asyncio import Redis

from bot import keys
from bot.admin import account, briefings, dashboard, faq, inbox, knowledge, people
from bot.admin.audit import MAX_ENTRIES, to_csv
from bot.admin.context import STAFF, actor, reply, staff, staff_for
from bot.admin.guard import guard
from bot.admin.problems import Invalid
from bot.admin.roles import A
from bot.settings import Settings
from bot.state.ratelimit import RateLimiter


async def audit_entries(request: web.Request) -> web.Response:
    entries = await staff(request).audit.entries(**_filters(request))
    return reply({"entries": entries, "count": len(entries)})


async def audit_csv(request: web.Request) -> web.Response:
    """The export is itself recorded, with the filters it used."""
    s, found = staff(request), actor(request)
    filters = _filters(request)
    entries = await s.audit.entries(**filters)
    await s.audit.record(found.who, "audit.export", "audit.csv",
                         after={**{k: str(v) for k, v in filters.items() if v}, "count": len(entries)})
    return web.Response(text=to_csv(entries), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": 'attachment; filename="audit.csv"'})


def _filters(request: web.Request) -> dict:
    q = request.query
    return {"actor": q.get("actor", "").strip(), "action": q.get("action", "").strip(),
            "since": _day(q, "since"), "until": _day(q, "until"), "limit": _limit(q)}


def _day(query, name: str) -> date | None:
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid.on(name, "日期应写成2025-01-31这样的格式") from None


def _limit(query) -> int:
    try:
        return max(1, min(MAX_ENTRIES, int(query.get("limit") or MAX_ENTRIES)))
    except ValueError:
        raise Invalid.on("limit", "limit 必须是整数") from None


def setup(app: web.Application) -> None:
    """Routes and the guard. The services are put on the app by `start` when Redis is open."""
    app.middlewares.append(guard)
    r = app.router
    r.add_post(f"{A}/login", account.login)
    r.add_post(f"{A}/logout", account.logout)
    r.add_get(f"{A}/me", account.me)
    r.add_post(f"{A}/password", account.change_password)
    r.add_post(f"{A}/totp/enroll", account.totp_enroll)
    r.add_post(f"{A}/totp/confirm", account.totp_confirm)
    r.add_post(f"{A}/totp/disable", account.totp_disable)
    r.add_get(f"{A}/users", people.list_users)
    r.add_post(f"{A}/users", people.create_user)
    r.add_put(f"{A}/users/{{name}}", people.update_user)
    r.add_post(f"{A}/users/{{name}}/reset", people.reset_password)
    r.add_get(f"{A}/settings", people.get_settings)
    r.add_put(f"{A}/settings", people.put_settings)
    r.add_get(f"{A}/audit", audit_entries)
    r.add_get(f"{A}/audit.csv", audit_csv)
    _knowledge_routes(r)
    inbox.routes(r, A)
    dashboard.routes(r, A)
    faq.routes(r, A)
    briefings.routes(r, A)


def _knowledge_routes(r: web.UrlDispatcher) -> None:
    k = knowledge
    r.add_get(f"{A}/topics", k.list_topics)
    r.add_post(f"{A}/topics", k.create_topic)
    r.add_get(f"{A}/topics/{{id}}", k.get_topic)
    r.add_put(f"{A}/topics/{{id}}", k.put_topic)
    r.add_delete(f"{A}/topics/{{id}}", k.retire_topic)
    r.add_post(f"{A}/hit-test", k.hit_test)
    r.add_get(f"{A}/cities", k.cities)
    r.add_get(f"{A}/seeds", k.list_seeds)
    r.add_get(f"{A}/seeds/{{file}}", k.get_seed)
    r.add_post(f"{A}/publish", k.publish)
    r.add_post(f"{A}/rollback", k.rollback)
    r.add_get(f"{A}/versions", k.list_versions)
    r.add_get(f"{A}/versions/{{a}}/diff/{{b}}", k.diff)
    r.add_get(f"{A}/draft/changes", k.draft_changes)
    r.add_get(f"{A}/golden", k.list_golden)
    r.add_post(f"{A}/golden", k.add_golden)
    r.add_delete(f"{A}/golden", k.remove_golden)
    r.add_get(f"{A}/overdue", k.overdue)
    r.add_get(f"{A}/release", k.release)
    r.add_post(f"{A}/release", k.adopt_release)


def start(app: web.Application, settings: Settings, redis: Redis) -> None:
    app[STAFF] = staff_for(settings, redis, RateLimiter(app[keys.STORE], settings.rate_limits))
