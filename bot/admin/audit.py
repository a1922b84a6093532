"""The append-only audit log of the staff console, in a Redis stream.

Key `{prefix}:admin:audit`, a stream with no TTL that is never trimmed (so nothing is lost before the
180 days 等保 asks for; the stream grows by a few hundred bytes per action). Entries are added with XADD
and the stream's own ids, which are millisecond times; no code path calls XDEL, XTRIM or DEL on it, and
no route edits or deletes an entry.

Each entry: at (epoch seconds), actor, role, address, action, object, before, after (JSON), result.
"""
from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from redis.asyncio import Redis

CHINA = timezone(timedelta(hours=8))
FIELDS = ("at", "actor", "role", "address", "action", "object", "result", "before", "after")
MAX_ENTRIES = 5000
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Who:
    actor: str              # the account name ("" for a login with an unknown name: it is in `object`)
    role: str
    address: str


class AuditLog:
    def __init__(self, redis: Redis, prefix: str):
        self.redis = redis
        self.key = f"{prefix}:admin:audit"

    async def record(self, who: Who, action: str, target: str = "", *, result: str = "ok",
                     before=None, after=None) -> None:
        await self.redis.xadd(self.key, {
            "at": repr(time.time()), "actor": who.actor, "role": who.role, "address": who.address,
            "action": action, "object": target, "result": result,
            "before": _json(before), "after": _json(after)})

    async def entries(self, actor: str = "", action: str = "", since: date | None = None,
                      until: date | None = None, limit: int = MAX_ENTRIES) -> list[dict]:
        """Newest first; `since` and `until` are whole days in China time, both included."""
        high = _day_ms(until + timedelta(days=1)) - 1 if until else "+"
        low = _day_ms(since) if since else "-"
        found: list[dict] = []
        while len(found) < limit:
            batch = await self.redis.xrevrange(self.key, high, low, count=500)
            if not batch:
                break
            found += [e for e in map(_entry, batch) if _matches(e, actor, action)]
            high = "(" + batch[-1][0].decode()
        return found[:limit]


def _matches(entry: dict, actor: str, action: str) -> bool:
    return (not actor or entry["actor"] == actor) and (not action or entry["action"] == action
                                                        or entry["action"].startswith(action + "."))


def _entry(item) -> dict:
    entry_id, raw = item
    m = {k.decode(): v.decode() for k, v in raw.items()}
    return {"id": entry_id.decode(), "at": float(m["at"]), "time": _iso(float(m["at"])),
            "actor": m["actor"], "role": m["role"], "address": m["address"], "action": m["action"],
            "object": m["object"], "result": m["result"],
            "before": json.loads(m["before"]) if m["before"] else None,
            "after": json.loads(m["after"]) if m["after"] else None}


def to_csv(entries: list[dict]) -> str:
    """UTF-8 CSV with a BOM (so Excel reads the Chinese), every cell safe from formula injection."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["time", *FIELDS[1:]])
    for e in entries:
        row = [e["time"], *(e[f] if f not in ("before", "after") else _json(e[f]) for f in FIELDS[1:])]
        writer.writerow([_cell(v) for v in row])
    return "\ufeff" + out.getvalue()


def _cell(value) -> str:
    """A spreadsheet runs a cell that starts with = + - @ as a formula; a leading ' makes it text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def _json(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, CHINA).isoformat(timespec="seconds")


def _day_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=CHINA).timestamp() * 1000)
