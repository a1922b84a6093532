"""Web chat page: the page and its assets at /, and the cookie-session API the page talks to.

Translates HTTP <-> Inbound/Reply only. A browser is known by an identifier the server issues and records
(cookie `cb_sid`); the page never chooses it, so no one can pick an id and read another person's chat.
"""
from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path

from aiohttp import web
from yarl import URL

from bot import keys
from bot.assets import StaticPage
from bot.channels.web.api import MAX_TEXT, encodable, error, loads
from bot.dialogue.replies import canonical_question, places
from bot.dialogue.turn import Dialogue
from bot.models import Inbound
from bot.state.resilient import DEGRADED
from bot.state.store import Session
from bot.understanding.brain import Brain

RATING_AWAY = "抱歉，系统暂时有点忙，这次评价没能记下，请稍后再点一次。"
COOKIE = "cb_sid"
_BROWSER_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")        # what secrets.token_urlsafe(24) produces
STATIC = Path(__file__).resolve().parent / "static"
ASSETS = ("chat.css", "chat.js")
STARTERS = 4
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"}


class BadRequest(ValueError):
    """The request cannot be answered; the message tells the citizen (or developer) why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Starters:
    """Sample questions offered before the first message, worked out again when a new version is live."""

    def __init__(self):
        self._for: tuple[int, tuple[str, ...]] = (-1, ())

    def of(self, app: web.Application) -> tuple[str, ...]:
        holder = app[keys.BRAIN]
        number, brain = holder.number, holder.brain
        if self._for[0] != number:
            self._for = (number, starter_questions(brain))
        return self._for[1]


PAGE = web.AppKey("webpage", StaticPage)
STARTER_CACHE = web.AppKey("webstarters", Starters)


def starter_questions(brain: Brain) -> tuple[str, ...]:
    """Sample questions for the welcome: per category a topic many cities answer, the cities in turn.

    Each is put to the dialogue once here, so a chip the page offers is never met with "which one?"."""
    dialogue = Dialogue(brain, None)                  # only its pure turn logic runs: no Redis needed
    topics = sorted(brain.knowledge.topics, key=lambda t: -len(t.answers))
    cities = brain.knowledge.answered_cities
    seen, out = set(), []
    for topic in topics:
        if topic.category in seen or not topic.answers:
            continue
        wanted = cities[len(out) % len(cities)]
        question = canonical_question(topic, wanted if wanted in topic.answers else topic.cities()[0])
        reply, _ = dialogue.turn(question, Session())
        if reply.kind == "answer" and reply.topic == topic.id:
            seen.add(topic.category)
            out.append(question)
        if len(out) == STARTERS:
            break
    return tuple(out)


def opening(app: web.Application) -> dict:
    """What the page shows before the first message: a welcome naming the cities of the published
    version (a city staff add is named once its first answer is published), and starter questions."""
    cities = app[keys.BRAIN].brain.knowledge.answered_cities
    welcome = (f"您好！我可以回答{places(cities)}发布会介绍过的民生问题，比如公交票价、医保报销、社保卡办理、"
               "课后服务、老旧小区改造等。请直接输入问题，或点下面的问题试试。")
    return {"welcome": welcome, "starters": list(app[STARTER_CACHE].of(app))}


async def index(request: web.Request) -> web.Response:
    return request.app[PAGE].page()


async def asset(request: web.Request) -> web.StreamResponse:
    return request.app[PAGE].asset(request)


async def known_browser(request: web.Request) -> str | None:
    """The id in the browser's cookie if this server issued it and it is still alive; else None."""
    claimed = request.cookies.get(COOKIE, "")
    if _BROWSER_ID.fullmatch(claimed) and await request.app[keys.STORE].browser_known(claimed):
        return claimed
    return None


async def browser_id(request: web.Request) -> str:
    """The id in the browser's cookie if this server issued it; otherwise a fresh one, recorded."""
    store = request.app[keys.STORE]
    claimed = await known_browser(request)
    if claimed:
        return claimed
    fresh = secrets.token_urlsafe(24)
    await store.register_browser(fresh)
    return fresh


def with_cookie(response: web.Response, request: web.Request, browser: str) -> web.Response:
    """(Re)set the cookie on every reply, so it lives as long as the conversation it names."""
    https = request.secure or request.headers.get("X-Forwarded-Proto") == "https"
    response.set_cookie(COOKIE, browser, max_age=request.app[keys.STORE].history_ttl, path="/",
                        httponly=True, samesite="Lax", secure=https)
    return response


def respond(request: web.Request, browser: str, body: dict) -> web.Response:
    response = web.json_response(body, dumps=lambda o: json.dumps(o, ensure_ascii=False))
    return with_cookie(response, request, browser)


def conversation(browser: str) -> str:
    """The dialogue's user id and the history's key: prefixed so it can never be an /api/chat user's."""
    return f"web:{browser}"


