"""Signing in and out, and what every account does for itself: its password and its second factor."""
from __future__ import annotations

from aiohttp import web

from bot.admin import totp
from bot.admin.audit import Who
from bot.admin.context import Staff, actor, address, body, refuse, reply, staff
from bot.admin.problems import Invalid, Problem
from bot.admin.sessions import COOKIE, COOKIE_PATH
from bot.admin.throttle import Refusal
from bot.admin.users import User, check_new_password

WRONG = "用户名或密码错误"


async def login(request: web.Request) -> web.Response:
    s, addr = staff(request), address(request)
    payload = await body(request)
    username, password, code = payload.get("username"), payload.get("password"), payload.get("totp")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise Invalid("请输入用户名和密码", [Problem(f, "这一项不能为空") for f in ("username", "password")
                                          if not isinstance(payload.get(f), str) or not payload.get(f)], 400)
    username = username.strip()[:64]
    failed = _failure(s, username, addr)
    refusal = await s.throttle.refusal(username, addr)
    if refusal:
        return await _refused(refusal, failed)
    user = await s.users.get(username)
    verdict = await s.users.hasher.verify_off_loop(user.password_hash if user else None, password)
    if not verdict.ok:
        return await _wrong(s, failed, username, addr, "password", WRONG)
    if user.disabled:
        await failed("disabled")
        return refuse(403, "账号已停用，请联系系统管理员")
    if user.totp_enabled:
        if not code:
            return refuse(401, "请输入动态验证码", errors=[Problem("totp", "请输入手机验证器上的6位动态码").to_json()],
                          totp_required=True)
        step = totp.matching_step(user.totp_secret, code)
        if step is None or not await s.users.use_totp_step(username, step):
            return await _wrong(s, failed, username, addr, "totp", "动态验证码错误或已用过")
    return await _signed_in(request, s, user, verdict.new_hash, addr)


async def _refused(refusal: Refusal, failed) -> web.Response:
    """429 with Retry-After, whatever held the attempt back (a rate limit, the address, a locked account)."""
    if refusal.audit:
        await failed(refusal.audit)
    extra = {"locked": True} if refusal.locked else {}
    response = refuse(429, refusal.message, retry_after=refusal.retry_after, **extra)
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


def _failure(s: Staff, username: str, addr: str):
    async def record(result: str) -> None:
        user = await s.users.get(username)
        await s.audit.record(Who(username, user.role if user else "", addr), "login", username, result=result)
    return record


async def _wrong(s: Staff, failed, username: str, addr: str, field: str, message: str) -> web.Response:
    await failed("failed")
    if await s.throttle.failed(username, addr):
        if await s.users.get(username):
            await s.users.revoke_sessions(username)           # a lockout also ends open sessions
        await failed("locked")
    return refuse(401, message, errors=[Problem(field, message).to_json()])


async def _signed_in(request, s: Staff, user: User, new_hash: str | None, addr: str) -> web.Response:
    await s.throttle.succeeded(user.username)
    if new_hash:                      # the parameters changed since this hash was made
        await s.users.store_rehash(user.username, new_hash)
    await s.users.record_login(user.username)
    session = await s.sessions.open(user.username, user.epoch)
    await s.audit.record(Who(user.username, user.role, addr), "login", user.username,
                         after={"rehashed": True} if new_hash else None)
    response = reply({"csrf_token": session.csrf, **await _me(request, user)})
    set_cookie(response, session.id, s.settings.secure_cookies)
    return response


def set_cookie(response: web.Response, session_id: str, secure: bool) -> None:
    # No Max-Age: a browser session cookie; the server ends the session on its own clock anyway.
    response.set_cookie(COOKIE, session_id, path=COOKIE_PATH, httponly=True, samesite="Strict", secure=secure)


async def logout(request: web.Request) -> web.Response:
    s, me = staff(request), actor(request)
    await s.sessions.close(me.session.id)
    await s.audit.record(me.who, "logout", me.user.username)
    response = reply({"ok": True})
    response.del_cookie(COOKIE, path=COOKIE_PATH)
    return response


