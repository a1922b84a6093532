"""Web channel: the JSON chat API and health check; the chat page lives in webpage.py. Translates only."""
from __future__ import annotations

import json
import re

from aiohttp import web

from ..models import Inbound

MAX_TEXT = 2000
_USER_ID = re.compile(r"^[\w\-:.@]{1,128}$")


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def json_errors(request: web.Request, handler):
    """Every HTTP error leaves as JSON with a clear message, and nothing escapes as a bare 500."""
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        return error(413, "请求太大：消息不能超过64KB。")
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        return error(exc.status, exc.reason)


def parse_chat(payload) -> tuple[str, str]:
    """(user_id, text) from a /api/chat body, or ValueError saying what is wrong."""
    if not isinstance(payload, dict):
        raise ValueError("请求体必须是JSON对象，例如 {\"user_id\": \"u1\", \"text\": \"平泉坐公交多少钱\"}")
    user_id, text = payload.get("user_id"), payload.get("text")
    if not isinstance(user_id, str) or not _USER_ID.match(user_id):
        raise ValueError("user_id 必须是1-128位的字母、数字或 _-:.@ 组成的字符串")
    if not isinstance(text, str):
        raise ValueError("text 必须是字符串")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text 太长：最多{MAX_TEXT}个字符")
    return user_id, text


async def chat(request: web.Request) -> web.Response:
    try:
        payload = json.loads(await request.text())
        user_id, text = parse_chat(payload)
    except UnicodeDecodeError:
        return error(400, "请求体必须是UTF-8编码的JSON")
    except ValueError as exc:          # json.JSONDecodeError is a ValueError
        message = str(exc) if not isinstance(exc, json.JSONDecodeError) else "请求体不是合法的JSON"
        return error(400, message)
    reply = await request.app["dialogue"].handle(Inbound("web", user_id, text))
    return web.json_response(reply.to_json(), dumps=lambda o: json.dumps(o, ensure_ascii=False))


async def health(request: web.Request) -> web.Response:
    await request.app["store"].redis.ping()
    return web.json_response({"status": "ok"})


def setup(app: web.Application) -> None:
    from . import webpage  # imported here: webpage builds on this module's helpers
    app.router.add_post("/api/chat", chat)
    app.router.add_get("/healthz", health)
    webpage.setup(app)
