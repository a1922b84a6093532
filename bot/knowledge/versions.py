"""Knowledge as runtime state: immutable published versions, one shared draft, publish and rollback.

Keys, all under `{prefix}:kb:` and none ever given a TTL: staff data is never expired, and the
deployment's `maxmemory-policy volatile-lru` only evicts keys that have one.
  kb:live              the live version number
  kb:head              the highest version number written (publish and rollback both add one)
  kb:version:{n}       JSON body {"topics": [topic dicts], "headers": {file: header}}; never rewritten
  kb:version:{n}:meta  hash: number, note, actor, at, kind (seed|publish|rollback), based_on, digest, counts
  kb:draft             JSON {"base", "release", "edits", "topics", "headers"}; absent means "same as live"
  kb:release           digest of the intents/ last taken in (seeded, or adopted and published)
  kb:golden            hash: question -> JSON pin {question, topic, city, actor, at}
Channel `{prefix}:kb:published` carries the new live number after every publish and rollback.

A version is written by one Lua script (body, metadata, live pointer together), so a kill -9 of the
writer or of Redis (AOF) leaves either the old version live or the new one whole. Seeds stay on disk; briefings staff upload live in kb:seeds (bot/knowledge/briefings.py).
"""
from __future__ import annotations

import copy
import hashlib
import json
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import WatchError

from bot.knowledge import check
from bot.knowledge.briefings import StaffSeeds
from bot.knowledge.diff import TopicDiff, diff_bodies
from bot.knowledge.dump import DEFAULT_FILE, FILE, body_of, digest, knowledge_from, topic_to_raw, yaml_part
from bot.knowledge.errors import FieldError, field_error, shape_error, texts_of
from bot.knowledge.load import load, load_seeds, shape_problems, topic_from_raw
from bot.knowledge.schema import Knowledge

# KEYS: live, head, body, meta, draft, release.  ARGV: expected head, number, body, meta JSON,
# draft sha1 to consume ("" = leave the draft), release digest ("" = unchanged), channel.
_WRITE = """
local head = tonumber(redis.call('GET', KEYS[2]) or '0')
if head ~= tonumber(ARGV[1]) then return -1 end
if ARGV[5] ~= '' then
  local draft = redis.call('GET', KEYS[5])
  if not draft or redis.sha1hex(draft) ~= ARGV[5] then return -2 end
  redis.call('DEL', KEYS[5])
end
local meta = cjson.decode(ARGV[4])
redis.call('SET', KEYS[3], ARGV[3])
for k, v in pairs(meta) do redis.call('HSET', KEYS[4], k, v) end
if ARGV[6] ~= '' then redis.call('SET', KEYS[6], ARGV[6]) end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[1], ARGV[2])
redis.call('PUBLISH', ARGV[7], ARGV[2])
return tonumber(ARGV[2])
"""


class PublishRejected(Exception):
    """The draft fails `citizen-bot check`; `errors` are FieldErrors, `problems` check's own lines."""

    def __init__(self, errors: list[FieldError], problems: list[str]):
        super().__init__("\n".join(problems))
        self.errors, self.problems = errors, problems


class Conflict(Exception):
    """Someone else published or saved at the same moment, again and again."""


@dataclass(frozen=True)
class VersionInfo:
    number: int
    note: str
    actor: str
    at: float
    kind: str            # seed | publish | rollback
    based_on: int        # the live version it replaced (a rollback: the version it restores)
    digest: str
    counts: dict         # {"topics": n, "answers": n}

    def to_json(self) -> dict:
        return asdict(self)


