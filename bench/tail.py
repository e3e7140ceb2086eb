"""Benchmark: where a warm `ask` spends its time on a large store, question by question (the p95 tail).

    python bench/tail.py --store DIR --corpus DIR [--questions 50] [--rounds 2] [--profile 2]

The store is one `Assistant.ingest()` of the corpus (e.g. a `bench/synth.py` corpus as `bench/scale.py`
caches it in /tmp/rag-scale-cache/corpus-p20000-s0); the questions are the corpus's `.questions.jsonl`.
After `warm_up()` and one unmeasured pass, every question is retrieved and asked `--rounds` times;
each ask is split into phases (query embedding, retrieve, expand, featurize, read, compose = citing,
manifest reads). Prints ask and retrieve p50/p95, the same over each question's fastest round (on a
machine shared with other work, more rounds make that line steadier), the slowest asks with their
phases, and cProfile's top functions for the `--profile` slowest questions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", type=int, default=0, help="profile this many of the slowest questions")
    args = parser.parse_args()

    import rag.answer
    import rag.reader
    import rag.retrieve
    from rag import Assistant

    bot = Assistant(store_dir=args.store, data_dir=args.corpus)
    bot.warm_up()
    with (args.corpus / ".questions.jsonl").open(encoding="utf-8") as handle:
        questions = [json.loads(line)["question"] for line in handle if line.strip()][: args.questions]

    phases: dict[str, float] = {}

    def timed(owner, name: str, label: str) -> None:
        real = getattr(owner, name)

        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return real(*a, **k)
            finally:
                phases[label] = phases.get(label, 0.0) + (time.perf_counter() - t) * 1000

        setattr(owner, name, wrapper)

    timed(bot.embedder, "embed", "embed")
    timed(bot.store, "file_records", "manifest")
    timed(rag.retrieve.HybridRetriever, "retrieve", "retrieve")
    timed(rag.retrieve.HybridRetriever, "expand", "expand")
    timed(rag.reader.Reader, "featurize", "featurize")
    timed(rag.reader.Reader, "read", "read")
    timed(rag.answer, "compose", "compose")

    for q in questions:  # warm-up pass, excluded
        bot.ask(q)
    rows = []
    for _ in range(args.rounds):
        for q in questions:
            t = time.perf_counter()
            bot.retrieve(q)
            retrieve_ms = (time.perf_counter() - t) * 1000
            phases.clear()
            t = time.perf_counter()
            bot.ask(q)
            rows.append(((time.perf_counter() - t) * 1000, retrieve_ms, q, dict(phases)))
    ask = np.array([r[0] for r in rows])
    ret = np.array([r[1] for r in rows])
    p50, p95 = np.percentile(ask, 50), np.percentile(ask, 95)
    print(f"{len(bot.lexical)} passages, {len(questions)} questions x {args.rounds} rounds")
    print(f"ask p50 {p50:.1f} ms, p95 {p95:.1f} ms (p95/p50 {p95 / p50:.2f}), max {ask.max():.1f} ms; "
          f"retrieve p50 {np.percentile(ret, 50):.1f} ms, p95 {np.percentile(ret, 95):.1f} ms")
    fastest = np.array([min(r[0] for r in rows if r[2] == q) for q in questions])
    f50, f95 = np.percentile(fastest, 50), np.percentile(fastest, 95)
    print(f"each question's fastest of {args.rounds} rounds: ask p50 {f50:.1f} ms, p95 {f95:.1f} ms "
          f"(p95/p50 {f95 / f50:.2f})")
    slowest = sorted(rows, key=lambda r: -r[0])
    for ms, _, q, ph in slowest[:8]:
        print(f"{ms:7.1f} ms  {q[:60]!r}  " + " ".join(f"{k}={v:.0f}" for k, v in ph.items()))
    for _, _, q, _ in slowest[: args.profile]:
        profile = cProfile.Profile()
        profile.enable()
        bot.ask(q)
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(25)
        print(f"\n{q}\n{out.getvalue()}")


if __name__ == "__main__":
    main()
