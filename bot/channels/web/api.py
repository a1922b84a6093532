"""Web channel: the JSON chat API and health check; the chat page lives in page.py. Translates only."""
from __future__ import annotations

import asyncio
import json
import logging
import re

from aiohttp import web
from redis.exceptions import RedisError

from bot import keys
from bot.dialogue.lanes import Busy
from bot.models import Inbound

log = logging.getLogger(__name__)
MAX_TEXT = 2000
READY_REDIS = 0.2         # seconds Redis has to answer PING for /readyz
_USER_ID = re.compile(r"^[\w\-:.@]{1,128}$")
# Sessions of the WeChat and web-page channels live under these prefixes; the open API must not be able
# to name (and so read or steer) a WeChat user's or a browser's conversation.
RESERVED_PREFIXES = ("wechat:", "web:")


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def json_errors(request: web.Request, handler):
    """Every HTTP error leaves as JSON with a clear message, and nothing escapes as a bare 500."""
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        return error(413, "请求太大：消息不能超过64KB。")
    except Busy as exc:      # admission control: say so at once rather than answer after the caller left
        response = error(503, "咨询的人较多，请稍后几秒再试。")
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        return error(exc.status, exc.reason)
    except Exception:   # a fault of ours or of Redis: logged for us, a calm answer for the citizen
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error(503, "服务暂时不可用，请稍后再试，或拨打12345政务服务便民热线咨询。")


def parse_chat(payload) -> tuple[str, str]:
    """(user_id, text) from a /api/chat body, or ValueError saying what is wrong (in words for the caller:
    a wrong type here is bad input, not a programming error, hence no TypeError)."""
    if not isinstance(payload, dict):
        raise ValueError("请求体必须是JSON对象，例如 {\"user_id\": \"u1\", \"text\": \"平泉坐公交多少钱\"}")  # noqa: TRY004
    user_id, text = payload.get("user_id"), payload.get("text")
    if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
        raise ValueError("user_id 必须是1-128位的字母、数字或 _-:.@ 组成的字符串")
    if user_id.startswith(RESERVED_PREFIXES):
        raise ValueError("user_id 不能以 wechat: 或 web: 开头：这两个前缀留给公众号和网页聊天的会话")
    if not isinstance(text, str):
        raise ValueError("text 必须是字符串")  # noqa: TRY004
    if len(text) > MAX_TEXT:
        raise ValueError(f"text 太长：最多{MAX_TEXT}个字符")
    if not encodable(text):
        raise ValueError("text 里有无法识别的字符（如单独的代理项 \\ud800），请检查编码")
    return user_id, text


def encodable(text: str) -> bool:
    """False for a lone surrogate ("\\ud800" in JSON): it cannot be stored, logged or sent back."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def loads(raw: bytes | str):
    """json.loads, with too-deep nesting (RecursionError) reported as the bad input it is."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("请求体的JSON嵌套太深") from None


async def chat(request: web.Request) -> web.Response:
    try:
        payload = loads(await request.text())
        user_id, text = parse_chat(payload)
    except UnicodeDecodeError:
        return error(400, "请求体必须是UTF-8编码的JSON")
    except ValueError as exc:          # json.JSONDecodeError (and UnicodeDecodeError) is a ValueError
        message = str(exc) if not isinstance(exc, json.JSONDecodeError) else "请求体不是合法的JSON"
        return error(400, message)
    reply = await request.app[keys.DIALOGUE].handle(Inbound("web", user_id, text))
    return web.json_response(reply.to_json(), dumps=lambda o: json.dumps(o, ensure_ascii=False))


async def health(request: web.Request) -> web.Response:
    """The process is alive and its loop turns: never waits on Redis (a stall must not fail liveness)."""
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    """Ready for traffic: knowledge loaded and Redis answering within READY_REDIS seconds; else 503."""
    checks = {"knowledge": keys.DIALOGUE in request.app, "redis": False}
    if keys.STORE in request.app:
        try:
            checks["redis"] = bool(await asyncio.wait_for(request.app[keys.STORE].redis.ping(), READY_REDIS))
        except (OSError, RedisError, TimeoutError):
            pass
    ok = all(checks.values())
    return web.json_response({"status": "ok" if ok else "unavailable", **checks}, status=200 if ok else 503)


def setup(app: web.Application) -> None:
    from bot.channels.web import page as webpage  # imported here: the page builds on this module's helpers
    app.router.add_post("/api/chat", chat)
    app.router.add_get("/healthz", health)
    app.router.add_get("/readyz", ready)
    webpage.setup(app)
