"""Benchmark: ingest time of one article written on a single line, at growing sizes.

    python bench/single_line.py [--sizes 250,500,1000]   (sizes in KB)

A file with no line breaks (a scraped page, a JSON dump) once took 117 s at 1 MB: splitting it
was not linear. For each size this makes one single-line article from the demo corpus's words
(sentences of 20 words), ingests it alone into a fresh store, and prints the time to split it
into passages and sentences and the whole ingest's wall time, each per MB: flat figures per MB
mean linear time. The embedder's time dominates; see bench/embed_speed.py for its floor.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def single_line(kb: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    words = " ".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "data/articles").glob("*.txt"))).split()
    parts, size = [], 0
    while size < kb * 1000:
        sentence = " ".join(rng.choice(words) for _ in range(20)) + "."
        parts.append(sentence)
        size += len(sentence) + 1
    return "A long article on one line\n\n" + " ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,500,1000", help="comma-separated sizes in KB")
    args = parser.parse_args()

    from rag import Assistant
    from rag.documents import read_article, sentence_spans, split_passages
    from rag.embed import MiniLMEmbedding

    MiniLMEmbedding().get_query_embedding("load")
    print(f"{'KB':>6} {'passages':>9} {'sentences':>10} {'split s':>8} {'split s/MB':>11} {'ingest s':>9} {'ingest s/MB':>12}")
    for kb in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "articles"
            data.mkdir()
            path = data / f"one-line-{kb}kb.txt"
            path.write_text(single_line(kb), encoding="utf-8")
            t = time.perf_counter()
            nodes = split_passages(read_article(path, path.name))
            sentences = sum(len(sentence_spans(n.get_content(), 0)) for n in nodes)
            split_s = time.perf_counter() - t
            bot = Assistant(store_dir=Path(tmp) / "store", data_dir=data)
            t = time.perf_counter()
            report = bot.ingest()
            ingest_s = time.perf_counter() - t
            assert report.added == [path.name], report.skipped
            mb = kb / 1000
            print(f"{kb:>6} {len(nodes):>9} {sentences:>10} {split_s:>8.2f} {split_s / mb:>11.2f} "
                  f"{ingest_s:>9.1f} {ingest_s / mb:>12.1f}")


if __name__ == "__main__":
    main()
