"""Metric functions for the offline evaluation, as defined in /work/shared/EVAL.md.

Every function here is pure: plain strings, lists and sets in, numbers out.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from rag.text import fold, normalize_answer, terms, words

# --- retrieval ------------------------------------------------------------------------------


def distinct_sources(ranked: Iterable[Iterable[str]]) -> list[str]:
    """Files in rank order, each kept once at its best rank.

    `ranked` holds, per retrieved passage, every file that carries it (the passage's own source
    first, then its `also_in` copies): all of them count at that passage's rank.
    """
    seen: list[str] = []
    for group in ranked:
        for source in group:
            if source not in seen:
                seen.append(source)
    return seen


def hit_at_k(files: Sequence[str], gold: set[str], k: int) -> float:
    return 1.0 if set(files[:k]) & gold else 0.0


def recall_at_k(files: Sequence[str], gold: set[str], k: int) -> float:
    if not gold:
        return 0.0
    return len(set(files[:k]) & gold) / len(gold)


def mrr_at_k(files: Sequence[str], gold: set[str], k: int) -> float:
    for rank, f in enumerate(files[:k], 1):
        if f in gold:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(files: Sequence[str], gold: set[str], k: int) -> float:
    """Binary-gain nDCG; the ideal DCG sums over min(|G|, k) positions (pytrec_eval's rule)."""
    if not gold:
        return 0.0
    dcg = sum(1.0 / math.log2(rank + 1) for rank, f in enumerate(files[:k], 1) if f in gold)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(gold), k) + 1))
    return dcg / ideal if ideal else 0.0


def _folded(text: str) -> str:
    return " ".join(fold(text).split())


def context_recall(facts: Sequence[Sequence[str]], texts: Iterable[str]) -> float | None:
    """Share of fact groups with any spelling found (folded, whitespace collapsed) in `texts`."""
    if not facts:
        return None
    haystack = "\n".join(_folded(t) for t in texts)
    found = sum(1 for group in facts if any(_folded(s) in haystack for s in group))
    return found / len(facts)


def retrieval_scores(files: Sequence[str], gold: Iterable[str], k: int) -> dict[str, float]:
    g = set(gold)
    return {
        "hit": hit_at_k(files, g, k),
        "recall": recall_at_k(files, g, k),
        "mrr": mrr_at_k(files, g, k),
        "ndcg": ndcg_at_k(files, g, k),
    }


# --- answers --------------------------------------------------------------------------------


def fact_covered(group: Sequence[str], answer: str) -> bool:
    """A fact is covered when any spelling occurs in the normalised answer on word boundaries."""
    norm = f" {normalize_answer(answer)} "
    return any(f" {normalize_answer(s)} " in norm for s in group if normalize_answer(s))


def fact_coverage(facts: Sequence[Sequence[str]], answer: str) -> float | None:
    """Share of fact groups covered by `answer` (None when the item has no facts)."""
    if not facts:
        return None
    return sum(1 for g in facts if fact_covered(g, answer)) / len(facts)


def token_f1(prediction: str, references: str | Sequence[str]) -> float:
    """SQuAD token-multiset F1 after normalisation, best over the acceptable references."""
    refs = [references] if isinstance(references, str) else list(references)
    pred = normalize_answer(prediction).split()
    best = 0.0
    for ref in refs:
        gold = normalize_answer(ref).split()
        if not pred and not gold:
            best = max(best, 1.0)
            continue
        common = sum((Counter(pred) & Counter(gold)).values())
        if common == 0:
            continue
        p, r = common / len(pred), common / len(gold)
        best = max(best, 2 * p * r / (p + r))
    return best


# --- citations ------------------------------------------------------------------------------

SUPPORT_RULE = "terms>=0.6+numbers"
SUPPORT_THRESHOLD = 0.6
SUPPORT_DOC = (
    "support(premise, claim) is true when at least 60% of the claim's content terms "
    "(rag.text.terms: folded, stemmed, stopwords removed; counted as a set) occur among the "
    "premise's terms, AND every number in the claim (folded tokens starting with a digit) occurs "
    "among the premise's numbers. A claim with no content terms is supported only if it has no numbers "
    "not in the premise and the premise is non-empty."
)

_MARKERS = re.compile(r"((?:\s*\[\d+\])+)")
_MARK = re.compile(r"\[(\d+)\]")


def _numbers(text: str) -> set[str]:
    return {w for w in words(text) if w[:1].isdigit()}


