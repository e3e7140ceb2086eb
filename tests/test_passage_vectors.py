"""RAG_PASSAGE_VECTORS=pooled (the default): a passage's vector is the word-weighted mean of its
sentences' vectors, so ingest encodes the text once (the sentences, which the reader and retrieval
need anyway); RAG_PASSAGE_VECTORS=encoded also encodes each passage whole, in its own collection."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SMALL_ARTICLES, file_text
from test_ingest import EmbedCounter

from rag.config import Settings
from rag.documents import sentence_spans
from rag.errors import RagError


def _stored(bot) -> dict[str, np.ndarray]:
    got = bot.store.passages.get(include=["documents", "embeddings"])
    return {text: np.asarray(v, dtype=np.float32) for text, v in zip(got["documents"], got["embeddings"], strict=True)}


def test_pooled_passage_vectors_are_the_mean_of_their_sentences(make_bot):
    bot, _ = make_bot(passage_vectors="pooled", collection=None)
    assert bot.settings.collection == "articles-pooled"  # its own collection: the two kinds never mix
    counter = EmbedCounter(bot)
    report = bot.ingest()
    assert sorted(report.added) == sorted(SMALL_ARTICLES)
    stored = _stored(bot)
    assert stored
    sentences = {text: [text[s:e] for s, e in sentence_spans(text, 0)] for text in stored}
    # Only sentences went through the encoder, each once: never a passage of several sentences.
    every = {s for group in sentences.values() for s in group}
    assert sorted(counter.texts) == sorted(every)
    several = 0
    for text, vector in stored.items():
        group = sentences[text]
        several += len(group) > 1
        alone = np.asarray(bot.embedder.embed(group), dtype=np.float32)
        mean = np.asarray([len(s.split()) for s in group], dtype=np.float32) @ alone
        # Stored as float16 by the sentence cache, then pooled: equal to ~1e-3.
        assert np.allclose(vector, mean / np.linalg.norm(mean), atol=2e-3)
    assert several, "no passage of several sentences: the test would not test pooling"


def test_pooled_ingest_is_idempotent_and_answers_cite_verbatim(make_bot):
    bot, _ = make_bot(passage_vectors="pooled", collection=None)
    bot.ingest()
    before = _stored(bot)
    again = bot.ingest()
    assert again.passages_written == 0 and again.passages_embedded == 0
    after = _stored(bot)
    assert before.keys() == after.keys()
    assert all(np.array_equal(before[t], after[t]) for t in before)
    answer = bot.ask("How much paddy did the delta produce last year?")
    assert not answer.refused and "24 million tonnes" in answer.text
    assert answer.citations[0].source == "mekong.txt"
    for c in answer.citations:
        assert file_text(c.path)[c.start : c.end] == c.quote


def test_a_store_of_the_other_kind_is_refused_with_the_setting_to_use(make_bot, tmp_path):
    bot, data = make_bot(passage_vectors="pooled", collection="shared")
    bot.ingest()
    from rag import Assistant

    with pytest.raises(RagError, match=r"RAG_PASSAGE_VECTORS=pooled to use it") as err:
        Assistant(data_dir=data, store_dir=bot.settings.store_dir, collection="shared", passage_vectors="encoded")
    assert "\n" not in str(err.value)
    # And the other way round: an encoded collection opened with pooled vectors.
    plain, data2 = make_bot(collection="plain", passage_vectors="encoded")
    plain.ingest()
    with pytest.raises(RagError, match=r"RAG_EMBED=minilm RAG_PASSAGE_VECTORS=encoded to use it"):
        Assistant(data_dir=data2, store_dir=plain.settings.store_dir, collection="plain", passage_vectors="pooled")


def test_an_unknown_way_of_making_passage_vectors_is_one_clear_line():
    with pytest.raises(RagError, match=r"RAG_PASSAGE_VECTORS='mean' is not supported; use one of: encoded, pooled"):
        Settings.from_env({"RAG_PASSAGE_VECTORS": "mean"})
    assert Settings.from_env({}).passage_vectors == "pooled"
    assert Settings.from_env({}).collection == "articles-pooled"
    assert Settings.from_env({"RAG_PASSAGE_VECTORS": "encoded"}).collection == "articles"  # as before pooling
