"""`Assistant`, the public façade: ingest, retrieve and ask, with settings from the environment."""

from __future__ import annotations

import numbers
import os
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from rag.answer import Answerer, ExtractiveAnswerer
from rag.article_roots import ArticleRoots
from rag.config import Settings
from rag.embed_openai import embedder_for
from rag.errors import RagError
from rag.generate import OpenAIAnswerer, failure_notice
from rag.ingest import Progress, ingest
from rag.lexical import LexicalIndex, load_synced
from rag.llm import LLMClient, LLMConfig, LLMError
from rag.models import Answer, IngestReport, Passage
from rag.question import analyse, cited_quotes
from rag.reader import Reader
from rag.retrieve import Filters, HybridRetriever, to_passage
from rag.sentence_vectors import SentenceVectors
from rag.spelling import correct
from rag.store import Store

STORE_CHECK_SECONDS = 2.0  # how often a running Assistant looks for another process's ingest
MAX_QUESTION_CHARS = 2000
ANSWER_DEPTH = 10


class Assistant:
    """Question answering over a folder of articles, every answer sentence cited verbatim."""

    def __init__(self, settings: Settings | None = None, **overrides) -> None:
        self.settings = settings or Settings.from_env(**overrides)
        self.settings.check_llm()  # RAG_LLM=openai without OPENAI_API_KEY / OPENAI_BASE_URL
        self.settings.check_embed()  # the same for RAG_EMBED=openai
        self.llm: LLMClient | None = None
        if self.settings.llm == "openai":
            self.llm = LLMClient(
                LLMConfig(
                    model=self.settings.openai_model,
                    base_url=self.settings.openai_base_url,
                    api_key=self.settings.openai_api_key,
                    timeout=self.settings.openai_timeout,
                    attempts=self.settings.openai_attempts,
                    backoff=self.settings.openai_backoff,
                )
            )
        # Each embedder has its own collection (settings.collection); the Store refuses another's.
        choice = embedder_for(self.settings)
        self.embedder = choice.embedder
        self.embedder_description = choice.description
        self.store = Store(self.settings, choice.name, choice.dimension)
        # The folders whose files a stored path may name: the data folder and what this process
        # ingests (rag.article_roots: the store itself is not trusted).
        self.article_roots = ArticleRoots(self.settings.data_dir)
        self._lexical: LexicalIndex | None = None
        self.store_check_seconds = STORE_CHECK_SECONDS
        self._store_checked = time.monotonic()
        self._store_token: tuple | None = None  # the store's change token at the last manifest check
        # The reader's sentence embeddings: computed at ingest (or on first use), kept beside the store.
        self.sentence_vectors = SentenceVectors(self.embedder, self.settings.sentence_vectors_path)
        self._lock = threading.RLock()
        self._ingest_lock = threading.Lock()
        self._ingesting = False

    # --- ingestion -------------------------------------------------------------------

    def ingest(
        self, paths: str | Path | Sequence[str | Path] | None = None, progress: Progress | None = None
    ) -> IngestReport:
        """Ingest files or folders (default: the data folder); unchanged files are skipped.

        One path (a `str` or `Path`) is one file or folder, not a sequence of characters.
        """
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        if paths is not None and not isinstance(paths, (list, tuple)):
            try:
                paths = list(paths)
            except TypeError:
                raise RagError(f"paths={paths!r} is not a path or a list of paths") from None
        for p in paths or ():
            if not isinstance(p, (str, os.PathLike)) or not str(p).strip():
                raise RagError(f"path {p!r} is not a file or folder name; pass paths as strings or Path objects")
        targets = [Path(p) for p in paths] if paths else [self.settings.data_dir]
        for target in targets:
            self.article_roots.add(target)
        # One ingest at a time; questions go on meanwhile and read the state before it (the lexical
        # mirror is swapped in only once the new state is committed and indexed).
        with self._ingest_lock:
            self._ingesting = True
            try:
                report = ingest(
                    targets,
                    self.store,
                    self.embedder,
                    self.settings.chunk_tokens,
                    int(self.settings.max_file_mb * 1e6),
                    progress,
                    self.sentence_vectors,
                    pooled=self.settings.passage_vectors == "pooled",
                )
                kept = self.sentence_vectors.path
                if report.changed or (kept is not None and not kept.exists()):
                    # Bring the kept lexical index up to date now (only the changed files are read),
                    # so the next start, here or in another process, loads it as it is; also when
                    # the kept sentence vectors are gone (a store copied without them), or every
                    # new process would embed its first answers' sentences again.
                    index = load_synced(self.store, self.settings.lexical_path)
                    self._warm_sentences(index)
                    with self._lock:
                        self._lexical = index
            finally:
                self._ingesting = False
        return report

    def _warm_sentences(self, index: LexicalIndex) -> None:
        """Embed the sentences the reader has not seen yet, so that questions never wait for them."""
        from rag.citations import sentences_of

        texts = [s.text for r in index.records for s in sentences_of(to_passage(r, 0.0), 0)]
        self.sentence_vectors.warm(texts)
        self.sentence_vectors.save()  # also the vectors ingest handed over (nothing when none changed)

    @property
    def lexical(self) -> LexicalIndex:
        """The lexical mirror of the store, brought up to date when another process changed the store."""
        with self._lock:
            if self._lexical is None or self._store_changed():
                self._lexical = load_synced(self.store, self.settings.lexical_path)
            return self._lexical

    def _store_changed(self) -> bool:
        """Did the store's manifest change since the mirror was built (another process's ingest)?
        Checked at most every `store_check_seconds`, so a question pays for it rarely."""
        now = time.monotonic()
        if self._ingesting or now - self._store_checked < self.store_check_seconds:
            return False  # our own ingest swaps the mirror in when it is done
        self._store_checked = now
        # Reading the manifest costs a question hundreds of milliseconds on a large store: it is
        # read only when the store was written since the last check (the token is read first, so
        # a write during the check is seen at the next one).
        token = self.store.change_token()
        if token is not None and token == self._store_token:
            return False
        manifest = {s: m.get("fingerprint", "") for s, m in self.store.file_records().items()}
        self._store_token = token
        return manifest != getattr(self._lexical, "fingerprints", None)

    @property
    def retriever(self) -> HybridRetriever:
        return HybridRetriever(self.store, self.embedder, self.lexical, self.sentence_vectors, self.article_roots)

    @property
    def answerer(self) -> Answerer:
        if self.llm is not None:
            return OpenAIAnswerer(
                self.llm, self.lexical, fallback=self.extractive, unsupported=self.settings.unsupported
            )
        return self.extractive

    @property
    def extractive(self) -> ExtractiveAnswerer:
        reader = Reader(self.lexical, self.sentence_vectors, self.embedder)
        return ExtractiveAnswerer(self.lexical, reader, self.settings.min_confidence)

    # --- questions -------------------------------------------------------------------

    def retrieve(self, question: str, k: int | None = None, filters: Filters | None = None) -> list[Passage]:
        """The `k` best passages for `question`; syndicated copies merged into `also_in`."""
        k = self._k(k)
        question = self.corrected(_check(question))
        return self.retriever.retrieve(question, k, filters)

    def ask(
        self,
        question: str,
        history: Sequence | None = None,
        k: int | None = None,
        filters: Filters | None = None,
    ) -> Answer:
        """Answer `question` (a follow-up is read in the light of `history`), citing every sentence."""
        for item in self.stream(question, history, k, filters):
            if isinstance(item, Answer):
                return item
        raise RagError("the answerer returned no answer")  # pragma: no cover - answerers always end so

    def stream(
        self,
        question: str,
        history: Sequence | None = None,
        k: int | None = None,
        filters: Filters | None = None,
    ) -> Iterator[str | Answer]:
        """Yield the answer's text as it is produced, then the final, verified `Answer`."""
        if self.store.count() == 0:
            where = self.settings.store_location
            raise RagError(f"nothing ingested yet — run `rag ingest` (the store at {where} is empty)")
        k = self._k(k)
        asked = _check(question)
        corrected = self.corrected(asked)
        if corrected != asked:  # typos read as the articles' words: answer that, keep the question asked
            for item in self.stream(corrected, history, k, filters):
                is_answer = isinstance(item, Answer)
                yield replace(item, question=asked, corrected_question=corrected) if is_answer else item
            return
        if self.llm is not None:
            yield from self._stream_llm(_check(question), history, k, filters)
            return
        q = analyse(_check(question), history)
        k = k or self.settings.top_k
        # The answerer reads a little deeper than the k passages shown: a passage that only
        # one of the two rankings finds (say, a rare name) still gets its chance.
        passages = self.retriever.retrieve(q.search_text, max(k, ANSWER_DEPTH), filters)
        # A follow-up should add to the conversation, not repeat the sentences just cited.
        cited = cited_quotes(history)
        for item in self.extractive.stream(q, self.retriever.expand(passages), cited):
            yield replace(item, passages=passages[:k]) if isinstance(item, Answer) else item

    def _k(self, k) -> int:
        """`k` as given (a positive whole number), or RAG_TOP_K when it is None."""
        if k is None:
            return self.settings.top_k
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise RagError(f"k={k!r} is not a positive whole number; pass k=1 or more, or None for RAG_TOP_K")
        return int(k)

    def corrected(self, question: str) -> str:
        """`question` with each word the articles never use read as their nearest word (rag.spelling)."""
        return correct(question, self.lexical)[0]

    def _stream_llm(
        self, question: str, history: Sequence | None, k: int | None, filters: Filters | None
    ) -> Iterator[str | Answer]:
        """The language-model path: condense a follow-up, retrieve with it, stream, verify."""
        k = k or self.settings.top_k
        answerer = OpenAIAnswerer(
            self.llm, self.lexical, self.extractive, depth=k, unsupported=self.settings.unsupported
        )
        standalone: str | None = None
        notice: str | None = None
        if history:
            try:
                standalone = answerer.condense(question, history)
            except LLMError as exc:  # read the follow-up offline instead; answering will fall back too
                notice = failure_notice(self.llm.where, exc.reason)
        if standalone and standalone != question:
            q = analyse(standalone)
        else:
            standalone = None
            q = analyse(question, history)
        passages = self.retriever.retrieve(q.search_text, max(k, ANSWER_DEPTH), filters)
        for item in answerer.stream(q, self.retriever.expand(passages), history):
            if isinstance(item, Answer):
                item = replace(
                    item,
                    question=question,
                    passages=passages[:k],
                    standalone_question=standalone or item.standalone_question,
                    notice=item.notice or notice,
                )
            yield item

    # --- about the corpus ------------------------------------------------------------

    def articles(self) -> list[dict]:
        """One row per ingested file: source, title, date, outlet, passages, path."""
        rows = []
        for source, meta in sorted(self.store.file_records().items()):
            rows.append(
                {
                    "source": source,
                    "title": meta.get("title"),
                    "date": meta.get("date"),
                    "outlet": meta.get("outlet"),
                    "passages": meta.get("passages", 0),
                    "path": self.article_roots.allows(meta.get("path")),
                }
            )
        return rows

    def stats(self) -> dict:
        return {
            "articles": len(self.store.file_records()),
            "passages": self.store.count(),
            "store": self.settings.store_location,
            "collection": self.settings.collection,
            "embedder": self.embedder_description,
            "answerer": self.settings.llm,
        }

    def warm_up(self) -> None:
        """Load now what any question needs, so the first one waits for nothing a later one would not:
        the model (and its first run), the lexical index, the reader's model and sentence vectors, and
        the spelling vocabulary."""
        from rag.reader import load_model
        from rag.spelling import english_words, vocabulary

        self.embedder.get_query_embedding("warm up")
        vocabulary(self.lexical)
        english_words()
        load_model()
        self.sentence_vectors.get([])


def _check(question: str) -> str:
    if not isinstance(question, str) or not question.strip():
        raise RagError("the question is empty; type a question about the articles")
    if len(question) > MAX_QUESTION_CHARS:
        raise RagError(
            f"the question is {len(question)} characters long; keep it under {MAX_QUESTION_CHARS}"
        )
    # Decomposed accents (NFD, as macOS file names and some keyboards give) read as composed ones.
    return " ".join(unicodedata.normalize("NFC", question).split())
