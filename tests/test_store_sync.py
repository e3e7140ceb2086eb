"""A running Assistant (the web UI's) sees what another process ingests, before it answers."""

from __future__ import annotations

from rag import Assistant

NEW = (
    "Lighthouse restored\n\n"
    "Volunteers restored the Quillmoor lighthouse on the northern cape in eleven weeks.\n"
    "The lamp was relit on Friday, the harbour master said.\n"
)
QUESTION = "Who restored the Quillmoor lighthouse?"


def test_a_running_assistant_sees_another_ingest_and_a_removal(make_bot):
    bot, data = make_bot()
    bot.ingest()
    bot.store_check_seconds = 0  # look at the store before every question (the app: every 2 s)
    assert not any(c.source == "lighthouse.txt" for c in bot.ask(QUESTION).citations)

    other = Assistant(data_dir=data, store_dir=bot.settings.store_dir, collection=bot.settings.collection)
    (data / "lighthouse.txt").write_text(NEW, encoding="utf-8")
    assert other.ingest().added == ["lighthouse.txt"]
    answer = bot.ask(QUESTION)
    assert not answer.refused, answer.text
    assert any(c.source == "lighthouse.txt" for c in answer.citations)

    (data / "lighthouse.txt").unlink()
    assert other.ingest().removed == ["lighthouse.txt"]
    after = bot.ask(QUESTION)
    assert not any(c.source == "lighthouse.txt" for c in after.citations)
    assert all(p.source != "lighthouse.txt" for p in bot.retrieve(QUESTION, k=5))


def test_the_store_is_not_read_again_between_checks(make_bot):
    bot, _ = make_bot()
    bot.ingest()
    first = bot.lexical
    bot.store_check_seconds = 3600
    calls = []
    real = bot.store.file_records
    bot.store.file_records = lambda: calls.append(1) or real()
    bot.ask(QUESTION)
    assert calls == [] and bot.lexical is first


def test_an_unwritten_store_is_checked_without_reading_its_manifest(make_bot):
    bot, _ = make_bot()
    bot.ingest()
    first = bot.lexical
    bot.store_check_seconds = 0
    bot.ask(QUESTION)  # the first check reads the manifest once
    calls = []
    real = bot.store.file_records
    bot.store.file_records = lambda: calls.append(1) or real()
    for _ in range(3):
        bot.ask(QUESTION)
    assert calls == [] and bot.lexical is first


def test_questions_are_answered_while_an_ingest_is_under_way(make_bot):
    import threading

    bot, data = make_bot()
    bot.ingest()
    (data / "lighthouse.txt").write_text(NEW, encoding="utf-8")
    inside, release = threading.Event(), threading.Event()

    def paused(done, total, source):  # the ingest stops here until the question is answered
        inside.set()
        release.wait(60)

    worker = threading.Thread(target=bot.ingest, kwargs={"progress": paused})
    worker.start()
    try:
        assert inside.wait(60), "the ingest never started"
        answered: list = []
        asker = threading.Thread(target=lambda: answered.append(bot.ask("How long is the new bridge?")))
        asker.start()
        asker.join(60)
        assert answered, "the question waited for the ingest"
        assert not any(c.source == "lighthouse.txt" for c in answered[0].citations)  # the state before it
    finally:
        release.set()
        worker.join(120)
    assert any(c.source == "lighthouse.txt" for c in bot.ask(QUESTION).citations)  # and after it
