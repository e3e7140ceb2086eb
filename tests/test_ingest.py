"""Incremental ingestion: idempotent, updates and deletions synced, bad files reported and skipped."""

from __future__ import annotations

import os
from collections import Counter

import pytest
from conftest import SMALL_ARTICLES, file_text

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def _ids(bot) -> list[str]:
    return sorted(r.id for r in bot.store.all_passages())


def _assert_consistent(bot) -> None:
    """Count = sum of per-file passage counts; no id or (source, span) twice; every passage verbatim."""
    records = bot.store.all_passages()
    assert len(records) == bot.store.count()
    assert sum(row["passages"] for row in bot.articles()) == len(records)
    assert len({r.id for r in records}) == len(records)
    spans = Counter((r.metadata["source"], r.metadata["start"], r.metadata["end"]) for r in records)
    assert max(spans.values(), default=1) == 1, "duplicate passages"
    texts = Counter((r.metadata["source"], r.text) for r in records)
    assert max(texts.values(), default=1) == 1, "duplicate passage texts in one file"
    for r in records:
        assert file_text(r.metadata["path"])[r.metadata["start"] : r.metadata["end"]] == r.text


class EmbedCounter:
    """Counts the texts handed to the real embedder (which still does the work)."""

    def __init__(self, bot):
        self.texts: list[str] = []
        real = bot.embedder.embed

        def counting(texts):
            self.texts.extend(texts)
            return real(texts)

        object.__setattr__(bot.embedder, "embed", counting)


@pytest.fixture
def corpus(make_bot):
    bot, data = make_bot()
    report = bot.ingest()
    assert sorted(report.added) == sorted(SMALL_ARTICLES)
    return bot, data


def test_first_ingest_reports_every_file_added(corpus):
    bot, _ = corpus
    assert bot.store.count() > 0
    assert {row["source"] for row in bot.articles()} == set(SMALL_ARTICLES)
    _assert_consistent(bot)


def test_ingest_twice_changes_nothing(corpus):
    bot, _ = corpus
    ids_before, count_before = _ids(bot), bot.store.count()
    report = bot.ingest()
    assert sorted(report.unchanged) == sorted(SMALL_ARTICLES)
    assert report.added == report.updated == report.removed == []
    assert report.skipped == []
    assert report.passages_written == 0
    assert not report.changed
    assert report.passages_total == count_before == bot.store.count()
    assert _ids(bot) == ids_before


def test_demo_corpus_ingest_twice_changes_nothing(demo_bot):
    ids_before = _ids(demo_bot)
    report = demo_bot.ingest()
    assert len(report.unchanged) == 5 and not report.changed and report.passages_written == 0
    assert report.passages_total == demo_bot.first_report.passages_total == len(ids_before)
    assert _ids(demo_bot) == ids_before


def test_edited_file_is_updated_old_text_gone_new_text_found(corpus):
    bot, data = corpus
    assert any(hit for hit in bot.lexical.search("Zanzibar", 5))
    path = data / "bridge.txt"
    path.write_text(file_text(path).replace("Zanzibar Consulting", "Kathmandu Engineering"), encoding="utf-8")

    report = bot.ingest()
    assert report.updated == ["bridge.txt"]
    assert sorted(report.unchanged) == ["coffee.txt", "mekong.txt"]
    assert bot.lexical.search("Zanzibar", 5) == []
    assert not any("Zanzibar" in r.text for r in bot.store.all_passages())
    hits = bot.retrieve("Kathmandu Engineering", k=3)
    assert hits[0].source == "bridge.txt" and "Kathmandu Engineering" in hits[0].text
    assert not any("Zanzibar" in p.text for p in bot.retrieve("Zanzibar Consulting foundations", k=5))
    assert report.passages_total == bot.store.count()
    _assert_consistent(bot)


