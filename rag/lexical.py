"""An in-memory mirror of the stored passages: BM25 over accent-folded terms, and copy detection.

BM25 (the `bm25s` package) runs over `rag.text.terms`, so `Trong` matches `Trọng` both ways.
Copy detection finds the same text in other files (syndicated articles) through shared
word 5-grams, so one hit can list every file that carries it. The 5-grams are kept as 64-bit
hashes in sorted numpy arrays: small to keep, quick to load, and quick to look up.

`load_synced` keeps the index in a file beside the store (an `.npz` of plain arrays and JSON,
loaded without pickle: opening a store folder never runs code) and brings it up to date with
what changed since (files whose fingerprint differs are re-read), so start-up does not re-read
and re-tokenise every passage.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from rag.documents import relative_spans, remember_sentence_spans
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
        self.fingerprints: dict[str, str] | None = None  # the store manifest it mirrors (load_synced)
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
#
# The file is a numpy `.npz` read with `allow_pickle=False`, so loading it can never run code
# (a pickle could: a store folder copied from someone else must be safe to open). Everything in
# it is data: JSON (as bytes) for the header, the records and the vocabulary; flat integer
# arrays plus offsets for the tokens and the shingle hashes. It is checked against the store's
# manifest on every start: a file of another version, a torn or garbled file, or one whose
# arrays disagree with each other is ignored and rebuilt; a file's entries whose fingerprint or
# passage count differs from the manifest are read again from the store.

CACHE_VERSION = 4  # 4: each passage's sentence spans
_MAGIC = "rag-lexical"

# A passage, its terms, its shingle hashes, and its sentences' spans relative to its text (flat
# int32 [s0, e0, s1, e1 ...]): kept so that a new process cites without loading punkt.
Entry = tuple[Record, list[str], np.ndarray, np.ndarray]


def index_file(path: Path) -> Path:
    """The file the index is kept in: `<collection>.lexical.npz` beside the configured path.

    (`Settings.lexical_path` names the old pickle, `<collection>.pkl`; that file is never read.
    The reader's sentence vectors live in `<collection>.sentences.npz`, a different name.)
    """
    return path.with_name(path.stem + ".lexical.npz")


def load_synced(store, path: Path | None) -> LexicalIndex:
    """The index for `store`: read from beside `path`, re-reading only files whose fingerprint changed.

    Without a usable file (none yet, another version, unreadable, not matching the store) every
    passage is read once; the result is written back for the next start. `path=None` keeps
    nothing on disk.
    """
    target = index_file(path) if path is not None else None
    if path is not None and path.suffix == ".pkl":
        _remove_quietly(path)  # the old pickle: never loaded, and not left to be loaded by anyone
    manifest_rows = store.file_records()
    manifest = {s: m.get("fingerprint", "") for s, m in manifest_rows.items()}
    cached = _read(target)
    entries: dict[str, list[Entry]]
    if cached is None:
        entries, fresh = {}, store.all_passages()
    else:
        entries, fingerprints = cached
        stale = {
            s
            for s in set(entries) | set(manifest)
            if fingerprints.get(s) != manifest.get(s)
            or _passage_count(manifest_rows.get(s)) not in (None, len(entries.get(s, ())))
            or not _paths_agree(entries.get(s, ()), manifest_rows.get(s))
        }
        if not stale:
            index = _build(entries)  # nothing changed: no passage read or tokenised again
            index.fingerprints = manifest
            return index
        for s in stale:
            entries.pop(s, None)
        fresh = store.passages_of(sorted(s for s in stale if s in manifest))
    for r in fresh:
        spans = np.asarray(relative_spans(r.text), dtype=np.int32)
        entries.setdefault(r.metadata["source"], []).append((r, terms(r.text), shingle_hashes(r.text), spans))
    index = _build(entries)
    index.fingerprints = manifest  # what the store's manifest said: a later change is seen against it
    _write(target, manifest, entries)
    return index


def _passage_count(row: dict | None) -> int | None:
    """How many passages the manifest says a file has (None: a row that does not say)."""
    if not row or "passages" not in row:
        return None
    try:
        return int(row["passages"])
    except (TypeError, ValueError):
        return -1


def _paths_agree(entries, row: dict | None) -> bool:
    """Every kept passage of a file names the file the manifest names (what a citation opens)."""
    path = (row or {}).get("path")
    return path is None or all(e[0].metadata.get("path") == path for e in entries)


def _build(entries: dict[str, list[Entry]]) -> LexicalIndex:
    rows = [e for s in sorted(entries) for e in sorted(entries[s], key=lambda e: int(e[0].metadata["start"]))]
    for r, _, _, spans in rows:
        remember_sentence_spans(r.text, spans)
    return LexicalIndex([r for r, _, _, _ in rows], [t for _, t, _, _ in rows], [h for _, _, h, _ in rows])


def _json(data) -> np.ndarray:
    return np.frombuffer(json.dumps(data, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)


def _unjson(array: np.ndarray):
    if array.dtype != np.uint8 or array.ndim != 1:
        raise ValueError("not a JSON byte array")
    return json.loads(array.tobytes().decode("utf-8"))


def _offsets(array: np.ndarray, n: int, total: int) -> np.ndarray:
    """Check that `array` is n+1 non-decreasing offsets from 0 to `total`."""
    if array.dtype != np.int64 or array.shape != (n + 1,) or array[0] != 0 or array[-1] != total:
        raise ValueError("offsets do not match")
    if n and np.any(np.diff(array) < 0):
        raise ValueError("offsets go backwards")
    return array


def _read(path: Path | None) -> tuple[dict[str, list[Entry]], dict[str, str]] | None:
    """(entries by source, fingerprints) from the kept file, or None when it cannot be trusted."""
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            header = _unjson(data["header"])
            if not (
                isinstance(header, dict)
                and header.get("format") == _MAGIC
                and header.get("version") == CACHE_VERSION
                and isinstance(header.get("fingerprints"), dict)
            ):
                return None
            records, vocab = _unjson(data["records"]), _unjson(data["vocab"])
            token_ids, hashes, spans = data["token_ids"], data["hashes"], data["spans"]
            if token_ids.dtype != np.int32 or hashes.dtype != np.uint64 or spans.dtype != np.int32:
                return None
            if not isinstance(records, list) or not isinstance(vocab, list) or header.get("count") != len(records):
                return None
            token_at = _offsets(data["token_offsets"], len(records), len(token_ids))
            hash_at = _offsets(data["hash_offsets"], len(records), len(hashes))
            span_at = _offsets(data["span_offsets"], len(records), len(spans))
        if len(token_ids) and (token_ids.min() < 0 or token_ids.max() >= len(vocab)):
            return None
        if not all(isinstance(v, str) for v in vocab):
            return None
        fingerprints = {str(k): str(v) for k, v in header["fingerprints"].items()}
        words_of = np.array(vocab, dtype=object)
        entries: dict[str, list[Entry]] = {}
        seen: set[str] = set()
        for i, row in enumerate(records):
            rid, text, meta = row
            if not (isinstance(rid, str) and isinstance(text, str) and isinstance(meta, dict)) or rid in seen:
                return None
            seen.add(rid)
            source, start = meta["source"], int(meta["start"])
            if not isinstance(source, str) or source not in fingerprints or start < 0:
                return None
            tokens = words_of[token_ids[token_at[i] : token_at[i + 1]]].tolist()
            h = hashes[hash_at[i] : hash_at[i + 1]]
            if len(h) > 1 and np.any(h[1:] <= h[:-1]):
                return None  # shingle hashes are kept sorted and distinct
            sp = spans[span_at[i] : span_at[i + 1]]
            if len(sp) % 2 or (len(sp) and (sp[0] < 0 or sp[-1] > len(text) or np.any(np.diff(sp) < 0))):
                return None  # sentence spans are ordered pairs inside the passage
            entries.setdefault(source, []).append((Record(rid, text, meta), tokens, h, sp))
    except Exception:  # a torn, garbled or foreign file is rebuilt, never trusted
        return None
    return entries, fingerprints


def _write(path: Path | None, manifest: dict[str, str], entries: dict[str, list[Entry]]) -> None:
    """Write through a temporary file, so a crash never leaves half an index behind."""
    if path is None:
        return
    rows = [e for s in sorted(entries) for e in entries[s]]
    vocab: dict[str, int] = {}
    token_ids = np.fromiter(
        (vocab.setdefault(t, len(vocab)) for _, toks, _, _ in rows for t in toks), dtype=np.int32
    )
    token_offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(toks) for _, toks, _, _ in rows], out=token_offsets[1:])
    hash_offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(h) for _, _, h, _ in rows], out=hash_offsets[1:])
    hashes = np.concatenate([h for _, _, h, _ in rows]).astype(np.uint64) if rows else np.zeros(0, np.uint64)
    span_offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(sp) for _, _, _, sp in rows], out=span_offsets[1:])
    spans = np.concatenate([sp for _, _, _, sp in rows]).astype(np.int32) if rows else np.zeros(0, np.int32)
    header = {"format": _MAGIC, "version": CACHE_VERSION, "count": len(rows), "fingerprints": manifest}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}-{threading.get_ident()}")  # two threads never share one
    try:
        with tmp.open("wb") as f:
            np.savez(
                f,
                header=_json(header),
                records=_json([[r.id, r.text, r.metadata] for r, _, _, _ in rows]),
                vocab=_json(list(vocab)),
                token_ids=token_ids,
                token_offsets=token_offsets,
                hashes=hashes,
                hash_offsets=hash_offsets,
                spans=spans,
                span_offsets=span_offsets,
            )
        os.replace(tmp, path)
    finally:
        _remove_quietly(tmp)


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:  # a read-only store: the file is never read anyway
        pass
