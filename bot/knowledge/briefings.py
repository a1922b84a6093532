"""Briefings staff add (pasted text, .txt or .docx) with their metadata: staff data in Redis, never expired.

Keys, under `{prefix}:kb:` beside the versions, none with a TTL (staff data; `volatile-lru` never evicts
a key without one):
  kb:seeds        HASH  file name -> JSON {city, province, title, date, places, gaps, notes, actor, at, text}
  kb:seeds:rev    a counter, raised by each upload, so every process reloads the set when it changes
The knowledge loader sees them beside seeds/ on disk (Versions.refresh_seeds); a new city is added by
uploading its first briefing. Gaps are found by shape (bot/knowledge/ingest.py) and kept like meta.yaml's.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import time
import zipfile

from redis.asyncio import Redis

from bot.knowledge.ingest import gaps_of
from bot.knowledge.schema import Seed

MAX_TEXT = 200_000           # characters of a briefing
MAX_DOCX = 5 * 1024 * 1024


class BriefingError(ValueError):
    """An upload that cannot be stored; the message says why, in Chinese."""


class StaffSeeds:
    def __init__(self, redis: Redis, prefix: str):
        self.redis = redis
        self.key, self.rev_key = f"{prefix}:kb:seeds", f"{prefix}:kb:seeds:rev"

    async def rev(self) -> int:
        return int(await self.redis.get(self.rev_key) or 0)

    async def all(self) -> dict[str, Seed]:
        raw = await self.redis.hgetall(self.key)
        return {k.decode(): seed_of(k.decode(), json.loads(v)) for k, v in raw.items()}

    async def add(self, *, city: str, title: str, date: str, text: str, actor: str, taken: int,
                  places: list[str] | None = None, province: str = "") -> Seed:
        text = clean(text)
        problems = [m for ok, m in ((city.strip(), "请填写城市"), (title.strip(), "请填写标题"),
                                    (len(text) >= 50, "简报正文太短（至少50个字）"),
                                    (len(text) <= MAX_TEXT, f"简报正文太长（最多{MAX_TEXT}个字）")) if not ok]
        missing = [p for p in places or [] if p not in text]
        problems += [f"地名“{p}”没有出现在简报中" for p in missing]
        if problems:
            raise BriefingError("；".join(problems))
        name = f"{taken:03d}_{hashlib.sha256(text.encode()).hexdigest()[:16]}.txt"
        meta = {"city": city.strip(), "province": province, "title": title.strip(), "date": date.strip() or None,
                "places": list(dict.fromkeys(places or [])), "gaps": gaps_of(text), "actor": actor,
                "at": time.time(), "text": text, "notes": f"staff upload by {actor}"}
        if not await self.redis.hsetnx(self.key, name, json.dumps(meta, ensure_ascii=False)):
            raise BriefingError("这份简报已经上传过了")
        await self.redis.incr(self.rev_key)
        return seed_of(name, meta)


def seed_of(name: str, m: dict) -> Seed:
    return Seed(file=name, city=m["city"], province=m.get("province", ""), prefecture=None, title=m["title"],
                host="", date=m.get("date"), notes=m.get("notes", ""), speakers=(), places=tuple(m.get("places", ())),
                gaps=tuple(m.get("gaps", ())), text=m["text"], staff=True)


def clean(text: str) -> str:
    """Line ends unified, trailing spaces off; the text is otherwise kept verbatim (quotes must match)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def text_of_upload(data: bytes, name: str) -> str:
    """A .txt (UTF-8 or GB18030) or .docx upload as text: one paragraph a line."""
    if name.lower().endswith(".docx") or data[:4] == b"PK\x03\x04":
        return _docx_text(data)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BriefingError("无法识别文本编码：请另存为UTF-8或GBK编码的.txt")


def _docx_text(data: bytes) -> str:
    """word/document.xml's paragraphs, parsed with defusedxml (no python-docx needed)."""
    from defusedxml import ElementTree
    if len(data) > MAX_DOCX:
        raise BriefingError("文件太大：最大5MB")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if sum(i.file_size for i in z.infolist()) > 10 * MAX_DOCX:
                raise BriefingError("文件解压后过大，拒绝处理")
            root = ElementTree.fromstring(z.read("word/document.xml"))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError):
        raise BriefingError("不是有效的.docx文件") from None
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    paragraphs = ["".join(t.text or "" for t in p.iter(f"{w}t")) for p in root.iter(f"{w}p")]
    return "\n".join(re.sub(r"\s+$", "", p) for p in paragraphs if p.strip())
