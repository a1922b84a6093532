"""Gazetteer: which briefing city a question is about, and whether it names a place we don't cover."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from bot.knowledge.schema import CITIES, Knowledge

_OTHER_PLACES_FILE = Path(__file__).with_name("data") / "other_places.txt"
# City centres, for a WeChat LOCATION event: the nearest briefing city is remembered for the session.
CENTRES = {"平泉": (41.018, 118.702), "定州": (38.516, 114.990), "驻马店": (33.011, 114.022),
           "宁德": (26.666, 119.548), "寿光": (36.855, 118.791)}
# The cities' own names and the suffixed forms people write; anything finer comes from the seeds.
_ALIASES = {city: (city + "市", city) for city in CITIES}


@dataclass(frozen=True)
class PlaceMention:
    city: str | None        # a briefing city the text names (directly or through one of its places)
    other: str | None       # a place the briefings do not cover (北京, 广州 ...)
    stripped: str           # the text with every place name removed, for topic matching


def _load_other_places() -> tuple[str, ...]:
    lines = _OTHER_PLACES_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(w for line in lines if not line.startswith("#") for w in line.split())


class Gazetteer:
    def __init__(self, knowledge: Knowledge):
        names: dict[str, set[str]] = {}
        for city in knowledge.cities:
            for alias in _ALIASES.get(city, (city + "市", city)):
                names.setdefault(alias, set()).add(city)
        for seed in knowledge.seeds.values():
            for place in seed.places:
                names.setdefault(place, set()).add(seed.city)
        # a place named in two briefings (学院路) tells us nothing about the city
        self._city_of = {n: next(iter(c)) for n, c in names.items() if len(c) == 1}
        self._ambiguous = tuple(n for n, c in names.items() if len(c) > 1)
        self._other = tuple(p for p in _load_other_places() if p not in names)
        longest_first = sorted([*self._city_of, *self._ambiguous, *self._other], key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, longest_first)))
        # Only city names leave the text before matching: a town or road (桲椤树, 台头山) says which
        # topic is meant as much as which city.
        # "平泉市区" keeps its 市区: the suffix 市 goes only where it is not part of another word.
        names = sorted([*CITIES, *knowledge.cities, *self._other], key=len, reverse=True)
        self._strip = re.compile("(?:" + "|".join(map(re.escape, names)) + ")(?:市(?![区民场]))?")

    def find(self, text: str) -> PlaceMention:
        city = other = None
        for m in self._pattern.finditer(text):
            name = m.group(0)
            if name in self._city_of:
                city = city or self._city_of[name]
            elif name in self._other:
                other = other or name.removesuffix("市")
        return PlaceMention(city=city, other=other if city is None else None,
                            stripped=self._strip.sub("", text))

    def place_names(self) -> tuple[str, ...]:
        """Every name the gazetteer knows, for the tokenizer's user dictionary."""
        return (*self._city_of, *self._ambiguous, *self._other)


# Beyond this a citizen is not "in" any briefing city: someone in 广州 must not be told 宁德's figures
# as if they were local.
MAX_DISTANCE_KM = 300
EARTH_RADIUS_KM = 6371.0


def distance_km(lat: float, lon: float, city: str) -> float:
    """Great-circle distance from a point to a briefing city's centre."""
    clat, clon = map(math.radians, CENTRES[city])
    plat, plon = math.radians(lat), math.radians(lon)
    h = math.sin((plat - clat) / 2) ** 2 + math.cos(plat) * math.cos(clat) * math.sin((plon - clon) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def nearest_city(lat: float, lon: float) -> str | None:
    """The briefing city closest to a point, or None when none is within MAX_DISTANCE_KM."""
    city = min(CENTRES, key=lambda c: distance_km(lat, lon, c))
    return city if distance_km(lat, lon, city) <= MAX_DISTANCE_KM else None
