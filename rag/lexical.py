"""An in-memory mirror of the stored passages: BM25 over accent-folded terms, and copy detection.

BM25 (the `bm25s` package) runs over `rag.text.terms`, so `Trong` matches `Trọng` both ways.
Copy detection finds the same text in other files (syndicated articles) through shared
word 5-grams, so one hit can list every file that carries it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import bm25s
import numpy as np

from rag.store import Record
from rag.text import terms, words

SHINGLE = 5
COPY_THRESHOLD = 0.5  # syndications split differently share about half a passage or more


def shingles(text: str) -> set[tuple[str, ...]]:
    """Folded word 5-grams: the unit of copy detection (wording, not meaning)."""
    w = words(text)
    if len(w) < SHINGLE:
        return {tuple(w)} if w else set()
    return {tuple(w[i : i + SHINGLE]) for i in range(len(w) - SHINGLE + 1)}


def containment(a: set, b: set) -> float:
    """Share of `a`'s shingles that also occur in `b`."""
    return len(a & b) / len(a) if a else 0.0


class LexicalIndex:
    """BM25 and copy lookup over a list of passage records."""

    def __init__(self, records: Sequence[Record]) -> None:
        self.records = list(records)
        self.position = {r.id: i for i, r in enumerate(self.records)}
        self.by_span = {(r.metadata["source"], int(r.metadata["start"])): r for r in self.records}
        self._tokens = [terms(r.text) for r in self.records]
        self.df: Counter[str] = Counter()
        for toks in self._tokens:
            self.df.update(set(toks))
        self._bm25: bm25s.BM25 | None = None
        if self.records:
            self._bm25 = bm25s.BM25()
            # An empty passage still needs one token for bm25s; "" never matches a query term.
            self._bm25.index([t or [""] for t in self._tokens], show_progress=False)
        self._shingles = [shingles(r.text) for r in self.records]
        self._postings: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for i, sh in enumerate(self._shingles):
            for s in sh:
                self._postings[s].append(i)

    def __len__(self) -> int:
        return len(self.records)

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency over passages (unknown terms get the maximum)."""
        n = max(len(self.records), 1)
        return float(np.log(1 + (n + 1) / (self.df.get(term, 0) + 0.5)))

    def search(self, query: str, n: int, allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top `n` passages by BM25 as (id, score), only those with a positive score."""
        if self._bm25 is None:
            return []
        vocab = self._bm25.vocab_dict
        q = [t for t in terms(query) if t in vocab]
        if not q:
            return []
        scores = self._bm25.get_scores(q)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        top = np.argsort(-scores, kind="stable")[:n]
        return [(self.records[i].id, float(scores[i])) for i in top if scores[i] > 0]

    def mask(self, predicate) -> np.ndarray:
        return np.fromiter((predicate(r.metadata) for r in self.records), dtype=bool, count=len(self.records))

    def copies(self, text: str, threshold: float = COPY_THRESHOLD) -> list[tuple[Record, float]]:
        """Passages that carry most of `text` (or most of which `text` carries), best first."""
        mine = shingles(text)
        hits: Counter[int] = Counter()
        for s in mine:
            for i in self._postings.get(s, ()):
                hits[i] += 1
        out = []
        for i, shared in hits.items():
            theirs = self._shingles[i]
            score = max(shared / len(mine), shared / len(theirs)) if mine and theirs else 0.0
            if score >= threshold:
                out.append((self.records[i], score))
        out.sort(key=lambda x: -x[1])
        return out
