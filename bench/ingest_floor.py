"""Benchmark: `rag ingest` against the time its encoder alone needs, and the naive llama-index pipelines.

    python bench/ingest_floor.py [--articles 200] [--seed 0] [--naive/--no-naive] [--passage-vectors encoded]

On a synthetic corpus of `--articles` files (bench/synth.py, cached in /tmp/rag-scale-cache), in
one run:

1. ours: a new process loads the embedder, llama-index's splitter and punkt (not timed), then `Assistant.ingest()` into an empty store
   (wall time: reading, splitting, embedding, Chroma writes, lexical index, the reader's sentence
   vectors). Then, in the same process and with the same runtime and batch settings, the floor:
   - the passages' texts encoded as ingest encodes them (groups of `BATCH_PASSAGES`, `embed()`),
   - the distinct sentences' texts encoded as ingest encodes them for the reader (chunks of 256),
     less those that are a whole passage (ingest gives them the passage's vector).
   Ingest ÷ (passages + sentences) is what ingest adds to the encoder work it must do;
   ingest ÷ passages alone is also printed. With pooled passage vectors (RAG_PASSAGE_VECTORS=pooled,
   the default) ingest encodes only the sentences and pools each passage's vector from them, so the
   passages' encode time alone is the floor; `--passage-vectors encoded` measures the other way.
2. naive: a new process per setting runs llama-index's `SimpleDirectoryReader` +
   `VectorStoreIndex.from_documents` (ChromaVectorStore, the same embedder) with its default
   1024-token nodes, and again with 256-token nodes (MiniLM reads 256 word pieces at most, so
   that is the fair chunking); articles/s of each against ours.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"


def ours(corpus: str, store: str) -> dict:
    from rag import Assistant
    from rag.citations import sentences_of
    from rag.documents import load_splitters, read_article, scan_articles, split_passages
    from rag.ingest import BATCH_PASSAGES
    from rag.retrieve import to_passage
    from rag.store import Record

    bot = Assistant(store_dir=store, data_dir=corpus)
    bot.embedder.get_query_embedding("load")
    load_splitters()  # llama-index's splitter and punkt: start-up, like the model
    t = time.perf_counter()
    report = bot.ingest()
    ingest_s = time.perf_counter() - t

    # The floor: the same texts through the same embedder, batched as ingest batches them.
    passages: list[str] = []
    for path in scan_articles(Path(corpus)).files:
        article = read_article(path, path.name)
        passages += [n.get_content() for n in split_passages(article, bot.settings.chunk_tokens)]
    distinct = list(dict.fromkeys(passages))
    sentences: list[str] = []
    for i, text in enumerate(distinct):
        record = Record(str(i), text, {"source": "x", "start": 0, "end": len(text)})
        sentences += [s.text for s in sentences_of(to_passage(record, 0.0), 0)]
    whole = set(distinct)
    sentences = list(dict.fromkeys(sentences))
    n_whole = sum(s in whole for s in sentences)
    sentences = [s for s in sentences if s not in whole]
    t = time.perf_counter()
    for start in range(0, len(distinct), BATCH_PASSAGES):
        bot.embedder.embed(distinct[start : start + BATCH_PASSAGES])
    passages_s = time.perf_counter() - t
    t = time.perf_counter()
    for start in range(0, len(sentences), 256):
        bot.embedder.embed(sentences[start : start + 256])
    sentences_s = time.perf_counter() - t
    return {"articles": len(report.added), "passages": report.passages_written, "embedded": report.passages_embedded,
            "sentences": len(sentences), "whole": n_whole, "ingest_s": ingest_s, "encode_passages_s": passages_s,
            "encode_sentences_s": sentences_s, "runtime": bot.embedder.runtime,
            "batch": bot.embedder.embed_batch_size}


def naive(corpus: str, store: str, chunk: int | None) -> dict:
    import contextlib
    import io

    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from rag.embed import MiniLMEmbedding

    with contextlib.redirect_stdout(io.StringIO()):
        LlamaSettings.llm = None
    embed = MiniLMEmbedding()
    embed.get_query_embedding("load")
    client = chromadb.PersistentClient(path=store, settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_or_create_collection("naive")
    t = time.perf_counter()
    docs = SimpleDirectoryReader(corpus).load_data()
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    transformations = [SentenceSplitter(chunk_size=chunk, chunk_overlap=min(200, chunk // 5))] if chunk else None
    VectorStoreIndex.from_documents(docs, storage_context=storage, embed_model=embed.as_llama_index(),
                                    transformations=transformations)
    seconds = time.perf_counter() - t
    return {"articles": len(docs), "nodes": collection.count(), "seconds": seconds}


def _worker(name: str, *args) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    subprocess.run([sys.executable, __file__, "--worker", name, json.dumps(args), str(out)], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    result = json.loads(out.read_text())
    out.unlink()
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        name, args, out = sys.argv[2], json.loads(sys.argv[3]), Path(sys.argv[4])
        out.write_text(json.dumps({"ours": ours, "naive": naive}[name](*args)))
        return
    from rag.config import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--naive", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--passage-vectors", choices=("encoded", "pooled"), default=Settings.passage_vectors,
                        help="RAG_PASSAGE_VECTORS for our ingest (pooled: the sentences are encoded once)")
    args = parser.parse_args()
    os.environ["RAG_PASSAGE_VECTORS"] = args.passage_vectors  # the worker processes inherit it

    sys.path.insert(0, str(BENCH))
    import synth
    from scale import CACHE

    corpus = CACHE / f"corpus-a{args.articles}-s{args.seed}"
    if not (corpus / ".done").exists():
        synth.generate(args.articles, corpus, args.seed)
        (corpus / ".done").write_text("")
    with tempfile.TemporaryDirectory(prefix="rag-ingest-floor-") as tmp:
        o = _worker("ours", str(corpus), f"{tmp}/ours")
        runs = {}
        if args.naive:
            runs["naive, llama-index defaults (1024-token nodes, overlap 200)"] = _worker("naive", str(corpus), f"{tmp}/n1", None)
            runs["naive, 256-token nodes (overlap 51)"] = _worker("naive", str(corpus), f"{tmp}/n2", 256)

    # Encoded passages: ingest encodes the passages and then the sentences. Pooled: only the sentences,
    # which hold the passages' text, so the passages' own encode time is the floor.
    pooled = args.passage_vectors == "pooled"
    floor = o["encode_passages_s"] + (0.0 if pooled else o["encode_sentences_s"])
    print(f"corpus: {args.articles} synthetic articles (seed {args.seed}), {o['passages']} passages, "
          f"{o['sentences']} distinct sentences to encode (+{o['whole']} that are a whole passage); embedder {o['runtime']}, batch {o['batch']}; "
          f"RAG_PASSAGE_VECTORS={args.passage_vectors}")
    print(f"ours, rag ingest:              {o['ingest_s']:7.2f} s  ({o['articles'] / o['ingest_s']:.2f} articles/s)")
    print(f"encode the passages alone:     {o['encode_passages_s']:7.2f} s")
    print(f"encode the sentences alone:    {o['encode_sentences_s']:7.2f} s")
    if not pooled:
        print(f"ingest / (passages + sentences) floor: {o['ingest_s'] / floor:.2f}x")
    ratio = o["ingest_s"] / o["encode_passages_s"]
    print(f"ingest / passages-only floor:          {ratio:.2f}x  (target <= 1.15x: {'met' if ratio <= 1.15 else 'NOT met'})")
    for label, n in runs.items():
        rate = n["articles"] / n["seconds"]
        print(f"{label}: {n['seconds']:.2f} s, {n['nodes']} nodes, {rate:.2f} articles/s; "
              f"ours / naive articles/s = {o['articles'] / o['ingest_s'] / rate:.2f}x")


if __name__ == "__main__":
    main()
