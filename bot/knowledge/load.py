"""Load `seeds/` and `intents/` into the frozen values of `bot.knowledge.schema`.

`load()` parses and shapes the data; `bot.knowledge.check` checks it against the briefings.
"""
from __future__ import annotations

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


def _answer(city: str, raw: dict) -> Answer:
    quotes = raw.get("quotes") or []
    return Answer(city=city, text=str(raw["text"]).strip(), seed=str(raw["seed"]),
                  quotes=tuple(str(q) for q in quotes), dept=raw.get("dept"),
                  figure_missing=bool(raw.get("figure_missing", False)))


def _topic(raw: dict, source_file: str) -> Topic:
    answers = {city: _answer(city, a) for city, a in (raw.get("answers") or {}).items()}
    return Topic(id=str(raw["id"]), title=str(raw["title"]), category=str(raw.get("category", "")),
                 examples=tuple(str(e) for e in raw.get("examples") or ()),
                 keywords=tuple(str(k) for k in raw.get("keywords") or ()),
                 answers=MappingProxyType(answers), related=tuple(raw.get("related") or ()),
                 source_file=source_file)


_TOPIC_KEYS = {"id", "title", "category", "examples", "keywords", "answers", "related"}
_ANSWER_KEYS = {"text", "quotes", "seed", "dept", "figure_missing"}


def _shape_problems(raw, where: str) -> list[str]:
    """Schema errors of one raw topic, each naming the file and topic."""
    if not isinstance(raw, dict):
        return [f"{where}: each entry must be a mapping"]
    where = f"{where}: topic {raw.get('id', '?')}"
    problems = [f"{where}: missing '{k}'" for k in ("id", "title", "examples", "answers") if k not in raw]
    problems += [f"{where}: unknown key '{k}'" for k in raw if k not in _TOPIC_KEYS]
    for city, ans in (raw.get("answers") or {}).items():
        if city not in CITIES:
            problems.append(f"{where}: '{city}' is not one of {'、'.join(CITIES)}")
        if not isinstance(ans, dict) or not {"text", "seed"} <= set(ans):
            problems.append(f"{where}, {city}: an answer needs 'text' and 'seed'")
            continue
        problems += [f"{where}, {city}: unknown key '{k}'" for k in ans if k not in _ANSWER_KEYS]
    return problems


def load_topics(intent_dir: Path) -> tuple[Topic, ...]:
    topics, problems = [], []
    for path in sorted(intent_dir.glob("*.yaml")):
        try:
            entries = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or []
        except yaml.YAMLError as exc:
            problems.append(f"intents/{path.name}: not valid YAML: {exc}")
            continue
        for raw in entries if isinstance(entries, list) else [entries]:
            shape = _shape_problems(raw, f"intents/{path.name}")
            problems += shape
            if not shape:
                topics.append(_topic(raw, path.name))
    if problems:
        raise KnowledgeError(problems)
    return tuple(topics)


def load(root: Path) -> Knowledge:
    """Knowledge from `root/seeds` and `root/intents`; raises KnowledgeError listing every problem."""
    return Knowledge(seeds=MappingProxyType(load_seeds(root / "seeds")),
                     topics=load_topics(root / "intents"))
