"""Inverted files for matching: a query touches only the documents that share one of its features, and
the touching is done by numpy over compact postings, so its cost follows the postings of the query
(a few thousand array entries), not the size of the knowledge or the Python interpreter.

Postings are compressed sparse rows: for feature f, `docs[start[f]:start[f+1]]` (int32, ascending) and
their `values` (float32). A dict of lists of tuples cost about 70 bytes a posting and a Python loop
to walk; this costs 8 bytes and one vectorised add per query feature. The profile before (100×
knowledge, docs/performance.md): 90% of a query was the Python walk over postings and its filters."""
from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Hashable, Iterable, Mapping

import numpy as np

# Features held by more than this share of documents say little about any one of them; once the
# index is large they are left out of queries (they would otherwise dominate the postings walked).
COMMON_SHARE = 0.05
COMMON_MIN_DOCS = 2000


class Postings:
    """Feature -> (docs, values), built once from each document's feature values."""

    def __init__(self, documents: Iterable[Mapping[str, float]]):
        ids: dict[str, int] = {}
        features, docs, values = array("i"), array("i"), array("f")
        n = 0
        for n, feats in enumerate(documents, start=1):
            for f, v in feats.items():
                features.append(ids.setdefault(f, len(ids)))
                docs.append(n - 1)
                values.append(v)
        f = np.frombuffer(features, dtype=np.int32)
        order = np.argsort(f, kind="stable")       # stable: each feature's docs stay ascending
        self.docs = np.frombuffer(docs, dtype=np.int32)[order]
        self.values = np.frombuffer(values, dtype=np.float32)[order]
        self.df = np.bincount(f, minlength=len(ids)).astype(np.int32)
        self.start = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(self.df, out=self.start[1:])
        self.ids, self.n = ids, n

    def of(self, feature: str) -> tuple[np.ndarray, np.ndarray] | None:
        i = self.ids.get(feature)
        if i is None:
            return None
        s, e = self.start[i], self.start[i + 1]
        return self.docs[s:e], self.values[s:e]

    def doc_freq(self, feature: str) -> int:
        i = self.ids.get(feature)
        return 0 if i is None else int(self.df[i])

    def feature_column(self) -> np.ndarray:
        """Each posting's feature id, in posting order."""
        return np.repeat(np.arange(len(self.df), dtype=np.int32), self.df)


class TfIdfIndex:
    """Cosine of TF-IDF vectors. `query` returns the documents sharing a feature and their cosines."""

    def __init__(self):
        self._raw: list[Mapping[str, float]] = []
        self.keys: list[Hashable] = []

    def add(self, key: Hashable, features: Mapping[str, float]) -> None:
        self.keys.append(key)
        self._raw.append(features)

    def build(self) -> TfIdfIndex:
        self._p = p = Postings(self._raw)
        self._raw = []
        n = max(p.n, 1)
        self._idf = np.log1p(n / np.maximum(p.df, 1))
        weights = p.values * self._idf[p.feature_column()]
        norms = np.sqrt(np.bincount(p.docs, weights=weights * weights, minlength=p.n))
        p.values = (weights / np.where(norms > 0, norms, 1.0)[p.docs]).astype(np.float32)
        self._common_df = n * COMMON_SHARE if n > COMMON_MIN_DOCS else math.inf
        return self

    def idf(self, feature: str) -> float:
        i = self._p.ids.get(feature)
        return 0.0 if i is None else float(self._idf[i])

    def query(self, features: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """(docs, cosines) for every document sharing a feature with the query."""
        vec = {f: c * self.idf(f) for f, c in features.items()}
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        vec = {f: w / norm for f, w in vec.items() if w}
        # Normalised before the common features go: they still count in the query's length.
        if any(self._p.doc_freq(f) <= self._common_df for f in vec):
            vec = {f: w for f, w in vec.items() if self._p.doc_freq(f) <= self._common_df}
        return _accumulate(self._p, vec)


class CoverageIndex:
    """How much of a query's information a document's vocabulary covers: the IDF-weighted share of the
    query's features that the document contains at all. Unlike a cosine it does not punish a document for
    having many other words, which suits a topic (all its examples, keywords and answer at once)."""

    def __init__(self):
        self._raw: list[Mapping[str, float]] = []
        self.keys: list[Hashable] = []

    def add(self, key: Hashable, features: Iterable[str]) -> None:
        self.keys.append(key)
        self._raw.append(dict.fromkeys(features, 1.0))

    def build(self) -> CoverageIndex:
        self._p = Postings(self._raw)
        self._raw = []
        self._unseen = math.log(1 + self._p.n)
        return self

    def idf(self, feature: str) -> float:
        """Inverse document frequency; a feature no document has is as rare as can be."""
        df = self._p.doc_freq(feature)
        return math.log(1 + self._p.n / df) if df else self._unseen

    def shares(self, features: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """(docs, covered share of the query) for every document sharing a feature with it."""
        weights = {f: c * self.idf(f) for f, c in features.items()}
        total = sum(weights.values()) or 1.0
        return _accumulate(self._p, {f: w / total for f, w in weights.items()})

    def query(self, features: Mapping[str, float], keep: Callable[[Hashable], bool] | None = None
              ) -> Iterable[tuple[Hashable, float]]:
        docs, shares = self.shares(features)
        for doc, share in zip(docs.tolist(), shares.tolist()):
            key = self.keys[doc]
            if keep is None or keep(key):
                yield key, share


def _accumulate(p: Postings, weights: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Σ weight × value over the query's features, for the documents that have any of them."""
    scores = np.zeros(p.n, dtype=np.float64)
    for f, w in weights.items():
        hit = p.of(f)
        if hit is not None:
            scores[hit[0]] += w * hit[1]
    docs = np.flatnonzero(scores)
    return docs, scores[docs]