def support(premise: str, claim: str, threshold: float = SUPPORT_THRESHOLD) -> bool:
    """The offline entailment test; see SUPPORT_DOC."""
    if not premise.strip():
        return False
    if not _numbers(claim) <= _numbers(premise):
        return False
    claim_terms = set(terms(claim))
    if not claim_terms:
        return True
    share = len(claim_terms & set(terms(premise))) / len(claim_terms)
    return share >= threshold


def answer_sentences(text: str) -> list[tuple[str, list[int]]]:
    """Split an answer into (sentence, cited marker numbers).

    A sentence is the text up to a run of citation markers `[n]`; text after the last marker
    (if it holds any word) is one more sentence with no citations.
    """
    out: list[tuple[str, list[int]]] = []
    parts = _MARKERS.split(text)
    # parts alternates text, markers, text, markers, ..., text
    for i in range(0, len(parts), 2):
        sentence = parts[i].strip()
        marks = [int(m) for m in _MARK.findall(parts[i + 1])] if i + 1 < len(parts) else []
        if not re.search(r"\w", sentence):
            if marks and out:  # markers with no text of their own belong to the sentence before
                out[-1][1].extend(marks)
            continue
        out.append((sentence, marks))
    return out


def citation_scores(text: str, quotes: Sequence[str]) -> dict[str, float]:
    """ALCE citation recall and precision of one answer; `quotes[n-1]` is citation `[n]`'s text.

    Recall of sentence i = 1 when it cites something and support(concat(C_i), sentence_i).
    A citation is irrelevant when it alone does not support the sentence and the others do.
    Precision = share of citations that sit in a supported sentence and are not irrelevant.
    No citations at all: both 0.
    """
    sentences = answer_sentences(text)
    if not sentences:
        return {"citation_recall": 0.0, "citation_precision": 0.0}
    recalls, precise, total = [], 0, 0
    for sentence, marks in sentences:
        cited = [quotes[m - 1] for m in dict.fromkeys(marks) if 1 <= m <= len(quotes)]
        supported = bool(cited) and support(" ".join(cited), sentence)
        recalls.append(1.0 if supported else 0.0)
        for j, quote in enumerate(cited):
            total += 1
            if not supported:
                continue
            alone = support(quote, sentence)
            others = [q for jj, q in enumerate(cited) if jj != j]
            irrelevant = not alone and bool(others) and support(" ".join(others), sentence)
            if not irrelevant:
                precise += 1
    return {
        "citation_recall": sum(recalls) / len(recalls),
        "citation_precision": precise / total if total else 0.0,
    }


def source_scores(cited: Iterable[str], gold: Iterable[str]) -> dict[str, float | None]:
    """Source precision |cited ∩ G| / |cited| and recall |cited ∩ G| / |G| (None when undefined)."""
    c, g = set(cited), set(gold)
    return {
        "source_precision": len(c & g) / len(c) if c else None,
        "source_recall": len(c & g) / len(g) if g else None,
        "gold_source": (1.0 if c & g else 0.0) if g else None,
    }


# --- refusals and aggregation ---------------------------------------------------------------


def lead_scores(rows: Sequence[dict]) -> dict[str, float | int | None]:
    """How many answers open with a bold lead (`Answer.leads`), how often it is right, and how many
    of them answer a question the articles cannot answer (always wrong); rows carry `lead_right`:
    None without a lead, else whether it holds the gold."""
    led = [r for r in rows if r.get("lead_right") is not None]
    return {
        "led": len(led),
        "lead_precision": sum(bool(r["lead_right"]) for r in led) / len(led) if led else None,
        "led_unanswerable": sum(1 for r in led if not r["answerable"]),
    }


def refusal_scores(rows: Sequence[dict]) -> dict[str, float | None]:
    """Refusal recall, false-refusal rate and answered precision over rows with
    `answerable`, `refused` and `correct` (bool) keys."""
    unans = [r for r in rows if not r["answerable"]]
    ans = [r for r in rows if r["answerable"]]
    answered = [r for r in rows if not r["refused"]]
    return {
        "refusal_recall": sum(r["refused"] for r in unans) / len(unans) if unans else None,
        "false_refusal_rate": sum(r["refused"] for r in ans) / len(ans) if ans else None,
        "answered_precision": sum(bool(r["correct"]) for r in answered) / len(answered)
        if answered
        else None,
    }


def mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    """p50 and p95 with numpy.percentile, linear interpolation."""
    if not values:
        return {"p50": None, "p95": None}
    import numpy as np

    return {
        "p50": float(np.percentile(values, 50, method="linear")),
        "p95": float(np.percentile(values, 95, method="linear")),
    }
