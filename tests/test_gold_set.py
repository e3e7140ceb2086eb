"""Checks on the evaluation gold set itself (eval/gold.jsonl and eval/conversations.jsonl), and on the
conversations kept for fitting only (eval/fit_conversations.jsonl).

These tests do not exercise the chatbot: they make sure the gold data is well-formed and that
every expected fact can actually be found in the articles the item cites.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from rag.text import fold, normalize_answer

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT / "data" / "articles"
GOLD = ROOT / "eval" / "gold.jsonl"
CONVERSATIONS = ROOT / "eval" / "conversations.jsonl"
FIT_CONVERSATIONS = ROOT / "eval" / "fit_conversations.jsonl"  # read by rag.fit_reader only

GOLD_TYPES = {
    "fact",
    "date",
    "number",
    "person",
    "list",
    "paraphrase",
    "accents",
    "multi-source",
    "unanswerable",
}
CONVERSATION_TYPES = {"follow-up"}
GOLD_KEYS = {"id", "question", "reference", "facts", "sources", "answerable", "type"}
CONVERSATION_KEYS = {"id", "turns", "reference", "facts", "sources", "answerable", "type"}

MIN_GOLD = 50
MIN_UNANSWERABLE = 8
MIN_CONVERSATIONS = 6


def _norm(text: str) -> str:
    """Folded (lower-case, no diacritics, đ→d, straight quotes) with whitespace collapsed."""
    return " ".join(fold(text).split())


def _load_jsonl(path: Path) -> list[dict]:
    records = []
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:  # pragma: no cover - reported as a failure
                pytest.fail(f"{path.name}:{lineno}: invalid JSON: {exc}")
            assert isinstance(record, dict), f"{path.name}:{lineno}: not a JSON object"
            records.append(record)
    return records


@cache
def _article_text(name: str) -> str:
    return _norm((ARTICLES / name).read_text(encoding="utf-8"))


def gold_items() -> list[dict]:
    return _load_jsonl(GOLD)


def conversations() -> list[dict]:
    return _load_jsonl(CONVERSATIONS) + _load_jsonl(FIT_CONVERSATIONS)


def all_records() -> list[tuple[str, dict]]:
    return [("gold", r) for r in gold_items()] + [("conversation", r) for r in conversations()]


def _rid(record: dict) -> str:
    return str(record.get("id"))


# --------------------------------------------------------------------------- parsing & schema


def test_files_exist_and_parse():
    assert GOLD.is_file(), GOLD
    assert CONVERSATIONS.is_file(), CONVERSATIONS
    assert gold_items()
    assert conversations()


def test_ids_unique():
    ids = [_rid(r) for _, r in all_records()]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate ids: {duplicates}"


def _check_facts_shape(record: dict) -> list[str]:
    problems = []
    facts = record["facts"]
    if not isinstance(facts, list):
        return [f"{_rid(record)}: facts is not a list"]
    for group in facts:
        if not isinstance(group, list) or not group:
            problems.append(f"{_rid(record)}: fact group {group!r} is not a non-empty list")
            continue
        for spelling in group:
            if not isinstance(spelling, str) or not spelling.strip():
                problems.append(f"{_rid(record)}: bad spelling {spelling!r}")
    return problems


def _check_sources_shape(record: dict) -> list[str]:
    sources = record["sources"]
    if not isinstance(sources, list) or not all(isinstance(s, str) and s for s in sources):
        return [f"{_rid(record)}: sources must be a list of file names"]
    if len(set(sources)) != len(sources):
        return [f"{_rid(record)}: duplicate sources {sources}"]
    return []


def test_gold_schema():
    problems = []
    for record in gold_items():
        rid = _rid(record)
        if set(record) != GOLD_KEYS:
            problems.append(f"{rid}: keys {sorted(record)} != {sorted(GOLD_KEYS)}")
            continue
        if not isinstance(record["id"], str) or not record["id"].startswith("g"):
            problems.append(f"{rid}: id must be a string like 'g01'")
        for key in ("question", "reference"):
            if not isinstance(record[key], str) or not record[key].strip():
                problems.append(f"{rid}: {key} must be a non-empty string")
        if not isinstance(record["answerable"], bool):
            problems.append(f"{rid}: answerable must be a bool")
        if record["type"] not in GOLD_TYPES:
            problems.append(f"{rid}: type {record['type']!r} not in {sorted(GOLD_TYPES)}")
        problems += _check_facts_shape(record)
        problems += _check_sources_shape(record)
    assert not problems, "\n".join(problems)


def test_conversation_schema():
    problems = []
    for record in conversations():
        rid = _rid(record)
        if set(record) != CONVERSATION_KEYS:
            problems.append(f"{rid}: keys {sorted(record)} != {sorted(CONVERSATION_KEYS)}")
            continue
        if not isinstance(record["id"], str) or record["id"][:1] not in ("c", "f"):
            problems.append(f"{rid}: id must be a string like 'c01' (or 'f01' in the fitting-only file)")
        turns = record["turns"]
        if not isinstance(turns, list) or not 2 <= len(turns) <= 3:
            problems.append(f"{rid}: turns must be a list of 2-3 questions")
        elif not all(isinstance(t, str) and t.strip() for t in turns):
            problems.append(f"{rid}: every turn must be a non-empty string")
        if not isinstance(record["reference"], str) or not record["reference"].strip():
            problems.append(f"{rid}: reference must be a non-empty string")
        if not isinstance(record["answerable"], bool):
            problems.append(f"{rid}: answerable must be a bool")
        if record["type"] not in CONVERSATION_TYPES:
            problems.append(f"{rid}: type {record['type']!r} not in {sorted(CONVERSATION_TYPES)}")
        problems += _check_facts_shape(record)
        problems += _check_sources_shape(record)
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- sizes & balance


def test_minimum_sizes():
    gold = gold_items()
    unanswerable = [r for r in gold if r.get("answerable") is False]
    assert len(gold) >= MIN_GOLD, f"only {len(gold)} gold items"
    assert len(unanswerable) >= MIN_UNANSWERABLE, f"only {len(unanswerable)} unanswerable items"
    assert len(conversations()) >= MIN_CONVERSATIONS, f"only {len(conversations())} conversations"


def test_type_consistent_with_answerable():
    problems = []
    for record in gold_items():
        is_unanswerable_type = record.get("type") == "unanswerable"
        if is_unanswerable_type == bool(record.get("answerable")):
            problems.append(f"{_rid(record)}: type {record.get('type')!r} vs answerable {record.get('answerable')!r}")
    assert not problems, "\n".join(problems)


def test_multi_source_items_cite_several_articles():
    bad = [_rid(r) for r in gold_items() if r.get("type") == "multi-source" and len(r.get("sources", [])) < 2]
    assert not bad, f"multi-source items with fewer than 2 sources: {bad}"


# --------------------------------------------------------------------------- grounding


def test_sources_exist():
    missing = []
    for _, record in all_records():
        for source in record.get("sources", []):
            if Path(source).name != source or not (ARTICLES / source).is_file():
                missing.append(f"{_rid(record)}: {source}")
    assert not missing, "missing source files:\n" + "\n".join(missing)


def test_answerable_items_have_facts_and_sources():
    problems = []
    for _, record in all_records():
        if record.get("answerable"):
            if not record.get("facts"):
                problems.append(f"{_rid(record)}: no fact groups")
            if not record.get("sources"):
                problems.append(f"{_rid(record)}: no sources")
    assert not problems, "\n".join(problems)


def test_unanswerable_items_are_empty():
    problems = []
    for _, record in all_records():
        if record.get("answerable") is False:
            if record.get("facts") != []:
                problems.append(f"{_rid(record)}: unanswerable item has facts")
            if record.get("sources") != []:
                problems.append(f"{_rid(record)}: unanswerable item has sources")
    assert not problems, "\n".join(problems)


def test_every_fact_group_occurs_in_a_source():
    problems = []
    for _, record in all_records():
        if not record.get("answerable"):
            continue
        texts = [_article_text(s) for s in record.get("sources", []) if (ARTICLES / s).is_file()]
        for group in record.get("facts", []):
            # On word boundaries, as fact coverage matches: "vaccine" is not found in "vaccines".
            if not any(f" {normalize_answer(sp)} " in f" {normalize_answer(t)} " for sp in group for t in texts):
                problems.append(f"{_rid(record)}: none of {group} occurs in {record.get('sources')}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", ["fit_news.jsonl", "heldout4.jsonl", "fit_news_unused.jsonl"])
def test_the_newer_question_files_are_well_formed_and_grounded(name):
    # eval/fit_news.jsonl (fitting only), eval/heldout4.jsonl (validation) and eval/fit_news_unused.jsonl
    # (written for fitting, not read by it: see the README), all written 2026-12-02.
    records = _load_jsonl(ROOT / "eval" / name)
    problems = []
    ids = [_rid(r) for r in records]
    problems += [f"duplicate id {i}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    for record in records:
        turns = record.get("turns") or [record.get("question")]
        if not all(isinstance(t, str) and t.strip() for t in turns):
            problems.append(f"{_rid(record)}: every question must be a non-empty string")
        problems += _check_facts_shape(record) + _check_sources_shape(record)
        if record.get("answerable") is False:
            if record["facts"] or record["sources"] or record.get("type") != "unanswerable":
                problems.append(f"{_rid(record)}: an unanswerable item has no facts or sources, and that type")
            continue
        texts = [_article_text(s) for s in record["sources"] if (ARTICLES / s).is_file()]
        if len(texts) != len(record["sources"]) or not texts:
            problems.append(f"{_rid(record)}: missing source files {record['sources']}")
        for group in record["facts"]:
            if not any(f" {normalize_answer(sp)} " in f" {normalize_answer(t)} " for sp in group for t in texts):
                problems.append(f"{_rid(record)}: none of {group} occurs in {record['sources']}")
    assert not problems, "\n".join(problems)
