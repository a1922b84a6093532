"""Reading an uploaded file's raw body past the app's small JSON body limit, up to a stated limit."""
from __future__ import annotations

from aiohttp import web

from bot.admin.problems import Invalid


async def read_upload(request: web.Request, limit: int, too_big: str) -> bytes:
    """The body, or Invalid(413) past `limit`. A body within the app's client_max_size was already read
    whole by the read-deadline middleware (bot/channels/web/guard.py), so it is served from that cache;
    a larger one is streamed here, and refused as soon as it passes the limit."""
    if request.content.at_eof():
        data = await request.read()
        if len(data) > limit:
            raise Invalid(too_big, status=413)
        return data
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise Invalid(too_big, status=413)
        chunks.append(chunk)
    return b"".join(chunks)
