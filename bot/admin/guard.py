"""The one gate in front of /api/admin/: session (401), role (403), CSRF and Origin (403), in that order.

Every decision comes from the table in bot/admin/roles.py; a route not in it is refused to everyone.
Handlers behind the gate find the signed-in account with `context.actor(request)`.
"""
from __future__ import annotations

from aiohttp import web

from bot.admin import csrf
from bot.admin.context import ACTOR, Actor, address, refuse, reply, staff
from bot.admin.problems import Invalid
from bot.admin.roles import ENROLMENT_ONLY, PASSWORD_CHANGE_ONLY, PUBLIC, ROLE_NAMES, allowed
from bot.admin.sessions import COOKIE

PREFIX = "/api/admin/"


@web.middleware
async def guard(request: web.Request, handler):
    if not request.path.startswith(PREFIX):
        return await handler(request)
    response = await _guarded(request, handler)
    response.headers["Cache-Control"] = "no-store"       # staff data stays out of caches
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
