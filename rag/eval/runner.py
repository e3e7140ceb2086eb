"""Runs the gold set and the conversations through `Assistant` (public API only) and scores them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from rag.citations import is_verbatim
from rag.errors import RagError
from rag.eval import metrics as M

WARM_UP_QUESTION = "What is this collection of articles about?"

# Regression floors for the gold set (which the reader was fitted on), a little below what the
# fitted reader measured on 2026-12-01: fact coverage 0.864, refusal recall 0.467, false refusals 0.015.
THRESHOLDS = {
    "fact_coverage": (">=", 0.84),
    "citation_validity": (">=", 1.0),
    "refusal_recall": (">=", 0.4),
    "false_refusal_rate": ("<=", 0.05),
}


def jsonl_records(path: Path, what: str):
    """(line number, record) for every non-empty line of a JSONL file; one-line errors otherwise."""
    if not path.is_file():
        raise RagError(f"{path} does not exist; pass {what}")
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield lineno, json.loads(line)
        except json.JSONDecodeError as exc:
            raise RagError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from None


def load_items(gold: str | Path | None, conversations: str | Path | None = None) -> list[dict]:
    """Gold items and conversations as one list; a conversation's question is its last turn."""
    items: list[dict] = []
    for path, kind in ((gold, "gold"), (conversations, "conversation")):
        if path is None:
            continue
        path = Path(path)
        for lineno, rec in jsonl_records(path, "an existing JSONL file"):
            turns = rec.get("turns") or [rec.get("question", "")]
            items.append(
                {
                    "id": rec.get("id", f"{path.stem}-{lineno}"),
                    "kind": kind,
                    "type": rec.get("type", "unknown"),
                    "turns": list(turns),
                    "question": turns[-1],
                    "reference": rec.get("reference", ""),
                    "facts": rec.get("facts", []),
                    "sources": rec.get("sources", []),
                    "answerable": bool(rec.get("answerable", True)),
                }
            )
    return items


def score_item(item: dict, answer, k: int, data_dir: Path) -> dict:
    """One per-item row: the answer, its citations, retrieval and answer scores."""
    passages = list(answer.passages)
    ranked = [p.sources for p in passages]
    files = M.distinct_sources(ranked)
    texts = [p.text for p in passages] + [loc.text for p in passages for loc in p.also_in]
    row = {
        "id": item["id"],
        "kind": item["kind"],
        "type": item["type"],
        "answerable": item["answerable"],
        "turns": item["turns"],
        "question": item["question"],
        "standalone_question": answer.standalone_question,
        "reference": item["reference"],
        "facts": item["facts"],
        "sources": item["sources"],
        "answer": answer.text,
        "refused": bool(answer.refused),
        "confidence": answer.confidence,
        "retrieved": [
            {
                "id": p.id,
                "source": p.source,
                "sources": list(p.sources),
                "start": p.start,
                "end": p.end,
                "text": p.text,
            }
            for p in passages
        ],
        "retrieved_files": files,
    }
    # retrieval
    if item["answerable"]:
        row.update(M.retrieval_scores(files, item["sources"], k))
        row["context_recall"] = M.context_recall(item["facts"], texts)
    # citations
    cits = []
    for c in answer.citations:
        path = c.path or str(data_dir / c.source)
        cits.append(
            {
                "source": c.source,
                "sources": [c.source, *(loc.source for loc in c.also_in)],
                "start": c.start,
                "end": c.end,
                "quote": c.quote,
                "valid": is_verbatim(c, path),
                "also_in_valid": all(
                    is_verbatim(loc, data_dir / loc.source) for loc in c.also_in
                ),
            }
        )
    row["citations"] = cits
    row["citation_validity"] = (sum(c["valid"] for c in cits) / len(cits)) if cits else None
    # answers
    if item["answerable"]:
        cov = M.fact_coverage(item["facts"], answer.text)
        row["fact_coverage"] = cov
        row["facts_covered"] = [M.fact_covered(g, answer.text) for g in item["facts"]]
        row["token_f1"] = M.token_f1(answer.text, item["reference"])
        row["correct"] = (not answer.refused) and (cov is None or cov >= 1.0)
    else:
        row["correct"] = bool(answer.refused)
    leads = [c.quote for c in answer.leads] if not answer.refused else []
    row["leads"] = leads
    row["lead_right"] = (
        None if not leads else bool(item["answerable"] and any(M.fact_covered(g, " ".join(leads)) for g in item["facts"]))
    )
    if not answer.refused:
        row.update(M.citation_scores(answer.text, [c.quote for c in answer.citations]))
        row["support_rule"] = M.SUPPORT_RULE
        if item["answerable"]:
            cited = {s for c in cits for s in c["sources"]}
            row.update(M.source_scores(cited, item["sources"]))
    return row


