"""Hybrid retrieval: dense (Chroma, MiniLM) + lexical (BM25, accent-folded), fused by reciprocal rank.

The dense side ranks the passages that the passage vectors (Chroma) or BM25 bring by
`SENTENCE_WEIGHT` × the cosine of the passage's best sentence + the rest × the cosine of the mean of
its sentences' vectors: a question usually asks what one sentence says, and a passage's own vector
blurs that sentence among the others. The sentences' vectors are the ones the reader uses anyway.
Syndicated copies are then merged: a passage whose text another file also carries comes back
once, with every other file listed in `also_in`.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import numpy as np

from rag.article_roots import ArticleRoots
from rag.embed import MiniLMEmbedding
from rag.errors import RagError
from rag.injection import from_metadata, instruction_spans
from rag.lexical import LexicalIndex
from rag.models import Location, Passage
from rag.sentence_vectors import SentenceVectors, mean_vector, sentence_texts
from rag.store import Record, Store

RRF_K = 60
# The weight of a passage's best sentence in its dense score (the rest: the mean of its sentences),
# chosen by `python bench/retrieval_mix.py` on the fitting data (eval/gold.jsonl and the SQuAD
# articles imperialism.txt and warsaw.txt): the best MRR and context recall on the gold set (0.7-0.75),
# SQuAD within 0.005 of its best (0.9); 0 (the mean of the sentences alone) was worse on both.
SENTENCE_WEIGHT = 0.75


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some files, outlets or a date range (ISO dates, inclusive)."""

    sources: tuple[str, ...] = ()
    outlets: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value is None or value == "":
                continue
            if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise RagError(f"{name}={value!r} is not a date; use YYYY-MM-DD")
            try:
                datetime.date.fromisoformat(value)
            except ValueError:
                raise RagError(f"{name}={value!r} is not a real date; use YYYY-MM-DD (e.g. 2023-12-31)") from None

    @property
    def empty(self) -> bool:
        return not (self.sources or self.outlets or self.date_from or self.date_to)

    def where(self) -> dict | None:
        """The same filter as a Chroma `where` clause."""
        clauses: list[dict] = []
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if self.outlets:
            clauses.append({"outlet": {"$in": list(self.outlets)}})
        if self.date_from:
            clauses.append({"date_int": {"$gte": int(self.date_from.replace("-", ""))}})
        if self.date_to:
            clauses.append({"date_int": {"$lte": int(self.date_to.replace("-", ""))}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def accepts(self, meta: dict) -> bool:
        if self.sources and meta.get("source") not in self.sources:
            return False
        if self.outlets and meta.get("outlet") not in self.outlets:
            return False
        d = meta.get("date_int")
        if self.date_from and (d is None or d < int(self.date_from.replace("-", ""))):
            return False
        if self.date_to and (d is None or d > int(self.date_to.replace("-", ""))):
            return False
        return True


def to_passage(
    record: Record,
    score: float,
    also_in: tuple[Location, ...] = (),
    similarity: float | None = None,
    roots: ArticleRoots | None = None,
) -> Passage:
    """The record as a passage; its file's path only when `roots` allows it (the store is not trusted)."""
    m = record.metadata
    return Passage(
        id=record.id,
        source=m["source"],
        text=record.text,
        start=int(m["start"]),
        end=int(m["end"]),
        score=round(score, 6),
        title=m.get("title"),
        date=m.get("date"),
        outlet=m.get("outlet"),
        path=roots.allows(m.get("path")) if roots is not None else None,
        also_in=also_in,
        similarity=None if similarity is None else round(similarity, 4),
        instructions=_instructions(record),
    )


def _instructions(record: Record) -> tuple[tuple[int, int], ...]:
    """The passage's flagged sentences, as ingest stored them (found anew in a store from before)."""
    stored = from_metadata(record.metadata.get("instructions"))
    return stored if stored is not None else instruction_spans(record.text, int(record.metadata["start"]))


class HybridRetriever:
    """Dense + BM25 retrieval with reciprocal rank fusion and syndicated-copy merging."""

    def __init__(
        self,
        store: Store,
        embedder: MiniLMEmbedding,
        lexical: LexicalIndex,
        sentences: SentenceVectors,
        roots: ArticleRoots | None = None,
    ) -> None:
        """`roots`: the folders whose files a passage's recorded path may name (none: no paths)."""
        self.store = store
        self.embedder = embedder
        self.lexical = lexical
        self.sentences = sentences
        self.roots = roots

    def fused(
        self, query: str, n: int, filters: Filters | None = None
    ) -> list[tuple[Record, float, float | None]]:
        """The `n` best passages by reciprocal rank fusion: (record, fused score, dense cosine)."""
        filters = filters or Filters()
        depth = max(3 * n, 20)
        qvec = self.embedder.get_query_embedding(query)
        nearest = self.store.query(qvec, depth, filters.where())
        allowed = None if filters.empty else self.lexical.mask(filters.accepts)
        lexical = self.lexical.search(query, depth, allowed)
        found = [self.lexical.records[i] for pid in dict.fromkeys(p for p, _ in (*nearest, *lexical))
                 if (i := self.lexical.position.get(pid)) is not None]  # a passage written since is skipped
        dense, cosine = self._dense(np.asarray(qvec, dtype=np.float32), found, depth)
        scores: dict[str, float] = {}
        for ranking in (dense, lexical):
            for rank, (pid, _) in enumerate(ranking):
                scores[pid] = scores.get(pid, 0.0) + 1.0 / (RRF_K + rank + 1)
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        out = []
        for pid, score in ranked[:n]:  # every id is in the mirror: `found` and BM25 come from it
            out.append((self.lexical.records[self.lexical.position[pid]], score, cosine.get(pid)))
        return out

    def _dense(
        self, qvec: np.ndarray, records: list[Record], depth: int
    ) -> tuple[list[tuple[str, float]], dict[str, float]]:
        """The `depth` best of `records` by their sentences (see SENTENCE_WEIGHT), and each
        record's cosine to the mean of its sentences (word-weighted, as pooled passage vectors are)."""
        if not records:
            return [], {}
        groups = [sentence_texts(r.text) for r in records]
        vectors = self.sentences.get([t for g in groups for t in g])
        cos = vectors @ qvec
        dense, cosine = [], {}
        at = 0
        for record, group in zip(records, groups, strict=True):
            rows = slice(at, at + len(group))
            at += len(group)
            passage = float(mean_vector(group, vectors[rows]) @ qvec)
            cosine[record.id] = passage
            dense.append((record.id, SENTENCE_WEIGHT * float(cos[rows].max()) + (1 - SENTENCE_WEIGHT) * passage))
        dense.sort(key=lambda kv: -kv[1])
        return dense[:depth], cosine

    def retrieve(self, query: str, k: int, filters: Filters | None = None) -> list[Passage]:
        """The `k` best passages, each syndicated text once, its other files in `also_in`."""
        candidates = self.fused(query, max(2 * k, 10), filters)
        passages: list[Passage] = []
        claimed: set[str] = set()
        for record, score, similarity in candidates:
            if record.id in claimed:
                continue
            copies = [
                (r, c)
                for r, c in self.lexical.copies(record.text)
                if r.metadata["source"] != record.metadata["source"] and r.id not in claimed
            ]
            also: list[Location] = []
            seen_sources = {record.metadata["source"]}
            for r, _ in copies:
                claimed.add(r.id)
                if r.metadata["source"] in seen_sources:
                    continue
                seen_sources.add(r.metadata["source"])
                also.append(
                    Location(
                        source=r.metadata["source"],
                        start=int(r.metadata["start"]),
                        end=int(r.metadata["end"]),
                        text=r.text,
                        outlet=r.metadata.get("outlet"),
                    )
                )
            claimed.add(record.id)
            passages.append(to_passage(record, score, tuple(also), similarity, self.roots))
            if len(passages) == k:
                break
        return passages

    def expand(self, passages: list[Passage]) -> list[Passage]:
        """The passages, then the copies merged into them: an answerer reads every file's wording.

        A merged copy can hold sentences its group head lacks (syndications are split at
        different places), so answering must see them; the answerer drops repeated sentences.
        """
        out = list(passages)
        for p in passages:
            for loc in p.also_in:
                record = self.lexical.by_span.get((loc.source, loc.start))
                if record is not None:
                    out.append(to_passage(record, p.score * 0.5, roots=self.roots))
        return out
