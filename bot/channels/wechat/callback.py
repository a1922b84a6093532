"""The WeChat official account callback at /wechat: HTTP <-> WeChat XML, nothing more.

GET answers WeChat's URL verification; POST takes a message (plaintext, compatible or safe mode),
answers it once across processes (`wechat_delivery`) and replies with WeChat XML, or "success" when
the reply will follow through the customer-service API.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from aiohttp import ClientSession, web
from wechatpy import parse_message

from bot import keys
from bot.channels.wechat import messages as wechat_messages
from bot.channels.wechat import text as wechat_text
from bot.channels.wechat.api import CustomerService
from bot.channels.wechat.delivery import Delivery
from bot.channels.wechat.envelope import Envelope, Rejected, text_reply
from bot.channels.wechat.messages import Conversation
from bot.channels.wechat.replay import ReplayGuard
from bot.observability import metrics
from bot.settings import WeChatSettings

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024      # real callbacks are under 2 KB; anything near this is not from WeChat
_ECHOSTR = re.compile(r"^[0-9A-Za-z_-]{1,128}$")
_DIGITS = re.compile(r"^[0-9]{1,20}$")


@dataclass(frozen=True)
class _Running:
    conversation: Conversation
    delivery: Delivery
    api: CustomerService | None      # None without WECHAT_APPSECRET: late replies cannot be sent


class WeChatCallback:
    def __init__(self, settings: WeChatSettings, deadline: float = 4.0):
        self._settings, self._deadline = settings, deadline
        self._envelope = Envelope(settings)
        self._replay = ReplayGuard(settings.replay_window)
        self._running: _Running | None = None

    async def lifecycle(self, app: web.Application):
        """cleanup_ctx: an HTTP client for the customer-service API; late replies finish before exit."""
        delivery = Delivery(app[keys.STORE], self._deadline, hold=self._replay.memory)
        async with ClientSession() as http:
            api = CustomerService(http, app[keys.STORE], self._settings) if self._settings.appsecret else None
            conversation = Conversation(app[keys.DIALOGUE], app[keys.STORE], app[keys.BRAIN],
                                        app[keys.RECORDER], app[keys.SETTINGS].feedback_hint)
            self._running = _Running(conversation, delivery, api)
            yield
            await delivery.close()

    async def verify(self, request: web.Request) -> web.Response:
        """WeChat's URL check: echo `echostr` only when the signature holds; nothing is reflected otherwise."""
        try:
            self._envelope.check_query(request.query)
            self._replay.check_time(request.query)
        except Rejected as exc:
            return _refuse(request, exc)
        echostr = request.query.get("echostr", "")
        if not _ECHOSTR.fullmatch(echostr):
            return _refuse(request, Rejected(400, "echostr missing or malformed"))
        return web.Response(text=echostr, content_type="text/plain", headers={"X-Content-Type-Options": "nosniff"})

    async def receive(self, request: web.Request) -> web.Response:
        try:
            self._envelope.check_query(request.query)
            self._replay.check_time(request.query)
            xml, fields = self._envelope.open(request.query, await _read_body(request))
            msg, kind = _parse(xml, fields), _Kind.of(fields)
            # the nonce, and the message's stored reply or claim, in one round trip
            running = self._running
            first = await self._replay.check_nonce(running.conversation.store, request.query, kind.dedup_key,
                                                   running.delivery.claim_of(kind.dedup_key))
        except Rejected as exc:
            return _refuse(request, exc)
        text = await self._reply_text(msg, kind, first)
        if not text:
            return web.Response(text="success", content_type="text/plain")
        body = self._envelope.seal(text_reply(msg.target, msg.source, text), request.query["nonce"])
        return web.Response(text=body, content_type="application/xml")

    async def _reply_text(self, msg, kind: _Kind, first: tuple[str | None, bool] | None = None) -> str:
        running = self._running

        async def produce() -> str:
            try:
                return await wechat_messages.respond(msg, running.conversation, kind.msg_type, kind.event)
            except Exception:
                log.exception("wechat: answering a %s message failed", kind.msg_type)
                return wechat_text.TROUBLE

        async def send_late(text: str) -> None:
            if running.api is None:
                log.warning("wechat: a late reply was dropped: set WECHAT_APPSECRET to send it")
                metrics.LATE_SENDS.labels("dropped").inc()
                return
            await running.api.send_text(msg.source, text)
            metrics.LATE_SENDS.labels("sent").inc()

        return await running.delivery.reply_once(kind.dedup_key, produce, send_late, first)


@dataclass(frozen=True)
class _Kind:
    """What a message is and how its retries are recognised, read from its fields."""
    msg_type: str
    event: str
    dedup_key: str

    @classmethod
    def of(cls, fields: dict) -> _Kind:
        msg_type = fields["MsgType"].strip().lower()
        event = str(fields.get("Event") or "").strip().lower()
        sender, sent = fields["FromUserName"], fields.get("CreateTime")
        # WeChat's rule: messages by MsgId, events by sender + CreateTime (and here the event too)
        if msg_type == "event" or not fields.get("MsgId"):
            return cls(msg_type, event, f"event:{sender}:{sent}:{msg_type}:{event}")
        return cls(msg_type, event, f"msg:{fields['MsgId']}")


def _parse(xml: str, fields: dict):
    """A wechatpy message, once the fields every callback carries are present and well formed."""
    nested = [name for name, value in fields.items() if value is not None and not isinstance(value, str)]
    if nested:                          # WeChat's messages are flat: an element inside a field is forged
        raise Rejected(400, f"<{nested[0]}> holds elements or repeats")
    for name in ("ToUserName", "FromUserName", "MsgType") + (("Event",) if _is_event(fields) else ()):
        if not isinstance(fields.get(name), str) or not fields[name].strip():
            raise Rejected(400, f"<{name}> missing")
    for name in ("CreateTime", "MsgId"):
        if fields.get(name) is not None and not _DIGITS.fullmatch(str(fields[name])):
            raise Rejected(400, f"<{name}> is not a number")
    return parse_message(xml)


def _is_event(fields: dict) -> bool:
    return isinstance(fields.get("MsgType"), str) and fields["MsgType"].strip().lower() == "event"


async def _read_body(request: web.Request) -> bytes:
    """The body, refused with 400 past MAX_BODY without buffering more than that."""
    if (request.content_length or 0) > MAX_BODY:
        raise Rejected(400, "body too large")
    try:
        body = await request.read()     # read_deadline has it cached, in time; at most client_max_size
    except web.HTTPRequestEntityTooLarge:
        raise Rejected(400, "body too large") from None
    if len(body) > MAX_BODY:
        raise Rejected(400, "body too large")
    return body


def _refuse(request: web.Request, exc: Rejected) -> web.Response:
    log.warning("wechat: refused %s %s from %s: %s", request.method, request.path, request.remote, exc)
    return web.Response(status=exc.status, text="forbidden" if exc.status == 403 else "bad request",
                        content_type="text/plain")


def setup(app: web.Application, settings: WeChatSettings, deadline: float | None = None) -> None:
    callback = WeChatCallback(settings, settings.reply_deadline if deadline is None else deadline)
    app.cleanup_ctx.append(callback.lifecycle)
    app.router.add_get("/wechat", callback.verify)
    app.router.add_post("/wechat", callback.receive)
