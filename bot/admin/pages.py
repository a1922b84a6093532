"""The staff console at /admin/: one static page over the JSON API under /api/admin/.

The page holds no secrets and decides nothing: every permission is checked by the API on each request.
Its assets are fingerprinted like the citizens' page, and the app's security headers (CSP 'self') apply.
"""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.assets import StaticPage

STATIC = Path(__file__).resolve().parent / "static"
CONSOLE = web.AppKey("admin_console", StaticPage)


async def console(request: web.Request) -> web.Response:
    return request.app[CONSOLE].page()


async def asset(request: web.Request) -> web.StreamResponse:
    return request.app[CONSOLE].asset(request)


async def to_console(request: web.Request) -> web.Response:
    raise web.HTTPFound("/admin/")


def setup(app: web.Application) -> None:
    app[CONSOLE] = StaticPage.load(STATIC, "admin.html", ("admin.css", "admin.js", "insight.js"), "/admin/static/")
    app.router.add_get("/admin", to_console)
    app.router.add_get("/admin/", console)
    app.router.add_get("/admin/static/{name}", asset)
