"""`citizen-bot check`: every problem in the knowledge, each with a precise location.

A curated answer is trusted only if its quotes stand verbatim in its briefing, its figures stand in its
quotes, and no quote spans a figure the transcription lost.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from bot.knowledge.grounding import figures, ungrounded
from bot.knowledge.schema import CITIES, FIGURE_MISSING, Answer, Knowledge, Seed, Topic
from bot.understanding.text import normalize

MIN_EXAMPLES = 5


def gap_holes(seed: Seed) -> list[int]:
    """Offsets in the briefing text where a figure was lost (the `_` of each gap in seeds/meta.yaml)."""
    holes = []
    for gap in seed.gaps:
        parts = gap.split("_")
        plain = "".join(parts)
        # offsets of each hole within the gap string: after the first part, after the second, ...
        inside = [sum(len(p) for p in parts[:i + 1]) for i in range(len(parts) - 1)]
        start = seed.text.find(plain)
        while start >= 0:
            holes += [start + offset for offset in inside]
            start = seed.text.find(plain, start + 1)
    return holes


def spans_gap(quote: str, seed: Seed, holes: list[int]) -> bool:
    start = seed.text.find(quote)
    while start >= 0:
        if any(start < h < start + len(quote) for h in holes):
            return True
        start = seed.text.find(quote, start + 1)
    return False


def _seed_problems(seed: Seed) -> list[str]:
    where = f"seeds/meta.yaml: {seed.file}"
    strings = [("title", seed.title), ("date", seed.date or "")]
    strings += [("speaker dept", s.dept) for s in seed.speakers] + [("place", p) for p in seed.places]
    strings += [("gap", g.replace("_", "")) for g in seed.gaps]
    problems = [f"{where}: {kind} '{value}' does not occur in the briefing"
                for kind, value in strings if value and value not in seed.text]
    problems += [f"{where}: gap '{g}' has no '_' marking the lost figure" for g in seed.gaps if "_" not in g]
    if seed.city not in CITIES:
        problems.append(f"{where}: city '{seed.city}' is not one of {'、'.join(CITIES)}")
    return problems


def _answer_problems(topic: Topic, ans: Answer, kn: Knowledge) -> list[str]:
    where = f"intents/{topic.source_file}: topic {topic.id}, {ans.city}"
    seed = kn.seeds.get(ans.seed)
    if seed is None:
        return [f"{where}: seed '{ans.seed}' is not a briefing in seeds/"]
    if seed.city != ans.city:
        return [f"{where}: seed {ans.seed} is {seed.city}'s briefing, not {ans.city}'s"]
    problems = [] if ans.quotes else [f"{where}: no quotes"]
    holes = gap_holes(seed)
    for quote in ans.quotes:
        if quote not in seed.text:
            problems.append(f"{where}: quote not found verbatim in {ans.seed}: '{quote}'")
        elif spans_gap(quote, seed, holes):
            problems.append(f"{where}: quote contains a lost figure: '{quote}'")
    problems += [f"{where}: figure '{f}' in the answer is in none of its quotes"
                 for f in ungrounded(ans.text, ans.quotes)]
    if ans.figure_missing and FIGURE_MISSING not in ans.text:
        problems.append(f"{where}: figure_missing answers must say '{FIGURE_MISSING}'")
    if ans.dept and ans.dept not in seed.text:
        problems.append(f"{where}: dept '{ans.dept}' does not occur in {ans.seed}")
    if ans.review_by and not _is_date(ans.review_by):
        problems.append(f"{where}: review_by '{ans.review_by}' is not a date (YYYY-MM-DD)")
    return problems


def _is_date(text: str) -> bool:
    try:
        return date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


def _topic_problems(topic: Topic, kn: Knowledge) -> list[str]:
    where = f"intents/{topic.source_file}: topic {topic.id}"
    problems = []
    if len(topic.examples) < MIN_EXAMPLES:
        problems.append(f"{where}: {len(topic.examples)} examples, at least {MIN_EXAMPLES} needed")
    problems += [f"{where}: example '{e}' names a city; topics are city-independent"
                 for e in topic.examples if any(c in e for c in CITIES)]
    # Titles appear in clarifying questions and refusals, which cite no source: they must state no figure.
    problems += [f"{where}: title '{topic.title}' states a figure ({', '.join(sorted(figures(topic.title)))})"
                 for _ in [0] if figures(topic.title)]
    problems += [f"{where}: related topic '{r}' does not exist" for r in topic.related if not kn.topic(r)]
    if not topic.answers:
        problems.append(f"{where}: no answers")
    for ans in topic.answers.values():
        problems += _answer_problems(topic, ans, kn)
    return problems


def _duplicate_problems(kn: Knowledge) -> list[str]:
    ids, examples = defaultdict(list), defaultdict(set)
    for t in kn.topics:
        ids[t.id].append(t.source_file)
        for e in t.examples:
            examples[normalize(e)].add(t.id)
    problems = [f"topic id '{i}' is defined {len(f)} times ({', '.join(f)})" for i, f in ids.items() if len(f) > 1]
    problems += [f"example '{e}' appears in several topics: {', '.join(sorted(t))}"
                 for e, t in examples.items() if len(t) > 1]
    return problems


def problems(kn: Knowledge) -> list[str]:
    """Every problem in the knowledge; empty means it may be served."""
    found = [p for s in kn.seeds.values() for p in _seed_problems(s)]
    found += [p for t in kn.topics for p in _topic_problems(t, kn)]
    return found + _duplicate_problems(kn)
