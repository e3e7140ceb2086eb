"""The quality gate: the whole gold set and the conversations through the public API, as `rag eval --check` runs them.

`make test` fails when answers get worse: fact coverage below 0.90, any citation not verbatim,
refusal recall below 0.8 or false refusals above 5% (thresholds in `rag.eval.runner.THRESHOLDS`).
"""

from __future__ import annotations

from conftest import ROOT

from rag.eval.runner import THRESHOLDS, load_items, run


def test_gold_set_meets_the_quality_thresholds(demo_bot):
    items = load_items(ROOT / "eval" / "gold.jsonl", ROOT / "eval" / "conversations.jsonl")
    report = run(demo_bot, items, k=5, baseline=False)
    overall = report["overall"]
    summary = ", ".join(f"{key} = {overall.get(key)}" for key in THRESHOLDS)
    assert report["check"] == [], f"quality gate failed: {report['check']} ({summary})"
    assert overall["citation_validity"] == 1.0
    assert len(report["rows"]) == len(items) >= 60