def test_deleted_file_passages_are_removed(corpus):
    bot, data = corpus
    (data / "coffee.txt").unlink()
    report = bot.ingest()
    assert report.removed == ["coffee.txt"]
    assert "coffee.txt" not in {row["source"] for row in bot.articles()}
    assert not [r for r in bot.store.all_passages() if r.metadata["source"] == "coffee.txt"]
    assert all(p.source != "coffee.txt" for p in bot.retrieve("robusta coffee exports", k=5))
    _assert_consistent(bot)


def test_unchanged_file_is_not_re_embedded(corpus):
    bot, data = corpus
    spy = EmbedCounter(bot)
    path = data / "mekong.txt"
    path.write_bytes(path.read_bytes())  # same bytes, new mtime
    os.utime(path, (1, 1))
    report = bot.ingest()
    assert "mekong.txt" in report.unchanged
    assert spy.texts == []


def test_identical_text_in_a_new_file_reuses_stored_embeddings(corpus):
    bot, data = corpus
    spy = EmbedCounter(bot)
    (data / "mekong-copy.txt").write_text(SMALL_ARTICLES["mekong.txt"], encoding="utf-8")
    report = bot.ingest()
    assert report.added == ["mekong-copy.txt"]
    assert spy.texts == [], "identical passages were embedded again"
    _assert_consistent(bot)


def test_editing_one_file_embeds_only_its_new_text(corpus):
    bot, data = corpus
    spy = EmbedCounter(bot)
    path = data / "coffee.txt"
    path.write_text(file_text(path).replace("12 percent", "14 percent"), encoding="utf-8")
    bot.ingest()
    assert spy.texts and all("14 percent" in t for t in spy.texts)


# --- bad input -----------------------------------------------------------------------------


def test_missing_folder_is_reported_and_nothing_is_lost(corpus, tmp_path):
    bot, _ = corpus
    ids_before = _ids(bot)
    missing = tmp_path / "no-such-folder"
    report = bot.ingest([missing])
    assert len(report.skipped) == 1
    _, reason = report.skipped[0]
    assert str(missing) in reason and "\n" not in reason and "does not exist" in reason
    assert _ids(bot) == ids_before


