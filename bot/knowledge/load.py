"""Load `seeds/` and `intents/` into the frozen values of `bot.knowledge.schema`.

`load()` parses and shapes the data; `bot.knowledge.check` checks it against the briefings.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from types import MappingProxyType

import yaml

from bot.knowledge.schema import CITIES, Answer, Knowledge, KnowledgeError, Seed, Speaker, Topic

# libyaml's loader when the wheel has it: the intents are loaded at every start-up.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _seed(file: str, meta: dict, text: str) -> Seed:
    speakers = tuple(Speaker(s["name"], s["dept"], s.get("role", "")) for s in meta.get("speakers") or ())
    return Seed(file=file, city=meta["city"], province=meta.get("province", ""),
                prefecture=meta.get("prefecture"), title=meta["title"], host=meta.get("host", ""),
                date=meta.get("date"), notes=meta.get("notes", ""), speakers=speakers,
                places=tuple(meta.get("places") or ()), gaps=tuple(meta.get("gaps") or ()), text=text)


def load_seeds(seed_dir: Path) -> dict[str, Seed]:
    meta = yaml.load((seed_dir / "meta.yaml").read_text(encoding="utf-8"), Loader=_Loader) or {}
    problems = [f"seeds/meta.yaml: {f}: no such briefing" for f in meta if not (seed_dir / f).is_file()]
    problems += [f"seeds/{p.name}: no entry in seeds/meta.yaml"
                 for p in sorted(seed_dir.glob("*.txt")) if p.name not in meta]
    if problems:
        raise KnowledgeError(problems)
    return {f: _seed(f, m, (seed_dir / f).read_text(encoding="utf-8")) for f, m in meta.items()}


def _date(value) -> str | None:
    """YAML reads 2025-03-01 as a date; the schema keeps dates as the strings staff wrote."""
    if value is None or value == "":
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def _answer(city: str, raw: dict) -> Answer:
    quotes = raw.get("quotes") or []
    return Answer(city=city, text=str(raw["text"]).strip(), seed=str(raw["seed"]),
                  quotes=tuple(str(q) for q in quotes), dept=raw.get("dept") or None,
                  figure_missing=bool(raw.get("figure_missing", False)),
                  as_of=_date(raw.get("as_of")), review_by=_date(raw.get("review_by")))


def topic_from_raw(raw: dict, source_file: str, comment: str = "") -> Topic:
    """A topic from its YAML-shaped dict (one that `shape_problems` passed)."""
    answers = {city: _answer(city, a) for city, a in (raw.get("answers") or {}).items()}
    return Topic(id=str(raw["id"]), title=str(raw["title"]), category=str(raw.get("category", "")),
                 examples=tuple(str(e) for e in raw.get("examples") or ()),
                 keywords=tuple(str(k) for k in raw.get("keywords") or ()),
                 answers=MappingProxyType(answers), related=tuple(raw.get("related") or ()),
                 source_file=source_file, comment=comment)


TOPIC_KEYS = ("id", "title", "category", "keywords", "examples", "related", "answers")
ANSWER_KEYS = ("text", "quotes", "seed", "dept", "figure_missing", "as_of", "review_by")


def shape_problems(raw, where: str, cities: tuple[str, ...] = CITIES) -> list[str]:
    """Schema errors of one raw topic, each naming the file and topic; `cities`: those with a briefing."""
    if not isinstance(raw, dict):
        return [f"{where}: each entry must be a mapping"]
    where = f"{where}: topic {raw.get('id', '?')}"
    problems = [f"{where}: missing '{k}'" for k in ("id", "title", "examples", "answers") if k not in raw]
    problems += [f"{where}: unknown key '{k}'" for k in raw if k not in TOPIC_KEYS]
    problems += [f"{where}: '{k}' must be a list" for k in ("examples", "keywords", "related")
                 if k in raw and raw[k] is not None and not isinstance(raw[k], list)]
    answers = raw.get("answers") or {}
    if not isinstance(answers, dict):
        return problems + [f"{where}: 'answers' must map cities to answers"]
    for city, ans in answers.items():
        if city not in cities:
            problems.append(f"{where}: '{city}' is not one of {'、'.join(cities)}")
        if not isinstance(ans, dict) or not {"text", "seed"} <= set(ans):
            problems.append(f"{where}, {city}: an answer needs 'text' and 'seed'")
            continue
        problems += [f"{where}, {city}: unknown key '{k}'" for k in ans if k not in ANSWER_KEYS]
    return problems


def comments(text: str) -> tuple[str, list[str]]:
    """The file's header (everything above its first topic and that topic's comment) and, per topic in
    order, the comment lines right above it. They are not knowledge, but the export keeps them."""
    header, blocks, block = "", [], []
    for line in text.splitlines(keepends=True):
        if line.startswith("- "):
            if not blocks and not header:
                header, block = _split_header(block)
            blocks.append("".join(block))
            block = []
        elif line.startswith("#") or (not line.strip() and not blocks and not header):
            block.append(line)
        else:
            block = []
    return header, blocks


def _split_header(lines: list[str]) -> tuple[str, list[str]]:
    """Above the first topic: its own comment is the run of comment lines touching it."""
    cut = len(lines)
    while cut and lines[cut - 1].startswith("#"):
        cut -= 1
    if cut == 0:                    # no blank line: the file's comment, not the topic's
        return "".join(lines), []
    return "".join(lines[:cut]), lines[cut:]


def load_topics(intent_dir: Path) -> tuple[tuple[Topic, ...], dict[str, str]]:
    """The topics of every intents/*.yaml, and each file's header comment."""
    topics, headers, problems = [], {}, []
    for path in sorted(intent_dir.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        try:
            entries = yaml.load(text, Loader=_Loader) or []
        except yaml.YAMLError as exc:
            problems.append(f"intents/{path.name}: not valid YAML: {exc}")
            continue
        headers[path.name], blocks = comments(text)
        entries = entries if isinstance(entries, list) else [entries]
        blocks += [""] * (len(entries) - len(blocks))
        for raw, comment in zip(entries, blocks):
            shape = shape_problems(raw, f"intents/{path.name}")
            problems += shape
            if not shape:
                topics.append(topic_from_raw(raw, path.name, comment))
    if problems:
        raise KnowledgeError(problems)
    return tuple(topics), headers


def load(root: Path) -> Knowledge:
    """Knowledge from `root/seeds` and `root/intents`; raises KnowledgeError listing every problem."""
    topics, headers = load_topics(root / "intents")
    return Knowledge(seeds=MappingProxyType(load_seeds(root / "seeds")), topics=topics,
                     headers=MappingProxyType(headers))
