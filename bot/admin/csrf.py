"""CSRF protection for the staff console, after Django's `middleware/csrf.py`.

A state-changing request must carry both:
- the session's CSRF secret in the `X-CSRF-Token` header, compared in constant time (a page on another
  site can make the browser send our cookie, but cannot read the secret to send it back), and
- an Origin header, or a Referer when there is no Origin, naming this host: a second wall should the
  token ever leak, and the only wall for the login form, which has no session yet.
"""
from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from aiohttp import web

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HEADER = "X-CSRF-Token"


def origin_problem(request: web.Request, https_only: bool) -> str | None:
    """Why the request's Origin/Referer is not this site, or None when it is."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return "请求缺少来源（Origin/Referer），已拒绝"
    parts = urlsplit(source)
    if https_only and parts.scheme != "https":
        return "请求必须来自 HTTPS 页面"
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != request.host.lower():
        return "请求来自其他网站，已拒绝"
    return None


def token_problem(request: web.Request, secret: str) -> str | None:
    sent = request.headers.get(HEADER, "")
    if not sent:
        return "缺少 X-CSRF-Token，请刷新页面后重试"
    if not hmac.compare_digest(sent.encode(), secret.encode()):
        return "X-CSRF-Token 不正确，请刷新页面后重试"
    return None
