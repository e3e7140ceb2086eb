"""Which stored sentences have most of their wording in common with a given sentence: a look-up by 5-gram.

Every sentence of every passage (as the passage's kept split gives them) is held as the sorted,
distinct 64-bit hashes of its word 5-grams (`rag.lexical.shingle_hashes` of the sentence's text),
all in one sorted postings array. Two sentences are the same when the 5-grams they share are at
least `threshold` of the smaller one's (the rule of `rag.citations.same_sentence`): a citation finds
the sentence in other files without splitting and hashing every passage that carries it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Postings:
    """Sets of 64-bit hashes (a passage's, a sentence's) in one sorted array, each hash with its set."""

    def __init__(self, flat: np.ndarray, sizes: np.ndarray) -> None:
        """`flat`: the sets' hashes end to end; `sizes`: how many each set has."""
        self.sizes = np.asarray(sizes, dtype=np.int64)
        owner = np.repeat(np.arange(len(self.sizes), dtype=np.int64), self.sizes)
        order = np.argsort(flat)  # not stable: a hash's owners are counted, their order never matters
        self._flat, self._owner = flat[order], owner[order]

    def sharing(self, mine: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """(sets, share), sets ascending: those sharing at least `threshold` of `mine` or of their own hashes."""
        none = np.zeros(0, np.int64), np.zeros(0)
        if not len(mine) or not len(self._flat):
            return none
        lo = np.searchsorted(self._flat, mine, side="left")
        hi = np.searchsorted(self._flat, mine, side="right")
        hit = hi > lo
        if not hit.any():
            return none
        owners = np.concatenate([self._owner[a:b] for a, b in zip(lo[hit], hi[hit], strict=True)])
        sets, shared = np.unique(owners, return_counts=True)
        score = np.maximum(shared / len(mine), shared / np.maximum(self.sizes[sets], 1))
        keep = score >= threshold
        return sets[keep], score[keep]


class SentenceIndex:
    """Sentence-level 5-gram postings over a list of passages."""

    def __init__(self, hashes: Sequence[np.ndarray], sizes: Sequence[np.ndarray]) -> None:
        """`hashes[p]`: passage p's sentences' hashes end to end; `sizes[p]`: how many each sentence has."""
        counts = np.array([len(s) for s in sizes], dtype=np.int64)
        self._first = np.zeros(len(counts) + 1, dtype=np.int64)  # passage p's sentences: first[p]:first[p+1]
        np.cumsum(counts, out=self._first[1:])
        self._passage = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        flat = np.concatenate(hashes).astype(np.uint64) if len(hashes) else np.zeros(0, np.uint64)
        per_sentence = np.concatenate(sizes) if len(sizes) else np.zeros(0, np.int64)
        self._postings = Postings(flat, per_sentence)

    def same(self, mine: np.ndarray, threshold: float) -> dict[int, int]:
        """{passage: position of its first sentence that is the same as the sentence hashed `mine`}."""
        found: dict[int, int] = {}
        for s in self._postings.sharing(mine, threshold)[0].tolist():  # ascending: a passage's first sentence first
            p = int(self._passage[s])
            found.setdefault(p, s - int(self._first[p]))
        return found
