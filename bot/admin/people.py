"""The admin's pages of the API: accounts and the security settings. Passwords are never logged."""
from __future__ import annotations

from aiohttp import web

from bot.admin.context import actor, body, reply, staff
from bot.admin.problems import Invalid
from bot.admin.users import User, check_role


async def list_users(request: web.Request) -> web.Response:
    return reply({"users": [u.to_json() for u in await staff(request).users.all()]})


async def create_user(request: web.Request) -> web.Response:
    """An account made here must change its password at first login: the admin knows the first one."""
    s, found = staff(request), actor(request)
    payload = await body(request)
    name = payload.get("username")
    try:
        user = await s.users.create(name, payload.get("role"), payload.get("password"), must_change=True)
    except Invalid as exc:
        await s.audit.record(found.who, "user.create", str(name)[:64], result="rejected",
                             after={"role": payload.get("role"), "errors": [p.message for p in exc.problems]})
        raise
    await s.audit.record(found.who, "user.create", user.username, after=_public(user))
    return reply({"user": user.to_json()}, 201)


async def update_user(request: web.Request) -> web.Response:
    """{role?, disabled?, totp_enabled?: false}. Any change ends the account's sessions."""
    s, found = staff(request), actor(request)
    user = await _user(request)
    payload = await body(request)
    if user.username == found.user.username and ("role" in payload or payload.get("disabled")):
        raise Invalid("不能修改自己的角色或停用自己：请另一位系统管理员操作", status=403)
    if "role" in payload:
        check_role(payload["role"])
    if "disabled" in payload and not isinstance(payload["disabled"], bool):
        raise Invalid.on("disabled", "disabled 必须是 true 或 false")
    if "role" in payload:
        await s.users.set_role(user.username, payload["role"])
    if "disabled" in payload:
        await s.users.set_disabled(user.username, bool(payload["disabled"]))
    if payload.get("totp_enabled") is False:          # a lost phone: the admin removes the second factor
        await s.users.set_totp(user.username, totp="", totp_pending="")
        await s.users.revoke_sessions(user.username)
    after = await s.users.get(user.username)
    await s.audit.record(found.who, "user.update", user.username, before=_public(user), after=_public(after))
    return reply({"user": after.to_json()})


async def reset_password(request: web.Request) -> web.Response:
    """The admin sets a temporary password, which the account must change at its next login."""
    s, found = staff(request), actor(request)
    user = await _user(request)
    try:
        await s.users.set_password(user.username, (await body(request)).get("password"), must_change=True)
    except Invalid:
        await s.audit.record(found.who, "user.reset", user.username, result="rejected")
        raise
    await s.audit.record(found.who, "user.reset", user.username, after={"must_change_password": True})
    return reply({"user": (await s.users.get(user.username)).to_json()})


async def _user(request: web.Request) -> User:
    user = await staff(request).users.get(request.match_info["name"])
    if user is None:
        raise Invalid(f"没有用户“{request.match_info['name']}”", status=404)
    return user


def _public(user: User) -> dict:
    return {k: v for k, v in user.to_json().items() if k not in ("created_at", "last_login")}


async def get_settings(request: web.Request) -> web.Response:
    return reply(await staff(request).users.security_settings())


async def put_settings(request: web.Request) -> web.Response:
    s, found = staff(request), actor(request)
    before = await s.users.security_settings()
    payload = await body(request)
    try:
        after = await s.users.put_security_settings(payload)
    except Invalid:
        await s.audit.record(found.who, "settings.update", "security", result="rejected", before=before,
                             after=payload)
        raise
    await s.audit.record(found.who, "settings.update", "security", before=before, after=after)
    return reply(after)