def aggregate(rows: Sequence[dict]) -> dict:
    """Means over the rows where each metric is defined, plus refusal rates and latency."""
    ans = [r for r in rows if r["answerable"]]
    answered = [r for r in rows if not r["refused"]]
    all_cits = [c for r in rows for c in r.get("citations", [])]
    out = {
        "items": len(rows),
        "answerable": len(ans),
        "unanswerable": len(rows) - len(ans),
        "hit": M.mean(r.get("hit") for r in ans),
        "recall": M.mean(r.get("recall") for r in ans),
        "mrr": M.mean(r.get("mrr") for r in ans),
        "ndcg": M.mean(r.get("ndcg") for r in ans),
        "context_recall": M.mean(r.get("context_recall") for r in ans),
        "fact_coverage": M.mean(r.get("fact_coverage") for r in ans),
        "token_f1": M.mean(r.get("token_f1") for r in ans),
        "citation_validity": (sum(c["valid"] for c in all_cits) / len(all_cits))
        if all_cits
        else None,
        "also_in_validity": (sum(c["also_in_valid"] for c in all_cits) / len(all_cits))
        if all_cits
        else None,
        "citations": len(all_cits),
        "citation_recall": M.mean(r.get("citation_recall") for r in answered),
        "citation_precision": M.mean(r.get("citation_precision") for r in answered),
        "gold_source_rate": M.mean(r.get("gold_source") for r in answered if r["answerable"]),
        "source_precision": M.mean(r.get("source_precision") for r in answered if r["answerable"]),
        "source_recall": M.mean(r.get("source_recall") for r in answered if r["answerable"]),
    }
    out.update(M.refusal_scores(rows))
    out.update(M.lead_scores(rows))
    lat = [r["latency_s"] for r in rows if r.get("latency_s") is not None]
    ret = [r["retrieval_s"] for r in rows if r.get("retrieval_s") is not None]
    out["latency_s"] = M.percentiles(lat)
    out["retrieval_latency_s"] = M.percentiles(ret)
    return out


def aggregate_baseline(rows: Sequence[dict]) -> dict:
    ans = [r["baseline"] for r in rows if r["answerable"] and r.get("baseline")]
    return {
        key: M.mean(b.get(key) for b in ans)
        for key in ("hit", "recall", "mrr", "ndcg", "context_recall")
    }


def check(overall: dict) -> list[str]:
    """The quality gate: one message per failed threshold (empty when all pass)."""
    failed = []
    for key, (op, limit) in THRESHOLDS.items():
        value = overall.get(key)
        ok = value is not None and (value >= limit if op == ">=" else value <= limit)
        if not ok:
            shown = "n/a" if value is None else f"{value:.3f}"
            failed.append(f"{key} = {shown}, required {op} {limit}")
    return failed


