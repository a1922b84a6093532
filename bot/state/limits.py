"""Rate-limit values, apart from the limiter so settings can read them without importing Redis or metrics."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    count: int
    per: int           # seconds

    @classmethod
    def parse(cls, text: str) -> Limit:
        """"20/60" -> 20 requests per 60 seconds."""
        count, _, per = text.partition("/")
        limit = cls(int(count), int(per or 60))
        if limit.count < 1 or limit.per < 1:
            raise ValueError(text)
        return limit


DEFAULTS = {
    "chat-address": Limit(120, 60),   # /api/chat and the web chat, per client address
    "chat-user": Limit(20, 60),       # per user_id (/api/chat) or browser (web chat)
    "login": Limit(10, 300),          # admin login attempts, per address (bot/admin/throttle.py)
    "login-user": Limit(5, 300),      # ... and per account name
}
