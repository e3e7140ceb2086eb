"""The quality gate: the gold set, the held-out news set and held-out SQuAD questions through the public API.

`make test` fails when answers get worse. The floors are regression bars set a little below what the
fitted reader measured on 2026-12-01 and 2026-12-02 (README, *The reader*), not targets: the gold set was used for
fitting; `eval/heldout.jsonl` and the SQuAD sample (`eval/squad2/heldout-sample.jsonl`, from the two
held-out articles) were not, but served to choose the operating point; `eval/heldout2.jsonl` was
neither fitted on nor used to choose anything, nor was `eval/heldout3.jsonl` (18 follow-up conversations,
2026-12-02); `eval/heldout4.jsonl` (46 items, 2026-12-02) is a validation set like `eval/heldout.jsonl`. Every citation must be verbatim in all of them.
"""

from __future__ import annotations

import pytest
from conftest import ROOT

from rag.eval.runner import THRESHOLDS, load_items, run

# today (2026-12-02, midday): fact coverage 0.796, 0.839, 0.812 and 0.806, false refusals 0.067, 0.000,
# 0.062 and 0.028, unanswerable refused 0.600, 0.375, 1.000 (2 of 2) and 0.800
HELDOUT_NEWS = {
    "heldout.jsonl": {"fact_coverage": 0.74, "false_refusal_rate": 0.20, "refusal_recall": 0.20},
    "heldout2.jsonl": {"fact_coverage": 0.75, "false_refusal_rate": 0.10, "refusal_recall": 0.25},
    "heldout3.jsonl": {"fact_coverage": 0.74, "false_refusal_rate": 0.10, "refusal_recall": 0.50},
    # first run (2026-12-02): 0.806, 1 of 36 answerable and 4 of 10 unanswerable refused
    "heldout4.jsonl": {"fact_coverage": 0.72, "false_refusal_rate": 0.10, "refusal_recall": 0.20},
}
SIZES = {"heldout.jsonl": (60, 10), "heldout2.jsonl": (61, 11), "heldout3.jsonl": (18, 18), "heldout4.jsonl": (46, 10)}  # items, conversations
# today (2026-12-02, midday): contains 0.850, false refusals 0.050, unanswerable refused 0.350, median 36 words
SQUAD_SAMPLE = {"contains": 0.80, "false_refusal_rate": 0.10, "unanswerable_refused": 0.30, "median_words": 45}


def _summary(overall: dict, keys) -> str:
    return ", ".join(f"{key} = {overall.get(key)}" for key in keys)


def test_gold_set_meets_the_quality_thresholds(demo_bot):
    items = load_items(ROOT / "eval" / "gold.jsonl", ROOT / "eval" / "conversations.jsonl")
    report = run(demo_bot, items, k=5, baseline=False)
    overall = report["overall"]
    assert report["check"] == [], f"quality gate failed: {report['check']} ({_summary(overall, THRESHOLDS)})"
    assert overall["citation_validity"] == 1.0
    assert len(report["rows"]) == len(items) >= 60


@pytest.mark.parametrize("name", sorted(HELDOUT_NEWS))
def test_held_out_news_questions_stay_above_their_floor(demo_bot, name):
    floor = HELDOUT_NEWS[name]
    items = load_items(ROOT / "eval" / name)
    assert (len(items), sum(len(i["turns"]) > 1 for i in items)) == SIZES[name]
    overall = run(demo_bot, items, k=5, baseline=False)["overall"]
    message = _summary(overall, floor)
    assert overall["citation_validity"] == 1.0
    assert overall["fact_coverage"] >= floor["fact_coverage"], message
    assert overall["false_refusal_rate"] <= floor["false_refusal_rate"], message
    assert overall["refusal_recall"] >= floor["refusal_recall"], message


@pytest.fixture(scope="module")
def squad_bot(tmp_path_factory):
    from rag import Assistant

    return Assistant(data_dir=ROOT / "eval" / "squad2" / "corpus", store_dir=tmp_path_factory.mktemp("squad"))


def test_held_out_squad_sample_stays_above_its_floor(squad_bot):
    from rag.eval.squad import load_squad, run_squad

    items = load_squad(ROOT / "eval" / "squad2" / "heldout-sample.jsonl")
    assert {i["source"] for i in items} == {"force.txt", "french-and-indian-war.txt"}
    overall = run_squad(squad_bot, items, k=5, baseline=False)["overall"]
    message = _summary(overall, SQUAD_SAMPLE)
    assert overall["contains"] >= SQUAD_SAMPLE["contains"], message
    assert overall["false_refusal_rate"] <= SQUAD_SAMPLE["false_refusal_rate"], message
    assert overall["unanswerable_refused"] >= SQUAD_SAMPLE["unanswerable_refused"], message
    assert overall["median_words"] <= SQUAD_SAMPLE["median_words"], message
