"""Schema -> YAML-shaped dicts (what drafts, versions and the admin API hold) and -> `intents/` files.

`dump(load(root))` writes the repository's intents/*.yaml back byte for byte: the export stays
reviewable in git. A topic goes back to the file it came from (`Topic.source_file`).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import yaml

from bot.knowledge.load import ANSWER_KEYS, TOPIC_KEYS, topic_from_raw
from bot.knowledge.schema import Answer, Knowledge, Seed, Topic

# Keys a topic dict carries besides the YAML's: where it is written, and the comment above it.
FILE, COMMENT = "file", "comment"
DEFAULT_FILE = "staff.yaml"
_FLOW_LISTS = ("keywords", "related")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def answer_to_raw(ans: Answer) -> dict:
    raw = {"text": ans.text, "quotes": list(ans.quotes), "seed": ans.seed, "dept": ans.dept,
           "figure_missing": ans.figure_missing or None, "as_of": ans.as_of, "review_by": ans.review_by}
    return {k: v for k, v in raw.items() if v is not None}


def topic_to_raw(topic: Topic) -> dict:
    """The topic as its YAML entry, plus `file` and `comment` (only the keys the topic has)."""
    raw = {"id": topic.id, "title": topic.title, "category": topic.category, "keywords": list(topic.keywords),
           "examples": list(topic.examples), "related": list(topic.related) if topic.related else None,
           "answers": {city: answer_to_raw(a) for city, a in topic.answers.items()}}
    raw = {k: v for k, v in raw.items() if v is not None}
    return {**raw, FILE: topic.source_file or DEFAULT_FILE, COMMENT: topic.comment}


def yaml_part(raw: dict) -> dict:
    """Only the YAML keys of a topic dict (without `file` and `comment`)."""
    return {k: v for k, v in raw.items() if k not in (FILE, COMMENT)}


def topic_from_dict(raw: dict) -> Topic:
    return topic_from_raw(yaml_part(raw), raw.get(FILE) or DEFAULT_FILE, raw.get(COMMENT) or "")


def knowledge_from(seeds: dict[str, Seed], body: dict) -> Knowledge:
    """Knowledge from a stored body {"topics": [topic dicts], "headers": {file: header}}."""
    return Knowledge(seeds=MappingProxyType(dict(seeds)),
                     topics=tuple(topic_from_dict(t) for t in body["topics"]),
                     headers=MappingProxyType(dict(body.get("headers") or {})))


def body_of(kn: Knowledge) -> dict:
    return {"topics": [topic_to_raw(t) for t in kn.topics], "headers": dict(kn.headers)}


def digest(body: dict) -> str:
    """A content digest of a body: equal knowledge, equal digest."""
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def brain_key(body: dict, seeds: Mapping[str, Seed]) -> str:
    """A digest of all a Brain is built from: the topics and the briefings (which staff may upload
    while the topics stay the same)."""
    return digest({**body, "seeds": [dataclasses.asdict(seed) for _, seed in sorted(seeds.items())]})


# ---------------------------------------------------------------------------------------- YAML text

def files(kn: Knowledge) -> dict[str, str]:
    """File name -> its YAML text, topics in their order, each file's header first."""
    entries: dict[str, list[str]] = {}
    for topic in kn.topics:
        entries.setdefault(topic.source_file or DEFAULT_FILE, []).append(
            topic.comment + topic_yaml(topic_to_raw(topic)))
    return {name: kn.headers.get(name, "") + "\n".join(texts) for name, texts in entries.items()}


def dump(kn: Knowledge, intent_dir: Path) -> list[Path]:
    """Write the knowledge as intents/*.yaml (the files of its topics; others are left alone)."""
    intent_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files(kn).items():
        path = intent_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def topic_yaml(raw: dict) -> str:
    lines = []
    for key in TOPIC_KEYS:
        if key not in raw:
            continue
        lead = "- " if key == "id" else "  "
        if key == "answers":
            lines.append(f"{lead}answers:")
            for city, ans in raw["answers"].items():
                lines.append(f"    {_scalar(city)}:")
                lines += _answer_lines(ans)
        else:
            lines += _field(lead, key, raw[key], flow=key in _FLOW_LISTS)
    return "\n".join(lines) + "\n"


def _answer_lines(ans: dict) -> list[str]:
    out = []
    for key in ANSWER_KEYS:
        if key in ans:
            out += _field("      ", key, ans[key], flow=False)
    return out


def _field(lead: str, key: str, value, flow: bool) -> list[str]:
    if isinstance(value, list) and (flow or not value):
        return [f"{lead}{key}: [{', '.join(_scalar(v, flow=True) for v in value)}]"]
    if isinstance(value, list):
        return [f"{lead}{key}:"] + [f"{lead}  - {_scalar(v)}" for v in value]
    if isinstance(value, bool):
        return [f"{lead}{key}: {'true' if value else 'false'}"]
    return [f"{lead}{key}: {_scalar(value)}"]


def _scalar(value, flow: bool = False) -> str:
    """Plain when YAML reads it back as the same string; single-quoted otherwise."""
    text = str(value)
    if text and "\n" not in text and _reads_back(text, flow):
        return text
    if "\n" in text:
        return json.dumps(text, ensure_ascii=False)       # a JSON string is a valid YAML double-quoted one
    return "'" + text.replace("'", "''") + "'"


def _reads_back(text: str, flow: bool) -> bool:
    try:
        parsed = yaml.load(f"[{text}]" if flow else f"k: {text}", Loader=_Loader)
    except yaml.YAMLError:
        return False
    value = parsed[0] if flow and isinstance(parsed, list) and len(parsed) == 1 else (
        None if flow else parsed.get("k") if isinstance(parsed, dict) else None)
    if _ISO_DATE.match(text) and hasattr(value, "isoformat"):
        return value.isoformat() == text                  # dates stay plain; load turns them into strings
    # load reads every listed value with str(): a keyword 12345 stays plain
    return value == text or (type(value) is int and str(value) == text)
