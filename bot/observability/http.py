"""HTTP observability: request ids, one access line and the request metrics per request, /metrics, and a
probe of the event loop's lag (how late a timer fires: the time every request waits for the loop)."""
from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time

from aiohttp import web

from bot.observability import metrics
from bot.observability.logs import REQUEST_ID

log = logging.getLogger("access")
_GIVEN_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
LAG_EVERY = 0.25


def route_of(request: web.Request) -> str:
    """The route's pattern, never the raw path (unbounded label values would be a memory leak)."""
    info = request.match_info
    if info.http_exception is not None or info.route.resource is None:
        return "unmatched"
    return info.route.resource.canonical


@web.middleware
async def observe(request: web.Request, handler):
    given = request.headers.get("X-Request-Id", "")
    REQUEST_ID.set(given if _GIVEN_ID.fullmatch(given) else secrets.token_hex(8))
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = REQUEST_ID.get()
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        seconds = time.perf_counter() - started
        route = route_of(request)
        metrics.REQUESTS.labels(route, request.method, str(status)).inc()
        metrics.LATENCY.labels(route).observe(seconds)
        log.info("request", extra={"method": request.method, "route": route, "status": status,
                                   "ms": round(seconds * 1000, 1)})


async def scrape(request: web.Request) -> web.Response:
    body, content_type = metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": content_type})


async def loop_lag(app: web.Application):
    async def probe():
        loop = asyncio.get_running_loop()
        while True:
            planned = loop.time() + LAG_EVERY
            await asyncio.sleep(LAG_EVERY)
            metrics.LOOP_LAG.observe(max(0.0, loop.time() - planned))
    task = asyncio.ensure_future(probe())
    yield
    task.cancel()


def setup(app: web.Application) -> None:
    app.router.add_get("/metrics", scrape)
    app.cleanup_ctx.append(loop_lag)
