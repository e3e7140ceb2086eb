"""An in-memory mirror of the stored passages: BM25 over accent-folded terms, and copy detection.

BM25 (the `bm25s` package) runs over `rag.text.terms`, so `Trong` matches `Trọng` both ways.
Copy detection finds the same text in other files (syndicated articles) through shared
word 5-grams, so one hit can list every file that carries it. The 5-grams are kept as 64-bit
hashes in sorted numpy arrays: small to keep, quick to load, and quick to look up.

`load_synced` keeps the index in a file beside the store and brings it up to date with what
changed since (files whose fingerprint differs are re-read), so start-up does not re-read and
re-tokenise every passage.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

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


_WORD_HASH: dict[str, int] = {}
_MULTIPLIERS = np.array([pow(1_000_003, j, 2**64) for j in range(SHINGLE)], dtype=np.uint64)  # arithmetic wraps mod 2**64


def _word_hash(word: str) -> int:
    h = _WORD_HASH.get(word)
    if h is None:
        h = _WORD_HASH[word] = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
    return h


def shingle_hashes(text: str) -> np.ndarray:
    """The distinct word 5-grams of `text` as stable 64-bit hashes, sorted (shingles(), hashed)."""
    w = np.fromiter((_word_hash(x) for x in words(text)), dtype=np.uint64)
    if len(w) < SHINGLE:
        return np.array([int(np.sum(w * _MULTIPLIERS[: len(w)]))], dtype=np.uint64) if len(w) else w
    windows = np.lib.stride_tricks.sliding_window_view(w, SHINGLE)
    return np.unique(windows @ _MULTIPLIERS)


def containment(a: set, b: set) -> float:
    """Share of `a`'s shingles that also occur in `b`."""
    return len(a & b) / len(a) if a else 0.0


class LexicalIndex:
    """BM25 and copy lookup over a list of passage records."""

    def __init__(
        self,
        records: Sequence[Record],
        tokens: Sequence[list[str]] | None = None,
        hashes: Sequence[np.ndarray] | None = None,
    ) -> None:
        self.records = list(records)
        self.position = {r.id: i for i, r in enumerate(self.records)}
        self.by_span = {(r.metadata["source"], int(r.metadata["start"])): r for r in self.records}
        self.tokens = list(tokens) if tokens is not None else [terms(r.text) for r in self.records]
        self.hashes = list(hashes) if hashes is not None else [shingle_hashes(r.text) for r in self.records]
        self.df: Counter[str] = Counter()
        for toks in self.tokens:
            self.df.update(set(toks))
        self._bm25: bm25s.BM25 | None = None
        if self.records:
            self._bm25 = bm25s.BM25()
            # An empty passage still needs one token for bm25s; "" never matches a query term.
            self._bm25.index([t or [""] for t in self.tokens], show_progress=False)
        # Postings: every passage's shingle hashes in one sorted array, with the passage they are in.
        self._sizes = np.array([len(h) for h in self.hashes], dtype=np.int64)
        flat = np.concatenate(self.hashes) if self.hashes else np.zeros(0, dtype=np.uint64)
        owner = np.repeat(np.arange(len(self.hashes), dtype=np.int64), self._sizes)
        order = np.argsort(flat, kind="stable")
        self._flat, self._owner = flat[order], owner[order]

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
        mine = shingle_hashes(text)
        if not len(mine) or not len(self._flat):
            return []
        lo = np.searchsorted(self._flat, mine, side="left")
        hi = np.searchsorted(self._flat, mine, side="right")
        hit = hi > lo
        if not hit.any():
            return []
        owners = np.concatenate([self._owner[a:b] for a, b in zip(lo[hit], hi[hit], strict=True)])
        passages, shared = np.unique(owners, return_counts=True)
        score = np.maximum(shared / len(mine), shared / np.maximum(self._sizes[passages], 1))
        keep = score >= threshold
        out = [(self.records[int(i)], float(c)) for i, c in zip(passages[keep], score[keep], strict=True)]
        out.sort(key=lambda x: -x[1])
        return out


# --- kept on disk, brought up to date incrementally ----------------------------------------

CACHE_VERSION = 2


def load_synced(store, path: Path | None) -> LexicalIndex:
    """The index for `store`: read from `path`, re-reading only files whose fingerprint changed.

    Without a usable file (none yet, another version, unreadable) every passage is read once;
    the result is written back to `path` for the next start. `path=None` keeps nothing on disk.
    """
    cached = _read(path)
    manifest = {s: m.get("fingerprint", "") for s, m in store.file_records().items()}
    entries: dict[str, list]  # source -> [(record, tokens, hashes)]
    if cached is None:
        entries, fresh = {}, store.all_passages()
    else:
        entries, fingerprints = cached.get("entries", {}), cached.get("fingerprints", {})
        stale = {s for s in set(entries) | set(manifest) if fingerprints.get(s) != manifest.get(s)}
        if not stale and isinstance(cached.get("index"), LexicalIndex):
            return cached["index"]  # nothing changed: the index as it was built, BM25 and all
        for s in stale:
            entries.pop(s, None)
        fresh = store.passages_of(sorted(s for s in stale if s in manifest))
    for r in fresh:
        entries.setdefault(r.metadata["source"], []).append((r, terms(r.text), shingle_hashes(r.text)))
    rows = [e for s in sorted(entries) for e in sorted(entries[s], key=lambda e: int(e[0].metadata["start"]))]
    index = LexicalIndex([r for r, _, _ in rows], [t for _, t, _ in rows], [h for _, _, h in rows])
    # Pickle stores the records, tokens and hashes the entries and the index share only once.
    _write(path, {"version": CACHE_VERSION, "fingerprints": manifest, "entries": entries, "index": index})
    return index


def _read(path: Path | None) -> dict | None:
    if path is None or not path.is_file():
        return None
    try:
        with path.open("rb") as f:
            data = pickle.load(f)
    except Exception:  # a torn or foreign file is rebuilt, never trusted
        return None
    return data if isinstance(data, dict) and data.get("version") == CACHE_VERSION else None


def _write(path: Path | None, data: dict) -> None:
    """Write through a temporary file, so a crash never leaves half an index behind."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with tmp.open("wb") as f:
        pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