def test_missing_data_dir_setting_is_reported(make_bot, tmp_path):
    from rag import Assistant

    bot = Assistant(data_dir=tmp_path / "absent", store_dir=tmp_path / "s", collection="articles")
    report = bot.ingest()
    assert [str(tmp_path / "absent") in reason for _, reason in report.skipped] == [True]
    assert bot.store.count() == 0


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\n \t\n", "empty"),
        ("image.txt", PNG, "binary"),
        ("latin1.txt", b"caf\xe9 au lait, cr\xe8me br\xfbl\xe9e\n", "UTF-8"),
        ("utf16.txt", "Tin tức hôm nay\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_bad_file_is_skipped_with_one_line_reason_others_ingested(make_bot, name, content, words):
    bot, _ = make_bot({**SMALL_ARTICLES, name: content})
    report = bot.ingest()
    assert sorted(report.added) == sorted(SMALL_ARTICLES)
    assert [s for s, _ in report.skipped] == [name]
    reason = report.skipped[0][1]
    assert name in reason and "\n" not in reason and words in reason
    assert name not in {r.metadata["source"] for r in bot.store.all_passages()}
    _assert_consistent(bot)


def test_huge_file_is_skipped_naming_the_limit(make_bot):
    big = "Big news\n\n" + "The committee met again and discussed the harbour budget at length. " * 40
    small = {"tiny.txt": "Tiny item\n\nThe mayor of Huế opened a new library on Monday.\n"}
    bot, _ = make_bot({**small, "big.txt": big}, max_file_mb=0.001)
    report = bot.ingest()
    assert report.added == ["tiny.txt"]
    assert [s for s, _ in report.skipped] == ["big.txt"]
    reason = report.skipped[0][1]
    assert "big.txt" in reason and "MB" in reason and "RAG_MAX_FILE_MB" in reason and "\n" not in reason


def test_stored_file_that_becomes_bad_keeps_its_passages(corpus):
    bot, data = corpus
    before = sorted(bot.store.passage_ids("bridge.txt"))
    count = bot.store.count()
    (data / "bridge.txt").write_bytes(b"caf\xe9 corrupted\n")
    report = bot.ingest()
    assert [s for s, _ in report.skipped] == ["bridge.txt"]
    reason = report.skipped[0][1]
    assert "bridge.txt" in reason and "\n" not in reason and "earlier version" in reason
    assert report.removed == []
    assert sorted(bot.store.passage_ids("bridge.txt")) == before
    assert bot.store.count() == count
    assert "bridge.txt" in {row["source"] for row in bot.articles()}


def test_stored_file_that_becomes_empty_keeps_its_passages(corpus):
    bot, data = corpus
    before = sorted(bot.store.passage_ids("coffee.txt"))
    (data / "coffee.txt").write_bytes(b"")
    report = bot.ingest()
    assert [s for s, _ in report.skipped] == ["coffee.txt"]
    assert sorted(bot.store.passage_ids("coffee.txt")) == before


def test_non_article_files_and_hidden_files_are_ignored(make_bot):
    bot, data = make_bot()
    (data / "photo.png").write_bytes(PNG)
    (data / ".draft.txt").write_text("Secret draft\n\nNot for publication at all.\n", encoding="utf-8")
    report = bot.ingest()
    assert sorted(report.added) == sorted(SMALL_ARTICLES)
    assert report.skipped == []


def test_ingest_a_single_file_path(make_bot, tmp_path):
    bot, _ = make_bot({})
    extra = tmp_path / "single.md"
    extra.write_text("# Flood warning\n\nHeavy rain is expected in Quảng Nam on Tuesday.\n", encoding="utf-8")
    report = bot.ingest([extra])
    assert report.added == ["single.md"]
    (row,) = bot.articles()
    assert row["title"] == "Flood warning"
    _assert_consistent(bot)


# --- large folders: batches across files, interrupt and resume ---------------------------


def test_files_are_embedded_together_and_copies_within_a_run_once(make_bot):
    articles = dict(SMALL_ARTICLES, **{"mekong-copy.txt": SMALL_ARTICLES["mekong.txt"]})
    for mode in ("encoded", "pooled"):
        bot, _ = make_bot(articles, passage_vectors=mode)
        calls: list[int] = []
        real = bot.embedder.embed
        object.__setattr__(bot.embedder, "embed", lambda texts, calls=calls, real=real: calls.append(len(texts)) or real(texts))
        report = bot.ingest()
        assert sorted(report.added) == sorted(articles)
        # One batch of the reader's sentences for the whole small folder (each distinct sentence
        # once: the copy's text was not embedded a second time); encoded passage vectors add one
        # batch of passages before it.
        assert len(calls) == (2 if mode == "encoded" else 1), mode
        if mode == "encoded":
            assert report.passages_embedded == calls[0] < report.passages_written
        _assert_consistent(bot)


def test_interrupted_ingest_resumes_without_duplicates(make_bot, monkeypatch):
    import rag.ingest

    monkeypatch.setattr(rag.ingest, "BATCH_PASSAGES", 1)  # commit file by file
    bot, _ = make_bot()
    names = sorted(SMALL_ARTICLES)

    def stop_at_third(done, total, source):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        bot.ingest(progress=stop_at_third)
    committed = [row["source"] for row in bot.articles()]
    assert committed == names[:2]
    _assert_consistent(bot)
    before = _ids(bot)

    report = bot.ingest()
    assert sorted(report.added) == names[2:] and sorted(report.unchanged) == names[:2]
    assert set(before) <= set(_ids(bot))
    _assert_consistent(bot)
    assert bot.ingest().changed is False


def test_the_store_is_read_in_pages_without_losing_or_repeating_a_passage(demo_bot, monkeypatch):
    import rag.store

    whole = sorted(r.id for r in demo_bot.store.all_passages())
    monkeypatch.setattr(rag.store, "PAGE", 7)  # many pages, the last one short
    paged = [r.id for r in demo_bot.store.all_passages()]
    assert len(whole) > 7 * 3 and len(whole) % 7
    assert sorted(paged) == whole and len(set(paged)) == len(paged)