async def read_text(request: web.Request) -> str:
    """The question in a {"text": ...} body, or BadRequest saying what is wrong with it."""
    if request.content_type != "application/json":
        raise BadRequest(415, "请以JSON格式发送，例如 {\"text\": \"平泉坐公交车要多少钱\"}")
    try:
        payload = loads(await request.read())
    except ValueError:                    # bad JSON, bad UTF-8 and too-deep nesting alike
        raise BadRequest(400, "请求体不是合法的UTF-8 JSON") from None
    text = payload.get("text") if isinstance(payload, dict) else None
    if not isinstance(text, str):
        raise BadRequest(400, "请求体必须是JSON对象，并带有字符串字段 text")
    return checked(text)


def checked(text: str) -> str:
    if not text.strip():
        raise BadRequest(400, "请输入您的问题")
    if len(text) > MAX_TEXT:
        raise BadRequest(400, f"问题太长了：最多{MAX_TEXT}个字，请精简后再问")
    if not encodable(text):               # a lone surrogate from "\ud800" in JSON would break the reply
        raise BadRequest(400, "问题里有无法识别的字符，请重新输入")
    return text


async def chat(request: web.Request) -> web.Response:
    if cross_site(request, required=False):
        return error(403, "请求来源不符：请在聊天页面上提问")
    try:
        text = await read_text(request)
    except BadRequest as exc:
        return error(exc.status, str(exc))
    browser = await browser_id(request)
    user = conversation(browser)
    inbound = Inbound("web", user, text)
    answer = await request.app[keys.DIALOGUE].handle(inbound)
    reply = answer.to_json()
    now = time.time()
    await request.app[keys.STORE].append_history(user, {"role": "user", "text": text, "at": now},
                                              {"role": "bot", "at": now, **reply})
    # With Redis away the answer still goes out, without rating buttons: an offer could not be kept.
    recorder = request.app[keys.RECORDER]
    rating = await request.app[keys.STORE].guarded("offer", lambda: recorder.offer(inbound, answer))
    rating = None if rating is DEGRADED else rating
    return respond(request, browser, {**reply, "rating": rating} if rating else reply)


async def feedback(request: web.Request) -> web.Response:
    """👍/👎 under an answer: {"rating": <id from the answer>, "helpful": true|false}, once per answer."""
    if cross_site(request, required=True):
        return error(403, "请求来源不符：请在聊天页面上操作")
    try:
        payload = json.loads(await request.read())
    except ValueError:
        return error(400, "请求体不是合法的UTF-8 JSON")
    rating = payload.get("rating") if isinstance(payload, dict) else None
    helpful = payload.get("helpful") if isinstance(payload, dict) else None
    if not isinstance(rating, str) or not isinstance(helpful, bool):
        return error(400, "请求体必须是 {\"rating\": \"…\", \"helpful\": true 或 false}")
    browser, recorder = await known_browser(request), request.app[keys.RECORDER]
    rate = lambda: recorder.rate(rating, conversation(browser), helpful)  # noqa: E731
    rated = None if browser is None else await request.app[keys.STORE].guarded("rate", rate)
    if rated is DEGRADED:          # the offer is kept: the same button works once Redis is back
        return error(503, RATING_AWAY)
    if rated is None:
        return error(409, "这条回答已经评价过了，或评价已过期")
    return respond(request, browser, {"ok": True, "message": "谢谢您的反馈！"})


async def history(request: web.Request) -> web.Response:
    """A visitor without a (live) cookie has no history: answered without writing anything, so
    cookie-less GETs cannot fill Redis. The first question issues the cookie."""
    browser = await known_browser(request)
    if browser is None:
        return web.json_response({"messages": [], **opening(request.app)})
    messages = await request.app[keys.STORE].history(conversation(browser))
    return respond(request, browser, {"messages": messages, **opening(request.app)})


def cross_site(request: web.Request, required: bool) -> bool:
    """True unless Origin (or, failing that, Referer) names this host: Django's CSRF origin check. A
    browser sends Origin with every fetch POST, so `required` refuses a request that names neither."""
    named = request.headers.get("Origin") or request.headers.get("Referer")
    if not named or named == "null":
        return required
    url = URL(named)
    return not url.is_absolute() or url.scheme not in ("http", "https") or url.raw_authority != request.host


async def reset(request: web.Request) -> web.Response:
    if cross_site(request, required=True):
        return error(403, "请求来源不符：请在聊天页面上操作")
    browser = await known_browser(request)
    if browser is None:                   # nothing to forget, and nothing to write
        return web.json_response({"ok": True, **opening(request.app)})
    user = conversation(browser)
    await request.app[keys.DIALOGUE].reset(user)
    await request.app[keys.STORE].clear_history(user)
    return respond(request, browser, {"ok": True, **opening(request.app)})


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def setup(app: web.Application) -> None:
    app[PAGE] = StaticPage.load(STATIC, "index.html", ASSETS, "/static/")
    app[STARTER_CACHE] = Starters()
    app.on_response_prepare.append(security_headers)
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", asset)
    app.router.add_post("/api/web/chat", chat)
    app.router.add_get("/api/web/history", history)
    app.router.add_post("/api/web/reset", reset)
    app.router.add_post("/api/web/feedback", feedback)