class Versions:
    def __init__(self, redis: Redis, prefix: str, root: Path):
        self.redis, self.root = redis, root
        self._prefix = f"{prefix}:kb"
        self.channel = self._key("published")
        self.disk_seeds = load_seeds(root / "seeds")
        self.seeds = dict(self.disk_seeds)           # and the briefings staff uploaded (refresh_seeds)
        self.staff_seeds = StaffSeeds(redis, prefix)
        self._seeds_rev = 0
        self._bodies: dict[int, dict] = {}           # immutable versions, read once per instance
        self._write = redis.register_script(_WRITE)

    def _key(self, *parts) -> str:
        return ":".join((self._prefix, *map(str, parts)))

    # ------------------------------------------------------------------------------------- versions

    async def refresh_seeds(self) -> None:
        """Take in the briefings staff uploaded (any process), when their set changed."""
        rev = await self.staff_seeds.rev()
        if rev != self._seeds_rev:
            self.seeds = {**self.disk_seeds, **await self.staff_seeds.all()}
            self._seeds_rev = rev

    async def ensure_seeded(self) -> int:
        """Version 1 from intents/ on first start; afterwards the live version stays as it is."""
        await self.refresh_seeds()
        live = await self.live_number()
        if live:
            return live
        body = body_of(load(self.root))
        number = await self._write_version(body, 0, "seed", "从intents/初始化", "system", 0, release=digest(body))
        return number if number > 0 else await self.live_number()

    async def live_number(self) -> int:
        return int(await self.redis.get(self._key("live")) or 0)

    async def body(self, number: int) -> dict:
        if number not in self._bodies:
            raw = await self.redis.get(self._key("version", number))
            if raw is None:
                raise KeyError(f"no version {number}")
            self._bodies = {**dict(list(self._bodies.items())[-7:]), number: json.loads(raw)}
        return self._bodies[number]

    async def knowledge(self, number: int) -> Knowledge:
        await self.refresh_seeds()
        return knowledge_from(self.seeds, await self.body(number))

    async def live_knowledge(self) -> tuple[int, Knowledge]:
        number = await self.live_number()
        return number, await self.knowledge(number)

    async def versions(self) -> list[VersionInfo]:
        head = int(await self.redis.get(self._key("head")) or 0)
        async with self.redis.pipeline(transaction=False) as pipe:
            for n in range(1, head + 1):
                pipe.hgetall(self._key("version", n, "meta"))
            metas = await pipe.execute()
        return [_info(m) for m in metas if m]

    async def publish(self, note: str, actor: str) -> int:
        """Check the whole draft exactly as `citizen-bot check` does and make it version N+1."""
        await self.refresh_seeds()
        for _ in range(10):
            raw_draft = await self.redis.get(self._key("draft"))
            live = await self.live_number()
            draft = json.loads(raw_draft) if raw_draft else await self.body(live)
            kn = knowledge_from(self.seeds, draft)
            problems = check.problems(kn)
            if problems:
                found = [f for t in kn.topics for f in check.topic_findings(t, kn)] + check.duplicate_findings(kn)
                errors = [field_error(f, texts_of(kn.topic(f.topic))) for f in found]
                raise PublishRejected(errors, problems)
            body = {"topics": draft["topics"], "headers": draft.get("headers") or {}}
            number = await self._write_version(body, live, "publish", note, actor, live,
                                               consume=raw_draft, release=draft.get("release") or "")
            if number > 0:
                return number
        raise Conflict("the draft or the live version kept changing; try again")

    async def rollback(self, number: int, actor: str, note: str = "") -> int:
        """A new version whose content is that of version `number`."""
        body = await self.body(number)
        for _ in range(10):
            live = await self.live_number()
            made = await self._write_version(body, live, "rollback", note or f"回滚到版本{number}", actor, number)
            if made > 0:
                return made
        raise Conflict("the live version kept changing; try again")

    async def _write_version(self, body: dict, head: int, kind: str, note: str, actor: str, based_on: int,
                             consume: bytes | None = None, release: str = "") -> int:
        """-1 if the head moved, -2 if the draft changed since it was read; else the new number."""
        number = head + 1
        counts = {"topics": len(body["topics"]), "answers": sum(len(t["answers"]) for t in body["topics"])}
        meta = {"number": number, "note": note, "actor": actor, "at": repr(time.time()), "kind": kind,
                "based_on": based_on, "digest": digest(body), "counts": json.dumps(counts)}
        keys = [self._key("live"), self._key("head"), self._key("version", number),
                self._key("version", number, "meta"), self._key("draft"), self._key("release")]
        sha = _sha1(consume) if consume else ""
        text = json.dumps(body, ensure_ascii=False)
        return int(await self._write(keys, [head, number, text, json.dumps(meta), sha, release, self.channel]))

    async def diff(self, a: int | str, b: int | str) -> list[TopicDiff]:
        """Per topic and field, from `a` to `b`: version numbers, or "live" / "draft"."""
        return diff_bodies(await self._body_named(a), await self._body_named(b))

    async def _body_named(self, name: int | str) -> dict:
        if name == "draft":
            return await self._draft_body()
        return await self.body(await self.live_number() if name == "live" else int(name))

    # ---------------------------------------------------------------------------------------- draft

    async def draft_body(self) -> dict:
        """The draft as stored (topics, headers, base, edits): the live version's copy when none."""
        return await self._draft_body()

    async def _draft_body(self) -> dict:
        raw = await self.redis.get(self._key("draft"))
        if raw:
            return json.loads(raw)
        live = await self.live_number()
        # a copy: the cached version is never to be changed by an edit of the draft
        return {"base": live, "release": None, "edits": {}, **copy.deepcopy(await self.body(live))}

    async def draft_topics(self) -> list[dict]:
        return (await self._draft_body())["topics"]

    async def draft_topic(self, topic_id: str) -> dict | None:
        return next((t for t in await self.draft_topics() if t["id"] == topic_id), None)

    async def draft_knowledge(self) -> Knowledge:
        await self.refresh_seeds()
        return knowledge_from(self.seeds, await self._draft_body())

    async def draft_digest(self) -> str:
        draft = await self._draft_body()
        return digest({"topics": draft["topics"], "headers": draft.get("headers") or {}})

    async def draft_changes(self) -> list[TopicDiff]:
        return await self.diff("live", "draft")

    async def discard_draft(self) -> None:
        await self.redis.delete(self._key("draft"))

    async def save_topic(self, raw: dict, actor: str, *, create: bool = False) -> list[FieldError]:
        """Save one topic to the draft if it passes the checks of `citizen-bot check` that concern it;
        otherwise change nothing and say what is wrong, field by field."""
        await self.refresh_seeds()
        shape = shape_problems(yaml_part(raw), "draft", tuple(dict.fromkeys(s.city for s in self.seeds.values())))
        if shape:
            return [shape_error(p) for p in shape]
        return await self._edit(lambda draft: _put(draft, raw, create), actor, raw["id"], checked=True)

    async def save_topics(self, raws: list[dict], actor: str) -> list[FieldError]:
        """Save several topics (new or changed, by id) in one write of the draft, all or none: each must
        pass the checks of `citizen-bot check` that concern it (an import; see bot/knowledge/transfer.py)."""
        await self.refresh_seeds()

        def change(draft: dict) -> list[FieldError]:
            at = {t["id"]: i for i, t in enumerate(draft["topics"])}
            for raw in raws:
                if raw["id"] in at:
                    draft["topics"][at[raw["id"]]] = raw
                else:
                    draft["topics"].append(raw)
                draft["edits"] = {**draft.get("edits", {}), raw["id"]: {"actor": actor, "at": time.time()}}
            kn = knowledge_from(self.seeds, draft)
            return [field_error(f, texts_of(kn.topic(r["id"]))) for r in raws for f in check.findings_for(kn, r["id"])]
        return await self._edit(change, actor, raws[0]["id"]) if raws else []

    async def retire_topic(self, topic_id: str, actor: str) -> bool:
        """Remove a topic from the draft, and from the `related` lists that point at it."""
        errors = await self._edit(lambda draft: _retire(draft, topic_id), actor, topic_id)
        return not errors

    async def _edit(self, change, actor: str, topic_id: str, checked: bool = False) -> list[FieldError]:
        """Apply `change(draft) -> [FieldError]` under WATCH: concurrent saves never lose each other.
        With `checked`, the topic must then pass every check of `citizen-bot check` that concerns it."""
        key = self._key("draft")
        for _ in range(20):
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key, self._key("live"))
                    draft = await self._draft_body()
                    errors = change(draft)
                    if not errors and checked:
                        kn = knowledge_from(self.seeds, draft)
                        errors = [field_error(f, texts_of(kn.topic(topic_id))) for f in check.findings_for(kn, topic_id)]
                    if errors:
                        return errors
                    draft["edits"] = {**draft.get("edits", {}), topic_id: {"actor": actor, "at": time.time()}}
                    pipe.multi()
                    pipe.set(key, json.dumps(draft, ensure_ascii=False))
                    await pipe.execute()
                    return []
                except WatchError:
                    continue
        raise Conflict("the draft kept changing; try again")

    # ------------------------------------------------------------------------------- dates, release

    async def overdue(self, today: date | str | None = None) -> list[dict]:
        """Live answers whose review-by date has passed."""
        today = (today if isinstance(today, str) else (today or date.today()).isoformat())
        kn = await self.knowledge(await self.live_number())
        return [{"topic": t.id, "title": t.title, "city": a.city, "review_by": a.review_by}
                for t in kn.topics for a in t.answers.values() if a.review_by and a.review_by < today]

    async def release_proposal(self) -> dict | None:
        """The repository's intents/ as a proposed change, if they differ from what was taken in."""
        repo = body_of(load(self.root))
        repo_digest = digest(repo)
        live = await self.body(await self.live_number())
        taken = (await self.redis.get(self._key("release")) or b"").decode()
        if repo_digest in (taken, digest(live)):
            return None
        return {"digest": repo_digest, "changes": [d.to_json() for d in diff_bodies(live, repo)]}

    async def adopt_release(self, actor: str) -> list[str]:
        """Merge the release into the draft; returns the topics staff had changed that the release also
        changes: their edits are kept, and the release's version of those topics is not taken."""
        repo = body_of(load(self.root))
        live = await self.body(await self.live_number())
        conflicts: list[str] = []

        def merge(draft: dict) -> list:
            merged, clashes = _merge(live["topics"], draft["topics"], repo["topics"])
            conflicts[:] = clashes
            draft.update(topics=merged, headers=repo["headers"], release=digest(repo))
            return []
        await self._edit(merge, actor, "release:" + digest(repo))
        return conflicts

    # ------------------------------------------------------------------------------ golden questions

    async def golden(self) -> list[dict]:
        pins = [json.loads(v) for v in (await self.redis.hgetall(self._key("golden"))).values()]
        return sorted(pins, key=lambda p: p["at"])

    async def pin(self, question: str, topic: str, city: str | None, actor: str) -> dict:
        pin = {"question": question, "topic": topic, "city": city or None, "actor": actor, "at": time.time()}
        await self.redis.hset(self._key("golden"), question, json.dumps(pin, ensure_ascii=False))
        return pin

    async def unpin(self, question: str, actor: str = "") -> bool:
        return bool(await self.redis.hdel(self._key("golden"), question))

    async def golden_report(self, live_brain, draft_brain) -> list[dict]:
        """Each pinned question through the real dialogue on both brains (see bot.dialogue.golden)."""
        from bot.dialogue.golden import report  # the dialogue sits above knowledge: asked for here only
        return report(await self.golden(), live_brain, draft_brain)


