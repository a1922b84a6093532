"""The one gate in front of /api/admin/: Redis (503), session (401), role (403), CSRF and Origin (403),
in that order.

Every decision comes from the table in bot/admin/roles.py; a route not in it is refused to everyone.
Handlers behind the gate find the signed-in account with `context.actor(request)`.

Staff writes fail closed. The citizen channels answer without Redis; the console cannot, since all it
shows and changes lives there. So while Redis is away (the breaker open, or no PING answer before a
write) a request is refused with a 503 in plain Chinese before anything is sent: a write queued in a
stalled server would otherwise apply when it resumes, after the staff member was told it failed. A
request cut off half-way says its outcome is unknown rather than claim either.
"""
from __future__ import annotations

import logging

from aiohttp import web

from bot import keys
from bot.admin import csrf
from bot.admin.context import ACTOR, Actor, address, refuse, reply, staff
from bot.admin.problems import Invalid
from bot.admin.roles import ENROLMENT_ONLY, PASSWORD_CHANGE_ONLY, PUBLIC, ROLE_NAMES, allowed
from bot.admin.sessions import COOKIE
from bot.state.resilient import DEGRADED, FAULTS

log = logging.getLogger(__name__)
PREFIX = "/api/admin/"
UNAVAILABLE = "数据库暂时无法连接，本次操作没有执行，请稍后再试"
UNKNOWN = "数据库连接中断，无法确认本次修改是否已保存，请稍后刷新页面查看"
RETRY_AFTER = 5          # seconds: the breaker's cooldown and a reconnect, with room to spare


@web.middleware
async def guard(request: web.Request, handler):
    if not request.path.startswith(PREFIX):
        return await handler(request)
    response = await _with_redis(request, handler)
    response.headers["Cache-Control"] = "no-store"       # staff data stays out of caches
    return response


async def _with_redis(request: web.Request, handler) -> web.StreamResponse:
    store = request.app[keys.STORE]
    writes = request.method in csrf.UNSAFE
    if store.breaker.is_open or (writes and await store.guarded("admin", store.redis.ping) is DEGRADED):
        return unavailable(UNAVAILABLE)
    try:
        return await _guarded(request, handler)
    except FAULTS as exc:
        await store.fault("admin", exc)
        log.warning("staff request %s %s cut off by redis: %s", request.method, request.path,
                    type(exc).__name__)
        return unavailable(UNKNOWN if writes else UNAVAILABLE)


def unavailable(message: str) -> web.Response:
    response = refuse(503, message, redis_unavailable=True)
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


async def _guarded(request: web.Request, handler) -> web.StreamResponse:
    resource = request.match_info.route.resource
    route = (request.method, resource.canonical) if resource is not None else None
    roles = allowed(*route) if route else None
    if roles is PUBLIC:
        problem = request.method in csrf.UNSAFE and csrf.origin_problem(request, _https(request))
        return refuse(403, problem) if problem else await _run(request, handler)
    found = await signed_in(request)
    if found is None:
        return refuse(401, "请先登录", login_required=True)
    if route is None:                                    # no such route: 404/405 for the signed-in only
        return await handler(request)
    problem = await _problem(request, found, route, roles)
    if problem:
        return problem
    request[ACTOR] = found
    return await _run(request, handler)


async def _problem(request: web.Request, found: Actor, route: tuple, roles) -> web.Response | None:
    role = found.user.role
    if roles is None or role not in roles:
        return refuse(403, f"{ROLE_NAMES.get(role, role)}没有这项操作的权限")
    if request.method in csrf.UNSAFE:
        problem = csrf.origin_problem(request, _https(request)) or csrf.token_problem(request, found.session.csrf)
        if problem:
            return refuse(403, problem, csrf_failed=True)
    if found.user.must_change_password and route not in PASSWORD_CHANGE_ONLY:
        return refuse(403, "请先修改管理员设置的临时密码", must_change_password=True)
    if route not in ENROLMENT_ONLY and await totp_setup_required(request, found):
        return refuse(403, "您的角色必须开启双因素认证，请先在“我的账号”中开启", totp_setup_required=True)
    return None


async def totp_setup_required(request: web.Request, found: Actor) -> bool:
    if found.user.totp_enabled:
        return False
    required = (await staff(request).users.security_settings())["require_totp_for"]
    return found.user.role in required


async def signed_in(request: web.Request) -> Actor | None:
    """The account behind the session cookie, if the session lives and the account's access has not
    changed since it was opened (else the session is closed here)."""
    s = staff(request)
    session = await s.sessions.find(request.cookies.get(COOKIE))
    if session is None:
        return None
    user = await s.users.get(session.username)
    if user is None or user.disabled or user.epoch != session.epoch:
        await s.sessions.close(session.id)
        return None
    return Actor(user, session, address(request))


async def _run(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Invalid as exc:
        return reply({"error": exc.message, "errors": [p.to_json() for p in exc.problems]}, exc.status)


def _https(request: web.Request) -> bool:
    return staff(request).settings.secure_cookies
