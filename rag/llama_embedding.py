"""Our embedders as llama-index `BaseEmbedding`s, for llama-index's own pipelines (the naive baseline).

Kept apart from `rag.embed` so that answering a question never imports llama-index.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr


class LlamaEmbedding(BaseEmbedding):
    """A `rag.embed.BatchEmbedding` behind llama-index's embedding interface: the same vectors."""

    _inner: Any = PrivateAttr(default=None)

    def __init__(self, inner: Any, **kwargs: Any) -> None:
        kwargs.setdefault("model_name", inner.model_name)
        kwargs.setdefault("embed_batch_size", inner.embed_batch_size)
        super().__init__(**kwargs)
        self._inner = inner

    @classmethod
    def class_name(cls) -> str:
        return "LlamaEmbedding"

    @property
    def inner(self) -> Any:
        return self._inner

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._inner.embed([query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._inner.embed([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._inner.embed(texts)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)
