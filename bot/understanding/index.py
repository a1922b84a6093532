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
from xxhash import xxh64_intdigest

# Features held by more than this share of documents say little about any one of them; once the
# index is large they are left out of queries (they would otherwise dominate the postings walked).
COMMON_SHARE = 0.05
COMMON_MIN_DOCS = 2000


def feature_hash(feature: str) -> int:
    """A feature's 64-bit hash, the same in every process, so that an index built by one process can be
    stored on disk and used by another (str's own hash is salted per process). xxh64: 0.17 µs a
    feature where blake2b took 0.76 (a province's build hashes fifteen million postings), shifted into
    the signed range numpy's int64 holds."""
    return xxh64_intdigest(feature.encode("utf-8", "surrogatepass")) - _HALF


_HALF = 1 << 63


def run_starts(ordered: np.ndarray) -> np.ndarray:
    """Where each run of equal values begins in a sorted array (empty for an empty one)."""
    if not len(ordered):
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])


def positions(table: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Each key's index in the ascending `table`, or -1 where the table lacks it."""
    if not len(table):
        return np.full(len(keys), -1, dtype=np.intp)
    at = np.minimum(np.searchsorted(table, keys), len(table) - 1)
    return np.where(table[at] == keys, at, -1)


class Postings:
    """Feature -> (docs, values). Documents are added one by one straight into flat arrays (no
    per-document dicts are kept), then `freeze` sorts them by feature. A feature is known by its
    64-bit hash in a sorted table, not by a dict of names: at a province's size the names, not the
    postings, were most of the memory. (Two features sharing a 64-bit hash among a million is a chance
    of about 1 in 30 million.)"""

    def __init__(self):
        self._h, self._d, self._v = array("q"), array("i"), array("f")
        self.n = 0

    def add(self, feats: Mapping[str, float]) -> None:
        self._h.extend(map(feature_hash, feats))
        self._v.extend(feats.values())
        self._d.extend(array("i", [self.n]) * len(feats))
        self.n += 1

    def freeze(self) -> Postings:
        h = np.frombuffer(self._h, dtype=np.int64)
        order = np.argsort(h, kind="stable")       # stable: each feature's docs stay ascending
        h = h[order]
        first = run_starts(h)
        self.table = h[first]
        self.start = np.r_[first, len(h)].astype(np.int64)
        self.df = np.diff(self.start).astype(np.int32)
        self.docs = np.frombuffer(self._d, dtype=np.int32)[order]
        self.values = np.frombuffer(self._v, dtype=np.float32)[order]
        self._h = self._d = self._v = None
        return self

    def rows(self, features: list[str]) -> np.ndarray:
        """Each feature's row, or -1 where no document has it: one vectorised lookup per query."""
        return positions(self.table, np.fromiter(map(feature_hash, features), dtype=np.int64, count=len(features)))

    def doc_freqs(self, rows: np.ndarray) -> np.ndarray:
        return np.where(rows >= 0, self.df[rows], 0)

    def feature_column(self) -> np.ndarray:
        """Each posting's feature row, in posting order."""
        return np.repeat(np.arange(len(self.df), dtype=np.int32), self.df)


class TfIdfIndex:
    """Cosine of TF-IDF vectors. `query` returns the documents sharing a feature and their cosines."""

    def __init__(self):
        self._p = Postings()
        self.keys: list[Hashable] = []

    def add(self, key: Hashable, features: Mapping[str, float]) -> None:
        self.keys.append(key)
        self._p.add(features)

    def build(self) -> TfIdfIndex:
        p = self._p.freeze()
        n = max(p.n, 1)
        self._idf = np.log1p(n / p.df)
        weights = p.values * self._idf[p.feature_column()]
        norms = np.sqrt(np.bincount(p.docs, weights=weights * weights, minlength=p.n))
        p.values = (weights / np.where(norms > 0, norms, 1.0)[p.docs]).astype(np.float32)
        self._common_df = n * COMMON_SHARE if n > COMMON_MIN_DOCS else math.inf
        return self

    def idfs(self, features: list[str]) -> np.ndarray:
        """Inverse document frequencies; 0 for a feature no document has (it cannot match anything)."""
        return self._idf_of(self._p.rows(features))

    def _idf_of(self, rows: np.ndarray) -> np.ndarray:
        return np.where(rows >= 0, self._idf[rows], 0.0)

    def query(self, features: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """(docs, cosines) for every document sharing a feature with the query."""
        names = list(features)
        rows = self._p.rows(names)
        vec = np.fromiter(features.values(), dtype=np.float64, count=len(names)) * self._idf_of(rows)
        vec /= math.sqrt(float(vec @ vec)) or 1.0
        present = rows >= 0
        # Normalised before the common features go: they still count in the query's length.
        rare = present & (self._p.doc_freqs(rows) <= self._common_df)
        keep = rare if rare.any() else present
        return _accumulate(self._p, rows[keep], vec[keep])


class CoverageIndex:
    """How much of a query's information a document's vocabulary covers: the IDF-weighted share of the
    query's features that the document contains at all. Unlike a cosine it does not punish a document for
    having many other words, which suits a topic (all its examples, keywords and answer at once)."""

    def __init__(self):
        self._p = Postings()
        self.keys: list[Hashable] = []

    def add(self, key: Hashable, features: Iterable[str]) -> None:
        self.keys.append(key)
        self._p.add(dict.fromkeys(features, 1.0))

    def build(self) -> CoverageIndex:
        self._p.freeze()
        self._unseen = math.log(1 + self._p.n)
        return self

    def idfs(self, features: list[str]) -> np.ndarray:
        """Inverse document frequencies; a feature no document has is as rare as can be."""
        return self._idf_of(self._p.rows(features))

    def _idf_of(self, rows: np.ndarray) -> np.ndarray:
        df = self._p.doc_freqs(rows)
        return np.where(df > 0, np.log1p(self._p.n / np.maximum(df, 1)), self._unseen)

    def idf(self, feature: str) -> float:
        return float(self.idfs([feature])[0])

    def shares(self, features: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """(docs, covered share of the query) for every document sharing a feature with it."""
        names = list(features)
        rows = self._p.rows(names)
        weights = np.fromiter(features.values(), dtype=np.float64, count=len(names)) * self._idf_of(rows)
        weights /= float(weights.sum()) or 1.0
        present = rows >= 0
        return _accumulate(self._p, rows[present], weights[present])

    def query(self, features: Mapping[str, float], keep: Callable[[Hashable], bool] | None = None
              ) -> Iterable[tuple[Hashable, float]]:
        docs, shares = self.shares(features)
        for doc, share in zip(docs.tolist(), shares.tolist()):
            key = self.keys[doc]
            if keep is None or keep(key):
                yield key, share


def _accumulate(p: Postings, rows: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Σ weight × value over the query's feature rows, for the documents that have any of them.

    The candidates are bounded: once the features taken so far (the weightiest first, which are the
    rarest) have touched CANDIDATES postings, the rest (common words of a long message) only add to the
    scores of documents already found, in one gather each, and bring in no new ones. A document that
    shares nothing but common features with a question ranks nowhere anyway; at the real knowledge's
    size no query reaches the bound, so nothing changes there."""
    sizes = p.df[rows]
    if int(sizes.sum()) <= CANDIDATES:
        return _gather(p, rows, weights)
    order = np.argsort(-weights, kind="stable")
    taken = max(1, int(np.searchsorted(np.cumsum(sizes[order]), CANDIDATES, side="right")))
    docs, scores = _gather(p, rows[order[:taken]], weights[order[:taken]])
    where = np.full(p.n, -1, dtype=np.int32)
    where[docs] = np.arange(len(docs), dtype=np.int32)
    for r, w in zip(rows[order[taken:]].tolist(), weights[order[taken:]].tolist()):
        s, e = p.start[r], p.start[r + 1]
        at = where[p.docs[s:e]]
        found = at >= 0
        scores[at[found]] += w * p.values[s:e][found]      # each document once per feature: no collisions
    return docs, scores


def _gather(p: Postings, rows: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gather the postings and sum per document. They arrive as one ascending run per feature, which a
    stable sort (timsort) merges in little more than a pass (30,000 postings: 0.16 ms, where zeroing and
    scanning a dense array of 247,000 documents took 0.7 ms)."""
    starts, ends = p.start[rows].tolist(), p.start[rows + 1].tolist()
    if not starts:
        return _NONE, _NOTHING
    docs = np.concatenate([p.docs[s:e] for s, e in zip(starts, ends)])
    values = np.concatenate([p.values[s:e] * w for s, e, w in zip(starts, ends, weights.tolist())])
    if not len(docs):
        return _NONE, _NOTHING
    order = np.argsort(docs, kind="stable")
    docs = docs[order]
    first = run_starts(docs)
    return docs[first], np.add.reduceat(values[order], first)


# Postings a query may draw candidates from (see _accumulate); the real knowledge never needs more.
CANDIDATES = 20_000
_NONE = np.zeros(0, dtype=np.int32)
_NOTHING = np.zeros(0, dtype=np.float64)
