"""Export and import over the admin API: GET faq/export, POST faq/preview (nothing written), POST
faq/import (written only when the whole file passes), GET faq/limits. The file is the raw request body;
`name` (the file name) says its format. Logic: bot/knowledge/faq.py."""
from __future__ import annotations

from aiohttp import web

from bot import keys
from bot.admin.context import actor, reply, staff
from bot.admin.problems import Invalid
from bot.admin.uploads import read_upload
from bot.knowledge import faq
from bot.knowledge.transfer import MODES

TYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "yaml": "application/zip"}
NAMES = {"csv": "faq.csv", "xlsx": "faq.xlsx", "yaml": "intents.zip"}


async def limits(request: web.Request) -> web.Response:
    return reply({**faq.LIMITS, "formats": list(faq.FORMATS), "modes": list(MODES)})


async def export(request: web.Request) -> web.Response:
    fmt, which = request.query.get("format", "xlsx"), request.query.get("version", "live")
    if fmt not in faq.FORMATS:
        raise Invalid.on("format", "format 必须是 yaml、xlsx 或 csv")
    if which not in ("live", "draft"):
        raise Invalid.on("version", "version 必须是 live 或 draft")
    versions = request.app[keys.VERSIONS]
    kn = await versions.draft_knowledge() if which == "draft" else (await versions.live_knowledge())[1]
    data = faq.export_bytes(kn, fmt)
    await staff(request).audit.record(actor(request).who, "faq.export", NAMES[fmt],
                                      after={"format": fmt, "version": which, "bytes": len(data)})
    return web.Response(body=data, content_type=TYPES[fmt],
                        headers={"Content-Disposition": f'attachment; filename="{NAMES[fmt]}"'})


async def _plan(request: web.Request):
    mode = request.query.get("mode", "overwrite")
    if mode not in MODES:
        raise Invalid.on("mode", "mode 必须是 overwrite（覆盖已有话题）或 skip（跳过已有话题）")
    data = await _upload(request)
    versions = request.app[keys.VERSIONS]
    draft = await versions.draft_body()
    return faq.plan_file(data, request.query.get("name", ""), draft, versions.seeds, mode), mode


async def _upload(request: web.Request) -> bytes:
    data = await read_upload(request, faq.MAX_BYTES, f"文件太大：{faq.LIMITS['note']}")
    if not data:
        raise Invalid.on("file", "请选择要导入的文件")
    return data


async def preview(request: web.Request) -> web.Response:
    p, mode = await _plan(request)
    await staff(request).audit.record(actor(request).who, "faq.preview", request.query.get("name", ""),
                                      result="preview", after={"mode": mode, "counts": p.counts(), "ok": p.ok})
    return reply({**p.report(), "mode": mode, "limits": faq.LIMITS, "written": False})


async def import_(request: web.Request) -> web.Response:
    p, mode = await _plan(request)
    who = actor(request)
    summary = {"file": request.query.get("name", ""), "mode": mode, "counts": p.counts()}
    errors = await faq.apply(request.app[keys.VERSIONS], p, who.user.username)
    if errors:
        await staff(request).audit.record(who.who, "faq.import", summary["file"], result="rejected",
                                          after={**summary, "problems": p.problems[:20], "errors": errors[:20]})
        return reply({**p.report(), "ok": False, "written": False, "error": "导入未完成：没有写入任何内容",
                      "errors": [{"field": "file", "message": e} for e in errors[:50]]}, 422)
    await staff(request).audit.record(who.who, "faq.import", summary["file"],
                                      after={**summary, "topics": [t["id"] for t in p.topics]})
    return reply({**p.report(), "written": True, "created": p.created})


def routes(r: web.UrlDispatcher, a: str) -> None:
    r.add_get(f"{a}/faq/limits", limits)
    r.add_get(f"{a}/faq/export", export)
    r.add_post(f"{a}/faq/preview", preview)
    r.add_post(f"{a}/faq/import", import_)
