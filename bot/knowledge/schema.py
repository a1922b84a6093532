"""The knowledge as frozen values: briefings (seeds) and city-independent topics.

Topics are city-independent: a topic holds one answer per city that its briefing covers.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

CITIES = ("平泉", "定州", "驻马店", "宁德", "寿光")
# Every answer whose figure the briefing lost says so in these words.
FIGURE_MISSING = "未给出具体数字"


def in_order(names) -> tuple[str, ...]:
    """City names the first five first, in their usual order, then staff-added cities as they come."""
    names = tuple(dict.fromkeys(names))
    return tuple(c for c in CITIES if c in names) + tuple(c for c in names if c not in CITIES)


class _ReadOnlyMaps:
    """Pickling for a frozen dataclass with MappingProxyType fields (which pickle refuses): they travel
    as dicts and come back read-only. A built Brain, knowledge included, is stored on disk this way."""

    def __getstate__(self) -> tuple[dict, list[str]]:
        read_only = [k for k, v in self.__dict__.items() if isinstance(v, MappingProxyType)]
        return {k: dict(v) if k in read_only else v for k, v in self.__dict__.items()}, read_only

    def __setstate__(self, state: tuple[dict, list[str]]) -> None:
        fields, read_only = state
        for k, v in fields.items():
            object.__setattr__(self, k, MappingProxyType(v) if k in read_only else v)


class KnowledgeError(Exception):
    """The knowledge cannot be loaded; `problems` lists every reason, one per line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Speaker:
    name: str
    dept: str
    role: str


@dataclass(frozen=True)
class Seed:
    file: str
    city: str
    province: str
    prefecture: str | None
    title: str
    host: str
    date: str | None
    notes: str
    speakers: tuple[Speaker, ...]
    places: tuple[str, ...]
    gaps: tuple[str, ...]
    text: str = field(repr=False)
    staff: bool = False              # uploaded by staff (kept in Redis), not one of seeds/ on disk


@dataclass(frozen=True)
class Answer:
    city: str
    text: str
    quotes: tuple[str, ...]
    seed: str
    dept: str | None = None
    figure_missing: bool = False
    as_of: str | None = None         # the date the answer holds for; default: its briefing's date
    review_by: str | None = None     # YYYY-MM-DD: staff should look at the answer again by then


@dataclass(frozen=True)
class Topic(_ReadOnlyMaps):
    id: str
    title: str
    category: str
    examples: tuple[str, ...]
    keywords: tuple[str, ...]
    answers: Mapping[str, Answer]
    related: tuple[str, ...] = ()
    source_file: str = ""
    comment: str = ""                # the comment lines above the topic in its file, kept for the export

    def cities(self) -> tuple[str, ...]:
        return in_order(self.answers)


@dataclass(frozen=True)
class Knowledge(_ReadOnlyMaps):
    seeds: Mapping[str, Seed]
    topics: tuple[Topic, ...]
    # file name -> the text above its first topic (its header comment), kept for the export
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    by_id: Mapping[str, Topic] = field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "by_id", MappingProxyType({t.id: t for t in self.topics}))

    def topic(self, topic_id: str | None) -> Topic | None:
        return self.by_id.get(topic_id) if topic_id else None

    @property
    def cities(self) -> tuple[str, ...]:
        """The cities the briefings cover: the first five in their usual order, then staff-added ones."""
        added = [s.city for s in sorted(self.seeds.values(), key=lambda s: s.file) if s.city not in CITIES]
        return tuple(c for c in CITIES if self.seed_for(c)) + tuple(dict.fromkeys(added))

    @cached_property
    def answered_cities(self) -> tuple[str, ...]:
        """The cities this version answers for, as the bot names them to citizens. A briefing staff
        uploaded is not a city the bot covers until an answer for it is published."""
        have = in_order(city for t in self.topics for city in t.answers)
        return tuple(c for c in self.cities if c in have) + tuple(c for c in have if c not in self.cities)

    def seed_for(self, city: str) -> Seed | None:
        return next((s for s in self.seeds.values() if s.city == city), None)
