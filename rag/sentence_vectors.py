"""Sentence embeddings for the reader, computed once per distinct sentence and kept beside the store.

The reader compares the question with every sentence of the retrieved passages. Embedding them at
question time would cost milliseconds per sentence, so each sentence's vector is computed once
(at ingest, or the first time a question reaches it) and kept in memory and in an `.npz` file
(`allow_pickle=False`: loading it never runs code). Vectors are keyed by a hash of the text, so a
syndicated sentence is embedded once for every file that carries it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

DTYPE = np.float16  # 768 bytes a sentence; the cosines the reader uses change by < 1e-3


def text_key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def sentence_texts(passage: str) -> list[str]:
    """The passage's sentences as the reader cuts them (rag.documents.sentence_spans); the passage
    itself when it has none."""
    from rag.documents import sentence_spans

    return [passage[s:e] for s, e in sentence_spans(passage, 0)] or [passage]


def mean_vector(sentences: Sequence[str], vectors: np.ndarray) -> np.ndarray:
    """The unit mean of the sentences' vectors, each weighted by its words: a passage's vector."""
    weights = np.asarray([max(len(t.split()), 1) for t in sentences], dtype=np.float32)
    mean = weights @ vectors
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


class SentenceVectors:
    """A text -> unit vector cache over an embedder, optionally persisted to `path`."""

    def __init__(self, embedder, path: Path | None = None, dimension: int | None = None) -> None:
        self.embedder = embedder
        self.path = path
        self._vectors: dict[int, np.ndarray] = {}
        self._dirty = False
        self._lock = threading.Lock()
        self._loaded = False
        self._dimension = dimension

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self.path is None or not self.path.is_file():
            return
        try:
            with np.load(self.path, allow_pickle=False) as data:
                keys, vectors = data["keys"], data["vectors"]
            if keys.ndim != 1 or vectors.ndim != 2 or len(keys) != len(vectors):
                return
        except Exception:  # a torn or foreign file is ignored and rebuilt, never trusted
            return
        self._vectors.update(zip(keys.tolist(), vectors, strict=True))

    def get(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for `texts` (float32, one row each); the missing ones are embedded now."""
        with self._lock:
            self._load()
            keys = [text_key(t) for t in texts]
            missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in self._vectors))
            if missing:
                for t, v in zip(missing, self.embedder.embed(missing), strict=True):
                    self._vectors[text_key(t)] = np.asarray(v, dtype=DTYPE)
                self._dirty = True
            if not keys:
                return np.zeros((0, self._dimension or 0), dtype=np.float32)
            return np.stack([self._vectors[k] for k in keys]).astype(np.float32)

    def put(self, texts: Sequence[str], vectors: Sequence) -> None:
        """Keep vectors the embedder already gave for these exact texts (a passage that is one
        sentence, embedded at ingest), so that they are not embedded a second time."""
        with self._lock:
            self._load()
            for text, vector in zip(texts, vectors, strict=True):
                key = text_key(text)
                if key not in self._vectors:
                    self._vectors[key] = np.asarray(vector, dtype=DTYPE)
                    self._dirty = True

    def pooled(self, passages: Sequence[str]) -> np.ndarray:
        """A unit vector for each passage: the mean of its sentences' vectors, each weighted by its
        words (RAG_PASSAGE_VECTORS=pooled). The sentences are embedded once, for retrieval and the
        reader alike; the sentences are cut as the reader cuts them (rag.documents.sentence_spans)."""
        groups = [sentence_texts(p) for p in passages]
        flat = [t for g in groups for t in g]
        vectors = self.get(flat)
        out = np.zeros((len(passages), vectors.shape[1]), dtype=np.float32)
        at = 0
        for row, group in enumerate(groups):
            out[row] = mean_vector(group, vectors[at : at + len(group)])
            at += len(group)
        return out

    def warm(self, texts: Iterable[str]) -> int:
        """Embed the texts not seen yet (at ingest); returns how many were embedded."""
        with self._lock:
            self._load()
            missing = list(dict.fromkeys(t for t in texts if text_key(t) not in self._vectors))
        for start in range(0, len(missing), 256):
            self.get(missing[start : start + 256])
        return len(missing)

    def save(self) -> None:
        """Write the cache through a temporary file (nothing is written when nothing changed)."""
        with self._lock:
            if self.path is None or not self._dirty:
                return
            keys = np.fromiter(self._vectors.keys(), dtype=np.int64, count=len(self._vectors))
            vectors = np.stack(list(self._vectors.values())) if self._vectors else np.zeros((0, 0), DTYPE)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.stem}.tmp{os.getpid()}.npz")
            np.savez(tmp, keys=keys, vectors=vectors)
            os.replace(tmp, self.path)
            self._dirty = False
