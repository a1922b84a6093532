"""Static pages with fingerprinted assets, shared by the citizens' chat page and the staff console.

An asset asked for with its current fingerprint never changes, so browsers (and WeChat's webview, which
caches hard) may keep it; anything else must be revalidated so a deploy is seen at once.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

FOREVER = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@dataclass(frozen=True)
class StaticPage:
    folder: Path
    html: bytes
    versions: dict[str, str]       # asset name -> fingerprint of its content

    @classmethod
    def load(cls, folder: Path, page: str, assets: tuple[str, ...], url_prefix: str) -> StaticPage:
        """Read the page once and point it at fingerprinted asset URLs (`url_prefix` + name)."""
        versions = {name: fingerprint(folder / name) for name in assets}
        html = (folder / page).read_text(encoding="utf-8")
        for name, version in versions.items():
            html = html.replace(f"{url_prefix}{name}\"", f"{url_prefix}{name}?v={version}\"")
        return cls(folder, html.encode("utf-8"), versions)

    def page(self) -> web.Response:
        return web.Response(body=self.html, content_type="text/html", charset="utf-8",
                            headers={"Cache-Control": REVALIDATE})

    def asset(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in self.versions:
            raise web.HTTPNotFound(reason="没有这个文件")
        cache = FOREVER if request.query.get("v") == self.versions[name] else REVALIDATE
        return web.FileResponse(self.folder / name, headers={"Cache-Control": cache})


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
