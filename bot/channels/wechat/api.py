"""WeChat's customer-service message API, with the access token shared by every process through Redis.

WeChat issues one access token per account at a time and each new one ends the old one's life, so
processes must not fetch tokens freely: one refreshes under a Redis lock while the others wait and
re-read, and a token is replaced only by the process that saw *that* token fail.
"""
from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import ClientSession, ClientTimeout
from redis.exceptions import LockError

from bot.settings import WeChatSettings
from bot.state.store import Store

log = logging.getLogger(__name__)

TOKEN_NAME = "wechat-access-token"
TOKEN_MARGIN = 300            # seconds before WeChat's expiry that a cached token is dropped
EXPIRED = frozenset({40001, 40014, 42001})   # invalid, malformed or expired access token
TIMEOUT = ClientTimeout(total=10)
LOCK_WAIT = 15.0              # longer than one token fetch may take (TIMEOUT)
POLL = 0.05


class WeChatAPIError(RuntimeError):
    def __init__(self, what: str, answer: dict):
        super().__init__(f"{what}: errcode {answer.get('errcode')} {answer.get('errmsg', '')}".strip())
        self.errcode = answer.get("errcode")


class CustomerService:
    def __init__(self, http: ClientSession, store: Store, settings: WeChatSettings):
        self._http, self._store, self._settings = http, store, settings

    async def send_text(self, openid: str, text: str) -> None:
        """Send `text` to a user who wrote in the last 48 hours; one retry with a fresh token."""
        token = await self.token()
        answer = await self._post_text(token, openid, text)
        if answer.get("errcode") in EXPIRED:
            token = await self.token(failed=token)
            answer = await self._post_text(token, openid, text)
        if answer.get("errcode", 0) != 0:
            raise WeChatAPIError("customer-service send", answer)

    async def _post_text(self, token: str, openid: str, text: str) -> dict:
        body = json.dumps({"touser": openid, "msgtype": "text", "text": {"content": text}}, ensure_ascii=False)
        url = f"{self._settings.api_base}/cgi-bin/message/custom/send"
        async with self._http.post(url, params={"access_token": token}, data=body.encode("utf-8"),
                                   headers={"Content-Type": "application/json; charset=utf-8"},
                                   timeout=TIMEOUT) as response:
            return await response.json(content_type=None)

    async def token(self, failed: str | None = None) -> str:
        """The cached access token, fetched by one process at a time; `failed` is one WeChat refused."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + LOCK_WAIT
        while True:
            cached = await self._store.get_secret(TOKEN_NAME)
            if cached and cached != failed:
                return cached
            lock = self._store.lock(TOKEN_NAME, timeout=LOCK_WAIT)
            if await lock.acquire(blocking=False):
                try:
                    return await self._refresh(failed)
                finally:
                    await _release(lock)
            if loop.time() > give_up:
                raise WeChatAPIError("access token", {"errmsg": "another process's refresh did not finish"})
            await asyncio.sleep(POLL)     # someone else is refreshing: re-read rather than queue for the lock

    async def _refresh(self, failed: str | None) -> str:
        cached = await self._store.get_secret(TOKEN_NAME)
        if cached and cached != failed:
            return cached          # refreshed by another process between our read and the lock
        token, lifetime = await self._fetch_token()
        await self._store.put_secret(TOKEN_NAME, token, max(60, lifetime - TOKEN_MARGIN))
        return token

    async def _fetch_token(self) -> tuple[str, int]:
        params = {"grant_type": "client_credential", "appid": self._settings.appid,
                  "secret": self._settings.appsecret}
        async with self._http.get(f"{self._settings.api_base}/cgi-bin/token", params=params,
                                  timeout=TIMEOUT) as response:
            answer = await response.json(content_type=None)
        if not answer.get("access_token"):
            raise WeChatAPIError("access token", answer)
        log.info("wechat: fetched a new access token")
        return answer["access_token"], int(answer.get("expires_in", 7200))


async def _release(lock) -> None:
    try:
        await lock.release()
    except LockError:           # it expired during a very slow fetch; nothing to undo
        log.warning("wechat: the access-token lock expired before it was released")
