"""WeChat's side of the official-account callback, for tests: a simulator of WeChat's servers and a fake
of WeChat's HTTP API.

The crypto is written here from WeChat's published description with the `cryptography` package, not
with wechatpy, so the tests check the bot's wechatpy-based code against an independent implementation
(and this one is checked against WeChat's published sample messages in test_wechat_sim.py):
- signature: SHA1 of the sorted, concatenated token, timestamp, nonce (and Encrypt in AES modes);
- AES-256-CBC, key = base64(EncodingAESKey + "="), IV = key[:16], PKCS#7 padding to 32-byte blocks,
  plaintext = 16 random bytes + 4-byte big-endian length + message XML + appid.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import os
import secrets
import struct
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from aiohttp import ClientSession, ClientTimeout, web
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .redis_server import free_port

BLOCK = 32
_msg_ids = itertools.count(int(time.time() * 1000) % 10**12 * 1000)


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


class WeChatCrypt:
    """WeChat's message encryption, as its documentation and sample code describe it."""

    def __init__(self, token: str, aes_key: str, appid: str):
        self.token, self.appid = token, appid
        self.key = base64.b64decode(aes_key + "=")
        assert len(self.key) == 32, "an EncodingAESKey decodes to 32 bytes"

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, text: str, random16: bytes | None = None, appid: str | None = None) -> str:
        body = text.encode("utf-8")
        plain = (random16 or os.urandom(16)) + struct.pack(">I", len(body)) + body
        plain += (self.appid if appid is None else appid).encode("utf-8")
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypt: str) -> tuple[str, str]:
        """(message, appid it was encrypted for); ValueError on bad padding."""
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(base64.b64decode(encrypt)) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise ValueError("bad PKCS#7 padding")
        plain = plain[16:-pad]
        (length,) = struct.unpack(">I", plain[:4])
        return plain[4:4 + length].decode("utf-8"), plain[4 + length:].decode("utf-8")

    def signature(self, timestamp: str, nonce: str, encrypt: str) -> str:
        return sign(self.token, timestamp, nonce, encrypt)


