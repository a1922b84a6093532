"""Differences between two knowledge bodies, per topic and field, at character level for Chinese text."""
from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from bot.knowledge.schema import in_order

TOPIC_FIELDS = ("title", "category", "examples", "keywords", "related")
ANSWER_FIELDS = ("text", "quotes", "seed", "dept", "figure_missing", "as_of", "review_by")


@dataclass(frozen=True)
class FieldDiff:
    field: str                 # "title", "answers.平泉.text", ...
    before: object
    after: object
    ops: tuple                 # ((op, text), ...): op is equal | delete | insert

    def to_json(self) -> dict:
        return {"field": self.field, "before": self.before, "after": self.after, "ops": [list(o) for o in self.ops]}


@dataclass(frozen=True)
class TopicDiff:
    topic: str
    change: str                # added | removed | changed
    fields: tuple[FieldDiff, ...]
    title: str = ""

    def to_json(self) -> dict:
        return {"topic": self.topic, "title": self.title, "change": self.change,
                "fields": [f.to_json() for f in self.fields]}


def ops(before, after) -> tuple:
    """Character by character for text; item by item for lists (examples, quotes)."""
    a = before if isinstance(before, list) else str(before if before is not None else "")
    b = after if isinstance(after, list) else str(after if after is not None else "")
    out = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out += _pieces("equal", a[i1:i2])
            continue
        out += _pieces("delete", a[i1:i2]) + _pieces("insert", b[j1:j2])
    return tuple(out)


def _pieces(op: str, part) -> list:
    if isinstance(part, list):
        return [(op, str(item)) for item in part]
    return [(op, part)] if part else []


def _fields(before: dict, after: dict) -> list[tuple[str, object, object]]:
    pairs = [(name, before.get(name), after.get(name)) for name in TOPIC_FIELDS]
    a_ans, b_ans = before.get("answers") or {}, after.get("answers") or {}
    for city in in_order([*a_ans, *b_ans]):
        x, y = a_ans.get(city) or {}, b_ans.get(city) or {}
        pairs += [(f"answers.{city}.{name}", x.get(name), y.get(name)) for name in ANSWER_FIELDS]
    return pairs


def topic_diff(before: dict | None, after: dict | None) -> TopicDiff | None:
    change = "added" if before is None else "removed" if after is None else "changed"
    a, b = before or {}, after or {}
    fields = tuple(FieldDiff(name, x, y, ops(x, y)) for name, x, y in _fields(a, b)
                   if (x or None) != (y or None))
    if not fields:
        return None
    return TopicDiff((after or before)["id"], change, fields, (after or before).get("title", ""))


def diff_bodies(before: dict, after: dict) -> list[TopicDiff]:
    """Topics added, removed or changed from `before` to `after`, in `after`'s order, removed last."""
    a = {t["id"]: t for t in before["topics"]}
    b = {t["id"]: t for t in after["topics"]}
    found = [topic_diff(a.get(i), b[i]) for i in b] + [topic_diff(a[i], None) for i in a if i not in b]
    return [d for d in found if d]