async def me(request: web.Request) -> web.Response:
    found = actor(request)
    return reply({"csrf_token": found.session.csrf, **await _me(request, found.user)})


async def _me(request: web.Request, user: User) -> dict:
    s = staff(request)
    required = user.role in (await s.users.security_settings())["require_totp_for"]
    return {"username": user.username, "role": user.role, "must_change_password": user.must_change_password,
            "totp_enabled": user.totp_enabled, "totp_required": required,
            "totp_setup_required": required and not user.totp_enabled,
            "idle_timeout": s.settings.idle_timeout, "absolute_timeout": s.settings.absolute_timeout}


async def change_password(request: web.Request) -> web.Response:
    """The account's own password. Every session of the account ends; this one continues under a new id."""
    s, found = staff(request), actor(request)
    payload = await body(request)
    old, new = payload.get("old"), payload.get("new")
    user = found.user
    if not isinstance(old, str) or not (await s.users.hasher.verify_off_loop(user.password_hash, old)).ok:
        await s.audit.record(found.who, "password.change", user.username, result="failed")
        if await s.throttle.failed(user.username, found.address):
            await s.users.revoke_sessions(user.username)
        raise Invalid.on("old", "当前密码不正确")
    try:
        check_new_password(new, user.username)
        if new == old:
            raise Invalid.on("new", "新密码不能与当前密码相同")
    except Invalid as exc:
        await s.audit.record(found.who, "password.change", user.username, result="rejected")
        raise Invalid(exc.message, [Problem("new", p.message) for p in exc.problems]) from None
    await s.users.set_password(user.username, new, must_change=False)
    await s.sessions.close(found.session.id)
    user = await s.users.get(user.username)
    session = await s.sessions.open(user.username, user.epoch)
    await s.audit.record(found.who, "password.change", user.username)
    response = reply({"csrf_token": session.csrf, **await _me(request, user)})
    set_cookie(response, session.id, s.settings.secure_cookies)
    return response


async def totp_enroll(request: web.Request) -> web.Response:
    s, found = staff(request), actor(request)
    if found.user.totp_enabled:
        raise Invalid("双因素认证已经开启；要更换手机，请先关闭再重新开启", status=409)
    secret = totp.new_secret()
    await s.users.set_totp(found.user.username, totp_pending=secret)
    await s.audit.record(found.who, "totp.enroll", found.user.username)
    return reply({"secret": secret, "uri": totp.uri(secret, found.user.username)})


async def totp_confirm(request: web.Request) -> web.Response:
    s, found = staff(request), actor(request)
    user = found.user
    step = totp.matching_step(user.totp_pending, (await body(request)).get("code"))
    if step is None:
        await s.audit.record(found.who, "totp.confirm", user.username, result="failed")
        raise Invalid.on("code", "动态码不正确：请确认手机时间准确，并输入验证器当前显示的6位数字"
                         if user.totp_pending else "请先点“开启双因素认证”获取密钥")
    await s.users.set_totp(user.username, totp=user.totp_pending, totp_pending="", totp_last=step)
    await s.audit.record(found.who, "totp.confirm", user.username, after={"totp_enabled": True})
    return reply({"totp_enabled": True})


async def totp_disable(request: web.Request) -> web.Response:
    s, found = staff(request), actor(request)
    user = found.user
    if not user.totp_enabled:
        raise Invalid("双因素认证没有开启", status=409)
    if user.role in (await s.users.security_settings())["require_totp_for"]:
        raise Invalid("您的角色必须开启双因素认证，不能关闭", status=403)
    step = totp.matching_step(user.totp_secret, (await body(request)).get("code"))
    if step is None or not await s.users.use_totp_step(user.username, step):
        await s.audit.record(found.who, "totp.disable", user.username, result="failed")
        raise Invalid.on("code", "动态码不正确或已用过")
    await s.users.set_totp(user.username, totp="", totp_pending="")
    await s.audit.record(found.who, "totp.disable", user.username, after={"totp_enabled": False})
    return reply({"totp_enabled": False})

