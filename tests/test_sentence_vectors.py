"""The reader's sentence vectors: embedded once, kept in an .npz that loading never executes."""

from __future__ import annotations

import numpy as np

from rag.sentence_vectors import SentenceVectors


class CountingEmbedder:
    """A real embedder wrapped to count what it is asked to embed."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.seen: list[str] = []

    def embed(self, texts):
        self.seen.extend(texts)
        return self.inner.embed(texts)


def test_each_distinct_sentence_is_embedded_once_and_matches_the_embedder(demo_bot):
    embedder = CountingEmbedder(demo_bot.embedder)
    vectors = SentenceVectors(embedder)
    texts = ["The bridge opened on Sunday.", "Rice exports rose.", "The bridge opened on Sunday."]
    got = vectors.get(texts)
    assert got.shape == (3, 384)
    assert embedder.seen == ["The bridge opened on Sunday.", "Rice exports rose."]
    vectors.get(texts[:1])
    assert len(embedder.seen) == 2
    direct = np.asarray(demo_bot.embedder.embed(["Rice exports rose."])[0])
    assert float(got[1] @ direct) > 0.999


def test_vectors_are_kept_on_disk_and_read_back_without_pickle(demo_bot, tmp_path):
    path = tmp_path / "s.npz"
    first = SentenceVectors(demo_bot.embedder, path)
    before = first.get(["Coffee exports climbed 12 percent."])
    first.save()
    with np.load(path, allow_pickle=False) as data:  # plain arrays only
        assert data["vectors"].shape == (1, 384)
    embedder = CountingEmbedder(demo_bot.embedder)
    again = SentenceVectors(embedder, path).get(["Coffee exports climbed 12 percent."])
    assert embedder.seen == []
    assert np.allclose(before, again)


def test_a_garbled_file_is_ignored_and_rebuilt(demo_bot, tmp_path):
    path = tmp_path / "s.npz"
    path.write_bytes(b"not an npz at all")
    vectors = SentenceVectors(demo_bot.embedder, path)
    assert vectors.get(["A sentence."]).shape == (1, 384)
    vectors.save()
    with np.load(path, allow_pickle=False) as data:
        assert len(data["keys"]) == 1


def test_ingest_embeds_the_sentences_so_questions_do_not_wait(make_bot):
    bot, _ = make_bot()
    bot.ingest()
    assert bot.settings.sentence_vectors_path.is_file()
    embedder = CountingEmbedder(bot.embedder)
    bot.sentence_vectors.embedder = embedder
    bot.ask("How long is the new bridge in Đà Nẵng?")
    assert embedder.seen == []


def test_a_passage_that_is_one_sentence_is_not_embedded_again_for_the_reader(make_bot):
    sentence = "Ferry service across Hạ Long Bay resumed on Monday after the storm passed."
    bot, _ = make_bot({"ferry.txt": sentence + "\n"})
    seen: list[str] = []
    real = bot.embedder.embed
    object.__setattr__(bot.embedder, "embed", lambda texts: seen.extend(texts) or real(texts))
    bot.ingest()
    assert [r.text for r in bot.lexical.records] == [sentence]
    assert seen == [sentence]  # the passage, once: its one sentence took the passage's vector
    from rag.sentence_vectors import SentenceVectors

    kept = SentenceVectors(bot.embedder, bot.settings.sentence_vectors_path).get([sentence])
    assert seen == [sentence] and float(kept[0] @ np.asarray(real([sentence])[0])) > 0.999


def test_an_unchanged_ingest_writes_the_sentence_vectors_back_when_they_are_gone(make_bot):
    # A store copied without its `rag-lexical` folder: `rag ingest` finds nothing to change, yet every
    # new process would embed its answers' sentences again (seconds on a cold `rag ask`) until it did.
    bot, data = make_bot()
    bot.ingest()
    kept = bot.settings.sentence_vectors_path
    kept.unlink()
    from rag import Assistant

    again = Assistant(data_dir=data, store_dir=bot.settings.store_dir, collection=bot.settings.collection)
    report = again.ingest()
    assert not report.changed and kept.is_file()
    fresh = Assistant(data_dir=data, store_dir=bot.settings.store_dir, collection=bot.settings.collection)
    embedder = CountingEmbedder(fresh.embedder)
    fresh.sentence_vectors.embedder = embedder
    fresh.ask("How long is the new bridge in Đà Nẵng?")
    assert embedder.seen == []