def _info(meta: dict) -> VersionInfo:
    m = {k.decode(): v.decode() for k, v in meta.items()}
    return VersionInfo(int(m["number"]), m["note"], m["actor"], float(m["at"]), m["kind"], int(m["based_on"]),
                       m["digest"], json.loads(m["counts"]))


def _sha1(raw: bytes) -> str:
    return hashlib.sha1(raw).hexdigest()


def _put(draft: dict, raw: dict, create: bool) -> list[FieldError]:
    topics = draft["topics"]
    at = next((i for i, t in enumerate(topics) if t["id"] == raw["id"]), None)
    if create and at is not None:
        return [FieldError("id", f"话题编号“{raw['id']}”已被其他话题使用")]
    if not create and at is None:
        return [FieldError("id", f"没有编号为“{raw['id']}”的话题")]
    old = topics[at] if at is not None else {FILE: _file_for(topics, raw.get("category", "")), "comment": ""}
    topic = topic_from_raw(yaml_part(raw), raw.get(FILE) or old[FILE], raw.get("comment", old["comment"]))
    new = topic_to_raw(topic)
    if at is None:
        topics.append(new)
    else:
        topics[at] = new
    return []


def _file_for(topics: list[dict], category: str) -> str:
    """A new topic goes to the file that holds its category's topics."""
    return next((t[FILE] for t in topics if t.get("category") == category), DEFAULT_FILE)


