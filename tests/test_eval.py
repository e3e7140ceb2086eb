"""The evaluation: metric functions on hand-made inputs, one small end-to-end run, the CLI's help."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from rag.eval import metrics as M

ROOT = Path(__file__).resolve().parents[1]


# --- retrieval ------------------------------------------------------------------------------


def test_distinct_sources_keeps_best_rank_and_counts_also_in():
    ranked = [("a", "b"), ("c",), ("a",), ("b", "d")]
    assert M.distinct_sources(ranked) == ["a", "b", "c", "d"]


def test_hit_recall_mrr():
    files = ["x", "g1", "y", "g2"]
    gold = {"g1", "g2", "g3"}
    assert M.hit_at_k(files, gold, 1) == 0.0
    assert M.hit_at_k(files, gold, 2) == 1.0
    assert M.recall_at_k(files, gold, 4) == pytest.approx(2 / 3)
    assert M.recall_at_k(files, gold, 2) == pytest.approx(1 / 3)
    assert M.mrr_at_k(files, gold, 4) == 0.5
    assert M.mrr_at_k(files, gold, 1) == 0.0


def test_ndcg_ideal_uses_min_of_gold_and_k():
    # one gold file at rank 1, k=5: ideal has one position, so nDCG = 1
    assert M.ndcg_at_k(["g", "x", "y"], {"g"}, 5) == pytest.approx(1.0)
    # gold at rank 2 only
    assert M.ndcg_at_k(["x", "g"], {"g"}, 5) == pytest.approx(1 / math.log2(3))
    # three gold files, k=2, both retrieved at ranks 1-2: ideal sums over min(3, 2) = 2 positions
    assert M.ndcg_at_k(["g1", "g2", "g3"], {"g1", "g2", "g3"}, 2) == pytest.approx(1.0)
    # two gold, one found at rank 1: DCG 1, ideal 1 + 1/log2(3)
    assert M.ndcg_at_k(["g1", "x"], {"g1", "g2"}, 5) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert M.ndcg_at_k(["x"], {"g"}, 5) == 0.0


def test_context_recall_folds_accents():
    facts = [["Hanoi", "Hà Nội"], ["Washington"]]
    assert M.context_recall(facts, ["He arrived in HÀ  NỘI on Friday."]) == 0.5
    assert M.context_recall([], ["anything"]) is None


# --- answers --------------------------------------------------------------------------------


def test_fact_coverage_word_boundaries():
    assert not M.fact_covered(["Trong"], "A strong, independent Vietnam [1].")
    assert M.fact_covered(["Trong"], "General Secretary Nguyễn Phú Trọng received him. [1]")
    assert M.fact_covered(["Code of Conduct", "COC"], "an effective COC [2]")
    assert M.fact_coverage([["justice"], ["fairness"]], "It chooses justice. [1]") == 0.5
    assert M.fact_coverage([], "x") is None


def test_fact_coverage_strips_citation_markers():
    # "2" inside a marker must not count as the number 2
    assert not M.fact_covered(["2"], "Nothing here [2].")


def test_token_f1():
    assert M.token_f1("The cat sat", "the cat sat.") == 1.0
    # pred: cat sat down (3), gold: cat sat (2): common 2 -> p 2/3, r 1 -> f1 0.8
    assert M.token_f1("cat sat down [1]", "a cat sat") == pytest.approx(0.8)
    assert M.token_f1("dog", ["cat", "dog"]) == 1.0
    assert M.token_f1("dog", "cat") == 0.0


# --- citations ------------------------------------------------------------------------------


def test_support_rule():
    premise = "Blinken visited Hanoi on April 15, 2023 and met Trong."
    assert M.support(premise, "Blinken visited Hanoi on April 15, 2023.")
    assert not M.support(premise, "Blinken visited Hanoi on April 16, 2023.")  # a number differs
    assert not M.support(premise, "Biden toured Saigon factories yesterday.")
    assert not M.support("", "Blinken visited Hanoi.")


def test_answer_sentences_and_citation_scores():
    quotes = ["Blinken visited Hanoi.", "Trong received Blinken.", "The weather was sunny."]
    text = "Blinken visited Hanoi. [1] Trong received Blinken. [2][3]"
    assert M.answer_sentences(text) == [
        ("Blinken visited Hanoi.", [1]),
        ("Trong received Blinken.", [2, 3]),
    ]
    s = M.citation_scores(text, quotes)
    assert s["citation_recall"] == 1.0
    # [3] alone does not support sentence 2 and [2] does: [3] is irrelevant -> 2 of 3 precise
    assert s["citation_precision"] == pytest.approx(2 / 3)
    # an uncited trailing sentence lowers recall
    s = M.citation_scores("Blinken visited Hanoi. [1] He liked pho.", quotes)
    assert s["citation_recall"] == 0.5
    assert M.citation_scores("No citations at all.", quotes) == {
        "citation_recall": 0.0,
        "citation_precision": 0.0,
    }


def test_source_scores():
    s = M.source_scores({"a", "b"}, {"a", "c", "d"})
    assert s["source_precision"] == 0.5
    assert s["source_recall"] == pytest.approx(1 / 3)
    assert s["gold_source"] == 1.0


# --- refusals and latency -------------------------------------------------------------------


def test_refusal_scores():
    rows = [
        {"answerable": False, "refused": True, "correct": True},
        {"answerable": False, "refused": False, "correct": False},
        {"answerable": True, "refused": True, "correct": False},
        {"answerable": True, "refused": False, "correct": True},
        {"answerable": True, "refused": False, "correct": False},
        {"answerable": True, "refused": False, "correct": True},
    ]
    s = M.refusal_scores(rows)
    assert s["refusal_recall"] == 0.5
    assert s["false_refusal_rate"] == 0.25
    assert s["answered_precision"] == pytest.approx(2 / 4)


def test_lead_scores_count_a_lead_on_an_unanswerable_question_as_wrong():
    rows = [
        {"answerable": True, "lead_right": True},
        {"answerable": True, "lead_right": False},
        {"answerable": False, "lead_right": False},
        {"answerable": True, "lead_right": None},  # no lead
    ]
    s = M.lead_scores(rows)
    assert s == {"led": 3, "lead_precision": pytest.approx(1 / 3), "led_unanswerable": 1}
    assert M.lead_scores([{"answerable": True, "lead_right": None}])["lead_precision"] is None


def test_percentiles_linear():
    p = M.percentiles([1.0, 2.0, 3.0, 4.0])
    assert p["p50"] == 2.5
    assert p["p95"] == pytest.approx(3.85)


def test_check_thresholds():
    from rag.eval.runner import check

    good = {
        "fact_coverage": 0.95,
        "citation_validity": 1.0,
        "refusal_recall": 0.9,
        "false_refusal_rate": 0.0,
    }
    assert check(good) == []
    failed = check({**good, "fact_coverage": 0.5, "false_refusal_rate": 0.1})
    assert len(failed) == 2 and failed[0].startswith("fact_coverage")


# --- end to end -----------------------------------------------------------------------------


def test_runner_on_mini_gold(tmp_path):
    from rag.assistant import Assistant
    from rag.eval.report import RAGAS_COLUMNS, summary, write
    from rag.eval.runner import load_items, run

    gold = tmp_path / "gold.jsonl"
    lines = []
    for line in (ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if rec["id"] in ("g01", "g04") or (
            rec["answerable"] is False
            and not any(json.loads(x)["answerable"] is False for x in lines)
        ):
            lines.append(line)
    gold.write_text("\n".join(lines) + "\n", encoding="utf-8")
    conv = tmp_path / "conv.jsonl"
    conv.write_text(
        (ROOT / "eval" / "conversations.jsonl").read_text(encoding="utf-8").splitlines()[0] + "\n"
    )

    items = load_items(gold, conv)
    assert len(items) == 4
    bot = Assistant(store_dir=tmp_path / "s", data_dir=ROOT / "data" / "articles")
    report = run(bot, items, k=3, baseline=True)
    paths = write(report, tmp_path / "out")

    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    for key in (
        "hit",
        "mrr",
        "ndcg",
        "fact_coverage",
        "citation_validity",
        "refusal_recall",
        "latency_s",
    ):
        assert key in data["overall"]
    assert data["overall"]["citation_validity"] in (None, 1.0)
    assert data["meta"]["support_rule"] == M.SUPPORT_RULE
    assert set(data["baseline"]["overall"]) >= {"hit", "recall", "mrr", "ndcg", "context_recall"}
    assert len(data["rows"]) == 4 and {"answer", "citations", "retrieved"} <= set(data["rows"][0])

    page = paths["html"].read_text(encoding="utf-8")
    assert (
        "<svg" in page
        and "<script" not in page
        and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )

    rows = [json.loads(x) for x in paths["ragas"].read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 4
    for row in rows:
        assert set(RAGAS_COLUMNS) <= set(row)
    assert "hit@k" in summary(report)
    # The bold leads are scored: each row says whether its lead holds a fact, and the summary counts them.
    for row in data["rows"]:
        assert row["lead_right"] is None if not row["leads"] else isinstance(row["lead_right"], bool)
    assert data["overall"]["led"] == sum(bool(r["leads"]) for r in data["rows"])
    assert "leads " in summary(report)


def test_cli_eval_help():
    out = subprocess.run(
        [sys.executable, "-m", "rag.cli", "eval", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "--check" in out.stdout and "--baseline" in out.stdout


def test_openai_judge_needs_a_key_and_scores_rows():
    from types import SimpleNamespace

    from rag.config import Settings
    from rag.errors import RagError
    from rag.eval.judge import OpenAIJudge

    with pytest.raises(RagError, match="OPENAI_API_KEY"):
        OpenAIJudge(Settings())
    judge = OpenAIJudge(Settings(openai_base_url="http://127.0.0.1:9/v1"))
    seen = []

    def create(**kwargs):
        seen.append(kwargs["messages"][0]["content"])
        word = "YES" if "Hanoi" in kwargs["messages"][0]["content"].split("System answer:")[1] else "NO"
        return SimpleNamespace(choices=[SimpleNamespace(message=SimpleNamespace(content=word))])

    judge.client = SimpleNamespace(chat=SimpleNamespace(completions=SimpleNamespace(create=create)))
    base = {"standalone_question": None, "question": "Where?", "reference": "In Hanoi.", "type": "fact"}
    rows = [
        {**base, "answerable": True, "refused": False, "answer": "In Hanoi. [1]"},
        {**base, "answerable": True, "refused": False, "answer": "In Paris. [1]"},
        {**base, "answerable": True, "refused": True, "answer": "The articles don't cover this."},
        {**base, "answerable": False, "refused": True, "answer": "The articles don't cover this."},
    ]
    result = judge.score(rows)
    assert len(seen) == 2 and "[1]" not in seen[0]
    assert result["accuracy"] == pytest.approx(1 / 3)
    assert [r.get("judge_correct") for r in rows] == [True, False, False, None]
