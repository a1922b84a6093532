"""Structured logs: one JSON object per line, with time, level, logger, message and the request id.

Citizens' identifiers (WeChat openids, user ids, browser ids) never appear in clear: log them through
`pseudonym()`, a keyed hash that lets one citizen's events be told apart and correlated without naming
them. The key is the deployment's user-hash secret (bot/state/identity.py), the one the question log
and inbox hash with, so `u:` + 16 hex digits is the start of the `user` they store. Until that secret
is known (it may live in Redis, unreachable at start) the key is random per process and marked `p:`.
"""
from __future__ import annotations

import contextvars
import json
import logging
import secrets
import sys
import time

from bot.state.identity import user_hash

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# (key, mark): replaced by use_secret() once the deployment's secret is known; logging is process-wide anyway
_KEY = [(secrets.token_bytes(32), "p:")]
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def pseudonym(identifier: str | None) -> str:
    """A stable, keyed hash of a citizen's identifier for logs ("u:" + 16 hex digits)."""
    if not identifier:
        return "-"
    key, mark = _KEY[0]
    return mark + user_hash(key, identifier)[:16]


def use_secret(secret: bytes) -> None:
    """Hash ids in logs under the deployment's user-hash secret from now on."""
    _KEY[0] = (secret, "u:")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                 + f".{int(record.msecs):03d}Z", "level": record.levelname.lower(), "logger": record.name,
                 "message": record.getMessage(), "request_id": REQUEST_ID.get()}
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(secret: str | None, level: str = "INFO") -> None:
    """JSON lines on stderr for the whole process (called once by `serve`)."""
    if secret:
        use_secret(secret.encode("utf-8"))
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
