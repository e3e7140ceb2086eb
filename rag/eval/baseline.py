"""The naive llama-index pipeline on the same files and embedder: the retrieval baseline.

`SimpleDirectoryReader(data_dir).load_data()` → `VectorStoreIndex.from_documents(...)` over a
Chroma collection in a throw-away, telemetry-free client → `index.as_retriever()` with llama-index's
default top-k. No LLM is ever configured, so nothing reaches OpenAI.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class BaselineHit:
    source: str
    text: str
    score: float | None


@dataclass
class Baseline:
    data_dir: Path
    top_k: int = 0
    documents: int = 0
    nodes: int = 0
    seconds: float = 0.0
    _retriever: object = field(default=None, repr=False)
    _tmp: object = field(default=None, repr=False)

    @classmethod
    def build(cls, data_dir: str | Path, embed_model=None) -> Baseline:
        import time

        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from llama_index.core import Settings as LlamaSettings
        from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
        from llama_index.core.constants import DEFAULT_SIMILARITY_TOP_K
        from llama_index.vector_stores.chroma import ChromaVectorStore

        from rag.embed import MiniLMEmbedding

        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # "LLM is explicitly disabled" notice
            LlamaSettings.llm = None
        tmp = tempfile.TemporaryDirectory(prefix="rag-eval-baseline-", ignore_cleanup_errors=True)
        client = chromadb.PersistentClient(
            path=tmp.name, settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        )
        collection = client.create_collection(f"baseline-{uuid.uuid4().hex[:12]}")
        docs = SimpleDirectoryReader(str(data_dir)).load_data()
        storage = StorageContext.from_defaults(
            vector_store=ChromaVectorStore(chroma_collection=collection)
        )
        embed_model = embed_model or MiniLMEmbedding()
        if hasattr(embed_model, "as_llama_index"):  # ours: the same vectors behind llama-index's interface
            embed_model = embed_model.as_llama_index()
        index = VectorStoreIndex.from_documents(docs, storage_context=storage, embed_model=embed_model)
        retriever = index.as_retriever()
        top_k = getattr(retriever, "_similarity_top_k", DEFAULT_SIMILARITY_TOP_K)
        return cls(
            data_dir=Path(data_dir),
            top_k=top_k,
            documents=len(docs),
            nodes=collection.count(),
            seconds=time.perf_counter() - t0,
            _retriever=retriever,
            _tmp=tmp,
        )

    def retrieve(self, question: str) -> list[BaselineHit]:
        hits = []
        for n in self._retriever.retrieve(question):
            meta = n.node.metadata or {}
            source = meta.get("file_name") or Path(meta.get("file_path", "?")).name
            hits.append(BaselineHit(source=source, text=n.node.get_content(), score=n.score))
        return hits

    def describe(self) -> dict:
        return {
            "pipeline": "SimpleDirectoryReader → VectorStoreIndex(ChromaVectorStore, MiniLMEmbedding) "
            "→ index.as_retriever() (llama-index defaults)",
            "top_k": self.top_k,
            "documents": self.documents,
            "nodes": self.nodes,
            "build_seconds": round(self.seconds, 2),
        }