def _retire(draft: dict, topic_id: str) -> list[FieldError]:
    kept = [t for t in draft["topics"] if t["id"] != topic_id]
    if len(kept) == len(draft["topics"]):
        return [FieldError("id", f"没有编号为“{topic_id}”的话题")]
    for t in kept:
        if topic_id in t.get("related", []):
            t["related"] = [r for r in t["related"] if r != topic_id]
            if not t["related"]:
                del t["related"]
    draft["topics"] = kept
    return []


def _merge(base: list[dict], ours: list[dict], theirs: list[dict]) -> tuple[list[dict], list[str]]:
    """Three-way, per topic: a topic staff changed keeps their change; otherwise the release's."""
    b, o = {t["id"]: t for t in base}, {t["id"]: t for t in ours}
    merged, clashes = [], []
    for t in theirs:
        mine, was = o.get(t["id"]), b.get(t["id"])
        if mine == was or mine == t:
            merged.append(t)
        elif mine is None:                    # staff retired it; the release still has it
            if was != t:
                clashes.append(t["id"])
        else:
            merged.append(mine)
            if was != t:
                clashes.append(t["id"])
    names = {t["id"] for t in theirs}
    for t in ours:
        if t["id"] not in names and (t["id"] not in b or b[t["id"]] != t):
            merged.append(t)                  # added by staff, or changed by staff and dropped by the release
            if t["id"] in b:
                clashes.append(t["id"])
    return merged, clashes
