"""A sparse TF-IDF index with an inverted file: a query touches only the documents that share one of
its features, so matching cost follows the postings of the query, not the size of the knowledge."""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable

# Features held by more than this share of documents say little about any one of them; once the
# index is large they are left out of queries (they would otherwise dominate the postings walked).
COMMON_SHARE = 0.05
COMMON_MIN_DOCS = 2000


class TfIdfIndex:
    def __init__(self):
        self._raw: list[tuple[Hashable, Counter]] = []
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self._idf: dict[str, float] = {}
        self.keys: list[Hashable] = []

    def add(self, key: Hashable, features: Counter) -> None:
        self._raw.append((key, features))

    def build(self) -> TfIdfIndex:
        n = len(self._raw)
        df = Counter(f for _, feats in self._raw for f in feats)
        self._idf = {f: math.log(1 + n / d) for f, d in df.items()}
        self._common = {f for f, d in df.items() if n > COMMON_MIN_DOCS and d > n * COMMON_SHARE}
        for doc, (key, feats) in enumerate(self._raw):
            vec = self._weigh(feats)
            self.keys.append(key)
            for f, w in vec.items():
                self._postings[f].append((doc, w))
        self._raw = []
        return self

    def idf(self, feature: str) -> float:
        return self._idf.get(feature, 0.0)

    def _weigh(self, feats: Counter) -> dict[str, float]:
        vec = {f: c * self._idf.get(f, 0.0) for f, c in feats.items()}
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        return {f: w / norm for f, w in vec.items() if w}

    def query(self, features: Counter) -> Iterable[tuple[Hashable, float]]:
        """(key, cosine) for every document sharing a feature with the query."""
        vec = self._weigh(features)
        if self._common and any(f not in self._common for f in vec):
            vec = {f: w for f, w in vec.items() if f not in self._common}
        scores: dict[int, float] = defaultdict(float)
        for f, qw in vec.items():
            for doc, dw in self._postings.get(f, ()):
                scores[doc] += qw * dw
        for doc, score in scores.items():
            yield self.keys[doc], score


class CoverageIndex:
    """How much of a query's information a document's vocabulary covers: the IDF-weighted share of the
    query's features that the document contains at all. Unlike a cosine it does not punish a document for
    having many other words, which suits a topic (all its examples, keywords and answer at once)."""

    def __init__(self):
        self._docs: list[tuple[Hashable, frozenset]] = []
        self._postings: dict[str, list[int]] = defaultdict(list)
        self._idf: dict[str, float] = {}
        self.keys: list[Hashable] = []

    def add(self, key: Hashable, features: Iterable[str]) -> None:
        self._docs.append((key, frozenset(features)))

    def build(self) -> CoverageIndex:
        n = len(self._docs)
        df = Counter(f for _, feats in self._docs for f in feats)
        self._idf = {f: math.log(1 + n / d) for f, d in df.items()}
        unseen = math.log(1 + n)
        self._unseen = unseen
        for doc, (key, feats) in enumerate(self._docs):
            self.keys.append(key)
            for f in feats:
                self._postings[f].append(doc)
        self._docs = []
        return self

    def idf(self, feature: str) -> float:
        """Inverse document frequency; a feature no document has is as rare as can be."""
        return self._idf.get(feature, self._unseen)

    def query(self, features: Counter, keep: Callable[[Hashable], bool] | None = None) -> Iterable[tuple[Hashable, float]]:
        weights = {f: c * self.idf(f) for f, c in features.items()}
        total = sum(weights.values()) or 1.0
        covered: dict[int, float] = defaultdict(float)
        for f, w in weights.items():
            for doc in self._postings.get(f, ()):
                covered[doc] += w
        for doc, mass in covered.items():
            key = self.keys[doc]
            if keep is None or keep(key):
                yield key, mass / total
