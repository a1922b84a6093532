"""Replay protection for /wechat: a signed callback is good only near the time it was signed, and each
(timestamp, nonce) pair stands for one message.

WeChat's signature covers token, timestamp and nonce, and in plaintext mode nothing else: a captured
query string signs any body. So the timestamp must be within `window` seconds of now (WeChat's servers
keep good time), and the nonce is remembered, with the message it came with, for as long as its
timestamp could be accepted; the same nonce with another message is refused. A replay of the same
message within the window is recognised by its MsgId (Delivery keeps replies at least that long) and
is never answered twice.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from bot.channels.wechat.envelope import Rejected
from bot.observability import metrics

log = logging.getLogger(__name__)
WINDOW = 300               # seconds; WeChat's own tolerance is of this order


class ReplayGuard:
    def __init__(self, window: int = WINDOW):
        self.window = window

    @property
    def memory(self) -> int:
        """How long a nonce or a reply must be remembered: a timestamp up to `window` in the future stays
        acceptable until 2 x window from now."""
        return 2 * self.window + 60

    def check_time(self, query: Mapping[str, str], now: float | None = None) -> None:
        """403 unless the (signed, well-formed) timestamp is within the window of now."""
        skew = abs(int(query["timestamp"]) - (time.time() if now is None else now))
        if skew > self.window:
            metrics.REPLAYS.labels("stale").inc()
            raise Rejected(403, f"timestamp {skew:.0f}s away from now (window {self.window}s)")

    async def check_nonce(self, store, query: Mapping[str, str], message_key: str,
                          then_claim: tuple[str, int] | None = None):
        """403 if this timestamp+nonce came before with another message. Fails open with Redis away.
        With `then_claim` (name, lease), the message's delivery is claimed in the same round trip (only
        if it is not refused): the (stored reply, claimed) that `Delivery.reply_once` starts from."""
        name = f"wechat-nonce:{query['timestamp']}:{query['nonce']}"
        if then_claim is None:
            earlier, claimed = await store.remember(name, message_key, self.memory), None
        else:
            earlier, claimed = await store.remember_then_claim(name, message_key, self.memory, *then_claim)
        if earlier is not None and earlier != message_key:
            metrics.REPLAYS.labels("nonce").inc()
            raise Rejected(403, "nonce already used for another message")
        return claimed
