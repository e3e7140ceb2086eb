"""Benchmark: ingest time and warm `ask` latency on the demo corpus (offline, extractive mode).

    python bench/latency.py [--rounds 3]

Ingests data/articles into a fresh temporary store (timed, model load separate), re-ingests
(the no-op path), then asks every gold-set question `--rounds` times after one warm-up pass and
prints p50/p95 with numpy's linear percentile. Nothing is cached between questions except the
loaded model and the lexical index, as in a running app.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    from rag import Assistant
    from rag.documents import load_splitters
    from rag.embed import MiniLMEmbedding

    MiniLMEmbedding().get_query_embedding("load")
    load_splitters()  # llama-index and punkt: imported by ingest's first file, start-up here
    load_s = time.perf_counter() - t0

    questions = [json.loads(line)["question"] for line in (ROOT / "eval/gold.jsonl").open()]
    with tempfile.TemporaryDirectory() as tmp:
        bot = Assistant(store_dir=Path(tmp) / "store", data_dir=ROOT / "data/articles")
        t = time.perf_counter()
        report = bot.ingest()
        ingest_s = time.perf_counter() - t
        t = time.perf_counter()
        bot.ingest()
        reingest_s = time.perf_counter() - t

        bot.warm_up()
        for q in questions:  # warm-up pass, excluded
            bot.ask(q)
        ask_ms, retrieve_ms = [], []
        for _ in range(args.rounds):
            for q in questions:
                t = time.perf_counter()
                bot.retrieve(q)
                retrieve_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                bot.ask(q)
                ask_ms.append((time.perf_counter() - t) * 1000)

    print(f"model load:          {load_s:6.2f} s")
    print(f"ingest (cold):       {ingest_s:6.2f} s  ({report.passages_written} passages, "
          f"{report.passages_written / ingest_s:.1f} passages/s)")
    print(f"ingest (unchanged):  {reingest_s:6.3f} s")
    for name, values in (("retrieve", retrieve_ms), ("ask", ask_ms)):
        v = np.array(values)
        print(f"{name + ' latency:':<20} p50 {np.percentile(v, 50):6.1f} ms   p95 {np.percentile(v, 95):6.1f} ms"
              f"   (n={len(v)}, linear percentiles)")


if __name__ == "__main__":
    main()
