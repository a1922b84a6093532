"""`citizen-bot check`: every problem in the knowledge, each with a precise location.

A curated answer is trusted only if its quotes stand verbatim in its briefing, its figures stand in its
quotes, and no quote spans a figure the transcription lost.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
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
    # a staff upload's title and date are typed in beside the text, not transcribed from it
    strings = [] if seed.staff else [("title", seed.title), ("date", seed.date or "")]
    strings += [("speaker dept", s.dept) for s in seed.speakers] + [("place", p) for p in seed.places]
    strings += [("gap", g.replace("_", "")) for g in seed.gaps]
    problems = [f"{where}: {kind} '{value}' does not occur in the briefing"
                for kind, value in strings if value and value not in seed.text]
    problems += [f"{where}: gap '{g}' has no '_' marking the lost figure" for g in seed.gaps if "_" not in g]
    if seed.city not in CITIES and not seed.staff:        # staff add cities by uploading a briefing
        problems.append(f"{where}: city '{seed.city}' is not one of {'、'.join(CITIES)}")
    return problems


@dataclass(frozen=True)
class Finding:
    """One problem of a topic, located to its field: `str()` is the line `citizen-bot check` prints; the
    admin turns `kind` and `value` into a message next to the field."""
    topic: str
    field: str            # "title", "examples", "answers.平泉.quotes", ...
    kind: str
    value: str
    text: str

    def __str__(self) -> str:
        return self.text


def _answer_findings(topic: Topic, ans: Answer, kn: Knowledge) -> list[Finding]:
    where = f"intents/{topic.source_file}: topic {topic.id}, {ans.city}"

    def found(name: str, kind: str, value: str, text: str) -> Finding:
        return Finding(topic.id, f"answers.{ans.city}.{name}", kind, value, f"{where}: {text}")

    seed = kn.seeds.get(ans.seed)
    if seed is None:
        return [found("seed", "unknown_seed", ans.seed, f"seed '{ans.seed}' is not a briefing in seeds/")]
    if seed.city != ans.city:
        return [found("seed", "seed_city", seed.city, f"seed {ans.seed} is {seed.city}'s briefing, not {ans.city}'s")]
    problems = [] if ans.quotes else [found("quotes", "no_quotes", "", "no quotes")]
    holes = gap_holes(seed)
    for quote in ans.quotes:
        if quote not in seed.text:
            problems.append(found("quotes", "quote_not_verbatim", quote,
                                  f"quote not found verbatim in {ans.seed}: '{quote}'"))
        elif spans_gap(quote, seed, holes):
            problems.append(found("quotes", "quote_lost_figure", quote, f"quote contains a lost figure: '{quote}'"))
    problems += [found("text", "figure_ungrounded", f, f"figure '{f}' in the answer is in none of its quotes")
                 for f in ungrounded(ans.text, ans.quotes)]
    if ans.figure_missing and FIGURE_MISSING not in ans.text:
        problems.append(found("text", "figure_missing_unsaid", FIGURE_MISSING,
                              f"figure_missing answers must say '{FIGURE_MISSING}'"))
    if ans.dept and ans.dept not in seed.text:
        problems.append(found("dept", "dept_not_in_seed", ans.dept, f"dept '{ans.dept}' does not occur in {ans.seed}"))
    if ans.review_by and not _is_date(ans.review_by):
        problems.append(found("review_by", "bad_date", ans.review_by,
                              f"review_by '{ans.review_by}' is not a date (YYYY-MM-DD)"))
    return problems


def _is_date(text: str) -> bool:
    try:
        return date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


def _cities(kn: Knowledge) -> tuple[str, ...]:
    return CITIES + tuple(c for c in kn.cities if c not in CITIES)


def topic_findings(topic: Topic, kn: Knowledge) -> list[Finding]:
    """The problems of one topic within `kn` (without those it shares with others: see duplicates)."""
    where = f"intents/{topic.source_file}: topic {topic.id}"

    def found(name: str, kind: str, value: str, text: str) -> Finding:
        return Finding(topic.id, name, kind, value, f"{where}: {text}")

    problems = []
    if len(topic.examples) < MIN_EXAMPLES:
        problems.append(found("examples", "few_examples", str(len(topic.examples)),
                              f"{len(topic.examples)} examples, at least {MIN_EXAMPLES} needed"))
    problems += [found("examples", "example_names_city", e, f"example '{e}' names a city; topics are city-independent")
                 for e in topic.examples if any(c in e for c in _cities(kn))]
    # Titles appear in clarifying questions and refusals, which cite no source: they must state no figure.
    stated = ", ".join(sorted(figures(topic.title)))
    if stated:
        problems.append(found("title", "title_figure", stated, f"title '{topic.title}' states a figure ({stated})"))
    problems += [found("related", "unknown_related", r, f"related topic '{r}' does not exist")
                 for r in topic.related if not kn.topic(r)]
    if not topic.answers:
        problems.append(found("answers", "no_answers", "", "no answers"))
    for ans in topic.answers.values():
        problems += _answer_findings(topic, ans, kn)
    return problems


def duplicate_findings(kn: Knowledge) -> list[Finding]:
    """Ids defined twice, examples in several topics: one finding per topic involved."""
    ids, examples = defaultdict(list), defaultdict(list)
    for t in kn.topics:
        ids[t.id].append(t.source_file)
        for e in t.examples:
            examples[normalize(e)].append((t.id, e))
    found = [Finding(i, "id", "duplicate_id", i, f"topic id '{i}' is defined {len(f)} times ({', '.join(f)})")
             for i, f in ids.items() if len(f) > 1]
    for norm, uses in examples.items():
        topics = sorted({t for t, _ in uses})
        if len(topics) > 1:
            text = f"example '{norm}' appears in several topics: {', '.join(topics)}"
            found += [Finding(t, "examples", "duplicate_example", f"{e}\t{','.join(x for x in topics if x != t)}",
                              text) for t, e in dict(uses).items()]
    return found


def findings_for(kn: Knowledge, topic_id: str) -> list[Finding]:
    """Exactly the checks of `problems` that concern one topic (what a save of that topic must pass)."""
    own = [f for t in kn.topics if t.id == topic_id for f in topic_findings(t, kn)]
    return own + [f for f in duplicate_findings(kn) if f.topic == topic_id]


def problems(kn: Knowledge) -> list[str]:
    """Every problem in the knowledge; empty means it may be served."""
    found = [p for s in kn.seeds.values() for p in _seed_problems(s)]
    found += [str(f) for t in kn.topics for f in topic_findings(t, kn)]
    return found + list(dict.fromkeys(str(f) for f in duplicate_findings(kn)))
