"""The embedder: the ONNX runtime gives the float model's vectors, in order, and rebuilds a bad export."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from conftest import A000, A002, A004, ARTICLES, file_text

from rag import RagError, embed
from rag.config import Settings
from rag.embed import MiniLMEmbedding

needs_onnx = pytest.mark.skipif(
    importlib.util.find_spec("onnx") is None, reason="the ONNX export needs the `onnx` package"
)

QUERIES = (
    "In which city did the Vietnamese Party chief host Antony Blinken?",
    "How many Vietnamese live in the US?",
    "When did Trọng and Biden speak by phone?",
    "Who did Lê Hoài Trung meet in Washington?",
)


def _demo_passages(words: int = 100) -> list[str]:
    """~100-word windows of three demo articles (different lengths, accents, boilerplate)."""
    out = []
    for name in (A000, A002, A004):
        tokens = file_text(ARTICLES / name).split()
        out += [" ".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]
    return out


@pytest.fixture(scope="module")
def float_model():
    """The float sentence-transformers model: the reference (loaded once per process)."""
    return embed.load_encoder("torch")


@pytest.fixture(scope="module")
def embedder():
    return MiniLMEmbedding()


@pytest.fixture(scope="module")
def passages():
    return _demo_passages()


@pytest.fixture(scope="module")
def vectors(embedder, float_model, passages):
    """(ours, float) vectors of the demo passages and of QUERIES, computed once."""
    queries = list(QUERIES)
    return (
        (np.asarray(embedder.embed(passages)), np.asarray(embedder.embed(queries))),
        (float_model.encode(passages, 64), float_model.encode(queries, 64)),
    )


def test_default_runtime_is_onnx(embedder):
    assert Settings.from_env({}).embed_runtime == "onnx"
    if importlib.util.find_spec("onnx") is not None:
        assert embedder.runtime == "onnx"


def test_vectors_match_the_float_model(vectors):
    (got_p, got_q), (ref_p, ref_q) = vectors
    cosines = np.concatenate([(got_p * ref_p).sum(axis=1), (got_q * ref_q).sum(axis=1)])
    assert cosines.min() >= 0.999, cosines.min()


def test_queries_find_the_same_top_passages(vectors):
    (got_p, got_q), (ref_p, ref_q) = vectors
    got_top = np.argsort(-(got_q @ got_p.T), axis=1)[:, :3]
    ref_top = np.argsort(-(ref_q @ ref_p.T), axis=1)[:, :3]
    assert (got_top[:, 0] == ref_top[:, 0]).all()
    assert all(set(a) == set(b) for a, b in zip(got_top, ref_top, strict=True))


def test_vectors_are_384_d_and_normalised(embedder):
    vectors = np.asarray(
        embedder.embed(["Hanoi", "A longer sentence about trade between the two countries."])
    )
    assert vectors.shape == (2, embed.DIMENSION)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert len(embedder.get_query_embedding("Who met Blinken?")) == embed.DIMENSION


def test_batch_equals_single_and_keeps_order(embedder, passages):
    # Mixed lengths, shortest and longest interleaved, so sorting by length reorders inside.
    texts = [passages[3][:40], passages[0], "Hà Nội", passages[5] * 3, passages[1][:200], ""]
    batch = np.asarray(embedder.embed(texts))
    single = np.asarray([embedder.embed([t])[0] for t in texts])
    assert np.allclose(batch, single, atol=1e-5)
    assert np.allclose(np.asarray(embedder.embed(texts[::-1])), batch[::-1], atol=1e-5)


def test_long_text_is_cut_like_sentence_transformers(embedder, float_model):
    text = file_text(ARTICLES / A002)  # far more than 256 tokens
    got = np.asarray(embedder.embed([text]))[0]
    assert float(got @ float_model.encode([text], 8)[0]) >= 0.999


def test_empty_list_gives_empty_list(embedder):
    assert embedder.embed([]) == []


def test_bad_runtime_setting_is_a_one_line_error():
    with pytest.raises(RagError, match=r"RAG_EMBED_RUNTIME='cuda' .*onnx, torch") as info:
        Settings.from_env({"RAG_EMBED_RUNTIME": "cuda"})
    assert "\n" not in str(info.value)


@needs_onnx
def test_missing_or_corrupt_export_is_rebuilt(tmp_path, float_model):
    folder = embed.model_dir()
    probe = ["Blinken visited Hanoi in April 2023."]
    reference = float_model.encode(probe, 8)

    encoder = embed.load_onnx_encoder(folder, cache_root=tmp_path)  # missing: built
    target = embed.export_dir(folder, tmp_path)
    assert (target / "model.onnx").exists() and (target / "probe.json").exists()
    assert float(encoder.encode(probe, 8)[0] @ reference[0]) >= 0.999

    (target / "model.onnx").write_bytes(b"not an onnx file")  # corrupt: rebuilt, not crashed on
    encoder = embed.load_onnx_encoder(folder, cache_root=tmp_path)
    assert (target / "model.onnx").stat().st_size > 1_000_000
    assert float(encoder.encode(probe, 8)[0] @ reference[0]) >= 0.999


def test_export_failure_falls_back_to_torch(tmp_path, monkeypatch, float_model):
    def fail(folder, target):
        raise ImportError("No module named 'onnx'")

    monkeypatch.setattr(embed, "onnx_cache_root", lambda: tmp_path)
    monkeypatch.setattr(embed, "export_onnx", fail)
    monkeypatch.setattr(embed, "_ENCODERS", {"torch": float_model})
    fallback = MiniLMEmbedding(runtime="onnx")
    assert fallback.runtime == "torch"
    assert np.allclose(fallback.embed(["Hanoi"]), float_model.encode(["Hanoi"], 8))


def test_weights_are_hashed_again_only_when_a_file_changed(tmp_path, monkeypatch):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"hidden_size": 384}')
    calls = []
    real = embed.weights_key
    monkeypatch.setattr(embed, "weights_key", lambda f: calls.append(f) or real(f))
    first = embed.cached_weights_key(folder, tmp_path / "cache")
    assert embed.cached_weights_key(folder, tmp_path / "cache") == first and len(calls) == 1
    (folder / "config.json").write_text('{"hidden_size": 768}')
    assert embed.cached_weights_key(folder, tmp_path / "cache") != first and len(calls) == 2


def test_the_question_is_embedded_once_per_ask(make_bot):
    bot, _ = make_bot()
    bot.ingest()
    bot.ask("Who hosted Blinken in Hanoi?")  # loads what a first question loads
    seen: list[str] = []
    real = bot.embedder.embed
    object.__setattr__(bot.embedder, "embed", lambda texts: seen.extend(texts) or real(texts))
    question = "When did Trọng and Biden speak by phone?"
    bot.ask(question)
    assert seen == [question]  # retrieval and the reader share one vector
    again = bot.embedder.get_query_embedding(question)
    assert seen == [question] and np.allclose(again, real([question])[0])