def run(
    bot,
    items: Sequence[dict],
    k: int | None = None,
    baseline: bool = True,
    progress: Callable[[int, int, str], None] | None = None,
    judge=None,
) -> dict:
    """Ingest (a no-op when unchanged), warm up, ask every item, score; returns the full report."""
    k = k or bot.settings.top_k
    data_dir = Path(bot.settings.data_dir)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    ingest_report = bot.ingest()
    bot.ask(WARM_UP_QUESTION, k=k)  # warm-up, not timed

    base = None
    if baseline:
        from rag.eval.baseline import Baseline

        base = Baseline.build(data_dir, embed_model=getattr(bot, "embedder", None))

    rows = []
    for n, item in enumerate(items, 1):
        if progress:
            progress(n, len(items), item["id"])
        history: list[dict] = []
        for turn in item["turns"][:-1]:
            earlier = bot.ask(turn, history=history, k=k)
            history += [
                {"role": "user", "content": turn},
                {"role": "assistant", "content": earlier.text},
            ]
        t0 = time.perf_counter()
        answer = bot.ask(item["question"], history=history or None, k=k)
        latency = time.perf_counter() - t0
        t0 = time.perf_counter()
        bot.retrieve(answer.standalone_question or item["question"], k=k)
        retrieval = time.perf_counter() - t0
        row = score_item(item, answer, k, data_dir)
        row["latency_s"] = latency
        row["retrieval_s"] = retrieval
        if base is not None:
            hits = base.retrieve(item["question"])
            bfiles = M.distinct_sources([[h.source] for h in hits])
            b = {"retrieved_files": bfiles}
            if item["answerable"]:
                b.update(M.retrieval_scores(bfiles, item["sources"], k))
                b["context_recall"] = M.context_recall(item["facts"], [h.text for h in hits])
            row["baseline"] = b
        rows.append(row)

    types = sorted({r["type"] for r in rows})
    report = {
        "meta": {
            "started": started,
            "k": k,
            "items": len(rows),
            "store": bot.settings.store_location,
            "data_dir": str(data_dir),
            "answerer": bot.settings.llm,
            "ingest": ingest_report.summary(),
            "support_rule": M.SUPPORT_RULE,
            "support_rule_doc": M.SUPPORT_DOC,
            "latency_method": "time.perf_counter around Assistant.ask (last turn only for conversations); "
            "retrieval timed separately around Assistant.retrieve(standalone question, k); one warm-up "
            "question excluded; p50/p95 by numpy.percentile(method='linear')",
            "correct_rule": "an answered item is correct when it is answerable and every fact group is "
            "covered; a refusal of an unanswerable item is correct",
            "fact_coverage_rule": "a fact group is covered when any spelling, normalised, occurs in the "
            "normalised answer on word boundaries; refused answerable items score 0",
            "context_recall_rule": "share of fact groups with any spelling found (folded, whitespace "
            "collapsed) in the retrieved passages' texts, also_in copies included",
            "retrieval_rule": "per passage, its source and its also_in sources count at its rank; each file "
            "kept once at its best rank; metrics at k over distinct files, answerable items only",
            "thresholds": {k_: f"{op} {v}" for k_, (op, v) in THRESHOLDS.items()},
        },
        "overall": aggregate(rows),
        "by_type": {t: aggregate([r for r in rows if r["type"] == t]) for t in types},
        "rows": rows,
    }
    if base is not None:
        report["baseline"] = {
            **base.describe(),
            "note": "conversations: the baseline sees the last turn alone (it has no history); "
            f"metrics at k={k} over the files it returned",
            "overall": aggregate_baseline(rows),
            "by_type": {t: aggregate_baseline([r for r in rows if r["type"] == t]) for t in types},
        }
    if judge is not None:
        report["judge"] = judge.score(rows)
    from rag.eval.squad import curve

    # The refusal trade-off: "contains" here is a correct answer (every fact covered).
    report["curve"] = curve([{**r, "contains": bool(r["correct"])} for r in rows])
    report["check"] = check(report["overall"])
    return report
