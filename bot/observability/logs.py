"""Structured logs: one JSON object per line, with time, level, logger, message and the request id.

Citizens' identifiers (WeChat openids, user ids, browser ids) never appear in clear: log them through
`pseudonym()`, a keyed hash (HMAC-SHA256 with LOG_HASH_SECRET) that lets one citizen's events be told
apart and correlated without naming them. Without the setting the key is random per process.
"""
from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import logging
import secrets
import sys
import time

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_KEY = [secrets.token_bytes(32)]        # replaced once by configure(); logging config is process-wide anyway
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def pseudonym(identifier: str | None) -> str:
    """A stable, keyed hash of a citizen's identifier for logs ("u:" + 16 hex digits)."""
    if not identifier:
        return "-"
    digest = hmac.new(_KEY[0], identifier.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return "u:" + digest[:16]


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
        _KEY[0] = secret.encode("utf-8")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
