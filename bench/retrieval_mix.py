"""Benchmark: how much a passage's best sentence should weigh in its dense score (rag.retrieve).

    python bench/retrieval_mix.py [--weights 0,0.5,0.6,0.7,0.75,0.8,0.9,1]

The dense side of retrieval ranks a candidate passage by w × the cosine of its best sentence +
(1 - w) × the cosine of the word-weighted mean of its sentences. This prints, for each w, the
retrieval of the fitting data only (the data `rag.retrieve.SENTENCE_WEIGHT` was chosen on):

- eval/gold.jsonl (answerable questions, the five demo articles): hit@5, recall@5 and MRR@5 over
  the gold files (a passage's `also_in` files count at its rank) and context recall (every fact
  found in the five passages);
- the SQuAD fitting articles (imperialism.txt, warsaw.txt of eval/squad2, answerable questions,
  the four articles ingested together): the gold paragraph among the five passages, and its MRR.

Both sets are ingested once into temporary stores with the current settings (RAG_PASSAGE_VECTORS
applies); w = 0 is the passage-vector ranking alone, w = 1 the best sentence alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import rag.retrieve as retrieve  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from rag.eval.metrics import context_recall  # noqa: E402
from rag.eval.squad import load_squad, paragraph_retrieved  # noqa: E402

K = 5
FIT_ARTICLES = ("imperialism.txt", "warsaw.txt")


def _bot(data: Path, store: Path) -> Assistant:
    bot = Assistant(data_dir=data, store_dir=store)
    bot.ingest()
    return bot


def _gold(bot: Assistant) -> dict[str, float]:
    rows = [json.loads(line) for line in (ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r.get("answerable") and r.get("sources")]
    totals = {"hit": 0.0, "recall": 0.0, "mrr": 0.0, "context": 0.0}
    for r in rows:
        passages = bot.retrieve(r["question"], K)
        groups = [{p.source, *(loc.source for loc in p.also_in)} for p in passages]  # a copy counts at its passage's rank
        gold = set(r["sources"])
        rank = next((n for n, group in enumerate(groups, 1) if group & gold), None)
        scores = {"hit": float(rank is not None), "mrr": 1 / rank if rank else 0.0,
                  "recall": len(set().union(*groups) & gold) / len(gold)}
        texts = [p.text for p in passages] + [loc.text for p in passages for loc in p.also_in]
        for key in ("hit", "recall", "mrr"):
            totals[key] += scores[key]
        totals["context"] += context_recall(r.get("facts") or [], texts) or 0.0
    return {key: value / len(rows) for key, value in totals.items()} | {"n": len(rows)}


def _squad(bot: Assistant) -> dict[str, float]:
    items = [i for i in load_squad(ROOT / "eval" / "squad2" / "questions.jsonl", FIT_ARTICLES) if i["answerable"]]
    hit = mrr = 0.0
    for item in items:
        passages = bot.retrieve(item["question"], K)
        rank = next((n for n, p in enumerate(passages, 1) if paragraph_retrieved([p], item)), None)
        hit += rank is not None
        mrr += 1 / rank if rank else 0.0
    return {"retrieved": hit / len(items), "mrr": mrr / len(items), "n": len(items)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", default="0,0.5,0.6,0.7,0.75,0.8,0.9,1")
    args = parser.parse_args()
    weights = [float(w) for w in args.weights.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        news = _bot(ROOT / "data" / "articles", Path(tmp) / "news")
        squad = _bot(ROOT / "eval" / "squad2" / "corpus", Path(tmp) / "squad")
        print(f"passage vectors: {news.settings.passage_vectors}; shipped weight {retrieve.SENTENCE_WEIGHT}")
        print(f"{'w':>5}  gold hit@5 recall@5 MRR@5 context  |  SQuAD fit retrieved@5 MRR@5")
        shipped = retrieve.SENTENCE_WEIGHT
        try:
            for w in weights:
                retrieve.SENTENCE_WEIGHT = w
                g, s = _gold(news), _squad(squad)
                print(
                    f"{w:5.2f}  {g['hit']:13.3f} {g['recall']:8.3f} {g['mrr']:5.3f} {g['context']:7.3f}  |  "
                    f"{s['retrieved']:22.3f} {s['mrr']:5.3f}",
                    flush=True,
                )
        finally:
            retrieve.SENTENCE_WEIGHT = shipped
        print(f"(gold: {g['n']} answerable questions; SQuAD fitting articles: {s['n']} answerable questions)")


if __name__ == "__main__":
    main()
