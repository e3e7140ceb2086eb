"""An in-memory mirror of the stored passages: BM25 over accent-folded terms, and copy detection.

BM25 (the `bm25s` package) runs over `rag.text.terms`, so `Trong` matches `Trọng` both ways.
Copy detection finds the same text in other files (syndicated articles) through shared
word 5-grams, so one hit can list every file that carries it. The 5-grams are kept as 64-bit
hashes in sorted numpy arrays: small to keep, quick to load, and quick to look up. Each sentence's
5-grams are kept too (`rag.sentence_copies`), so a citation finds its sentence in other files by look-up.

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
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import bm25s
import numpy as np

from rag.documents import relative_spans, remember_sentence_spans
from rag.sentence_copies import Postings, SentenceIndex
from rag.store import Record
from rag.text import lower_case_words, terms, words

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


def sentence_hashes(text: str, spans) -> tuple[np.ndarray, np.ndarray]:
    """The shingle hashes of each sentence of `text` (flat relative `spans`), end to end, and how many each has."""
    each = [shingle_hashes(text[s:e]) for s, e in zip(spans[::2], spans[1::2], strict=True)]
    flat = np.concatenate(each).astype(np.uint64) if each else np.zeros(0, np.uint64)
    return flat, np.array([len(h) for h in each], dtype=np.int32)


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
        sentences: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> None:
        """`sentences[i]`: passage i's `sentence_hashes` (computed from its split when not given)."""
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
        flat = np.concatenate(self.hashes) if self.hashes else np.zeros(0, dtype=np.uint64)
        self._passages = Postings(flat, np.array([len(h) for h in self.hashes], dtype=np.int64))
        if sentences is None:
            sentences = [sentence_hashes(r.text, relative_spans(r.text)) for r in self.records]
        self._sentences = SentenceIndex([h for h, _ in sentences], [n for _, n in sentences])

    def __len__(self) -> int:
        return len(self.records)

    @cached_property
    def lower_words(self) -> frozenset[str]:
        """The folded words some passage writes in lower case (built on first use: 0.3 s at 20k passages)."""
        return lower_case_words(r.text for r in self.records)

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
        return [(self.records[i], c) for i, c in self._sharing(shingle_hashes(text), threshold)]

    def sentence_copies(self, text: str, threshold: float, same: float) -> list[tuple[Record, int]]:
        """The passages of `copies(text, threshold)`, in its order, that hold a sentence the same as the
        sentence `text` (5-grams shared: at least `same` of the smaller one's), with that sentence's
        position in the passage's split (the first such sentence)."""
        mine = shingle_hashes(text)
        positions = self._sentences.same(mine, same)
        if not positions:
            return []
        return [(self.records[i], positions[i]) for i, _ in self._sharing(mine, threshold) if i in positions]

    def _sharing(self, mine: np.ndarray, threshold: float) -> list[tuple[int, float]]:
        """(passage, share) of the passages sharing at least `threshold` of `mine` or of their own hashes."""
        passages, score = self._passages.sharing(mine, threshold)
        out = [(int(i), float(c)) for i, c in zip(passages, score, strict=True)]
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

CACHE_VERSION = 5  # 4: each passage's sentence spans; 5: each sentence's shingle hashes
_MAGIC = "rag-lexical"


class Entry(NamedTuple):
    """One passage as the file keeps it."""

    record: Record
    tokens: list[str]
    hashes: np.ndarray  # its shingle hashes, sorted and distinct
    spans: np.ndarray  # its sentences relative to its text, flat int32 [s0, e0, s1, e1 ...]: no punkt to cite
    sentence_hashes: np.ndarray  # each sentence's shingle hashes (sorted, distinct), end to end
    sentence_sizes: np.ndarray  # int32, how many hashes each sentence has


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
        entry = Entry(r, terms(r.text), shingle_hashes(r.text), spans, *sentence_hashes(r.text, spans))
        entries.setdefault(r.metadata["source"], []).append(entry)
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
    return path is None or all(e.record.metadata.get("path") == path for e in entries)