def cdata(value: str) -> str:
    """WeChat's CDATA: a "]]>" in the text is split across two sections."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def to_xml(fields: dict) -> str:
    """A callback body the way WeChat writes it: strings in CDATA, numbers bare."""
    parts = [f"<{k}>{cdata(v) if isinstance(v, str) else v}</{k}>" for k, v in fields.items()]
    return "<xml>" + "".join(parts) + "</xml>"


def from_xml(text: str) -> dict:
    """A flat WeChat XML document as a dict, read by a real XML parser."""
    return {child.tag: (child.text or "") for child in ET.fromstring(text)}


@dataclass
class Answer:
    status: int
    body: str
    reply: dict | None = None          # the decrypted, parsed reply; None for "success" or an error

    @property
    def text(self) -> str:
        return (self.reply or {}).get("Content", "")


@dataclass
class Attempts:
    """One message as WeChat sends it: the first try and its retries, and what finally came back."""
    answers: list[Answer | None] = field(default_factory=list)   # None: timed out (or dropped)

    @property
    def final(self) -> Answer | None:
        return next((a for a in reversed(self.answers) if a is not None), None)


class WeChatSim:
    """Sends callbacks the way WeChat's servers do: signed, encrypted per mode, retried on timeout."""

    def __init__(self, url: str, token: str, *, appid: str = "", aes_key: str | None = None,
                 mode: str = "plain", account: str = "gh_3ac2f1e8d0b7", timeout: float = 5.0, retries: int = 3):
        assert mode in ("plain", "compatible", "safe")
        assert mode == "plain" or aes_key, "compatible and safe modes need the EncodingAESKey"
        self.url, self.token, self.appid, self.mode, self.account = url, token, appid, mode, account
        self.crypt = WeChatCrypt(token, aes_key, appid) if aes_key else None
        self.timeout, self.retries = timeout, retries
        self.http = ClientSession()

    async def close(self) -> None:
        await self.http.close()

    # -- messages, as WeChat's documentation lists their fields -------------------------------------
    def _base(self, user: str, msg_type: str) -> dict:
        return {"ToUserName": self.account, "FromUserName": user, "CreateTime": int(time.time()),
                "MsgType": msg_type}

    def text(self, content: str, user: str = "oUser-text", msg_id: int | None = None) -> dict:
        return {**self._base(user, "text"), "Content": content, "MsgId": msg_id or next(_msg_ids)}

    def voice(self, recognition: str | None, user: str = "oUser-voice") -> dict:
        fields = {**self._base(user, "voice"), "MediaId": "media-" + secrets.token_hex(8), "Format": "amr"}
        if recognition is not None:
            fields["Recognition"] = recognition
        return {**fields, "MsgId": next(_msg_ids)}

    def image(self, user: str = "oUser-image") -> dict:
        return {**self._base(user, "image"), "PicUrl": "http://mmbiz.qpic.cn/x.jpg",
                "MediaId": "media-" + secrets.token_hex(8), "MsgId": next(_msg_ids)}

    def link(self, user: str = "oUser-link") -> dict:
        return {**self._base(user, "link"), "Title": "公众号文章", "Description": "描述",
                "Url": "https://mp.weixin.qq.com/s/abc", "MsgId": next(_msg_ids)}

    def location(self, lat: float, lon: float, user: str = "oUser-loc") -> dict:
        return {**self._base(user, "location"), "Location_X": lat, "Location_Y": lon, "Scale": 15,
                "Label": "位置信息", "MsgId": next(_msg_ids)}

    def event(self, event: str, user: str = "oUser-event", **extra) -> dict:
        return {**self._base(user, "event"), "Event": event, **extra}

    def location_event(self, lat: float, lon: float, user: str = "oUser-loc") -> dict:
        return self.event("LOCATION", user, Latitude=lat, Longitude=lon, Precision=65.0)

    # -- the wire --------------------------------------------------------------------------------
    def envelope(self, fields: dict | str) -> tuple[dict, bytes]:
        """(query, body) for one attempt: fresh timestamp and nonce, signed; encrypted in AES modes."""
        xml = fields if isinstance(fields, str) else to_xml(fields)
        timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
        query = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                 "openid": fields.get("FromUserName", "") if isinstance(fields, dict) else ""}
        if self.mode == "plain":
            return query, xml.encode("utf-8")
        encrypt = self.crypt.encrypt(xml)
        query |= {"encrypt_type": "aes", "msg_signature": self.crypt.signature(timestamp, nonce, encrypt)}
        to_user = fields.get("ToUserName", self.account) if isinstance(fields, dict) else self.account
        outer = {"ToUserName": to_user, "Encrypt": encrypt}
        if self.mode == "compatible":     # plaintext fields and the Encrypt side by side
            outer = {**(fields if isinstance(fields, dict) else {}), "Encrypt": encrypt}
        return query, to_xml(outer).encode("utf-8")

    async def post(self, fields: dict | str, *, url: str | None = None, query: dict | None = None,
                   body: bytes | None = None, timeout: float | None = None) -> Answer:
        """One attempt; `query`/`body` replace what WeChat would send (for forged requests)."""
        signed_query, signed_body = self.envelope(fields)
        query = signed_query if query is None else query
        async with self.http.post(url or self.url, params=query, data=signed_body if body is None else body,
                                  timeout=ClientTimeout(total=timeout or self.timeout)) as response:
            text = await response.text()
        reply = self.open_reply(text, query) if response.status == 200 else None
        return Answer(response.status, text, reply)

    async def send(self, fields: dict, *, urls: list[str] | None = None, drop: int = 0) -> Attempts:
        """WeChat's delivery: a try, then up to `retries` more of the same message on timeout.

        Attempt i goes to urls[i % len(urls)] (a retry may reach another process); the first `drop`
        answers are lost on the way back, as a slow network would lose them.
        """
        urls = urls or [self.url]
        attempts = Attempts()
        for i in range(1 + self.retries):
            try:
                answer = await self.post(fields, url=urls[i % len(urls)])
            except TimeoutError:
                answer = None
            attempts.answers.append(None if i < drop else answer)
            if attempts.answers[-1] is not None:
                break
        return attempts

    async def verify_url(self, echostr: str, *, signature: str | None = None) -> tuple[int, str]:
        timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
        query = {"signature": signature or sign(self.token, timestamp, nonce), "timestamp": timestamp,
                 "nonce": nonce, "echostr": echostr}
        async with self.http.get(self.url, params=query, timeout=ClientTimeout(total=self.timeout)) as response:
            return response.status, await response.text()

    def open_reply(self, text: str, query: dict) -> dict | None:
        """The reply's fields, decrypted and checked as WeChat checks them; None for "success"/empty."""
        if text in ("", "success"):
            return None
        fields = from_xml(text)
        if self.mode == "plain":
            return fields
        assert set(fields) >= {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}, fields
        expected = self.crypt.signature(fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
        assert fields["MsgSignature"] == expected, "reply signature does not verify"
        message, appid = self.crypt.decrypt(fields["Encrypt"])
        assert appid == self.appid, f"reply encrypted for {appid!r}, not {self.appid!r}"
        return from_xml(message)


class FakeWeChatAPI:
    """WeChat's API on 127.0.0.1: issues access tokens, records customer-service sends.

    `invalidate(errcode)` makes the current token fail the next send with 40001 (invalid) or 42001
    (expired), as WeChat does when a token is replaced or runs out; a new fetch issues a good one.
    """

    def __init__(self, appid: str, appsecret: str, token_delay: float = 0.0):
        self.appid, self.appsecret, self.token_delay = appid, appsecret, token_delay
        self.sends: list[dict] = []
        self.token_fetches = 0
        self.current: str | None = None
        self.refused: dict[str, int] = {}      # token -> errcode it gets
        self.refuse_all: int | None = None     # an errcode every send gets (a broken account)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._runner: web.AppRunner | None = None
        self.sent = asyncio.Event()

    def invalidate(self, errcode: int = 40001) -> None:
        self.refused[self.current] = errcode

    async def _token(self, request: web.Request) -> web.Response:
        q = request.query
        if (q.get("grant_type"), q.get("appid"), q.get("secret")) != ("client_credential", self.appid,
                                                                     self.appsecret):
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        await asyncio.sleep(self.token_delay)
        self.token_fetches += 1
        self.current = f"ACCESS_TOKEN_{self.token_fetches}_{secrets.token_hex(4)}"
        return web.json_response({"access_token": self.current, "expires_in": 7200})

    async def _send(self, request: web.Request) -> web.Response:
        token = request.query.get("access_token")
        if self.refuse_all:
            return web.json_response({"errcode": self.refuse_all, "errmsg": "refused"})
        if token in self.refused:
            return web.json_response({"errcode": self.refused[token], "errmsg": "access_token invalid"})
        if token != self.current:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        self.sends.append(await request.json())
        self.sent.set()
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def start(self) -> FakeWeChatAPI:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._send)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def wait_for_sends(self, count: int, timeout: float = 5.0) -> list[dict]:
        async def enough():
            while len(self.sends) < count:
                self.sent.clear()
                await self.sent.wait()
        await asyncio.wait_for(enough(), timeout)
        return self.sends
