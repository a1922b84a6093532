"""The staff console's services on the app, and who is making the current request."""
from __future__ import annotations

import json
from dataclasses import dataclass

from aiohttp import web
from redis.asyncio import Redis

from bot.admin.audit import AuditLog, Who
from bot.admin.passwords import Hasher
from bot.admin.problems import Invalid
from bot.admin.sessions import Session, Sessions
from bot.admin.throttle import Throttle
from bot.admin.users import User, Users
from bot.settings import AdminSettings, Settings
from bot.state.ratelimit import RateLimiter


@dataclass(frozen=True)
class Staff:
    settings: AdminSettings
    users: Users
    sessions: Sessions
    throttle: Throttle
    audit: AuditLog


def staff_for(settings: Settings, redis: Redis, limiter: RateLimiter | None = None) -> Staff:
    """The console's services; `limiter` rate-limits login attempts (the app's, shared through Redis)."""
    s, prefix = settings.admin, settings.key_prefix
    hasher = Hasher(s.hash_time_cost, s.hash_memory_kib, s.hash_parallelism)
    return Staff(s, Users(redis, prefix, hasher), Sessions(redis, prefix, s.idle_timeout, s.absolute_timeout),
                 Throttle(redis, prefix, s, limiter), AuditLog(redis, prefix))


@dataclass(frozen=True)
class Actor:
    """The signed-in account behind a request, as the guard found it."""
    user: User
    session: Session
    address: str

    @property
    def who(self) -> Who:
        return Who(self.user.username, self.user.role, self.address)


STAFF: web.AppKey[Staff] = web.AppKey("admin_staff", Staff)
ACTOR: web.RequestKey[Actor] = web.RequestKey("admin_actor", Actor)


def staff(request: web.Request) -> Staff:
    return request.app[STAFF]


def actor(request: web.Request) -> Actor:
    return request[ACTOR]


def address(request: web.Request) -> str:
    """The client's address: behind our own proxy (ADMIN_TRUST_PROXY), the one it appended last to
    X-Forwarded-For; earlier entries are whatever the client claimed and are not trusted."""
    if staff(request).settings.trust_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        if forwarded:
            return forwarded[:64]
    return request.remote or ""


async def body(request: web.Request) -> dict:
    """The JSON object sent; 400 when it is not one."""
    try:
        payload = json.loads(await request.text() or "{}")
    except (ValueError, UnicodeDecodeError):
        raise Invalid("请求体不是合法的JSON", status=400) from None
    if not isinstance(payload, dict):
        raise Invalid("请求体必须是JSON对象", status=400)
    return payload


def reply(payload, status: int = 200) -> web.Response:
    return web.json_response(payload, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def refuse(status: int, message: str, **extra) -> web.Response:
    return reply({"error": message, "errors": [], **extra}, status)