def _build(entries: dict[str, list[Entry]]) -> LexicalIndex:
    rows = [e for s in sorted(entries) for e in sorted(entries[s], key=lambda e: int(e.record.metadata["start"]))]
    for e in rows:
        remember_sentence_spans(e.record.text, e.spans)
    return LexicalIndex(
        [e.record for e in rows],
        [e.tokens for e in rows],
        [e.hashes for e in rows],
        [(e.sentence_hashes, e.sentence_sizes) for e in rows],
    )


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
            sentence_at, sentence_hash_at, sentence_flat, sentence_sizes = _sentences(data, span_at)
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
            a, b = sentence_at[i], sentence_at[i + 1]
            entries.setdefault(source, []).append(
                Entry(
                    Record(rid, text, meta), tokens, h, sp,
                    sentence_flat[sentence_hash_at[a] : sentence_hash_at[b]], sentence_sizes[a:b],
                )
            )
    except Exception:  # a torn, garbled or foreign file is rebuilt, never trusted
        return None
    return entries, fingerprints


def _sentences(data, span_at: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The kept sentence hashes, checked: (each passage's first sentence, each sentence's first hash,
    the hashes, each sentence's hash count). One count per kept span pair; each sentence's hashes
    sorted and distinct."""
    hashes, sizes = data["sentence_hashes"], data["sentence_sizes"]
    if hashes.dtype != np.uint64 or sizes.dtype != np.int32 or np.any(span_at % 2):
        raise ValueError("sentence arrays of the wrong kind")
    sentence_at = span_at // 2
    if sizes.shape != (sentence_at[-1],) or (len(sizes) and sizes.min() < 0):
        raise ValueError("one hash count per sentence")
    hash_at = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=hash_at[1:])
    if hash_at[-1] != len(hashes):
        raise ValueError("sentence hash counts do not add up")
    rising = hashes[1:] > hashes[:-1]
    starts = hash_at[1:-1]
    rising[starts[(starts > 0) & (starts < len(hashes))] - 1] = True  # a new sentence may start lower
    if not rising.all():
        raise ValueError("a sentence's hashes are not sorted and distinct")
    return sentence_at, hash_at, hashes, sizes


def _write(path: Path | None, manifest: dict[str, str], entries: dict[str, list[Entry]]) -> None:
    """Write through a temporary file, so a crash never leaves half an index behind."""
    if path is None:
        return
    rows = [e for s in sorted(entries) for e in entries[s]]
    vocab: dict[str, int] = {}
    token_ids = np.fromiter((vocab.setdefault(t, len(vocab)) for e in rows for t in e.tokens), dtype=np.int32)
    header = {"format": _MAGIC, "version": CACHE_VERSION, "count": len(rows), "fingerprints": manifest}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}-{threading.get_ident()}")  # two threads never share one
    try:
        with tmp.open("wb") as f:
            np.savez(
                f,
                header=_json(header),
                records=_json([[e.record.id, e.record.text, e.record.metadata] for e in rows]),
                vocab=_json(list(vocab)),
                token_ids=token_ids,
                token_offsets=_ends([e.tokens for e in rows]),
                hashes=_joined([e.hashes for e in rows], np.uint64),
                hash_offsets=_ends([e.hashes for e in rows]),
                spans=_joined([e.spans for e in rows], np.int32),
                span_offsets=_ends([e.spans for e in rows]),
                sentence_hashes=_joined([e.sentence_hashes for e in rows], np.uint64),
                sentence_sizes=_joined([e.sentence_sizes for e in rows], np.int32),
            )
        os.replace(tmp, path)
    finally:
        _remove_quietly(tmp)


def _ends(parts) -> np.ndarray:
    """Offsets 0, len(parts[0]), ... of `parts` laid end to end (int64, one more than there are parts)."""
    out = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in parts], out=out[1:])
    return out


def _joined(parts, dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:  # a read-only store: the file is never read anyway
        pass
