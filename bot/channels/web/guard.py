"""Rate limits on the citizen-facing chat routes: per client address and per user, 429 with Retry-After.

The limiter itself (bot/state/ratelimit.py) is shared by name, so the admin login can apply
`hit("login", address)` the same way. Addresses come from the socket, or, with TRUST_FORWARDED set
(behind the shipped nginx), from the last X-Forwarded-For hop, which nginx writes itself.
"""
from __future__ import annotations

import asyncio
import json

from aiohttp import web

from bot import keys
from bot.state.ratelimit import RateLimiter, Verdict

LIMITER = web.AppKey("rate_limiter", RateLimiter)
USER_ROUTES = {"/api/chat": "body", "/api/web/chat": "cookie"}


def client_address(request: web.Request) -> str:
    if request.app[keys.SETTINGS].trust_forwarded:
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
        if hops:
            return hops[-1]
    return request.remote or "unknown"


async def user_of(request: web.Request, where: str) -> str | None:
    if where == "cookie":
        from bot.channels.web.page import COOKIE
        return request.cookies.get(COOKIE) or None
    try:
        payload = json.loads(await request.read())      # aiohttp keeps the body for the handler
    except (ValueError, RecursionError):
        return None
    user = payload.get("user_id") if isinstance(payload, dict) else None
    return user if isinstance(user, str) and len(user) <= 128 else None


def too_many(verdict: Verdict) -> web.Response:
    return web.json_response({"error": f"请求太频繁，请{verdict.retry_after}秒后再试。"}, status=429,
                             headers={"Retry-After": str(verdict.retry_after)}, dumps=_dumps)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


@web.middleware
async def read_deadline(request: web.Request, handler):
    """A body (at most client_max_size) must arrive within body_timeout seconds, or the connection is cut.
    Read here, whole, so handlers find it cached; an oversized one is left to the handler to refuse."""
    if request.body_exists and (request.content_length or 0) <= request.client_max_size:
        try:
            async with asyncio.timeout(request.app[keys.SETTINGS].body_timeout):   # no task of its own
                await request.read()
        except TimeoutError:
            if request.transport is not None:
                request.transport.abort()       # a slow client is not owed an answer it would not read
            return web.json_response({"error": "请求体超时"}, status=408)
    return await handler(request)


@web.middleware
async def rate_limits(request: web.Request, handler):
    where = USER_ROUTES.get(request.path)
    if where is None or request.method != "POST" or LIMITER not in request.app:
        return await handler(request)
    limiter = request.app[LIMITER]
    user = await user_of(request, where)
    limits = [("chat-address", client_address(request))] + ([("chat-user", user)] if user else [])
    verdict = await limiter.hit_all(*limits)        # one round trip for both
    return await handler(request) if verdict.allowed else too_many(verdict)


def setup(app: web.Application) -> None:
    async def limiter(app: web.Application):
        app[LIMITER] = RateLimiter(app[keys.STORE], app[keys.SETTINGS].rate_limits)
        yield
    app.cleanup_ctx.append(limiter)
